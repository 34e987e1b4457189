//! Products: uploads as multipart/form-data, cleaned and stored (turned
//! upright, metadata gone); Qamera's list; one product and delete (ours);
//! every bad upload refused with a clear 4xx, storing nothing.

use std::io::Cursor;

use mannequin::keys::Scope;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, expect_error};

const BOUNDARY: &str = "mannequin-test-boundary-7d2f";

/// One part of a form: its name (none: a part without a name), its file
/// name, its content type and its bytes.
pub(crate) struct Part<'a> {
    name: Option<&'a str>,
    file_name: Option<&'a str>,
    content_type: Option<&'a str>,
    bytes: &'a [u8],
}

pub(crate) fn image_part<'a>(file_name: &'a str, bytes: &'a [u8]) -> Part<'a> {
    Part {
        name: Some("image"),
        file_name: Some(file_name),
        content_type: Some("image/png"),
        bytes,
    }
}

pub(crate) fn text_part<'a>(name: &'a str, text: &'a str) -> Part<'a> {
    Part {
        name: Some(name),
        file_name: None,
        content_type: None,
        bytes: text.as_bytes(),
    }
}

/// A multipart/form-data body of `parts`.
fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = "Content-Disposition: form-data".to_string();
        if let Some(name) = p.name {
            disposition.push_str(&format!("; name=\"{name}\""));
        }
        if let Some(file) = p.file_name {
            disposition.push_str(&format!("; filename=\"{file}\""));
        }
        body.extend(disposition.as_bytes());
        body.extend(b"\r\n");
        if let Some(t) = p.content_type {
            body.extend(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend(b"\r\n");
        body.extend(p.bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload_raw(
    app: &TestApp,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/external/products", app.url))
        .header("X-Api-Key", key)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn upload(app: &TestApp, key: &str, parts: &[Part<'_>]) -> reqwest::Response {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    upload_raw(app, key, &content_type, form(parts)).await
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG whose left half is red and right half blue, with an EXIF block
/// saying "turn 90° clockwise to view" and a GPS position.
fn photo_with_exif(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([220, 20, 20])
        } else {
            image::Rgb([20, 20, 220])
        }
    });
    let mut jpeg = Vec::new();
    img.write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
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

async fn bytes_at(app: &TestApp, url: &str) -> Vec<u8> {
    let res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_product_is_uploaded_listed_read_and_deleted() {
    let app = TestApp::start().await;
    let photo = png(300, 400);
    let res = upload(
        &app,
        &app.key,
        &[image_part("White T-Shirt Front.png", &photo)],
    )
    .await;
    assert_eq!(res.status(), 201);
    let product: Value = res.json().await.unwrap();
    let keys: Vec<&str> = product
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "thumbnail",
            "status",
            "createdAt",
            "image",
            "width",
            "height"
        ]
    );
    let id = product["id"].as_str().unwrap();
    assert!(id.starts_with("prod_"), "{id}");
    assert_eq!(product["name"], "White T-Shirt Front", "the file's name");
    assert_eq!(product["status"], "UPLOADED");
    assert_eq!(
        (product["width"].as_u64(), product["height"].as_u64()),
        (Some(300), Some(400))
    );
    let stored = bytes_at(&app, product["image"].as_str().unwrap()).await;
    let stored = image::load_from_memory(&stored).unwrap();
    assert_eq!((stored.width(), stored.height()), (300, 400));
    let thumb = bytes_at(&app, product["thumbnail"].as_str().unwrap()).await;
    assert_eq!(&thumb[..2], [0xFF, 0xD8], "a JPEG thumbnail");

    // A name given wins; no credits are spent.
    let res = upload(
        &app,
        &app.key,
        &[
            text_part("name", "  Blue Jeans  "),
            image_part("x.png", &photo),
        ],
    )
    .await;
    assert_eq!(res.status(), 201);
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["name"], "Blue Jeans");
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));

    // Qamera's list: newest first, no voting.
    let list: Value = app
        .get(&app.key, "/api/external/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 2);
    assert_eq!(list["products"][0]["id"], second["id"]);
    assert_eq!(list["products"][1], product);
    assert!(list["products"][0].get("voting").is_none());
    let page: Value = app
        .get(&app.key, "/api/external/products?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["nextCursor"].as_str().unwrap();
    let next: Value = app
        .get(
            &app.key,
            &format!("/api/external/products?limit=1&cursor={cursor}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["products"][0]["id"], product["id"]);
    assert!(next["nextCursor"].is_null());

    // One product; another account's is unknown; a read-only key uploads nothing.
    let path = format!("/api/external/products/{id}");
    let one: Value = app.get(&app.key, &path).await.json().await.unwrap();
    assert_eq!(one, product);
    let (_, other) = app.account(100, &Scope::ALL).await;
    expect_error(app.get(&other, &path).await, 404, "not_found").await;
    expect_error(app.delete(&other, &path).await, 404, "not_found").await;
    let theirs: Value = app
        .get(&other, "/api/external/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["count"], 0);
    let (_, reader) = app.account(100, &[Scope::Read]).await;
    expect_error(
        upload(&app, &reader, &[image_part("a.png", &photo)]).await,
        403,
        "missing_scope",
    )
    .await;

    // Deleted: gone from the list and by id, its images still served.
    let res = app.delete(&app.key, &path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"id": id, "deleted": true})
    );
    expect_error(app.get(&app.key, &path).await, 404, "not_found").await;
    expect_error(app.delete(&app.key, &path).await, 404, "not_found").await;
    let list: Value = app
        .get(&app.key, "/api/external/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 1);
    bytes_at(&app, product["image"].as_str().unwrap()).await;
}

#[tokio::test]
async fn a_photo_is_turned_upright_and_its_metadata_is_gone() {
    let app = TestApp::start().await;
    let photo = photo_with_exif(160, 80);
    assert!(photo.windows(9).any(|w| w == b"GPSMARKER"));
    let res = upload(
        &app,
        &app.key,
        &[Part {
            content_type: Some("image/jpeg"),
            ..image_part("IMG_0001.JPG", &photo)
        }],
    )
    .await;
    assert_eq!(res.status(), 201);
    let product: Value = res.json().await.unwrap();
    assert_eq!(
        (product["width"].as_u64(), product["height"].as_u64()),
        (Some(80), Some(160))
    );
    let stored = bytes_at(&app, product["image"].as_str().unwrap()).await;
    for marker in [&b"Exif"[..], b"GPSMARKER", b"II*\0"] {
        assert!(
            !stored.windows(marker.len()).any(|w| w == marker),
            "{marker:?} kept"
        );
    }
    let img = image::load_from_memory(&stored).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (80, 160));
    let (top, bottom) = (img.get_pixel(40, 20).0, img.get_pixel(40, 140).0);
    assert!(top[0] > 150 && top[2] < 100, "the red half on top: {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 100, "{bottom:?}");
}

#[tokio::test]
async fn bad_uploads_are_refused_in_words_and_store_nothing() {
    let app = TestApp::start().await;
    let photo = png(40, 40);
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    // A PNG header that claims 50,000 × 50,000 pixels in a few bytes.
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let long_name = "n".repeat(201);
    let cases: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
        (
            "JSON",
            "application/json".into(),
            b"{}".to_vec(),
            400,
            "unsupported_content_type",
        ),
        (
            "no boundary",
            "multipart/form-data".into(),
            form(&[image_part("a.png", &photo)]),
            400,
            "unsupported_content_type",
        ),
        (
            "no image part",
            multipart.clone(),
            form(&[text_part("name", "shirt")]),
            400,
            "invalid_upload",
        ),
        (
            "two image parts",
            multipart.clone(),
            form(&[image_part("a.png", &photo), image_part("b.png", &photo)]),
            400,
            "invalid_upload",
        ),
        (
            "a part without a name",
            multipart.clone(),
            form(&[Part {
                name: None,
                ..image_part("a.png", &photo)
            }]),
            400,
            "invalid_upload",
        ),
        (
            "an empty file",
            multipart.clone(),
            form(&[image_part("a.png", b"")]),
            400,
            "invalid_image",
        ),
        (
            "text that says it is a PNG",
            multipart.clone(),
            form(&[image_part("a.png", b"this is not a picture at all")]),
            400,
            "invalid_image",
        ),
        (
            "a truncated image",
            multipart.clone(),
            form(&[image_part("a.png", &photo[..photo.len() / 2])]),
            400,
            "invalid_image",
        ),
        (
            "a decompression bomb",
            multipart.clone(),
            form(&[image_part("a.png", &bomb)]),
            400,
            "invalid_image",
        ),
        (
            "a name over 200 characters",
            multipart.clone(),
            form(&[text_part("name", &long_name), image_part("a.png", &photo)]),
            400,
            "invalid_name",
        ),
        (
            "a form cut off",
            multipart.clone(),
            form(&[image_part("a.png", &photo)])[..100].to_vec(),
            400,
            "invalid_upload",
        ),
    ];
    for (what, content_type, body, status, code) in cases {
        let res = upload_raw(&app, &app.key, &content_type, body).await;
        assert_eq!(res.status().as_u16(), status, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], code, "{what}: {body}");
        assert!(body["error"].as_str().unwrap().len() > 10, "{what}: {body}");
    }
    let list: Value = app
        .get(&app.key, "/api/external/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 0, "nothing stored");
    // On local disk (the embedded stack), no image was kept either.
    let stored = std::fs::read_dir(app.dir.path().join("media"))
        .map(|d| d.flatten().any(|e| e.file_name() == "products"))
        .unwrap_or(false);
    assert!(!stored, "no image kept for a refused upload");
}

#[tokio::test]
async fn an_upload_over_20_mb_is_refused_before_it_is_read() {
    let app = TestApp::start().await;
    // Announced: refused from the head, the body never sent.
    let addr = app.url.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/external/products HTTP/1.1\r\nHost: {addr}\r\nX-Api-Key: {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 25000000\r\n\r\n",
        app.key
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut answer))
        .await
        .expect("an answer without the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Streamed without a length: refused once 20 MB have passed.
    let big = vec![0x42u8; 21_000_000];
    let body = form(&[image_part("big.png", &big)]);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(1 << 20).map(|c| Ok(c.to_vec())).collect();
    let res = app
        .client
        .post(format!("{}/api/external/products", app.url))
        .header("X-Api-Key", &app.key)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    // The server may close before the client has sent everything; when
    // the answer arrives, it is 413.
    if let Ok(res) = res {
        expect_error(res, 413, "payload_too_large").await;
    }
    let list: Value = app
        .get(&app.key, "/api/external/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 0);
}

#[tokio::test]
async fn an_account_keeps_at_most_max_products() {
    let app = TestApp::start_with(&["--max-products", "1"], None).await;
    let photo = png(20, 20);
    let res = upload(&app, &app.key, &[image_part("a.png", &photo)]).await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    expect_error(
        upload(&app, &app.key, &[image_part("b.png", &photo)]).await,
        409,
        "too_many_products",
    )
    .await;
    let path = format!("/api/external/products/{}", first["id"].as_str().unwrap());
    assert_eq!(app.delete(&app.key, &path).await.status(), 200);
    let res = upload(&app, &app.key, &[image_part("b.png", &photo)]).await;
    assert_eq!(res.status(), 201, "a deleted product leaves room");
}
