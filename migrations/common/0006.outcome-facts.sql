-- What a credential says of itself (issue 11): its framework credits (the claim through the
-- issuer's credit scheme), when it was issued and expires, and whether it records a pass.
-- Rows written before keep what the upcast events give them: the claim as framework credits,
-- nothing known of the rest.
ALTER TABLE transcript_entries ADD COLUMN framework_cc BIGINT;
ALTER TABLE transcript_entries ADD COLUMN issued_at TEXT;
ALTER TABLE transcript_entries ADD COLUMN expires_at TEXT;
ALTER TABLE transcript_entries ADD COLUMN passed INTEGER;
UPDATE transcript_entries SET framework_cc = credits_cc;
