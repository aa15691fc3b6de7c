DROP TABLE account_awards;
ALTER TABLE qualification_progress DROP COLUMN award_status;
ALTER TABLE qualification_progress DROP COLUMN award_id;
ALTER TABLE account_holdings DROP COLUMN spent_by;
