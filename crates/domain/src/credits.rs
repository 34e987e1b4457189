//! Credits are money-like: whole numbers in their own type, with checked arithmetic.

use std::fmt;

/// An amount of credits. Never negative where the ledger rules forbid it; the
/// arithmetic is checked so that an overflow is an error, never a wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Credits(pub i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub fn checked_add(self, other: Credits) -> Option<Credits> {
        self.0.checked_add(other.0).map(Credits)
    }

    pub fn checked_sub(self, other: Credits) -> Option<Credits> {
        self.0.checked_sub(other.0).map(Credits)
    }

    /// The price of `count` models at `per_model` each.
    pub fn times(self, count: u32) -> Option<Credits> {
        self.0.checked_mul(i64::from(count)).map(Credits)
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The kinds of ledger entry. Each is an immutable row; the balance columns of an
/// account are a cache of the sum of its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerKind {
    /// Credits given to the account (available += amount).
    Grant,
    /// Held for a batch (available -= amount, reserved += amount).
    Reserve,
    /// A finished model's price taken from its reservation (reserved -= amount).
    Consume,
    /// A failed or cancelled model's price returned (reserved -= amount, available += amount).
    Refund,
    /// An operator's correction of available credits, signed.
    Adjustment,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 5] = [
        LedgerKind::Grant,
        LedgerKind::Reserve,
        LedgerKind::Consume,
        LedgerKind::Refund,
        LedgerKind::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Grant => "grant",
            LedgerKind::Reserve => "reserve",
            LedgerKind::Consume => "consume",
            LedgerKind::Refund => "refund",
            LedgerKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<LedgerKind> {
        LedgerKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Balances an account must have if its ledger is right, derived from the sums of
/// its entries by kind. The audit compares these with the stored balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LedgerSums {
    pub grants: i64,
    pub reserved: i64,
    pub consumed: i64,
    pub refunded: i64,
    pub adjustments: i64,
}

impl LedgerSums {
    pub fn add(&mut self, kind: LedgerKind, amount: i64) {
        match kind {
            LedgerKind::Grant => self.grants += amount,
            LedgerKind::Reserve => self.reserved += amount,
            LedgerKind::Consume => self.consumed += amount,
            LedgerKind::Refund => self.refunded += amount,
            LedgerKind::Adjustment => self.adjustments += amount,
        }
    }

    /// available = grants + adjustments − reserves + refunds
    pub fn expected_available(&self) -> i64 {
        self.grants + self.adjustments - self.reserved + self.refunded
    }

    /// reserved = reserves − consumed − refunded
    pub fn expected_reserved(&self) -> i64 {
        self.reserved - self.consumed - self.refunded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_of_a_batch_is_count_times_price_and_overflow_is_refused() {
        assert_eq!(Credits(10).times(20), Some(Credits(200)));
        assert_eq!(Credits(i64::MAX).times(2), None);
        assert_eq!(Credits(i64::MIN).checked_sub(Credits(1)), None);
    }

    #[test]
    fn ledger_kinds_round_trip_through_their_names() {
        for k in LedgerKind::ALL {
            assert_eq!(LedgerKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(LedgerKind::parse("bonus"), None);
    }

    #[test]
    fn sums_satisfy_the_contract_identity() {
        // grants − consumed − adjustments out = available + reserved
        let mut s = LedgerSums::default();
        s.add(LedgerKind::Grant, 1000);
        s.add(LedgerKind::Reserve, 300);
        s.add(LedgerKind::Consume, 120);
        s.add(LedgerKind::Refund, 30);
        s.add(LedgerKind::Adjustment, -50);
        assert_eq!(s.expected_available(), 1000 - 50 - 300 + 30);
        assert_eq!(s.expected_reserved(), 300 - 120 - 30);
        assert_eq!(
            s.grants - s.consumed + s.adjustments,
            s.expected_available() + s.expected_reserved()
        );
    }
}
