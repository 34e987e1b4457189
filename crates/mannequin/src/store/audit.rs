//! The credit audit: facts read in one snapshot, and the rules checked over
//! them in Rust. Expected balances come from the ledger through
//! [`LedgerKind::effect`], the same statement the writes use.

use std::collections::HashMap;

use super::db::{Columns, Int};
use super::settle::unsettled;
use super::{JobState, Store, StoreResult};
use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::{Credits, ModelStatus};
use serde::Serialize;

/// A broken invariant found by the audit.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub subject: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    pub ok: bool,
    pub accounts: i64,
    pub reservations: i64,
    pub models: i64,
    pub ledger_entries: i64,
    pub violations: Vec<Violation>,
}

/// A running job whose lease ran out longer ago than this has been forgotten:
/// housekeeping takes such jobs up within a lease.
pub const LOST_JOB_MS: i64 = 10 * 60 * 1000;

struct AccountFacts {
    id: String,
    stored: Balances,
}

struct ReservationFacts {
    id: String,
    amount: Credits,
    consumed: Credits,
    refunded: Credits,
    /// Prices of its models not settled yet.
    outstanding: Credits,
    ledger_consumed: Credits,
    ledger_refunded: Credits,
    closed: bool,
}

/// A model whose ledger entries do not match its status.
struct BadModel {
    id: String,
    status: String,
    price: i64,
    consumes: i64,
    refunds: i64,
    amount: i64,
}

/// What the audit queries returned, read in one snapshot.
struct AuditFacts {
    accounts: Vec<AccountFacts>,
    /// Per account: the sum of its entries of each kind.
    ledger: HashMap<String, Vec<(LedgerKind, Credits)>>,
    unknown_kinds: Vec<(String, String)>,
    reservations: Vec<ReservationFacts>,
    bad_models: Vec<BadModel>,
    /// `(job id, lease expired at)` of jobs forgotten by every process.
    lost_jobs: Vec<(String, i64)>,
    models: i64,
    ledger_entries: i64,
}

fn credits(c: &mut dyn Columns) -> StoreResult<Credits> {
    Ok(Credits::new(c.int()?))
}

impl Store {
    /// Checks the credit invariants over the whole database, at time `now`.
    pub async fn audit(&self, now: i64) -> StoreResult<AuditReport> {
        let open = unsettled();
        let mut tx = self.pools.snapshot().await?;
        let accounts = tx
            .fetch(
                "SELECT id, available, reserved, consumed FROM accounts",
                &[],
                |c| {
                    Ok(AccountFacts {
                        id: c.text()?,
                        stored: Balances {
                            available: credits(c)?,
                            reserved: credits(c)?,
                            consumed: credits(c)?,
                        },
                    })
                },
            )
            .await?;
        let sums = tx
            .fetch(
                "SELECT account_id, kind, CAST(SUM(amount) AS BIGINT) FROM ledger
                 GROUP BY account_id, kind",
                &[],
                |c| Ok((c.text()?, c.text()?, credits(c)?)),
            )
            .await?;
        let mut ledger: HashMap<String, Vec<(LedgerKind, Credits)>> = HashMap::new();
        let mut unknown_kinds = Vec::new();
        for (account, kind, amount) in sums {
            match LedgerKind::parse(&kind) {
                Some(k) => ledger.entry(account).or_default().push((k, amount)),
                None => unknown_kinds.push((account, kind)),
            }
        }
        let (consume, refund) = (LedgerKind::Consume.as_str(), LedgerKind::Refund.as_str());
        let reservations = tx
            .fetch(
                &format!(
                    "SELECT r.id, r.amount, r.consumed, r.refunded,
                        CAST(COALESCE((SELECT SUM(price) FROM models m
                                       WHERE m.batch_id = r.batch_id
                                         AND m.reservation_id = r.id
                                         AND m.status IN ({open})), 0) AS BIGINT),
                        CAST(COALESCE((SELECT SUM(amount) FROM ledger l
                                       WHERE l.reservation_id = r.id
                                         AND l.kind = '{consume}'), 0) AS BIGINT),
                        CAST(COALESCE((SELECT SUM(amount) FROM ledger l
                                       WHERE l.reservation_id = r.id
                                         AND l.kind = '{refund}'), 0) AS BIGINT),
                        r.closed_at
                     FROM reservations r"
                ),
                &[],
                |c| {
                    Ok(ReservationFacts {
                        id: c.text()?,
                        amount: credits(c)?,
                        consumed: credits(c)?,
                        refunded: credits(c)?,
                        outstanding: credits(c)?,
                        ledger_consumed: credits(c)?,
                        ledger_refunded: credits(c)?,
                        closed: c.opt_int()?.is_some(),
                    })
                },
            )
            .await?;
        // Exactly one consume of the price when DONE, one refund when FAILED or
        // CANCELLED, no entry while unsettled.
        let done = ModelStatus::Done.as_str();
        let refunded = ModelStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal() && *s != ModelStatus::Done)
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let bad_models = tx
            .fetch(
                &format!(
                    "SELECT m.id, m.status, m.price,
                        CAST(COALESCE(SUM(CASE WHEN l.kind = '{consume}' THEN 1 ELSE 0 END), 0)
                             AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN l.kind = '{refund}' THEN 1 ELSE 0 END), 0)
                             AS BIGINT),
                        CAST(COALESCE(SUM(l.amount), 0) AS BIGINT)
                     FROM models m LEFT JOIN ledger l ON l.model_id = m.id
                     GROUP BY m.id, m.status, m.price
                     HAVING NOT (
                         (m.status = '{done}' AND COUNT(l.id) = 1 AND MAX(l.kind) = '{consume}'
                              AND SUM(l.amount) = m.price)
                      OR (m.status IN ({refunded}) AND COUNT(l.id) = 1
                              AND MAX(l.kind) = '{refund}' AND SUM(l.amount) = m.price)
                      OR (m.status IN ({open}) AND COUNT(l.id) = 0))"
                ),
                &[],
                |c| {
                    Ok(BadModel {
                        id: c.text()?,
                        status: c.text()?,
                        price: c.int()?,
                        consumes: c.int()?,
                        refunds: c.int()?,
                        amount: c.int()?,
                    })
                },
            )
            .await?;
        let lost_jobs = tx
            .fetch(
                &format!(
                    "SELECT id, lease_expires_at FROM jobs
                     WHERE state = '{}' AND lease_expires_at < $1",
                    JobState::Running.as_str()
                ),
                &[Int(now - LOST_JOB_MS)],
                |c| Ok((c.text()?, c.int()?)),
            )
            .await?;
        let (models, ledger_entries) = tx
            .fetch_one(
                "SELECT (SELECT COUNT(*) FROM models), (SELECT COUNT(*) FROM ledger)",
                &[],
                |c| Ok((c.int()?, c.int()?)),
            )
            .await?
            .unwrap_or_default();
        tx.rollback().await?;
        let facts = AuditFacts {
            accounts,
            ledger,
            unknown_kinds,
            reservations,
            bad_models,
            lost_jobs,
            models,
            ledger_entries,
        };
        Ok(facts.check(now))
    }
}

impl AuditFacts {
    fn check(self, now: i64) -> AuditReport {
        let mut violations = Vec::new();
        let mut v = |rule: &'static str, subject: &str, detail: String| {
            violations.push(Violation {
                rule,
                subject: subject.to_string(),
                detail,
            })
        };
        for (account, kind) in &self.unknown_kinds {
            v("ledger_kind", account, format!("unknown kind {kind}"));
        }
        for a in &self.accounts {
            let sums = self
                .ledger
                .get(&a.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let expected = sums
                .iter()
                .try_fold(Balances::default(), |b, (kind, amount)| {
                    b.apply(*kind, *amount)
                });
            let given = Credits::sum(sums.iter().filter_map(|(kind, amount)| {
                matches!(kind, LedgerKind::Grant | LedgerKind::Adjustment).then_some(*amount)
            }));
            let (Some(expected), Some(given)) = (expected, given) else {
                v(
                    "ledger_sums_fit",
                    &a.id,
                    "the ledger's sums overflow".into(),
                );
                continue;
            };
            let stored = a.stored;
            if stored.available.is_negative() {
                v(
                    "available_non_negative",
                    &a.id,
                    format!("available = {}", stored.available),
                );
            }
            for (rule, want, have) in [
                (
                    "available_matches_ledger",
                    expected.available,
                    stored.available,
                ),
                (
                    "reserved_matches_ledger",
                    expected.reserved,
                    stored.reserved,
                ),
                (
                    "consumed_matches_ledger",
                    expected.consumed,
                    stored.consumed,
                ),
            ] {
                if want != have {
                    v(
                        rule,
                        &a.id,
                        format!("ledger says {want}, account says {have}"),
                    );
                }
            }
            // grants − consumed − adjustments out = available + reserved
            if stored.total() != Some(given) {
                v(
                    "grants_minus_consumed_is_available_plus_reserved",
                    &a.id,
                    format!(
                        "given {given}, but available {} + reserved {} + consumed {}",
                        stored.available, stored.reserved, stored.consumed
                    ),
                );
            }
        }
        for r in &self.reservations {
            if Credits::sum([r.consumed, r.refunded, r.outstanding]) != Some(r.amount) {
                v(
                    "reservation_balances",
                    &r.id,
                    format!(
                        "amount {} != consumed {} + refunded {} + outstanding {}",
                        r.amount, r.consumed, r.refunded, r.outstanding
                    ),
                );
            }
            if r.consumed != r.ledger_consumed || r.refunded != r.ledger_refunded {
                v(
                    "reservation_matches_ledger",
                    &r.id,
                    format!(
                        "consumed {}/{}, refunded {}/{}",
                        r.consumed, r.ledger_consumed, r.refunded, r.ledger_refunded
                    ),
                );
            }
            if r.closed && r.outstanding != Credits::ZERO {
                v(
                    "closed_reservation_has_no_open_models",
                    &r.id,
                    format!("outstanding {}", r.outstanding),
                );
            }
        }
        for m in &self.bad_models {
            v(
                "model_settled_exactly_once",
                &m.id,
                format!(
                    "{} with price {}: {} consume and {} refund entries totalling {}",
                    m.status, m.price, m.consumes, m.refunds, m.amount
                ),
            );
        }
        for (job, expired_at) in &self.lost_jobs {
            v(
                "running_jobs_are_not_forgotten",
                job,
                format!(
                    "running, but its lease ran out {} s ago",
                    (now - expired_at) / 1000
                ),
            );
        }
        AuditReport {
            ok: violations.is_empty(),
            accounts: self.accounts.len() as i64,
            reservations: self.reservations.len() as i64,
            models: self.models,
            ledger_entries: self.ledger_entries,
            violations,
        }
    }
}
