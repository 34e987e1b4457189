-- Registering reads its arguments once and finds the queue's head through its
-- index, however many jobs the table holds.
--
-- The head of the queue (for the fair tags, version 10) was found with the
-- job state as a parameter, `state = p_job_state`. PL/pgSQL keeps a generic
-- plan for a statement after a few calls, and a generic plan cannot use an
-- index whose condition is `state = 'queued'` without knowing the value: each
-- registration scanned the whole jobs table, settled jobs included, so it
-- slowed as the table grew. With the state written as the index writes it,
-- the plan can still be wrong: made while the table is small (a new database's
-- first registrations), it is a bitmap scan of every queued job and a sort,
-- and the session keeps it while the queue grows. So the head is read by a
-- function of its own, planned with sequential and bitmap scans and sorts
-- off: its only plan is the walk of `jobs_fair` from its start, stopping at
-- the first job that may run. (The same statement, `QUEUE_HEAD` in the
-- service, is read on SQLite, whose plans do not depend on the table's size;
-- a test checks both, and that the plan kept by a session from a small table
-- still reads one job once the queue is long.)
--
-- The models arrived as JSON text and each field was read with `->>`, which
-- scans the text again from its start: every registration of a group
-- (`mannequin_register_many`) read its ten models' text twenty times over.
-- Both functions now turn their argument into jsonb once and read that.
-- Their signatures are unchanged, so a service of the previous version keeps
-- working against this database.

-- The tag at the head of the queue: the first queued job's that may run at
-- `p_now`, or, with nothing queued, the highest tag handed out.
CREATE FUNCTION mannequin_queue_head(p_now BIGINT) RETURNS BIGINT
LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off
AS $$
BEGIN
    RETURN COALESCE(
        (SELECT fair_at FROM jobs WHERE state = 'queued' AND run_at <= p_now ORDER BY fair_at LIMIT 1),
        (SELECT MAX(queue_tag) FROM accounts));
END
$$;

-- mannequin_register as in version 10, reading jsonb, the head from mannequin_queue_head.
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
    INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea, price,
                        status, created_at, updated_at)
        SELECT m->>'id', p_account, p_batch, p_reservation, n - 1, m->>'name', m->>'idea',
               p_price, p_model_status, p_now, p_now
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

-- mannequin_register_many as in version 8, reading jsonb.
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
