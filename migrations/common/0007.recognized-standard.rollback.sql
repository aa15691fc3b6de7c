ALTER TABLE transcript_entries DROP COLUMN standard_version;
ALTER TABLE transcript_entries DROP COLUMN recognized_standard;
