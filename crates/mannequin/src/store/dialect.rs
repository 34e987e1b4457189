//! What differs between SQLite and PostgreSQL, stated once. Everything else is
//! one SQL text: both read `$n` placeholders, `RETURNING` and
//! `CAST(… AS BIGINT)` alike.

use std::time::Duration;

/// How a database differs from the other. A new backend supplies one of these
/// and its migrations folder, and passes the conformance suite.
#[derive(Debug)]
pub struct Dialect {
    pub name: &'static str,
    /// Starts a write transaction.
    pub begin_write: &'static str,
    /// Starts a read-only transaction that sees one snapshot (the audit).
    pub begin_snapshot: &'static str,
    /// Run first in the migration transaction, so processes starting together
    /// apply each migration once.
    pub lock_migrations: Option<&'static str>,
    /// Whether register-ideas is one call of `mannequin_register` (migration
    /// 6: one round trip, the account row locked only from the reserve to the
    /// commit) rather than statements in a transaction.
    pub register_in_one_call: bool,
    /// The id column in a condition that must not choose the index: the
    /// list keeps to the account's covering index when it filters by kind
    /// (SQLite would otherwise walk the primary key's range of one kind).
    pub id_unindexed: &'static str,
    /// Takes up to `$4` ready jobs for worker `$1` until `$2` at time `$3`:
    /// expired leases first (a dead worker's jobs must not wait behind a
    /// backlog), then due jobs in time order. Jobs whose deliveries are used up
    /// are left to housekeeping. Returns the job rows.
    pub claim_jobs: &'static str,
    /// Whether a claim and its models' move to PROCESSING are one statement
    /// (`claim_jobs` nested in a data-modifying `WITH`) rather than two in a
    /// transaction.
    pub claim_in_one_statement: bool,
    /// Takes up to `$3` unpublished queued jobs for a relay until `$1` at time
    /// `$2`, oldest first. Returns `id, deliveries`.
    pub claim_outbox: &'static str,
    /// [`Dialect::claim_jobs`] under a cap on each account's running jobs
    /// (`$5`): an account at the cap is passed over, and one claim takes no
    /// more of an account's jobs than its room.
    pub claim_jobs_capped: &'static str,
    /// [`Dialect::claim_outbox`] under a cap (`$4`) on each account's jobs in
    /// flight: running, or published since `$5` and not started.
    pub claim_outbox_capped: &'static str,
    /// `(version, description, SQL)` of each migration, in order. A version
    /// means the same change on every dialect.
    pub migrations: &'static [(i64, &'static str, &'static str)],
    /// The database's functions in their current form, and the version of
    /// that form (`migrations/postgres/functions.sql`): applied after the
    /// migrations when newer than what the database holds.
    pub functions: Option<(i64, &'static str)>,
    /// Whether the table named `$1` exists: a row if it does.
    pub table_exists: &'static str,
    /// The versions of today's migrations that a database migrated by the
    /// runner of earlier releases (table `schema_migrations`) holds, given the
    /// highest version it recorded there.
    pub legacy_versions: fn(i64) -> &'static [i64],
    /// Whether an error code means "out of reach for now" (503), not a bug.
    pub transient: fn(&str) -> bool,
}

/// The version `migrations/postgres/functions.sql` declares (its
/// `-- version:` line; a test checks they agree).
pub const FUNCTIONS_VERSION: i64 = 2;

/// The columns a claim returns, in order.
pub const JOB_COLUMNS: &str = "id, model_id, correlation_id, attempts, max_attempts, deliveries";

pub static SQLITE: Dialect = Dialect {
    name: "sqlite",
    begin_write: "BEGIN IMMEDIATE",
    // In WAL mode a read transaction sees one snapshot.
    begin_snapshot: "BEGIN",
    // `BEGIN IMMEDIATE` already holds the database's one write lock.
    lock_migrations: None,
    // Writes go through one connection in the process: round trips cost
    // nothing, and write transactions are serial (two calls with one
    // idempotency key run one after the other).
    register_in_one_call: false,
    id_unindexed: "+id",
    // SQLite has no data-modifying WITH; the transaction costs no round trip.
    claim_in_one_statement: false,
    // One writer at a time: no two workers can pick the same row.
    claim_jobs: "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
             deliveries = deliveries + 1, updated_at = $3
         WHERE id IN (
             SELECT id FROM (SELECT id FROM jobs
                             WHERE state = 'running' AND lease_expires_at <= $3
                               AND deliveries < max_attempts + 5
                             ORDER BY lease_expires_at LIMIT $4)
             UNION ALL
             SELECT id FROM (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3
                             ORDER BY fair_at LIMIT $4)
             LIMIT $4)
         RETURNING id, model_id, correlation_id, attempts, max_attempts, deliveries",
    claim_outbox: "UPDATE jobs SET relay_until = $1
         WHERE id IN (SELECT id FROM jobs
                      WHERE published_at IS NULL AND state = 'queued'
                        AND (relay_until IS NULL OR relay_until <= $2)
                      ORDER BY fair_at LIMIT $3)
         RETURNING id, deliveries",
    claim_jobs_capped: "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
             deliveries = deliveries + 1, updated_at = $3
         WHERE id IN (
             SELECT id FROM (SELECT id FROM jobs
                             WHERE state = 'running' AND lease_expires_at <= $3
                               AND deliveries < max_attempts + 5
                             ORDER BY lease_expires_at LIMIT $4)
             UNION ALL
             SELECT id FROM (
                 SELECT c.id, row_number() OVER (PARTITION BY c.account_id ORDER BY c.fair_at)
                     + (SELECT COUNT(*) FROM jobs r
                        WHERE r.account_id = c.account_id AND r.state = 'running') AS nth
                 FROM (SELECT id, account_id, fair_at FROM jobs
                       WHERE state = 'queued' AND run_at <= $3
                         AND (SELECT COUNT(*) FROM jobs r
                              WHERE r.account_id = jobs.account_id AND r.state = 'running') < $5
                       ORDER BY fair_at LIMIT $4) c)
             WHERE nth <= $5
             LIMIT $4)
         RETURNING id, model_id, correlation_id, attempts, max_attempts, deliveries",
    claim_outbox_capped: "UPDATE jobs SET relay_until = $1
         WHERE id IN (SELECT id FROM (
             SELECT c.id, row_number() OVER (PARTITION BY c.account_id ORDER BY c.fair_at)
                 + (SELECT COUNT(*) FROM jobs r WHERE r.account_id = c.account_id
                    AND (r.state = 'running' OR (r.state = 'queued' AND r.published_at > $5))) AS nth
             FROM (SELECT id, account_id, fair_at FROM jobs
                   WHERE published_at IS NULL AND state = 'queued'
                     AND (relay_until IS NULL OR relay_until <= $2)
                     AND (SELECT COUNT(*) FROM jobs r WHERE r.account_id = jobs.account_id
                          AND (r.state = 'running'
                               OR (r.state = 'queued' AND r.published_at > $5))) < $4
                   ORDER BY fair_at LIMIT $3) c)
           WHERE nth <= $4)
         RETURNING id, deliveries",
    migrations: &[
        (
            1,
            "init",
            include_str!("../../migrations/sqlite/0001_init.sql"),
        ),
        (
            2,
            "outbox",
            include_str!("../../migrations/sqlite/0002_outbox.sql"),
        ),
        (
            3,
            "model record",
            include_str!("../../migrations/sqlite/0003_model_record.sql"),
        ),
        (
            4,
            "webhooks",
            include_str!("../../migrations/sqlite/0004_webhooks.sql"),
        ),
        (
            5,
            "console sessions",
            include_str!("../../migrations/sqlite/0005_console_sessions.sql"),
        ),
        (
            6,
            "register in one call",
            include_str!("../../migrations/sqlite/0006_register_in_one_call.sql"),
        ),
        (
            7,
            "models' status unindexed",
            include_str!("../../migrations/sqlite/0007_models_status_unindexed.sql"),
        ),
        (
            8,
            "register many",
            include_str!("../../migrations/sqlite/0008_register_many.sql"),
        ),
        (
            9,
            "account disabled",
            include_str!("../../migrations/sqlite/0009_account_disabled.sql"),
        ),
        (
            10,
            "fair queue",
            include_str!("../../migrations/sqlite/0010_fair_queue.sql"),
        ),
        (
            11,
            "models list covering",
            include_str!("../../migrations/sqlite/0011_models_list_covering.sql"),
        ),
        (
            12,
            "register reads once",
            include_str!("../../migrations/sqlite/0012_register_reads_once.sql"),
        ),
        (
            13,
            "products and presets",
            include_str!("../../migrations/sqlite/0013_products_and_presets.sql"),
        ),
        (
            14,
            "made from products",
            include_str!("../../migrations/sqlite/0014_made_from_products.sql"),
        ),
    ],
    functions: None,
    table_exists: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1",
    legacy_versions: |highest| match highest {
        1 => &[1],
        _ => &[1, 2],
    },
    // SQLITE_BUSY, SQLITE_LOCKED and their extended codes: contention.
    transient: |code| matches!(code, "5" | "6" | "261" | "262" | "517"),
};

pub static POSTGRES: Dialect = Dialect {
    name: "postgres",
    begin_write: "BEGIN",
    begin_snapshot: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    lock_migrations: Some("SELECT pg_advisory_xact_lock(120265231983985)"),
    register_in_one_call: true,
    id_unindexed: "id",
    claim_in_one_statement: true,
    // Rows another worker is claiming right now are skipped, not waited for.
    claim_jobs: "WITH expired AS (
             SELECT id, 0 AS k, lease_expires_at AS t FROM jobs
             WHERE state = 'running' AND lease_expires_at <= $3
               AND deliveries < max_attempts + 5
             ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED),
         due AS (
             SELECT id, 1 AS k, fair_at AS t FROM jobs
             WHERE state = 'queued' AND run_at <= $3
             ORDER BY fair_at LIMIT $4 FOR UPDATE SKIP LOCKED),
         picked AS (
             SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM due) both_kinds
             ORDER BY k, t LIMIT $4)
         UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
             deliveries = deliveries + 1, updated_at = $3
         FROM picked WHERE jobs.id = picked.id
         RETURNING jobs.id, jobs.model_id, jobs.correlation_id, jobs.attempts,
             jobs.max_attempts, jobs.deliveries",
    claim_outbox: "WITH picked AS (
             SELECT id FROM jobs
             WHERE published_at IS NULL AND state = 'queued'
               AND (relay_until IS NULL OR relay_until <= $2)
             ORDER BY fair_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         UPDATE jobs SET relay_until = $1 FROM picked WHERE jobs.id = picked.id
         RETURNING jobs.id, jobs.deliveries",
    claim_jobs_capped: "WITH expired AS (
             SELECT id, 0 AS k, lease_expires_at AS t FROM jobs
             WHERE state = 'running' AND lease_expires_at <= $3
               AND deliveries < max_attempts + 5
             ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED),
         due AS (
             SELECT id, account_id, 1 AS k, fair_at AS t FROM jobs
             WHERE state = 'queued' AND run_at <= $3
               AND (SELECT COUNT(*) FROM jobs r
                    WHERE r.account_id = jobs.account_id AND r.state = 'running') < $5
             ORDER BY fair_at LIMIT $4 FOR UPDATE SKIP LOCKED),
         ranked AS (
             SELECT id, k, t, row_number() OVER (PARTITION BY account_id ORDER BY t)
                 + (SELECT COUNT(*) FROM jobs r
                    WHERE r.account_id = due.account_id AND r.state = 'running') AS nth
             FROM due),
         picked AS (
             SELECT id FROM (SELECT id, k, t FROM expired
                             UNION ALL SELECT id, k, t FROM ranked WHERE nth <= $5) both_kinds
             ORDER BY k, t LIMIT $4)
         UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
             deliveries = deliveries + 1, updated_at = $3
         FROM picked WHERE jobs.id = picked.id
         RETURNING jobs.id, jobs.model_id, jobs.correlation_id, jobs.attempts,
             jobs.max_attempts, jobs.deliveries",
    claim_outbox_capped: "WITH picked AS (
             SELECT id, account_id, fair_at FROM jobs
             WHERE published_at IS NULL AND state = 'queued'
               AND (relay_until IS NULL OR relay_until <= $2)
               AND (SELECT COUNT(*) FROM jobs r WHERE r.account_id = jobs.account_id
                    AND (r.state = 'running'
                         OR (r.state = 'queued' AND r.published_at > $5))) < $4
             ORDER BY fair_at LIMIT $3 FOR UPDATE SKIP LOCKED),
         ranked AS (
             SELECT id, row_number() OVER (PARTITION BY account_id ORDER BY fair_at)
                 + (SELECT COUNT(*) FROM jobs r WHERE r.account_id = picked.account_id
                    AND (r.state = 'running'
                         OR (r.state = 'queued' AND r.published_at > $5))) AS nth
             FROM picked)
         UPDATE jobs SET relay_until = $1 FROM ranked
         WHERE jobs.id = ranked.id AND ranked.nth <= $4
         RETURNING jobs.id, jobs.deliveries",
    migrations: &[
        (
            1,
            "init",
            include_str!("../../migrations/postgres/0001_init.sql"),
        ),
        (
            2,
            "outbox",
            include_str!("../../migrations/postgres/0002_outbox.sql"),
        ),
        (
            3,
            "model record",
            include_str!("../../migrations/postgres/0003_model_record.sql"),
        ),
        (
            4,
            "webhooks",
            include_str!("../../migrations/postgres/0004_webhooks.sql"),
        ),
        (
            5,
            "console sessions",
            include_str!("../../migrations/postgres/0005_console_sessions.sql"),
        ),
        (
            6,
            "register in one call",
            include_str!("../../migrations/postgres/0006_register_in_one_call.sql"),
        ),
        (
            7,
            "models' status unindexed",
            include_str!("../../migrations/postgres/0007_models_status_unindexed.sql"),
        ),
        (
            8,
            "register many",
            include_str!("../../migrations/postgres/0008_register_many.sql"),
        ),
        (
            9,
            "account disabled",
            include_str!("../../migrations/postgres/0009_account_disabled.sql"),
        ),
        (
            10,
            "fair queue",
            include_str!("../../migrations/postgres/0010_fair_queue.sql"),
        ),
        (
            11,
            "models list covering",
            include_str!("../../migrations/postgres/0011_models_list_covering.sql"),
        ),
        (
            12,
            "register reads once",
            include_str!("../../migrations/postgres/0012_register_reads_once.sql"),
        ),
        (
            13,
            "products and presets",
            include_str!("../../migrations/postgres/0013_products_and_presets.sql"),
        ),
        (
            14,
            "made from products",
            include_str!("../../migrations/postgres/0014_made_from_products.sql"),
        ),
    ],
    functions: Some((
        FUNCTIONS_VERSION,
        include_str!("../../migrations/postgres/functions.sql"),
    )),
    table_exists: "SELECT CAST(to_regclass($1) AS TEXT) WHERE to_regclass($1) IS NOT NULL",
    // Earlier releases created the outbox columns in PostgreSQL's version 1.
    legacy_versions: |_| &[1, 2],
    // Class 08 (connection exception), 53 (insufficient resources: too many
    // clients, out of memory), 57P (shutting down, starting up, cannot connect
    // now), 55000 (the database does not accept connections), and transactions
    // given up for another one (serialization failure, deadlock).
    transient: |code| {
        code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57P")
            || matches!(code, "55000" | "40001" | "40P01")
    },
};

/// The pragmas every SQLite connection starts with.
pub const SQLITE_PRAGMAS: &[(&str, &str)] = &[
    ("journal_mode", "WAL"),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", "10000"),
    ("temp_store", "MEMORY"),
    ("cache_size", "-4000"),
];

/// How long a request waits for a PostgreSQL connection before answering 503.
pub const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobState;

    #[test]
    fn the_claims_name_job_states_as_the_job_state_type_does() {
        for d in [&SQLITE, &POSTGRES] {
            for sql in [
                d.claim_jobs,
                d.claim_outbox,
                d.claim_jobs_capped,
                d.claim_outbox_capped,
            ] {
                for quoted in sql.split('\'').skip(1).step_by(2) {
                    assert!(
                        JobState::ALL.iter().any(|s| s.as_str() == quoted),
                        "{}: '{quoted}' is not a job state",
                        d.name
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod function_tests {
    use super::*;

    /// The checksum of `functions.sql` at [`FUNCTIONS_VERSION`]: a database
    /// holding this version with other text would get it again, so an edit
    /// that does not bump the version is caught here first.
    const FUNCTIONS_SHA256: &str =
        "c1d6b83a8193dab64b3c31dcc91723d1ee31f989571038e8703840178f764555";

    #[test]
    fn the_functions_declare_their_version_and_an_edit_bumps_it() {
        let (version, sql) = POSTGRES.functions.expect("PostgreSQL has functions");
        assert_eq!(version, FUNCTIONS_VERSION);
        assert!(
            sql.contains(&format!("\n-- version: {version}\n")),
            "functions.sql names version {version}"
        );
        assert_eq!(
            crate::store::migrate::checksum(sql),
            FUNCTIONS_SHA256,
            "functions.sql changed: bump its version and FUNCTIONS_VERSION, \
             and record the new checksum here"
        );
        assert!(SQLITE.functions.is_none());
    }
}
