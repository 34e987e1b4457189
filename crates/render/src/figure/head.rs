//! Hair, head and face: hairstyle, headwear, expression, makeup, facial hair
//! and glasses.

use super::*;

pub(super) fn back_hair(c: &mut Canvas, idea: &Idea, body: &Body, color: Color) {
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

/// A hijab's back: it covers the hair and neck and falls onto the shoulders.
pub(super) fn hijab_back(c: &mut Canvas, body: &Body, color: Color) {
    let (rx, ry) = (body.head_rx, body.head_ry);
    c.poly(
        &[
            Pt(CX - rx - 16.0, HEAD_Y),
            Pt(CX + rx + 16.0, HEAD_Y),
            Pt(CX + body.shoulder * 0.8, SHOULDER_Y + 34.0),
            Pt(CX - body.shoulder * 0.8, SHOULDER_Y + 34.0),
        ],
        shade(color, 0.12),
    );
    c.ellipse(
        Pt(CX, SHOULDER_Y + 30.0),
        body.shoulder * 0.8,
        22.0,
        shade(color, 0.12),
    );
    c.ellipse(Pt(CX, HEAD_Y + 4.0), rx + 16.0, ry + 18.0, color);
}

/// The hijab's front: a band over the forehead that frames the face.
fn hijab_front(c: &mut Canvas, body: &Body, color: Color) {
    let (rx, ry) = (body.head_rx, body.head_ry);
    let mut pb = PathBuilder::new();
    pb.move_to(CX - rx - 16.0, HEAD_Y + 6.0);
    pb.cubic_to(
        CX - rx - 16.0,
        HEAD_Y - ry - 30.0,
        CX + rx + 16.0,
        HEAD_Y - ry - 30.0,
        CX + rx + 16.0,
        HEAD_Y + 6.0,
    );
    pb.line_to(CX + rx - 2.0, HEAD_Y + 6.0);
    pb.cubic_to(
        CX + rx - 2.0,
        HEAD_Y - ry * 0.9,
        CX - rx + 2.0,
        HEAD_Y - ry * 0.9,
        CX - rx + 2.0,
        HEAD_Y + 6.0,
    );
    pb.close();
    c.fill(pb.finish(), color);
    // A fold across the crown, so it reads as cloth.
    c.quad_line(
        Pt(CX - rx - 8.0, HEAD_Y - ry * 0.2),
        Pt(CX, HEAD_Y - ry * 1.45),
        Pt(CX + rx + 8.0, HEAD_Y - ry * 0.2),
        shade(color, 0.25),
        2.5,
    );
    // The cheeks' edges, down to the chin.
    for side in [-1.0, 1.0] {
        c.limb(
            &[
                Pt(CX + side * (rx + 2.0), HEAD_Y + 4.0),
                Pt(CX + side * (rx - 4.0), HEAD_Y + ry * 0.8),
            ],
            12.0,
            8.0,
            color,
        );
    }
}

/// A cap or a beanie, over the hair.
fn hat(c: &mut Canvas, kind: Headwear, body: &Body, color: Color) {
    let (rx, ry) = (body.head_rx, body.head_ry);
    let rim = HEAD_Y - ry * 0.42;
    let top = match kind {
        Headwear::Beanie => HEAD_Y - ry * 1.62,
        _ => HEAD_Y - ry * 1.38,
    };
    let mut pb = PathBuilder::new();
    pb.move_to(CX - rx - 4.0, rim);
    pb.cubic_to(CX - rx - 4.0, top, CX + rx + 4.0, top, CX + rx + 4.0, rim);
    pb.close();
    c.fill(pb.finish(), color);
    match kind {
        Headwear::Beanie => {
            // The folded band, with its ribs.
            let band = shade(color, 0.15);
            c.poly(
                &[
                    Pt(CX - rx - 6.0, rim - 16.0),
                    Pt(CX + rx + 6.0, rim - 16.0),
                    Pt(CX + rx + 6.0, rim + 4.0),
                    Pt(CX - rx - 6.0, rim + 4.0),
                ],
                band,
            );
            let mut x = CX - rx;
            while x < CX + rx + 2.0 {
                c.line(
                    &[Pt(x, rim - 14.0), Pt(x, rim + 2.0)],
                    shade(color, 0.3),
                    1.5,
                );
                x += 8.0;
            }
        }
        _ => {
            // The brim, towards the viewer's left, and the button on top.
            c.ellipse(
                Pt(CX - rx * 0.45, rim + 2.0),
                rx * 1.05,
                8.0,
                shade(color, 0.2),
            );
            c.ellipse(Pt(CX, top + ry * 0.26), 5.0, 4.0, shade(color, 0.3));
        }
    }
}

pub(super) fn head(
    c: &mut Canvas,
    idea: &Idea,
    body: &Body,
    skin: Color,
    hair_c: Color,
    palette: &Palette,
) {
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
    let hat_c = rgb(palette.accent_or_main());
    if idea.hair_covered() {
        hijab_front(c, body, scarf(idea));
    } else if idea.hair_length != HairLength::Bald {
        // Hair on top.
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
    if matches!(idea.headwear, Headwear::Cap | Headwear::Beanie) {
        hat(c, idea.headwear, body, hat_c);
    }
    face(c, idea, body, skin, hair_c);
    glasses(c, idea.eyewear);
}

/// Glasses: round frames and a bridge; sunglasses: dark lenses.
fn glasses(c: &mut Canvas, eyewear: Eyewear) {
    let ey = HEAD_Y - 2.0;
    let frame = rgb(0x1d1d1f);
    for side in [-1.0f32, 1.0] {
        let e = Pt(CX + side * 15.0, ey);
        match eyewear {
            Eyewear::Sunglasses => c.ellipse(e, 11.5, 8.5, rgba(0x15151a, 235)),
            Eyewear::Glasses => {
                let mut pb = PathBuilder::new();
                if let Some(r) = tiny_skia::Rect::from_xywh(e.0 - 11.0, e.1 - 8.5, 22.0, 17.0) {
                    pb.push_oval(r);
                }
                c.stroke(pb.finish(), frame, 2.4);
            }
            Eyewear::None => return,
        }
        // The arm towards the ear.
        c.line(
            &[
                Pt(CX + side * 26.0, ey - 2.0),
                Pt(CX + side * 34.0, ey - 4.0),
            ],
            frame,
            2.4,
        );
    }
    c.line(
        &[Pt(CX - 4.0, ey - 1.0), Pt(CX + 4.0, ey - 1.0)],
        frame,
        2.4,
    );
}

/// Beard, moustache or stubble, in the hair's colour.
fn facial_hair(c: &mut Canvas, kind: FacialHair, body: &Body, hair_c: Color) {
    let (rx, ry) = (body.head_rx, body.head_ry);
    let my = HEAD_Y + 24.0;
    let jaw = |c: &mut Canvas, color: Color, below: f32| {
        let mut pb = PathBuilder::new();
        pb.move_to(CX - rx + 1.0, HEAD_Y + 2.0);
        pb.cubic_to(
            CX - rx + 2.0,
            HEAD_Y + ry + below,
            CX + rx - 2.0,
            HEAD_Y + ry + below,
            CX + rx - 1.0,
            HEAD_Y + 2.0,
        );
        pb.line_to(CX + rx - 6.0, HEAD_Y + 4.0);
        pb.cubic_to(
            CX + rx * 0.45,
            HEAD_Y + 16.0,
            CX - rx * 0.45,
            HEAD_Y + 16.0,
            CX - rx + 6.0,
            HEAD_Y + 4.0,
        );
        pb.close();
        c.fill(pb.finish(), color);
    };
    let moustache = |c: &mut Canvas| {
        c.quad_line(
            Pt(CX - 14.0, my - 2.0),
            Pt(CX, my - 12.0),
            Pt(CX + 14.0, my - 2.0),
            hair_c,
            6.0,
        );
    };
    match kind {
        FacialHair::Beard => {
            jaw(c, hair_c, 18.0);
            moustache(c);
        }
        FacialHair::Moustache => moustache(c),
        FacialHair::Stubble => {
            let mut stubble = hair_c;
            stubble.set_alpha(0.35);
            jaw(c, stubble, 2.0);
        }
        FacialHair::None => {}
    }
}

pub(super) fn face(c: &mut Canvas, idea: &Idea, body: &Body, skin: Color, hair_c: Color) {
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
    facial_hair(c, idea.facial_hair, body, hair_c);
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
