"""Bulk intake: many credentials for many learners in one upload (docs/intake-csv.md for the
institution's side, which builds the signed credentials from a registrar's CSV)."""
