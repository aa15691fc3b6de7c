-- The outcome that counts instead of this one (issue 11): an updated version of its credential,
-- or a retake of the same learning. Rows written before were never superseded.
ALTER TABLE transcript_entries ADD COLUMN superseded_by TEXT;
