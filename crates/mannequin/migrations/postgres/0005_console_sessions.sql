-- Console sign-ins: one session per browser, found by the SHA-256 of the
-- random token in its cookie, tied to the API key that signed in (a revoked
-- or expired key ends it), with the token its forms carry against forgery.
CREATE TABLE console_sessions (
    token_hash  BYTEA PRIMARY KEY,
    key_id      TEXT NOT NULL REFERENCES api_keys(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- The console lists an account's batches newest first (ids sort by time).
CREATE INDEX batches_account ON batches (account_id, id);
