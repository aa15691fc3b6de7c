-- Read models (projections/). One SQL text for SQLite and PostgreSQL: ids and timestamps are
-- TEXT (ISO-8601 UTC sorts correctly), credits are INTEGER hundredths ("_cc": exact, summable).
-- Each table is owned by one module of projections/ and rebuilt from the events at will.

-- Where each view has got to in the notification log (written with its rows, same transaction).
CREATE TABLE projection_tracking (
    view_name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);

-- projections/balances.py
CREATE TABLE account_balances (
    learner_id TEXT PRIMARY KEY,
    account_version INTEGER NOT NULL,
    total_cc BIGINT NOT NULL,
    available_cc BIGINT NOT NULL,
    redeemed_cc BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE balance_breakdown (
    learner_id TEXT NOT NULL,
    dimension TEXT NOT NULL,          -- level | kind | category
    bucket TEXT NOT NULL,
    credits_cc BIGINT NOT NULL,
    PRIMARY KEY (learner_id, dimension, bucket)
);

-- projections/transcript.py
CREATE TABLE transcript_entries (
    outcome_id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL,
    seq INTEGER NOT NULL,             -- account version of the deposit: stable order
    credential_id TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    issuer_id TEXT NOT NULL,
    standard_code TEXT,
    level INTEGER,
    credits_cc BIGINT NOT NULL,
    recognized_cc BIGINT,
    recognized_level INTEGER,
    category TEXT,
    status TEXT NOT NULL,
    hours_cc BIGINT,
    completed_on TEXT NOT NULL,
    deposited_at TEXT NOT NULL,
    rule_id TEXT,
    rule_version INTEGER,
    recognized_by TEXT,
    conversion_id TEXT,
    redemption_id TEXT,
    reason TEXT                       -- rejection or revocation reason
);
CREATE UNIQUE INDEX transcript_by_learner ON transcript_entries (learner_id, seq);
CREATE INDEX transcript_by_status ON transcript_entries (learner_id, status, seq);
CREATE INDEX transcript_by_kind ON transcript_entries (learner_id, kind, seq);
CREATE INDEX transcript_by_issuer ON transcript_entries (issuer_id, deposited_at);

CREATE TABLE account_conversions (
    conversion_id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_version INTEGER NOT NULL,
    source_cc BIGINT NOT NULL,
    credits_cc BIGINT NOT NULL,
    target_institution_id TEXT NOT NULL,
    target_code TEXT NOT NULL,
    category TEXT NOT NULL,
    active INTEGER NOT NULL,
    redemption_id TEXT,
    converted_at TEXT NOT NULL
);
CREATE INDEX conversions_by_learner ON account_conversions (learner_id, converted_at);
CREATE INDEX conversions_by_target ON account_conversions (target_institution_id, converted_at);

-- projections/progress.py: holdings as requirements see them, and the assessment per qualification
CREATE TABLE account_holdings (
    holding_id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL,
    credits_cc BIGINT NOT NULL,
    level INTEGER,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    converted INTEGER NOT NULL,
    standard_codes TEXT NOT NULL,     -- space separated
    spent INTEGER NOT NULL
);
CREATE INDEX holdings_by_learner ON account_holdings (learner_id);
CREATE TABLE qualification_progress (
    learner_id TEXT NOT NULL,
    qualification_id TEXT NOT NULL,
    qualification_version INTEGER NOT NULL,
    met INTEGER NOT NULL,
    unmet TEXT NOT NULL,              -- JSON list of what is missing
    notes TEXT NOT NULL,              -- JSON list (caps that limited counting)
    counted_cc BIGINT NOT NULL,
    redeemed INTEGER NOT NULL,
    PRIMARY KEY (learner_id, qualification_id)
);

-- projections/enterprise.py
CREATE TABLE enterprise_consents (
    organization_id TEXT NOT NULL,
    learner_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_on TEXT,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (organization_id, learner_id)
);
CREATE TABLE enterprise_training (
    organization_id TEXT NOT NULL,
    learner_id TEXT NOT NULL,
    outcome_id TEXT NOT NULL,
    period TEXT NOT NULL,             -- YYYY-MM of completion
    kind TEXT NOT NULL,
    category TEXT,
    hours_cc BIGINT NOT NULL,
    credits_cc BIGINT NOT NULL,
    PRIMARY KEY (organization_id, learner_id, outcome_id)
);
CREATE INDEX training_by_period ON enterprise_training (organization_id, period);

-- projections/institution_ledger.py
CREATE TABLE institution_ledger (
    institution_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,           -- outcome id (ISSUED) or conversion id (ACCEPTED)
    role TEXT NOT NULL,
    learner_id TEXT NOT NULL,
    title TEXT NOT NULL,
    credits_cc BIGINT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (institution_id, entry_id)
);
CREATE INDEX ledger_by_time ON institution_ledger (institution_id, at);

-- projections/time_index.py
CREATE TABLE account_time_index (
    learner_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    event_type TEXT NOT NULL,
    PRIMARY KEY (learner_id, version)
);
CREATE INDEX time_index_by_moment ON account_time_index (learner_id, at);

-- projections/catalogue.py: lists the API pages through
CREATE TABLE catalogue_entries (
    entry_id TEXT PRIMARY KEY,
    entry_type TEXT NOT NULL,         -- institution | learner | recognition_rule | conversion_rule | qualification | standard
    ordinal BIGINT NOT NULL,          -- notification id of creation: stable listing order
    name TEXT NOT NULL,
    kind TEXT,
    version INTEGER NOT NULL,
    active INTEGER NOT NULL,
    detail TEXT NOT NULL              -- JSON of the entry's current public fields
);
CREATE INDEX catalogue_by_type ON catalogue_entries (entry_type, ordinal);
CREATE INDEX catalogue_by_kind ON catalogue_entries (entry_type, kind, ordinal);
