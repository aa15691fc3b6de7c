-- Conversion integrity and governance (issue 12): what conversions left of an outcome, the
-- officer's justification and second officer, a learner's appeal, a prior-learning portfolio;
-- conversions know whether they were reversed. Rows written before: nothing converted in part
-- (available is filled in when the outcome's row is next written; NULL reads as "all or none"),
-- no decision seen twice, no appeal, no portfolio, no reversal.
ALTER TABLE transcript_entries ADD COLUMN available_cc BIGINT;
ALTER TABLE transcript_entries ADD COLUMN justification TEXT;
ALTER TABLE transcript_entries ADD COLUMN approved_by TEXT;
ALTER TABLE transcript_entries ADD COLUMN appeal TEXT;
ALTER TABLE transcript_entries ADD COLUMN portfolio TEXT;
ALTER TABLE account_conversions ADD COLUMN reversed_reason TEXT;
