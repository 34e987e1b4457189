//! The database: everything the service keeps, behind one type, [`Store`].
//!
//! One SQL text serves SQLite (the embedded default) and PostgreSQL (many
//! processes sharing one database), run through sqlx's `Any` driver; what
//! differs between the two is stated once, in a [`Dialect`]. Every method that
//! moves credits does so in one transaction with the status change that causes
//! it, and a model row's status is the guard that makes settling idempotent: a
//! transition that finds the row already terminal changes nothing.
//!
//! The methods live by concern: `accounts` (accounts, keys, credits),
//! `register`, `listing`, `jobs` (claims, leases, retries), `outbox`,
//! `settle`, `housekeeping`, [`audit`] and `migrate`.

mod accounts;
pub mod audit;
mod dialect;
mod error;
mod housekeeping;
mod jobs;
mod ledger;
mod listing;
mod migrate;
mod native;
mod outbox;
mod records;
mod register;
mod settle;

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use dialect::Dialect;
pub use error::{StoreError, StoreResult};
pub use jobs::CRASH_ALLOWANCE;
pub use outbox::Unpublished;
pub use records::*;

/// A write (or snapshot) transaction.
type Tx = Transaction<'static, Any>;

/// The database, on either dialect.
pub struct Store {
    /// Write transactions. One connection on SQLite, so writers queue in the
    /// process instead of spinning on the file lock.
    write: AnyPool,
    /// Reads. In SQLite's WAL mode they run alongside the writer.
    read: AnyPool,
    /// The hottest reads (the model list, key lookups), through the
    /// dialect's own driver.
    native: native::NativeReads,
    dialect: &'static Dialect,
    /// The URL it was opened with; it may hold a password.
    url: String,
}

/// Installs the `Any` driver's SQLite and PostgreSQL backends, once per process.
pub fn install_drivers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Only this function installs drivers, once.
        let _ =
            sqlx::any::install_drivers(&[sqlx::sqlite::any::DRIVER, sqlx::postgres::any::DRIVER]);
    });
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
    ///
    /// Writes go through a pool of one connection and every write transaction is
    /// `BEGIN IMMEDIATE`, so a read-then-write transaction can never fail to
    /// upgrade its lock. Reads use a separate pool of `readers` connections.
    pub async fn open_sqlite(url: &str, readers: u32) -> StoreResult<Store> {
        install_drivers();
        let url = if url.contains("mode=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = |n: u32| {
            AnyPoolOptions::new()
                .max_connections(n)
                .acquire_timeout(Duration::from_secs(15))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        for pragma in dialect::SQLITE_PRAGMAS {
                            conn.execute(*pragma).await?;
                        }
                        Ok(())
                    })
                })
        };
        let write = pool(1).connect_with(options.clone()).await?;
        let read = pool(2).connect_with(options).await?;
        let native = native::NativeReads::sqlite(&url, readers).await?;
        Ok(Store {
            write,
            read,
            native,
            dialect: &dialect::SQLITE,
            url,
        })
    }

    /// PostgreSQL, for many API and worker processes sharing one database, with
    /// up to `connections` connections: half for the hottest reads, half for
    /// the rest.
    ///
    /// A request waits at most [`dialect::PG_ACQUIRE_TIMEOUT`] for a connection,
    /// so a database that cannot be reached answers 503 quickly instead of
    /// holding the client.
    pub async fn open_postgres(url: &str, connections: u32) -> StoreResult<Store> {
        install_drivers();
        let options = AnyConnectOptions::from_str(url)?;
        let connections = connections.max(2);
        let native = native::NativeReads::postgres(url, connections / 2).await?;
        let pool = AnyPoolOptions::new()
            .max_connections(connections - connections / 2)
            .acquire_timeout(dialect::PG_ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Store {
            write: pool.clone(),
            read: pool,
            native,
            dialect: &dialect::POSTGRES,
            url: url.to_string(),
        })
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
        Ok(self.write.begin_with(self.dialect.begin_write).await?)
    }

    /// Starts a read-only transaction that sees one consistent snapshot.
    async fn snapshot(&self) -> StoreResult<Tx> {
        Ok(self.read.begin_with(self.dialect.begin_snapshot).await?)
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Closes the connections; every later call answers `Unavailable`.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        self.native.close().await;
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
