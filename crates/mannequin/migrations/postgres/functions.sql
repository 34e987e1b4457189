-- The database's functions, in their current form: one home for each, applied
-- after the migrations (in the same transaction) whenever this file's version
-- is newer than the one the database records in `_mannequin_functions`, or the
-- same version with other text (an edit made without bumping it, in
-- development). A binary older than the database's functions never replaces
-- them, so a rolling upgrade does not undo itself.
--
-- Rules for editing: bump the version below (a unit test holds the text's
-- checksum for each version and says so); keep every signature, so that a
-- service of the previous version keeps working against the new functions; a
-- change of signature is a migration (DROP FUNCTION) plus the new form here.
-- The migrations up to 12 hold earlier copies as history: they cannot change,
-- as the database keeps their checksums.
--
-- version: 2

-- The ledger is append-only: updating, deleting or truncating it is an error.
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only';
END;
$$;

-- The tag at the head of the queue: the first queued job's that may run at
-- `p_now`, or, with nothing queued, the highest tag handed out. Planned with
-- sequential and bitmap scans and sorts off, so that its only plan is the walk
-- of `jobs_fair` from its start, however small the table was when a session
-- planned it (migration 12 says why).
CREATE OR REPLACE FUNCTION mannequin_queue_head(p_now BIGINT) RETURNS BIGINT
LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off
AS $$
BEGIN
    RETURN COALESCE(
        (SELECT fair_at FROM jobs WHERE state = 'queued' AND run_at <= p_now ORDER BY fair_at LIMIT 1),
        (SELECT MAX(queue_tag) FROM accounts));
END
$$;

-- Registers one batch in one call: the idempotency key checked, the credits
-- reserved, the batch, its models and jobs written, the ledger entry made.
-- Answers one row: registered, seen (the key was used: its batch and request
-- hash), unknown (no such account) or insufficient (the account's balance).
CREATE OR REPLACE FUNCTION mannequin_register(
    p_account TEXT, p_batch TEXT, p_order TEXT, p_reservation TEXT, p_preferences TEXT,
    p_correlation TEXT, p_required BIGINT, p_deadline BIGINT, p_price BIGINT,
    p_max_attempts BIGINT, p_models JSON, p_idem_key TEXT, p_idem_hash BYTEA,
    p_model_status TEXT, p_job_state TEXT, p_ledger_kind TEXT,
    p_d_available BIGINT, p_d_reserved BIGINT, p_d_consumed BIGINT, p_now BIGINT)
RETURNS TABLE (outcome TEXT, seen_batch TEXT, seen_hash BYTEA, available BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_models JSONB := p_models::jsonb;
    v_available BIGINT;
    v_own BIGINT;
    v_start BIGINT;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        RETURN QUERY SELECT 'seen'::TEXT, k.batch_id, k.request_hash, NULL::BIGINT
            FROM idempotency_keys k WHERE k.account_id = p_account AND k.key = p_idem_key;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    SELECT a.available, a.queue_tag INTO v_available, v_own FROM accounts a WHERE a.id = p_account;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown'::TEXT, NULL::TEXT, NULL::BYTEA, NULL::BIGINT;
        RETURN;
    END IF;
    IF v_available + p_d_available < 0 THEN
        RETURN QUERY SELECT 'insufficient'::TEXT, NULL::TEXT, NULL::BYTEA, v_available;
        RETURN;
    END IF;
    INSERT INTO batches (id, account_id, order_id, preferences, count, correlation_id, created_at)
        VALUES (p_batch, p_account, p_order, p_preferences, jsonb_array_length(v_models),
                p_correlation, p_now);
    INSERT INTO reservations (id, account_id, batch_id, amount, deadline, created_at)
        VALUES (p_reservation, p_account, p_batch, p_required, p_deadline, p_now);
    -- `product`, `model`, `set` (version 2, migration 14): what a picture is
    -- made from; absent (NULL) for what is made from words, and from a
    -- service of version 1.
    INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea, price,
                        status, created_at, updated_at, product_id, input_model_id,
                        input_set_id)
        SELECT m->>'id', p_account, p_batch, p_reservation, n - 1, m->>'name', m->>'idea',
               p_price, p_model_status, p_now, p_now, m->>'product', m->>'model', m->>'set'
        FROM jsonb_array_elements(v_models) WITH ORDINALITY AS t(m, n);
    -- The fair tags: after the account's own, and not before the queue's head.
    v_start := GREATEST(v_own, COALESCE(mannequin_queue_head(p_now), 0));
    INSERT INTO jobs (id, model_id, correlation_id, state, max_attempts, run_at, created_at,
                      updated_at, fair_at, account_id)
        SELECT m->>'job', m->>'id', p_correlation, p_job_state, p_max_attempts, p_now, p_now, p_now,
               v_start + n - 1, p_account
        FROM jsonb_array_elements(v_models) WITH ORDINALITY AS t(m, n);
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
                        consumed = consumed + p_d_consumed,
                        queue_tag = GREATEST(accounts.queue_tag,
                                             v_start + jsonb_array_length(v_models))
        WHERE id = p_account AND accounts.available + p_d_available >= 0;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'mannequin: raced';
    END IF;
    RETURN QUERY SELECT 'registered'::TEXT, NULL::TEXT, NULL::BYTEA, NULL::BIGINT;
END
$$;

-- Registers many batches in one call, in order: what mannequin_register
-- answers for each.
CREATE OR REPLACE FUNCTION mannequin_register_many(p_items JSON)
RETURNS TABLE (outcome TEXT, seen_batch TEXT, seen_hash BYTEA, available BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    i JSONB;
BEGIN
    FOR i IN SELECT value FROM jsonb_array_elements(p_items::jsonb) WITH ORDINALITY AS t(value, n)
             ORDER BY n LOOP
        RETURN QUERY SELECT * FROM mannequin_register(
            i->>'account', i->>'batch', i->>'order', i->>'reservation', i->>'preferences',
            i->>'correlation', CAST(i->>'required' AS BIGINT), CAST(i->>'deadline' AS BIGINT),
            CAST(i->>'price' AS BIGINT), CAST(i->>'maxAttempts' AS BIGINT),
            CAST(i->'models' AS JSON), i->>'idemKey', decode(i->>'idemHash', 'hex'),
            i->>'modelStatus', i->>'jobState', i->>'ledgerKind',
            CAST(i->>'dAvailable' AS BIGINT), CAST(i->>'dReserved' AS BIGINT),
            CAST(i->>'dConsumed' AS BIGINT), CAST(i->>'now' AS BIGINT));
    END LOOP;
END
$$;
