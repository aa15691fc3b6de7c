-- Deposits refused because the credential named another person (application/identity_attempts.py):
-- kept for officers and auditors, who look for institutions probing learners' identities.
CREATE TABLE identity_failures (
    seq BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    institution_id UUID NOT NULL,
    learner_id UUID NOT NULL,
    actor TEXT
);
CREATE INDEX identity_failures_by_institution ON identity_failures (institution_id, at);
