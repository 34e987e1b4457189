-- Claims take queued jobs by a fair tag, not by age: one account's backlog no
-- longer holds back another's work. A registration's jobs get consecutive tags
-- starting at the later of the account's own next tag and the tag at the head
-- of the queue (or, with the queue empty, the highest tag handed out), so
-- accounts with work queued take turns, job by job (start-time fair queuing).
ALTER TABLE jobs ADD COLUMN fair_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN queue_tag BIGINT NOT NULL DEFAULT 0;
DROP INDEX jobs_ready;
CREATE INDEX jobs_fair ON jobs (fair_at) WHERE state = 'queued';
CREATE INDEX accounts_queue_tag ON accounts (queue_tag);
-- With NATS the relay hands jobs to the stream in the same order, and only a
-- window of them at a time (the jobs published and not started yet are
-- counted), so the stream's order is fair too.
DROP INDEX jobs_outbox;
CREATE INDEX jobs_outbox ON jobs (fair_at) WHERE published_at IS NULL AND state = 'queued';
-- A job names its account, so that an account's jobs in flight (running, or
-- handed to NATS and not started) can be counted against
-- --account-max-in-flight, each through a small partial index.
ALTER TABLE jobs ADD COLUMN account_id TEXT;
UPDATE jobs SET account_id = (SELECT m.account_id FROM models m WHERE m.id = jobs.model_id);
CREATE INDEX jobs_published ON jobs (account_id, published_at)
    WHERE published_at IS NOT NULL AND state = 'queued';
CREATE INDEX jobs_running_account ON jobs (account_id) WHERE state = 'running';

-- mannequin_register as in version 6, handing out the fair tags.
CREATE OR REPLACE FUNCTION mannequin_register(
    p_account TEXT, p_batch TEXT, p_order TEXT, p_reservation TEXT, p_preferences TEXT,
    p_correlation TEXT, p_required BIGINT, p_deadline BIGINT, p_price BIGINT,
    p_max_attempts BIGINT, p_models JSON, p_idem_key TEXT, p_idem_hash BYTEA,
    p_model_status TEXT, p_job_state TEXT, p_ledger_kind TEXT,
    p_d_available BIGINT, p_d_reserved BIGINT, p_d_consumed BIGINT, p_now BIGINT)
RETURNS TABLE (outcome TEXT, seen_batch TEXT, seen_hash BYTEA, available BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
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
        VALUES (p_batch, p_account, p_order, p_preferences, json_array_length(p_models),
                p_correlation, p_now);
    INSERT INTO reservations (id, account_id, batch_id, amount, deadline, created_at)
        VALUES (p_reservation, p_account, p_batch, p_required, p_deadline, p_now);
    INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea, price,
                        status, created_at, updated_at)
        SELECT m->>'id', p_account, p_batch, p_reservation, n - 1, m->>'name', m->>'idea',
               p_price, p_model_status, p_now, p_now
        FROM json_array_elements(p_models) WITH ORDINALITY AS t(m, n);
    -- The fair tags: after the account's own, and not before the queue's head.
    v_start := GREATEST(v_own, COALESCE(
        (SELECT j.fair_at FROM jobs j WHERE j.state = p_job_state AND j.run_at <= p_now
         ORDER BY j.fair_at LIMIT 1),
        (SELECT MAX(x.queue_tag) FROM accounts x), 0));
    INSERT INTO jobs (id, model_id, correlation_id, state, max_attempts, run_at, created_at,
                      updated_at, fair_at, account_id)
        SELECT m->>'job', m->>'id', p_correlation, p_job_state, p_max_attempts, p_now, p_now, p_now,
               v_start + n - 1, p_account
        FROM json_array_elements(p_models) WITH ORDINALITY AS t(m, n);
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
                                             v_start + json_array_length(p_models))
        WHERE id = p_account AND accounts.available + p_d_available >= 0;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'mannequin: raced';
    END IF;
    RETURN QUERY SELECT 'registered'::TEXT, NULL::TEXT, NULL::BYTEA, NULL::BIGINT;
END
$$;
