//! Hair, head and face: hairstyle, expression and makeup.

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

pub(super) fn head(c: &mut Canvas, idea: &Idea, body: &Body, skin: Color, hair_c: Color) {
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

pub(super) fn face(c: &mut Canvas, idea: &Idea, skin: Color, hair_c: Color) {
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
