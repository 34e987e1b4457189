//! What a scenery text settles: the attributes a scenery decides, the
//! phrases that name their values, and the reading of a text into them.

use serde::{Deserialize, Serialize};

use super::super::reading::find_at;
use super::super::vocabulary::{Colour, attribute};
use super::super::words::tokens;

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
