-- Signed checkpoints of every account's hash-chain head (application/audit.py).
CREATE TABLE audit_checkpoints (
    checkpoint_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    position BIGINT NOT NULL,         -- last notification id covered
    heads TEXT NOT NULL,              -- canonical JSON {account id: [version, hash]}
    kid TEXT NOT NULL,
    signature TEXT NOT NULL           -- Ed25519 over the canonical JSON, base64url
);
CREATE INDEX audit_checkpoints_by_time ON audit_checkpoints (created_at);
