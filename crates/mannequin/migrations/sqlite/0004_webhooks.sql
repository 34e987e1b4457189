-- Webhooks. An account's endpoints; the events settling writes for them in the
-- transaction that settles (the outbox); one delivery per event and endpoint,
-- leased by one dispatcher at a time through `next_at`; and every attempt.

CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    url              TEXT NOT NULL,
    -- The event types it receives, comma-separated; empty: all of them.
    events           TEXT NOT NULL,
    -- The signing secret, `whsec_` and base64; it signs, so it is kept as is.
    secret           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    -- Since when every attempt failed; NULL after a success.
    failing_since    INTEGER,
    disabled_at      INTEGER,
    disabled_reason  TEXT
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);

CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    type        TEXT NOT NULL,
    -- The model or batch the event is about.
    subject_id  TEXT NOT NULL,
    -- The body sent, fixed when first sent so every attempt sends the same bytes.
    payload     TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (type, subject_id)
);
CREATE INDEX webhook_events_age ON webhook_events (created_at);

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL REFERENCES webhook_events(id),
    endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- When it is due; a dispatcher that takes it moves this past its lease.
    next_at      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id   TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    duration_ms   INTEGER NOT NULL,
    attempted_at  INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_age ON webhook_attempts (attempted_at);
