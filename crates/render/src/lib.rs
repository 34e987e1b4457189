//! The built-in generator: draws an [`Idea`] as a clearly drawn human figure on a
//! studio backdrop, as a full PNG and a JPEG thumbnail.
//!
//! Drawing happens in a fixed 600×900 design space and is scaled to each output
//! size, so the thumbnail is the same picture, not a resampled one. Everything
//! is a pure function of the idea: the same idea always gives the same bytes.

#![forbid(unsafe_code)]

mod figure;
mod intake;

pub use intake::{Intake, MAX_INPUT_BYTES, MAX_INPUT_SIDE, intake};

use mannequin_domain::Idea;
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

/// Draws `idea` at `width`×`height` pixels.
pub fn draw(idea: &Idea, width: u32, height: u32) -> Result<Pixmap, RenderError> {
    let mut pixmap =
        Pixmap::new(width, height).ok_or_else(|| RenderError("zero-sized image".into()))?;
    let scale = Transform::from_scale(width as f32 / DESIGN_W, height as f32 / DESIGN_H);
    figure::paint(&mut pixmap, scale, idea);
    Ok(pixmap)
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
