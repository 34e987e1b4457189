//! The store conformance suite: rules the store keeps on every dialect. Each
//! check runs on a fresh SQLite file and on a fresh PostgreSQL database (skipped
//! loudly outside CI when PostgreSQL is not running).

use futures_util::future::join_all;
use mannequin::clock::{new_asset_id, new_id, now_ms};
use mannequin::store::{
    CancelTarget, ClaimedJob, ListQuery, NewBatch, NewModel, QUEUE_HEAD, RegisterError, Settled,
    Store,
};
use mannequin_domain::ids::{AccountId, JobId};
use mannequin_domain::{AssetIdea, AssetKind, Attributes, Credits, ModelStatus, StatusFilter};

use crate::services;

/// Runs `check` on a fresh store of each dialect.
async fn on_every_dialect(check: impl AsyncFn(&Store)) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite(
        &format!("sqlite://{}", dir.path().join("t.db").display()),
        2,
    )
    .await
    .unwrap();
    sqlite.migrate().await.unwrap();
    eprintln!("conformance on sqlite");
    check(&sqlite).await;
    if let Some(db) = services::TestDatabase::create().await {
        let pg = Store::open_postgres(&db.url, 8).await.unwrap();
        pg.migrate().await.unwrap();
        eprintln!("conformance on postgres");
        check(&pg).await;
        pg.close().await;
    }
}

fn c(n: i64) -> Credits {
    Credits::new(n)
}

pub(crate) async fn account(store: &Store, credits: i64) -> AccountId {
    let id: AccountId = new_id();
    store
        .create_account(&id, "t", c(credits), now_ms())
        .await
        .unwrap();
    id
}

pub(crate) fn batch(account: &AccountId, count: u32, deadline: i64) -> NewBatch {
    let ideas = Attributes::read("casual").ideas(count, 1);
    NewBatch {
        account_id: account.clone(),
        batch_id: new_id(),
        order_id: new_id(),
        reservation_id: new_id(),
        preferences: "casual".into(),
        correlation_id: "cid".into(),
        price_per_model: c(10),
        deadline,
        max_attempts: 3,
        models: ideas
            .into_iter()
            .map(|idea| NewModel {
                id: new_asset_id(AssetKind::Model),
                job_id: new_id(),
                name: idea.name(),
                idea: AssetIdea::Model(idea),
            })
            .collect(),
        idempotency: None,
    }
}

async fn claim(store: &Store, worker: &str, max: u32, lease_ms: i64) -> Vec<ClaimedJob> {
    store
        .claim_jobs(worker, max, now_ms(), now_ms() + lease_ms)
        .await
        .unwrap()
}

async fn audit_ok(store: &Store) {
    let r = store.audit(now_ms()).await.unwrap();
    assert!(r.ok, "{:#?}", r.violations);
}

async fn settling_twice_changes_nothing(store: &Store) {
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
            .fail_model(&jobs[0], "late failure", None, now_ms())
            .await
            .unwrap(),
        Settled::Already(ModelStatus::Done)
    );
    assert_eq!(
        store
            .fail_model(&jobs[1], "broken", None, now_ms())
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
    let b = store.balances(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved, b.consumed), (c(90), c(0), c(10)));
    audit_ok(store).await;
}

async fn a_lease_keeps_a_job_from_others_until_it_runs_out(store: &Store) {
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

async fn expired_leases_are_taken_before_the_backlog(store: &Store) {
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

async fn retries_wait_for_their_time(store: &Store) {
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

async fn registering_is_all_or_nothing(store: &Store) {
    let a = account(store, 25).await;
    let b = batch(&a, 3, now_ms() + 60_000);
    match store.register_batch(&b, now_ms()).await {
        Err(RegisterError::InsufficientCredits {
            required,
            available,
        }) => {
            assert_eq!((required, available), (c(30), c(25)));
        }
        other => panic!("expected insufficient credits, got {other:?}"),
    }
    let q = newest(100);
    assert!(store.list_models(&a, &q).await.unwrap().is_empty());
    assert!(claim(store, "w", 10, 1000).await.is_empty());
    assert!(matches!(
        store
            .register_batch(&batch(&missing(), 1, 0), now_ms())
            .await,
        Err(RegisterError::UnknownAccount)
    ));
    audit_ok(store).await;
}

async fn expired_reservations_refund_only_unfinished_models(store: &Store) {
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
    let b = store.balances(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved, b.consumed), (c(90), c(0), c(10)));
    let q = newest(100);
    let rows = store.list_models(&a, &q).await.unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r.status == ModelStatus::Failed)
            .count(),
        2
    );
    audit_ok(store).await;
}

async fn a_repeated_idempotency_key_returns_the_first_batch(store: &Store) {
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
    assert_eq!(replayed.credits_reserved, c(20));
    let mut different = batch(&a, 1, now_ms() + 60_000);
    different.idempotency = idem(b"other");
    assert!(matches!(
        store.register_batch(&different, now_ms()).await,
        Err(RegisterError::IdempotencyKeyReused)
    ));
    let b = store.balances(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved), (c(80), c(20)), "charged once");
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

async fn grants_never_make_available_negative(store: &Store) {
    let a = account(store, 10).await;
    assert!(
        store
            .grant_credits(&a, c(-11), "x", now_ms())
            .await
            .unwrap()
            .is_none()
    );
    let b = store
        .grant_credits(&a, c(-10), "x", now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.available, c(0));
    assert!(
        store
            .grant_credits(&missing(), c(5), "x", now_ms())
            .await
            .unwrap()
            .is_none()
    );
    audit_ok(store).await;
}

async fn the_first_account_is_created_once(store: &Store) {
    let key =
        |acct: &AccountId| mannequin::keys::mint(acct, &mannequin::keys::Scope::ALL, None).record;
    let (a, b): (AccountId, AccountId) = (new_id(), new_id());
    assert!(
        store
            .create_first_account(&a, "a", c(5), &key(&a), now_ms())
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_first_account(&b, "b", c(5), &key(&b), now_ms())
            .await
            .unwrap()
    );
    assert!(!store.account_exists(&b).await.unwrap());
}

/// Claims from many workers at once never hand one job to two of them.
async fn concurrent_claims_are_disjoint(store: &Store) {
    let a = account(store, 10_000).await;
    for _ in 0..10 {
        store
            .register_batch(&batch(&a, 10, now_ms() + 60_000), now_ms())
            .await
            .unwrap();
    }
    let claims = (0..8).map(|w| async move {
        let mut mine = Vec::new();
        loop {
            let got = claim(store, &format!("w{w}"), 3, 60_000).await;
            if got.is_empty() {
                return mine;
            }
            mine.extend(got.into_iter().map(|j| j.job_id));
        }
    });
    let all: Vec<JobId> = join_all(claims).await.into_iter().flatten().collect();
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 100, "every job claimed");
    assert_eq!(unique.len(), 100, "no job claimed twice");
}

/// Cancelling batches while workers claim and finish their jobs: every call
/// succeeds (no deadlock), every model ends DONE or CANCELLED, settled once.
async fn cancels_racing_claims_settle_each_model_once(store: &Store) {
    let a = account(store, 100_000).await;
    let mut batches = Vec::new();
    for _ in 0..8 {
        let b = batch(&a, 10, now_ms() + 60_000);
        batches.push(b.batch_id.clone());
        store.register_batch(&b, now_ms()).await.unwrap();
    }
    let workers = (0..4).map(|w| async move {
        loop {
            let jobs = claim(store, &format!("w{w}"), 3, 60_000).await;
            if jobs.is_empty() {
                return;
            }
            for job in &jobs {
                store.complete_model(job, "f", "t", now_ms()).await.unwrap();
            }
        }
    });
    let owner = &a;
    let cancels = batches.iter().map(|id| async move {
        store
            .cancel_pending(owner, &CancelTarget::Batch(id.clone()), now_ms())
            .await
            .unwrap()
            .expect("the account's batch");
    });
    tokio::join!(join_all(workers), join_all(cancels));
    let done = store.list_models(&a, &newest(1000)).await.unwrap();
    assert_eq!(done.len(), 80);
    assert!(
        done.iter()
            .all(|m| matches!(m.status, ModelStatus::Done | ModelStatus::Cancelled)),
        "{:?}",
        done.iter().map(|m| m.status).collect::<Vec<_>>()
    );
    audit_ok(store).await;
}

/// Cancelling a batch cancels only its PENDING models: the job of a model a
/// worker has started stays running under its lease, and the worker settles it.
async fn a_cancel_leaves_started_jobs_running(store: &Store) {
    let a = account(store, 100).await;
    let b = batch(&a, 3, now_ms() + 60_000);
    store.register_batch(&b, now_ms()).await.unwrap();
    let started = claim(store, "w", 1, 60_000).await;
    assert_eq!(started.len(), 1);
    let cancelled = store
        .cancel_pending(&a, &CancelTarget::Batch(b.batch_id.clone()), now_ms())
        .await
        .unwrap()
        .expect("the account's batch");
    assert_eq!(cancelled.len(), 2);
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(
        (stats.queued, stats.running),
        (0, 1),
        "the started job runs on"
    );
    assert_eq!(
        store.extend_leases("w", now_ms() + 60_000).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .complete_model(&started[0], "f", "t", now_ms())
            .await
            .unwrap(),
        Settled::Now
    );
    let stats = store.queue_stats().await.unwrap();
    assert_eq!((stats.queued, stats.running), (0, 0));
    audit_ok(store).await;
}

/// The outbox hands each unpublished job to one relay at a time, and forgets
/// it once published.
async fn the_outbox_hands_out_each_job_once(store: &Store) {
    let a = account(store, 100).await;
    let b = batch(&a, 3, now_ms() + 60_000);
    let jobs: Vec<JobId> = b.models.iter().map(|m| m.job_id.clone()).collect();
    store.register_batch(&b, now_ms()).await.unwrap();
    let first = store
        .claim_outbox(10, now_ms(), now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|j| jobs.contains(&j.job_id)));
    let second = store
        .claim_outbox(10, now_ms(), now_ms() + 60_000)
        .await
        .unwrap();
    assert!(second.is_empty(), "held by the first relay: {second:?}");
    // A relay that died: its hold runs out and another takes the jobs.
    let later = now_ms() + 120_000;
    let again = store.claim_outbox(10, later, later + 1000).await.unwrap();
    assert_eq!(again.len(), 3);
    let ids: Vec<JobId> = again.into_iter().map(|j| j.job_id).collect();
    store.mark_published(&ids, now_ms()).await.unwrap();
    let after = store
        .claim_outbox(10, later + 5000, later + 6000)
        .await
        .unwrap();
    assert!(after.is_empty(), "published jobs stay out: {after:?}");
}

/// A delivered job starts once per delivery, and a finished one not at all.
async fn a_delivered_job_starts_until_it_is_settled(store: &Store) {
    let a = account(store, 100).await;
    let b = batch(&a, 1, now_ms() + 60_000);
    let job_id = b.models[0].job_id.clone();
    store.register_batch(&b, now_ms()).await.unwrap();
    let job = start(store, &job_id, "w1")
        .await
        .expect("a queued job starts");
    assert_eq!(job.price, c(10));
    assert_eq!(job.account_id, a);
    // Redelivered after w1 went quiet: w2 takes it over.
    let again = start(store, &job_id, "w2")
        .await
        .expect("a running job is taken over");
    assert_eq!(
        store
            .complete_model(&again, "f", "t", now_ms())
            .await
            .unwrap(),
        Settled::Now
    );
    assert!(start(store, &job_id, "w3").await.is_none());
    assert!(
        start(store, &JobId::parse("job_unknown").unwrap(), "w3")
            .await
            .is_none()
    );
    audit_ok(store).await;
}

/// A job whose worker was lost and that no queue hands out again is taken up
/// by housekeeping: back to the queue (and the outbox) while it has
/// deliveries left, failed and refunded once they are used up.
async fn lost_jobs_are_requeued_then_failed_when_lost_too_often(store: &Store) {
    let a = account(store, 100).await;
    let b = batch(&a, 1, now_ms() + 600_000);
    let job = b.models[0].job_id.clone();
    store.register_batch(&b, now_ms()).await.unwrap();
    let ids: Vec<JobId> = store
        .claim_outbox(10, now_ms(), now_ms())
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.job_id)
        .collect();
    store.mark_published(&ids, now_ms()).await.unwrap();
    // A worker starts it and dies; its lease runs out and nobody takes it.
    let started = start(store, &job, "dead").await.expect("starts");
    assert_eq!(started.deliveries, 1);
    let later = now_ms() + 5_000;
    assert_eq!(
        store.recover_lost_jobs(later, 10_000).await.unwrap(),
        lost(0, 0),
        "within the grace another worker may still take it over"
    );
    assert_eq!(
        store.recover_lost_jobs(later, 1_000).await.unwrap(),
        lost(1, 0)
    );
    let again = store.claim_outbox(10, later, later).await.unwrap();
    assert_eq!(again.len(), 1, "back in the outbox, to be published again");
    assert_eq!((&again[0].job_id, again[0].deliveries), (&job, 1));
    // Lost on every delivery it has: max attempts (3) + the crash allowance.
    let mut t = later;
    loop {
        t += 100_000;
        let claimed = store.claim_jobs("dying", 1, t, t + 1_000).await.unwrap();
        if claimed.is_empty() {
            break;
        }
        assert!(claimed[0].deliveries <= 3 + mannequin::store::CRASH_ALLOWANCE);
    }
    let audit = store.audit(t + 3_600_000).await.unwrap();
    assert!(
        audit
            .violations
            .iter()
            .any(|v| v.rule == "running_jobs_are_not_forgotten"),
        "{audit:#?}"
    );
    assert_eq!(store.recover_lost_jobs(t, 1_000).await.unwrap(), lost(0, 1));
    let rows = store.list_models(&a, &newest(10)).await.unwrap();
    assert_eq!(rows[0].status, ModelStatus::Failed);
    assert_eq!(
        rows[0].failure_reason.as_deref(),
        Some("the worker making this model stopped too often")
    );
    let b = store.balances(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved, b.consumed), (c(100), c(0), c(0)));
    audit_ok(store).await;
}

/// Registrations racing each other: eight with one idempotency key make one
/// batch and all answer it; twelve for an account that can pay for five make
/// exactly five, and the rest are told what is left. (On PostgreSQL each is
/// one call that, having raced, is made again.)
async fn racing_registrations_charge_once_and_never_overdraw(store: &Store) {
    let a = account(store, 100).await;
    let same = (0..8).map(|_| {
        let mut b = batch(&a, 2, now_ms() + 60_000);
        b.idempotency = Some(mannequin::store::Idempotency {
            key: "race".into(),
            request_hash: b"h".to_vec(),
        });
        async move { store.register_batch(&b, now_ms()).await.unwrap() }
    });
    let answers = join_all(same).await;
    assert_eq!(
        answers.iter().filter(|r| !r.replayed).count(),
        1,
        "one made it"
    );
    assert!(answers.iter().all(|r| r.batch_id == answers[0].batch_id));
    let b = store.balances(&a).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved), (c(80), c(20)), "charged once");

    // Registrations that wait together (on PostgreSQL, made in one call):
    // a key reused with another request is refused alone.
    let keyed = [("k1", "one"), ("k2", "two"), ("k1", "other")].map(|(key, hash)| {
        let mut b = batch(&a, 1, now_ms() + 60_000);
        b.idempotency = Some(mannequin::store::Idempotency {
            key: key.into(),
            request_hash: hash.as_bytes().to_vec(),
        });
        async move { store.register_batch(&b, now_ms()).await }
    });
    let answers = join_all(keyed).await;
    let reused = answers
        .iter()
        .filter(|r| matches!(r, Err(RegisterError::IdempotencyKeyReused)))
        .count();
    assert_eq!(reused, 1, "{answers:?}");
    assert!(answers[1].is_ok(), "{:?}", answers[1]);
    let b = store.balances(&a).await.unwrap().unwrap();
    assert_eq!(
        (b.available, b.reserved),
        (c(60), c(40)),
        "two more charged"
    );

    let poor = account(store, 50).await;
    let many = (0..12).map(|_| {
        let b = batch(&poor, 1, now_ms() + 60_000);
        async move { store.register_batch(&b, now_ms()).await }
    });
    let answers = join_all(many).await;
    let made = answers.iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, 5, "each costs 10 of the 50");
    for refused in answers.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(refused, RegisterError::InsufficientCredits { available, .. } if *available == c(0)),
            "{refused:?}"
        );
    }
    let b = store.balances(&poor).await.unwrap().unwrap();
    assert_eq!((b.available, b.reserved), (c(0), c(50)));
    audit_ok(store).await;
}

/// A database migrated by an earlier release (its history in
/// `schema_migrations`) is adopted, not migrated again.
async fn an_earlier_releases_migration_history_is_adopted(store: &Store) {
    let a = account(store, 10).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&store_url(store)).await.unwrap();
    // One connection: SQLite checks a CREATE against the schema its
    // connection last read, which another connection's DROP leaves stale.
    let mut conn = pool.acquire().await.unwrap();
    for sql in [
        "DROP TABLE _sqlx_migrations",
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,
             applied_at BIGINT NOT NULL)",
        "INSERT INTO schema_migrations VALUES (1, 'init', 0)",
        // Its list index held no more than the order (version 11 on SQLite).
        "DROP INDEX models_account_newest",
        "CREATE INDEX models_account_newest ON models (account_id, created_at DESC, id DESC)",
        "DROP INDEX models_account_approved",
        "CREATE INDEX models_account_approved ON models (account_id, created_at DESC, id DESC)
             WHERE voting = 'APPROVED'",
        // That release knew nothing of what version 3 adds.
        "ALTER TABLE models DROP COLUMN prompt",
        "ALTER TABLE models DROP COLUMN seed",
        "ALTER TABLE models DROP COLUMN generator",
        "ALTER TABLE models DROP COLUMN generator_notes",
        "ALTER TABLE models DROP COLUMN started_at",
        "ALTER TABLE models DROP COLUMN finished_at",
        // Nor of version 4's webhooks.
        "DROP TABLE webhook_attempts",
        "DROP TABLE webhook_deliveries",
        "DROP TABLE webhook_events",
        "DROP TABLE webhook_endpoints",
        // Nor of version 5's console sessions.
        "DROP TABLE console_sessions",
        // Nor of version 14's product columns.
        "DROP INDEX models_account_product",
        "ALTER TABLE models DROP COLUMN product_id",
        "ALTER TABLE models DROP COLUMN input_model_id",
        "ALTER TABLE models DROP COLUMN input_set_id",
        // Nor of version 13's products and presets.
        "DROP TABLE products",
        "DROP TABLE presets",
        "DROP INDEX batches_account",
        // Nor of version 9's disabled accounts, nor of version 10's fair queue.
        "ALTER TABLE accounts DROP COLUMN disabled_at",
        "DROP INDEX jobs_fair",
        "DROP INDEX accounts_queue_tag",
        "DROP INDEX jobs_outbox",
        "DROP INDEX jobs_published",
        "DROP INDEX jobs_running_account",
        "ALTER TABLE jobs DROP COLUMN account_id",
        "ALTER TABLE jobs DROP COLUMN fair_at",
        "ALTER TABLE accounts DROP COLUMN queue_tag",
        "CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'queued'",
        "CREATE INDEX jobs_outbox ON jobs (created_at) WHERE published_at IS NULL AND state = 'queued'",
        // And it still had the index on open models that version 7 drops.
        "CREATE INDEX models_reservation_open ON models (reservation_id)
             WHERE status IN ('PENDING', 'PROCESSING')",
    ] {
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
    if store.dialect().name == "postgres" {
        // Nor of version 6's function and keys, nor of version 8's function,
        // nor of version 12's queue head.
        for sql in [
            "DROP FUNCTION mannequin_queue_head",
            "DROP FUNCTION mannequin_register_many",
            "DROP FUNCTION mannequin_register",
            "ALTER TABLE models DROP CONSTRAINT models_batch_account_fkey,
                 ADD FOREIGN KEY (account_id) REFERENCES accounts (id)",
            "ALTER TABLE reservations DROP CONSTRAINT reservations_batch_account_fkey,
                 ADD FOREIGN KEY (account_id) REFERENCES accounts (id)",
            "ALTER TABLE batches DROP CONSTRAINT batches_id_account",
        ] {
            sqlx::query(sql).execute(&mut *conn).await.unwrap();
        }
    }
    if store.dialect().name == "sqlite" {
        sqlx::query("INSERT INTO schema_migrations VALUES (2, 'outbox', 0)")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    drop(conn);
    pool.close().await;
    store.migrate().await.unwrap();
    assert_eq!(
        store.applied_migrations().await.unwrap(),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    );
    assert!(store.account_exists(&a).await.unwrap(), "data kept");
    store.migrate().await.unwrap();
    audit_ok(store).await;
}

/// Where a test store lives, to open it a second time.
fn store_url(store: &Store) -> String {
    store.url().to_string()
}

fn lost(requeued: u64, failed: u64) -> mannequin::store::Recovered {
    mannequin::store::Recovered { requeued, failed }
}

/// The account's newest `limit` models, unfiltered.
fn newest(limit: u32) -> ListQuery {
    ListQuery {
        words: Vec::new(),
        product_id: None,
        kind: AssetKind::Model,
        status: None,
        voting: None,
        filter: StatusFilter::All,
        batch_id: None,
        cursor: None,
        limit,
    }
}

fn missing() -> AccountId {
    AccountId::parse("acct_missing").unwrap()
}

/// Starts one delivered job, as the NATS queue does.
async fn start(store: &Store, job: &JobId, worker: &str) -> Option<ClaimedJob> {
    store
        .start_jobs(std::slice::from_ref(job), worker, now_ms(), now_ms() + 1000)
        .await
        .unwrap()
        .pop()
        .flatten()
}

#[tokio::test]
async fn lost_jobs_are_requeued_then_failed_when_lost_too_often_on_every_dialect() {
    on_every_dialect(lost_jobs_are_requeued_then_failed_when_lost_too_often).await;
}

/// Several processes starting at once on a new database each migrate; every
/// migration is applied once, and version 2 is the outbox on every dialect.
#[tokio::test]
async fn concurrent_migrations_apply_each_version_once_on_every_dialect() {
    async fn race(url: &str) {
        let opened = (0..4).map(|_| async {
            let s = Store::open(url, 2).await.unwrap();
            s.migrate().await.unwrap();
            s
        });
        for s in join_all(opened).await {
            assert_eq!(
                s.applied_migrations().await.unwrap(),
                vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
            );
            let a = account(&s, 10).await;
            let b = batch(&a, 1, now_ms() + 60_000);
            s.register_batch(&b, now_ms()).await.unwrap();
            let outbox = s.claim_outbox(10, now_ms(), now_ms()).await.unwrap();
            assert!(
                outbox.iter().any(|j| j.job_id == b.models[0].job_id),
                "the outbox columns exist"
            );
            s.close().await;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    race(&format!("sqlite://{}", dir.path().join("new.db").display())).await;
    if let Some(db) = services::TestDatabase::create().await {
        race(&db.url).await;
    }
}

#[tokio::test]
async fn an_earlier_releases_migration_history_is_adopted_on_every_dialect() {
    on_every_dialect(an_earlier_releases_migration_history_is_adopted).await;
}

#[tokio::test]
async fn settling_twice_changes_nothing_on_every_dialect() {
    on_every_dialect(settling_twice_changes_nothing).await;
}

#[tokio::test]
async fn a_lease_keeps_a_job_from_others_until_it_runs_out_on_every_dialect() {
    on_every_dialect(a_lease_keeps_a_job_from_others_until_it_runs_out).await;
}

#[tokio::test]
async fn expired_leases_are_taken_before_the_backlog_on_every_dialect() {
    on_every_dialect(expired_leases_are_taken_before_the_backlog).await;
}

#[tokio::test]
async fn retries_wait_for_their_time_on_every_dialect() {
    on_every_dialect(retries_wait_for_their_time).await;
}

#[tokio::test]
async fn registering_is_all_or_nothing_on_every_dialect() {
    on_every_dialect(registering_is_all_or_nothing).await;
}

#[tokio::test]
async fn expired_reservations_refund_only_unfinished_models_on_every_dialect() {
    on_every_dialect(expired_reservations_refund_only_unfinished_models).await;
}

#[tokio::test]
async fn a_cancel_leaves_started_jobs_running_on_every_dialect() {
    on_every_dialect(a_cancel_leaves_started_jobs_running).await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_batch_on_every_dialect() {
    on_every_dialect(a_repeated_idempotency_key_returns_the_first_batch).await;
}

#[tokio::test]
async fn racing_registrations_charge_once_and_never_overdraw_on_every_dialect() {
    on_every_dialect(racing_registrations_charge_once_and_never_overdraw).await;
}

#[tokio::test]
async fn grants_never_make_available_negative_on_every_dialect() {
    on_every_dialect(grants_never_make_available_negative).await;
}

#[tokio::test]
async fn the_first_account_is_created_once_on_every_dialect() {
    on_every_dialect(the_first_account_is_created_once).await;
}

#[tokio::test]
async fn concurrent_claims_are_disjoint_on_every_dialect() {
    on_every_dialect(concurrent_claims_are_disjoint).await;
}

#[tokio::test]
async fn cancels_racing_claims_settle_each_model_once_on_every_dialect() {
    on_every_dialect(cancels_racing_claims_settle_each_model_once).await;
}

#[tokio::test]
async fn the_outbox_hands_out_each_job_once_on_every_dialect() {
    on_every_dialect(the_outbox_hands_out_each_job_once).await;
}

#[tokio::test]
async fn a_delivered_job_starts_until_it_is_settled_on_every_dialect() {
    on_every_dialect(a_delivered_job_starts_until_it_is_settled).await;
}

/// A page deep in an account is a range of the account's index, not a scan
/// from the newest model with the cursor as a filter: its plan says so on
/// both databases, for every page and the approved filter, with no sort; on
/// SQLite the index holds every field listed.
async fn the_deep_page_is_an_index_range(store: &Store) {
    let a = account(store, 1000).await;
    for _ in 0..3 {
        let b = batch(&a, 5, now_ms() + 60_000);
        store.register_batch(&b, now_ms()).await.unwrap();
    }
    let rows = store.list_models(&a, &newest(15)).await.unwrap();
    let cursor = mannequin_domain::request::Cursor {
        created_at_ms: rows[7].created_at,
        id: rows[7].id.clone(),
    };
    let deep = ListQuery {
        words: Vec::new(),
        kind: AssetKind::Model,
        cursor: Some(cursor.clone()),
        ..newest(5)
    };
    let page = store.list_models(&a, &deep).await.unwrap();
    let expected: Vec<_> = rows[8..13].iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        page.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        expected
    );
    let approved = ListQuery {
        words: Vec::new(),
        kind: AssetKind::Model,
        filter: StatusFilter::Approved,
        cursor: Some(cursor),
        ..newest(5)
    };
    for (query, index) in [
        (&deep, "models_account_newest"),
        (&approved, "models_account_approved"),
    ] {
        let plan = store.list_plan(&a, query).await.unwrap().join("\n");
        if store.dialect().name == "postgres" {
            assert!(
                plan.contains(index)
                    && plan.contains("Index Cond")
                    && plan.contains("ROW(created_at, id) < ROW("),
                "{plan}"
            );
            assert!(!plan.contains("Filter: ((created_at"), "{plan}");
            assert!(!plan.contains("Sort"), "{plan}");
        } else {
            // Every listed field read from the index, the table not visited.
            assert!(
                plan.contains(&format!("COVERING INDEX {index}"))
                    && plan.contains("(created_at,id)<(?,?)"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
    let first = store.list_plan(&a, &newest(5)).await.unwrap().join("\n");
    assert!(first.contains("models_account_newest"), "{first}");
    if store.dialect().name == "sqlite" {
        assert!(
            first.contains("COVERING INDEX models_account_newest"),
            "{first}"
        );
    }
    assert!(
        !first.contains("Sort") && !first.contains("TEMP B-TREE"),
        "{first}"
    );
}

/// The console's search: every word in the name, the prompt or the order's
/// text, any case, LIKE's own `%` and `_` taken as the characters they are.
async fn a_search_finds_every_word_and_takes_wildcards_literally(store: &Store) {
    let a = account(store, 1000).await;
    for (text, names) in [
        ("Linen summer look", ["Alpha One", "Alpha Two"]),
        ("denim jacket", ["Beta 50% off", "Beta_x"]),
    ] {
        let mut b = batch(&a, 2, now_ms() + 60_000);
        b.preferences = text.into();
        for (m, name) in b.models.iter_mut().zip(names) {
            m.name = name.into();
        }
        store.register_batch(&b, now_ms()).await.unwrap();
    }
    // Another account's matching model is never found.
    let other = account(store, 1000).await;
    let mut b = batch(&other, 1, now_ms() + 60_000);
    b.preferences = "linen".into();
    store.register_batch(&b, now_ms()).await.unwrap();
    let found = async |words: &str| {
        let query = ListQuery {
            words: mannequin::store::search_words(words),
            ..newest(50)
        };
        let mut names: Vec<String> = store
            .list_models(&a, &query)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        names.sort();
        names
    };
    assert_eq!(found("linen").await, ["Alpha One", "Alpha Two"]);
    assert_eq!(found("ALPHA two").await, ["Alpha Two"]);
    assert_eq!(found("denim beta").await, ["Beta 50% off", "Beta_x"]);
    assert_eq!(found("50%").await, ["Beta 50% off"]);
    assert_eq!(found("beta_").await, ["Beta_x"]);
    assert!(found("velvet").await.is_empty());
}

#[tokio::test]
async fn a_search_finds_every_word_and_takes_wildcards_literally_on_every_dialect() {
    on_every_dialect(a_search_finds_every_word_and_takes_wildcards_literally).await;
}

#[tokio::test]
async fn the_deep_page_is_an_index_range_on_every_dialect() {
    on_every_dialect(the_deep_page_is_an_index_range).await;
}

/// A registration finds the head of the queue through the queue's index,
/// even with a plan made without the values or while the queue was short
/// (PostgreSQL's generic plans, which PL/pgSQL keeps for the session), so it
/// does not slow as jobs pile up.
async fn the_queue_head_is_read_from_its_index(store: &Store) {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&store_url(store)).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    if store.dialect().name == "sqlite" {
        // SQLite's plans do not depend on the table's size: the plan is the plan.
        let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {QUEUE_HEAD}"
        )))
        .bind(0i64)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(3))
        .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("jobs_fair"), "{plan}");
        assert!(!plan.lines().any(|l| l == "SCAN jobs"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        return;
    }
    // The registration function reads the head with this same statement.
    let source: String =
        sqlx::query_scalar("SELECT prosrc FROM pg_proc WHERE proname = 'mannequin_queue_head'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words(&source).contains(&QUEUE_HEAD.replace("$1", "p_now")),
        "{source}"
    );
    // A session plans the head while the queue is short, and keeps that plan
    // (generic, as PL/pgSQL's plans become after a few calls) while it grows.
    let a = account(store, 1_000_000).await;
    let deadline = now_ms() + 60_000;
    store
        .register_batch(&batch(&a, 2, deadline), now_ms())
        .await
        .unwrap();
    // As autovacuum does for a new table once it holds a few rows.
    for sql in ["ANALYZE jobs", "SET plan_cache_mode = force_generic_plan"] {
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
    let head = "SELECT mannequin_queue_head(CAST($1 AS BIGINT))";
    let first: i64 = sqlx::query_scalar(head)
        .bind(now_ms())
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    for _ in 0..60 {
        store
            .register_batch(&batch(&a, 10, deadline), now_ms())
            .await
            .unwrap();
    }
    let mut tx = sqlx::Acquire::begin(&mut *conn).await.unwrap();
    let read = "SELECT pg_stat_get_xact_tuples_fetched(CAST('jobs' AS regclass))
                    + pg_stat_get_xact_tuples_returned(CAST('jobs' AS regclass))";
    let before: i64 = sqlx::query_scalar(read).fetch_one(&mut *tx).await.unwrap();
    let again: i64 = sqlx::query_scalar(head)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let after: i64 = sqlx::query_scalar(read).fetch_one(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(again, first, "the head is still the first job");
    assert!(
        after - before <= 3,
        "the head read {} of 602 queued jobs",
        after - before
    );
}

#[tokio::test]
async fn the_queue_head_is_read_from_its_index_on_every_dialect() {
    on_every_dialect(the_queue_head_is_read_from_its_index).await;
}

/// The benchmark's fill writes what the list reads, newest first, one in a
/// hundred approved.
async fn an_account_filled_for_benchmarks_lists_like_any(store: &Store) {
    let a = account(store, 0).await;
    assert_eq!(
        store.fill_account(&a, 2_500, now_ms()).await.unwrap(),
        2_500
    );
    let page = store.list_models(&a, &newest(1000)).await.unwrap();
    assert_eq!(page.len(), 1000);
    assert!(page.windows(2).all(|w| w[0].created_at > w[1].created_at));
    assert!(page.iter().all(|m| m.status == ModelStatus::Done));
    let approved = ListQuery {
        words: Vec::new(),
        kind: AssetKind::Model,
        filter: StatusFilter::Approved,
        ..newest(1000)
    };
    assert_eq!(store.list_models(&a, &approved).await.unwrap().len(), 25);
}

#[tokio::test]
async fn an_account_filled_for_benchmarks_lists_like_any_on_every_dialect() {
    on_every_dialect(an_account_filled_for_benchmarks_lists_like_any).await;
}

/// One account's backlog does not hold back another's work: A queues 2,000
/// models, then B 20; claiming in rounds of 8 (a worker's slots), every one
/// of B's is claimed before A's 500th.
async fn a_backlog_does_not_hold_back_another_account(store: &Store) {
    let a = account(store, 20_100).await;
    let b = account(store, 200).await;
    let deadline = now_ms() + 3_600_000;
    for _ in 0..100 {
        store
            .register_batch(&batch(&a, 20, deadline), now_ms())
            .await
            .unwrap();
    }
    // Some of A's work is under way when B arrives.
    let mut claimed_a = claim(store, "w", 40, 60_000).await.len();
    assert_eq!(claimed_a, 40);
    store
        .register_batch(&batch(&b, 20, deadline), now_ms())
        .await
        .unwrap();
    let mut claimed_b = 0;
    while claimed_b < 20 {
        let round = claim(store, "w", 8, 60_000).await;
        assert!(!round.is_empty());
        for job in round {
            if job.account_id == b {
                claimed_b += 1;
            } else {
                assert_eq!(job.account_id, a);
                claimed_a += 1;
            }
        }
    }
    assert!(claimed_a < 500, "B's 20 took until A's {claimed_a}th");
    // Turns, not precedence: A kept going meanwhile, about one for one.
    assert!(claimed_a >= 40 + 15, "A waited: {claimed_a}");

    // An account that queued a lot before, with nothing queued now, is not
    // held back for it: a newcomer and it take turns again.
    let rest = claim(store, "w", 5000, 60_000).await;
    assert_eq!(claimed_a + rest.len(), 2000);
    let c = account(store, 200).await;
    store
        .register_batch(&batch(&c, 10, deadline), now_ms())
        .await
        .unwrap();
    store
        .register_batch(&batch(&a, 10, deadline), now_ms())
        .await
        .unwrap();
    let next: Vec<AccountId> = claim(store, "w", 10, 60_000)
        .await
        .into_iter()
        .map(|j| j.account_id)
        .collect();
    let from_a = next.iter().filter(|x| **x == a).count();
    assert!(
        (3..=7).contains(&from_a),
        "{from_a} of the first 10 were A's"
    );
}

#[tokio::test]
async fn a_backlog_does_not_hold_back_another_account_on_every_dialect() {
    on_every_dialect(a_backlog_does_not_hold_back_another_account).await;
}

/// `--account-max-in-flight`: an account at its cap is passed over, and one
/// claim takes no more of an account's jobs than its room.
async fn a_capped_account_holds_no_more_workers_than_its_cap(store: &Store) {
    let a = account(store, 1000).await;
    let b = account(store, 1000).await;
    let deadline = now_ms() + 3_600_000;
    store
        .register_batch(&batch(&a, 20, deadline), now_ms())
        .await
        .unwrap();
    store
        .register_batch(&batch(&b, 5, deadline), now_ms())
        .await
        .unwrap();
    let capped = |max| async move {
        store
            .claim_jobs_capped("w", max, now_ms(), now_ms() + 60_000, 3)
            .await
            .unwrap()
    };
    let first = capped(10).await;
    let of =
        |jobs: &[ClaimedJob], who: &AccountId| jobs.iter().filter(|j| j.account_id == *who).count();
    assert_eq!(
        (of(&first, &a), of(&first, &b)),
        (3, 3),
        "one claim stays within each room"
    );
    assert!(
        capped(10).await.is_empty(),
        "both accounts are at their cap"
    );
    // One of A's settles: A has room for one more.
    let done = first.iter().find(|j| j.account_id == a).unwrap();
    store
        .complete_model(done, "f", "t", now_ms())
        .await
        .unwrap();
    let next = capped(10).await;
    assert_eq!((of(&next, &a), of(&next, &b)), (1, 0));
    // Without a cap the rest is taken.
    let rest = claim(store, "w", 100, 60_000).await;
    assert_eq!(rest.len(), 25 - 7);
}

#[tokio::test]
async fn a_capped_account_holds_no_more_workers_than_its_cap_on_every_dialect() {
    on_every_dialect(a_capped_account_holds_no_more_workers_than_its_cap).await;
}

/// With a cap, the outbox hands a relay no more of an account's jobs than
/// its room: its jobs published since `since` and not started count.
async fn the_outbox_keeps_each_account_within_its_cap(store: &Store) {
    let a = account(store, 1000).await;
    let b = account(store, 1000).await;
    let (for_a, for_b) = (
        batch(&a, 10, now_ms() + 60_000),
        batch(&b, 2, now_ms() + 60_000),
    );
    let jobs = |b: &NewBatch| -> Vec<JobId> { b.models.iter().map(|m| m.job_id.clone()).collect() };
    let (jobs_a, jobs_b) = (jobs(&for_a), jobs(&for_b));
    store.register_batch(&for_a, now_ms()).await.unwrap();
    store.register_batch(&for_b, now_ms()).await.unwrap();
    let now = now_ms();
    let first = store
        .claim_outbox_capped(10, now, now + 60_000, 3, 0)
        .await
        .unwrap();
    let ids: Vec<JobId> = first.into_iter().map(|j| j.job_id).collect();
    let count = |among: &[JobId]| ids.iter().filter(|id| among.contains(id)).count();
    assert_eq!((count(&jobs_a), count(&jobs_b)), (3, 2));
    let published = now_ms();
    store.mark_published(&ids, published).await.unwrap();
    // A has three in the stream: at its cap; B has nothing left.
    let later = published + 1;
    let none = store
        .claim_outbox_capped(10, later, later + 60_000, 3, published - 1)
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    // Published before `since`, they count no more: room for three again.
    let next = store
        .claim_outbox_capped(10, later, later + 60_000, 3, published)
        .await
        .unwrap();
    assert_eq!(next.len(), 3);
    assert!(next.iter().all(|j| jobs_a.contains(&j.job_id)));
}

#[tokio::test]
async fn the_outbox_keeps_each_account_within_its_cap_on_every_dialect() {
    on_every_dialect(the_outbox_keeps_each_account_within_its_cap).await;
}
