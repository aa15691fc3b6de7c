ALTER TABLE transcript_entries DROP COLUMN status_unknown;
DROP TABLE status_watch;
