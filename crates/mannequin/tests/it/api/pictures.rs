//! Photo shoots and packshots: the shop's product, uploaded, made into
//! pictures with an approved model, a scenery and a preset, through the same
//! pipeline as every kind; every record the config names checked before a
//! credit is reserved.

use std::io::Cursor;

use mannequin::keys::Scope;
use serde_json::{Value, json};

use super::products::{image_part, text_part, upload};
use crate::helpers::{TestApp, expect_error};

/// A product photo: a red garment shape on a white background.
fn red_shirt() -> Vec<u8> {
    let img = image::RgbImage::from_fn(400, 400, |x, y| {
        let body = (120..280).contains(&x) && (90..340).contains(&y);
        let sleeves = (60..340).contains(&x) && (90..170).contains(&y);
        if body || sleeves {
            image::Rgb([210, 25, 35])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Uploads the red shirt as `name`; its id.
async fn product(app: &TestApp, key: &str, name: &str) -> String {
    let photo = red_shirt();
    let res = upload(
        app,
        key,
        &[image_part("shirt.png", &photo), text_part("name", name)],
    )
    .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

/// Orders one asset from words and makes it: its id.
async fn made(app: &TestApp, collection: &str, preferences: &str) -> String {
    let res = app
        .post(
            &app.key,
            &format!("/api/external/{collection}/register-ideas"),
            json!({"preferences": preferences, "count": 1}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    app.drain().await;
    body["createdRecordIds"][0].as_str().unwrap().to_string()
}

async fn order(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    app.post(key, &format!("/api/external/{path}/register-ideas"), body)
        .await
}

/// The picture's full image, decoded.
async fn image_of(app: &TestApp, item: &Value) -> image::RgbaImage {
    let url = item["image"].as_str().expect("an image once DONE");
    let bytes = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    image::load_from_memory(&bytes).unwrap().to_rgba8()
}

fn red_pixels(img: &image::RgbaImage) -> usize {
    img.pixels()
        .filter(|p| p[0] > 170 && p[1] < 70 && p[2] < 80)
        .count()
}

#[tokio::test]
async fn photo_shoots_and_packshots_are_made_from_the_shops_product() {
    let app = TestApp::start_with(
        &[
            "--credits-per-photo-shoot",
            "7",
            "--credits-per-packshot",
            "3",
        ],
        None,
    )
    .await;
    let shirt = product(&app, &app.key, "Red T-Shirt").await;
    let model = made(&app, "models", "young woman, casual").await;
    let scenery = made(&app, "sceneries", "outdoor, city street").await;
    let before = app.balance(&app.account).await;

    // A photo shoot: Qamera's register shape, img_ ids, its own price.
    let res = order(
        &app,
        &app.key,
        "image-picker",
        json!({"config": {
            "product": {"id": shirt},
            "model": {"id": model},
            "scenery": {"id": scenery},
            "preset": {"id": "preset_system_ecommerce_white"},
            "industry": "fashion",
            "suggestions": "bright summer light"
        }, "count": 3}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let shoot: Value = res.json().await.unwrap();
    assert_eq!(shoot["creditsReserved"], 21);
    let ids: Vec<&str> = shoot["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| id.starts_with("img_")), "{ids:?}");
    assert_eq!(app.balance(&app.account).await.0, before.0 - 21);

    // Packshots: up to 50, ps_ ids.
    let res = order(
        &app,
        &app.key,
        "packshots",
        json!({"config": {"product": {"id": shirt}}, "count": 2}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let packshots: Value = res.json().await.unwrap();
    assert_eq!(packshots["creditsReserved"], 6);
    assert!(
        packshots["createdRecordIds"][0]
            .as_str()
            .unwrap()
            .starts_with("ps_")
    );
    app.drain().await;
    assert_eq!(
        app.balance(&app.account).await,
        (before.0 - 27, 0, before.2 + 27),
        "every picture made, every credit consumed"
    );
    // The product, the model and the scenery were each prepared once for
    // the five pictures made from them.
    let metrics = app.metrics_text().await;
    assert_eq!(
        crate::helpers::metric(&metrics, "mannequin_input_images_prepared_total"),
        Some(3.0),
        "{metrics}"
    );

    // The photo shoot list: Qamera's wrapper, filtered by product.
    let list = app
        .get_json(
            &app.key,
            &format!("/api/external/image-picker?productId={shirt}"),
        )
        .await;
    assert_eq!(list["count"], 3);
    let items = list["images"].as_array().unwrap();
    assert!(items.iter().all(|i| i["status"] == "DONE"), "{list}");
    // Each item names what it was made from.
    for item in items {
        assert_eq!(item["productId"], shirt.as_str(), "{item}");
        assert_eq!(item["modelId"], model.as_str(), "{item}");
        assert_eq!(item["sceneryId"], scenery.as_str(), "{item}");
    }
    assert!(
        items[0]["name"]
            .as_str()
            .unwrap()
            .starts_with("Fashion Shoot - Red T-Shirt ("),
        "{list}"
    );
    let other = app
        .get_json(
            &app.key,
            "/api/external/image-picker?productId=prod_nothing",
        )
        .await;
    assert_eq!(other["count"], 0);
    assert_eq!(other["images"], json!([]));

    // One picture: what it was made from, the prompt with the product's
    // name and the customer's words, the built-in's honest note.
    let one = app
        .get_json(&app.key, &format!("/api/external/image-picker/{}", ids[0]))
        .await;
    assert_eq!(one["idea"]["product"]["id"], shirt.as_str());
    assert_eq!(one["idea"]["model"]["id"], model.as_str());
    assert_eq!(one["idea"]["scenery"]["id"], scenery.as_str());
    let prompt = one["prompt"].as_str().unwrap();
    assert!(prompt.contains("\"Red T-Shirt\""), "{prompt}");
    assert!(prompt.contains("bright summer light"), "{prompt}");
    assert!(prompt.contains("E-commerce, white background"), "{prompt}");
    assert!(
        one["generatorNotes"]
            .as_str()
            .unwrap()
            .contains("does not fit it"),
        "{one}"
    );
    let picture = image_of(&app, &one).await;
    assert_eq!(picture.dimensions(), (640, 960));
    assert!(red_pixels(&picture) > 1000, "the product is in the picture");

    // A packshot: square, the product on plain white, the corners white.
    let list = app.get_json(&app.key, "/api/external/packshots").await;
    assert_eq!(list["count"], 2);
    let shot = image_of(&app, &list["packshots"][0]).await;
    assert_eq!(shot.dimensions(), (1024, 1024));
    for (x, y) in [(0, 0), (1023, 0), (0, 1023), (1023, 1023)] {
        let p = shot.get_pixel(x, y);
        assert!(p[0] >= 250 && p[1] >= 250 && p[2] >= 250, "corner {p:?}");
    }
    assert!(red_pixels(&shot) > 100_000, "the product fills the frame");
    // A batch says its kind by its noun, and keeps the order's own words.
    let batch = app
        .get_json(
            &app.key,
            &format!(
                "/api/external/batches/{}",
                shoot["batchId"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(batch["kind"], "image", "{batch}");
    assert_eq!(batch["preferences"], "bright summer light\nfashion");
    let batch = app
        .get_json(
            &app.key,
            &format!(
                "/api/external/batches/{}",
                packshots["batchId"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(batch["kind"], "packshot");
    // Packshots and photo shoots keep to their own lists.
    let models = app.get_json(&app.key, "/api/external/models").await;
    assert_eq!(models["count"], 1);
    assert!(
        models["models"][0].get("productId").is_none(),
        "a model is made from words"
    );
    app.audit().await;
}

#[tokio::test]
async fn what_the_config_names_is_checked_before_any_credit_is_reserved() {
    let app = TestApp::start().await;
    let shirt = product(&app, &app.key, "Red T-Shirt").await;
    let (other, other_key) = app.account(1000, &Scope::ALL).await;
    let theirs = product(&app, &other_key, "Their Shirt").await;
    let model = made(&app, "models", "man, suit").await;
    let scenery = made(&app, "sceneries", "white studio").await;
    let before = app.balance(&app.account).await;
    let refused = [
        (
            json!({}),
            400,
            "Validation failed: 'config.product.id' is required.",
        ),
        (
            json!({"config": {"product": {}}}),
            400,
            "Validation failed: 'config.product.id' is required.",
        ),
        (
            json!({"config": {"product": {"id": 7}}}),
            400,
            "Validation failed: 'config.product.id' must be a string.",
        ),
        (
            json!({"config": {"product": {"id": "prod_unknown"}}}),
            404,
            "Product not found.",
        ),
        (
            json!({"config": {"product": {"id": theirs}}}),
            404,
            "Product not found.",
        ),
        (
            json!({"config": {"product": {"id": shirt}, "model": {"id": scenery}}}),
            404,
            "Model not found.",
        ),
        (
            json!({"config": {"product": {"id": shirt}, "scenery": {"id": "scenery_nothing"}}}),
            404,
            "Scenery not found.",
        ),
        (
            json!({"config": {"product": {"id": shirt}, "preset": {"id": "preset_nothing"}}}),
            404,
            "Preset not found.",
        ),
        (
            json!({"config": {"product": {"id": shirt}}, "count": 51}),
            400,
            "'count' must be between 1 and 50, got 51.",
        ),
    ];
    for (body, status, message) in refused {
        let res = order(&app, &app.key, "packshots", body.clone()).await;
        assert_eq!(res.status(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"], message, "{body}");
    }
    // A photo shoot counts to 20.
    let res = order(
        &app,
        &app.key,
        "image-picker",
        json!({"config": {"product": {"id": shirt}, "model": {"id": model}}, "count": 21}),
    )
    .await;
    expect_error(res, 400, "invalid_count").await;
    // A model not yet made: 409.
    let pending = app.register_ok(&app.key, "woman, casual", 1).await;
    let pending = pending["createdRecordIds"][0].as_str().unwrap();
    let res = order(
        &app,
        &app.key,
        "image-picker",
        json!({"config": {"product": {"id": shirt}, "model": {"id": pending}}}),
    )
    .await;
    let err = expect_error(res, 409, "not_done").await;
    assert!(err["error"].as_str().unwrap().contains("PENDING"), "{err}");
    // A deleted product names nothing.
    let gone = product(&app, &app.key, "Old Shirt").await;
    let res = app
        .delete(&app.key, &format!("/api/external/products/{gone}"))
        .await;
    assert_eq!(res.status(), 200);
    let res = order(
        &app,
        &app.key,
        "packshots",
        json!({"config": {"product": {"id": gone}}}),
    )
    .await;
    expect_error(res, 404, "not_found").await;
    assert_eq!(
        app.balance(&app.account).await,
        (before.0 - 10, before.1 + 10, before.2),
        "only the pending model reserved anything"
    );
    assert_eq!(app.balance(&other).await, (1000, 0, 0));
}

#[tokio::test]
async fn a_child_model_is_never_shown_in_swimwear() {
    let app = TestApp::start().await;
    let child = made(&app, "models", "six year old girl").await;
    let bikini = product(&app, &app.key, "Red Bikini").await;
    let before = app.balance(&app.account).await;
    let res = order(
        &app,
        &app.key,
        "image-picker",
        json!({"config": {"product": {"id": bikini}, "model": {"id": child}}}),
    )
    .await;
    let err = expect_error(res, 400, "refused_config").await;
    assert!(err["error"].as_str().unwrap().contains("'bikini'"), "{err}");
    assert_eq!(app.balance(&app.account).await, before);
    // The same model in a T-shirt is fine.
    let shirt = product(&app, &app.key, "Kids T-Shirt").await;
    let res = order(
        &app,
        &app.key,
        "image-picker",
        json!({"config": {"product": {"id": shirt}, "model": {"id": child}}, "count": 1}),
    )
    .await;
    assert_eq!(res.status(), 200);
}
