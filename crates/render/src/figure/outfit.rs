//! Clothes on torso and legs, sleeves over the arms, and shoes, per style; a
//! garment the text names is drawn by `garments.rs` instead.

use super::*;

/// Clothes on torso and legs, and shoes.
pub(super) fn outfit(c: &mut Canvas, idea: &Idea, body: &Body, palette: &Palette, skin: Color) {
    if let Some(l) = look(idea, palette) {
        draw_look(c, &l, body);
        for leg in &body.legs {
            let a = leg[2];
            c.ellipse(
                Pt(a.0, a.1 + 8.0),
                body.thigh * 0.42 + 4.0,
                10.0,
                rgb(0x2a2420),
            );
        }
        return;
    }
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
            // Children and teenagers get a full top, never a crop top.
            if female && !idea.age.is_minor() {
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
pub(super) fn suit(idea: &Idea) -> Color {
    rgb([0x3a3f47, 0x1f2d4a, 0x6e6e6e, 0xb8a88a][(idea.palette % 4) as usize])
}

/// Sleeves drawn over the arms, per style: how far down the arm and what colour.
pub(super) fn sleeves(c: &mut Canvas, idea: &Idea, body: &Body, palette: &Palette) {
    let female = idea.gender == Gender::Female;
    let main = rgb(palette.main);
    let from_look = look(idea, palette).map(|l| (l.sleeve, l.sleeve_color, 10.0));
    let (length, color, extra) = match (from_look, idea.style) {
        (Some((length, _, _)), _) if length <= 0.0 => return,
        (Some(s), _) => s,
        (None, style) => match style {
            Style::Casual => (0.28, main, 8.0),
            Style::Streetwear => (0.94, main, 14.0),
            Style::Outdoor => (0.94, main, 12.0),
            Style::Formal if !female => (0.94, rgb(0x15151a), 8.0),
            Style::Business => (0.94, suit(idea), 8.0),
            _ => return,
        },
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
