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

use super::db::{Int, Text};
use super::{Store, StoreResult, Tx};

const TABLE: &str = "_sqlx_migrations";

/// The version and checksum of the functions a database holds.
const FUNCTIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS _mannequin_functions (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL)";

/// The functions' text's checksum, as hex.
pub(crate) fn checksum(sql: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies the dialect's functions (`version`, `sql`) unless the database
/// holds a newer version, or this one with the same text.
async fn apply_functions(tx: &mut Tx, version: i64, sql: &str) -> StoreResult<()> {
    tx.execute(FUNCTIONS_TABLE, &[]).await?;
    let held = tx
        .fetch_one(
            "SELECT version, checksum FROM _mannequin_functions WHERE id = 1",
            &[],
            |c| Ok((c.int()?, c.text()?)),
        )
        .await?;
    let sum = checksum(sql);
    match held {
        Some((v, _)) if v > version => {
            info!(
                held = v,
                ours = version,
                "the database's functions are newer: kept"
            );
            return Ok(());
        }
        Some((v, held_sum)) if v == version && held_sum == sum => return Ok(()),
        _ => {}
    }
    tx.execute_script(sql).await?;
    tx.execute(
        "INSERT INTO _mannequin_functions (id, version, checksum, applied_at) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET version = $1, checksum = $2, applied_at = $3",
        &[Int(version), Text(&sum), Int(crate::clock::now_ms())],
    )
    .await?;
    info!(version, "database functions applied");
    Ok(())
}

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
        if let Some((version, sql)) = self.dialect.functions {
            apply_functions(&mut tx, version, sql).await?;
        }
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
