use super::*;

fn config(product: &str, suggestions: Option<&str>) -> Config {
    Config {
        product: Named {
            id: "prod_1".into(),
            name: product.into(),
        },
        model: Some(Named {
            id: "model_1".into(),
            name: "Female Model - Casual".into(),
        }),
        scenery: None,
        preset: None,
        industry: None,
        suggestions: suggestions.map(str::to_string),
    }
}

#[test]
fn a_photo_shoot_varies_what_the_words_leave_open_and_keeps_what_they_say() {
    let c = config("White T-Shirt Front", None);
    let ideas = plan(AssetKind::PhotoShoot, &c, 6, 7);
    let shots: std::collections::HashSet<_> = ideas.iter().map(|i| (i.framing, i.angle)).collect();
    assert_eq!(shots.len(), 6, "six distinct shots: {ideas:?}");
    assert!(ideas.iter().all(|i| i.category == Some(Category::Top)));
    let seeds: std::collections::HashSet<_> = ideas.iter().map(|i| i.seed).collect();
    assert_eq!(seeds.len(), 6);
    assert_eq!(
        plan(AssetKind::PhotoShoot, &c, 6, 7),
        ideas,
        "deterministic"
    );

    let said = config(
        "Linen Trousers",
        Some("close-up shots from the side, walking"),
    );
    for idea in plan(AssetKind::PhotoShoot, &said, 5, 1) {
        assert_eq!(idea.framing, Framing::CloseUp);
        assert_eq!(idea.angle, Angle::Side);
        assert_eq!(idea.pose, Some(Pose::Walking));
        assert_eq!(idea.category, Some(Category::Bottom));
    }
    // A pose described in words the service does not name: none added.
    let seated = config("Linen Trousers", Some("seated on a bench"));
    assert!(
        plan(AssetKind::PhotoShoot, &seated, 4, 1)
            .iter()
            .all(|i| i.pose.is_none())
    );
    let p = prompt(
        AssetKind::PhotoShoot,
        &plan(AssetKind::PhotoShoot, &seated, 1, 1)[0],
    );
    assert!(p.contains("seated on a bench"), "{p}");
    assert!(!p.contains("standing") && !p.contains("walking"), "{p}");
}

#[test]
fn packshots_show_the_front_unless_the_words_or_the_preset_name_views() {
    let mut c = config("Glass Bottle", None);
    c.model = None;
    let ideas = plan(AssetKind::Packshot, &c, 3, 1);
    assert!(
        ideas
            .iter()
            .all(|i| i.angle == Angle::Front && i.framing == Framing::Whole)
    );
    let p = prompt(AssetKind::Packshot, &ideas[0]);
    assert!(p.contains("plain white background"), "{p}");
    assert!(p.contains("\"Glass Bottle\""), "{p}");
    c.preset = Some(PresetWords {
        id: "preset_x".into(),
        name: "Shop".into(),
        guidelines: "On a light grey background.".into(),
        quantity_guidelines: "A front view, a back view and one detail close-up.".into(),
        quality_guidelines: "Sharp.".into(),
    });
    let ideas = plan(AssetKind::Packshot, &c, 4, 1);
    let shots: Vec<(Framing, Angle)> = ideas.iter().map(|i| (i.framing, i.angle)).collect();
    assert_eq!(
        shots,
        [
            (Framing::Whole, Angle::Front),
            (Framing::Whole, Angle::Back),
            (Framing::CloseUp, Angle::Front),
            (Framing::Whole, Angle::Front),
        ],
        "the views the preset names, the whole product in each, and its detail"
    );
    let p = prompt(AssetKind::Packshot, &ideas[0]);
    assert!(!p.contains("white background"), "the preset's grey: {p}");
    assert!(p.contains("On a light grey background."), "{p}");
    // The customer's words come before the preset's.
    c.suggestions = Some("from above only".into());
    assert!(
        plan(AssetKind::Packshot, &c, 4, 1)
            .iter()
            .all(|i| i.angle == Angle::Top)
    );
}

#[test]
fn a_packshots_background_and_size_come_from_the_words_or_the_preset() {
    let mut c = config("Mug", None);
    assert_eq!(background(&c), None);
    assert_eq!(side(&c), None);
    c.preset = Some(PresetWords {
        id: "preset_x".into(),
        name: "Shop".into(),
        guidelines: "Centred. On a light grey background, 2000 x 2000 pixels.".into(),
        quantity_guidelines: String::new(),
        quality_guidelines: String::new(),
    });
    let grey = background(&c).expect("grey");
    assert!(
        grey[0] > 180 && grey[0] < 240 && grey[0].abs_diff(grey[2]) < 8,
        "{grey:?}"
    );
    assert_eq!(side(&c), Some(2000));
    c.suggestions = Some("white background please, 1500px".into());
    assert_eq!(
        background(&c),
        Some([255, 255, 255]),
        "the customer's words first"
    );
    assert_eq!(side(&c), Some(1500));
    c.suggestions = Some("3000x3000".into());
    assert_eq!(side(&c), Some(3000));
    c.suggestions = Some("size 10 x 20".into());
    assert_eq!(
        side(&c),
        Some(2000),
        "too small to be a picture's size: the preset's"
    );
}

#[test]
fn names_are_distinct_and_say_the_product() {
    let c = config("White T-Shirt", None);
    let ideas = plan(AssetKind::Packshot, &c, 3, 1);
    let names = names(AssetKind::Packshot, &ideas);
    assert_eq!(
        names,
        [
            "White T-Shirt Packshot 1",
            "White T-Shirt Packshot 2",
            "White T-Shirt Packshot 3"
        ]
    );
    let shoot = names_of_shoot();
    assert_eq!(shoot[0], "Fashion Shoot - White T-Shirt (Full Body, Front)");
    assert_eq!(
        shoot[1],
        "Fashion Shoot - White T-Shirt (Three-Quarter Length, Front)"
    );
}

fn names_of_shoot() -> Vec<String> {
    let c = config("White T-Shirt", None);
    names(
        AssetKind::PhotoShoot,
        &plan(AssetKind::PhotoShoot, &c, 2, 1),
    )
}

#[test]
fn a_minor_is_never_shown_in_swimwear_or_adult_styling() {
    let child = Attributes::read("six year old girl").ideas(1, 1)[0];
    assert!(child.age.is_minor());
    let bikini = config("Red Bikini Set", None);
    assert!(refusal(&bikini, Some(&child)).is_some());
    assert!(refusal(&bikini, None).is_none(), "an adult's bikini");
    let shirt = config("Kids T-Shirt", None);
    assert!(refusal(&shirt, Some(&child)).is_none());
    let glam = config("Kids T-Shirt", Some("glam makeup, red lipstick"));
    assert!(refusal(&glam, Some(&child)).is_some());
    assert!(
        refusal(&glam, None).is_some(),
        "the product's name says kids"
    );
}

#[test]
fn an_idea_is_stored_and_read_back_whole() {
    let idea = plan(
        AssetKind::PhotoShoot,
        &config("Tote Bag", Some("for summer")),
        1,
        3,
    )
    .remove(0);
    assert_eq!(idea.category, Some(Category::Bag));
    let json = serde_json::to_string(&idea).unwrap();
    assert!(json.contains("\"product\":{\"id\":\"prod_1\""), "{json}");
    let back: PictureIdea = serde_json::from_str(&json).unwrap();
    assert_eq!(back, idea);
    assert!(prompt(AssetKind::PhotoShoot, &idea).contains("carrying the product \"Tote Bag\""));
}
