//! The built-in generator: draws an [`Idea`] as a clearly drawn human figure on a
//! studio backdrop, as a full PNG and a JPEG thumbnail.
//!
//! Drawing happens in a fixed 600×900 design space and is scaled to each output
//! size, so the thumbnail is the same picture, not a resampled one. Everything
//! is a pure function of the idea: the same idea always gives the same bytes.

#![forbid(unsafe_code)]

mod figure;
mod intake;
mod packshot;
mod picture;
mod product;
mod shoot;

pub use image::RgbaImage;
pub use intake::{Intake, MAX_INPUT_BYTES, MAX_INPUT_SIDE, intake};
pub use packshot::{Cutout, Packshot, PackshotStyle, cut_out, packshot, paste};
pub use picture::{decode, encode_picture, picture_packshot, stand_in};
pub use product::{
    MAX_PRODUCT_BYTES, MAX_PRODUCT_SIDE, Prepared, ProductError, ProductImage, noise_jpeg, prepare,
    product,
};
pub use shoot::{ShootLayout, photo_shoot};

use mannequin_domain::Idea;
use mannequin_domain::ideas::scenery::SceneryIdea;
use tiny_skia::{Pixmap, Transform};

/// Width and height of the design space the figure is drawn in.
pub const DESIGN_W: f32 = 600.0;
pub const DESIGN_H: f32 = 900.0;

/// Output sizes: the full image and the thumbnail (both 2:3, portrait).
pub const FULL_SIZE: (u32, u32) = (640, 960);
pub const THUMB_SIZE: (u32, u32) = (240, 360);
const THUMB_QUALITY: u8 = 85;

/// The images of one idea.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// `image/png`, [`FULL_SIZE`].
    pub full_png: Vec<u8>,
    /// `image/jpeg`, [`THUMB_SIZE`].
    pub thumb_jpeg: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("render failed: {0}")]
pub struct RenderError(String);

impl RenderError {
    pub fn new(why: impl Into<String>) -> RenderError {
        RenderError(why.into())
    }
}

/// Draws `idea` at `width`×`height` pixels.
pub fn draw(idea: &Idea, width: u32, height: u32) -> Result<Pixmap, RenderError> {
    let mut pixmap =
        Pixmap::new(width, height).ok_or_else(|| RenderError("zero-sized image".into()))?;
    let scale = Transform::from_scale(width as f32 / DESIGN_W, height as f32 / DESIGN_H);
    figure::paint(&mut pixmap, scale, idea);
    Ok(pixmap)
}

/// Output sizes of a scenery: the full image and the thumbnail (both 3:2,
/// landscape).
pub const SCENERY_FULL_SIZE: (u32, u32) = (960, 640);
pub const SCENERY_THUMB_SIZE: (u32, u32) = (360, 240);

/// Draws the scenery `idea` at `width`×`height` pixels.
pub fn draw_scenery(idea: &SceneryIdea, width: u32, height: u32) -> Result<Pixmap, RenderError> {
    let mut pixmap =
        Pixmap::new(width, height).ok_or_else(|| RenderError("zero-sized image".into()))?;
    let scale = Transform::from_scale(
        width as f32 / figure::scenery::W,
        height as f32 / figure::scenery::H,
    );
    figure::scenery::paint(&mut pixmap, scale, idea);
    Ok(pixmap)
}

/// Renders the full image and the thumbnail of the scenery `idea`.
pub fn render_scenery(idea: &SceneryIdea) -> Result<Rendered, RenderError> {
    let (w, h) = SCENERY_FULL_SIZE;
    let full_png = draw_scenery(idea, w, h)?
        .encode_png()
        .map_err(|e| RenderError(e.to_string()))?;
    let (w, h) = SCENERY_THUMB_SIZE;
    let thumb_jpeg = encode_jpeg(&draw_scenery(idea, w, h)?, THUMB_QUALITY)?;
    Ok(Rendered {
        full_png,
        thumb_jpeg,
    })
}

/// What the built-in drawing of `idea` leaves out, for the scenery's
/// `generatorNotes`: a room's place asked for outside (drawn as a park) and
/// a colour outside (the sky and the ground keep theirs).
pub fn scenery_notes(idea: &SceneryIdea) -> Vec<String> {
    use mannequin_domain::ideas::scenery::Setting;
    let mut notes = Vec::new();
    if idea.setting == Setting::Outdoor
        && let Some(place) = idea.place.filter(|p| p.setting() != Setting::Outdoor)
    {
        notes.push(format!("{} outdoors", place.label().to_lowercase()));
    }
    if idea.setting == Setting::Outdoor
        && let Some(colour) = idea.colour
    {
        notes.push(format!("colour {}", colour.label()));
    }
    notes
}

/// Renders the full image and the thumbnail of `idea`.
pub fn render(idea: &Idea) -> Result<Rendered, RenderError> {
    let full = draw(idea, FULL_SIZE.0, FULL_SIZE.1)?;
    let full_png = full.encode_png().map_err(|e| RenderError(e.to_string()))?;
    let thumb = draw(idea, THUMB_SIZE.0, THUMB_SIZE.1)?;
    let thumb_jpeg = encode_jpeg(&thumb, THUMB_QUALITY)?;
    Ok(Rendered {
        full_png,
        thumb_jpeg,
    })
}

/// Encodes an opaque pixmap as a baseline JPEG.
pub fn encode_jpeg(pixmap: &Pixmap, quality: u8) -> Result<Vec<u8>, RenderError> {
    // The backdrop is opaque, so premultiplied RGBA is plain RGBA; drop alpha.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::with_capacity(rgb.len() / 10);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    let (w, h) = (pixmap.width(), pixmap.height());
    let (w, h) = (
        u16::try_from(w).map_err(|_| RenderError("too wide".into()))?,
        u16::try_from(h).map_err(|_| RenderError("too tall".into()))?,
    );
    encoder
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| RenderError(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests;
