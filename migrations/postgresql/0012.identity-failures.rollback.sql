DROP TABLE identity_failures;
