ALTER TABLE transcript_entries DROP COLUMN under_review;
