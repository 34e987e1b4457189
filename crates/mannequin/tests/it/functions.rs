//! PostgreSQL's functions live in one file, applied after the migrations:
//! once, again when their text changes, and never replaced by a binary
//! older than the database's functions.

use mannequin::store::{FUNCTIONS_VERSION, Store};
use sha2::Digest;

use crate::services;

const FUNCTIONS: &str = include_str!("../../migrations/postgres/functions.sql");

#[tokio::test]
async fn the_functions_are_applied_once_again_when_changed_and_never_downgraded() {
    let Some(db) = services::TestDatabase::create().await else {
        return;
    };
    let store = Store::open_postgres(&db.url, 2).await.unwrap();
    store.migrate().await.unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let held = async || {
        sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT version, checksum, applied_at FROM _mannequin_functions",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let run = async |sql: &str| {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await
            .unwrap();
    };
    let head = async || {
        sqlx::query_as::<_, (Option<i64>,)>("SELECT mannequin_queue_head(0)")
            .fetch_one(&pool)
            .await
            .unwrap()
            .0
    };
    let sum: String = sha2::Sha256::digest(FUNCTIONS.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (version, checksum, applied_at) = held().await;
    assert_eq!(
        (version, checksum.as_str()),
        (FUNCTIONS_VERSION, sum.as_str())
    );
    assert_ne!(head().await, Some(-7));

    // Migrating again changes nothing.
    store.migrate().await.unwrap();
    assert_eq!(held().await.2, applied_at, "not applied twice");

    // A function changed by hand, recorded as other text of this version
    // (an edit in development): it is applied again.
    let sabotage = "CREATE OR REPLACE FUNCTION mannequin_queue_head(p_now BIGINT) RETURNS BIGINT
                    LANGUAGE sql AS 'SELECT -7::BIGINT'";
    run(sabotage).await;
    run("UPDATE _mannequin_functions SET checksum = 'edited'").await;
    assert_eq!(head().await, Some(-7));
    store.migrate().await.unwrap();
    assert_ne!(head().await, Some(-7), "the function is the file's again");
    assert_eq!(held().await.1, sum);

    // A database whose functions are newer than this binary's keeps them.
    run(sabotage).await;
    run(&format!(
        "UPDATE _mannequin_functions SET version = {}",
        FUNCTIONS_VERSION + 1
    ))
    .await;
    store.migrate().await.unwrap();
    assert_eq!(
        head().await,
        Some(-7),
        "an older binary leaves newer functions alone"
    );
    assert_eq!(held().await.0, FUNCTIONS_VERSION + 1);
    store.close().await;
}
