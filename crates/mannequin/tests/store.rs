//! The store conformance suite: rules every `Store` implementation must keep.
//! Each check takes a fresh store; `sqlite_store()` makes one, and a second
//! backend adds its own maker and runs the same checks.

use mannequin::clock::{new_id, now_ms};
use mannequin::store::sqlite::SqliteStore;
use mannequin::store::{ClaimedJob, ListQuery, NewBatch, RegisterError, Settled, Store};
use mannequin_domain::ids::IdKind;
use mannequin_domain::{Attributes, Credits, ModelStatus, StatusFilter};

async fn sqlite_store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(
        &format!("sqlite://{}", dir.path().join("t.db").display()),
        2,
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    (store, dir)
}

async fn account(store: &dyn Store, credits: i64) -> String {
    let id = new_id(IdKind::Account);
    store
        .create_account(&id, "t", Credits(credits), now_ms())
        .await
        .unwrap();
    id
}

fn batch(account: &str, count: u32, deadline: i64) -> NewBatch {
    let ideas = Attributes::read("casual").ideas(count, 1);
    NewBatch {
        account_id: account.to_string(),
        batch_id: new_id(IdKind::Batch),
        order_id: new_id(IdKind::Order),
        reservation_id: new_id(IdKind::Reservation),
        preferences: "casual".into(),
        correlation_id: "cid".into(),
        price_per_model: Credits(10),
        deadline,
        max_attempts: 3,
        models: ideas
            .into_iter()
            .map(|i| (new_id(IdKind::Model), new_id(IdKind::Job), i))
            .collect(),
        idempotency: None,
    }
}

async fn claim(store: &dyn Store, worker: &str, max: u32, lease_ms: i64) -> Vec<ClaimedJob> {
    store
        .claim_jobs(worker, max, now_ms(), now_ms() + lease_ms)
        .await
        .unwrap()
}

async fn audit_ok(store: &dyn Store) {
    let r = store.audit().await.unwrap();
    assert!(r.ok, "{:#?}", r.violations);
}

async fn settling_twice_changes_nothing(store: &dyn Store) {
    let a = account(store, 100).await;
    store
        .register_batch(&batch(&a, 2, now_ms() + 60_000), now_ms())
        .await
        .unwrap();
    let jobs = claim(store, "w", 10, 60_000).await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        store
            .complete_model(&jobs[0], "f", "t", now_ms())
            .await
            .unwrap(),
        Settled::Now
    );
    assert_eq!(
        store
            .complete_model(&jobs[0], "f", "t", now_ms())
            .await
            .unwrap(),
        Settled::Already(ModelStatus::Done)
    );
    assert_eq!(
        store
            .fail_model(&jobs[0], "late failure", now_ms())
            .await
            .unwrap(),
        Settled::Already(ModelStatus::Done)
    );
    assert_eq!(
        store
            .fail_model(&jobs[1], "broken", now_ms())
            .await
            .unwrap(),
        Settled::Now
    );
    assert_eq!(
        store
            .complete_model(&jobs[1], "f", "t", now_ms())
            .await
            .unwrap(),
        Settled::Already(ModelStatus::Failed)
    );
    let b = store.balance(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved, b.consumed), (90, 0, 10));
    audit_ok(store).await;
}

async fn a_lease_keeps_a_job_from_others_until_it_runs_out(store: &dyn Store) {
    let a = account(store, 100).await;
    store
        .register_batch(&batch(&a, 1, now_ms() + 60_000), now_ms())
        .await
        .unwrap();
    let held = claim(store, "w1", 5, 60_000).await;
    assert_eq!(held.len(), 1);
    assert!(claim(store, "w2", 5, 60_000).await.is_empty(), "leased");
    // The lease runs out (claim as if later): another worker takes the job.
    let later = now_ms() + 61_000;
    let taken = store
        .claim_jobs("w2", 5, later, later + 60_000)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].job_id, held[0].job_id);
    // The first worker's retry no longer applies: it lost the lease.
    store
        .retry_job(&held[0], "w1", "slow", now_ms(), now_ms())
        .await
        .unwrap();
    assert!(
        claim(store, "w3", 5, 60_000).await.is_empty(),
        "still held by w2"
    );
    assert_eq!(store.extend_leases("w2", later + 120_000).await.unwrap(), 1);
    assert_eq!(store.release_jobs("w2", now_ms()).await.unwrap(), 1);
    assert_eq!(claim(store, "w3", 5, 60_000).await.len(), 1, "handed back");
    audit_ok(store).await;
}

async fn expired_leases_are_taken_before_the_backlog(store: &dyn Store) {
    let a = account(store, 1000).await;
    store
        .register_batch(&batch(&a, 1, now_ms() + 600_000), now_ms())
        .await
        .unwrap();
    let dead = claim(store, "dead", 1, 1000).await.remove(0);
    for _ in 0..3 {
        store
            .register_batch(&batch(&a, 5, now_ms() + 600_000), now_ms())
            .await
            .unwrap();
    }
    let later = now_ms() + 2000;
    let first = store
        .claim_jobs("alive", 1, later, later + 1000)
        .await
        .unwrap();
    assert_eq!(first[0].job_id, dead.job_id);
}

async fn retries_wait_for_their_time(store: &dyn Store) {
    let a = account(store, 100).await;
    store
        .register_batch(&batch(&a, 1, now_ms() + 60_000), now_ms())
        .await
        .unwrap();
    let job = claim(store, "w", 1, 60_000).await.remove(0);
    assert_eq!(job.attempts, 0);
    store
        .retry_job(&job, "w", "hiccup", now_ms() + 30_000, now_ms())
        .await
        .unwrap();
    assert!(claim(store, "w", 1, 60_000).await.is_empty(), "not due yet");
    let later = now_ms() + 31_000;
    let again = store.claim_jobs("w", 1, later, later + 1000).await.unwrap();
    assert_eq!(again[0].attempts, 1);
}

async fn registering_is_all_or_nothing(store: &dyn Store) {
    let a = account(store, 25).await;
    let b = batch(&a, 3, now_ms() + 60_000);
    match store.register_batch(&b, now_ms()).await {
        Err(RegisterError::InsufficientCredits {
            required,
            available,
        }) => {
            assert_eq!((required, available), (Credits(30), Credits(25)));
        }
        other => panic!("expected insufficient credits, got {other:?}"),
    }
    let q = ListQuery {
        filter: StatusFilter::All,
        batch_id: None,
        cursor: None,
        limit: 100,
    };
    assert!(store.list_models(&a, &q).await.unwrap().is_empty());
    assert!(claim(store, "w", 10, 1000).await.is_empty());
    assert!(matches!(
        store
            .register_batch(&batch("acct_missing", 1, 0), now_ms())
            .await,
        Err(RegisterError::UnknownAccount)
    ));
    audit_ok(store).await;
}

async fn expired_reservations_refund_only_unfinished_models(store: &dyn Store) {
    let a = account(store, 100).await;
    store
        .register_batch(&batch(&a, 3, now_ms() + 1000), now_ms())
        .await
        .unwrap();
    let jobs = claim(store, "w", 3, 60_000).await;
    store
        .complete_model(&jobs[0], "f", "t", now_ms())
        .await
        .unwrap();
    assert_eq!(store.expire_reservations(now_ms() + 2000).await.unwrap(), 2);
    // The worker that held the other jobs finishes late: nothing changes.
    assert_eq!(
        store
            .complete_model(&jobs[1], "f", "t", now_ms())
            .await
            .unwrap(),
        Settled::Already(ModelStatus::Failed)
    );
    let b = store.balance(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved, b.consumed), (90, 0, 10));
    let q = ListQuery {
        filter: StatusFilter::All,
        batch_id: None,
        cursor: None,
        limit: 100,
    };
    let rows = store.list_models(&a, &q).await.unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r.status == ModelStatus::Failed)
            .count(),
        2
    );
    audit_ok(store).await;
}

async fn a_repeated_idempotency_key_returns_the_first_batch(store: &dyn Store) {
    let a = account(store, 100).await;
    let idem = |hash: &[u8]| {
        Some(mannequin::store::Idempotency {
            key: "k1".into(),
            request_hash: hash.to_vec(),
        })
    };
    let mut first = batch(&a, 2, now_ms() + 60_000);
    first.idempotency = idem(b"h");
    let created = store.register_batch(&first, now_ms()).await.unwrap();
    assert!(!created.replayed);
    let mut again = batch(&a, 2, now_ms() + 60_000);
    again.idempotency = idem(b"h");
    let replayed = store.register_batch(&again, now_ms()).await.unwrap();
    assert!(replayed.replayed);
    assert_eq!(
        (replayed.batch_id.as_str(), &replayed.model_ids),
        (created.batch_id.as_str(), &created.model_ids)
    );
    assert_eq!(replayed.credits_reserved, 20);
    let mut different = batch(&a, 1, now_ms() + 60_000);
    different.idempotency = idem(b"other");
    assert!(matches!(
        store.register_batch(&different, now_ms()).await,
        Err(RegisterError::IdempotencyKeyReused)
    ));
    let b = store.balance(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved), (80, 20), "charged once");
    // Another account may use the same key for its own request.
    let other = account(store, 100).await;
    let mut theirs = batch(&other, 1, now_ms() + 60_000);
    theirs.idempotency = idem(b"h");
    assert!(
        !store
            .register_batch(&theirs, now_ms())
            .await
            .unwrap()
            .replayed
    );
    // Forgotten keys may be used again.
    assert_eq!(store.prune_idempotency_keys(now_ms() + 1).await.unwrap(), 2);
    let mut later = batch(&a, 1, now_ms() + 60_000);
    later.idempotency = idem(b"other");
    assert!(
        !store
            .register_batch(&later, now_ms())
            .await
            .unwrap()
            .replayed
    );
    audit_ok(store).await;
}

async fn grants_never_make_available_negative(store: &dyn Store) {
    let a = account(store, 10).await;
    assert!(
        store
            .grant_credits(&a, Credits(-11), "x", now_ms())
            .await
            .unwrap()
            .is_none()
    );
    let b = store
        .grant_credits(&a, Credits(-10), "x", now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.available, 0);
    assert!(
        store
            .grant_credits("acct_missing", Credits(5), "x", now_ms())
            .await
            .unwrap()
            .is_none()
    );
    audit_ok(store).await;
}

async fn the_first_account_is_created_once(store: &dyn Store) {
    let key = |acct: &str| mannequin::keys::mint(acct, &mannequin::keys::Scope::ALL, None).record;
    assert!(
        store
            .create_first_account("acct_a", "a", Credits(5), &key("acct_a"), now_ms())
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_first_account("acct_b", "b", Credits(5), &key("acct_b"), now_ms())
            .await
            .unwrap()
    );
    assert!(!store.account_exists("acct_b").await.unwrap());
}

macro_rules! conformance {
    ($maker:ident: $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (store, _guard) = $maker().await;
                super::$check(&store).await;
            }
        )+
    };
}

mod sqlite {
    use super::sqlite_store;
    conformance!(sqlite_store:
        settling_twice_changes_nothing,
        a_lease_keeps_a_job_from_others_until_it_runs_out,
        expired_leases_are_taken_before_the_backlog,
        retries_wait_for_their_time,
        registering_is_all_or_nothing,
        a_repeated_idempotency_key_returns_the_first_batch,
        expired_reservations_refund_only_unfinished_models,
        grants_never_make_available_negative,
        the_first_account_is_created_once,
    );
}
