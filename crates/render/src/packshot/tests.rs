//! Packshots measured: a shirt on white, a bottle with its own alpha, a dark
//! product on dark, and a photo with nothing to cut away.

use image::{Rgba, RgbaImage};

use super::{PackshotStyle, packshot};

const STYLE: PackshotStyle = PackshotStyle {
    side: 400,
    background: [255, 255, 255],
    margin: 0.1,
    shadow: true,
};

/// Where pixels near `colour` are on the canvas: `(left, top, right, bottom)`.
fn found(img: &RgbaImage, colour: [u8; 3]) -> (u32, u32, u32, u32) {
    let mut b = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if (0..3).all(|c| p[c].abs_diff(colour[c]) < 30) {
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
    }
    assert!(b.0 != u32::MAX, "no {colour:?} on the canvas");
    b
}

/// Equal room left and right, top and bottom, the larger side at the margin.
fn assert_centred(b: (u32, u32, u32, u32), side: u32) {
    let (l, t, r, bo) = b;
    let (right, bottom) = (side - 1 - r, side - 1 - bo);
    assert!(l.abs_diff(right) <= 3, "left {l} right {right}");
    assert!(t.abs_diff(bottom) <= 3, "top {t} bottom {bottom}");
    let margin = (side as f32 * 0.1) as u32;
    assert!(
        l.min(t).abs_diff(margin) <= 3,
        "the larger side sits at the margin: {b:?}"
    );
}

fn corners_are(img: &RgbaImage, colour: [u8; 3]) {
    let s = img.width() - 1;
    for (x, y) in [(0, 0), (s, 0), (0, s), (s, s), (s / 2, 2)] {
        let p = img.get_pixel(x, y);
        assert_eq!([p[0], p[1], p[2]], colour, "({x}, {y})");
    }
}

/// A T-shaped shirt, off centre, on a white photo with a little noise.
fn shirt_on_white() -> RgbaImage {
    RgbaImage::from_fn(500, 360, |x, y| {
        let body = (80..200).contains(&x) && (90..300).contains(&y);
        let sleeves = (40..240).contains(&x) && (90..140).contains(&y);
        if body || sleeves {
            Rgba([200, 30, 40, 255])
        } else {
            let n = ((x * 7 + y * 13) % 5) as u8;
            Rgba([250 + n, 251 + n.min(4), 250 + n, 255])
        }
    })
}

#[test]
fn a_shirt_on_white_is_cut_out_and_centred_on_plain_white() {
    let shot = packshot(&shirt_on_white(), &STYLE);
    assert!(shot.separated && shot.note.is_none());
    assert_eq!(shot.image.dimensions(), (400, 400));
    corners_are(&shot.image, [255, 255, 255]);
    assert_centred(found(&shot.image, [200, 30, 40]), 400);
    // The shadow sits under the product, grey, and nowhere above it.
    let (_, _, _, bottom) = found(&shot.image, [200, 30, 40]);
    let under = shot.image.get_pixel(200, bottom + 2);
    assert!(under[0] < 250 && under[0] > 150, "a soft shadow: {under:?}");
    let beside = shot.image.get_pixel(5, 200);
    assert_eq!(beside[0], 255);
}

#[test]
fn a_bottle_with_its_own_alpha_keeps_its_outline() {
    let bottle = RgbaImage::from_fn(120, 300, |x, y| {
        let neck = (50..70).contains(&x) && y < 80;
        let body = (20..100).contains(&x) && (80..290).contains(&y);
        if neck || body {
            Rgba([20, 110, 60, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let style = PackshotStyle {
        background: [240, 236, 228],
        ..STYLE
    };
    let shot = packshot(&bottle, &style);
    assert!(shot.separated);
    corners_are(&shot.image, [240, 236, 228]);
    let b = found(&shot.image, [20, 110, 60]);
    assert_centred(b, 400);
    // Tall: its height fills the room between the margins.
    assert!((b.3 - b.1 + 1).abs_diff(320) <= 3, "{b:?}");
    // The neck is narrower than the body: the outline was kept.
    let row = |y: u32| {
        (0..400)
            .filter(|x| shot.image.get_pixel(*x, y)[1] > 90 && shot.image.get_pixel(*x, y)[0] < 60)
            .count()
    };
    assert!(row(b.1 + 20) * 3 < row(b.3 - 40), "neck and body");
}

#[test]
fn a_dark_product_on_dark_is_still_separated() {
    let dark = RgbaImage::from_fn(300, 300, |x, y| {
        if (100..220).contains(&x) && (60..260).contains(&y) {
            Rgba([8, 8, 10, 255])
        } else {
            Rgba([48, 48, 52, 255])
        }
    });
    let shot = packshot(&dark, &STYLE);
    assert!(shot.separated);
    corners_are(&shot.image, [255, 255, 255]);
    assert_centred(found(&shot.image, [8, 8, 10]), 400);
}

#[test]
fn a_photo_without_a_plain_background_is_placed_whole_with_a_note() {
    let busy = RgbaImage::from_fn(200, 100, |x, y| {
        Rgba([
            (x * 37 % 256) as u8,
            (y * 91 % 256) as u8,
            ((x ^ y) * 13 % 256) as u8,
            255,
        ])
    });
    let shot = packshot(&busy, &STYLE);
    assert!(!shot.separated);
    assert!(shot.note.as_deref().unwrap().contains("placed whole"));
    corners_are(&shot.image, [255, 255, 255]);
    // Whole: 320 wide (the margins), 160 tall, centred.
    let inside = |x: u32, y: u32| shot.image.get_pixel(x, y).0 != [255, 255, 255, 255];
    assert!(inside(40, 200) && inside(359, 200) && !inside(38, 200) && !inside(361, 200));
    assert!(inside(200, 120) && inside(200, 279) && !inside(200, 117) && !inside(200, 282));
}

#[test]
fn the_same_photo_gives_the_same_packshot() {
    let a = packshot(&shirt_on_white(), &STYLE);
    let b = packshot(&shirt_on_white(), &STYLE);
    assert_eq!(a.image, b.image);
}
