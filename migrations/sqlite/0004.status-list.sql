-- Bitstring Status List: each exported outcome gets a stable index; its bit is set once revoked.
CREATE TABLE status_list_entries (
    status_index INTEGER PRIMARY KEY AUTOINCREMENT,
    outcome_id TEXT NOT NULL UNIQUE
);
