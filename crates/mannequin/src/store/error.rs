//! The store's one error type, classified once where sqlx errors convert.

use std::sync::Arc;

/// What caused a store failure, kept as the error's source.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// A store failure. Neither kind's details reach a client: the HTTP layer
/// answers 503 or 500 and logs the cause under the request's correlation id.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached, is starting or stopping, is out of
    /// connections, or gave up on a transaction because of another one: a retry
    /// may succeed (503 with `Retry-After`).
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// A bug, corrupt data or a refused statement (500).
    #[error("database error")]
    Internal(#[source] Cause),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A failure the store itself detected, such as a row it cannot read back.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Corrupt(String);

impl StoreError {
    pub fn internal(what: impl Into<String>) -> StoreError {
        StoreError::Internal(Arc::new(Corrupt(what.into())))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_transient(&e) {
            StoreError::Unavailable(Arc::new(e))
        } else {
            StoreError::Internal(Arc::new(e))
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DatabaseLocked, SystemIoFailure};
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked | CannotOpen | SystemIoFailure) => {
                StoreError::Unavailable(Arc::new(e))
            }
            _ => StoreError::Internal(Arc::new(e)),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Internal(Arc::new(e))
    }
}

/// Whether `e` says the database is out of reach for now rather than that a
/// statement is wrong. Both dialects' codes are checked: they never overlap
/// (SQLite's are numbers, PostgreSQL's five-character SQLSTATEs).
fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| {
            (super::dialect::SQLITE.transient)(&code) || (super::dialect::POSTGRES.transient)(&code)
        }),
        _ => false,
    }
}
