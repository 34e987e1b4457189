//! Images made elsewhere (an image server): recognised as PNG, JPEG or WebP,
//! bounded before decoding, decoded once, and thumbnailed.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits, RgbImage, RgbaImage};

use crate::{RenderError, THUMB_QUALITY, THUMB_SIZE};

/// Largest image accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 40 * 1024 * 1024;
/// Largest image accepted, per side in pixels.
pub const MAX_INPUT_SIDE: u32 = 8192;

/// What an image from elsewhere turned out to be, with its thumbnail.
#[derive(Debug, Clone)]
pub struct Intake {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: &'static str,
    /// `png`, `jpg` or `webp`: the extension of the key it is stored under.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
    /// `image/jpeg` of [`THUMB_SIZE`]: the whole image, aspect kept, on its
    /// own border colour where the proportions differ.
    pub thumb_jpeg: Vec<u8>,
}

fn refuse(why: impl Into<String>) -> RenderError {
    RenderError(why.into())
}

/// Checks `bytes` and makes the thumbnail. Fails for anything but a sane PNG,
/// JPEG or WebP of at most [`MAX_INPUT_SIDE`] pixels a side and
/// [`MAX_INPUT_BYTES`] bytes; the size is read from the header before any
/// pixel is decoded.
pub fn intake(bytes: &[u8]) -> Result<Intake, RenderError> {
    if bytes.is_empty() {
        return Err(refuse("the image is empty"));
    }
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(refuse(format!(
            "the image has {} bytes, more than {MAX_INPUT_BYTES}",
            bytes.len()
        )));
    }
    let (format, content_type, extension) = match image::guess_format(bytes) {
        Ok(ImageFormat::Png) => (ImageFormat::Png, "image/png", "png"),
        Ok(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "image/jpeg", "jpg"),
        Ok(ImageFormat::WebP) => (ImageFormat::WebP, "image/webp", "webp"),
        _ => return Err(refuse("the answer is not a PNG, JPEG or WebP image")),
    };
    let reader = || bounded(bytes, format, MAX_INPUT_SIDE);
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|e| refuse(format!("unreadable image: {e}")))?;
    if width == 0 || height == 0 || width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE {
        return Err(refuse(format!(
            "an image of {width}×{height} is outside 1..={MAX_INPUT_SIDE} pixels a side"
        )));
    }
    let decoded = reader()
        .decode()
        .map_err(|e| refuse(format!("corrupt image: {e}")))?;
    let thumb_jpeg = thumbnail(&decoded.to_rgba8())?;
    Ok(Intake {
        content_type,
        extension,
        width,
        height,
        thumb_jpeg,
    })
}

/// A reader of `bytes` as `format` that refuses, before allocating, an image
/// of more than `side` pixels a side or more memory than such an image takes.
pub(crate) fn bounded(bytes: &[u8], format: ImageFormat, side: u32) -> ImageReader<Cursor<&[u8]>> {
    let mut r = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(u64::from(side) * u64::from(side) * 4);
    r.limits(limits);
    r
}

/// The whole of `image` scaled to fit [`THUMB_SIZE`], centred on the average
/// colour of its border (a studio backdrop simply goes on), transparency on
/// white.
pub(crate) fn thumbnail(image: &RgbaImage) -> Result<Vec<u8>, RenderError> {
    let (tw, th) = THUMB_SIZE;
    let (w, h) = image.dimensions();
    let scale = (tw as f32 / w as f32).min(th as f32 / h as f32);
    let sw = ((w as f32 * scale).round() as u32).clamp(1, tw);
    let sh = ((h as f32 * scale).round() as u32).clamp(1, th);
    let scaled = image::imageops::resize(image, sw, sh, FilterType::CatmullRom);
    let on_white = |p: &image::Rgba<u8>| -> [u8; 3] {
        let a = u32::from(p[3]);
        let c = |v: u8| ((u32::from(v) * a + 255 * (255 - a) + 127) / 255) as u8;
        [c(p[0]), c(p[1]), c(p[2])]
    };
    let border = border_colour(&scaled, on_white);
    let mut thumb = RgbImage::from_pixel(tw, th, image::Rgb(border));
    let (ox, oy) = ((tw - sw) / 2, (th - sh) / 2);
    for (x, y, p) in scaled.enumerate_pixels() {
        thumb.put_pixel(ox + x, oy + y, image::Rgb(on_white(p)));
    }
    let mut out = Vec::with_capacity((tw * th) as usize / 8);
    jpeg_encoder::Encoder::new(&mut out, THUMB_QUALITY)
        .encode(
            thumb.as_raw(),
            tw as u16,
            th as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| refuse(e.to_string()))?;
    Ok(out)
}

fn border_colour(image: &RgbaImage, on_white: impl Fn(&image::Rgba<u8>) -> [u8; 3]) -> [u8; 3] {
    let (w, h) = image.dimensions();
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for (x, y, p) in image.enumerate_pixels() {
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            let c = on_white(p);
            for i in 0..3 {
                sum[i] += u64::from(c[i]);
            }
            n += 1;
        }
    }
    sum.map(|s| (s / n.max(1)) as u8)
}
