-- Accounts hold their balances as a cache of the ledger; CHECKs keep them sane.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    available   INTEGER NOT NULL CHECK (available >= 0),
    reserved    INTEGER NOT NULL CHECK (reserved >= 0),
    consumed    INTEGER NOT NULL CHECK (consumed >= 0),
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    secret_hash  BLOB NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);

-- One register-ideas call: its order id, the text and the request's correlation id.
CREATE TABLE batches (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    order_id        TEXT NOT NULL UNIQUE,
    preferences     TEXT NOT NULL,
    count           INTEGER NOT NULL,
    correlation_id  TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE reservations (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    batch_id    TEXT NOT NULL UNIQUE REFERENCES batches(id),
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    consumed    INTEGER NOT NULL DEFAULT 0,
    refunded    INTEGER NOT NULL DEFAULT 0,
    deadline    INTEGER NOT NULL,
    closed_at   INTEGER,
    created_at  INTEGER NOT NULL,
    CHECK (consumed + refunded <= amount)
);
CREATE INDEX reservations_open ON reservations (deadline) WHERE closed_at IS NULL;

CREATE TABLE models (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    batch_id        TEXT NOT NULL REFERENCES batches(id),
    reservation_id  TEXT NOT NULL REFERENCES reservations(id),
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    idea            TEXT NOT NULL,
    price           INTEGER NOT NULL,
    status          TEXT NOT NULL,
    voting          TEXT NOT NULL DEFAULT 'PENDING',
    failure_reason  TEXT,
    image_key       TEXT,
    thumb_key       TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX models_account_newest ON models (account_id, created_at DESC, id DESC);
CREATE INDEX models_account_approved ON models (account_id, created_at DESC, id DESC) WHERE voting = 'APPROVED';
CREATE INDEX models_batch ON models (batch_id);
CREATE INDEX models_reservation_open ON models (reservation_id) WHERE status IN ('PENDING', 'PROCESSING');

-- The database queue: one job per model, written in the batch's transaction.
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    model_id          TEXT NOT NULL UNIQUE REFERENCES models(id),
    correlation_id    TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    deliveries        INTEGER NOT NULL DEFAULT 0,
    run_at            INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'running';

-- A client's Idempotency-Key for register-ideas: a repeated key returns the
-- first call's batch instead of creating (and charging for) another.
CREATE TABLE idempotency_keys (
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    key           TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    batch_id      TEXT NOT NULL REFERENCES batches(id),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Every credit movement, append-only.
CREATE TABLE ledger (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'consume', 'refund', 'adjustment')),
    amount          INTEGER NOT NULL,
    reservation_id  TEXT,
    model_id        TEXT,
    correlation_id  TEXT,
    note            TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX ledger_account ON ledger (account_id);
CREATE INDEX ledger_reservation ON ledger (reservation_id);
-- A model's price is settled once: consumed xor refunded, never twice.
CREATE UNIQUE INDEX ledger_settled_once ON ledger (model_id) WHERE kind IN ('consume', 'refund');

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
