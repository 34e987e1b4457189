//! A shop's own product photo, as the service keeps it: recognised by its
//! bytes (whatever it was called), bounded before a pixel is decoded, turned
//! the way its camera said (EXIF orientation), and written again from its
//! pixels alone, so nothing the file carried besides them (EXIF with its GPS
//! position, XMP, comments, text chunks, colour profiles) is kept.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat};

/// Largest upload accepted, in bytes.
pub const MAX_PRODUCT_BYTES: usize = 20 * 1024 * 1024;
/// Largest upload accepted, per side in pixels.
pub const MAX_PRODUCT_SIDE: u32 = 8192;
/// The quality a JPEG photo is written again with.
const PHOTO_QUALITY: u8 = 92;

/// A product photo as it is stored.
#[derive(Debug, Clone)]
pub struct ProductImage {
    /// `image/jpeg` for a JPEG upload, `image/png` for a PNG or WebP one
    /// (which may be transparent).
    pub content_type: &'static str,
    /// `jpg` or `png`: the extension of the key it is stored under.
    pub extension: &'static str,
    /// As stored: after the orientation is applied.
    pub width: u32,
    pub height: u32,
    /// The photo, written again from its pixels.
    pub bytes: Vec<u8>,
    /// A JPEG thumbnail, as a model's.
    pub thumb_jpeg: Vec<u8>,
}

/// Why an upload is refused. Each says what was wrong in words a person can
/// act on; none has been stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("The image file is empty.")]
    Empty,
    #[error("The image is {bytes} bytes; at most {MAX_PRODUCT_BYTES} are accepted.")]
    TooLarge { bytes: usize },
    #[error("The file is not a PNG, JPEG or WebP image.")]
    NotAnImage,
    #[error(
        "The image is {width}×{height} pixels; at most {MAX_PRODUCT_SIDE} a side are accepted."
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error("The image could not be read: it is damaged or cut short.")]
    Damaged,
}

/// A JPEG of `width` × `height` pixels of noise at quality 95: what a large
/// camera photo costs to upload, decode and re-encode, made without a camera
/// (the upload benchmark's). About 2.4 bytes a pixel.
pub fn noise_jpeg(width: u16, height: u16, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let pixels = usize::from(width) * usize::from(height) * 3;
    let mut rgb = Vec::with_capacity(pixels);
    while rgb.len() < pixels {
        // xorshift64: plenty for pixels no one looks at.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        rgb.extend_from_slice(&state.to_le_bytes()[..6]);
    }
    rgb.truncate(pixels);
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("a JPEG of a valid size encodes");
    out
}

/// Checks an uploaded photo and writes it again without its metadata.
pub fn product(bytes: &[u8]) -> Result<ProductImage, ProductError> {
    if bytes.is_empty() {
        return Err(ProductError::Empty);
    }
    if bytes.len() > MAX_PRODUCT_BYTES {
        return Err(ProductError::TooLarge { bytes: bytes.len() });
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) => f,
        _ => return Err(ProductError::NotAnImage),
    };
    let reader = || crate::intake::bounded(bytes, format, MAX_PRODUCT_SIDE);
    // The size from the header first: a small file claiming a huge image
    // (a decompression bomb) is refused before anything is allocated.
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|_| header_refusal(bytes, format))?;
    if width == 0 || height == 0 || width > MAX_PRODUCT_SIDE || height > MAX_PRODUCT_SIDE {
        return Err(ProductError::TooManyPixels { width, height });
    }
    let mut decoder = reader().into_decoder().map_err(|_| ProductError::Damaged)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| ProductError::Damaged)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    // The thumbnail from a copy scaled down first: a full-size RGBA copy of
    // a large photo would cost four bytes a pixel more.
    let (tw, th) = crate::THUMB_SIZE;
    let small = image.resize(tw, th, image::imageops::FilterType::Triangle);
    let thumb_jpeg =
        crate::intake::thumbnail(&small.to_rgba8()).map_err(|_| ProductError::Damaged)?;
    let (content_type, extension, bytes) = match format {
        ImageFormat::Jpeg => ("image/jpeg", "jpg", jpeg(&image)?),
        _ => ("image/png", "png", png(&image)?),
    };
    Ok(ProductImage {
        content_type,
        extension,
        width,
        height,
        bytes,
        thumb_jpeg,
    })
}

/// A header that could not be read: a PNG whose header claims more than the
/// limits is a bomb, told as its size; anything else is damaged.
fn header_refusal(bytes: &[u8], format: ImageFormat) -> ProductError {
    if format == ImageFormat::Png && bytes.len() >= 24 && &bytes[12..16] == b"IHDR" {
        let side = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let (width, height) = (side(16), side(20));
        if width > MAX_PRODUCT_SIDE || height > MAX_PRODUCT_SIDE {
            return ProductError::TooManyPixels { width, height };
        }
    }
    ProductError::Damaged
}

fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, ProductError> {
    // A JPEG decodes to RGB: written from its pixels without a copy.
    let copy;
    let rgb = match image.as_rgb8() {
        Some(rgb) => rgb,
        None => {
            copy = image.to_rgb8();
            &copy
        }
    };
    let (w, h) = rgb.dimensions();
    let side = |v: u32| {
        u16::try_from(v).map_err(|_| ProductError::TooManyPixels {
            width: w,
            height: h,
        })
    };
    let mut out = Vec::with_capacity(rgb.len() / 8);
    jpeg_encoder::Encoder::new(&mut out, PHOTO_QUALITY)
        .encode(
            rgb.as_raw(),
            side(w)?,
            side(h)?,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|_| ProductError::Damaged)?;
    Ok(out)
}

fn png(image: &DynamicImage) -> Result<Vec<u8>, ProductError> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|_| ProductError::Damaged)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG of `w`×`h`, its left half red and its right half blue.
    fn halves(w: u16, h: u16) -> Vec<u8> {
        let mut rgb = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                rgb.extend(if x < w / 2 {
                    [220, 20, 20]
                } else {
                    [20, 20, 220]
                });
            }
        }
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 95)
            .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    /// `jpeg` with an EXIF block after its start: orientation 6 (turn 90°
    /// clockwise to view) and a GPS position.
    fn with_exif(jpeg: &[u8]) -> Vec<u8> {
        // TIFF, little-endian: IFD0 at 8 with two entries, the orientation
        // and the GPS IFD's offset; the GPS IFD with the latitude's reference.
        let mut tiff: Vec<u8> = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        tiff.extend(2u16.to_le_bytes());
        tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation = 6
        tiff.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]); // GPS IFD at 38
        tiff.extend(0u32.to_le_bytes());
        tiff.extend(1u16.to_le_bytes());
        tiff.extend([0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
        tiff.extend(0u32.to_le_bytes());
        tiff.extend(b"GPSMARKER");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(((app1.len() + 2) as u16).to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    fn colour_at(p: &ProductImage, x: u32, y: u32) -> [u8; 3] {
        let img = image::load_from_memory(&p.bytes).unwrap().to_rgb8();
        img.get_pixel(x, y).0
    }

    #[test]
    fn a_photo_is_turned_as_its_camera_said_and_kept_without_its_metadata() {
        let upload = with_exif(&halves(80, 40));
        assert!(upload.windows(9).any(|w| w == b"GPSMARKER"));
        let p = product(&upload).unwrap();
        assert_eq!((p.width, p.height), (40, 80), "turned upright");
        assert_eq!((p.content_type, p.extension), ("image/jpeg", "jpg"));
        // Turned clockwise, the left (red) half is on top.
        let top = colour_at(&p, 20, 10);
        let bottom = colour_at(&p, 20, 70);
        assert!(top[0] > 150 && top[2] < 100, "top {top:?}");
        assert!(bottom[2] > 150 && bottom[0] < 100, "bottom {bottom:?}");
        for marker in [&b"Exif"[..], b"GPSMARKER", b"II*\0"] {
            assert!(
                !p.bytes.windows(marker.len()).any(|w| w == marker),
                "{marker:?} kept"
            );
        }
        let thumb = image::load_from_memory(&p.thumb_jpeg).unwrap();
        assert_eq!((thumb.width(), thumb.height()), crate::THUMB_SIZE);
    }

    #[test]
    fn a_png_keeps_its_pixels_and_loses_its_text() {
        let mut img = image::RgbaImage::from_pixel(30, 20, image::Rgba([10, 200, 10, 128]));
        img.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        let mut png_bytes = Vec::new();
        img.write_to(&mut Cursor::new(&mut png_bytes), ImageFormat::Png)
            .unwrap();
        // A tEXt chunk before IEND (its CRC is not checked by the decoder
        // for ancillary chunks; the point is it is not written back).
        let iend = png_bytes.len() - 12;
        let mut chunk = Vec::new();
        chunk.extend(14u32.to_be_bytes());
        chunk.extend(b"tEXtComment\0secret1");
        chunk.extend([0, 0, 0, 0]);
        png_bytes.splice(iend..iend, chunk);
        let p = product(&png_bytes).unwrap();
        assert_eq!((p.content_type, p.width, p.height), ("image/png", 30, 20));
        assert!(!p.bytes.windows(7).any(|w| w == b"secret1"));
        let back = image::load_from_memory(&p.bytes).unwrap().to_rgba8();
        assert_eq!(back.get_pixel(5, 5).0, [10, 200, 10, 128]);
        assert_eq!(back.get_pixel(0, 0).0[3], 0, "transparency kept");
    }

    #[test]
    fn bad_uploads_are_refused_with_what_was_wrong() {
        assert_eq!(product(b"").unwrap_err(), ProductError::Empty);
        assert_eq!(
            product(b"hello, I am text with a .png name").unwrap_err(),
            ProductError::NotAnImage
        );
        let photo = halves(64, 64);
        assert_eq!(
            product(&photo[..photo.len() / 2]).unwrap_err(),
            ProductError::Damaged
        );
        let big = vec![0u8; MAX_PRODUCT_BYTES + 1];
        assert_eq!(
            product(&big).unwrap_err(),
            ProductError::TooLarge {
                bytes: MAX_PRODUCT_BYTES + 1
            }
        );
        // A PNG header claiming 50,000 × 50,000 pixels, with almost nothing
        // after it: refused from the header, before any allocation.
        let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(50_000u32.to_be_bytes());
        ihdr.extend(50_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        bomb.extend(13u32.to_be_bytes());
        bomb.extend(&ihdr);
        bomb.extend(crc32(&ihdr).to_be_bytes());
        assert_eq!(
            product(&bomb).unwrap_err(),
            ProductError::TooManyPixels {
                width: 50_000,
                height: 50_000
            }
        );
    }

    /// PNG's CRC-32 (ISO 3309), bit by bit: enough for a test's one chunk.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}

/// An image prepared for an image server: at most a size it takes, PNG
/// when it has transparency (a cut-out product keeps it), JPEG otherwise.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    /// `image/png` or `image/jpeg`.
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Reads a stored image and brings it to at most `max_side` pixels a side
/// (never larger than it is), encoded for sending. A PNG or JPEG that fits
/// already is sent as stored, byte for byte: nothing is lost to encoding
/// it again, and nothing is decoded.
pub fn prepare(bytes: &[u8], max_side: u32) -> Result<Prepared, String> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let format = reader.format();
    let (w, h) = reader.into_dimensions().map_err(|e| e.to_string())?;
    let kept = match format {
        Some(ImageFormat::Png) => Some("image/png"),
        Some(ImageFormat::Jpeg) => Some("image/jpeg"),
        _ => None,
    };
    if let Some(content_type) = kept.filter(|_| w.max(h) <= max_side.max(16)) {
        return Ok(Prepared {
            bytes: bytes.to_vec(),
            content_type,
            width: w,
            height: h,
        });
    }
    let img = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
    let (w, h) = (img.width(), img.height());
    let img = if w.max(h) > max_side.max(16) {
        img.resize(max_side, max_side, image::imageops::FilterType::CatmullRom)
    } else {
        img
    };
    let (width, height) = (img.width(), img.height());
    let rgba = img.to_rgba8();
    let transparent = rgba.pixels().any(|p| p[3] < 255);
    let mut out = Vec::new();
    let content_type = if transparent {
        rgba.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        "image/png"
    } else {
        let rgb = DynamicImage::ImageRgba8(rgba).to_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&rgb)
            .map_err(|e| e.to_string())?;
        "image/jpeg"
    };
    Ok(Prepared {
        bytes: out,
        content_type,
        width,
        height,
    })
}
