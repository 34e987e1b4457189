//! SQLite's reads outside a transaction, on connections of their own that
//! run the statement in place, on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own and sends every
//! row across a channel, each value copied with SQLite's allocator: for the
//! model list that was most of the request's time, spent handing rows between
//! threads. A read in WAL mode does not wait for the writer, so it can run
//! where it is asked for: a page of 100 models takes about as long as
//! waking another thread twice would. Values are read where SQLite keeps
//! them ([`Columns::str`] borrows them) and statements are prepared once per
//! connection and kept.
//!
//! The connections are opened on demand and kept while idle, at most one per
//! thread that reads at once (each is in use only during one call, which does
//! not wait on anything else).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::db::{Bind, Columns, Each};
use super::{StoreError, StoreResult};

/// Statements kept per connection: the list's shapes and the key lookup.
const STATEMENTS: usize = 64;
/// How long a read waits for SQLite's locks (held only briefly by readers and
/// by a checkpoint in WAL mode) before the request answers 503.
const BUSY: Duration = Duration::from_secs(2);

pub(super) struct Readers {
    path: PathBuf,
    /// Idle connections; `None` once closed.
    idle: Mutex<Option<Vec<Connection>>>,
}

/// A read asked of readers that were closed.
#[derive(Debug, thiserror::Error)]
#[error("the database's readers are closed")]
struct Closed;

impl Readers {
    /// Readers of the database file at `path` (which the writer created).
    pub(super) fn new(path: PathBuf) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Some(Vec::new())),
        }
    }

    /// Closes the idle connections; reads from now on fail as unavailable.
    pub(super) fn close(&self) {
        self.lock().take();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Connection>>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self) -> StoreResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(BUSY)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -4000)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }

    /// Runs `sql` with `binds` and hands each row to `each`, in order.
    pub(super) fn each(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        each: &mut Each<'_>,
    ) -> StoreResult<()> {
        let idle = match self.lock().as_mut() {
            Some(idle) => idle.pop(),
            None => return Err(StoreError::Unavailable(std::sync::Arc::new(Closed))),
        };
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let read = run(&conn, sql, binds, each);
        if let Some(idle) = self.lock().as_mut() {
            idle.push(conn);
        }
        read
    }
}

fn run(conn: &Connection, sql: &str, binds: &[Bind<'_>], each: &mut Each<'_>) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    // As sqlx binds: `$n` and `?n` name the value they take, a bare `?` the next.
    let mut next = 0;
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            Some(name) => name[1..]
                .parse::<usize>()
                .map_err(|_| StoreError::internal(format!("parameter {name} in {sql}")))?,
            None => {
                next += 1;
                next
            }
        };
        let value = binds
            .get(n.wrapping_sub(1))
            .ok_or_else(|| StoreError::internal(format!("no value for parameter {n}")))?;
        match *value {
            Bind::Text(v) => stmt.raw_bind_parameter(i, v)?,
            Bind::OptText(v) => stmt.raw_bind_parameter(i, v)?,
            Bind::Int(v) => stmt.raw_bind_parameter(i, v)?,
            Bind::OptInt(v) => stmt.raw_bind_parameter(i, v)?,
            Bind::Bytes(v) => stmt.raw_bind_parameter(i, v)?,
        }
    }
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        each(&mut RowColumns { row, next: 0 })?;
    }
    Ok(())
}

/// A row and the position of the next column to read.
struct RowColumns<'a, 's> {
    row: &'a rusqlite::Row<'s>,
    next: usize,
}

impl<'a> RowColumns<'a, '_> {
    fn value(&mut self) -> StoreResult<ValueRef<'a>> {
        let i = self.next;
        self.next += 1;
        Ok(self.row.get_ref(i)?)
    }
}

fn mismatch(what: &str, got: ValueRef<'_>) -> StoreError {
    StoreError::internal(format!("expected {what}, read {:?}", got.data_type()))
}

/// The text as `str`. Most of what the service stores is ASCII, which
/// [`is_ascii`] confirms in half the time of a full UTF-8 check (13 texts a
/// model listed, a long prompt among them); anything else is checked whole.
fn utf8(bytes: &[u8]) -> StoreResult<&str> {
    if is_ascii(bytes) {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| StoreError::internal(e.to_string()))
}

/// Whether no byte has its high bit set: the bytes ORed eight at a time,
/// which the compiler turns into wide loads without a branch per word.
fn is_ascii(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut high = 0u64;
    for w in &mut words {
        high |= u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
    }
    let tail = words.remainder().iter().fold(0u8, |a, &b| a | b);
    high & 0x8080_8080_8080_8080 == 0 && tail < 0x80
}

impl<'a> Columns<'a> for RowColumns<'a, '_> {
    fn text(&mut self) -> StoreResult<String> {
        self.str().map(str::to_owned)
    }

    fn opt_text(&mut self) -> StoreResult<Option<String>> {
        Ok(self.opt_str()?.map(str::to_owned))
    }

    fn str(&mut self) -> StoreResult<&'a str> {
        match self.value()? {
            ValueRef::Text(t) => utf8(t),
            other => Err(mismatch("text", other)),
        }
    }

    fn opt_str(&mut self) -> StoreResult<Option<&'a str>> {
        match self.value()? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => utf8(t).map(Some),
            other => Err(mismatch("text or null", other)),
        }
    }

    fn int(&mut self) -> StoreResult<i64> {
        match self.value()? {
            ValueRef::Integer(i) => Ok(i),
            other => Err(mismatch("an integer", other)),
        }
    }

    fn opt_int(&mut self) -> StoreResult<Option<i64>> {
        match self.value()? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            other => Err(mismatch("an integer or null", other)),
        }
    }

    fn bytes(&mut self) -> StoreResult<Vec<u8>> {
        match self.value()? {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(mismatch("a blob", other)),
        }
    }

    fn opt_bytes(&mut self) -> StoreResult<Option<Vec<u8>>> {
        match self.value()? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => Ok(Some(b.to_vec())),
            other => Err(mismatch("a blob or null", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_high_byte_anywhere_is_found() {
        for len in 0..40 {
            let clean = vec![b'a'; len];
            assert!(is_ascii(&clean), "{len}");
            for at in 0..len {
                let mut bytes = clean.clone();
                bytes[at] = 0x80;
                assert!(!is_ascii(&bytes), "{len} {at}");
            }
        }
    }

    proptest! {
        #[test]
        fn text_reads_as_std_reads_it(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(is_ascii(&bytes), bytes.is_ascii());
            prop_assert_eq!(utf8(&bytes).ok(), std::str::from_utf8(&bytes).ok());
        }
    }
}
