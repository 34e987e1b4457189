use super::*;
use mannequin_domain::Attributes;
use mannequin_domain::ideas::{Colour, Garment, Gender, HairColor, Headwear, SkinTone, Style};

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

fn jpeg_size(jpeg: &[u8]) -> (u32, u32) {
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline frame");
    let h = u16::from_be_bytes([jpeg[sof + 5], jpeg[sof + 6]]);
    let w = u16::from_be_bytes([jpeg[sof + 7], jpeg[sof + 8]]);
    (u32::from(w), u32::from(h))
}

fn encoded(img: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn png_jpeg_and_webp_from_elsewhere_are_recognised_and_thumbnailed() {
    // A square red image: the thumbnail keeps it whole and square in the
    // middle, on its own colour.
    let img = image::RgbImage::from_pixel(300, 300, image::Rgb([200, 30, 30]));
    for (format, content_type, ext) in [
        (image::ImageFormat::Png, "image/png", "png"),
        (image::ImageFormat::Jpeg, "image/jpeg", "jpg"),
        (image::ImageFormat::WebP, "image/webp", "webp"),
    ] {
        let got = intake(&encoded(&img, format)).unwrap();
        assert_eq!((got.content_type, got.extension), (content_type, ext));
        assert_eq!((got.width, got.height), (300, 300));
        assert_eq!(jpeg_size(&got.thumb_jpeg), THUMB_SIZE);
        let thumb = image::load_from_memory(&got.thumb_jpeg).unwrap().to_rgb8();
        let p = thumb.get_pixel(THUMB_SIZE.0 / 2, THUMB_SIZE.1 / 2);
        assert!(
            p[0] > 170 && p[1] < 70 && p[2] < 70,
            "{p:?} for {content_type}"
        );
    }
}

#[test]
fn a_wide_image_is_thumbnailed_whole_not_stretched() {
    // Left half black, right half white, 4:1: both halves survive, side by side.
    let img = image::RgbImage::from_fn(800, 200, |x, _| {
        if x < 400 {
            image::Rgb([0, 0, 0])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let got = intake(&encoded(&img, image::ImageFormat::Png)).unwrap();
    let thumb = image::load_from_memory(&got.thumb_jpeg).unwrap().to_rgb8();
    let mid = THUMB_SIZE.1 / 2;
    assert!(thumb.get_pixel(10, mid)[0] < 40);
    assert!(thumb.get_pixel(THUMB_SIZE.0 - 10, mid)[0] > 215);
}

#[test]
fn images_that_are_not_sane_are_refused() {
    assert!(intake(b"GIF89a....").is_err());
    assert!(intake(&[]).unwrap_err().to_string().contains("empty"));
    // A PNG cut short: recognised, but corrupt.
    let png = Pixmap::new(20, 20).unwrap().encode_png().unwrap();
    assert!(intake(&png[..png.len() / 2]).is_err());
    // A header that claims 100000×100000 pixels is refused before decoding.
    let mut png = Pixmap::new(2, 2).unwrap().encode_png().unwrap();
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = intake(&png).unwrap_err().to_string();
    assert!(err.contains("limit") || err.contains("outside"), "{err}");
}

/// The CRC of a PNG chunk (type and data).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn facial_hair_glasses_headwear_and_children_are_drawn() {
    use mannequin_domain::ideas::{Age, Eyewear, FacialHair, Headwear};
    let base = idea("adult man, short straight black hair, casual, neutral", 1);
    let plain = draw(&base, 120, 180).unwrap();
    let mut seen = vec![plain.data().to_vec()];
    let mut variants: Vec<Idea> = Vec::new();
    for f in [
        FacialHair::Beard,
        FacialHair::Moustache,
        FacialHair::Stubble,
    ] {
        variants.push(Idea {
            facial_hair: f,
            ..base
        });
    }
    for e in [Eyewear::Glasses, Eyewear::Sunglasses] {
        variants.push(Idea { eyewear: e, ..base });
    }
    for h in [Headwear::Hijab, Headwear::Cap, Headwear::Beanie] {
        variants.push(Idea {
            headwear: h,
            ..base
        });
    }
    for v in &variants {
        let p = draw(v, 120, 180).unwrap();
        assert!(
            !seen.contains(&p.data().to_vec()),
            "{v:?} looks like another"
        );
        seen.push(p.data().to_vec());
    }
    // A child stands on the same floor, smaller: where an adult's face is,
    // there is backdrop.
    let child = Idea {
        age: Age::Child,
        ..base
    };
    let adult = draw(&base, 600, 900).unwrap();
    let face = pixel(&adult, 300.0, 140.0);
    let there = pixel(&draw(&child, 600, 900).unwrap(), 300.0, 140.0);
    assert_ne!(face, there);
    let backdrop = pixel(&adult, 40.0, 140.0);
    assert_eq!(there, backdrop);
}

/// Pixels within a few levels of `rgb`.
fn count_near(p: &Pixmap, rgb: [u8; 3]) -> usize {
    p.data()
        .chunks_exact(4)
        .filter(|px| (0..3).all(|k| px[k].abs_diff(rgb[k]) < 6))
        .count()
}

/// The first row, from the top, where the centre column differs from the
/// backdrop at the left edge: the top of the head.
fn head_top(p: &Pixmap) -> f32 {
    (0..900)
        .map(|y| y as f32)
        .find(|&y| pixel(p, 300.0, y) != pixel(p, 20.0, y))
        .expect("a figure")
}

const FAIR: [u8; 3] = [0xf3, 0xd9, 0xc6];

#[test]
fn a_long_red_dress_is_drawn_red_to_the_ankles() {
    let i = idea("woman in a long red dress, fair skin, standing", 1);
    let p = draw(&i, 600, 900).unwrap();
    let red = Colour::Red.rgb().to_be_bytes();
    let red = [red[1], red[2], red[3]];
    // The skirt at the knees and at the shins, between the legs too.
    for y in [600.0, 720.0, 780.0] {
        let px = pixel(&p, 300.0, y);
        assert!((0..3).all(|k| px[k].abs_diff(red[k]) < 6), "y={y}: {px:?}");
    }
    // A mini dress of the same red shows the legs' skin below the hem.
    let mut mini = i;
    mini.garment = Some(Garment::MiniDress);
    let q = draw(&mini, 600, 900).unwrap();
    assert!(count_near(&q, FAIR) > count_near(&p, FAIR) + 5_000);
}

#[test]
fn covered_outfits_hide_arms_and_legs() {
    for text in [
        "fair skin woman, casual",
        "fair skin woman, summer dress",
        "fair skin man, sportswear",
    ] {
        let open = idea(text, 2);
        let mut covered = open;
        covered.covered = true;
        let bare = count_near(&draw(&open, 600, 900).unwrap(), FAIR);
        let hidden = count_near(&draw(&covered, 600, 900).unwrap(), FAIR);
        // What still shows is the face, the neck and the hands.
        assert!(hidden * 2 < bare, "{text}: {hidden} of {bare} skin pixels");
    }
}

#[test]
fn a_hijab_hides_the_hair_and_a_niqab_the_lower_face() {
    let base = idea("fair skin woman in hijab, long wavy hair", 3);
    assert_eq!(base.headwear, Headwear::Hijab);
    // The hair's colour changes nothing in the picture: none of it shows.
    let mut blonde = base;
    blonde.hair_color = HairColor::Blonde;
    let mut black = base;
    black.hair_color = HairColor::Black;
    let (a, b) = (
        draw(&blonde, 600, 900).unwrap(),
        draw(&black, 600, 900).unwrap(),
    );
    // Only the eyebrows (drawn in the hair's colour) may differ.
    let mut differ = 0;
    for y in (0..900).step_by(3) {
        for x in (0..600).step_by(3) {
            let (x, y) = (x as f32, y as f32);
            if pixel(&a, x, y) != pixel(&b, x, y) {
                differ += 1;
                assert!(
                    (250.0..350.0).contains(&x) && (100.0..150.0).contains(&y),
                    "hair shows at ({x}, {y})"
                );
            }
        }
    }
    assert!(differ < 40, "{differ}");
    // Without the hijab, the hair's colour shows.
    let mut bare = (blonde, black);
    bare.0.headwear = Headwear::None;
    bare.1.headwear = Headwear::None;
    let (a, b) = (
        draw(&bare.0, 600, 900).unwrap(),
        draw(&bare.1, 600, 900).unwrap(),
    );
    let shown = (0..900)
        .step_by(3)
        .flat_map(|y| (0..600).step_by(3).map(move |x| (x as f32, y as f32)))
        .filter(|&(x, y)| pixel(&a, x, y) != pixel(&b, x, y))
        .count();
    assert!(shown > 200, "{shown}");
    let mut veiled = base;
    veiled.headwear = Headwear::Niqab;
    let face = |i: &Idea| count_near(&draw(i, 600, 900).unwrap(), FAIR);
    assert!(face(&veiled) < face(&base));
    // The chin is the veil's, not skin.
    let chin = pixel(&draw(&veiled, 600, 900).unwrap(), 300.0, 178.0);
    assert!((0..3).any(|k| chin[k].abs_diff(FAIR[k]) > 20), "{chin:?}");
}

#[test]
fn children_toddlers_and_babies_are_drawn_as_children() {
    let adult = head_top(&draw(&idea("woman, standing", 4), 600, 900).unwrap());
    let child = head_top(&draw(&idea("girl, 6 years old, standing", 4), 600, 900).unwrap());
    let toddler = head_top(&draw(&idea("toddler girl, standing", 4), 600, 900).unwrap());
    assert!(child > adult + 150.0, "{adult} {child}");
    assert!(toddler > child + 80.0, "{child} {toddler}");
}

mod sceneries {
    use super::super::*;
    use mannequin_domain::ideas::Colour;
    use mannequin_domain::ideas::scenery::{self, Light, Place, SceneryReading, Setting};

    fn scenery(text: &str) -> SceneryIdea {
        scenery::plan(&SceneryReading::read(text), 1, 5)[0].clone()
    }

    /// The colour at a point of the 900×600 design space.
    fn at(p: &Pixmap, x: f32, y: f32) -> [u8; 3] {
        let px = (x / 900.0 * p.width() as f32) as u32;
        let py = (y / 600.0 * p.height() as f32) as u32;
        let c = p.pixel(px, py).expect("inside");
        [c.red(), c.green(), c.blue()]
    }

    fn brightness(c: [u8; 3]) -> u32 {
        c.iter().map(|&v| u32::from(v)).sum::<u32>() / 3
    }

    #[test]
    fn a_scenery_is_a_landscape_png_and_jpeg_the_same_every_time() {
        let idea = scenery("white studio");
        let a = render_scenery(&idea).unwrap();
        assert_eq!(a.full_png, render_scenery(&idea).unwrap().full_png);
        let png = image::load_from_memory(&a.full_png).unwrap();
        let jpg = image::load_from_memory(&a.thumb_jpeg).unwrap();
        assert_eq!((png.width(), png.height()), SCENERY_FULL_SIZE);
        assert_eq!((jpg.width(), jpg.height()), SCENERY_THUMB_SIZE);
        assert!(png.width() > png.height(), "landscape");
    }

    #[test]
    fn a_studio_is_its_colour_where_a_person_would_stand() {
        for (text, colour) in [
            ("white studio", Colour::White),
            ("blue seamless backdrop", Colour::Blue),
            ("pink cyclorama", Colour::Pink),
            ("beige painted wall studio", Colour::Beige),
        ] {
            let idea = scenery(text);
            assert_eq!(idea.setting, Setting::Studio, "{text}");
            let p = draw_scenery(&idea, 450, 300).unwrap();
            let want = colour.rgb();
            let want = [(want >> 16) as u8, (want >> 8) as u8, want as u8];
            let got = at(&p, 450.0, 250.0);
            for k in 0..3 {
                let d = (i32::from(got[k]) - i32::from(want[k])).abs();
                assert!(d < 60, "{text}: {got:?} is not near {want:?}");
            }
        }
    }

    #[test]
    fn outside_the_sky_follows_the_light_and_the_ground_the_place() {
        let sky = |text: &str| {
            let idea = scenery(text);
            assert_eq!(idea.setting, Setting::Outdoor, "{text}");
            let p = draw_scenery(&idea, 450, 300).unwrap();
            (at(&p, 450.0, 40.0), at(&p, 450.0, 560.0))
        };
        let (day, _) = sky("beach at noon");
        assert!(day[2] > day[0] + 40, "a day sky is blue: {day:?}");
        let (night, _) = sky("city street at night");
        assert!(brightness(night) < 60, "a night sky is dark: {night:?}");
        let (sunset, _) = sky("meadow at sunset");
        assert!(
            sunset[0] > sunset[2] + 60,
            "a sunset sky is warm: {sunset:?}"
        );
        let (_, sand) = sky("beach at noon");
        assert!(
            sand[0] > 190 && sand[1] > 160,
            "a beach's ground is sand: {sand:?}"
        );
        let (_, grass) = sky("park in daylight");
        assert!(
            grass[1] > grass[0] && grass[1] > grass[2],
            "a park's ground is grass: {grass:?}"
        );
        let (_, road) = sky("city street in daylight");
        assert!(
            brightness(road) < 110,
            "a street's ground is asphalt: {road:?}"
        );
    }

    #[test]
    fn a_room_has_a_window_whose_light_follows_the_time() {
        let window = |text: &str| {
            let idea = scenery(text);
            assert_eq!(idea.setting, Setting::Interior, "{text}");
            let p = draw_scenery(&idea, 450, 300).unwrap();
            at(&p, 110.0, 120.0)
        };
        assert!(
            window("loft by day")[2] > 150,
            "daylight through the window"
        );
        assert!(
            brightness(window("loft at night")) < 60,
            "the night outside"
        );
        let idea = scenery("cafe at night");
        assert_eq!(
            (idea.place, idea.light),
            (Some(Place::Cafe), Some(Light::Night))
        );
    }

    #[test]
    fn what_is_not_drawn_is_said() {
        assert_eq!(
            scenery_notes(&scenery("an outdoor cafe")),
            ["cafe outdoors"]
        );
        assert!(scenery_notes(&scenery("white studio")).is_empty());
        assert_eq!(scenery_notes(&scenery("red beach")), ["colour red"]);
    }
}

/// An input image is sent as stored when it fits (nothing decoded or lost),
/// else scaled to the side the backend takes and encoded again, keeping a
/// transparent one transparent.
#[test]
fn inputs_are_sent_as_stored_when_they_fit_else_scaled() {
    let encode = |img: image::RgbaImage, format| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    };
    let small = encode(
        image::RgbaImage::from_pixel(300, 200, image::Rgba([10, 20, 30, 255])),
        image::ImageFormat::Png,
    );
    let kept = crate::prepare(&small, 1024).unwrap();
    assert_eq!(kept.bytes, small, "byte for byte");
    assert_eq!(
        (kept.content_type, kept.width, kept.height),
        ("image/png", 300, 200)
    );

    let large = encode(
        image::RgbaImage::from_pixel(3000, 1500, image::Rgba([200, 20, 30, 255])),
        image::ImageFormat::Png,
    );
    let scaled = crate::prepare(&large, 1024).unwrap();
    assert_eq!((scaled.width, scaled.height), (1024, 512));
    assert_eq!(
        scaled.content_type, "image/jpeg",
        "an opaque picture as JPEG"
    );
    let decoded = image::load_from_memory(&scaled.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1024, 512));

    let mut cut = image::RgbaImage::from_pixel(2000, 2000, image::Rgba([0, 0, 0, 0]));
    cut.put_pixel(1000, 1000, image::Rgba([255, 0, 0, 255]));
    let transparent = crate::prepare(&encode(cut, image::ImageFormat::Png), 500).unwrap();
    assert_eq!(transparent.content_type, "image/png", "transparency kept");
    assert_eq!((transparent.width, transparent.height), (500, 500));
}
