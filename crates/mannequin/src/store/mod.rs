//! The database: everything the service keeps, behind one type, [`Store`].
//!
//! One SQL text serves SQLite (the embedded default) and PostgreSQL (many
//! processes sharing one database), run through each database's own sqlx
//! driver by the generic operations of `db`; what differs between the two is
//! stated once, in a [`Dialect`]. Every method that moves credits does so in
//! one transaction with the status change that causes it, and a model row's
//! status is the guard that makes settling idempotent: a transition that finds
//! the row already terminal changes nothing.
//!
//! The methods live by concern: `accounts` (accounts, keys, credits),
//! `register` (and its `lanes`), `listing`, `jobs` (claims, leases, retries), `outbox`,
//! `settle`, `webhooks`, `housekeeping`, [`audit`] and `migrate`.

mod accounts;
pub mod audit;
mod db;
mod details;
mod dialect;
mod error;
mod fill;
mod housekeeping;
mod jobs;
mod key_cache;
mod lanes;
mod ledger;
mod listing;
mod migrate;
mod outbox;
mod presets;
mod products;
mod readers;
mod records;
mod register;
mod sessions;
mod settle;
mod values;
mod webhooks;

use db::{Pools, Tx};
pub use details::{BatchDetail, BatchKey, LedgerEntry, ModelChange, ModelDetail};
pub use dialect::{Dialect, FUNCTIONS_VERSION};
pub use error::{StoreError, StoreResult};
pub use jobs::CRASH_ALLOWANCE;
pub use key_cache::KEY_TTL;
pub use listing::search_words;
pub use outbox::Unpublished;
pub use presets::Preset;
pub use products::{AddProductError, Product};
pub use records::*;
pub use register::QUEUE_HEAD;
pub use sessions::Session;
pub use webhooks::{Attempt, Due, Ending, Endpoint, EndpointState, EventType, Outcome};

/// The database, on either dialect.
pub struct Store {
    pools: std::sync::Arc<Pools>,
    dialect: &'static Dialect,
    /// The URL it was opened with; it may hold a password.
    url: String,
    keys: key_cache::KeyCache,
    /// Registrations waiting for their account's turn (PostgreSQL).
    lanes: std::sync::Arc<lanes::Lanes>,
}

impl Store {
    /// Opens the database at `url` by its scheme: `sqlite://path` (created if
    /// missing) or `postgres://user:pass@host/db`, with up to `connections`
    /// connections (readers, on SQLite). Does not migrate.
    ///
    /// # Errors
    /// An unsupported URL is `Internal`; a database that does not answer is
    /// `Unavailable`.
    pub async fn open(url: &str, connections: u32) -> StoreResult<Store> {
        if url.starts_with("sqlite:") {
            Store::open_sqlite(url, connections).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Store::open_postgres(url, connections).await
        } else {
            Err(StoreError::internal(
                "unsupported database URL (expected sqlite://… or postgres://…)",
            ))
        }
    }

    /// The embedded store: one SQLite file in WAL mode, created if missing.
    /// Writes go through one connection and every write transaction is
    /// `BEGIN IMMEDIATE`, so a read-then-write transaction can never fail to
    /// upgrade its lock; reads use `readers` connections alongside.
    pub async fn open_sqlite(url: &str, readers: u32) -> StoreResult<Store> {
        Ok(Store::with(Pools::sqlite(url, readers).await?, url))
    }

    /// PostgreSQL, for many API and worker processes sharing one database, with
    /// a pool of up to `connections`. A request waits at most
    /// [`dialect::PG_ACQUIRE_TIMEOUT`] for a connection, so a database that
    /// cannot be reached answers 503 quickly instead of holding the client.
    pub async fn open_postgres(url: &str, connections: u32) -> StoreResult<Store> {
        Ok(Store::with(Pools::postgres(url, connections).await?, url))
    }

    fn with(pools: Pools, url: &str) -> Store {
        Store {
            dialect: pools.dialect(),
            pools: std::sync::Arc::new(pools),
            url: url.to_string(),
            keys: key_cache::KeyCache::default(),
            lanes: std::sync::Arc::default(),
        }
    }

    pub fn dialect(&self) -> &'static Dialect {
        self.dialect
    }

    /// The URL the store was opened with. It may hold a password: never log it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Starts a write transaction.
    async fn begin(&self) -> StoreResult<Tx> {
        self.pools.begin().await
    }

    /// Whether the database at `url` holds mannequin's tables (a migrated
    /// database), found without creating or changing it: a SQLite file is
    /// opened read-only, and a missing file or one that is not a database
    /// holds none.
    pub async fn holds_schema(url: &str) -> StoreResult<bool> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            use rusqlite::OpenFlags;
            let path = path.split('?').next().unwrap_or(path);
            let Ok(conn) =
                rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            else {
                return Ok(false);
            };
            let exists = dialect::SQLITE.table_exists;
            return Ok(conn.query_row(exists, ["accounts"], |_| Ok(())).is_ok());
        }
        let store = Store::open(url, 1).await?;
        let found = store
            .pools
            .fetch(store.dialect.table_exists, &[db::Text("accounts")], |_| {
                Ok(())
            })
            .await?;
        Ok(!found.is_empty())
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> StoreResult<()> {
        self.pools.fetch("SELECT 1", &[], |_| Ok(())).await?;
        Ok(())
    }

    /// Closes the connections; every later call answers `Unavailable`.
    pub async fn close(&self) {
        self.pools.close().await;
    }
}

/// `$first, $first+1, …` for `n` values: an `IN (…)` list.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` copies of `template`, comma-separated, with each `?` numbered `$1`,
/// `$2`, … in order: the VALUES list of a multi-row INSERT.
fn values_rows(template: &str, rows: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        for c in template.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(
            values_rows("(?, ?, 'x')", 2),
            "($1, $2, 'x'), ($3, $4, 'x')"
        );
    }
}
