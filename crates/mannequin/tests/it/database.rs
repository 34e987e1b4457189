//! The API when PostgreSQL goes away: every connection-level failure is a quick
//! 503 with `Retry-After`, never a 500 or a long wait, and service resumes by
//! itself when the database is back.

use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::helpers::{TestApp, expect_error};
use crate::services;

/// Runs `sql` as the PostgreSQL superuser.
async fn admin(sql: &str) {
    let mut conn = sqlx::PgConnection::connect(&services::postgres_admin_url())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_database_that_refuses_connections_answers_503_within_two_seconds() {
    let Some(db) = services::TestDatabase::create().await else {
        return;
    };
    let app = TestApp::start_with(&["--database-url", &db.url], None).await;
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let list = || async {
        let started = Instant::now();
        let res = app
            .client
            .get(format!("{}/api/external/models", app.url))
            .header("X-Api-Key", &app.key)
            .send()
            .await
            .unwrap();
        (res, started.elapsed())
    };
    assert_eq!(list().await.0.status(), 200);
    // The database stops accepting connections and drops the ones it had.
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .await;
    for _ in 0..3 {
        let (res, took) = list().await;
        assert!(took < Duration::from_secs(2), "503 took {took:?}");
        assert!(res.headers().contains_key("retry-after"));
        let body = expect_error(res, 503, "unavailable").await;
        assert!(!body.to_string().contains("accepting"), "{body}");
    }
    let res = app
        .client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503, "not ready without its database");
    let res = app
        .register(
            &app.key,
            serde_json::json!({"preferences": "casual", "count": 1}),
        )
        .await;
    expect_error(res, 503, "unavailable").await;
    // Back: the next request is served again, and nothing was half-written.
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    assert_eq!(list().await.0.status(), 200);
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
    app.audit().await;
}
