DROP TABLE intake_lines;
DROP TABLE intake_jobs;
