-- The PostgreSQL schema: the same tables, rules and names as the SQLite one.
-- Times are milliseconds since the Unix epoch (BIGINT), as there.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    available   BIGINT NOT NULL CHECK (available >= 0),
    reserved    BIGINT NOT NULL CHECK (reserved >= 0),
    consumed    BIGINT NOT NULL CHECK (consumed >= 0),
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    secret_hash  BYTEA NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE batches (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    order_id        TEXT NOT NULL UNIQUE,
    preferences     TEXT NOT NULL,
    count           BIGINT NOT NULL,
    correlation_id  TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE reservations (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    batch_id    TEXT NOT NULL UNIQUE REFERENCES batches(id),
    amount      BIGINT NOT NULL CHECK (amount >= 0),
    consumed    BIGINT NOT NULL DEFAULT 0,
    refunded    BIGINT NOT NULL DEFAULT 0,
    deadline    BIGINT NOT NULL,
    closed_at   BIGINT,
    created_at  BIGINT NOT NULL,
    CHECK (consumed + refunded <= amount)
);
CREATE INDEX reservations_open ON reservations (deadline) WHERE closed_at IS NULL;

CREATE TABLE models (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    batch_id        TEXT NOT NULL REFERENCES batches(id),
    reservation_id  TEXT NOT NULL REFERENCES reservations(id),
    position        BIGINT NOT NULL,
    name            TEXT NOT NULL,
    idea            TEXT NOT NULL,
    price           BIGINT NOT NULL,
    status          TEXT NOT NULL,
    voting          TEXT NOT NULL DEFAULT 'PENDING',
    failure_reason  TEXT,
    image_key       TEXT,
    thumb_key       TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
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
    attempts          BIGINT NOT NULL DEFAULT 0,
    max_attempts      BIGINT NOT NULL,
    deliveries        BIGINT NOT NULL DEFAULT 0,
    run_at            BIGINT NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  BIGINT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'running';

CREATE TABLE idempotency_keys (
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    key           TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    batch_id      TEXT NOT NULL REFERENCES batches(id),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

CREATE TABLE ledger (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'consume', 'refund', 'adjustment')),
    amount          BIGINT NOT NULL,
    reservation_id  TEXT,
    model_id        TEXT,
    correlation_id  TEXT,
    note            TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX ledger_account ON ledger (account_id);
CREATE INDEX ledger_reservation ON ledger (reservation_id);
CREATE UNIQUE INDEX ledger_settled_once ON ledger (model_id) WHERE kind IN ('consume', 'refund');

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only';
END;
$$;
CREATE TRIGGER ledger_no_update BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
