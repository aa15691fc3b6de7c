-- Bitstring Status List: each exported outcome gets a stable index; its bit is set once revoked.
CREATE TABLE status_list_entries (
    status_index BIGSERIAL PRIMARY KEY,
    outcome_id TEXT NOT NULL UNIQUE
);
