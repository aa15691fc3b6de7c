-- The standard an outcome was recognised against, and its version (issue 11): only that meets a
-- qualification's required standard. Rows recognised before kept the code they claimed (their
-- upcast events say so), so the backfill gives recognised rows their claimed code.
ALTER TABLE transcript_entries ADD COLUMN recognized_standard TEXT;
ALTER TABLE transcript_entries ADD COLUMN standard_version INTEGER;
UPDATE transcript_entries SET recognized_standard = standard_code WHERE recognized_cc IS NOT NULL;
