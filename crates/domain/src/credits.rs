//! Credits are money-like: whole numbers in their own type, with checked arithmetic,
//! and the one statement of what each kind of ledger entry does to a balance.

use std::fmt;

use serde::Serialize;

/// An amount of credits. The value is private so that every sum goes through the
/// checked arithmetic below: an overflow is an error, never a wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Credits(i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub const fn new(amount: i64) -> Credits {
        Credits(amount)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Credits) -> Option<Credits> {
        self.0.checked_add(other.0).map(Credits)
    }

    pub fn checked_sub(self, other: Credits) -> Option<Credits> {
        self.0.checked_sub(other.0).map(Credits)
    }

    /// The price of `count` models at `self` each.
    pub fn times(self, count: u32) -> Option<Credits> {
        self.0.checked_mul(i64::from(count)).map(Credits)
    }

    /// `self × factor` for a factor of −1, 0 or 1 (a ledger [`Effect`]).
    fn signed(self, factor: i8) -> Option<Credits> {
        self.0.checked_mul(i64::from(factor)).map(Credits)
    }

    /// The checked sum of `amounts`; `None` on overflow.
    pub fn sum(amounts: impl IntoIterator<Item = Credits>) -> Option<Credits> {
        amounts
            .into_iter()
            .try_fold(Credits::ZERO, Credits::checked_add)
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The kinds of ledger entry. Each is an immutable row; the balance columns of an
/// account are a cache of its entries, each applied with [`LedgerKind::effect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LedgerKind {
    /// Credits given to the account.
    Grant,
    /// Held for a batch.
    Reserve,
    /// A finished model's price taken from its reservation.
    Consume,
    /// A failed or cancelled model's price returned from its reservation.
    Refund,
    /// An operator's correction of available credits, signed.
    Adjustment,
}

/// What an entry does to an account's balances: each balance moves by the
/// entry's amount times −1, 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    pub available: i8,
    pub reserved: i8,
    pub consumed: i8,
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

    /// The one statement of what each kind does to the balances. The store's
    /// writes and the audit both apply entries through it.
    pub const fn effect(self) -> Effect {
        let (available, reserved, consumed) = match self {
            LedgerKind::Grant | LedgerKind::Adjustment => (1, 0, 0),
            LedgerKind::Reserve => (-1, 1, 0),
            LedgerKind::Consume => (0, -1, 1),
            LedgerKind::Refund => (1, -1, 0),
        };
        Effect {
            available,
            reserved,
            consumed,
        }
    }
}

/// An account's three balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Balances {
    pub available: Credits,
    pub reserved: Credits,
    pub consumed: Credits,
}

impl Balances {
    /// The change one entry of `kind` for `amount` makes.
    pub fn delta(kind: LedgerKind, amount: Credits) -> Option<Balances> {
        let e = kind.effect();
        Some(Balances {
            available: amount.signed(e.available)?,
            reserved: amount.signed(e.reserved)?,
            consumed: amount.signed(e.consumed)?,
        })
    }

    /// The balances after an entry of `kind` for `amount`; `None` on overflow.
    pub fn apply(self, kind: LedgerKind, amount: Credits) -> Option<Balances> {
        let d = Balances::delta(kind, amount)?;
        Some(Balances {
            available: self.available.checked_add(d.available)?,
            reserved: self.reserved.checked_add(d.reserved)?,
            consumed: self.consumed.checked_add(d.consumed)?,
        })
    }

    /// All credits the account was ever given: grants and adjustments. Every
    /// entry keeps `available + reserved + consumed` equal to it.
    pub fn total(self) -> Option<Credits> {
        Credits::sum([self.available, self.reserved, self.consumed])
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
        assert_eq!(Credits::sum([Credits(i64::MAX), Credits(1)]), None);
        assert_eq!(Credits::sum([Credits(2), Credits(3)]), Some(Credits(5)));
    }

    #[test]
    fn ledger_kinds_round_trip_through_their_names() {
        for k in LedgerKind::ALL {
            assert_eq!(LedgerKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(LedgerKind::parse("bonus"), None);
    }

    #[test]
    fn only_grants_and_adjustments_change_the_total() {
        for k in LedgerKind::ALL {
            let e = k.effect();
            let net = e.available + e.reserved + e.consumed;
            let gives = matches!(k, LedgerKind::Grant | LedgerKind::Adjustment);
            assert_eq!(net, i8::from(gives), "{k:?}");
        }
    }

    #[test]
    fn entries_move_balances_as_the_contract_says() {
        let b = Balances::default()
            .apply(LedgerKind::Grant, Credits(1000))
            .and_then(|b| b.apply(LedgerKind::Reserve, Credits(300)))
            .and_then(|b| b.apply(LedgerKind::Consume, Credits(120)))
            .and_then(|b| b.apply(LedgerKind::Refund, Credits(30)))
            .and_then(|b| b.apply(LedgerKind::Adjustment, Credits(-50)))
            .unwrap();
        assert_eq!(b.available, Credits(1000 - 50 - 300 + 30));
        assert_eq!(b.reserved, Credits(300 - 120 - 30));
        assert_eq!(b.consumed, Credits(120));
        assert_eq!(b.total(), Some(Credits(950)));
    }
}
