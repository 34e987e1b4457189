//! A reader's connection with its prepared statements, run through SQLite's
//! C interface.
//!
//! rusqlite reads a column with four calls into SQLite (the column count, the
//! type, the text, its length) and hands the value back through a few layers
//! of `Result`: for the model list, thirteen columns a row, that was a fifth
//! of a page's time. Here a column is its type and its value (and the text's
//! length), the bind positions are worked out once when the statement is
//! prepared, and values are bound without copies. rusqlite still opens the
//! connection and sets it up; this module only prepares, binds and steps.
//!
//! Safety rests on three rules, each kept by the types below:
//! - a statement is used only with the connection it was prepared on, and is
//!   finalized before that connection closes ([`Reader`]'s field order);
//! - bound values are borrowed for one run and unbound before it returns,
//!   panics included ([`Running`]'s drop resets the statement and clears them);
//! - a row's text is handed out for the one call that reads the row
//!   (`row.rs`; the `Each` callback takes its columns for any lifetime, so
//!   none outlives the call).

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int};
use std::ptr::NonNull;

use rusqlite::Connection;
use rusqlite::ffi;

use super::super::db::{Bind, Each};
use super::super::{StoreError, StoreResult};
use super::row::Row;

/// A connection and the statements prepared on it, by their text.
pub(super) struct Reader {
    // Declared first, so dropped (finalized) before the connection closes.
    statements: HashMap<Box<str>, Prepared>,
    capacity: usize,
    conn: Connection,
}

/// A prepared statement: which of the caller's values each parameter takes,
/// and how many columns a row has.
struct Prepared {
    stmt: NonNull<ffi::sqlite3_stmt>,
    /// For parameter `i + 1`, the index of its value among the binds.
    takes: Box<[usize]>,
    columns: usize,
}

// SAFETY: the connection is opened without SQLite's mutex (multi-thread
// mode), where a connection and its statements may move between threads as
// long as one thread uses them at a time; a `Reader` is owned, and used only
// through `&mut`.
unsafe impl Send for Prepared {}

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared by `sqlite3_prepare_v3`, is not
        // running (see `Running`) and is finalized once.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

impl Reader {
    /// `conn`, keeping up to `capacity` prepared statements (all are
    /// finalized when one more is needed: a reader's statements are the few
    /// shapes of the list and the key lookup, so that is rare).
    pub(super) fn new(conn: Connection, capacity: usize) -> Reader {
        Reader {
            statements: HashMap::new(),
            capacity,
            conn,
        }
    }

    fn db(&self) -> *mut ffi::sqlite3 {
        // SAFETY: the handle is used only while `self.conn` is open, and not
        // closed through it.
        unsafe { self.conn.handle() }
    }

    /// Runs `sql` with `binds` (`$n` takes the n-th value, a bare `?` the
    /// next) and hands each row to `each`, in order.
    pub(super) fn run(
        &mut self,
        sql: &str,
        binds: &[Bind<'_>],
        each: &mut Each<'_>,
    ) -> StoreResult<()> {
        let db = self.db();
        if !self.statements.contains_key(sql) {
            let prepared = prepare(db, sql)?;
            if self.statements.len() >= self.capacity {
                self.statements.clear();
            }
            self.statements.insert(sql.into(), prepared);
        }
        let prepared = &self.statements[sql];
        let running = Running(prepared.stmt);
        for (i, &n) in prepared.takes.iter().enumerate() {
            let value = binds
                .get(n)
                .ok_or_else(|| StoreError::internal(format!("no value for parameter {}", n + 1)))?;
            // SAFETY: the statement is idle (reset) and ours; `i + 1` is a
            // parameter it has; the values outlive `running`, which unbinds
            // them.
            let rc = unsafe { bind(running.0.as_ptr(), i as c_int + 1, *value) };
            check(db, rc)?;
        }
        loop {
            // SAFETY: as above; the connection is open.
            match unsafe { ffi::sqlite3_step(running.0.as_ptr()) } {
                ffi::SQLITE_ROW => each(&mut Row::new(running.0, prepared.columns))?,
                ffi::SQLITE_DONE => return Ok(()),
                rc => return Err(failure(db, rc)),
            }
        }
    }
}

/// A statement in use: reset, with its values unbound, when dropped.
struct Running(NonNull<ffi::sqlite3_stmt>);

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: the statement is alive (its `Prepared` outlives this).
        unsafe {
            ffi::sqlite3_reset(self.0.as_ptr());
            ffi::sqlite3_clear_bindings(self.0.as_ptr());
        }
    }
}

/// Prepares one statement and works out which value each parameter takes.
fn prepare(db: *mut ffi::sqlite3, sql: &str) -> StoreResult<Prepared> {
    let len = c_int::try_from(sql.len()).map_err(|_| StoreError::internal("statement too long"))?;
    let mut stmt = std::ptr::null_mut();
    let mut tail: *const c_char = std::ptr::null();
    // SAFETY: `sql` is valid for `len` bytes (no terminator needed with a
    // length); `stmt` and `tail` are written by SQLite.
    let rc = unsafe {
        ffi::sqlite3_prepare_v3(
            db,
            sql.as_ptr().cast(),
            len,
            ffi::SQLITE_PREPARE_PERSISTENT as _,
            &mut stmt,
            &mut tail,
        )
    };
    check(db, rc)?;
    let Some(stmt) = NonNull::new(stmt) else {
        return Err(StoreError::internal(format!("no statement in {sql:?}")));
    };
    // From here on, `prepared` finalizes the statement if this fails.
    let mut prepared = Prepared {
        stmt,
        takes: Box::new([]),
        columns: 0,
    };
    // SAFETY: `tail` points into `sql`, at or after its start.
    let used = unsafe { tail.cast::<u8>().offset_from(sql.as_ptr()) } as usize;
    if !sql[used.min(sql.len())..].trim().is_empty() {
        return Err(StoreError::internal(format!(
            "more than one statement in {sql:?}"
        )));
    }
    // SAFETY: the statement is alive.
    let (params, columns) = unsafe {
        (
            ffi::sqlite3_bind_parameter_count(stmt.as_ptr()),
            ffi::sqlite3_column_count(stmt.as_ptr()),
        )
    };
    let mut next = 0;
    let mut takes = Vec::with_capacity(params as usize);
    for i in 1..=params {
        // SAFETY: as above; the name, if any, is SQLite's, valid while the
        // statement is, and read at once.
        let name = unsafe { ffi::sqlite3_bind_parameter_name(stmt.as_ptr(), i) };
        // As sqlx binds: `$n` and `?n` name the value they take, a bare `?` the next.
        let n = if name.is_null() {
            next += 1;
            next
        } else {
            let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
            name[1..]
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| StoreError::internal(format!("parameter {name} in {sql:?}")))?
        };
        takes.push(n - 1);
    }
    prepared.takes = takes.into();
    prepared.columns = columns as usize;
    Ok(prepared)
}

/// Binds one value to parameter `i`, without copying it.
///
/// # Safety
/// `stmt` is alive and not running, and the value outlives its binding.
unsafe fn bind(stmt: *mut ffi::sqlite3_stmt, i: c_int, value: Bind<'_>) -> c_int {
    // A zero-length value's pointer must not be null (that binds NULL).
    const EMPTY: &[u8] = b"\0";
    let text = |s: &str| {
        let p = if s.is_empty() {
            EMPTY.as_ptr()
        } else {
            s.as_ptr()
        };
        // SAFETY: the caller's promise; `SQLITE_STATIC` says SQLite does not copy.
        unsafe {
            ffi::sqlite3_bind_text64(
                stmt,
                i,
                p.cast(),
                s.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as _,
            )
        }
    };
    // SAFETY: as above.
    unsafe {
        match value {
            Bind::Text(s) | Bind::OptText(Some(s)) => text(s),
            Bind::Int(n) | Bind::OptInt(Some(n)) => ffi::sqlite3_bind_int64(stmt, i, n),
            Bind::OptText(None) | Bind::OptInt(None) => ffi::sqlite3_bind_null(stmt, i),
            Bind::Bytes([]) => ffi::sqlite3_bind_zeroblob(stmt, i, 0),
            Bind::Bytes(b) => ffi::sqlite3_bind_blob64(
                stmt,
                i,
                b.as_ptr().cast(),
                b.len() as u64,
                ffi::SQLITE_STATIC(),
            ),
        }
    }
}

fn check(db: *mut ffi::sqlite3, rc: c_int) -> StoreResult<()> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(failure(db, rc))
    }
}

/// SQLite's error for `rc`, with the connection's message when it is about
/// `rc`, as rusqlite reports it (so busy and locked still read as unavailable).
#[cold]
fn failure(db: *mut ffi::sqlite3, rc: c_int) -> StoreError {
    // SAFETY: `db` is an open connection; the message is copied at once.
    let message = unsafe {
        if ffi::sqlite3_errcode(db) == rc {
            Some(
                CStr::from_ptr(ffi::sqlite3_errmsg(db))
                    .to_string_lossy()
                    .into_owned(),
            )
        } else {
            None
        }
    };
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), message).into()
}

#[cfg(test)]
mod tests {
    use super::super::super::db::Columns;
    use super::*;
    use std::error::Error as _;

    /// A reader of a fresh database holding `t`, one row of every kind.
    fn reader(dir: &tempfile::TempDir, capacity: usize) -> Reader {
        let path = dir.path().join("t.db");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch(
                "CREATE TABLE t (n INTEGER, s TEXT, b BLOB, r REAL);
                 INSERT INTO t VALUES (1, 'one', x'0102', 1.5), (2, '', x'', NULL),
                                      (3, 'drei ß', NULL, NULL), (4, NULL, NULL, NULL);
                 INSERT INTO t (n, s) VALUES (5, CAST(x'ff00' AS TEXT));",
            )
            .unwrap();
        Reader::new(Connection::open(&path).unwrap(), capacity)
    }

    /// The rows of `sql` read by `map`.
    fn read<T: Send>(
        r: &mut Reader,
        sql: &str,
        binds: &[Bind<'_>],
        map: impl Fn(&mut dyn Columns) -> StoreResult<T> + Send + Sync,
    ) -> StoreResult<Vec<T>> {
        let mut rows = Vec::new();
        r.run(sql, binds, &mut |c| {
            rows.push(map(c)?);
            Ok(())
        })?;
        Ok(rows)
    }

    fn message(e: StoreError) -> String {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(&format!(": {s}"));
            source = s.source();
        }
        text
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
        let rows = read(
            &mut r,
            "SELECT n, s, b FROM t WHERE n < 5 ORDER BY n",
            &[],
            |c| Ok((c.int()?, c.opt_text()?, c.opt_bytes()?)),
        )
        .unwrap();
        assert_eq!(
            rows,
            [
                (1, Some("one".into()), Some(vec![1, 2])),
                (2, Some(String::new()), Some(vec![])),
                (3, Some("drei ß".into()), None),
                (4, None, None),
            ]
        );
    }

    #[test]
    fn values_bind_by_number_and_in_turn_without_being_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
        // `$2` twice and before `$1`; every kind of value.
        let sql = "SELECT $2 || $2, $1 + 1, length($3), $4 IS NULL, $5 IS NULL, $6";
        let blob = vec![7u8; 3];
        let row = |c: &mut dyn Columns| {
            Ok((
                c.text()?,
                c.int()?,
                c.int()?,
                c.int()?,
                c.int()?,
                c.opt_bytes()?,
            ))
        };
        let binds = [
            Bind::Int(41),
            Bind::Text("ab"),
            Bind::Bytes(&blob),
            Bind::OptText(None),
            Bind::OptInt(Some(3)),
            Bind::Bytes(&[]),
        ];
        let got = read(&mut r, sql, &binds, row).unwrap();
        assert_eq!(got, [("abab".into(), 42, 3, 1, 0, Some(vec![]))]);
        // The same statement again, other values: nothing of the first run stays.
        let binds = [
            Bind::Int(-1),
            Bind::Text(""),
            Bind::Bytes(&[]),
            Bind::OptText(Some("x")),
            Bind::OptInt(None),
            Bind::Bytes(&blob),
        ];
        let got = read(&mut r, sql, &binds, row).unwrap();
        assert_eq!(got, [(String::new(), 0, 0, 0, 1, Some(blob.clone()))]);
        // Bare `?` take the values in turn.
        let got = read(
            &mut r,
            "SELECT ? - ?",
            &[Bind::Int(10), Bind::Int(3)],
            |c| c.int(),
        )
        .unwrap();
        assert_eq!(got, [7]);
    }

    #[test]
    fn a_value_of_another_kind_or_a_column_too_many_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
        let one = "SELECT n, s, b, r FROM t WHERE n = 1";
        let err = |map: fn(&mut dyn Columns) -> StoreResult<()>, r: &mut Reader| {
            message(read(r, one, &[], map).unwrap_err())
        };
        assert!(err(|c| c.str().map(drop), &mut r).contains("expected text, read an integer"));
        assert!(err(|c| c.int().and(c.int()).map(drop), &mut r).contains("read text"));
        assert!(
            err(
                |c| {
                    c.int()?;
                    c.text()?;
                    c.opt_int().map(drop)
                },
                &mut r
            )
            .contains("expected an integer or null, read a blob")
        );
        assert!(
            err(
                |c| {
                    c.int()?;
                    c.text()?;
                    c.bytes()?;
                    c.opt_text().map(drop)
                },
                &mut r
            )
            .contains("read a real number")
        );
        let past = |c: &mut dyn Columns| {
            for _ in 0..4 {
                c.opt_bytes().ok();
            }
            c.opt_int().map(drop)
        };
        assert!(
            message(read(&mut r, one, &[], past).unwrap_err()).contains("column 5 of a row of 4")
        );
        // Text that is not UTF-8 is refused, not handed out.
        let bad = read(&mut r, "SELECT s FROM t WHERE n = 5", &[], |c| c.text());
        assert!(matches!(bad, Err(StoreError::Internal(_))));
    }

    #[test]
    fn a_statement_stopped_midway_runs_again_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
        let sql = "SELECT n FROM t WHERE n >= $1 ORDER BY n";
        let mut seen = Vec::new();
        let stopped = r.run(sql, &[Bind::Int(1)], &mut |c| {
            seen.push(c.int()?);
            Err(StoreError::internal("enough"))
        });
        assert!(stopped.is_err());
        assert_eq!(seen, [1]);
        assert_eq!(
            read(&mut r, sql, &[Bind::Int(3)], |c| c.int()).unwrap(),
            [3, 4, 5]
        );
    }

    #[test]
    fn statements_past_the_capacity_are_prepared_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 2);
        for round in 0..3 {
            for k in 0..5 {
                let sql = format!("SELECT n + {k} FROM t WHERE n = $1");
                let got = read(&mut r, &sql, &[Bind::Int(2)], |c| c.int()).unwrap();
                assert_eq!(got, [2 + k], "round {round}");
                assert!(r.statements.len() <= 2);
            }
        }
    }

    #[test]
    fn bad_statements_and_missing_values_are_errors_and_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
        let none = |c: &mut dyn Columns| c.int();
        let bad = read(&mut r, "SELECT n FROM nowhere", &[], none).unwrap_err();
        assert!(message(bad).contains("no such table: nowhere"));
        let two = read(&mut r, "SELECT 1; SELECT 2", &[], none).unwrap_err();
        assert!(message(two).contains("more than one statement"));
        let empty = read(&mut r, "  -- nothing", &[], none).unwrap_err();
        assert!(message(empty).contains("no statement"));
        let zero = read(&mut r, "SELECT ?0", &[Bind::Int(1)], none).unwrap_err();
        assert!(message(zero).contains("variable number must be between ?1"));
        let named = read(&mut r, "SELECT :name", &[Bind::Int(1)], none).unwrap_err();
        assert!(message(named).contains("parameter :name"));
        let missing = read(&mut r, "SELECT $2", &[Bind::Int(1)], none).unwrap_err();
        assert!(message(missing).contains("no value for parameter 2"));
        assert_eq!(
            r.statements.len(),
            1,
            "only the statement that prepared is kept"
        );
        // Trailing blanks and a semicolon are one statement.
        assert_eq!(read(&mut r, "SELECT 9;  \n", &[], none).unwrap(), [9]);
    }

    #[test]
    fn a_locked_database_reads_as_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
        r.conn
            .busy_timeout(std::time::Duration::from_millis(1))
            .unwrap();
        let holder = Connection::open(dir.path().join("t.db")).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let locked = read(&mut r, "SELECT n FROM t", &[], |c| c.int());
        assert!(
            matches!(locked, Err(StoreError::Unavailable(_))),
            "{locked:?}"
        );
        holder.execute_batch("COMMIT").unwrap();
        assert_eq!(
            read(&mut r, "SELECT count(*) FROM t", &[], |c| c.int()).unwrap(),
            [5]
        );
    }
}
