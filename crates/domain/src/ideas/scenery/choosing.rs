//! A batch of sceneries planned from a reading.

use super::super::choosing::SplitMix64;
use super::super::vocabulary::Colour;
use super::{Backdrop, Light, Place, SceneryIdea, SceneryReading, Setting};

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
