DROP TABLE status_list_entries;
