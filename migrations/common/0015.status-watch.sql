-- Credentials whose status the bank keeps watching (domain/credential_status.py,
-- application/status_watch.py): the status entries the credential states, and why its status
-- is unknown while the issuer's list cannot be read (then the outcome waits, unrecognised).
-- A view: rebuilt from the accounts' StatusWatched / StatusEstablished / OutcomeRevoked events.
CREATE TABLE status_watch (
    outcome_id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL,
    issuer_id TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    entries TEXT NOT NULL,
    unknown TEXT,
    watched_at TEXT NOT NULL
);
CREATE INDEX status_watch_unknown ON status_watch (unknown) WHERE unknown IS NOT NULL;
-- Rows written before: no outcome had an unknown status.
ALTER TABLE transcript_entries ADD COLUMN status_unknown TEXT;
