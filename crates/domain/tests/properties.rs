//! Properties of the domain rules over generated inputs.

use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::ideas::{Gender, Style};
use mannequin_domain::ids::ModelId;
use mannequin_domain::request::Cursor;
use mannequin_domain::{Attributes, Count, Credits, Preferences, time};
use proptest::prelude::*;

proptest! {
    #[test]
    fn reading_any_text_never_panics_and_gives_count_ideas(text in ".{0,300}", count in 1u32..=20, seed: u64) {
        let ideas = Attributes::read(&text).ideas(count, seed);
        prop_assert_eq!(ideas.len(), count as usize);
    }

    #[test]
    fn what_the_text_fixes_holds_for_every_idea(
        gender in prop::sample::select(vec![("woman", Gender::Female), ("man", Gender::Male)]),
        style in prop::sample::select(vec![("sportswear", Style::Sportswear), ("swimwear", Style::Swimwear), ("business", Style::Business), ("streetwear", Style::Streetwear)]),
        filler in "[a-z ]{0,40}",
        count in 1u32..=20,
        seed: u64,
    ) {
        let text = format!("{} {filler}, for {}", gender.0, style.0);
        let a = Attributes::read(&text);
        prop_assume!(a.gender.len() == 1 && a.style.len() == 1);
        let minors = a.age.iter().any(|age| age.is_minor());
        for idea in a.ideas(count, seed) {
            prop_assert_eq!(idea.gender, gender.1);
            if minors && matches!(style.1, Style::Swimwear) {
                // A child or teenager is never dressed in swimwear, whatever
                // else the text asks ("woman kid, for swimwear").
                prop_assert_ne!(idea.style, Style::Swimwear);
                prop_assert!(a.not_drawn(&idea).iter().any(|w| w.contains("not for children")));
            } else {
                prop_assert_eq!(idea.style, style.1);
                prop_assert_eq!(idea.name(), format!("{} Model - {}", gender.1.label(), style.1.label()));
            }
        }
    }

    #[test]
    fn free_attributes_spread_before_repeating(seed: u64) {
        // Nothing fixed: the first two ideas never share both gender and style.
        let ideas = Attributes::read("a model").ideas(2, seed);
        prop_assert!(ideas[0] != ideas[1]);
        prop_assert_ne!(ideas[0].gender, ideas[1].gender);
    }

    #[test]
    fn preferences_are_the_trimmed_text_when_accepted(text in "\\PC{0,2100}") {
        match Preferences::parse(&text) {
            Ok(p) => {
                prop_assert_eq!(p.as_str(), text.trim());
                let n = p.as_str().chars().count();
                prop_assert!((1..=2000).contains(&n));
            }
            Err(_) => {
                let n = text.trim().chars().count();
                prop_assert!(n == 0 || n > 2000);
            }
        }
    }

    #[test]
    fn counts_are_accepted_exactly_in_range(n in -100i128..100) {
        prop_assert_eq!(Count::try_from(n).is_ok(), (1..=20).contains(&n));
    }

    #[test]
    fn cursors_round_trip(ms in 0i64..4_000_000_000_000, id in "model_[0-9a-z]{26}") {
        let c = Cursor { created_at_ms: ms, id: ModelId::parse(&id).unwrap() };
        prop_assert_eq!(Cursor::parse(&c.encode()), Ok(c));
    }

    #[test]
    fn timestamps_round_trip(ms in -2_000_000_000_000i64..8_000_000_000_000) {
        let s = time::format_millis(ms);
        prop_assert_eq!(s.len(), 24);
        prop_assert_eq!(time::parse_rfc3339(&s), Some(ms));
    }

    /// Any sequence of reserve then consume/refund per model keeps the contract's
    /// identity: grants − consumed − adjustments out = available + reserved.
    #[test]
    fn ledger_identity_holds_for_any_settlement(grant in 0i64..10_000, outcomes in prop::collection::vec(0u8..3, 0..50)) {
        let price = Credits::new(10);
        let mut b = Balances::default().apply(LedgerKind::Grant, Credits::new(grant)).unwrap();
        let mut consumed = Credits::ZERO;
        for o in outcomes {
            if b.available < price {
                break;
            }
            b = b.apply(LedgerKind::Reserve, price).unwrap();
            match o {
                0 => {
                    b = b.apply(LedgerKind::Consume, price).unwrap();
                    consumed = consumed.checked_add(price).unwrap();
                }
                1 => b = b.apply(LedgerKind::Refund, price).unwrap(),
                _ => {} // still outstanding
            }
            prop_assert!(!b.available.is_negative());
            prop_assert!(!b.reserved.is_negative());
            prop_assert_eq!(b.consumed, consumed);
            prop_assert_eq!(
                Credits::new(grant).checked_sub(consumed),
                b.available.checked_add(b.reserved)
            );
        }
    }
}
