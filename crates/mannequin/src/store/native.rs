//! The hottest reads, run through the database's own driver instead of `Any`:
//! `Any` copies every value of every row into a value of its own before the
//! caller decodes it, which cost the model list a quarter of its throughput.
//! One generic function per read serves both dialects; the SQL stays the
//! shared text of the calling module.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::StoreResult;

/// A pool of the dialect's own driver, for reads only.
pub(super) enum NativeReads {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A value bound to a native read.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

impl NativeReads {
    pub(super) async fn sqlite(url: &str, readers: u32) -> StoreResult<NativeReads> {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let options = super::dialect::SQLITE_PRAGMAS
            .iter()
            .filter_map(|p| p.strip_prefix("PRAGMA ")?.split_once(" = "))
            .fold(options, |o, (name, value)| o.pragma(name, value));
        let pool = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(std::time::Duration::from_secs(15))
            .connect_with(options)
            .await?;
        Ok(NativeReads::Sqlite(pool))
    }

    pub(super) async fn postgres(url: &str, connections: u32) -> StoreResult<NativeReads> {
        let pool = PgPoolOptions::new()
            .max_connections(connections.max(1))
            .acquire_timeout(super::dialect::PG_ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        Ok(NativeReads::Postgres(pool))
    }

    /// Runs `sql` with `binds` and maps each row with `map`, which reads the
    /// row's columns by position through [`Columns`].
    pub(super) async fn fetch<T>(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        map: impl Fn(&mut dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        match self {
            NativeReads::Sqlite(pool) => fetch(pool, sql, binds, map).await,
            NativeReads::Postgres(pool) => fetch(pool, sql, binds, map).await,
        }
    }

    pub(super) async fn close(&self) {
        match self {
            NativeReads::Sqlite(pool) => pool.close().await,
            NativeReads::Postgres(pool) => pool.close().await,
        }
    }
}

/// The columns of one row, read in order.
pub(super) trait Columns {
    fn text(&mut self) -> StoreResult<String>;
    fn opt_text(&mut self) -> StoreResult<Option<String>>;
    fn int(&mut self) -> StoreResult<i64>;
    fn opt_int(&mut self) -> StoreResult<Option<i64>>;
    fn bytes(&mut self) -> StoreResult<Vec<u8>>;
}

/// A row and the position of the next column to read.
struct Cursor<'r, R> {
    row: &'r R,
    next: usize,
}

impl<R: Row> Cursor<'_, R>
where
    usize: ColumnIndex<R>,
{
    fn get<'r, T>(&'r mut self) -> StoreResult<T>
    where
        T: Decode<'r, R::Database> + Type<R::Database>,
    {
        let i = self.next;
        self.next += 1;
        Ok(self.row.try_get(i)?)
    }
}

impl<R: Row> Columns for Cursor<'_, R>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&mut self) -> StoreResult<String> {
        self.get()
    }

    fn opt_text(&mut self) -> StoreResult<Option<String>> {
        self.get()
    }

    fn int(&mut self) -> StoreResult<i64> {
        self.get()
    }

    fn opt_int(&mut self) -> StoreResult<Option<i64>> {
        self.get()
    }

    fn bytes(&mut self) -> StoreResult<Vec<u8>> {
        self.get()
    }
}

async fn fetch<DB, T>(
    pool: &Pool<DB>,
    sql: &str,
    binds: &[Bind<'_>],
    map: impl Fn(&mut dyn Columns) -> StoreResult<T>,
) -> StoreResult<Vec<T>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
{
    let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = match *b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(n) => q.bind(n),
        };
    }
    let rows = q.fetch_all(pool).await?;
    rows.iter()
        .map(|row| map(&mut Cursor { row, next: 0 }))
        .collect()
}
