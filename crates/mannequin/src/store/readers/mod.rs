//! SQLite's reads outside a transaction, on connections of their own.
//!
//! sqlx runs each SQLite connection on a thread of its own and sends every
//! row across a channel, each value copied: for the model list that was most
//! of the request's time. Here a read runs where it is asked for, values read
//! where SQLite keeps them ([`Columns::str`] borrows them), as long as it
//! need not wait: a read in WAL mode does not wait for the writer, so it
//! almost never does. One that finds SQLite's lock taken (a checkpoint, an
//! operator's `sqlite3` shell, a backup) moves to Tokio's blocking threads
//! and waits there, so the wait never holds up another request, a health
//! check or a live stream. (Every read on a blocking thread cost the list a
//! quarter of its throughput on a 2-core machine: two thread switches a
//! request; docs/performance.md.)
//!
//! Connections are opened on demand and kept while idle. Reads that wait
//! are bounded ([`Readers::new`]), so the threads and connections they hold
//! are too.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::values::{Bind, Columns};
use super::{StoreError, StoreResult};
use reader::{Reader, Stop};

mod reader;

/// Statements kept per connection: the list's shapes and the key lookup.
const STATEMENTS: usize = 64;
/// How long a read waits for SQLite's locks (held only briefly by readers and
/// by a checkpoint in WAL mode) before the request answers 503.
const BUSY: Duration = Duration::from_secs(2);

pub(super) struct Readers {
    path: PathBuf,
    /// Idle connections; `None` once closed.
    idle: Mutex<Option<Vec<Reader>>>,
    /// Reads waiting for a lock on blocking threads: one permit each.
    waiting: Arc<Semaphore>,
}

/// A read asked of readers that were closed.
#[derive(Debug, thiserror::Error)]
#[error("the database's readers are closed")]
struct Closed;

impl Readers {
    /// Readers of the database file at `path` (which the writer created),
    /// with up to `waiting` reads waiting for a lock on blocking threads at
    /// once (the rest wait their turn without holding a thread).
    pub(super) fn new(path: PathBuf, waiting: usize) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Some(Vec::new())),
            waiting: Arc::new(Semaphore::new(waiting.max(1))),
        }
    }

    /// Closes the idle connections; reads from now on fail as unavailable.
    pub(super) fn close(&self) {
        self.lock().take();
        self.waiting.close();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Reader>>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection, waiting up to `wait` for SQLite's lock (setting it
    /// up may need it).
    fn open(&self, wait: Duration) -> Result<Reader, Stop> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(wait)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -4000)?;
        Ok(Reader::new(conn, STATEMENTS, wait))
    }

    /// Runs `sql` with `binds`, handing each row in order to `step` with
    /// the state, which starts as `init` and is returned: here, or, when
    /// SQLite's lock is taken before the first row, on a blocking thread that
    /// waits for it (up to [`BUSY`]).
    pub(super) async fn fold<S, F>(
        self: &Arc<Self>,
        sql: &str,
        binds: &[Bind<'_>],
        init: S,
        mut step: F,
    ) -> StoreResult<S>
    where
        S: Send + 'static,
        F: FnMut(&mut S, &mut dyn Columns) -> StoreResult<()> + Send + 'static,
    {
        let mut state = init;
        let mut started = false;
        let now = self.run(sql, binds, Duration::ZERO, &mut |c| {
            started = true;
            step(&mut state, c)
        });
        match now {
            Ok(()) => return Ok(state),
            Err(Stop::Locked(_)) if !started => {}
            Err(stop) => return Err(stop.error()),
        }
        let closed = || StoreError::Unavailable(Arc::new(Closed));
        let permit = Arc::clone(&self.waiting)
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        let readers = Arc::clone(self);
        let sql: Box<str> = sql.into();
        let values: Vec<Value> = binds.iter().map(|b| value(*b)).collect();
        let read = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            readers
                .run(&sql, &values, BUSY, &mut |c| step(&mut state, c))
                .map_err(Stop::error)?;
            Ok(state)
        });
        match read.await {
            Ok(done) => done,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(closed()),
        }
    }

    /// Runs `sql` on an idle connection (or a new one), here and now,
    /// waiting up to `wait` for SQLite's lock.
    fn run(
        &self,
        sql: &str,
        values: &[impl rusqlite::ToSql],
        wait: Duration,
        each: &mut dyn FnMut(&mut dyn Columns) -> StoreResult<()>,
    ) -> Result<(), Stop> {
        let idle = match self.lock().as_mut() {
            Some(idle) => idle.pop(),
            None => return Err(Stop::Failed(StoreError::Unavailable(Arc::new(Closed)))),
        };
        let mut reader = match idle {
            Some(reader) => reader,
            None => self.open(wait)?,
        };
        let read = reader.run(sql, values, wait, each);
        if let Some(idle) = self.lock().as_mut() {
            idle.push(reader);
        }
        read
    }
}

/// A bound value as SQLite's own, owned to cross to the reading thread (the
/// borrowed form is `Bind`'s `ToSql`).
fn value(b: Bind<'_>) -> Value {
    match b {
        Bind::Text(s) | Bind::OptText(Some(s)) => Value::Text(s.to_owned()),
        Bind::Int(n) | Bind::OptInt(Some(n)) => Value::Integer(n),
        Bind::OptText(None) | Bind::OptInt(None) => Value::Null,
        Bind::Bytes(b) => Value::Blob(b.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read that finds the database locked waits on a thread of its own:
    /// here the lock is released by the runtime's one thread while the read
    /// waits. Waiting in place (with no thread to move to), it would wait
    /// for itself and give up. (That the first attempt does not wait at all
    /// is not shown here: an attempt that waited and then moved would pass.)
    #[tokio::test(flavor = "current_thread")]
    async fn a_read_that_waits_for_a_lock_leaves_the_runtime_free() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2);")
            .unwrap();
        let (locked_tx, locked) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let holder = {
            let path = path.clone();
            std::thread::spawn(move || {
                let conn = Connection::open(path).unwrap();
                conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
                locked_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                conn.execute_batch("COMMIT").unwrap();
            })
        };
        locked.recv().unwrap();
        let readers = Arc::new(Readers::new(path, 2));
        let read = readers.fold("SELECT n FROM t ORDER BY n", &[], Vec::new(), |seen, c| {
            seen.push(c.int()?);
            Ok(())
        });
        let unlock = async {
            tokio::task::yield_now().await;
            release.send(()).unwrap();
        };
        let (read, ()) = tokio::join!(read, unlock);
        assert_eq!(read.unwrap(), [1, 2]);
        holder.join().unwrap();
    }

    #[tokio::test]
    async fn reads_after_closing_are_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (n INTEGER)")
            .unwrap();
        let readers = Arc::new(Readers::new(path, 2));
        let count = |r: Arc<Readers>| async move {
            r.fold("SELECT count(*) FROM t", &[], 0, |n, c| {
                *n = c.int()?;
                Ok(())
            })
            .await
        };
        assert_eq!(count(readers.clone()).await.unwrap(), 0);
        readers.close();
        assert!(matches!(
            count(readers).await,
            Err(StoreError::Unavailable(_))
        ));
    }
}
