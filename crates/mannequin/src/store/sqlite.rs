//! The embedded store: one SQLite file in WAL mode.
//!
//! Writes go through a pool of one connection and every write transaction is
//! `BEGIN IMMEDIATE`, so writers queue in the process instead of spinning on
//! SQLite's busy handler, and a read-then-write transaction can never fail to
//! upgrade its lock. Reads use a separate pool and run alongside.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use mannequin_domain::credits::LedgerKind;
use mannequin_domain::{Credits, ModelStatus, StatusFilter, Voting};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};

use super::audit::{self, AuditFacts};
use super::*;

const MIGRATIONS: &[(i64, &str, &str)] = &[
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
];

pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
}

fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(d)
            if matches!(d.code().as_deref(), Some("5" | "6" | "517" | "262")) =>
        {
            // SQLITE_BUSY, SQLITE_LOCKED and their extended codes: contention.
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or
    /// `sqlite::memory:`-style URLs are accepted by sqlx).
    pub async fn connect(url: &str, read_connections: u32) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(internal)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-4000");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options.clone())
            .await
            .map_err(err)?;
        let read = SqlitePoolOptions::new()
            .max_connections(read_connections.max(1))
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(err)?;
        Ok(SqliteStore { write, read })
    }

    async fn tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await.map_err(err)
    }

    /// A read transaction: in WAL mode, a consistent snapshot.
    async fn snapshot(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.read.begin().await.map_err(err)
    }

    /// Write transactions are serial already (`BEGIN IMMEDIATE`).
    async fn lock_idempotency_key(
        _tx: &mut Transaction<'static, Sqlite>,
        _account_id: &str,
        _key: &str,
    ) -> StoreResult<()> {
        Ok(())
    }

    /// Jobs whose lease ran out come first (they are the oldest work, and a dead
    /// worker's jobs must not wait behind a backlog), then due jobs in time order.
    /// One writer at a time: no two workers can pick the same row.
    const CLAIM_JOBS: &'static str =
        "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
             deliveries = deliveries + 1, updated_at = $3
         WHERE id IN (
             SELECT id FROM (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at <= $3
                             ORDER BY lease_expires_at LIMIT $4)
             UNION ALL
             SELECT id FROM (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3
                             ORDER BY run_at LIMIT $4)
             LIMIT $4)
         RETURNING id, model_id, correlation_id, attempts, max_attempts";

    const CLAIM_OUTBOX: &'static str = "UPDATE jobs SET relay_until = $1
         WHERE id IN (SELECT id FROM jobs
                      WHERE published_at IS NULL AND state = 'queued'
                        AND (relay_until IS NULL OR relay_until <= $2)
                      ORDER BY created_at LIMIT $3)
         RETURNING id";

    async fn migrate_schema(&self) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        apply_migrations(&mut tx, MIGRATIONS).await?;
        tx.commit().await.map_err(err)
    }
}

crate::store::sql::sql_store!(SqliteStore, Sqlite, SqliteRow);
