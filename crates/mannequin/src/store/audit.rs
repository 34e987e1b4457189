//! The credit audit, shared by every backend: the queries (plain SQL both
//! dialects read alike; sums are cast so PostgreSQL returns BIGINT) and the
//! rules checked over what they return.

use mannequin_domain::credits::{LedgerKind, LedgerSums};

use super::{AuditReport, Violation};

pub const ACCOUNTS: &str = "SELECT id, available, reserved, consumed FROM accounts";

pub const LEDGER_SUMS: &str = "SELECT account_id, kind, CAST(SUM(amount) AS BIGINT)
     FROM ledger GROUP BY account_id, kind";

pub const RESERVATIONS: &str = "SELECT r.id, r.amount, r.consumed, r.refunded,
        CAST(COALESCE((SELECT SUM(price) FROM models m WHERE m.reservation_id = r.id
                  AND m.status IN ('PENDING', 'PROCESSING')), 0) AS BIGINT),
        CAST(COALESCE((SELECT SUM(amount) FROM ledger l WHERE l.reservation_id = r.id AND l.kind = 'consume'), 0) AS BIGINT),
        CAST(COALESCE((SELECT SUM(amount) FROM ledger l WHERE l.reservation_id = r.id AND l.kind = 'refund'), 0) AS BIGINT),
        r.closed_at
 FROM reservations r";

/// Models whose ledger entries do not match their status: exactly one consume
/// of the price when DONE, one refund when FAILED or CANCELLED, none while open.
pub const BAD_MODELS: &str = "SELECT m.id, m.status, m.price,
        CAST(COALESCE(SUM(CASE WHEN l.kind = 'consume' THEN 1 ELSE 0 END), 0) AS BIGINT),
        CAST(COALESCE(SUM(CASE WHEN l.kind = 'refund' THEN 1 ELSE 0 END), 0) AS BIGINT),
        CAST(COALESCE(SUM(l.amount), 0) AS BIGINT)
 FROM models m LEFT JOIN ledger l ON l.model_id = m.id
 GROUP BY m.id, m.status, m.price
 HAVING NOT (
     (m.status = 'DONE' AND COUNT(l.id) = 1 AND MAX(l.kind) = 'consume' AND SUM(l.amount) = m.price)
  OR (m.status IN ('FAILED', 'CANCELLED') AND COUNT(l.id) = 1 AND MAX(l.kind) = 'refund' AND SUM(l.amount) = m.price)
  OR (m.status IN ('PENDING', 'PROCESSING') AND COUNT(l.id) = 0))";

pub const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM models), (SELECT COUNT(*) FROM ledger)";

/// What the audit queries returned, read in one snapshot.
pub struct AuditFacts {
    /// `(id, available, reserved, consumed)`
    pub accounts: Vec<(String, i64, i64, i64)>,
    /// `(account id, kind, sum)`
    pub ledger_sums: Vec<(String, String, i64)>,
    /// `(id, amount, consumed, refunded, outstanding, ledger consumed, ledger refunded, closed_at)`
    #[allow(clippy::type_complexity)]
    pub reservations: Vec<(String, i64, i64, i64, i64, i64, i64, Option<i64>)>,
    /// `(id, status, price, consume entries, refund entries, amount)`
    pub unsettled_models: Vec<(String, String, i64, i64, i64, i64)>,
    /// `(models, ledger entries)`
    pub counts: (i64, i64),
}

impl AuditFacts {
    pub fn check(self) -> AuditReport {
        let mut violations = Vec::new();
        let mut v = |rule: &'static str, subject: &str, detail: String| {
            violations.push(Violation {
                rule,
                subject: subject.to_string(),
                detail,
            })
        };
        for (id, available, reserved, consumed) in &self.accounts {
            let mut s = LedgerSums::default();
            for (_, kind, amount) in self.ledger_sums.iter().filter(|r| &r.0 == id) {
                match LedgerKind::parse(kind) {
                    Some(k) => s.add(k, *amount),
                    None => v("ledger_kind", id, format!("unknown kind {kind}")),
                }
            }
            if *available < 0 {
                v(
                    "available_non_negative",
                    id,
                    format!("available = {available}"),
                );
            }
            if s.expected_available() != *available {
                v(
                    "available_matches_ledger",
                    id,
                    format!(
                        "ledger says {}, account says {available}",
                        s.expected_available()
                    ),
                );
            }
            if s.expected_reserved() != *reserved {
                v(
                    "reserved_matches_ledger",
                    id,
                    format!(
                        "ledger says {}, account says {reserved}",
                        s.expected_reserved()
                    ),
                );
            }
            if s.consumed != *consumed {
                v(
                    "consumed_matches_ledger",
                    id,
                    format!("ledger says {}, account says {consumed}", s.consumed),
                );
            }
            if s.grants - s.consumed + s.adjustments != available + reserved {
                v(
                    "grants_minus_consumed_is_available_plus_reserved",
                    id,
                    format!(
                        "{} - {} + {} != {available} + {reserved}",
                        s.grants, s.consumed, s.adjustments
                    ),
                );
            }
        }
        for (id, amount, consumed, refunded, outstanding, l_consumed, l_refunded, closed) in
            &self.reservations
        {
            if amount != &(consumed + refunded + outstanding) {
                v(
                    "reservation_balances",
                    id,
                    format!(
                        "amount {amount} != consumed {consumed} + refunded {refunded} + outstanding {outstanding}"
                    ),
                );
            }
            if consumed != l_consumed || refunded != l_refunded {
                v(
                    "reservation_matches_ledger",
                    id,
                    format!("consumed {consumed}/{l_consumed}, refunded {refunded}/{l_refunded}"),
                );
            }
            if closed.is_some() && *outstanding != 0 {
                v(
                    "closed_reservation_has_no_open_models",
                    id,
                    format!("outstanding {outstanding}"),
                );
            }
        }
        for (id, status, price, consumes, refunds, amount) in &self.unsettled_models {
            v(
                "model_settled_exactly_once",
                id,
                format!(
                    "{status} with price {price}: {consumes} consume and {refunds} refund entries totalling {amount}"
                ),
            );
        }
        AuditReport {
            ok: violations.is_empty(),
            accounts: self.accounts.len() as i64,
            reservations: self.reservations.len() as i64,
            models: self.counts.0,
            ledger_entries: self.counts.1,
            violations,
        }
    }
}
