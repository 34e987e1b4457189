//! Presets: the system's five for every account, an account's own made as
//! multipart/form-data (with a cover and a gallery), Qamera's shapes,
//! `maxRecords`, the 400 naming a missing field, one preset and delete.

use mannequin::keys::Scope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};

const BOUNDARY: &str = "preset-boundary-41c9";

/// A form of text fields and files `(part, file name, bytes)`.
fn form(texts: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file, bytes) in files {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn create(app: &TestApp, key: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(format!("{}/api/external/presets", app.url))
        .header("X-Api-Key", key)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(30, 20, image::Rgb([240, 240, 240]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

const FIELDS: [(&str, &str); 4] = [
    ("name", "Our catalogue look"),
    (
        "guidelines",
        "Pale grey background, soft light from the left.",
    ),
    ("quantityGuidelines", "Front and back."),
    ("qualityGuidelines", "No shadows on the wall."),
];

#[tokio::test]
async fn every_account_sees_the_system_presets_and_its_own() {
    let app = TestApp::start().await;
    let list: Value = app
        .get(&app.key, "/api/external/presets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 5);
    let first = list["presets"][0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..6],
        [
            "id",
            "name",
            "guidelines",
            "quantityGuidelines",
            "qualityGuidelines",
            "createdAt"
        ]
    );
    assert!(
        list["presets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["type"] == "SYSTEM")
    );

    let image = png();
    let res = create(
        &app,
        &app.key,
        form(
            &FIELDS,
            &[
                ("cover", "cover.png", &image),
                ("gallery", "a.png", &image),
                ("gallery", "b.png", &image),
            ],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let made: Value = res.json().await.unwrap();
    assert_eq!(made["success"], true);
    let id = made["presetId"].as_str().unwrap();
    assert!(id.starts_with("preset_"), "{id}");

    let list: Value = app
        .get(&app.key, "/api/external/presets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 6);
    let own = &list["presets"][0];
    assert_eq!(own["id"], id, "the account's own first");
    assert_eq!(own["type"], "USER");
    assert_eq!(own["name"], "Our catalogue look");
    assert_eq!(own["qualityGuidelines"], "No shadows on the wall.");
    assert_eq!(own["gallery"].as_array().unwrap().len(), 2);
    let cover = app
        .client
        .get(own["cover"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cover.status(), 200);
    let limited: Value = app
        .get(&app.key, "/api/external/presets?maxRecords=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(limited["count"], 2);
    for bad in ["0", "101", "x", ""] {
        expect_error(
            app.get(&app.key, &format!("/api/external/presets?maxRecords={bad}"))
                .await,
            400,
            "invalid_max_records",
        )
        .await;
    }

    // One preset; another account sees the system's but not this one.
    let path = format!("/api/external/presets/{id}");
    let one: Value = app.get(&app.key, &path).await.json().await.unwrap();
    assert_eq!(&one, own);
    let (_, other) = app.account(10, &Scope::ALL).await;
    expect_error(app.get(&other, &path).await, 404, "not_found").await;
    let theirs: Value = app
        .get(&other, "/api/external/presets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["count"], 5);
    let system: Value = app
        .get(&other, "/api/external/presets/preset_system_flat_lay")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(system["name"], "Flat lay");

    // Delete: the account's own only.
    expect_error(app.delete(&other, &path).await, 404, "not_found").await;
    expect_error(
        app.delete(&app.key, "/api/external/presets/preset_system_lifestyle")
            .await,
        409,
        "system_preset",
    )
    .await;
    let res = app.delete(&app.key, &path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"id": id, "deleted": true})
    );
    expect_error(app.get(&app.key, &path).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_preset_missing_a_field_is_refused_naming_it() {
    let app = TestApp::start().await;
    for missing in ["name", "quantityGuidelines", "qualityGuidelines"] {
        let fields: Vec<(&str, &str)> = FIELDS
            .iter()
            .copied()
            .filter(|(n, _)| *n != missing)
            .collect();
        let body = expect_error(
            create(&app, &app.key, form(&fields, &[])).await,
            400,
            "validation_failed",
        )
        .await;
        assert_eq!(
            body["error"],
            format!("Validation failed: '{missing}' is required."),
            "{body}"
        );
    }
    // Guidelines are optional.
    let fields: Vec<(&str, &str)> = FIELDS
        .iter()
        .copied()
        .filter(|(n, _)| *n != "guidelines")
        .collect();
    assert_eq!(
        create(&app, &app.key, form(&fields, &[])).await.status(),
        201
    );
    // A cover that is not an image: nothing made.
    let res = create(
        &app,
        &app.key,
        form(&FIELDS, &[("cover", "c.png", b"not an image")]),
    )
    .await;
    expect_error(res, 400, "invalid_image").await;
    let eleven: Vec<(&str, &str, &[u8])> =
        (0..11).map(|_| ("gallery", "g.png", &b"x"[..])).collect();
    expect_error(
        create(&app, &app.key, form(&FIELDS, &eleven)).await,
        400,
        "invalid_upload",
    )
    .await;
    let (_, reader) = app.account(10, &[Scope::Read]).await;
    expect_error(
        create(&app, &reader, form(&FIELDS, &[])).await,
        403,
        "missing_scope",
    )
    .await;
    let list: Value = app
        .get(&app.key, "/api/external/presets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 6, "the five and the one made");
}
