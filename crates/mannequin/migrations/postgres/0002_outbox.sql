-- With the NATS queue the jobs table is also the outbox: `published_at` is set
-- once the relay has handed the job to JetStream; `relay_until` keeps two relays
-- from publishing the same rows at once.
ALTER TABLE jobs ADD COLUMN published_at BIGINT;
ALTER TABLE jobs ADD COLUMN relay_until BIGINT;
CREATE INDEX jobs_outbox ON jobs (created_at) WHERE published_at IS NULL AND state = 'queued';
