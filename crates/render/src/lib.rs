//! The built-in generator: draws an [`Idea`] as a clearly drawn human figure on a
//! studio backdrop, as a full PNG and a JPEG thumbnail.
//!
//! Drawing happens in a fixed 600×900 design space and is scaled to each output
//! size, so the thumbnail is the same picture, not a resampled one. Everything
//! is a pure function of the idea: the same idea always gives the same bytes.

mod figure;

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

/// Largest image accepted from elsewhere (an external generator), per side.
pub const MAX_INPUT_SIDE: u32 = 8192;

/// Makes the JPEG thumbnail of a PNG made elsewhere: scaled to cover
/// [`THUMB_SIZE`], centred and cropped, on white where the PNG is transparent.
pub fn thumbnail_from_png(png: &[u8]) -> Result<Vec<u8>, RenderError> {
    // Check the declared size before decoding, so a hostile header cannot make
    // the decoder allocate gigabytes.
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return Err(RenderError("not a PNG image".into()));
    }
    let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    if w == 0 || h == 0 || w > MAX_INPUT_SIDE || h > MAX_INPUT_SIDE {
        return Err(RenderError(format!(
            "PNG of {w}×{h} is outside 1..={MAX_INPUT_SIDE} per side"
        )));
    }
    let source = Pixmap::decode_png(png).map_err(|e| RenderError(e.to_string()))?;
    let (tw, th) = THUMB_SIZE;
    let mut thumb =
        Pixmap::new(tw, th).ok_or_else(|| RenderError("zero-sized thumbnail".into()))?;
    thumb.fill(tiny_skia::Color::WHITE);
    let scale = (tw as f32 / w as f32).max(th as f32 / h as f32);
    let dx = (tw as f32 - w as f32 * scale) / 2.0;
    let dy = (th as f32 - h as f32 * scale) / 2.0;
    thumb.draw_pixmap(
        0,
        0,
        source.as_ref(),
        &tiny_skia::PixmapPaint {
            quality: tiny_skia::FilterQuality::Bicubic,
            ..Default::default()
        },
        Transform::from_row(scale, 0.0, 0.0, scale, dx, dy),
        None,
    );
    encode_jpeg(&thumb, THUMB_QUALITY)
}

#[cfg(test)]
mod tests;
