-- Per-learner data keys (wrapped by the bank's master key). Deleting a row erases the learner's
-- personal data for good (crypto-shredding); the events keep only ciphertext.
CREATE TABLE learner_keys (
    learner_id TEXT PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    created_at TEXT NOT NULL
);
