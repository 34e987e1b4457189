//! Properties of the domain rules over generated inputs.

use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::ideas::{Gender, Headwear, Makeup, Style};
use mannequin_domain::ids::AssetId;
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
        prop_assume!(a.gender.len() == 1 && a.style.len() == 1 && a.garments.is_empty());
        if a.minor && matches!(style.1, Style::Swimwear) {
            // A child or teenager is never dressed in swimwear, whatever else
            // the text asks ("woman kid, for swimwear"): refused.
            prop_assert!(a.refusal().is_some());
            return Ok(());
        }
        for idea in a.ideas(count, seed) {
            prop_assert_eq!(idea.gender, gender.1);
            prop_assert_eq!(idea.style, style.1);
            let prefix = format!("{} Model - ", gender.1.label());
            prop_assert!(idea.name().starts_with(&prefix));
        }
    }

    /// Whatever the text, every idea the built-in plans keeps the rules, and
    /// the names of a batch are distinct.
    #[test]
    fn every_planned_idea_keeps_the_rules(text in "[a-zA-Z0-9 ,.'-]{0,120}", count in 1u32..=20, seed: u64) {
        let a = Attributes::read(&text);
        let ideas = a.ideas(count, seed);
        for idea in &ideas {
            prop_assert!(a.check(idea).is_ok(), "{:?}: {:?}", text, a.check(idea));
        }
        let mut names = a.names(&ideas);
        names.sort();
        names.dedup();
        prop_assert_eq!(names.len(), ideas.len());
    }

    /// A child word or a minor's age anywhere in any text: every idea is a
    /// minor with no makeup and nothing revealing, or the request is refused.
    #[test]
    fn a_sign_of_a_minor_anywhere_makes_every_idea_a_safe_minor(
        // No vowels around it: the words around can never make a phrase that
        // names no minor ("it girl", "old school").
        before in "[bcdfghjklmnpqrstvwxyz ,]{0,40}",
        minor in prop::sample::select(vec!["girl", "boy", "kid", "kids", "child", "children", "toddler", "baby", "teen", "teenager", "6 years old", "6yo", "aged 12", "school", "junior", "kids' line", "niña", "tween"]),
        after in "[bcdfghjklmnpqrstvwxyz ,]{0,40}",
        extra in prop::sample::select(vec!["", "glam makeup", "bikini", "swimwear", "lingerie", "crop top", "bold makeup", "sexy", "evening dress", "woman", "man", "senior", "beard"]),
        count in 1u32..=20,
        seed: u64,
    ) {
        let text = format!("{before} {minor} {after} {extra}");
        let a = Attributes::read(&text);
        prop_assert!(a.minor, "{:?}", text);
        if a.refusal().is_some() {
            return Ok(());
        }
        for (idea, name) in a.ideas(count, seed).iter().zip(a.names(&a.ideas(count, seed))) {
            prop_assert!(idea.age.is_minor());
            prop_assert_eq!(idea.makeup, Makeup::None);
            prop_assert!(!matches!(idea.style, Style::Swimwear | Style::Lingerie));
            prop_assert!(!idea.garment.is_some_and(|g| g.is_revealing()));
            let added = idea.parts(Some(&a)).join(", ");
            for word in ["glam", "bold makeup", "swimwear", "lingerie", "crop", "beard", "stubble"] {
                prop_assert!(!added.contains(word), "{:?}: {}", text, added);
                prop_assert!(!name.to_lowercase().contains(word), "{:?}: {}", text, name);
            }
        }
    }

    /// Hijab, niqab, abaya or "modest" anywhere: every idea covered, never
    /// in swimwear or lingerie the service added, and a woman unless the text
    /// names a man.
    #[test]
    fn modest_words_anywhere_make_every_idea_covered(
        before in "[bcdfghjklmnpqrstvwxyz ,]{0,40}",
        word in prop::sample::select(vec!["hijab", "hijabi", "headscarf", "niqab", "abaya", "modest", "covered", "long sleeves", "burkini"]),
        after in "[bcdfghjklmnpqrstvwxyz ,]{0,40}",
        count in 1u32..=20,
        seed: u64,
    ) {
        let text = format!("{before} {word} {after}");
        let a = Attributes::read(&text);
        prop_assume!(a.refusal().is_none());
        for idea in a.ideas(count, seed) {
            prop_assert!(idea.covered, "{:?}", text);
            if a.style.is_empty() {
                prop_assert!(!matches!(idea.style, Style::Swimwear | Style::Lingerie));
            }
            if matches!(word, "hijab" | "hijabi" | "headscarf" | "niqab") {
                prop_assert!(matches!(idea.headwear, Headwear::Hijab | Headwear::Niqab) || idea.gender == Gender::Male);
            }
            if !a.gender.contains(&Gender::Male) && word != "modest" && word != "covered" && word != "long sleeves" {
                prop_assert_eq!(idea.gender, Gender::Female, "{:?}", text);
            }
        }
    }

    #[test]
    fn free_attributes_spread_before_repeating(seed: u64) {
        // Nothing fixed: the first two ideas never share both gender and style.
        let ideas = Attributes::read("a model").ideas(2, seed);
        prop_assert!(ideas[0] != ideas[1]);
        prop_assert_ne!(ideas[0].gender, ideas[1].gender);
        prop_assert!(ideas.iter().all(|i| !matches!(i.style, Style::Swimwear | Style::Lingerie)));
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
    fn counts_are_accepted_exactly_in_their_kinds_range(n in -100i128..100) {
        for kind in mannequin_domain::AssetKind::ALL {
            let max = i128::from(kind.declaration().max_count);
            prop_assert_eq!(Count::of_kind(Some(n), kind).is_ok(), (1..=max).contains(&n));
        }
    }

    #[test]
    fn cursors_round_trip(ms in 0i64..4_000_000_000_000, id in "model_[0-9a-z]{26}") {
        let c = Cursor { created_at_ms: ms, id: AssetId::parse(&id).unwrap() };
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

mod sceneries {
    use mannequin_domain::ideas::scenery::{self, SceneryReading, Setting};
    use proptest::prelude::*;

    /// Words a scenery text is made of, with noise between them.
    const WORDS: &[&str] = &[
        "studio",
        "white",
        "grey",
        "beige",
        "blue",
        "seamless",
        "cyclorama",
        "painted wall",
        "backdrop",
        "loft",
        "cafe",
        "office",
        "street",
        "beach",
        "park",
        "forest",
        "desert",
        "mountains",
        "rooftop",
        "sunset",
        "night",
        "overcast",
        "daylight",
        "outdoor",
        "indoor",
        "people",
        "crowded",
        "or",
        "and",
        "with",
        "a",
        "modern",
        "cosy",
    ];

    proptest! {
        #[test]
        fn every_scenery_keeps_what_its_text_settles(
            picks in prop::collection::vec(prop::sample::select(WORDS), 0..8),
            count in 1u32..=20,
            seed: u64,
        ) {
            let text = picks.join(" ");
            let reading = SceneryReading::read(&text);
            let ideas = scenery::plan(&reading, count, seed);
            prop_assert_eq!(ideas.len(), count as usize);
            for idea in &ideas {
                if let Some(s) = reading.setting {
                    prop_assert_eq!(idea.setting, s);
                }
                let studio = idea.setting == Setting::Studio;
                prop_assert_eq!(idea.backdrop.is_some(), studio);
                prop_assert_eq!(idea.place.is_some(), !studio);
                if !reading.places.is_empty() && reading.setting.is_none() {
                    prop_assert!(reading.places.contains(&idea.place.unwrap()));
                }
                if !reading.colours.is_empty() && (studio || idea.colour.is_some()) {
                    prop_assert!(reading.colours.contains(&idea.colour.unwrap()));
                }
                if !reading.lights.is_empty() && !studio {
                    prop_assert!(reading.lights.contains(&idea.light.unwrap()));
                }
                let prompt = scenery::scenery_prompt(&text, idea, &reading);
                prop_assert!(prompt.contains(text.trim()));
                prop_assert_eq!(prompt.contains("no people"), !reading.people);
            }
            let names = scenery::names(&ideas);
            let mut distinct = names.clone();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(distinct.len(), names.len());
        }
    }
}
