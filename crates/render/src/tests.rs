use super::*;
use mannequin_domain::Attributes;
use mannequin_domain::ideas::{Gender, SkinTone, Style};

fn idea(text: &str, seed: u64) -> Idea {
    Attributes::read(text).ideas(1, seed)[0]
}

fn pixel(p: &Pixmap, x: f32, y: f32) -> [u8; 3] {
    let px = (x / DESIGN_W * p.width() as f32) as u32;
    let py = (y / DESIGN_H * p.height() as f32) as u32;
    let c = p.pixel(px, py).expect("inside");
    [c.red(), c.green(), c.blue()]
}

#[test]
fn the_same_idea_renders_the_same_bytes() {
    let i = idea(
        "young female model, athletic build, natural makeup, for sportswear",
        1,
    );
    let a = render(&i).unwrap();
    let b = render(&i).unwrap();
    assert_eq!(a.full_png, b.full_png);
    assert_eq!(a.thumb_jpeg, b.thumb_jpeg);
}

#[test]
fn outputs_are_a_png_and_a_jpeg_of_the_declared_sizes() {
    let r = render(&idea("man, casual", 2)).unwrap();
    assert_eq!(&r.full_png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR width and height, big-endian, at bytes 16..24.
    let w = u32::from_be_bytes(r.full_png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(r.full_png[20..24].try_into().unwrap());
    assert_eq!((w, h), FULL_SIZE);
    assert_eq!(&r.thumb_jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(&r.thumb_jpeg[r.thumb_jpeg.len() - 2..], &[0xFF, 0xD9]);
    assert!(r.thumb_jpeg.len() < r.full_png.len());
}

#[test]
fn the_face_shows_the_skin_tone_of_the_idea() {
    for (tone, text) in [(SkinTone::Fair, "fair skin"), (SkinTone::Dark, "dark skin")] {
        let i = idea(&format!("woman, {text}, bald"), 3);
        assert_eq!(i.skin_tone, tone);
        let p = draw(&i, 600, 900).unwrap();
        // The chin, below the mouth.
        let cheek = pixel(&p, 300.0, 178.0);
        let expected = match tone {
            SkinTone::Fair => [0xf3, 0xd9, 0xc6],
            _ => [0x4a, 0x2f, 0x1f],
        };
        for k in 0..3 {
            assert!(cheek[k].abs_diff(expected[k]) < 12, "{tone:?}: {cheek:?}");
        }
    }
}

#[test]
fn a_figure_stands_on_the_backdrop() {
    let i = idea("man, business suit, standing", 4);
    let p = draw(&i, 600, 900).unwrap();
    let backdrop = pixel(&p, 20.0, 300.0);
    // Head, chest, legs and feet all differ from the backdrop at the same height.
    for y in [128.0, 300.0, 600.0, 790.0] {
        let figure = pixel(&p, 300.0 - (if y > 500.0 { 30.0 } else { 0.0 }), y);
        let edge = pixel(&p, 20.0, y);
        assert_ne!(figure, edge, "nothing drawn at y={y}");
    }
    assert_ne!(pixel(&p, 300.0, 300.0), backdrop);
}

#[test]
fn outfits_and_builds_change_the_picture() {
    let base = idea(
        "woman, slim, casual, standing, smiling, fair skin, long straight blonde hair",
        5,
    );
    let mut other = base;
    other.style = Style::Swimwear;
    let mut wider = base;
    wider.build = mannequin_domain::ideas::Build::PlusSize;
    let mut man = base;
    man.gender = Gender::Male;
    let img = |i: &Idea| draw(i, 120, 180).unwrap().data().to_vec();
    let b = img(&base);
    assert_ne!(b, img(&other));
    assert_ne!(b, img(&wider));
    assert_ne!(b, img(&man));
}

#[test]
fn every_style_and_pose_renders() {
    use mannequin_domain::ideas::{HairStyle, Pose};
    let mut i = idea("person", 6);
    for style in Style::ALL {
        for pose in Pose::ALL {
            for hair in HairStyle::ALL {
                i.style = *style;
                i.pose = *pose;
                i.hair_style = *hair;
                let p = draw(&i, 60, 90).unwrap();
                assert!(p.data().chunks_exact(4).all(|px| px[3] == 255), "opaque");
            }
        }
    }
}

#[test]
fn thumbnails_of_foreign_pngs_cover_the_thumbnail_size() {
    // A wide PNG: the thumbnail is cropped from its middle.
    let mut wide = Pixmap::new(900, 300).unwrap();
    wide.fill(tiny_skia::Color::from_rgba8(200, 30, 30, 255));
    let jpeg = thumbnail_from_png(&wide.encode_png().unwrap()).unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    // The same as the thumbnail of our own render of that size: a JPEG of THUMB_SIZE.
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline frame");
    let h = u16::from_be_bytes([jpeg[sof + 5], jpeg[sof + 6]]);
    let w = u16::from_be_bytes([jpeg[sof + 7], jpeg[sof + 8]]);
    assert_eq!((u32::from(w), u32::from(h)), THUMB_SIZE);
}

#[test]
fn foreign_images_that_are_not_sane_pngs_are_refused() {
    assert!(thumbnail_from_png(b"GIF89a....").is_err());
    assert!(thumbnail_from_png(&[]).is_err());
    // A header that claims 100000×100000 pixels is refused before decoding.
    let mut png = Pixmap::new(2, 2).unwrap().encode_png().unwrap();
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let err = thumbnail_from_png(&png).unwrap_err().to_string();
    assert!(err.contains("outside"), "{err}");
}
