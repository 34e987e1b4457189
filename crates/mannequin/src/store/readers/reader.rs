//! A reader's connection: statements prepared once and kept (rusqlite's
//! cache), `$n` placeholders bound by number as sqlx binds them, and each
//! row read column after column where SQLite keeps it.

use std::time::Duration;

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, Statement};

use super::super::values::{Bind, Columns};
use super::super::{StoreError, StoreResult};

/// A connection with its prepared statements.
pub(super) struct Reader {
    conn: Connection,
    /// How long it waits for a lock now.
    waits: Duration,
}

/// Why a read stopped.
pub(super) enum Stop {
    /// SQLite's lock was taken and the read did not wait for it.
    Locked(StoreError),
    Failed(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Failed(e)
    }
}

impl From<rusqlite::Error> for Stop {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
        let locked = matches!(e.sqlite_error_code(), Some(DatabaseBusy | DatabaseLocked));
        if locked {
            Stop::Locked(e.into())
        } else {
            Stop::Failed(e.into())
        }
    }
}

impl Stop {
    pub(super) fn error(self) -> StoreError {
        match self {
            Stop::Locked(e) | Stop::Failed(e) => e,
        }
    }
}

impl Reader {
    /// `conn`, which waits up to `waits` for SQLite's lock, keeping up to
    /// `capacity` prepared statements (the least recently used goes when
    /// one more is needed).
    pub(super) fn new(conn: Connection, capacity: usize, waits: Duration) -> Reader {
        conn.set_prepared_statement_cache_capacity(capacity);
        Reader { conn, waits }
    }

    /// Runs `sql` with `values` (`$n` takes the n-th value, a bare `?` the
    /// next) and hands each row to `each`, in order, waiting up to `wait`
    /// for a lock.
    pub(super) fn run(
        &mut self,
        sql: &str,
        values: &[impl ToSql],
        wait: Duration,
        each: &mut dyn FnMut(&mut dyn Columns) -> StoreResult<()>,
    ) -> Result<(), Stop> {
        if self.waits != wait {
            self.conn.busy_timeout(wait)?;
            self.waits = wait;
        }
        let mut stmt = self.conn.prepare_cached(sql)?;
        bind(&mut stmt, sql, values)?;
        let columns = stmt.column_count();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            each(&mut Row {
                row,
                columns,
                next: 0,
            })?;
        }
        Ok(())
    }
}

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Bind::Text(s) | Bind::OptText(Some(s)) => ValueRef::Text(s.as_bytes()),
            Bind::Int(n) | Bind::OptInt(Some(n)) => ValueRef::Integer(n),
            Bind::OptText(None) | Bind::OptInt(None) => ValueRef::Null,
            Bind::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

/// Binds each parameter of `stmt` to the value it names.
fn bind(stmt: &mut Statement<'_>, sql: &str, values: &[impl ToSql]) -> StoreResult<()> {
    let mut next = 0;
    for i in 1..=stmt.parameter_count() {
        // As sqlx binds: `$n` and `?n` name the value they take, a bare `?` the next.
        let n = match stmt.parameter_name(i) {
            None => {
                next += 1;
                next
            }
            Some(name) => name[1..]
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| StoreError::internal(format!("parameter {name} in {sql:?}")))?,
        };
        let value = values
            .get(n - 1)
            .ok_or_else(|| StoreError::internal(format!("no value for parameter {n}")))?;
        stmt.raw_bind_parameter(i, value)?;
    }
    Ok(())
}

/// The row a statement stands on, and the position of the next column to read.
struct Row<'r> {
    row: &'r rusqlite::Row<'r>,
    columns: usize,
    next: usize,
}

impl<'r> Row<'r> {
    /// The next column's value, borrowed from the row.
    fn column(&mut self) -> StoreResult<ValueRef<'r>> {
        let i = self.next;
        if i >= self.columns {
            return Err(StoreError::internal(format!(
                "read column {} of a row of {}",
                i + 1,
                self.columns
            )));
        }
        self.next += 1;
        Ok(self.row.get_ref(i)?)
    }
}

fn mismatch(what: &str, got: ValueRef<'_>) -> StoreError {
    let got = match got {
        ValueRef::Null => "null",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
        ValueRef::Real(_) => "a real number",
    };
    StoreError::internal(format!("expected {what}, read {got}"))
}

/// The text as `str`. Most of what the service stores is ASCII, which std's
/// `is_ascii` confirms in about half the time of a full UTF-8 check (13
/// texts a model listed, a long prompt among them); anything else is
/// checked whole.
fn utf8(bytes: &[u8]) -> StoreResult<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8. One of the service's two `unsafe` blocks:
        // checking listed text with `str::from_utf8` alone costs the model
        // list 5% more instructions (docs/performance.md, 2026-12-07).
        #[allow(unsafe_code)]
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| StoreError::internal(e.to_string()))
}

impl<'r> Columns<'r> for Row<'r> {
    fn text(&mut self) -> StoreResult<String> {
        self.str().map(str::to_owned)
    }

    fn opt_text(&mut self) -> StoreResult<Option<String>> {
        Ok(self.opt_str()?.map(str::to_owned))
    }

    fn str(&mut self) -> StoreResult<&'r str> {
        match self.column()? {
            ValueRef::Text(t) => utf8(t),
            other => Err(mismatch("text", other)),
        }
    }

    fn opt_str(&mut self) -> StoreResult<Option<&'r str>> {
        match self.column()? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => utf8(t).map(Some),
            other => Err(mismatch("text or null", other)),
        }
    }

    fn int(&mut self) -> StoreResult<i64> {
        match self.column()? {
            ValueRef::Integer(n) => Ok(n),
            other => Err(mismatch("an integer", other)),
        }
    }

    fn opt_int(&mut self) -> StoreResult<Option<i64>> {
        match self.column()? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            other => Err(mismatch("an integer or null", other)),
        }
    }

    fn bytes(&mut self) -> StoreResult<Vec<u8>> {
        match self.column()? {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(mismatch("a blob", other)),
        }
    }

    fn opt_bytes(&mut self) -> StoreResult<Option<Vec<u8>>> {
        match self.column()? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => Ok(Some(b.to_vec())),
            other => Err(mismatch("a blob or null", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;
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
        let conn = Connection::open(&path).unwrap();
        conn.busy_timeout(Duration::ZERO).unwrap();
        Reader::new(conn, capacity, Duration::ZERO)
    }

    /// The rows of `sql` read by `map`.
    fn read<T>(
        r: &mut Reader,
        sql: &str,
        values: &[Value],
        map: impl Fn(&mut dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut rows = Vec::new();
        r.run(sql, values, Duration::ZERO, &mut |c| {
            rows.push(map(c)?);
            Ok(())
        })
        .map_err(Stop::error)?;
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
    fn values_bind_by_number_and_in_turn() {
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
        let values = [
            Value::Integer(41),
            Value::Text("ab".into()),
            Value::Blob(blob.clone()),
            Value::Null,
            Value::Integer(3),
            Value::Blob(vec![]),
        ];
        let got = read(&mut r, sql, &values, row).unwrap();
        assert_eq!(got, [("abab".into(), 42, 3, 1, 0, Some(vec![]))]);
        // The same statement again, other values: nothing of the first run stays.
        let values = [
            Value::Integer(-1),
            Value::Text(String::new()),
            Value::Blob(vec![]),
            Value::Text("x".into()),
            Value::Null,
            Value::Blob(blob.clone()),
        ];
        let got = read(&mut r, sql, &values, row).unwrap();
        assert_eq!(got, [(String::new(), 0, 0, 0, 1, Some(blob.clone()))]);
        // Bare `?` take the values in turn.
        let got = read(
            &mut r,
            "SELECT ? - ?",
            &[Value::Integer(10), Value::Integer(3)],
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
        let stopped = r.run(sql, &[Value::Integer(1)], Duration::ZERO, &mut |c| {
            seen.push(c.int()?);
            Err(StoreError::internal("enough"))
        });
        assert!(stopped.is_err());
        assert_eq!(seen, [1]);
        assert_eq!(
            read(&mut r, sql, &[Value::Integer(3)], |c| c.int()).unwrap(),
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
                let got = read(&mut r, &sql, &[Value::Integer(2)], |c| c.int()).unwrap();
                assert_eq!(got, [2 + k], "round {round}");
            }
        }
    }

    #[test]
    fn bad_statements_and_missing_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
        let none = |c: &mut dyn Columns| c.int();
        let bad = read(&mut r, "SELECT n FROM nowhere", &[], none).unwrap_err();
        assert!(message(bad).contains("no such table: nowhere"));
        let two = read(&mut r, "SELECT 1; SELECT 2", &[], none).unwrap_err();
        let two = message(two);
        assert!(two.contains("Multiple statements"), "{two}");
        let zero = read(&mut r, "SELECT ?0", &[Value::Integer(1)], none).unwrap_err();
        assert!(message(zero).contains("variable number must be between ?1"));
        let named = read(&mut r, "SELECT :name", &[Value::Integer(1)], none).unwrap_err();
        assert!(message(named).contains("parameter :name"));
        let missing = read(&mut r, "SELECT $2", &[Value::Integer(1)], none).unwrap_err();
        assert!(message(missing).contains("no value for parameter 2"));
        // Trailing blanks and a semicolon are one statement.
        assert_eq!(read(&mut r, "SELECT 9;  \n", &[], none).unwrap(), [9]);
    }

    #[test]
    fn a_locked_database_reads_as_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = reader(&dir, 8);
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
