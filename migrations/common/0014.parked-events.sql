-- Events the views could not take (projections/runner.py, security finding 11): kept with the
-- error until `creditbank projections replay-parked` applies them after a fix. An aggregate
-- with a row here has stale views; every other aggregate's views keep moving.
CREATE TABLE parked_events (
    notification_id BIGINT PRIMARY KEY,
    originator_id TEXT NOT NULL,
    originator_version BIGINT NOT NULL,
    topic TEXT NOT NULL,
    error TEXT NOT NULL,
    parked_at TEXT NOT NULL
);
CREATE INDEX parked_events_by_originator ON parked_events (originator_id);
