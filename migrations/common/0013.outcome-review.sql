-- Outcomes under review (security finding 6): signed with a key later revoked as compromised,
-- they count for nothing until an officer clears or revokes them. Rows written before: none is.
-- (transcript_by_issuer finds what a compromised key may have signed.)
ALTER TABLE transcript_entries ADD COLUMN under_review TEXT;
