-- Facts about the bank itself that every process must agree on (application/preflight.py):
-- the fingerprint of the master secret, so a process with another secret refuses to start.
CREATE TABLE bank_identity (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
