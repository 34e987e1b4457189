//! Sceneries: the empty sets a model is photographed in. A scenery's text is
//! read for what it settles (the setting, the place, the backdrop, the colour,
//! the time of day); a batch varies the rest, each scenery distinct, and every
//! choice is deterministic in the batch's seed, as for models.
//!
//! What the customer wrote is law here too: a setting the text names is never
//! swapped for another, a colour named is the colour of every scenery, and
//! words the service adds (an empty set, the camera, the light) are left out
//! when the text says otherwise.

use serde::{Deserialize, Serialize};

use super::choosing::SplitMix64;
use super::reading::find_at;
use super::vocabulary::{Colour, attribute};
use super::words::tokens;

attribute!(
    /// Where a scenery is: a photo studio, a room, or outside.
    Setting {
    Studio => "Studio": ["studio", "studios", "photo studio", "photography studio"],
    Interior => "Interior": ["interior", "interiors", "indoor", "indoors", "inside", "room", "rooms"],
    Outdoor => "Outdoor": ["outdoor", "outdoors", "outside", "exterior", "open air", "location"],
});

attribute!(
    /// What a studio scenery's backdrop is.
    Backdrop {
    Paper => "Seamless Paper": ["seamless", "seamless paper", "paper", "paper backdrop", "paper roll"],
    Cyclorama => "Cyclorama": ["cyclorama", "cyc", "infinity cove", "infinity wall", "curved wall", "cove"],
    Wall => "Painted Wall": ["painted wall", "plain wall", "plaster", "plaster wall", "colored wall", "coloured wall"],
});

attribute!(
    /// A room or a place outside.
    Place {
    Loft => "Loft": ["loft", "industrial loft", "warehouse", "exposed brick", "brick wall"],
    LivingRoom => "Living Room": ["living room", "lounge", "apartment", "home", "sofa", "couch"],
    Cafe => "Cafe": ["cafe", "café", "coffee shop", "coffeeshop", "restaurant", "bistro"],
    Office => "Office": ["office", "workplace", "coworking", "meeting room"],
    Boutique => "Boutique": ["boutique", "shop", "store", "showroom", "retail"],
    Street => "City Street": ["street", "streets", "city", "urban", "downtown", "sidewalk", "pavement", "alley"],
    Beach => "Beach": ["beach", "seaside", "shore", "coast", "sand", "ocean", "sea"],
    Park => "Park": ["park", "garden", "lawn", "grass"],
    Forest => "Forest": ["forest", "woods", "woodland", "trees"],
    Field => "Meadow": ["meadow", "field", "fields", "countryside", "prairie", "wildflowers"],
    Desert => "Desert": ["desert", "dunes", "sand dunes"],
    Mountains => "Mountains": ["mountain", "mountains", "alpine", "hills", "hillside"],
    Rooftop => "Rooftop": ["rooftop", "roof terrace", "terrace", "skyline"],
});

attribute!(
    /// The time of day, or the sky, of a room or a place outside.
    Light {
    Day => "Daylight": ["day", "daylight", "daytime", "sunny", "sunshine", "morning", "noon", "midday", "bright"],
    GoldenHour => "Golden Hour": ["golden hour", "sunset", "sunrise", "dusk", "dawn", "evening sun", "warm light"],
    Overcast => "Overcast": ["overcast", "cloudy", "clouds", "grey sky", "gray sky", "rain", "rainy", "fog", "foggy", "mist", "misty"],
    Night => "Night": ["night", "nighttime", "evening", "neon", "moonlight", "after dark"],
});

impl Place {
    /// Where the place is: a room or outside.
    pub fn setting(self) -> Setting {
        match self {
            Place::Loft | Place::LivingRoom | Place::Cafe | Place::Office | Place::Boutique => {
                Setting::Interior
            }
            _ => Setting::Outdoor,
        }
    }
}

/// Words that ask for people in the picture: then the service does not add
/// that the set is empty.
const PEOPLE: &[&str] = &[
    "people",
    "person",
    "persons",
    "crowd",
    "crowds",
    "crowded",
    "busy",
    "model",
    "models",
    "man",
    "men",
    "woman",
    "women",
    "girl",
    "girls",
    "boy",
    "boys",
    "child",
    "children",
    "kid",
    "kids",
    "family",
    "couple",
    "pedestrians",
    "shoppers",
    "tourists",
    "visitors",
    "customers",
    "guests",
];

/// What a scenery text settles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SceneryReading {
    pub setting: Option<Setting>,
    /// The backdrops named (a studio's); one is every scenery's.
    pub backdrops: Vec<Backdrop>,
    /// The places named ("a beach or a park"): a batch's sceneries are among
    /// them; one is every scenery's.
    pub places: Vec<Place>,
    /// The colours named, as the backdrops.
    pub colours: Vec<Colour>,
    /// The lights named, as the places.
    pub lights: Vec<Light>,
    /// The text asks for people in the picture.
    pub people: bool,
}

impl SceneryReading {
    /// Reads free text. A place settles its setting, a backdrop (or a plain
    /// "background") the studio, unless the text names the setting itself:
    /// then the setting is the text's and the place is kept as it is ("an
    /// outdoor cafe").
    pub fn read(text: &str) -> SceneryReading {
        let owned: Vec<String> = tokens(text).into_iter().map(|t| t.word).collect();
        let mut words: Vec<&str> = owned.iter().map(String::as_str).collect();
        let people = words.iter().any(|w| PEOPLE.contains(w));
        let background = words
            .iter()
            .any(|w| matches!(*w, "background" | "backgrounds" | "backdrop" | "backdrops"));
        let places = all(find_at(&mut words, Place::candidates()));
        let backdrops = all(find_at(&mut words, Backdrop::candidates()));
        let named = first(find_at(&mut words, Setting::candidates()));
        let colours = all(find_at(&mut words, Colour::candidates()));
        let lights = all(find_at(&mut words, Light::candidates()));
        // Places of one setting settle it; places of several leave each
        // scenery's setting to its place.
        let of_places = places
            .first()
            .map(|p| p.setting())
            .filter(|s| places.iter().all(|p| p.setting() == *s));
        let setting = named
            .or(of_places)
            .or((places.is_empty() && (!backdrops.is_empty() || background))
                .then_some(Setting::Studio));
        let studio = setting == Some(Setting::Studio);
        SceneryReading {
            setting,
            backdrops: if studio { backdrops } else { Vec::new() },
            places: if studio { Vec::new() } else { places },
            colours,
            lights: if studio { Vec::new() } else { lights },
            people,
        }
    }

    /// The one backdrop every scenery has, when the text names one.
    pub fn backdrop(&self) -> Option<Backdrop> {
        one(&self.backdrops)
    }

    /// The one colour every scenery has, when the text names one.
    pub fn colour(&self) -> Option<Colour> {
        one(&self.colours)
    }

    /// The one place every scenery is, when the text names one.
    pub fn place(&self) -> Option<Place> {
        one(&self.places)
    }

    /// The one light every scenery has, when the text names one.
    pub fn light(&self) -> Option<Light> {
        one(&self.lights)
    }
}

fn one<T: Copy>(values: &[T]) -> Option<T> {
    match values {
        [v] => Some(*v),
        _ => None,
    }
}

/// Every value found, in the text's order.
fn all<T>(found: Vec<(T, usize)>) -> Vec<T> {
    found.into_iter().map(|f| f.0).collect()
}

/// The first value found, in the text's order.
fn first<T>(found: Vec<(T, usize)>) -> Option<T> {
    found.into_iter().next().map(|f| f.0)
}

/// One scenery of a batch: every attribute decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneryIdea {
    pub setting: Setting,
    /// A studio's backdrop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdrop: Option<Backdrop>,
    /// A room's or an outdoor scenery's place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// The backdrop's or the walls' colour, when the text names one or the
    /// scenery is a studio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<Colour>,
    /// A room's or a place's light.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light: Option<Light>,
    pub seed: u32,
}

/// Studio colours chosen when the text names none: the backdrops shops use.
const STUDIO_COLOURS: [Colour; 6] = [
    Colour::White,
    Colour::Gray,
    Colour::Beige,
    Colour::Blue,
    Colour::Green,
    Colour::Pink,
];
const INTERIORS: [Place; 5] = [
    Place::Loft,
    Place::LivingRoom,
    Place::Cafe,
    Place::Office,
    Place::Boutique,
];
const OUTDOORS: [Place; 8] = [
    Place::Street,
    Place::Beach,
    Place::Park,
    Place::Forest,
    Place::Field,
    Place::Desert,
    Place::Mountains,
    Place::Rooftop,
];
/// The light chosen when the text names none: the kinds fashion is shot in.
const LIGHTS: [Light; 3] = [Light::Day, Light::GoldenHour, Light::Overcast];

/// `count` sceneries for `reading`, distinct where the text leaves room: what
/// the text settles is the same in every one; the attributes it leaves open
/// are counted through like the digits of a number (the setting fastest, then
/// the colour or the place, then the backdrop or the light), each from a
/// starting point drawn from `seed`, so a batch walks through combinations
/// before it repeats one.
pub fn plan(reading: &SceneryReading, count: u32, seed: u64) -> Vec<SceneryIdea> {
    let mut rng = SplitMix64(seed);
    let mut start = |n: usize| rng.below(n as u64) as usize;
    let settings = [Setting::Studio, Setting::Interior, Setting::Outdoor];
    let starts = [
        start(settings.len()),
        start(STUDIO_COLOURS.len()),
        start(Backdrop::ALL.len()),
        start(OUTDOORS.len()),
        start(LIGHTS.len()),
    ];
    let mut ideas: Vec<SceneryIdea> = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        // The digits of `i`, fastest first, over the attributes left open.
        let mut rest = i;
        let mut digit = |free: bool, n: usize, from: usize| -> usize {
            if !free {
                return 0;
            }
            let d = rest % n;
            rest /= n;
            (from + d) % n
        };
        // Several places named, of several settings: the place is chosen
        // first, and its setting follows.
        let chosen_place = (reading.setting.is_none() && !reading.places.is_empty()).then(|| {
            reading.places[digit(reading.places.len() > 1, reading.places.len(), starts[3])]
        });
        let setting = match (reading.setting, chosen_place) {
            (Some(s), _) => s,
            (None, Some(p)) => p.setting(),
            (None, None) => settings[digit(true, settings.len(), starts[0])],
        };
        let idea = match setting {
            Setting::Studio => {
                let colours: &[Colour] = if reading.colours.is_empty() {
                    &STUDIO_COLOURS
                } else {
                    &reading.colours
                };
                let colour = colours[digit(colours.len() > 1, colours.len(), starts[1])];
                let backdrops: &[Backdrop] = if reading.backdrops.is_empty() {
                    Backdrop::ALL
                } else {
                    &reading.backdrops
                };
                let backdrop = backdrops[digit(backdrops.len() > 1, backdrops.len(), starts[2])];
                SceneryIdea {
                    setting,
                    backdrop: Some(backdrop),
                    place: None,
                    colour: Some(colour),
                    light: None,
                    seed: 0,
                }
            }
            Setting::Interior | Setting::Outdoor => {
                let places: &[Place] = match (&reading.places[..], setting) {
                    ([], Setting::Interior) => &INTERIORS,
                    ([], _) => &OUTDOORS,
                    (named, _) => named,
                };
                let place = chosen_place
                    .unwrap_or_else(|| places[digit(places.len() > 1, places.len(), starts[3])]);
                let lights: &[Light] = if reading.lights.is_empty() {
                    &LIGHTS
                } else {
                    &reading.lights
                };
                let light = lights[digit(lights.len() > 1, lights.len(), starts[4])];
                SceneryIdea {
                    setting,
                    backdrop: None,
                    place: Some(place),
                    // A room's walls in a colour the text names; outside,
                    // the colour is the text's to say (the prompt has it).
                    colour: match &reading.colours[..] {
                        [] => None,
                        named => Some(named[digit(named.len() > 1, named.len(), starts[1])]),
                    },
                    light: Some(light),
                    seed: 0,
                }
            }
        };
        ideas.push(idea);
    }
    for idea in &mut ideas {
        idea.seed = (rng.next_u64() as u32).max(1);
    }
    ideas
}

impl Light {
    /// The light as a prompt says it.
    pub fn prompt(self) -> &'static str {
        match self {
            Light::Day => "natural daylight",
            Light::GoldenHour => "warm golden-hour light",
            Light::Overcast => "soft overcast light",
            Light::Night => "night-time light",
        }
    }
}

impl SceneryIdea {
    /// What the scenery is, as its name says it: "Studio - White Seamless
    /// Paper", "Outdoor - City Street, Golden Hour".
    pub fn name(&self) -> String {
        let what = match (self.place, self.backdrop) {
            (Some(place), _) => place.label().to_string(),
            (None, Some(backdrop)) => match self.colour {
                Some(c) => format!("{} {}", title(c.label()), backdrop.label()),
                None => backdrop.label().to_string(),
            },
            (None, None) => "Set".to_string(),
        };
        let mut name = format!("{} - {what}", self.setting.label());
        if let Some(light) = self.light {
            name.push_str(", ");
            name.push_str(light.label());
        }
        name
    }

    /// The prompt's words for what the service chose: each attribute the
    /// text left open, in a sentence's order. Nothing the text settled is
    /// said again (the text itself is in the prompt).
    pub fn parts(&self, fixed: &SceneryReading) -> Vec<String> {
        let mut parts = Vec::new();
        if fixed.setting.is_none() {
            parts.push(
                match self.setting {
                    Setting::Studio => "a photo studio",
                    Setting::Interior => "an interior",
                    Setting::Outdoor => "an outdoor location",
                }
                .to_string(),
            );
        }
        if fixed.backdrop().is_none()
            && let Some(b) = self.backdrop
        {
            parts.push(format!("{} backdrop", b.label().to_lowercase()));
        }
        if fixed.colour().is_none()
            && let Some(c) = self.colour
        {
            parts.push(format!("{} colour", c.label()));
        }
        if fixed.place().is_none()
            && let Some(p) = self.place
        {
            parts.push(p.label().to_lowercase());
        }
        if fixed.light().is_none()
            && let Some(l) = self.light
        {
            parts.push(l.prompt().to_string());
        }
        parts
    }
}

/// The prompt a real image server gets for a scenery: the customer's words
/// verbatim, what the batch chose, and what a fashion photographer's set
/// needs (empty, the camera at a person's height, room for a full figure),
/// each of those left out when the text says otherwise.
pub fn scenery_prompt(text: &str, idea: &SceneryIdea, fixed: &SceneryReading) -> String {
    let mut prompt = String::from("Photograph of a set for full-body fashion photography");
    if !fixed.people {
        prompt.push_str(", empty, with no people in it");
    }
    prompt.push_str(". ");
    prompt.push_str(text.trim());
    if !prompt.ends_with(['.', '!', '?']) {
        prompt.push('.');
    }
    let parts = idea.parts(fixed);
    if !parts.is_empty() {
        prompt.push(' ');
        prompt.push_str(&capitalized(&parts.join(", ")));
        prompt.push('.');
    }
    prompt.push_str(
        " Camera at waist height, level, with room for a standing person from head to toe; \
         sharp focus, photorealistic.",
    );
    prompt
}

fn title(s: &str) -> String {
    capitalized(s)
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Names for a batch's sceneries, distinct: the idea's name, numbered when
/// two would be the same.
pub fn names(ideas: &[SceneryIdea]) -> Vec<String> {
    let plain: Vec<String> = ideas.iter().map(SceneryIdea::name).collect();
    plain
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let same = plain.iter().filter(|n| *n == name).count();
            if same == 1 {
                name.clone()
            } else {
                let nth = plain[..=i].iter().filter(|n| *n == name).count();
                format!("{name} {nth}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
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
}
