ALTER TABLE transcript_entries DROP COLUMN superseded_by;
