//! What the built-in needs to make pictures from a product: the images read
//! and written, a packshot framed as a picture of a batch asks, and a figure
//! when an order names no model.

use image::{DynamicImage, RgbaImage};
use mannequin_domain::Attributes;
use mannequin_domain::ideas::shoot::{self, Angle, Framing, PictureIdea};

use crate::RenderError;

/// Reads an image (PNG, JPEG or WebP) into pixels.
pub fn decode(bytes: &[u8]) -> Result<RgbaImage, RenderError> {
    image::load_from_memory(bytes)
        .map(|i| i.to_rgba8())
        .map_err(|e| RenderError::new(e.to_string()))
}

/// A picture as a JPEG at quality 92 (the pictures are opaque).
pub fn encode_picture(image: &RgbaImage) -> Result<Vec<u8>, RenderError> {
    let rgb = DynamicImage::ImageRgba8(image.clone()).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .encode_image(&rgb)
        .map_err(|e| RenderError::new(e.to_string()))?;
    Ok(out)
}

/// A figure when an order names no model: the built-in's own, from no
/// words at all (an adult, dressed plainly).
pub fn stand_in(seed: u32) -> Result<RgbaImage, RenderError> {
    let idea = Attributes::read("").ideas(1, u64::from(seed))[0];
    let (w, h) = crate::FULL_SIZE;
    let png = crate::draw(&idea, w, h)?
        .encode_png()
        .map_err(|e| RenderError::new(e.to_string()))?;
    decode(&png)
}

/// The packshot of `product` that `picture` asks for: the order's side
/// (else `default_side`) and background colour (else white); a detail is
/// the middle of a packshot twice as large. What it could not do goes to
/// `notes`.
pub fn picture_packshot(
    product: &RgbaImage,
    picture: &PictureIdea,
    default_side: u32,
    notes: &mut Vec<String>,
) -> RgbaImage {
    let side = shoot::side(&picture.config).unwrap_or(default_side);
    let detail = picture.framing == Framing::CloseUp;
    let style = crate::PackshotStyle {
        side: if detail { side * 2 } else { side },
        background: shoot::background(&picture.config).unwrap_or([255, 255, 255]),
        ..crate::PackshotStyle::default()
    };
    let made = crate::packshot(product, &style);
    notes.extend(made.note);
    if picture.angle != Angle::Front {
        notes.push(format!(
            "it shows the product as photographed, not from the {}",
            picture.angle.label()
        ));
    }
    if detail {
        notes.push("a detail is the middle of the packshot, enlarged".to_string());
        let o = side / 2;
        return image::imageops::crop_imm(&made.image, o, o, side, side).to_image();
    }
    made.image
}
