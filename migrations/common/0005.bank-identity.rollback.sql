DROP TABLE bank_identity;
