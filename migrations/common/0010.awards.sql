-- Awards (issue 13): what each award spent of each holding, by the standing award's
-- qualification ("*": held by awards under review), so a qualification on a pathway counts its
-- stacking awards' credits again; progress knows the award and its status; the account's
-- awards. The progress view is rebuilt from the events (its position reset), so awards made
-- before this version are listed and spend only what they counted.
ALTER TABLE account_holdings ADD COLUMN spent_by TEXT NOT NULL DEFAULT '{}';
ALTER TABLE qualification_progress ADD COLUMN award_id TEXT;
ALTER TABLE qualification_progress ADD COLUMN award_status TEXT;
CREATE TABLE account_awards (
    award_id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL,
    qualification_id TEXT NOT NULL,
    qualification_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    awarded_at TEXT NOT NULL,
    counted_cc BIGINT NOT NULL,
    flags TEXT NOT NULL,           -- JSON list: why it is (or was) under review
    reviews TEXT NOT NULL,         -- JSON list of {decision, reason, by, at}
    allocations TEXT NOT NULL      -- JSON {holding id: credits counted}
);
CREATE INDEX awards_by_learner ON account_awards (learner_id);
DELETE FROM account_holdings;
DELETE FROM qualification_progress;
UPDATE projection_tracking SET position = 0 WHERE view_name = 'progress';
