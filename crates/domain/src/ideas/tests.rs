use super::*;

#[test]
fn reads_the_example_from_the_contract() {
    let a = Attributes::read("young female model, athletic build, natural makeup, for sportswear");
    assert_eq!(a.gender, vec![Gender::Female]);
    assert_eq!(a.age, vec![Age::YoungAdult]);
    assert_eq!(a.build, vec![Build::Athletic]);
    assert_eq!(a.makeup, vec![Makeup::Natural]);
    assert_eq!(a.style, vec![Style::Sportswear]);
    assert!(a.skin_tone.is_empty() && a.hair_color.is_empty() && a.pose.is_empty());
}

#[test]
fn athletic_wear_is_a_style_not_a_build_and_red_lips_not_red_hair() {
    let a = Attributes::read("Man in athletic wear with red lips");
    assert_eq!(a.style, vec![Style::Sportswear]);
    assert!(a.build.is_empty());
    assert_eq!(a.makeup, vec![Makeup::Bold]);
    assert!(a.hair_color.is_empty());
    assert_eq!(a.gender, vec![Gender::Male]);
}

#[test]
fn several_values_named_vary_among_themselves() {
    let a = Attributes::read("blonde or redhead women, long curly hair, beachwear");
    assert_eq!(a.hair_color.len(), 2);
    let ideas = a.ideas(10, 7);
    assert!(
        ideas
            .iter()
            .all(|i| [HairColor::Blonde, HairColor::Red].contains(&i.hair_color))
    );
    assert!(ideas.iter().any(|i| i.hair_color == HairColor::Blonde));
    assert!(ideas.iter().any(|i| i.hair_color == HairColor::Red));
    assert!(ideas.iter().all(|i| i.hair_length == HairLength::Long
        && i.hair_style == HairStyle::Curly
        && i.style == Style::Swimwear
        && i.gender == Gender::Female));
}

#[test]
fn names_follow_the_contract_form() {
    let a = Attributes::read("female, sportswear");
    let idea = a.ideas(1, 1)[0];
    assert_eq!(idea.name(), "Female Model - Sportswear");
}

#[test]
fn ideas_are_deterministic_in_the_seed() {
    let a = Attributes::read("casual");
    assert_eq!(a.ideas(10, 42), a.ideas(10, 42));
    assert_ne!(a.ideas(10, 42), a.ideas(10, 43));
}

#[test]
fn ideas_of_a_batch_are_distinct_even_when_everything_is_fixed() {
    let a = Attributes::read(
        "young female, slim, fair skin, long straight blonde hair, natural makeup, smiling, standing, casual",
    );
    let ideas = a.ideas(8, 3);
    for (i, x) in ideas.iter().enumerate() {
        for y in &ideas[i + 1..] {
            assert_ne!(x, y);
        }
    }
}

#[test]
fn seed_depends_on_batch_and_text() {
    assert_ne!(seed("batch_a", "x"), seed("batch_b", "x"));
    assert_ne!(seed("batch_a", "x"), seed("batch_a", "y"));
    assert_eq!(seed("batch_a", "x"), seed("batch_a", "x"));
}

#[test]
fn an_older_man_with_a_grey_beard_gets_both() {
    let a = Attributes::read("older man, grey beard, business suit");
    assert_eq!(a.age, vec![Age::Senior]);
    assert_eq!(a.gender, vec![Gender::Male]);
    assert_eq!(a.facial_hair, vec![FacialHair::Beard]);
    assert_eq!(a.hair_color, vec![HairColor::Gray]);
    assert_eq!(a.garments, vec![Garment::Suit]);
    assert!(a.unread.is_empty(), "{:?}", a.unread);
    for idea in a.ideas(6, 9) {
        assert_eq!(idea.facial_hair, FacialHair::Beard);
        assert_eq!(idea.hair_color, HairColor::Gray);
        assert_eq!(idea.style, Style::Business);
        assert_eq!(idea.garment, Some(Garment::Suit));
    }
}

#[test]
fn children_are_children_and_never_in_swimwear() {
    let a = Attributes::read("child model for kids clothing");
    assert_eq!(a.age, vec![Age::Child]);
    assert!(a.unread.is_empty(), "{:?}", a.unread);
    let b = Attributes::read("young kids, swimwear");
    assert_eq!(b.age, vec![Age::Child]);
    assert!(b.refusal().unwrap().contains("'swimwear'"));
    for idea in a.ideas(20, 4).into_iter().chain(b.ideas(20, 5)) {
        assert_eq!(idea.age, Age::Child);
        assert!(!matches!(idea.style, Style::Swimwear | Style::Lingerie));
        assert_eq!(idea.garment, None);
        assert_eq!(idea.facial_hair, FacialHair::None);
    }
}

#[test]
fn adults_only_unless_asked_and_seniors_are_grey_or_white() {
    let ideas = Attributes::read("a model").ideas(20, 11);
    assert!(ideas.iter().all(|i| !i.age.is_minor()));
    for idea in ideas.iter().filter(|i| i.age == Age::Senior) {
        assert!(matches!(
            idea.hair_color,
            HairColor::Gray | HairColor::White
        ));
    }
    assert!(ideas.iter().all(|i| i.facial_hair == FacialHair::None
        && i.eyewear == Eyewear::None
        && i.headwear == Headwear::None));
    let seeds: std::collections::HashSet<u32> = ideas.iter().map(|i| i.seed).collect();
    assert_eq!(seeds.len(), ideas.len());
}

#[test]
fn accessories_are_read_and_unknown_words_are_kept_to_tell() {
    let a = Attributes::read("Asian woman with glasses and a hijab, sitting on a stool");
    assert_eq!(a.eyewear, vec![Eyewear::Glasses]);
    assert_eq!(a.headwear, vec![Headwear::Hijab]);
    assert_eq!(a.unread, vec!["asian", "sitting", "stool"]);
    let b = Attributes::read("teen boy in a beanie and sunglasses, stubble");
    assert_eq!(b.age, vec![Age::Teen]);
    assert_eq!(b.headwear, vec![Headwear::Beanie]);
    assert_eq!(b.eyewear, vec![Eyewear::Sunglasses]);
    let idea = b.ideas(1, 1)[0];
    assert_eq!(idea.facial_hair, FacialHair::None);
    assert_eq!(
        b.not_drawn(&idea),
        vec!["facial hair (not for children)".to_string()]
    );
}

#[test]
fn ideas_stored_before_the_new_attributes_still_read() {
    let old = r#"{"gender":"male","age":"adult","build":"slim","skin_tone":"tan","hair_color":"black","hair_length":"short","hair_style":"wavy","makeup":"none","expression":"neutral","pose":"standing","style":"casual","palette":3}"#;
    let idea: Idea = serde_json::from_str(old).unwrap();
    assert_eq!(idea.facial_hair, FacialHair::None);
    assert_eq!(idea.seed, 0);
}
