//! Migrations, through sqlx's migration runner: each applied version is
//! recorded in `_sqlx_migrations` with its checksum, so an edited migration is
//! refused instead of silently diverging.
//!
//! The whole run is one write transaction that first takes the dialect's
//! migration lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on
//! PostgreSQL): processes starting together apply each migration once, and the
//! others find it applied.

use std::borrow::Cow;

use sqlx::migrate::{Migrate, Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use tracing::info;

use super::{Store, StoreError, StoreResult, Tx};

const TABLE: &str = "_sqlx_migrations";

impl Store {
    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if let Some(lock) = self.dialect.lock_migrations {
            sqlx::query(lock).execute(&mut *tx).await?;
        }
        let migrations: Vec<Migration> = self
            .dialect
            .migrations
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    AssertSqlSafe(*sql).into_sql_str(),
                    false,
                )
            })
            .collect();
        self.adopt_legacy_history(&mut tx, &migrations).await?;
        let mut migrator = Migrator::with_migrations(migrations);
        // The transaction's lock already serializes processes.
        migrator.set_locking(false);
        migrator.run(&mut *tx).await.map_err(migrate_error)?;
        tx.commit().await?;
        Ok(())
    }

    /// A database migrated by earlier releases records its versions in
    /// `schema_migrations`; they are entered into the runner's table as applied,
    /// once, so the runner neither repeats them nor refuses the database.
    async fn adopt_legacy_history(&self, tx: &mut Tx, migrations: &[Migration]) -> StoreResult<()> {
        let exists = |table: &'static str| sqlx::query(self.dialect.table_exists).bind(table);
        if exists("schema_migrations")
            .fetch_optional(&mut **tx)
            .await?
            .is_none()
            || exists(TABLE).fetch_optional(&mut **tx).await?.is_some()
        {
            return Ok(());
        }
        let highest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut **tx)
            .await?;
        let Some(highest) = highest else {
            return Ok(());
        };
        let conn: &mut sqlx::AnyConnection = tx;
        conn.ensure_migrations_table(TABLE)
            .await
            .map_err(migrate_error)?;
        let adopted = (self.dialect.legacy_versions)(highest);
        for m in migrations.iter().filter(|m| adopted.contains(&m.version)) {
            conn.skip(TABLE, m).await.map_err(migrate_error)?;
        }
        sqlx::query("DROP TABLE schema_migrations")
            .execute(&mut *conn)
            .await?;
        info!(versions = ?adopted, "adopted the migration history of an earlier release");
        Ok(())
    }

    /// The versions the database has applied, in order.
    pub async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT version FROM {TABLE} WHERE success ORDER BY version"
        )))
        .fetch_all(&self.read)
        .await?)
    }
}

fn migrate_error(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => e.into(),
        other => StoreError::Internal(std::sync::Arc::new(other)),
    }
}
