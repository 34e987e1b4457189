-- Claims take queued jobs by a fair tag, not by age: one account's backlog no
-- longer holds back another's work. A registration's jobs get consecutive tags
-- starting at the later of the account's own next tag and the tag at the head
-- of the queue (or, with the queue empty, the highest tag handed out), so
-- accounts with work queued take turns, job by job (start-time fair queuing).
ALTER TABLE jobs ADD COLUMN fair_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN queue_tag INTEGER NOT NULL DEFAULT 0;
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
