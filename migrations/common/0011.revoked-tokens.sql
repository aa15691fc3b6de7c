-- Revoked local bearer tokens (issue 14): `creditbank revoke-token <jti>` adds one, and every API
-- process reads the list every few seconds. A row is kept until no local token it could name is
-- still valid (expires_at: its revocation plus the longest local token's lifetime), then deleted.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    revoked_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
