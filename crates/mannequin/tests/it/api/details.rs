//! One record at a time (ours): a model, a batch and its order, the balances
//! and the ledger. Each: the happy path, another account's ids (404), malformed
//! ids (400), and the read scope.

use mannequin::keys::Scope;
use serde_json::Value;

use super::EXAMPLE;
use crate::helpers::{TestApp, expect_error};

async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.url))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap()
}

async fn get_ok(app: &TestApp, key: &str, path: &str) -> Value {
    let res = get(app, key, path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_model_tells_everything_known_about_it() {
    let app = TestApp::start().await;
    let registered = app.register_ok(&app.key, EXAMPLE, 2).await;
    let id = registered["createdRecordIds"][0].as_str().unwrap();
    let path = format!("/api/external/models/{id}");

    let pending = get_ok(&app, &app.key, &path).await;
    assert_eq!(pending["id"], id);
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["batchId"], registered["batchId"]);
    assert_eq!(pending["orderId"], registered["orderId"]);
    assert_eq!(pending["preferences"], EXAMPLE);
    assert_eq!(pending["idea"]["gender"], "female");
    assert_eq!(pending["idea"]["style"], "sportswear");
    assert!(pending["idea"].get("skinTone").is_some(), "{pending}");
    assert!(pending["idea"].get("palette").is_none(), "{pending}");
    assert_eq!(pending["attempts"], 0);
    assert!(pending["startedAt"].is_null() && pending["finishedAt"].is_null());
    assert!(pending["image"].is_null() && pending["thumbnail"].is_null());

    app.drain().await;
    let done = get_ok(&app, &app.key, &path).await;
    assert_eq!(done["status"], "DONE");
    assert_eq!(done["attempts"], 1);
    assert_eq!(done["generator"], "builtin");
    assert!(done["prompt"].as_str().unwrap().contains(EXAMPLE));
    let started = done["startedAt"].as_str().unwrap();
    let finished = done["finishedAt"].as_str().unwrap();
    assert!(started <= finished, "{started} {finished}");
    // The list item's fields, the same values.
    let (_, list) = app.list(&app.key, "").await;
    let item = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap();
    for (field, value) in item.as_object().unwrap() {
        assert_eq!(&done[field], value, "{field}");
    }

    // Another account's model is as unknown as one that never was.
    let (_, other) = app.account(100, &Scope::ALL).await;
    expect_error(get(&app, &other, &path).await, 404, "not_found").await;
    let unknown = "/api/external/models/model_00000000000000000000000000";
    expect_error(get(&app, &app.key, unknown).await, 404, "not_found").await;
    expect_error(
        get(&app, &app.key, "/api/external/models/nope").await,
        400,
        "invalid_id",
    )
    .await;
    let (_, register_only) = app.account(100, &[Scope::Register]).await;
    expect_error(get(&app, &register_only, &path).await, 403, "missing_scope").await;
    app.audit().await;
}

#[tokio::test]
async fn a_batch_and_its_order_count_their_models_and_credits() {
    let app = TestApp::start().await;
    let registered = app.register_ok(&app.key, "man, casual", 3).await;
    let batch_path = format!(
        "/api/external/batches/{}",
        registered["batchId"].as_str().unwrap()
    );
    let order_path = format!(
        "/api/external/orders/{}",
        registered["orderId"].as_str().unwrap()
    );

    let open = get_ok(&app, &app.key, &batch_path).await;
    assert_eq!(open["id"], registered["batchId"]);
    assert_eq!(open["orderId"], registered["orderId"]);
    assert_eq!(open["reservationId"], registered["reservationId"]);
    assert_eq!(open["preferences"], "man, casual");
    assert_eq!(open["count"], 3);
    assert_eq!(open["statuses"]["PENDING"], 3);
    assert_eq!(open["statuses"]["DONE"], 0);
    assert_eq!(open["creditsReserved"], 30);
    assert_eq!(open["creditsConsumed"], 0);
    assert!(open["finishedAt"].is_null());
    assert!(
        open["correlationId"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );

    // One cancelled, two made.
    let cancel = app
        .client
        .post(format!(
            "{}/api/external/models/{}/cancel",
            app.url,
            registered["createdRecordIds"][0].as_str().unwrap()
        ))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    app.drain().await;
    let done = get_ok(&app, &app.key, &batch_path).await;
    assert_eq!(done["statuses"]["DONE"], 2);
    assert_eq!(done["statuses"]["CANCELLED"], 1);
    assert_eq!(done["statuses"]["PENDING"], 0);
    assert_eq!(done["creditsConsumed"], 20);
    assert_eq!(done["creditsRefunded"], 10);
    assert!(done["finishedAt"].as_str().unwrap() >= done["createdAt"].as_str().unwrap());
    assert_eq!(
        get_ok(&app, &app.key, &order_path).await,
        done,
        "the order names the batch"
    );

    let (_, other) = app.account(100, &Scope::ALL).await;
    expect_error(get(&app, &other, &batch_path).await, 404, "not_found").await;
    expect_error(get(&app, &other, &order_path).await, 404, "not_found").await;
    for bad in [
        "/api/external/batches/model_x",
        "/api/external/orders/batch_x",
    ] {
        expect_error(get(&app, &app.key, bad).await, 400, "invalid_id").await;
    }
    let (_, register_only) = app.account(100, &[Scope::Register]).await;
    expect_error(
        get(&app, &register_only, &batch_path).await,
        403,
        "missing_scope",
    )
    .await;
    app.audit().await;
}

#[tokio::test]
async fn balances_and_the_ledger_page_newest_first() {
    let app = TestApp::start().await;
    app.register_ok(&app.key, "woman, formal", 2).await;
    app.drain().await;
    let credits = get_ok(&app, &app.key, "/api/external/credits").await;
    assert_eq!(
        credits,
        serde_json::json!({"available": 980, "reserved": 0, "consumed": 20})
    );

    // Grant, reserve, two consumes: newest first, pages of one never repeat.
    let all = get_ok(&app, &app.key, "/api/external/credits/ledger").await;
    let entries = all["entries"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["consume", "consume", "reserve", "grant"]);
    assert_eq!(all["count"], 4);
    assert!(all["nextCursor"].is_null());
    assert!(
        entries[0]["modelId"]
            .as_str()
            .is_some_and(|m| m.starts_with("model_"))
    );
    assert!(
        entries[0]["batchId"]
            .as_str()
            .is_some_and(|b| b.starts_with("batch_"))
    );
    assert!(
        entries[3]["batchId"].is_null(),
        "a grant belongs to no batch"
    );
    let mut seen = Vec::new();
    let mut query = "?limit=1".to_string();
    loop {
        let page = get_ok(
            &app,
            &app.key,
            &format!("/api/external/credits/ledger{query}"),
        )
        .await;
        seen.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => query = format!("?limit=1&cursor={c}"),
            None => break,
        }
    }
    let ids: Vec<Value> = entries.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(seen, ids);

    for bad in ["?cursor=abc", "?cursor=-1", "?cursor=+1", "?limit=0"] {
        let res = get(
            &app,
            &app.key,
            &format!("/api/external/credits/ledger{bad}"),
        )
        .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    // Another account sees its own, empty but for its grant.
    let (_, other) = app.account(100, &[Scope::Read]).await;
    let theirs = get_ok(&app, &other, "/api/external/credits/ledger").await;
    assert_eq!(theirs["count"], 1);
    assert_eq!(theirs["entries"][0]["kind"], "grant");
    let (_, register_only) = app.account(100, &[Scope::Register]).await;
    expect_error(
        get(&app, &register_only, "/api/external/credits").await,
        403,
        "missing_scope",
    )
    .await;
    app.audit().await;
}
