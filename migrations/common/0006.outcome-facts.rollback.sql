ALTER TABLE transcript_entries DROP COLUMN passed;
ALTER TABLE transcript_entries DROP COLUMN expires_at;
ALTER TABLE transcript_entries DROP COLUMN issued_at;
ALTER TABLE transcript_entries DROP COLUMN framework_cc;
