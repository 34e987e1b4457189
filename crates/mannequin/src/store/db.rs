//! The one driver the store speaks: SQLite or PostgreSQL through sqlx's own
//! drivers, behind [`Pools`] and [`Tx`], which take the shared SQL text with
//! its values as [`Bind`]s and hand each row to the caller as [`Columns`] read
//! in order. Each operation is one generic function instantiated for both
//! databases, so the two cannot drift; the enums only pick the instance.
//! (sqlx's `Any` driver does the same with a copy of every value of every row,
//! which cost the model list a quarter of its throughput.) SQLite's reads
//! outside transactions go to [`Readers`] instead, which run them in place
//! unless they must wait for a lock.

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migrate, Migration, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{
    AssertSqlSafe, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Postgres, Row,
    Sqlite, Transaction, Type,
};

use super::dialect::{self, Dialect};
use super::readers::Readers;
use super::{StoreError, StoreResult};

pub(super) use super::values::{Bind, Bytes, Columns, Int, OptInt, OptText, Text};

/// The connections of one store.
pub(super) enum Pools {
    /// One writer (writers queue in the process instead of spinning on the
    /// file lock) and readers that run alongside it in WAL mode: `read` for
    /// snapshots, `fast` for single statements (none for a database in
    /// memory, which other connections cannot open).
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        fast: Option<Arc<Readers>>,
    },
    Postgres(PgPool),
}

/// An open transaction.
pub(super) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Pools {
    pub(super) async fn sqlite(url: &str, readers: u32) -> StoreResult<Pools> {
        let options: SqliteConnectOptions = url.parse()?;
        let options = dialect::SQLITE_PRAGMAS
            .iter()
            .fold(options.create_if_missing(true), |o, (name, value)| {
                o.pragma(*name, *value)
            });
        let pool = |n: u32| {
            SqlitePoolOptions::new()
                .max_connections(n)
                .acquire_timeout(Duration::from_secs(15))
        };
        // Processes opening a new file at once race to switch it to WAL, and
        // SQLite answers the loser "locked" without waiting: try again.
        let mut tries = 0;
        loop {
            let opened = async {
                Ok::<_, sqlx::Error>((
                    pool(1).connect_with(options.clone()).await?,
                    pool(readers.max(1)).connect_with(options.clone()).await?,
                ))
            }
            .await;
            match opened {
                Err(sqlx::Error::Database(e))
                    if tries < 50 && e.code().is_some_and(|c| (dialect::SQLITE.transient)(&c)) =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => {
                    let (write, read) = other?;
                    let path = options.get_filename();
                    // Reads waiting for a lock on blocking threads at once (each
                    // holds a thread and a connection); the rest queue for a turn.
                    let waiting = std::thread::available_parallelism()
                        .map_or(4, |n| n.get() * 2)
                        .max(4);
                    let fast = (path.as_os_str() != ":memory:" && !path.as_os_str().is_empty())
                        .then(|| Arc::new(Readers::new(path.to_path_buf(), waiting)));
                    return Ok(Pools::Sqlite { write, read, fast });
                }
            }
        }
    }

    pub(super) async fn postgres(url: &str, connections: u32) -> StoreResult<Pools> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(connections.max(2))
            .acquire_timeout(dialect::PG_ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Pools::Postgres(pool))
    }

    pub(super) fn dialect(&self) -> &'static Dialect {
        match self {
            Pools::Sqlite { .. } => &dialect::SQLITE,
            Pools::Postgres(_) => &dialect::POSTGRES,
        }
    }

    /// Starts a write transaction.
    pub(super) async fn begin(&self) -> StoreResult<Tx> {
        let begin = self.dialect().begin_write;
        Ok(match self {
            Pools::Sqlite { write, .. } => Tx::Sqlite(write.begin_with(begin).await?),
            Pools::Postgres(pool) => Tx::Postgres(pool.begin_with(begin).await?),
        })
    }

    /// Starts a read-only transaction that sees one consistent snapshot.
    pub(super) async fn snapshot(&self) -> StoreResult<Tx> {
        let begin = self.dialect().begin_snapshot;
        Ok(match self {
            Pools::Sqlite { read, .. } => Tx::Sqlite(read.begin_with(begin).await?),
            Pools::Postgres(pool) => Tx::Postgres(pool.begin_with(begin).await?),
        })
    }

    /// Reads rows outside a transaction, from the readers.
    pub(super) async fn fetch<T>(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        map: impl Fn(&mut dyn Columns) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<Vec<T>>
    where
        T: Send + 'static,
    {
        self.fold(sql, binds, Vec::new(), move |rows, c| {
            rows.push(map(c)?);
            Ok(())
        })
        .await
    }

    /// Reads rows outside a transaction, from the readers, handing each in
    /// order to `step` with the state, which starts as `init` and is
    /// returned. Nothing is kept but what `step` keeps.
    pub(super) async fn fold<S>(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        init: S,
        mut step: impl FnMut(&mut S, &mut dyn Columns) -> StoreResult<()> + Send + 'static,
    ) -> StoreResult<S>
    where
        S: Send + 'static,
    {
        let mut state = init;
        // The rows are `()`: a Vec of them never allocates.
        match self {
            Pools::Sqlite {
                fast: Some(fast), ..
            } => return fast.fold(sql, binds, state, step).await,
            Pools::Sqlite { read, .. } => fetch(read, sql, binds, |c| step(&mut state, c)).await,
            Pools::Postgres(pool) => fetch(pool, sql, binds, |c| step(&mut state, c)).await,
        }?;
        Ok(state)
    }

    /// Reads rows from the writer, so that they include this process's last
    /// write even where readers lag (they do not, in WAL mode, but a caller
    /// that just wrote should not have to know).
    pub(super) async fn fetch_fresh<T>(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        map: impl Fn(&mut dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        match self {
            Pools::Sqlite { write, .. } => fetch(write, sql, binds, map).await,
            Pools::Postgres(pool) => fetch(pool, sql, binds, map).await,
        }
    }

    pub(super) async fn close(&self) {
        match self {
            Pools::Sqlite { write, read, fast } => {
                if let Some(fast) = fast {
                    fast.close();
                }
                write.close().await;
                read.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// Runs a statement; returns the rows it changed.
    pub(super) async fn execute(&mut self, sql: &str, binds: &[Bind<'_>]) -> StoreResult<u64> {
        match self {
            Tx::Sqlite(tx) => execute(&mut **tx, sql, binds).await,
            Tx::Postgres(tx) => execute(&mut **tx, sql, binds).await,
        }
    }

    /// Runs a script of statements, as they are (no values bound).
    pub(super) async fn execute_script(&mut self, sql: &str) -> StoreResult<()> {
        use sqlx::SqlSafeStr;
        let sql = AssertSqlSafe(sql.to_string()).into_sql_str();
        match self {
            Tx::Sqlite(tx) => (&mut **tx).execute(sql).await.map(drop)?,
            Tx::Postgres(tx) => (&mut **tx).execute(sql).await.map(drop)?,
        }
        Ok(())
    }

    /// Runs a statement and maps every row it returns.
    pub(super) async fn fetch<T>(
        &mut self,
        sql: &str,
        binds: &[Bind<'_>],
        map: impl Fn(&mut dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        match self {
            Tx::Sqlite(tx) => fetch(&mut **tx, sql, binds, map).await,
            Tx::Postgres(tx) => fetch(&mut **tx, sql, binds, map).await,
        }
    }

    /// Runs a statement and maps its first row, if any. The statement's
    /// other rows are not read (on SQLite, that saves a round trip to the
    /// connection's thread).
    pub(super) async fn fetch_one<T>(
        &mut self,
        sql: &str,
        binds: &[Bind<'_>],
        map: impl Fn(&mut dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        match self {
            Tx::Sqlite(tx) => fetch_optional(&mut **tx, sql, binds, map).await,
            Tx::Postgres(tx) => fetch_optional(&mut **tx, sql, binds, map).await,
        }
    }

    pub(super) async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub(super) async fn rollback(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    /// Applies `migrations` the database has not seen, with sqlx's runner,
    /// inside this transaction (each migration in a savepoint of it).
    pub(super) async fn migrate(&mut self, migrations: Vec<Migration>) -> StoreResult<()> {
        let mut migrator = Migrator::with_migrations(migrations);
        // The transaction's lock already serializes processes.
        migrator.set_locking(false);
        let run = match self {
            Tx::Sqlite(tx) => migrator.run(&mut **tx).await,
            Tx::Postgres(tx) => migrator.run(&mut **tx).await,
        };
        run.map_err(migrate_error)
    }

    /// Records `migrations` as applied in `table` without running them.
    pub(super) async fn mark_applied(
        &mut self,
        table: &str,
        migrations: &[&Migration],
    ) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => mark_applied(&mut **tx, table, migrations).await,
            Tx::Postgres(tx) => mark_applied(&mut **tx, table, migrations).await,
        }
    }
}

fn migrate_error(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => e.into(),
        other => StoreError::Internal(std::sync::Arc::new(other)),
    }
}

async fn mark_applied<C: Migrate>(
    conn: &mut C,
    table: &str,
    migrations: &[&Migration],
) -> StoreResult<()> {
    conn.ensure_migrations_table(table)
        .await
        .map_err(migrate_error)?;
    for m in migrations {
        conn.skip(table, m).await.map_err(migrate_error)?;
    }
    Ok(())
}

/// A row and the position of the next column to read.
struct Cursor<'r, R> {
    row: &'r R,
    next: usize,
}

impl<'r, R: Row> Cursor<'r, R>
where
    usize: ColumnIndex<R>,
{
    fn get<T>(&mut self) -> StoreResult<T>
    where
        T: Decode<'r, R::Database> + Type<R::Database>,
    {
        let i = self.next;
        self.next += 1;
        let row: &'r R = self.row;
        Ok(row.try_get(i)?)
    }
}

impl<'r, R: Row> Columns<'r> for Cursor<'r, R>
where
    usize: ColumnIndex<R>,
    for<'a> String: Decode<'a, R::Database> + Type<R::Database>,
    for<'a> &'a str: Decode<'a, R::Database> + Type<R::Database>,
    for<'a> i64: Decode<'a, R::Database> + Type<R::Database>,
    for<'a> Vec<u8>: Decode<'a, R::Database> + Type<R::Database>,
{
    fn text(&mut self) -> StoreResult<String> {
        self.get()
    }

    fn opt_text(&mut self) -> StoreResult<Option<String>> {
        self.get()
    }

    fn str(&mut self) -> StoreResult<&'r str> {
        self.get()
    }

    fn opt_str(&mut self) -> StoreResult<Option<&'r str>> {
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

    fn opt_bytes(&mut self) -> StoreResult<Option<Vec<u8>>> {
        self.get()
    }
}

fn query<'q, DB>(sql: &str, binds: &[Bind<'q>]) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    let mut q = sqlx::query::<DB>(AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = match *b {
            Text(v) => q.bind(v),
            OptText(v) => q.bind(v),
            Int(v) => q.bind(v),
            OptInt(v) => q.bind(v),
            Bytes(v) => q.bind(v),
        };
    }
    q
}

async fn execute<'e, DB, E>(executor: E, sql: &str, binds: &[Bind<'_>]) -> StoreResult<u64>
where
    DB: Database,
    E: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: QueryResult,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    let done = query::<DB>(sql, binds).execute(executor).await?;
    Ok(done.rows())
}

async fn fetch<'e, DB, E, T>(
    executor: E,
    sql: &str,
    binds: &[Bind<'_>],
    mut map: impl FnMut(&mut dyn Columns) -> StoreResult<T>,
) -> StoreResult<Vec<T>>
where
    DB: Database,
    E: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + Decode<'a, DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB> + Decode<'a, DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Decode<'a, DB> + Type<DB>,
{
    let rows = query::<DB>(sql, binds).fetch_all(executor).await?;
    rows.iter()
        .map(|row| map(&mut Cursor { row, next: 0 }))
        .collect()
}

async fn fetch_optional<'e, DB, E, T>(
    executor: E,
    sql: &str,
    binds: &[Bind<'_>],
    map: impl Fn(&mut dyn Columns) -> StoreResult<T>,
) -> StoreResult<Option<T>>
where
    DB: Database,
    E: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + Decode<'a, DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB> + Decode<'a, DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Decode<'a, DB> + Type<DB>,
{
    let row = query::<DB>(sql, binds).fetch_optional(executor).await?;
    row.map(|row| map(&mut Cursor { row: &row, next: 0 }))
        .transpose()
}

/// The rows a statement changed, whichever database ran it.
pub(super) trait QueryResult {
    fn rows(&self) -> u64;
}

impl QueryResult for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl QueryResult for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
