//! Tenants through the API and a real worker: one account's backlog does not
//! hold back another's models.

use crate::helpers::TestApp;
use mannequin::keys::Scope;

#[tokio::test]
async fn a_backlog_of_2000_does_not_hold_back_another_accounts_20() {
    let app = TestApp::start_with(
        &["--generator", "noop", "--generator-concurrency", "8"],
        None,
    )
    .await;
    let (a, key_a) = app.account(20_000, &Scope::ALL).await;
    let (b, key_b) = app.account(200, &Scope::ALL).await;
    for _ in 0..100 {
        app.register_ok(&key_a, "casual", 20).await;
    }
    app.register_ok(&key_b, "casual", 20).await;
    assert_eq!(app.drain().await, 2020);
    // In the order the worker finished them (its rounds of 8 settle together).
    let finished = |account: String| {
        let app = &app;
        async move {
            let mut at: Vec<i64> = sqlx::query_scalar(
                "SELECT finished_at FROM models WHERE account_id = $1 AND status = 'DONE'",
            )
            .bind(account)
            .fetch_all(&app.sql().await)
            .await
            .unwrap();
            at.sort_unstable();
            at
        }
    };
    let a_done = finished(a.as_str().to_string()).await;
    let b_done = finished(b.as_str().to_string()).await;
    assert_eq!((a_done.len(), b_done.len()), (2000, 20));
    let b_last = *b_done.last().unwrap();
    assert!(
        b_last < a_done[499],
        "B's last model finished at {b_last}, A's 500th at {}",
        a_done[499]
    );
    assert_eq!(app.balance(&a).await, (0, 0, 20_000));
    assert_eq!(app.balance(&b).await, (0, 0, 200));
    app.audit().await;
}
