-- Models and reservations name their account through their batch: the
-- foreign key that checked each model's account locked the account's row (FOR
-- KEY SHARE) ten times a registration, which every registration and settle of
-- the account also updates; PostgreSQL then built multixacts on that one row
-- and registrations of one account waited on each other (465 registrations a
-- second of one account at 16 in flight, 712 without). The pair (batch,
-- account) must be a batch's own, which also says more than before: a model's
-- account is its batch's.
ALTER TABLE batches ADD CONSTRAINT batches_id_account UNIQUE (id, account_id);
ALTER TABLE models DROP CONSTRAINT models_account_id_fkey,
    ADD CONSTRAINT models_batch_account_fkey FOREIGN KEY (batch_id, account_id)
        REFERENCES batches (id, account_id);
ALTER TABLE reservations DROP CONSTRAINT reservations_account_id_fkey,
    ADD CONSTRAINT reservations_batch_account_fkey FOREIGN KEY (batch_id, account_id)
        REFERENCES batches (id, account_id);

-- register-ideas in one round trip: everything a registration writes, in one
-- call (one statement, one transaction), with the account row updated last so
-- that it is locked only from the reserve to the commit. The caller passes
-- the words (statuses, the ledger kind) and the balance changes, so that the
-- rules stay stated once, in the service. Returns one row:
--   'registered';
--   'seen': the idempotency key already holds a batch (its id and request hash);
--   'unknown': no such account;
--   'insufficient': with the credits available.
-- Raises 'mannequin: raced' when another call took the idempotency key or the
-- credits since this one looked: nothing is written, and the caller asks again.
CREATE FUNCTION mannequin_register(
    p_account TEXT, p_batch TEXT, p_order TEXT, p_reservation TEXT, p_preferences TEXT,
    p_correlation TEXT, p_required BIGINT, p_deadline BIGINT, p_price BIGINT,
    p_max_attempts BIGINT, p_models JSON, p_idem_key TEXT, p_idem_hash BYTEA,
    p_model_status TEXT, p_job_state TEXT, p_ledger_kind TEXT,
    p_d_available BIGINT, p_d_reserved BIGINT, p_d_consumed BIGINT, p_now BIGINT)
RETURNS TABLE (outcome TEXT, seen_batch TEXT, seen_hash BYTEA, available BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_available BIGINT;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        RETURN QUERY SELECT 'seen'::TEXT, k.batch_id, k.request_hash, NULL::BIGINT
            FROM idempotency_keys k WHERE k.account_id = p_account AND k.key = p_idem_key;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    SELECT a.available INTO v_available FROM accounts a WHERE a.id = p_account;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown'::TEXT, NULL::TEXT, NULL::BYTEA, NULL::BIGINT;
        RETURN;
    END IF;
    IF v_available + p_d_available < 0 THEN
        RETURN QUERY SELECT 'insufficient'::TEXT, NULL::TEXT, NULL::BYTEA, v_available;
        RETURN;
    END IF;
    INSERT INTO batches (id, account_id, order_id, preferences, count, correlation_id, created_at)
        VALUES (p_batch, p_account, p_order, p_preferences, json_array_length(p_models),
                p_correlation, p_now);
    INSERT INTO reservations (id, account_id, batch_id, amount, deadline, created_at)
        VALUES (p_reservation, p_account, p_batch, p_required, p_deadline, p_now);
    INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea, price,
                        status, created_at, updated_at)
        SELECT m->>'id', p_account, p_batch, p_reservation, n - 1, m->>'name', m->>'idea',
               p_price, p_model_status, p_now, p_now
        FROM json_array_elements(p_models) WITH ORDINALITY AS t(m, n);
    INSERT INTO jobs (id, model_id, correlation_id, state, max_attempts, run_at, created_at,
                      updated_at)
        SELECT m->>'job', m->>'id', p_correlation, p_job_state, p_max_attempts, p_now, p_now, p_now
        FROM json_array_elements(p_models) AS t(m);
    IF p_idem_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (account_id, key, request_hash, batch_id, created_at)
            VALUES (p_account, p_idem_key, p_idem_hash, p_batch, p_now)
            ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'mannequin: raced';
        END IF;
    END IF;
    INSERT INTO ledger (account_id, kind, amount, reservation_id, correlation_id, created_at)
        VALUES (p_account, p_ledger_kind, p_required, p_reservation, p_correlation, p_now);
    UPDATE accounts SET available = accounts.available + p_d_available,
                        reserved = reserved + p_d_reserved,
                        consumed = consumed + p_d_consumed
        WHERE id = p_account AND accounts.available + p_d_available >= 0;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'mannequin: raced';
    END IF;
    RETURN QUERY SELECT 'registered'::TEXT, NULL::TEXT, NULL::BYTEA, NULL::BIGINT;
END
$$;
