//! PostgreSQL, for many API and worker processes sharing one database.
//!
//! The statements are the shared ones of [`super::sql`]; this file adds what is
//! PostgreSQL's own: claims with `FOR UPDATE SKIP LOCKED`, so any number of
//! workers and relays take disjoint rows without waiting on each other;
//! migrations serialized by an advisory lock, so processes starting together
//! apply them once; and a `REPEATABLE READ` snapshot for the audit.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use mannequin_domain::credits::LedgerKind;
use mannequin_domain::{Credits, ModelStatus, StatusFilter, Voting};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use super::audit::{self, AuditFacts};
use super::*;

const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "init",
    include_str!("../../migrations/postgres/0001_init.sql"),
)];

/// Any number; the advisory lock that serializes migrations.
const MIGRATION_LOCK: i64 = 0x6d61_6e6e_6571;

pub struct PgStore {
    write: PgPool,
    read: PgPool,
}

fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        // serialization_failure, deadlock_detected, admin/crash shutdown,
        // cannot_connect_now, too_many_connections: a retry may succeed.
        sqlx::Error::Database(d)
            if matches!(
                d.code().as_deref(),
                Some("40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300")
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) with a pool of
    /// up to `connections`.
    pub async fn connect(url: &str, connections: u32) -> StoreResult<PgStore> {
        let options = PgConnectOptions::from_str(url).map_err(internal)?;
        let pool = PgPoolOptions::new()
            .max_connections(connections.max(2))
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(err)?;
        Ok(PgStore {
            write: pool.clone(),
            read: pool,
        })
    }

    async fn tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.write.begin().await.map_err(err)
    }

    async fn snapshot(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.read
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(err)
    }

    /// Two calls with one idempotency key run one after the other, so the second
    /// finds the first's batch instead of failing on the key's unique index.
    async fn lock_idempotency_key(
        tx: &mut Transaction<'static, Postgres>,
        account_id: &str,
        key: &str,
    ) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("{account_id}\n{key}"))
            .execute(&mut **tx)
            .await
            .map_err(err)?;
        Ok(())
    }

    /// Expired leases first, then due jobs; rows another worker is claiming
    /// right now are skipped, not waited for.
    const CLAIM_JOBS: &'static str = "WITH expired AS (
             SELECT id, 0 AS k, lease_expires_at AS t FROM jobs
             WHERE state = 'running' AND lease_expires_at <= $3
             ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED),
         due AS (
             SELECT id, 1 AS k, run_at AS t FROM jobs
             WHERE state = 'queued' AND run_at <= $3
             ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED),
         picked AS (
             SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM due) both_kinds
             ORDER BY k, t LIMIT $4)
         UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
             deliveries = deliveries + 1, updated_at = $3
         FROM picked WHERE jobs.id = picked.id
         RETURNING jobs.id, jobs.model_id, jobs.correlation_id, jobs.attempts, jobs.max_attempts";

    const CLAIM_OUTBOX: &'static str = "WITH picked AS (
             SELECT id FROM jobs
             WHERE published_at IS NULL AND state = 'queued'
               AND (relay_until IS NULL OR relay_until <= $2)
             ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         UPDATE jobs SET relay_until = $1 FROM picked WHERE jobs.id = picked.id
         RETURNING jobs.id";

    async fn migrate_schema(&self) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        apply_migrations(&mut tx, MIGRATIONS).await?;
        tx.commit().await.map_err(err)
    }
}

crate::store::sql::sql_store!(PgStore, Postgres, PgRow);
