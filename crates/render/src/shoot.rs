//! Photo shoots the built-in composes, honestly: the scenery, the model's
//! figure cut from its backdrop, and the product cut from its photo placed
//! where a product of its category sits on a person (a top on the chest,
//! shoes at the feet, a bag at the hand). It places the product; it does not
//! fit it, turn it or light it, and says so.

use image::{Rgba, RgbaImage, imageops::FilterType};
use mannequin_domain::ideas::shoot::{Category, Framing};

use crate::packshot::{cut_out, paste};

/// How one picture is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShootLayout {
    pub width: u32,
    pub height: u32,
    pub category: Category,
    pub framing: Framing,
}

/// A composed picture and what the customer should know of it.
#[derive(Debug, Clone)]
pub struct Shoot {
    pub image: RgbaImage,
    pub notes: Vec<String>,
}

/// Where a product of `category` sits, in fractions of the figure's box:
/// its centre, and the largest width and height it may take.
fn seat(category: Category) -> (f32, f32, f32, f32) {
    match category {
        Category::Top => (0.5, 0.36, 0.58, 0.28),
        Category::Bottom => (0.5, 0.68, 0.46, 0.40),
        Category::Dress => (0.5, 0.50, 0.60, 0.55),
        Category::Shoes => (0.5, 0.95, 0.42, 0.09),
        Category::Bag => (0.80, 0.56, 0.34, 0.24),
        Category::Accessory => (0.5, 0.12, 0.28, 0.12),
    }
}

/// How much closer than a full-body picture each framing stands.
fn zoom(framing: Framing) -> f32 {
    match framing {
        Framing::FullBody | Framing::Whole => 1.0,
        Framing::ThreeQuarter => 1.35,
        Framing::WaistUp => 1.9,
        Framing::CloseUp => 2.6,
    }
}

/// `img` scaled to cover `w` × `h` and centred: a background.
fn cover(img: &RgbaImage, w: u32, h: u32) -> RgbaImage {
    let f = (w as f32 / img.width() as f32).max(h as f32 / img.height() as f32);
    let (sw, sh) = (
        ((img.width() as f32 * f).ceil() as u32).max(w),
        ((img.height() as f32 * f).ceil() as u32).max(h),
    );
    let scaled = image::imageops::resize(img, sw, sh, FilterType::Triangle);
    image::imageops::crop_imm(&scaled, (sw - w) / 2, (sh - h) / 2, w, h).to_image()
}

/// `img` scaled to fit inside `w` × `h`, keeping its shape.
fn fit(img: &RgbaImage, w: f32, h: f32) -> RgbaImage {
    let f = (w / img.width() as f32).min(h / img.height() as f32);
    let (sw, sh) = (
        ((img.width() as f32 * f).round() as u32).max(1),
        ((img.height() as f32 * f).round() as u32).max(1),
    );
    image::imageops::resize(img, sw, sh, FilterType::CatmullRom)
}

/// Composes one photo shoot picture from the scenery (a plain studio grey
/// without one), the model's picture and the product's photo.
pub fn photo_shoot(
    scenery: Option<&RgbaImage>,
    model: &RgbaImage,
    product: &RgbaImage,
    layout: &ShootLayout,
) -> Shoot {
    let (width, height) = (layout.width.max(16), layout.height.max(16));
    let z = zoom(layout.framing);
    // Composed larger by the framing's zoom, then cropped: the picture keeps
    // its resolution however close it stands.
    let (w, h) = (
        (width as f32 * z).round() as u32,
        (height as f32 * z).round() as u32,
    );
    let mut notes = vec!["it places the product on the model and does not fit it".to_string()];
    let figure = cut_out(model, h);
    let mut canvas = match (figure.separated, scenery) {
        (true, Some(s)) => cover(s, w, h),
        (true, None) => RgbaImage::from_pixel(w, h, Rgba([232, 230, 227, 255])),
        (false, _) => {
            if scenery.is_some() {
                notes.push(
                    "the model could not be separated from its backdrop, so the scenery is not shown"
                        .to_string(),
                );
            }
            cover(model, w, h)
        }
    };
    // The figure's box on the canvas.
    let (fx, fy, fw, fh) = if figure.separated {
        let f = fit(&figure.image, w as f32 * 0.9, h as f32 * 0.88);
        let (fx, fy) = ((w - f.width()) / 2, (h as f32 * 0.96) as u32 - f.height());
        paste(&mut canvas, &f, i64::from(fx), i64::from(fy));
        (fx as f32, fy as f32, f.width() as f32, f.height() as f32)
    } else {
        (
            w as f32 * 0.3,
            h as f32 * 0.06,
            w as f32 * 0.4,
            h as f32 * 0.9,
        )
    };
    let cut = cut_out(product, w.max(h));
    if !cut.separated {
        notes.push(
            "the product could not be separated from its photo's background, so it is placed whole"
                .to_string(),
        );
    }
    let (cx, cy, mw, mh) = seat(layout.category);
    let placed = fit(&cut.image, fw * mw, fh * mh);
    let (px, py) = (
        fx + fw * cx - placed.width() as f32 / 2.0,
        fy + fh * cy - placed.height() as f32 / 2.0,
    );
    paste(&mut canvas, &placed, px as i64, py as i64);
    // The crop: around the product for a close-up, else from just above
    // the head down.
    let (left, top) = if layout.framing == Framing::CloseUp {
        (
            px + placed.width() as f32 / 2.0 - width as f32 / 2.0,
            py + placed.height() as f32 / 2.0 - height as f32 / 2.0,
        )
    } else {
        (
            fx + fw / 2.0 - width as f32 / 2.0,
            fy - (h as f32 * 0.04) * (2.0 - z).max(0.0) - height as f32 * 0.04,
        )
    };
    let left = left.clamp(0.0, (w - width) as f32) as u32;
    let top = top.clamp(0.0, (h - height) as f32) as u32;
    let image = image::imageops::crop_imm(&canvas, left, top, width, height).to_image();
    Shoot { image, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A figure: a dark upright block on a plain light backdrop.
    fn model() -> RgbaImage {
        let mut m = RgbaImage::from_pixel(200, 300, Rgba([240, 240, 240, 255]));
        for y in 30..290 {
            for x in 70..130 {
                m.put_pixel(x, y, Rgba([60, 50, 40, 255]));
            }
        }
        m
    }

    /// A red square product on white.
    fn product() -> RgbaImage {
        let mut p = RgbaImage::from_pixel(100, 100, Rgba([255, 255, 255, 255]));
        for y in 20..80 {
            for x in 20..80 {
                p.put_pixel(x, y, Rgba([220, 20, 30, 255]));
            }
        }
        p
    }

    fn red_box(img: &RgbaImage) -> Option<(u32, u32, u32, u32)> {
        let mut b: Option<(u32, u32, u32, u32)> = None;
        for (x, y, p) in img.enumerate_pixels() {
            if p[0] > 180 && p[1] < 60 && p[2] < 70 {
                b = Some(match b {
                    None => (x, y, x, y),
                    Some((l, t, r, bo)) => (l.min(x), t.min(y), r.max(x), bo.max(y)),
                });
            }
        }
        b
    }

    #[test]
    fn the_product_sits_where_its_category_is_worn() {
        let scenery = RgbaImage::from_pixel(300, 200, Rgba([40, 120, 200, 255]));
        let layout = |category| ShootLayout {
            width: 320,
            height: 480,
            category,
            framing: Framing::FullBody,
        };
        let top = photo_shoot(Some(&scenery), &model(), &product(), &layout(Category::Top));
        let shoes = photo_shoot(
            Some(&scenery),
            &model(),
            &product(),
            &layout(Category::Shoes),
        );
        assert_eq!(top.image.dimensions(), (320, 480));
        let (_, t_top, _, t_bottom) = red_box(&top.image).expect("the product is shown");
        let (_, s_top, _, _) = red_box(&shoes.image).expect("the product is shown");
        assert!(
            t_bottom < 480 / 2,
            "a top sits on the upper half: {t_top}..{t_bottom}"
        );
        assert!(s_top > 480 * 3 / 4, "shoes sit at the feet: {s_top}");
        // The scenery shows around the figure: its blue in the corner.
        let corner = top.image.get_pixel(5, 5);
        assert!(corner[2] > 150 && corner[0] < 80, "{corner:?}");
        assert!(top.notes[0].contains("does not fit"));
    }

    #[test]
    fn a_close_up_is_centred_on_the_product_and_keeps_the_size() {
        let layout = ShootLayout {
            width: 320,
            height: 480,
            category: Category::Bag,
            framing: Framing::CloseUp,
        };
        let close = photo_shoot(None, &model(), &product(), &layout);
        assert_eq!(close.image.dimensions(), (320, 480));
        let (l, t, r, b) = red_box(&close.image).expect("the product is shown");
        let (cx, cy) = ((l + r) / 2, (t + b) / 2);
        assert!(cx.abs_diff(160) < 40 && cy.abs_diff(240) < 60, "{cx},{cy}");
        // Closer than a full-body picture: the product is larger.
        let full = photo_shoot(
            None,
            &model(),
            &product(),
            &ShootLayout {
                framing: Framing::FullBody,
                ..layout
            },
        );
        let (fl, _, fr, _) = red_box(&full.image).unwrap();
        assert!(r - l > (fr - fl) * 2, "{} vs {}", r - l, fr - fl);
    }
}
