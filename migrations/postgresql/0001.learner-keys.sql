-- Per-learner data keys (wrapped by the bank's master key). Deleting a row erases the learner's
-- personal data for good (crypto-shredding); the events keep only ciphertext.
CREATE TABLE learner_keys (
    learner_id UUID PRIMARY KEY,
    wrapped_key BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
