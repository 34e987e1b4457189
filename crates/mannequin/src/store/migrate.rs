//! Migrations, through sqlx's migration runner: each applied version is
//! recorded in `_sqlx_migrations` with its checksum, so an edited migration is
//! refused instead of silently diverging.
//!
//! The whole run is one write transaction that first takes the dialect's
//! migration lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on
//! PostgreSQL): processes starting together apply each migration once, and the
//! others find it applied.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use tracing::info;

use super::db::Text;
use super::{Store, StoreResult, Tx};

const TABLE: &str = "_sqlx_migrations";

impl Store {
    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if let Some(lock) = self.dialect.lock_migrations {
            tx.execute(lock, &[]).await?;
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
        tx.migrate(migrations).await?;
        tx.commit().await
    }

    /// A database migrated by earlier releases records its versions in
    /// `schema_migrations`; they are entered into the runner's table as applied,
    /// once, so the runner neither repeats them nor refuses the database.
    async fn adopt_legacy_history(&self, tx: &mut Tx, migrations: &[Migration]) -> StoreResult<()> {
        let exists = self.dialect.table_exists;
        let legacy = tx
            .fetch_one(exists, &[Text("schema_migrations")], |_| Ok(()))
            .await?;
        let current = tx.fetch_one(exists, &[Text(TABLE)], |_| Ok(())).await?;
        if legacy.is_none() || current.is_some() {
            return Ok(());
        }
        let highest = tx
            .fetch_one("SELECT MAX(version) FROM schema_migrations", &[], |c| {
                c.opt_int()
            })
            .await?
            .flatten();
        let Some(highest) = highest else {
            return Ok(());
        };
        let adopted = (self.dialect.legacy_versions)(highest);
        let applied: Vec<&Migration> = migrations
            .iter()
            .filter(|m| adopted.contains(&m.version))
            .collect();
        tx.mark_applied(TABLE, &applied).await?;
        tx.execute("DROP TABLE schema_migrations", &[]).await?;
        info!(versions = ?adopted, "adopted the migration history of an earlier release");
        Ok(())
    }

    /// The versions the database has applied, in order.
    pub async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        self.pools
            .fetch(
                &format!("SELECT version FROM {TABLE} WHERE success ORDER BY version"),
                &[],
                |c| c.int(),
            )
            .await
    }
}
