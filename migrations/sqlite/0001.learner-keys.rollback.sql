DROP TABLE learner_keys;
