//! The figure: body proportions from the idea's build and gender, the pose's arm
//! and leg positions, the outfit of its style, hair, face and makeup, drawn back
//! to front on a studio backdrop. All coordinates are in the 600×900 design space.

use mannequin_domain::Idea;
use mannequin_domain::ideas::{
    Age, Build, Expression, Eyewear, FacialHair, Garment, Gender, HairColor, HairLength, HairStyle,
    Headwear, Makeup, Pose, SkinTone, Style,
};
use tiny_skia::{
    Color, FillRule, GradientStop, LineCap, LineJoin, LinearGradient, Paint, Path, PathBuilder,
    Pixmap, Point, Shader, SpreadMode, Stroke, Transform,
};

mod body;
mod canvas;
mod garments;
mod head;
mod outfit;
mod palette;
pub mod scenery;

use body::*;
use canvas::*;
use garments::*;
use head::*;
use outfit::*;
use palette::*;

/// Paints the whole picture of `idea` onto `pixmap`, scaled by `transform`.
pub fn paint(pixmap: &mut Pixmap, transform: Transform, idea: &Idea) {
    let palette = &PALETTES[(idea.palette % mannequin_domain::ideas::PALETTES) as usize];
    let mut c = Canvas { pixmap, transform };
    backdrop(&mut c, palette);
    // Children and teenagers stand on the same floor, smaller.
    let k = figure_scale(idea.age);
    c.transform = c.transform.pre_concat(
        Transform::from_translate(CX, ANKLE_Y + 14.0)
            .pre_scale(k, k)
            .pre_translate(-CX, -(ANKLE_Y + 14.0)),
    );
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

    if idea.hair_covered() {
        hijab_back(&mut c, &body, scarf(idea));
    } else {
        back_hair(&mut c, idea, &body, hair_c);
    }
    if idea.style == Style::Streetwear && idea.garment.is_none() && !idea.covered {
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
    head(&mut c, idea, &body, skin, hair_c, palette);
    if idea.headwear == Headwear::Niqab {
        // The face veil, from below the eyes over the chin.
        let (rx, ry) = (body.head_rx, body.head_ry);
        c.poly(
            &[
                Pt(CX - rx - 6.0, HEAD_Y - 2.0),
                Pt(CX + rx + 6.0, HEAD_Y - 2.0),
                Pt(CX + rx + 10.0, HEAD_Y + ry + 26.0),
                Pt(CX - rx - 10.0, HEAD_Y + ry + 26.0),
            ],
            shade(scarf(idea), 0.08),
        );
    }
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
