use super::*;

#[test]
fn what_the_text_names_is_read_and_settles_its_setting() {
    let r = SceneryReading::read("modern studio, white background");
    assert_eq!(r.setting, Some(Setting::Studio));
    assert_eq!(r.colour(), Some(Colour::White));
    let r = SceneryReading::read("a busy city street at sunset");
    assert_eq!(r.setting, Some(Setting::Outdoor));
    assert_eq!(r.place(), Some(Place::Street));
    assert_eq!(r.light(), Some(Light::GoldenHour));
    assert!(r.people, "busy asks for people");
    let r = SceneryReading::read("cosy loft with exposed brick");
    assert_eq!(
        (r.setting, r.place()),
        (Some(Setting::Interior), Some(Place::Loft))
    );
    assert!(!r.people);
    let r = SceneryReading::read("a city street background");
    assert_eq!(
        (r.setting, r.place()),
        (Some(Setting::Outdoor), Some(Place::Street))
    );
    let r = SceneryReading::read("an outdoor cafe");
    assert_eq!(
        (r.setting, r.place()),
        (Some(Setting::Outdoor), Some(Place::Cafe))
    );
    let r = SceneryReading::read("a beach or a loft, at sunset or at night");
    assert_eq!(r.setting, None, "each scenery's setting is its place's");
    assert_eq!(r.places, [Place::Beach, Place::Loft]);
    assert_eq!(r.lights, [Light::GoldenHour, Light::Night]);
    let r = SceneryReading::read("white or grey seamless paper and a cyclorama");
    assert_eq!(r.colours, [Colour::White, Colour::Gray]);
    assert_eq!(r.backdrops, [Backdrop::Paper, Backdrop::Cyclorama]);
    assert_eq!(r.setting, Some(Setting::Studio));
    let r = SceneryReading::read("plain beige backdrop");
    assert_eq!(
        (r.setting, r.colour()),
        (Some(Setting::Studio), Some(Colour::Beige))
    );
    let r = SceneryReading::read("something nice");
    assert_eq!(r, SceneryReading::default());
}

#[test]
fn a_batch_keeps_what_the_text_settles_and_varies_the_rest() {
    for text in [
        "studio, white",
        "beach",
        "industrial loft at night",
        "",
        "outdoor",
        "a beach or a loft, at sunset or at night",
        "forest, mountains, field or desert",
        "white or grey seamless paper and a cyclorama",
    ] {
        let reading = SceneryReading::read(text);
        for count in [1, 4, 10, 20] {
            let ideas = plan(&reading, count, 7);
            assert_eq!(ideas.len(), count as usize);
            for idea in &ideas {
                if let Some(s) = reading.setting {
                    assert_eq!(idea.setting, s, "{text}");
                }
                if !reading.colours.is_empty() {
                    assert!(reading.colours.contains(&idea.colour.unwrap()), "{text}");
                }
                if !reading.backdrops.is_empty() {
                    assert!(
                        reading.backdrops.contains(&idea.backdrop.unwrap()),
                        "{text}"
                    );
                }
                if !reading.places.is_empty() {
                    assert!(reading.places.contains(&idea.place.unwrap()), "{text}");
                }
                if !reading.lights.is_empty() {
                    assert!(reading.lights.contains(&idea.light.unwrap()), "{text}");
                }
                assert_eq!(idea.backdrop.is_some(), idea.setting == Setting::Studio);
                assert_eq!(idea.place.is_some(), idea.setting != Setting::Studio);
                assert_ne!(idea.seed, 0);
            }
            let names = names(&ideas);
            let mut distinct = names.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), names.len(), "{names:?}");
        }
    }
    // While combinations remain, no two sceneries are the same.
    for (text, count) in [
        ("white studio", 3),
        ("beach", 3),
        ("studio", 18),
        ("a room", 15),
        ("", 20),
        ("a beach or a loft, at sunset or at night", 4),
        ("forest, mountains, field or desert", 12),
        ("white or grey seamless paper and a cyclorama", 4),
    ] {
        let ideas = plan(&SceneryReading::read(text), count, 11);
        let plain: std::collections::HashSet<String> =
            ideas.iter().map(SceneryIdea::name).collect();
        assert_eq!(plain.len(), count as usize, "{text}: {plain:?}");
    }
    let open = plan(&SceneryReading::default(), 10, 3);
    let settings: std::collections::HashSet<_> = open.iter().map(|i| i.setting).collect();
    assert_eq!(settings.len(), 3, "an open text visits every setting");
    assert_eq!(
        plan(&SceneryReading::default(), 10, 3),
        open,
        "deterministic"
    );
}

#[test]
fn names_say_what_the_scenery_is() {
    let studio = SceneryIdea {
        setting: Setting::Studio,
        backdrop: Some(Backdrop::Paper),
        place: None,
        colour: Some(Colour::White),
        light: None,
        seed: 1,
    };
    assert_eq!(studio.name(), "Studio - White Seamless Paper");
    let street = SceneryIdea {
        setting: Setting::Outdoor,
        backdrop: None,
        place: Some(Place::Street),
        colour: None,
        light: Some(Light::GoldenHour),
        seed: 1,
    };
    assert_eq!(street.name(), "Outdoor - City Street, Golden Hour");
}

#[test]
fn the_prompt_keeps_the_words_and_adds_nothing_against_them() {
    let reading = SceneryReading::read("white studio");
    let idea = &plan(&reading, 1, 1)[0];
    let prompt = scenery_prompt("white studio", idea, &reading);
    assert!(prompt.contains(". white studio."), "{prompt}");
    assert!(prompt.contains("no people"), "{prompt}");
    assert!(
        !prompt.contains("White colour"),
        "the colour is the text's: {prompt}"
    );
    let crowd = "a crowded market with shoppers";
    let reading = SceneryReading::read(crowd);
    let prompt = scenery_prompt(crowd, &plan(&reading, 1, 1)[0], &reading);
    assert!(!prompt.contains("no people"), "{prompt}");
    assert!(prompt.contains(crowd), "{prompt}");
}
