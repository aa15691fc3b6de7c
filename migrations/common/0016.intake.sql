-- Bulk intake (application/intake/): an institution's upload of NDJSON lines, each one deposit.
-- Not a view: the jobs are the bank's own record of what was sent and what became of each line
-- (kept for audit). A line's text is kept only until it is decided; then its digest, learner,
-- result and code remain (an accepted credential lives in the account, encrypted with the
-- learner's key; a refused one is stored nowhere).
CREATE TABLE intake_jobs (
    job_id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL,
    actor TEXT,
    state TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION
);
CREATE INDEX intake_jobs_state ON intake_jobs (state, created_at);
CREATE TABLE intake_lines (
    job_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    learner_id TEXT,
    digest TEXT NOT NULL,
    body TEXT,
    result TEXT,
    outcome_id TEXT,
    code TEXT,
    message TEXT,
    PRIMARY KEY (job_id, line)
);
CREATE INDEX intake_lines_refused ON intake_lines (job_id, line) WHERE result = 'REFUSED';
