//! Packshots the built-in makes from a shop's product photo: the product cut
//! from its plain background (its own transparency, or a flood fill from the
//! border within a tolerance, edges softened), trimmed, scaled and centred
//! with the same margins every time on a square canvas of the preset's
//! colour, over a soft contact shadow. A product it cannot separate (a busy
//! background, a photo filled edge to edge) is placed whole, with a note.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use image::{Rgba, RgbaImage, imageops::FilterType};

/// How a packshot is framed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PackshotStyle {
    /// The square canvas's side, in pixels.
    pub side: u32,
    /// The canvas's colour.
    pub background: [u8; 3],
    /// The room left on each side, as a fraction of the side.
    pub margin: f32,
    /// A soft shadow where the product stands.
    pub shadow: bool,
}

impl Default for PackshotStyle {
    fn default() -> PackshotStyle {
        PackshotStyle {
            side: 1600,
            background: [255, 255, 255],
            margin: 0.1,
            shadow: true,
        }
    }
}

/// A packshot: the picture, and whether the product was cut out.
#[derive(Debug, Clone)]
pub struct Packshot {
    pub image: RgbaImage,
    /// The product was separated from its background (else placed whole).
    pub separated: bool,
    /// What the customer should know, for `generatorNotes`.
    pub note: Option<String>,
}

/// The largest difference of one channel.
fn distance(a: [u8; 3], b: [u8; 3]) -> u8 {
    (0..3).map(|i| a[i].abs_diff(b[i])).max().unwrap_or(0)
}

fn rgb(p: &Rgba<u8>) -> [u8; 3] {
    [p[0], p[1], p[2]]
}

/// The photo's border, pixel by pixel (each once).
fn border(w: u32, h: u32) -> impl Iterator<Item = (u32, u32)> {
    let top_bottom = (0..w).flat_map(move |x| [(x, 0), (x, h - 1)]);
    let sides = (1..h.saturating_sub(1)).flat_map(move |y| [(0, y), (w - 1, y)]);
    top_bottom
        .chain(sides)
        .filter(move |&(x, y)| x < w && y < h)
}

/// The product's mask (255: product), from the photo's own transparency or
/// a flood fill of its plain background from the border; `None` when the
/// photo has no plain background to remove.
fn mask(photo: &RgbaImage) -> Option<Vec<u8>> {
    let (w, h) = photo.dimensions();
    if photo.pixels().any(|p| p[3] < 250) {
        return Some(photo.pixels().map(|p| p[3]).collect());
    }
    let edge: Vec<[u8; 3]> = border(w, h)
        .map(|(x, y)| rgb(photo.get_pixel(x, y)))
        .collect();
    // The background's colour: each channel's median along the border.
    let median = |c: usize| {
        let mut v: Vec<u8> = edge.iter().map(|p| p[c]).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let ground = [median(0), median(1), median(2)];
    // A tolerance a little wider than the border's own noise.
    let mut spread: Vec<u8> = edge.iter().map(|p| distance(*p, ground)).collect();
    spread.sort_unstable();
    let noise = spread[spread.len() * 9 / 10];
    let tolerance = noise.saturating_add(12).min(40);
    let plain = edge
        .iter()
        .filter(|p| distance(**p, ground) <= tolerance)
        .count();
    if plain * 10 < edge.len() * 8 {
        return None;
    }
    // Flood fill from every plain border pixel.
    let mut m = vec![255u8; (w * h) as usize];
    let mut queue: VecDeque<(u32, u32)> = VecDeque::new();
    for (x, y) in border(w, h) {
        let i = (y * w + x) as usize;
        if m[i] == 255 && distance(rgb(photo.get_pixel(x, y)), ground) <= tolerance {
            m[i] = 0;
            queue.push_back((x, y));
        }
    }
    while let Some((x, y)) = queue.pop_front() {
        let around = [
            (x.wrapping_sub(1), y),
            (x + 1, y),
            (x, y.wrapping_sub(1)),
            (x, y + 1),
        ];
        for (nx, ny) in around {
            if nx >= w || ny >= h {
                continue;
            }
            let i = (ny * w + nx) as usize;
            if m[i] == 255 && distance(rgb(photo.get_pixel(nx, ny)), ground) <= tolerance {
                m[i] = 0;
                queue.push_back((nx, ny));
            }
        }
    }
    let product = m.iter().filter(|v| **v == 255).count();
    let total = m.len();
    if product * 200 < total || product * 100 > total * 97 {
        return None;
    }
    Some(soften(&m, w, h))
}

/// The mask's edges softened by a 3×3 average: no jagged outline.
fn soften(m: &[u8], w: u32, h: u32) -> Vec<u8> {
    let at = |x: i64, y: i64| -> u32 {
        if x < 0 || y < 0 || x >= i64::from(w) || y >= i64::from(h) {
            0
        } else {
            u32::from(m[(y as u32 * w + x as u32) as usize])
        }
    };
    let mut out = vec![0u8; m.len()];
    for y in 0..i64::from(h) {
        for x in 0..i64::from(w) {
            let sum: u32 = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
                .map(|(dx, dy)| at(x + dx, y + dy))
                .sum();
            out[(y as u32 * w + x as u32) as usize] = (sum / 9) as u8;
        }
    }
    out
}

/// Where the mask holds the product: `(left, top, right, bottom)`, inclusive.
fn bounds(m: &[u8], w: u32, h: u32) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for y in 0..h {
        for x in 0..w {
            if m[(y * w + x) as usize] > 8 {
                b = Some(match b {
                    None => (x, y, x, y),
                    Some((l, t, r, bo)) => (l.min(x), t.min(y), r.max(x), bo.max(y)),
                });
            }
        }
    }
    b
}

/// Blends `top` (straight alpha) over the opaque `bottom`.
fn over(bottom: &mut Rgba<u8>, top: [u8; 3], alpha: f32) {
    for c in 0..3 {
        let v = f32::from(top[c]) * alpha + f32::from(bottom[c]) * (1.0 - alpha);
        bottom[c] = v.round().clamp(0.0, 255.0) as u8;
    }
}

/// A product cut from its photo: trimmed to it, transparent around it.
#[derive(Debug, Clone)]
pub struct Cutout {
    pub image: RgbaImage,
    /// The product was separated from its background (else the photo is
    /// whole, trimmed of nothing).
    pub separated: bool,
}

/// Cuts the product out of `photo` (its own transparency, or its plain
/// background flood-filled from the border), brought to at most `max_side`
/// pixels a side first.
pub fn cut_out(photo: &RgbaImage, max_side: u32) -> Cutout {
    let max_side = max_side.max(16);
    // The cut-out needs no more pixels than the picture shows.
    let photo = if photo.width().max(photo.height()) > max_side {
        let f = max_side as f32 / photo.width().max(photo.height()) as f32;
        let (w, h) = (
            ((photo.width() as f32 * f) as u32).max(1),
            ((photo.height() as f32 * f) as u32).max(1),
        );
        image::imageops::resize(photo, w, h, FilterType::Triangle)
    } else {
        photo.clone()
    };
    let (w, h) = photo.dimensions();
    let (alpha, separated) = match mask(&photo) {
        Some(m) => (m, true),
        None => (vec![255; (w * h) as usize], false),
    };
    let (l, t, r, b) = bounds(&alpha, w, h).unwrap_or((0, 0, w - 1, h - 1));
    let (cw, ch) = (r - l + 1, b - t + 1);
    let mut image = RgbaImage::new(cw, ch);
    for y in 0..ch {
        for x in 0..cw {
            let p = photo.get_pixel(l + x, t + y);
            let a = alpha[((t + y) * w + l + x) as usize];
            image.put_pixel(x, y, Rgba([p[0], p[1], p[2], a]));
        }
    }
    Cutout { image, separated }
}

/// Draws `cut` (straight alpha) onto `canvas` with its top left at `(x, y)`,
/// clipped to the canvas.
pub fn paste(canvas: &mut RgbaImage, cut: &RgbaImage, x: i64, y: i64) {
    let (w, h) = (i64::from(canvas.width()), i64::from(canvas.height()));
    for (cx, cy, p) in cut.enumerate_pixels() {
        let (px, py) = (x + i64::from(cx), y + i64::from(cy));
        let a = f32::from(p[3]) / 255.0;
        if a > 0.0 && px >= 0 && py >= 0 && px < w && py < h {
            over(canvas.get_pixel_mut(px as u32, py as u32), rgb(p), a);
        }
    }
}

/// The packshot of `photo` framed as `style` says.
pub fn packshot(photo: &RgbaImage, style: &PackshotStyle) -> Packshot {
    let side = style.side.max(16);
    let Cutout {
        image: cut,
        separated,
    } = cut_out(photo, side * 2);
    let (cw, ch) = cut.dimensions();
    let inner = (side as f32 * (1.0 - 2.0 * style.margin.clamp(0.0, 0.45))).max(1.0);
    let scale = (inner / cw as f32).min(inner / ch as f32);
    let (pw, ph) = (
        ((cw as f32 * scale).round() as u32).clamp(1, side),
        ((ch as f32 * scale).round() as u32).clamp(1, side),
    );
    let cut = image::imageops::resize(&cut, pw, ph, FilterType::CatmullRom);
    let [br, bg, bb] = style.background;
    let mut canvas = RgbaImage::from_pixel(side, side, Rgba([br, bg, bb, 255]));
    let (ox, oy) = ((side - pw) / 2, (side - ph) / 2);
    if style.shadow && separated {
        // A soft ellipse where the product meets the ground.
        let (cx, cy) = (ox as f32 + pw as f32 / 2.0, (oy + ph) as f32);
        let (rx, ry) = (pw as f32 * 0.45, (pw as f32 * 0.04).max(3.0));
        let shade = [br / 3, bg / 3, bb / 3];
        let (x0, x1) = ((cx - rx).max(0.0) as u32, ((cx + rx) as u32).min(side - 1));
        let (y0, y1) = ((cy - ry).max(0.0) as u32, ((cy + ry) as u32).min(side - 1));
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = ((x as f32 - cx) / rx).powi(2) + ((y as f32 - cy) / ry).powi(2);
                if d < 1.0 {
                    over(
                        canvas.get_pixel_mut(x, y),
                        shade,
                        0.28 * (1.0 - d).powf(1.5),
                    );
                }
            }
        }
    }
    paste(&mut canvas, &cut, i64::from(ox), i64::from(oy));
    Packshot {
        image: canvas,
        separated,
        note: (!separated).then(|| {
            "the built-in could not separate the product from its background, so it is placed whole"
                .to_string()
        }),
    }
}
