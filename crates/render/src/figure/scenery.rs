//! Sceneries: empty sets drawn in the 900×600 landscape design space. A studio
//! is its backdrop (seamless paper, a cyclorama or a painted wall) in the
//! idea's colour; a room is a wall, a floor and a window whose light follows
//! the time of day; outside is a sky for the light over the ground of the
//! place. Every shape leaves the middle free, where a person would stand.

use mannequin_domain::ideas::Colour;
use mannequin_domain::ideas::scenery::{Backdrop, Light, Place, SceneryIdea, Setting};
use tiny_skia::{GradientStop, LinearGradient, Paint, Pixmap, Point, SpreadMode, Transform};

use super::canvas::{Canvas, Pt, rgb, rgba, shade};

pub const W: f32 = 900.0;
pub const H: f32 = 600.0;
/// Where floor or ground meets wall or sky.
const HORIZON: f32 = 400.0;

/// Paints `idea` onto `pixmap`, scaled by `transform`.
pub fn paint(pixmap: &mut Pixmap, transform: Transform, idea: &SceneryIdea) {
    let mut c = Canvas { pixmap, transform };
    match idea.setting {
        Setting::Studio => studio(&mut c, idea),
        Setting::Interior => room(&mut c, idea),
        Setting::Outdoor => outside(&mut c, idea),
    }
}

/// A vertical gradient over the band `y0..y1`, `top` to `bottom`.
fn band(c: &mut Canvas, y0: f32, y1: f32, top: tiny_skia::Color, bottom: tiny_skia::Color) {
    let shader = LinearGradient::new(
        Point::from_xy(0.0, y0),
        Point::from_xy(0.0, y1),
        vec![GradientStop::new(0.0, top), GradientStop::new(1.0, bottom)],
        SpreadMode::Pad,
        Transform::identity(),
    );
    let (Some(shader), Some(rect)) = (shader, tiny_skia::Rect::from_ltrb(0.0, y0, W, y1)) else {
        return;
    };
    let paint = Paint {
        shader,
        anti_alias: false,
        ..Default::default()
    };
    c.pixmap.fill_rect(rect, &paint, c.transform, None);
}

fn studio(c: &mut Canvas, idea: &SceneryIdea) {
    let base = rgb(idea.colour.unwrap_or(Colour::White).rgb());
    match idea.backdrop.unwrap_or(Backdrop::Paper) {
        Backdrop::Cyclorama => {
            // One surface curving into the floor: no line anywhere.
            band(c, 0.0, H, shade(base, 0.10), shade(base, -0.25));
        }
        Backdrop::Paper => {
            band(c, 0.0, HORIZON + 60.0, shade(base, 0.06), base);
            band(c, HORIZON + 60.0, H, base, shade(base, 0.08));
            // The roll at the top, and the paper's soft sweep onto the floor.
            c.rect(60.0, 0.0, 840.0, 18.0, shade(base, 0.22));
            c.quad_line(
                Pt(60.0, HORIZON + 40.0),
                Pt(450.0, HORIZON + 80.0),
                Pt(840.0, HORIZON + 40.0),
                rgba(0x000000, 14),
                6.0,
            );
            for x in [60.0, 840.0] {
                c.line(&[Pt(x, 0.0), Pt(x, H)], rgba(0x000000, 20), 2.0);
            }
        }
        Backdrop::Wall => {
            band(c, 0.0, HORIZON, shade(base, 0.04), shade(base, 0.10));
            // A pale wooden floor meeting the wall at a line.
            band(c, HORIZON, H, rgb(0xc9_a57a), rgb(0xa8_825a));
            for i in 0..8 {
                let x = 40.0 + i as f32 * 120.0;
                c.line(
                    &[Pt(x, HORIZON), Pt(x * 1.6 - 270.0, H)],
                    rgba(0x5a_3e22, 50),
                    2.0,
                );
            }
            c.line(&[Pt(0.0, HORIZON), Pt(W, HORIZON)], shade(base, 0.3), 3.0);
        }
    }
    // The light on the backdrop: brighter behind where a person would stand,
    // fading out towards the edges.
    let glow = tiny_skia::RadialGradient::new(
        Point::from_xy(450.0, 373.0),
        0.0,
        Point::from_xy(450.0, 373.0),
        380.0,
        vec![
            GradientStop::new(0.0, rgba(0xffffff, 60)),
            GradientStop::new(1.0, rgba(0xffffff, 0)),
        ],
        SpreadMode::Pad,
        Transform::from_scale(1.0, 0.75),
    );
    if let (Some(shader), Some(rect)) = (glow, tiny_skia::Rect::from_ltrb(0.0, 0.0, W, H)) {
        let paint = Paint {
            shader,
            anti_alias: false,
            ..Default::default()
        };
        c.pixmap.fill_rect(rect, &paint, c.transform, None);
    }
}

/// The colour of a room's walls: the idea's, or the place's own.
fn wall_colour(idea: &SceneryIdea) -> u32 {
    match (idea.colour, idea.place) {
        (Some(colour), _) => colour.rgb(),
        (None, Some(Place::Loft)) => 0x9a_5a44,
        (None, Some(Place::Cafe)) => 0x3e_5a4a,
        (None, Some(Place::Office)) => 0xd9_dcdf,
        (None, Some(Place::Boutique)) => 0xf1_ede6,
        _ => 0xe6_d8c4,
    }
}

/// The sky's colours, top and bottom, for the light.
fn sky(light: Light) -> (u32, u32) {
    match light {
        Light::Day => (0x5f_9ed8, 0xcfe6f5),
        Light::GoldenHour => (0xe8_8a5a, 0xf8_d28a),
        Light::Overcast => (0x8e_9399, 0xc9_cccf),
        Light::Night => (0x0d_1330, 0x2c_3566),
    }
}

fn room(c: &mut Canvas, idea: &SceneryIdea) {
    let light = idea.light.unwrap_or(Light::Day);
    let wall = rgb(wall_colour(idea));
    let dim = if light == Light::Night { 0.45 } else { 0.0 };
    band(
        c,
        0.0,
        HORIZON,
        shade(wall, 0.05 + dim),
        shade(wall, 0.12 + dim),
    );
    band(
        c,
        HORIZON,
        H,
        shade(rgb(0xb0_8558), dim),
        shade(rgb(0x8a_6440), dim),
    );
    if idea.place == Some(Place::Loft) {
        // Brick courses.
        for row in 0..14 {
            let y = 20.0 + row as f32 * 27.0;
            c.line(&[Pt(0.0, y), Pt(W, y)], rgba(0x000000, 40), 2.0);
        }
    }
    // The window, and the light it lets in.
    let (top, bottom) = sky(light);
    c.rect(70.0, 70.0, 250.0, 330.0, rgb(0xf4_f1ea));
    c.rect(80.0, 80.0, 240.0, 320.0, rgb(bottom));
    c.rect(80.0, 80.0, 240.0, 200.0, rgb(top));
    c.line(&[Pt(160.0, 80.0), Pt(160.0, 320.0)], rgb(0xf4_f1ea), 6.0);
    c.line(&[Pt(80.0, 200.0), Pt(240.0, 200.0)], rgb(0xf4_f1ea), 6.0);
    if light == Light::Night {
        // A lamp's warm pool instead of daylight.
        c.ellipse(Pt(720.0, 330.0), 160.0, 110.0, rgba(0xffd27a, 60));
        c.line(&[Pt(720.0, 400.0), Pt(720.0, 250.0)], rgb(0x2b_2b2b), 4.0);
        c.ellipse(Pt(720.0, 245.0), 36.0, 22.0, rgb(0xf6_d9a0));
    } else {
        c.poly(
            &[
                Pt(80.0, 320.0),
                Pt(240.0, 320.0),
                Pt(520.0, H),
                Pt(140.0, H),
            ],
            rgba(0xffffff, 40),
        );
    }
    // What tells the rooms apart, kept to the right of where a person stands.
    match idea.place {
        Some(Place::LivingRoom) => {
            c.rect(640.0, 330.0, 880.0, 430.0, rgb(0x6a_7a8a));
            c.rect(640.0, 300.0, 880.0, 340.0, rgb(0x5a_6a7a));
        }
        Some(Place::Cafe) => {
            c.rect(600.0, 310.0, 900.0, 440.0, rgb(0x5a_3a24));
            for x in [650.0, 730.0, 810.0] {
                c.ellipse(Pt(x, 300.0), 14.0, 10.0, rgb(0xf0_ece4));
            }
        }
        Some(Place::Office) => {
            c.rect(620.0, 330.0, 880.0, 345.0, rgb(0x4a_4a4a));
            c.rect(700.0, 250.0, 800.0, 320.0, rgb(0x22_2226));
        }
        Some(Place::Boutique) => {
            c.line(&[Pt(620.0, 180.0), Pt(880.0, 180.0)], rgb(0x9a_9a9a), 5.0);
            for (i, colour) in [0xc8_2a2a, 0x3a_6fc8, 0xe8_c53a, 0x1b_1b1f, 0xf6_f4ef]
                .iter()
                .enumerate()
            {
                let x = 640.0 + i as f32 * 50.0;
                c.poly(
                    &[
                        Pt(x, 185.0),
                        Pt(x + 40.0, 185.0),
                        Pt(x + 44.0, 300.0),
                        Pt(x - 4.0, 300.0),
                    ],
                    rgb(*colour),
                );
            }
        }
        _ => {}
    }
}

fn outside(c: &mut Canvas, idea: &SceneryIdea) {
    let light = idea.light.unwrap_or(Light::Day);
    let (top, bottom) = sky(light);
    band(c, 0.0, HORIZON, rgb(top), rgb(bottom));
    match light {
        Light::Night => c.ellipse(Pt(760.0, 90.0), 26.0, 26.0, rgb(0xf2_f0e0)),
        Light::GoldenHour => c.ellipse(Pt(700.0, HORIZON - 30.0), 46.0, 46.0, rgb(0xff_e2a0)),
        Light::Day => c.ellipse(Pt(760.0, 80.0), 34.0, 34.0, rgb(0xff_f6d0)),
        Light::Overcast => {}
    }
    let dim = if light == Light::Night { 0.55 } else { 0.0 };
    let ground = |hex: u32| shade(rgb(hex), dim);
    match idea.place.unwrap_or(Place::Park) {
        Place::Street | Place::Rooftop => {
            // Buildings along the horizon, lit at night.
            let mut x = 0.0;
            for (i, h) in [180.0, 240.0, 150.0, 280.0, 200.0, 260.0, 170.0, 230.0]
                .iter()
                .enumerate()
            {
                let w = 100.0 + (i % 3) as f32 * 20.0;
                let top_y = HORIZON - h;
                c.rect(
                    x,
                    top_y,
                    x + w,
                    HORIZON,
                    shade(rgb(0x7a_7f88), dim + (i % 2) as f32 * 0.1),
                );
                let window = if light == Light::Night {
                    rgba(0xffd27a, 200)
                } else {
                    rgba(0xffffff, 70)
                };
                let mut y = top_y + 20.0;
                while y < HORIZON - 30.0 {
                    c.rect(x + 15.0, y, x + 30.0, y + 14.0, window);
                    c.rect(x + w - 30.0, y, x + w - 15.0, y + 14.0, window);
                    y += 34.0;
                }
                x += w + 12.0;
            }
            if idea.place == Some(Place::Rooftop) {
                band(c, HORIZON, H, ground(0xa0_a0a0), ground(0x80_8080));
                c.line(
                    &[Pt(0.0, HORIZON + 20.0), Pt(W, HORIZON + 20.0)],
                    ground(0x3a_3a3a),
                    5.0,
                );
                for i in 0..19 {
                    let x = i as f32 * 50.0;
                    c.line(
                        &[Pt(x, HORIZON), Pt(x, HORIZON + 20.0)],
                        ground(0x3a_3a3a),
                        3.0,
                    );
                }
            } else {
                band(
                    c,
                    HORIZON,
                    HORIZON + 50.0,
                    ground(0xb8_b4ac),
                    ground(0xa8_a49c),
                );
                band(c, HORIZON + 50.0, H, ground(0x5a_5c60), ground(0x44_4649));
                for i in 0..6 {
                    let x = 40.0 + i as f32 * 160.0;
                    c.line(
                        &[Pt(x, HORIZON + 120.0), Pt(x + 70.0, HORIZON + 120.0)],
                        ground(0xe8_e4d8),
                        6.0,
                    );
                }
            }
        }
        Place::Beach => {
            band(
                c,
                HORIZON - 40.0,
                HORIZON + 10.0,
                ground(0x2f_7fa8),
                ground(0x4a_a0c0),
            );
            band(c, HORIZON + 10.0, H, ground(0xe8_d6a8), ground(0xd4_bc88));
            c.quad_line(
                Pt(0.0, HORIZON + 18.0),
                Pt(450.0, HORIZON + 4.0),
                Pt(W, HORIZON + 22.0),
                rgba(0xffffff, 160),
                5.0,
            );
        }
        Place::Desert => {
            band(c, HORIZON, H, ground(0xe0_b070), ground(0xc8_9050));
            c.quad_line(
                Pt(0.0, HORIZON + 60.0),
                Pt(300.0, HORIZON - 10.0),
                Pt(620.0, HORIZON + 50.0),
                ground(0xb0_7a40),
                4.0,
            );
        }
        Place::Mountains => {
            c.poly(
                &[Pt(0.0, HORIZON), Pt(220.0, 170.0), Pt(420.0, HORIZON)],
                ground(0x6a_7488),
            );
            c.poly(
                &[Pt(300.0, HORIZON), Pt(560.0, 130.0), Pt(820.0, HORIZON)],
                ground(0x5a_6478),
            );
            c.poly(
                &[Pt(520.0, 190.0), Pt(560.0, 130.0), Pt(600.0, 190.0)],
                ground(0xf4_f6f8),
            );
            band(c, HORIZON, H, ground(0x7a_9a5a), ground(0x5a_7a40));
        }
        Place::Forest => {
            band(c, HORIZON, H, ground(0x4a_6a34), ground(0x36_5028));
            for (i, x) in [20.0, 110.0, 190.0, 690.0, 770.0, 860.0].iter().enumerate() {
                let h = 300.0 + (i % 3) as f32 * 40.0;
                c.rect(
                    x - 8.0,
                    HORIZON + 20.0,
                    x + 8.0,
                    HORIZON - 60.0,
                    ground(0x4a_3422),
                );
                c.poly(
                    &[
                        Pt(x - 55.0, HORIZON - 40.0),
                        Pt(*x, HORIZON - h),
                        Pt(x + 55.0, HORIZON - 40.0),
                    ],
                    ground(0x2a_5a34),
                );
            }
        }
        Place::Field => {
            band(c, HORIZON, H, ground(0x9a_b85a), ground(0x6a_9a3a));
            for i in 0..60 {
                let x = (i * 97 % 900) as f32;
                let y = HORIZON + 20.0 + (i * 53 % 180) as f32;
                let colour = [0xf0_d040, 0xf6_f4ef, 0xc8_5a8a][i % 3];
                c.ellipse(Pt(x, y), 4.0, 4.0, ground(colour));
            }
        }
        Place::Park
        | Place::Loft
        | Place::LivingRoom
        | Place::Cafe
        | Place::Office
        | Place::Boutique => {
            band(c, HORIZON, H, ground(0x7a_ac5a), ground(0x5a_8a40));
            for x in [90.0, 800.0] {
                c.rect(
                    x - 10.0,
                    HORIZON + 10.0,
                    x + 10.0,
                    HORIZON - 80.0,
                    ground(0x5a_4030),
                );
                c.ellipse(Pt(x, HORIZON - 130.0), 80.0, 70.0, ground(0x3f_7a3a));
            }
        }
    }
}
