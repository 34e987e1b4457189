//! The figure: body proportions from the idea's build and gender, the pose's arm
//! and leg positions, the outfit of its style, hair, face and makeup, drawn back
//! to front on a studio backdrop. All coordinates are in the 600×900 design space.

use mannequin_domain::Idea;
use mannequin_domain::ideas::{
    Age, Build, Expression, Gender, HairColor, HairLength, HairStyle, Makeup, Pose, SkinTone, Style,
};
use tiny_skia::{
    Color, FillRule, GradientStop, LineCap, LineJoin, LinearGradient, Paint, Path, PathBuilder,
    Pixmap, Point, Shader, SpreadMode, Stroke, Transform,
};

#[derive(Clone, Copy, Debug, PartialEq)]
struct Pt(f32, f32);

fn rgb(hex: u32) -> Color {
    Color::from_rgba8((hex >> 16) as u8, (hex >> 8) as u8, hex as u8, 255)
}

fn rgba(hex: u32, alpha: u8) -> Color {
    Color::from_rgba8((hex >> 16) as u8, (hex >> 8) as u8, hex as u8, alpha)
}

/// The colour `f` of the way towards black (f < 0 lightens towards white).
fn shade(c: Color, f: f32) -> Color {
    let m = |v: f32| {
        if f >= 0.0 {
            v * (1.0 - f)
        } else {
            v + (1.0 - v) * -f
        }
    };
    Color::from_rgba(m(c.red()), m(c.green()), m(c.blue()), c.alpha()).unwrap_or(c)
}

struct Palette {
    backdrop: (u32, u32),
    main: u32,
    accent: u32,
}

const PALETTES: [Palette; mannequin_domain::ideas::PALETTES as usize] = [
    Palette {
        backdrop: (0xd9d4cc, 0xefebe6),
        main: 0x2f6db5,
        accent: 0xf2f2f2,
    },
    Palette {
        backdrop: (0xcfd8e3, 0xeef2f6),
        main: 0xc0392b,
        accent: 0x222222,
    },
    Palette {
        backdrop: (0xcfdccf, 0xeef3ee),
        main: 0x2c3e50,
        accent: 0xe67e22,
    },
    Palette {
        backdrop: (0xead3d0, 0xf7ecea),
        main: 0x1c1c1c,
        accent: 0xd4af37,
    },
    Palette {
        backdrop: (0xe3d5bd, 0xf5eee2),
        main: 0x16a085,
        accent: 0xffffff,
    },
    Palette {
        backdrop: (0xd9d3e6, 0xf1eef7),
        main: 0x8e44ad,
        accent: 0xf1c40f,
    },
    Palette {
        backdrop: (0xc9ccd1, 0xeceef1),
        main: 0xe67e22,
        accent: 0x2c3e50,
    },
    Palette {
        backdrop: (0xece6d6, 0xfaf7ef),
        main: 0x27ae60,
        accent: 0xfefefe,
    },
];

fn skin(t: SkinTone) -> Color {
    rgb(match t {
        SkinTone::Fair => 0xf3d9c6,
        SkinTone::Light => 0xe8c3a0,
        SkinTone::Medium => 0xc99a6e,
        SkinTone::Olive => 0xb98e5e,
        SkinTone::Tan => 0xa87550,
        SkinTone::Brown => 0x7a4e2d,
        SkinTone::Dark => 0x4a2f1f,
    })
}

fn hair(c: HairColor) -> Color {
    rgb(match c {
        HairColor::Black => 0x1e1a18,
        HairColor::Brown => 0x5a3a22,
        HairColor::Blonde => 0xe0bd72,
        HairColor::Red => 0xa5432a,
        HairColor::Gray => 0xb9b9b9,
        HairColor::Pastel => 0xe8a3c8,
    })
}

/// A thin wrapper that draws filled and stroked shapes under one transform.
struct Canvas<'a> {
    pixmap: &'a mut Pixmap,
    transform: Transform,
}

impl Canvas<'_> {
    fn paint(color: Color) -> Paint<'static> {
        Paint {
            shader: Shader::SolidColor(color),
            anti_alias: true,
            ..Default::default()
        }
    }

    fn fill(&mut self, path: Option<Path>, color: Color) {
        if let Some(p) = path {
            self.pixmap.fill_path(
                &p,
                &Self::paint(color),
                FillRule::Winding,
                self.transform,
                None,
            );
        }
    }

    fn stroke(&mut self, path: Option<Path>, color: Color, width: f32) {
        if let Some(p) = path {
            let stroke = Stroke {
                width,
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Default::default()
            };
            self.pixmap
                .stroke_path(&p, &Self::paint(color), &stroke, self.transform, None);
        }
    }

    fn ellipse(&mut self, c: Pt, rx: f32, ry: f32, color: Color) {
        let rect = tiny_skia::Rect::from_xywh(c.0 - rx, c.1 - ry, 2.0 * rx, 2.0 * ry);
        self.fill(rect.and_then(PathBuilder::from_oval), color);
    }

    fn poly(&mut self, pts: &[Pt], color: Color) {
        self.fill(poly_path(pts), color);
    }

    fn line(&mut self, pts: &[Pt], color: Color, width: f32) {
        let mut pb = PathBuilder::new();
        for (i, p) in pts.iter().enumerate() {
            if i == 0 {
                pb.move_to(p.0, p.1);
            } else {
                pb.line_to(p.0, p.1);
            }
        }
        self.stroke(pb.finish(), color, width);
    }

    fn quad_line(&mut self, a: Pt, ctrl: Pt, b: Pt, color: Color, width: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(a.0, a.1);
        pb.quad_to(ctrl.0, ctrl.1, b.0, b.1);
        self.stroke(pb.finish(), color, width);
    }

    /// A limb along `pts` whose width goes from `w0` to `w1`: tapered quads with
    /// round joints.
    fn limb(&mut self, pts: &[Pt], w0: f32, w1: f32, color: Color) {
        let n = pts.len().saturating_sub(1).max(1) as f32;
        for (i, seg) in pts.windows(2).enumerate() {
            let wa = w0 + (w1 - w0) * i as f32 / n;
            let wb = w0 + (w1 - w0) * (i + 1) as f32 / n;
            let (a, b) = (seg[0], seg[1]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len = (dx * dx + dy * dy).sqrt().max(0.001);
            let (nx, ny) = (-dy / len, dx / len);
            self.poly(
                &[
                    Pt(a.0 + nx * wa / 2.0, a.1 + ny * wa / 2.0),
                    Pt(b.0 + nx * wb / 2.0, b.1 + ny * wb / 2.0),
                    Pt(b.0 - nx * wb / 2.0, b.1 - ny * wb / 2.0),
                    Pt(a.0 - nx * wa / 2.0, a.1 - ny * wa / 2.0),
                ],
                color,
            );
            self.ellipse(a, wa / 2.0, wa / 2.0, color);
            self.ellipse(b, wb / 2.0, wb / 2.0, color);
        }
    }
}

fn poly_path(pts: &[Pt]) -> Option<Path> {
    let mut pb = PathBuilder::new();
    for (i, p) in pts.iter().enumerate() {
        if i == 0 {
            pb.move_to(p.0, p.1);
        } else {
            pb.line_to(p.0, p.1);
        }
    }
    pb.close();
    pb.finish()
}

/// The part of a polyline from its start to fraction `t` of its length.
fn partial(pts: &[Pt], t: f32) -> Vec<Pt> {
    let lens: Vec<f32> = pts
        .windows(2)
        .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
        .collect();
    let mut left = lens.iter().sum::<f32>() * t.clamp(0.0, 1.0);
    let mut out = vec![pts[0]];
    for (i, len) in lens.iter().enumerate() {
        if left >= *len {
            out.push(pts[i + 1]);
            left -= len;
        } else {
            let f = if *len > 0.0 { left / len } else { 0.0 };
            let (a, b) = (pts[i], pts[i + 1]);
            out.push(Pt(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f));
            break;
        }
    }
    out
}

const CX: f32 = 300.0;
const HEAD_Y: f32 = 140.0;
const SHOULDER_Y: f32 = 214.0;
const WAIST_Y: f32 = 372.0;
const HIP_Y: f32 = 456.0;
const CROTCH_Y: f32 = 492.0;
const KNEE_Y: f32 = 640.0;
const ANKLE_Y: f32 = 792.0;
const FLOOR_Y: f32 = 700.0;

/// Proportions that follow gender and build.
struct Body {
    shoulder: f32,
    waist: f32,
    hip: f32,
    arm: f32,
    thigh: f32,
    head_rx: f32,
    head_ry: f32,
    neck: f32,
    arms: [Vec<Pt>; 2],
    legs: [Vec<Pt>; 2],
}

impl Body {
    fn new(idea: &Idea) -> Body {
        let female = idea.gender == Gender::Female;
        let (mut shoulder, mut waist, mut hip, mut arm, mut thigh) = if female {
            (60.0, 40.0, 64.0, 24.0, 44.0)
        } else {
            (76.0, 54.0, 58.0, 30.0, 46.0)
        };
        let (s, w, h, l) = match idea.build {
            Build::Slim => (0.9, 0.86, 0.88, 0.85),
            Build::Athletic => (1.07, 0.95, 0.98, 1.05),
            Build::Average => (1.0, 1.04, 1.02, 1.0),
            Build::Curvy => (1.0, 1.02, 1.2, 1.1),
            Build::PlusSize => (1.18, 1.5, 1.36, 1.35),
            Build::Muscular => (1.25, 1.02, 1.04, 1.3),
        };
        shoulder *= s;
        waist *= w;
        hip *= h;
        arm *= l;
        thigh *= l;
        let sx = shoulder - arm * 0.45;
        let sy = SHOULDER_Y + 12.0;
        let arm_at = |side: f32, pose: Pose| -> Vec<Pt> {
            let s = Pt(CX + side * sx, sy);
            let (e, h) = match pose {
                Pose::Standing => (
                    Pt(s.0 + side * 14.0, sy + 122.0),
                    Pt(s.0 + side * 20.0, sy + 232.0),
                ),
                Pose::HandsOnHips => (
                    Pt(s.0 + side * 66.0, sy + 100.0),
                    Pt(CX + side * (waist + 8.0), WAIST_Y + 14.0),
                ),
                Pose::Walking => {
                    let swing = side * 26.0;
                    (
                        Pt(s.0 + side * 10.0 + swing * 0.4, sy + 120.0),
                        Pt(s.0 + side * 12.0 + swing, sy + 226.0),
                    )
                }
                Pose::ArmsCrossed => (
                    Pt(s.0 + side * 16.0, sy + 108.0),
                    Pt(CX - side * (shoulder * 0.55), sy + 88.0),
                ),
                Pose::Waving if side > 0.0 => {
                    (Pt(s.0 + 56.0, sy - 48.0), Pt(s.0 + 48.0, sy - 150.0))
                }
                Pose::Waving => (Pt(s.0 - 14.0, sy + 122.0), Pt(s.0 - 20.0, sy + 232.0)),
            };
            vec![s, e, h]
        };
        let leg_at = |side: f32| -> Vec<Pt> {
            let top = Pt(CX + side * (hip - thigh * 0.5), HIP_Y + 10.0);
            let (knee, ankle) = if idea.pose == Pose::Walking {
                let d = side * 34.0;
                (
                    Pt(top.0 + d * 0.5, KNEE_Y),
                    Pt(top.0 + d, ANKLE_Y - side.max(0.0) * 8.0),
                )
            } else {
                (
                    Pt(CX + side * (hip * 0.5 + 2.0), KNEE_Y),
                    Pt(CX + side * (hip * 0.42 + 6.0), ANKLE_Y),
                )
            };
            vec![top, knee, ankle]
        };
        let (head_rx, head_ry) = if female { (35.0, 45.0) } else { (38.0, 47.0) };
        Body {
            shoulder,
            waist,
            hip,
            arm,
            thigh,
            head_rx,
            head_ry,
            neck: if female { 26.0 } else { 34.0 }
                * if idea.build == Build::Muscular {
                    1.2
                } else {
                    1.0
                },
            arms: [arm_at(-1.0, idea.pose), arm_at(1.0, idea.pose)],
            legs: [leg_at(-1.0), leg_at(1.0)],
        }
    }

    /// Half the torso's width at height `y`.
    fn half_width(&self, y: f32) -> f32 {
        let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t.clamp(0.0, 1.0);
        if y < SHOULDER_Y + 20.0 {
            let t = (y - SHOULDER_Y) / 20.0;
            lerp(self.shoulder * 0.72, self.shoulder, t.sqrt().max(0.0))
        } else if y < WAIST_Y {
            lerp(
                self.shoulder,
                self.waist,
                (y - SHOULDER_Y - 20.0) / (WAIST_Y - SHOULDER_Y - 20.0),
            )
        } else if y < HIP_Y {
            lerp(self.waist, self.hip, (y - WAIST_Y) / (HIP_Y - WAIST_Y))
        } else {
            self.hip
        }
    }

    /// Hips down to the crotch, widened by `grow`: a band at hip width that
    /// narrows to the crotch between the thighs.
    fn pelvis(&self, grow: f32) -> Vec<Pt> {
        let (h, g) = (self.hip, grow);
        vec![
            Pt(CX - h - g, HIP_Y - 12.0),
            Pt(CX + h + g, HIP_Y - 12.0),
            Pt(CX + h + g, HIP_Y + 16.0),
            Pt(CX + 10.0 + g, CROTCH_Y + 10.0),
            Pt(CX - 10.0 - g, CROTCH_Y + 10.0),
            Pt(CX - h - g, HIP_Y + 16.0),
        ]
    }

    /// The torso between two heights, widened by `grow` on each side.
    fn torso(&self, top: f32, bottom: f32, grow: f32) -> Vec<Pt> {
        let steps = ((bottom - top) / 8.0).ceil().max(1.0) as usize;
        let ys: Vec<f32> = (0..=steps)
            .map(|i| top + (bottom - top) * i as f32 / steps as f32)
            .collect();
        let mut pts: Vec<Pt> = ys
            .iter()
            .map(|y| Pt(CX - self.half_width(*y) - grow, *y))
            .collect();
        pts.extend(
            ys.iter()
                .rev()
                .map(|y| Pt(CX + self.half_width(*y) + grow, *y)),
        );
        pts
    }
}

/// Paints the whole picture of `idea` onto `pixmap`, scaled by `transform`.
pub fn paint(pixmap: &mut Pixmap, transform: Transform, idea: &Idea) {
    let palette = &PALETTES[(idea.palette % mannequin_domain::ideas::PALETTES) as usize];
    let mut c = Canvas { pixmap, transform };
    backdrop(&mut c, palette);
    let body = Body::new(idea);
    let skin = skin(idea.skin_tone);
    let hair_c = hair(idea.hair_color);

    // Shadow on the floor.
    c.ellipse(
        Pt(CX, ANKLE_Y + 14.0),
        body.hip * 1.9,
        16.0,
        rgba(0x000000, 46),
    );

    back_hair(&mut c, idea, &body, hair_c);
    if idea.style == Style::Streetwear {
        // The hood lies behind the neck and shoulders.
        c.ellipse(
            Pt(CX, SHOULDER_Y - 6.0),
            body.shoulder * 0.7,
            30.0,
            shade(rgb(palette.main), 0.2),
        );
    }

    // Body in skin: legs, torso, neck, arms, head.
    for leg in &body.legs {
        c.limb(leg, body.thigh, body.thigh * 0.5, skin);
    }
    c.poly(&body.torso(SHOULDER_Y, HIP_Y, 0.0), skin);
    c.poly(&body.pelvis(0.0), skin);
    // Bare feet; shoes, where the outfit has them, cover these.
    for leg in &body.legs {
        let a = leg[2];
        c.ellipse(Pt(a.0, a.1 + 8.0), body.thigh * 0.32 + 2.0, 9.0, skin);
    }
    c.limb(
        &[Pt(CX, HEAD_Y + 30.0), Pt(CX, SHOULDER_Y + 8.0)],
        body.neck,
        body.neck * 1.1,
        skin,
    );
    outfit(&mut c, idea, &body, palette, skin);
    for arm in &body.arms {
        c.limb(arm, body.arm, body.arm * 0.72, skin);
        let hand = arm[2];
        c.ellipse(hand, body.arm * 0.42, body.arm * 0.5, skin);
    }
    sleeves(&mut c, idea, &body, palette);
    head(&mut c, idea, &body, skin, hair_c);
}

fn backdrop(c: &mut Canvas, palette: &Palette) {
    let (top, bottom) = palette.backdrop;
    let grad = LinearGradient::new(
        Point::from_xy(0.0, 0.0),
        Point::from_xy(0.0, FLOOR_Y),
        vec![
            GradientStop::new(0.0, rgb(top)),
            GradientStop::new(1.0, rgb(bottom)),
        ],
        SpreadMode::Pad,
        Transform::identity(),
    );
    let floor = LinearGradient::new(
        Point::from_xy(0.0, FLOOR_Y),
        Point::from_xy(0.0, 900.0),
        vec![
            GradientStop::new(0.0, shade(rgb(bottom), 0.04)),
            GradientStop::new(1.0, shade(rgb(top), 0.12)),
        ],
        SpreadMode::Pad,
        Transform::identity(),
    );
    for (shader, y0, y1) in [(grad, 0.0, FLOOR_Y), (floor, FLOOR_Y, 900.0)] {
        let (Some(shader), Some(rect)) = (shader, tiny_skia::Rect::from_ltrb(0.0, y0, 600.0, y1))
        else {
            continue;
        };
        let paint = Paint {
            shader,
            anti_alias: false,
            ..Default::default()
        };
        c.pixmap.fill_rect(rect, &paint, c.transform, None);
    }
}

/// Clothes on torso and legs, and shoes.
fn outfit(c: &mut Canvas, idea: &Idea, body: &Body, palette: &Palette, skin: Color) {
    let female = idea.gender == Gender::Female;
    let main = rgb(palette.main);
    let accent = rgb(palette.accent);
    let denim = rgb(0x3b5b85);
    let legs = |c: &mut Canvas, color: Color, length: f32, extra: f32| {
        for leg in &body.legs {
            let part = partial(leg, length);
            c.limb(
                &part,
                body.thigh + extra,
                body.thigh * (1.0 - 0.5 * length) + extra,
                color,
            );
        }
        c.poly(&body.pelvis(extra * 0.5), color);
    };
    let top = |c: &mut Canvas, color: Color, from: f32, to: f32, grow: f32| {
        c.poly(&body.torso(from, to, grow), color);
    };
    let shoes = |c: &mut Canvas, color: Color, height: f32| {
        for leg in &body.legs {
            let a = leg[2];
            c.ellipse(
                Pt(a.0, a.1 + 8.0),
                body.thigh * 0.42 + 4.0,
                10.0 + height * 0.2,
                color,
            );
            if height > 0.0 {
                c.limb(
                    &[Pt(a.0, a.1 - height), Pt(a.0, a.1 + 4.0)],
                    body.thigh * 0.55,
                    body.thigh * 0.58,
                    color,
                );
            }
        }
    };
    match idea.style {
        Style::Sportswear => {
            if female {
                legs(c, shade(main, 0.35), 0.92, 2.0);
                top(c, main, SHOULDER_Y + 12.0, WAIST_Y - 40.0, 1.0);
                c.line(
                    &[
                        Pt(CX - body.waist, WAIST_Y - 42.0),
                        Pt(CX + body.waist, WAIST_Y - 42.0),
                    ],
                    accent,
                    4.0,
                );
            } else {
                legs(c, shade(main, 0.4), 0.48, 8.0);
                top(c, main, SHOULDER_Y + 6.0, HIP_Y - 4.0, 2.0);
                c.line(
                    &[
                        Pt(CX - body.shoulder * 0.45, SHOULDER_Y + 14.0),
                        Pt(CX - body.waist * 0.9, HIP_Y - 8.0),
                    ],
                    accent,
                    4.0,
                );
            }
            shoes(c, rgb(0xf4f4f4), 0.0);
        }
        Style::Casual => {
            legs(c, denim, 1.0, 5.0);
            top(c, main, SHOULDER_Y, HIP_Y + 6.0, 4.0);
            c.ellipse(Pt(CX, SHOULDER_Y + 2.0), body.neck * 0.75, 10.0, skin);
            shoes(c, rgb(0xfafafa), 0.0);
        }
        Style::Formal if female => {
            let flare = body.hip * 1.9;
            c.poly(
                &[
                    Pt(CX - body.waist - 2.0, WAIST_Y),
                    Pt(CX + body.waist + 2.0, WAIST_Y),
                    Pt(CX + body.hip + 6.0, HIP_Y + 20.0),
                    Pt(CX + flare, ANKLE_Y + 16.0),
                    Pt(CX - flare, ANKLE_Y + 16.0),
                    Pt(CX - body.hip - 6.0, HIP_Y + 20.0),
                ],
                main,
            );
            top(c, main, SHOULDER_Y + 26.0, WAIST_Y + 4.0, 1.0);
            c.line(
                &[Pt(CX - body.waist, WAIST_Y), Pt(CX + body.waist, WAIST_Y)],
                accent,
                5.0,
            );
        }
        Style::Formal => {
            let black = rgb(0x15151a);
            legs(c, black, 1.0, 6.0);
            top(c, black, SHOULDER_Y, HIP_Y + 14.0, 5.0);
            c.poly(
                &[
                    Pt(CX - 20.0, SHOULDER_Y),
                    Pt(CX + 20.0, SHOULDER_Y),
                    Pt(CX, WAIST_Y - 30.0),
                ],
                rgb(0xfafafa),
            );
            c.poly(
                &[
                    Pt(CX - 16.0, SHOULDER_Y + 6.0),
                    Pt(CX, SHOULDER_Y + 14.0),
                    Pt(CX - 16.0, SHOULDER_Y + 22.0),
                ],
                black,
            );
            c.poly(
                &[
                    Pt(CX + 16.0, SHOULDER_Y + 6.0),
                    Pt(CX, SHOULDER_Y + 14.0),
                    Pt(CX + 16.0, SHOULDER_Y + 22.0),
                ],
                black,
            );
            shoes(c, black, 0.0);
        }
        Style::Streetwear => {
            legs(c, rgb(0x6b6b4e), 1.0, 16.0);
            top(c, main, SHOULDER_Y - 4.0, HIP_Y + 18.0, 10.0);
            c.poly(
                &body.torso(WAIST_Y + 10.0, WAIST_Y + 60.0, -body.waist * 0.35),
                shade(main, 0.15),
            );
            c.line(
                &[
                    Pt(CX - 8.0, SHOULDER_Y + 4.0),
                    Pt(CX - 10.0, SHOULDER_Y + 60.0),
                ],
                accent,
                3.0,
            );
            c.line(
                &[
                    Pt(CX + 8.0, SHOULDER_Y + 4.0),
                    Pt(CX + 10.0, SHOULDER_Y + 60.0),
                ],
                accent,
                3.0,
            );
            shoes(c, accent, 0.0);
        }
        Style::Swimwear | Style::Lingerie => {
            let color = if idea.style == Style::Lingerie {
                shade(main, 0.1)
            } else {
                main
            };
            if female {
                let h = body.hip;
                c.poly(
                    &[
                        Pt(CX - h - 1.0, HIP_Y - 6.0),
                        Pt(CX + h + 1.0, HIP_Y - 6.0),
                        Pt(CX + h * 0.5, HIP_Y + 18.0),
                        Pt(CX + 11.0, CROTCH_Y + 10.0),
                        Pt(CX - 11.0, CROTCH_Y + 10.0),
                        Pt(CX - h * 0.5, HIP_Y + 18.0),
                    ],
                    color,
                );
                for side in [-1.0, 1.0] {
                    c.ellipse(
                        Pt(CX + side * body.shoulder * 0.38, SHOULDER_Y + 62.0),
                        body.shoulder * 0.36,
                        20.0,
                        color,
                    );
                    c.line(
                        &[
                            Pt(CX + side * body.shoulder * 0.4, SHOULDER_Y + 48.0),
                            Pt(CX + side * body.shoulder * 0.55, SHOULDER_Y + 4.0),
                        ],
                        color,
                        3.0,
                    );
                }
                c.line(
                    &[
                        Pt(CX - body.half_width(SHOULDER_Y + 70.0), SHOULDER_Y + 70.0),
                        Pt(CX + body.half_width(SHOULDER_Y + 70.0), SHOULDER_Y + 70.0),
                    ],
                    color,
                    5.0,
                );
            } else {
                legs(
                    c,
                    color,
                    if idea.style == Style::Lingerie {
                        0.22
                    } else {
                        0.3
                    },
                    4.0,
                );
                c.line(
                    &[
                        Pt(CX - body.hip, HIP_Y - 10.0),
                        Pt(CX + body.hip, HIP_Y - 10.0),
                    ],
                    accent,
                    5.0,
                );
            }
        }
        Style::Outdoor => {
            legs(c, rgb(0x7d7a70), 1.0, 8.0);
            top(c, main, SHOULDER_Y - 2.0, HIP_Y + 22.0, 9.0);
            c.line(
                &[Pt(CX, SHOULDER_Y + 2.0), Pt(CX, HIP_Y + 20.0)],
                shade(main, 0.45),
                3.0,
            );
            c.line(
                &[
                    Pt(CX - body.waist - 8.0, WAIST_Y),
                    Pt(CX + body.waist + 8.0, WAIST_Y),
                ],
                shade(main, 0.25),
                4.0,
            );
            shoes(c, rgb(0x5b3a1e), 34.0);
        }
        Style::Business => {
            let suit = suit(idea);
            if female {
                c.poly(
                    &[
                        Pt(CX - body.waist - 2.0, WAIST_Y),
                        Pt(CX + body.waist + 2.0, WAIST_Y),
                        Pt(CX + body.hip + 6.0, KNEE_Y + 12.0),
                        Pt(CX - body.hip - 6.0, KNEE_Y + 12.0),
                    ],
                    suit,
                );
                shoes(c, rgb(0x1a1a1a), 0.0);
            } else {
                legs(c, suit, 1.0, 6.0);
                shoes(c, rgb(0x1a1a1a), 0.0);
            }
            top(c, suit, SHOULDER_Y, HIP_Y + 10.0, 5.0);
            c.poly(
                &[
                    Pt(CX - 22.0, SHOULDER_Y),
                    Pt(CX + 22.0, SHOULDER_Y),
                    Pt(CX, WAIST_Y - 10.0),
                ],
                rgb(0xf5f5f5),
            );
            if !female {
                c.poly(
                    &[
                        Pt(CX - 6.0, SHOULDER_Y + 8.0),
                        Pt(CX + 6.0, SHOULDER_Y + 8.0),
                        Pt(CX + 8.0, WAIST_Y - 30.0),
                        Pt(CX, WAIST_Y - 16.0),
                        Pt(CX - 8.0, WAIST_Y - 30.0),
                    ],
                    main,
                );
            }
            c.line(
                &[Pt(CX - 22.0, SHOULDER_Y), Pt(CX - 4.0, WAIST_Y - 10.0)],
                shade(suit, 0.3),
                3.0,
            );
            c.line(
                &[Pt(CX + 22.0, SHOULDER_Y), Pt(CX + 4.0, WAIST_Y - 10.0)],
                shade(suit, 0.3),
                3.0,
            );
        }
    }
}

/// Business suits keep to sober cloth: charcoal, navy, grey or sand by palette.
fn suit(idea: &Idea) -> Color {
    rgb([0x3a3f47, 0x1f2d4a, 0x6e6e6e, 0xb8a88a][(idea.palette % 4) as usize])
}

/// Sleeves drawn over the arms, per style: how far down the arm and what colour.
fn sleeves(c: &mut Canvas, idea: &Idea, body: &Body, palette: &Palette) {
    let female = idea.gender == Gender::Female;
    let main = rgb(palette.main);
    let (length, color, extra) = match idea.style {
        Style::Casual => (0.28, main, 8.0),
        Style::Streetwear => (0.94, main, 14.0),
        Style::Outdoor => (0.94, main, 12.0),
        Style::Formal if !female => (0.94, rgb(0x15151a), 8.0),
        Style::Business => (0.94, suit(idea), 8.0),
        _ => return,
    };
    for arm in &body.arms {
        let part = partial(arm, length);
        c.limb(
            &part,
            body.arm + extra,
            body.arm * (1.0 - 0.28 * length) + extra * 0.8,
            color,
        );
    }
}

fn back_hair(c: &mut Canvas, idea: &Idea, body: &Body, color: Color) {
    let head = Pt(CX, HEAD_Y);
    let (rx, ry) = (body.head_rx, body.head_ry);
    let bottom = match idea.hair_length {
        HairLength::Bald | HairLength::Short => return,
        HairLength::Medium => HEAD_Y + ry + 40.0,
        HairLength::Long => SHOULDER_Y + 120.0,
    };
    match idea.hair_style {
        HairStyle::Ponytail => {
            c.limb(
                &[
                    Pt(CX + rx * 0.6, HEAD_Y - ry * 0.3),
                    Pt(CX + rx + 14.0, HEAD_Y + 20.0),
                    Pt(CX + rx + 10.0, bottom - 30.0),
                ],
                34.0,
                14.0,
                color,
            );
        }
        HairStyle::Bun => {}
        HairStyle::Curly => {
            let n = 14;
            for i in 0..n {
                let a = std::f32::consts::PI * (0.95 + 1.1 * i as f32 / (n - 1) as f32);
                let r = rx + 18.0;
                c.ellipse(
                    Pt(head.0 + a.cos() * r, head.1 + a.sin() * r * 1.05),
                    22.0,
                    22.0,
                    color,
                );
            }
            for side in [-1.0, 1.0] {
                let mut y = HEAD_Y;
                while y < bottom - 10.0 {
                    c.ellipse(Pt(CX + side * (rx + 10.0), y), 20.0, 20.0, color);
                    y += 24.0;
                }
            }
        }
        _ => {
            let w = rx + 14.0;
            c.poly(
                &[
                    Pt(CX - w, HEAD_Y - 8.0),
                    Pt(CX + w, HEAD_Y - 8.0),
                    Pt(CX + w + 8.0, bottom),
                    Pt(CX - w - 8.0, bottom),
                ],
                color,
            );
            c.ellipse(Pt(CX, bottom), w + 8.0, 16.0, color);
            if idea.hair_style == HairStyle::Wavy {
                let mut y = HEAD_Y + 10.0;
                while y < bottom {
                    for side in [-1.0, 1.0] {
                        c.ellipse(Pt(CX + side * (w + 8.0), y), 10.0, 14.0, color);
                    }
                    y += 26.0;
                }
            }
        }
    }
}

fn head(c: &mut Canvas, idea: &Idea, body: &Body, skin: Color, hair_c: Color) {
    let (rx, ry) = (body.head_rx, body.head_ry);
    let h = Pt(CX, HEAD_Y);
    // Ears, face.
    for side in [-1.0, 1.0] {
        c.ellipse(
            Pt(CX + side * rx, HEAD_Y + 4.0),
            8.0,
            13.0,
            shade(skin, 0.06),
        );
    }
    c.ellipse(h, rx, ry, skin);
    // Hair on top.
    if idea.hair_length != HairLength::Bald {
        let mut pb = PathBuilder::new();
        let lift = if idea.hair_style == HairStyle::Curly {
            14.0
        } else {
            8.0
        };
        pb.move_to(CX - rx - 3.0, HEAD_Y + 2.0);
        pb.cubic_to(
            CX - rx - 6.0,
            HEAD_Y - ry * 1.36 - lift,
            CX + rx + 6.0,
            HEAD_Y - ry * 1.36 - lift,
            CX + rx + 3.0,
            HEAD_Y + 2.0,
        );
        pb.quad_to(
            CX + rx * 0.5,
            HEAD_Y - ry * 0.62,
            CX - rx * 0.2,
            HEAD_Y - ry * 0.5,
        );
        pb.quad_to(
            CX - rx * 0.8,
            HEAD_Y - ry * 0.42,
            CX - rx - 3.0,
            HEAD_Y + 2.0,
        );
        pb.close();
        c.fill(pb.finish(), hair_c);
        match idea.hair_style {
            HairStyle::Bun => c.ellipse(Pt(CX, HEAD_Y - ry - 10.0), 22.0, 18.0, hair_c),
            HairStyle::Braids if idea.hair_length != HairLength::Short => {
                for side in [-1.0, 1.0] {
                    let mut y = HEAD_Y + 16.0;
                    while y < SHOULDER_Y + 80.0 {
                        c.ellipse(Pt(CX + side * (rx + 2.0), y), 9.0, 12.0, hair_c);
                        c.ellipse(Pt(CX + side * (rx + 2.0), y), 4.0, 6.0, shade(hair_c, 0.25));
                        y += 18.0;
                    }
                }
            }
            _ => {}
        }
    }
    face(c, idea, skin, hair_c);
}

fn face(c: &mut Canvas, idea: &Idea, skin: Color, hair_c: Color) {
    let ey = HEAD_Y - 2.0;
    let brow = shade(hair_c, 0.3);
    let serious = matches!(idea.expression, Expression::Serious);
    for side in [-1.0f32, 1.0] {
        let ex = CX + side * 14.0;
        match idea.makeup {
            Makeup::Glam => c.ellipse(Pt(ex, ey - 4.0), 9.0, 5.0, rgba(0x8a5a9a, 150)),
            Makeup::Bold => c.ellipse(Pt(ex, ey - 3.0), 9.0, 5.0, rgba(0x2a2a2a, 140)),
            _ => {}
        }
        c.ellipse(Pt(ex, ey), 6.5, 4.2, rgb(0xfbfbfb));
        c.ellipse(Pt(ex, ey), 3.4, 3.4, rgb(0x2b1d14));
        let (inner, outer) = if serious {
            (ey - 12.0, ey - 16.0)
        } else {
            (ey - 14.0, ey - 14.0)
        };
        c.line(
            &[Pt(CX + side * 7.0, inner), Pt(CX + side * 21.0, outer)],
            brow,
            if idea.gender == Gender::Male {
                4.0
            } else {
                2.6
            },
        );
        if matches!(idea.makeup, Makeup::Glam | Makeup::Bold) {
            c.ellipse(
                Pt(CX + side * 22.0, ey + 18.0),
                7.0,
                4.0,
                rgba(0xe07a7a, 70),
            );
        }
        if matches!(idea.age, Age::MiddleAged | Age::Senior) {
            c.line(
                &[
                    Pt(CX + side * 23.0, ey + 2.0),
                    Pt(CX + side * 27.0, ey + 5.0),
                ],
                shade(skin, 0.25),
                1.2,
            );
        }
        if idea.age == Age::Senior {
            c.line(
                &[
                    Pt(CX + side * 10.0, ey + 22.0),
                    Pt(CX + side * 14.0, ey + 30.0),
                ],
                shade(skin, 0.22),
                1.2,
            );
        }
    }
    c.line(
        &[
            Pt(CX, ey + 4.0),
            Pt(CX - 3.0, ey + 15.0),
            Pt(CX + 2.0, ey + 16.0),
        ],
        shade(skin, 0.25),
        2.0,
    );
    let lips = match idea.makeup {
        Makeup::None => shade(skin, 0.25),
        Makeup::Natural => rgb(0xc07a74),
        Makeup::Glam => rgb(0xb24a66),
        Makeup::Bold => rgb(0xb3161b),
    };
    let my = HEAD_Y + 24.0;
    match idea.expression {
        Expression::Smiling => {
            let mut pb = PathBuilder::new();
            pb.move_to(CX - 12.0, my - 2.0);
            pb.quad_to(CX, my + 12.0, CX + 12.0, my - 2.0);
            pb.quad_to(CX, my + 3.0, CX - 12.0, my - 2.0);
            pb.close();
            c.fill(pb.finish(), lips);
            c.line(
                &[Pt(CX - 8.0, my + 1.0), Pt(CX + 8.0, my + 1.0)],
                rgb(0xffffff),
                1.6,
            );
        }
        Expression::Neutral => c.line(&[Pt(CX - 9.0, my), Pt(CX + 9.0, my)], lips, 4.0),
        Expression::Serious => c.quad_line(
            Pt(CX - 9.0, my + 2.0),
            Pt(CX, my - 3.0),
            Pt(CX + 9.0, my + 2.0),
            lips,
            4.0,
        ),
        Expression::Confident => c.quad_line(
            Pt(CX - 9.0, my),
            Pt(CX + 2.0, my + 3.0),
            Pt(CX + 11.0, my - 4.0),
            lips,
            4.0,
        ),
    }
}
