//! Sceneries through the same pipeline as models: Qamera's list and
//! register shapes with `scenery_` ids, their own price, made by the
//! built-in as landscapes, and kept apart from models (their list, ids,
//! cursors and events).

use mannequin::keys::Scope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};

const STUDIO: &str = "white studio, seamless paper";

async fn register(app: &TestApp, preferences: &str, count: u32) -> Value {
    let res = app
        .post(
            &app.key,
            "/api/external/sceneries/register-ideas",
            json!({"preferences": preferences, "count": count}),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn sceneries_are_ordered_listed_and_made_as_qamera_shows_them() {
    let app = TestApp::start_with(&["--credits-per-scenery", "4"], None).await;
    let model = app.register_ok(&app.key, "man, suit", 1).await;
    let registered = register(&app, STUDIO, 3).await;
    let keys: Vec<&str> = registered
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "createdRecordIds",
            "batchId",
            "orderId",
            "reservationId",
            "creditsReserved"
        ]
    );
    assert_eq!(registered["creditsReserved"], 12, "the scenery's own price");
    let ids: Vec<&str> = registered["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.starts_with("scenery_")), "{ids:?}");
    assert_eq!(app.balance(&app.account).await, (1000 - 10 - 12, 22, 0));

    // The list: Qamera's wrapper and item fields, sceneries only.
    let list: Value = app
        .get(&app.key, "/api/external/sceneries")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 3);
    let items = list["sceneries"].as_array().unwrap();
    let first: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in ["id", "name", "thumbnail", "status", "voting", "createdAt"] {
        assert!(first.contains(&field), "{field} in {first:?}");
    }
    assert!(items.iter().all(|s| s["status"] == "PENDING"));
    let (_, models) = app.list(&app.key, "").await;
    assert_eq!(models["count"], 1, "models and sceneries are listed apart");
    assert_eq!(models["models"][0]["id"], model["createdRecordIds"][0]);

    app.drain().await;
    let mut names = Vec::new();
    for id in &ids {
        let s: Value = app
            .get(&app.key, &format!("/api/external/sceneries/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(s["status"], "DONE", "{s}");
        assert_eq!(s["generator"], "builtin");
        assert_eq!(s["idea"]["setting"], "studio", "{s}");
        assert_eq!(s["idea"]["colour"], "white", "{s}");
        let prompt = s["prompt"].as_str().unwrap();
        assert!(prompt.contains(STUDIO), "the words verbatim: {prompt}");
        assert!(prompt.contains("no people"), "{prompt}");
        assert!(
            s["name"].as_str().unwrap().starts_with("Studio - White"),
            "{s}"
        );
        names.push(s["name"].as_str().unwrap().to_string());
        let image = app
            .client
            .get(s["image"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let image = image::load_from_memory(&image).unwrap();
        assert!(image.width() > image.height(), "a landscape");
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3, "names are distinct: {names:?}");
    assert_eq!(app.balance(&app.account).await, (1000 - 10 - 12, 0, 22));
    app.audit().await;

    // The batch and its order know their sceneries.
    let batch: Value = app
        .get(
            &app.key,
            &format!(
                "/api/external/batches/{}",
                registered["batchId"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(batch["status"], "DONE", "{batch}");
    assert_eq!(batch["creditsConsumed"], 12);
}

#[tokio::test]
async fn a_scenery_is_found_only_as_a_scenery_of_its_own_account() {
    let app = TestApp::start().await;
    let model = app.register_ok(&app.key, "man, suit", 1).await;
    let model = model["createdRecordIds"][0].as_str().unwrap().to_string();
    let registered = register(&app, "a city street at night", 2).await;
    let scenery = registered["createdRecordIds"][0].as_str().unwrap();
    assert_eq!(
        registered["creditsReserved"], 20,
        "a model's price by default"
    );

    // Another kind's id is not one of these, as a malformed id is not.
    expect_error(
        app.get(&app.key, &format!("/api/external/sceneries/{model}"))
            .await,
        400,
        "invalid_id",
    )
    .await;
    expect_error(
        app.get(&app.key, &format!("/api/external/models/{scenery}"))
            .await,
        400,
        "invalid_id",
    )
    .await;
    for path in [
        format!("/api/external/models/{scenery}/vote"),
        format!("/api/external/sceneries/{model}/vote"),
    ] {
        expect_error(
            app.post(&app.key, &path, json!({"voting": "APPROVED"}))
                .await,
            404,
            "not_found",
        )
        .await;
    }
    expect_error(
        app.post(
            &app.key,
            &format!("/api/external/models/{scenery}/cancel"),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Another account sees none of it.
    let (_, other) = app.account(100, &Scope::ALL).await;
    let path = format!("/api/external/sceneries/{scenery}");
    expect_error(app.get(&other, &path).await, 404, "not_found").await;
    expect_error(
        app.post(
            &other,
            &format!("{path}/vote"),
            json!({"voting": "APPROVED"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.post(&other, &format!("{path}/cancel"), json!({})).await,
        404,
        "not_found",
    )
    .await;
    let theirs: Value = app
        .get(&other, "/api/external/sceneries")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs,
        json!({"sceneries": [], "count": 0, "nextCursor": null})
    );

    // Vote and cancel as for models.
    let voted: Value = app
        .post(
            &app.key,
            &format!("{path}/vote"),
            json!({"voting": "approved"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(voted, json!({"id": scenery, "voting": "APPROVED"}));
    let approved: Value = app
        .get(&app.key, "/api/external/sceneries?statusFilter=approved")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["count"], 1);
    assert_eq!(approved["sceneries"][0]["id"], scenery);
    let cancelled: Value = app
        .post(&app.key, &format!("{path}/cancel"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cancelled,
        json!({"cancelledRecordIds": [scenery], "creditsRefunded": 10})
    );

    // A page's cursor marks a place in its own kind's list only.
    let page: Value = app
        .get(&app.key, "/api/external/sceneries?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["nextCursor"].as_str().unwrap();
    assert!(cursor.contains(".scenery_"), "{cursor}");
    let next: Value = app
        .get(
            &app.key,
            &format!("/api/external/sceneries?limit=1&cursor={cursor}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["count"], 1);
    assert_ne!(next["sceneries"][0]["id"], page["sceneries"][0]["id"]);
    expect_error(
        app.get(&app.key, &format!("/api/external/models?cursor={cursor}"))
            .await,
        400,
        "invalid_cursor",
    )
    .await;

    // The register rules are the models' (count 1–20, default 10).
    let res = app
        .post(
            &app.key,
            "/api/external/sceneries/register-ideas",
            json!({"preferences": "loft", "count": 21}),
        )
        .await;
    expect_error(res, 400, "invalid_count").await;
    let res = app
        .post(
            &app.key,
            "/api/external/sceneries/register-ideas",
            json!({"preferences": "loft"}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["createdRecordIds"].as_array().unwrap().len(), 10);
    let (_, poor) = app.account(5, &Scope::ALL).await;
    let res = app
        .post(
            &poor,
            "/api/external/sceneries/register-ideas",
            json!({"preferences": "loft", "count": 1}),
        )
        .await;
    expect_error(res, 402, "insufficient_credits").await;
    app.drain().await;
    app.audit().await;
}

#[tokio::test]
async fn a_sceneries_batch_streams_and_posts_scenery_events() {
    let app = TestApp::start().await;
    let registered = register(&app, "a beach at golden hour", 2).await;
    let batch = registered["batchId"].as_str().unwrap();
    let res = app
        .get(&app.key, &format!("/api/external/batches/{batch}/events"))
        .await;
    assert_eq!(res.status(), 200);
    let mut stream = res;
    let mut buf = String::new();
    app.drain().await;
    let seen = super::events::read_until(&mut stream, &mut buf, "batch.completed").await;
    let names: Vec<&str> = seen.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "scenery.completed").count(),
        2,
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("model.")), "{names:?}");
    assert_eq!(seen.last().unwrap().data["creditsConsumed"], 20);
}

/// Refuses every scenery and makes every model: a kind's failure is its own.
struct RefusesSceneries;

#[async_trait::async_trait]
impl mannequin::generator::Generator for RefusesSceneries {
    fn name(&self) -> String {
        "test".into()
    }

    async fn generate(
        &self,
        request: &mannequin::generator::Request<'_>,
    ) -> Result<mannequin::generator::Made, mannequin::generator::GenerateError> {
        if request.idea.kind() == mannequin_domain::AssetKind::Scenery {
            return Err(mannequin::generator::GenerateError::Fatal(
                "the image server refused the request".into(),
            ));
        }
        mannequin::generator::Noop.generate(request).await
    }
}

#[tokio::test]
async fn a_failed_scenery_is_refunded_and_its_batch_says_so() {
    let app = TestApp::start_with(
        &["--credits-per-scenery", "7"],
        Some(std::sync::Arc::new(RefusesSceneries)),
    )
    .await;
    app.register_ok(&app.key, "man, suit", 1).await;
    let registered = register(&app, "a loft at night", 3).await;
    assert_eq!(registered["creditsReserved"], 21);
    assert_eq!(app.balance(&app.account).await, (1000 - 10 - 21, 31, 0));
    app.drain().await;
    let list: Value = app
        .get(&app.key, "/api/external/sceneries")
        .await
        .json()
        .await
        .unwrap();
    for s in list["sceneries"].as_array().unwrap() {
        assert_eq!(s["status"], "FAILED", "{s}");
        assert_eq!(s["failureReason"], "the image server refused the request");
    }
    // The model was made and paid for; every scenery was refunded.
    assert_eq!(app.balance(&app.account).await, (1000 - 10, 0, 10));
    let batch: Value = app
        .get(
            &app.key,
            &format!(
                "/api/external/batches/{}",
                registered["batchId"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(batch["kind"], "scenery");
    assert_eq!(batch["status"], "FAILED");
    assert_eq!(batch["creditsRefunded"], 21);
    app.audit().await;
}
