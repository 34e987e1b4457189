//! Outfits the text names or asks to be covered: a garment's look (top,
//! trousers or skirt, sleeves, a band or drape) in the text's colour, drawn
//! from a few pieces; outfits of a style alone are in `outfit.rs`.

use super::*;

/// What is worn below the top.
#[derive(Clone, Copy)]
pub(super) enum Bottom {
    /// Trousers or shorts, down this share of the leg.
    Legs(f32),
    /// A skirt or a dress's skirt from the waist to `hem`, flaring by `flare`
    /// (times the hip); `from` is where it starts.
    Skirt { from: f32, hem: f32, flare: f32 },
}

/// An outfit the text named (a garment) or asked to be covered, drawn from
/// a few pieces: a top, what is below it, sleeves.
#[derive(Clone, Copy)]
pub(super) struct Look {
    pub(super) top: Color,
    pub(super) top_from: f32,
    pub(super) top_to: f32,
    pub(super) grow: f32,
    pub(super) bottom: Bottom,
    pub(super) bottom_color: Color,
    /// How far down the arm the sleeves reach, 0 to 0.96.
    pub(super) sleeve: f32,
    pub(super) sleeve_color: Color,
    /// A band across the waist (a kimono's obi, a belt), or a sari's drape.
    pub(super) band: Option<Color>,
    pub(super) drape: Option<Color>,
}

/// The colour the text gives the clothes, else `default`.
fn cloth(idea: &Idea, default: Color) -> Color {
    idea.colour.map_or(default, |c| rgb(c.rgb()))
}

/// The look of an idea whose text names a garment the style drawing does
/// not show, or asks for covered clothes; `None` leaves it to the style.
pub(super) fn look(idea: &Idea, palette: &Palette) -> Option<Look> {
    use Garment::*;
    let main = rgb(palette.main);
    let accent = rgb(palette.accent);
    let denim = rgb(0x3b5b85);
    let dark = rgb(0x2b2b33);
    let c = cloth(idea, main);
    let top = |color: Color, to: f32, sleeve: f32, bottom: Bottom, bottom_color: Color| Look {
        top: color,
        top_from: SHOULDER_Y,
        top_to: to,
        grow: 4.0,
        bottom,
        bottom_color,
        sleeve,
        sleeve_color: color,
        band: None,
        drape: None,
    };
    let skirt = |hem: f32, flare: f32| Bottom::Skirt {
        from: WAIST_Y,
        hem,
        flare,
    };
    let floor = ANKLE_Y + 16.0;
    let mut l = match idea.garment {
        Some(g) if g.is_dress() => {
            let (hem, flare, sleeve) = match g {
                MiniDress => (CROTCH_Y + 70.0, 1.1, 0.0),
                MidiDress => (KNEE_Y + 70.0, 1.2, 0.28),
                LongDress | MaxiDress => (floor, 1.4, 0.28),
                EveningDress | WeddingDress => (floor, 1.9, 0.0),
                PartyDress | SummerDress => (KNEE_Y + 10.0, 1.3, 0.0),
                _ => (KNEE_Y + 10.0, 1.15, 0.28),
            };
            let color = if g == WeddingDress {
                cloth(idea, rgb(0xfbfaf5))
            } else {
                c
            };
            let mut l = top(color, WAIST_Y + 4.0, sleeve, skirt(hem, flare), color);
            l.top_from = SHOULDER_Y + 14.0;
            l
        }
        Some(Skirt) => top(
            rgb(0xf2f0ea),
            WAIST_Y + 8.0,
            0.5,
            skirt(KNEE_Y + 20.0, 1.15),
            c,
        ),
        Some(LongSkirt) => top(rgb(0xf2f0ea), WAIST_Y + 8.0, 0.5, skirt(floor, 1.4), c),
        Some(MiniSkirt) => top(
            rgb(0xf2f0ea),
            WAIST_Y + 8.0,
            0.28,
            skirt(CROTCH_Y + 60.0, 1.1),
            c,
        ),
        Some(Blouse) => top(c, HIP_Y, 0.6, Bottom::Legs(1.0), dark),
        Some(Shirt) => top(c, HIP_Y + 6.0, 0.94, Bottom::Legs(1.0), denim),
        Some(TShirt) => top(c, HIP_Y + 6.0, 0.28, Bottom::Legs(1.0), denim),
        Some(Polo) => top(c, HIP_Y + 6.0, 0.28, Bottom::Legs(1.0), rgb(0xc8b48a)),
        Some(Knitwear) => top(c, HIP_Y + 10.0, 0.94, Bottom::Legs(1.0), dark),
        Some(Hoodie) => {
            let mut l = top(c, HIP_Y + 18.0, 0.94, Bottom::Legs(1.0), rgb(0x6b6b6b));
            l.grow = 10.0;
            l
        }
        Some(Jeans) => top(
            main,
            HIP_Y + 6.0,
            0.28,
            Bottom::Legs(1.0),
            cloth(idea, denim),
        ),
        Some(Trousers) => top(main, HIP_Y + 6.0, 0.28, Bottom::Legs(1.0), c),
        Some(Shorts) => top(
            main,
            HIP_Y + 6.0,
            0.28,
            Bottom::Legs(0.45),
            cloth(idea, denim),
        ),
        Some(Coat) => {
            let mut l = top(c, KNEE_Y + 10.0, 0.94, Bottom::Legs(1.0), dark);
            l.grow = 12.0;
            l
        }
        Some(Jacket) => {
            let mut l = top(c, HIP_Y + 16.0, 0.94, Bottom::Legs(1.0), denim);
            l.grow = 9.0;
            l
        }
        Some(Activewear) => top(c, HIP_Y - 4.0, 0.28, Bottom::Legs(0.94), shade(c, 0.45)),
        Some(CropTop) => {
            let mut l = top(c, WAIST_Y - 40.0, 0.0, Bottom::Legs(1.0), denim);
            l.top_from = SHOULDER_Y + 12.0;
            l
        }
        Some(Uniform) => {
            let u = cloth(idea, rgb(0x5a7fa6));
            top(u, HIP_Y + 8.0, 0.28, Bottom::Legs(1.0), u)
        }
        Some(Abaya) => {
            let a = cloth(idea, rgb(0x1b1b1f));
            top(a, WAIST_Y + 4.0, 0.96, skirt(floor, 1.5), a)
        }
        Some(Kaftan) => {
            let mut l = top(c, WAIST_Y + 4.0, 0.9, skirt(floor, 1.6), c);
            l.drape = Some(accent);
            l
        }
        Some(Thobe) => {
            let t = cloth(idea, rgb(0xf4f4f0));
            top(t, WAIST_Y + 4.0, 0.96, skirt(floor, 1.2), t)
        }
        Some(Sari) => {
            let mut l = top(c, WAIST_Y - 20.0, 0.2, skirt(floor, 1.3), c);
            l.drape = Some(shade(c, 0.2));
            l
        }
        Some(SalwarKameez) => {
            let mut l = top(
                c,
                WAIST_Y,
                0.6,
                Bottom::Skirt {
                    from: WAIST_Y,
                    hem: KNEE_Y,
                    flare: 1.25,
                },
                c,
            );
            l.drape = Some(accent);
            l
        }
        Some(Kimono) => {
            let mut l = top(c, WAIST_Y + 4.0, 0.8, skirt(floor, 1.15), c);
            l.band = Some(accent);
            l
        }
        Some(Hanbok) => top(
            accent,
            WAIST_Y - 40.0,
            0.9,
            Bottom::Skirt {
                from: WAIST_Y - 40.0,
                hem: floor,
                flare: 2.0,
            },
            c,
        ),
        Some(Cheongsam) => top(c, WAIST_Y + 4.0, 0.0, skirt(KNEE_Y + 40.0, 1.05), c),
        Some(Jumpsuit) => top(c, HIP_Y, 0.28, Bottom::Legs(1.0), c),
        Some(Sleepwear) => {
            let p = cloth(idea, rgb(0xb8c8e8));
            top(p, HIP_Y + 8.0, 0.94, Bottom::Legs(1.0), p)
        }
        Some(ModestSwimwear) => top(c, HIP_Y + 30.0, 0.94, Bottom::Legs(1.0), shade(c, 0.3)),
        // Suits, blazers, tuxedos, swimwear and lingerie: the style's drawing.
        _ if !idea.covered => return None,
        _ => {
            // Covered, in the style's colours: a long tunic over a long
            // skirt (women) or trousers (men).
            let bottom = if idea.gender == Gender::Female {
                skirt(floor, 1.3)
            } else {
                Bottom::Legs(1.0)
            };
            let t = match idea.style {
                Style::Business | Style::Formal => cloth(idea, suit(idea)),
                _ => c,
            };
            top(t, HIP_Y + 24.0, 0.96, bottom, shade(t, 0.25))
        }
    };
    if idea.covered {
        // Long sleeves and a long hem, whatever the garment.
        l.sleeve = l.sleeve.max(0.96);
        l.top_from = SHOULDER_Y;
        l.top_to = l.top_to.max(HIP_Y);
        match &mut l.bottom {
            Bottom::Legs(len) => *len = 1.0,
            Bottom::Skirt { hem, .. } => *hem = hem.max(floor),
        }
    }
    Some(l)
}

/// Draws a [`Look`]: what is below, then the top, bands and drapes.
pub(super) fn draw_look(c: &mut Canvas, l: &Look, body: &Body) {
    match l.bottom {
        Bottom::Legs(length) => {
            for leg in &body.legs {
                let part = partial(leg, length);
                c.limb(
                    &part,
                    body.thigh + 5.0,
                    body.thigh * (1.0 - 0.5 * length) + 5.0,
                    l.bottom_color,
                );
            }
            c.poly(&body.pelvis(2.5), l.bottom_color);
        }
        Bottom::Skirt { from, hem, flare } => {
            let w = body.half_width(from) + 2.0;
            c.poly(
                &[
                    Pt(CX - w, from),
                    Pt(CX + w, from),
                    Pt(CX + body.hip + 6.0, HIP_Y + 20.0),
                    Pt(CX + body.hip * flare, hem),
                    Pt(CX - body.hip * flare, hem),
                    Pt(CX - body.hip - 6.0, HIP_Y + 20.0),
                ],
                l.bottom_color,
            );
        }
    }
    if l.top_to > HIP_Y + 20.0 {
        // A tunic or coat below the hips: straight down from the torso.
        c.poly(&body.torso(l.top_from, HIP_Y, l.grow), l.top);
        let w = body.half_width(HIP_Y) + l.grow;
        c.poly(
            &[
                Pt(CX - w, HIP_Y - 2.0),
                Pt(CX + w, HIP_Y - 2.0),
                Pt(CX + w * 1.08, l.top_to),
                Pt(CX - w * 1.08, l.top_to),
            ],
            l.top,
        );
    } else {
        c.poly(&body.torso(l.top_from, l.top_to, l.grow), l.top);
    }
    if let Some(band) = l.band {
        c.line(
            &[
                Pt(CX - body.waist - 4.0, WAIST_Y - 6.0),
                Pt(CX + body.waist + 4.0, WAIST_Y - 6.0),
            ],
            band,
            16.0,
        );
    }
    if let Some(drape) = l.drape {
        c.line(
            &[
                Pt(CX + body.shoulder * 0.6, SHOULDER_Y + 4.0),
                Pt(CX - body.waist * 0.8, WAIST_Y + 10.0),
            ],
            drape,
            18.0,
        );
    }
}
