ALTER TABLE account_conversions DROP COLUMN reversed_reason;
ALTER TABLE transcript_entries DROP COLUMN portfolio;
ALTER TABLE transcript_entries DROP COLUMN appeal;
ALTER TABLE transcript_entries DROP COLUMN approved_by;
ALTER TABLE transcript_entries DROP COLUMN justification;
ALTER TABLE transcript_entries DROP COLUMN available_cc;
