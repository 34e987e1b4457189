//! Listing models: parameters, the approved filter, paging.

use serde_json::json;

use crate::helpers::{TestApp, expect_error};

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = TestApp::start().await;
    for (query, code) in [
        ("?statusFilter=done", "invalid_status_filter"),
        ("?statusFilter=", "invalid_status_filter"),
        ("?limit=0", "invalid_limit"),
        ("?limit=1001", "invalid_limit"),
        ("?limit=abc", "invalid_limit"),
        ("?cursor=garbage", "invalid_cursor"),
        ("?batchId=nope", "invalid_batch_id"),
    ] {
        let res = app
            .client
            .get(format!("{}/api/external/models{query}", app.url))
            .header("X-Api-Key", &app.key)
            .send()
            .await
            .unwrap();
        expect_error(res, 400, code).await;
    }
    for ok in [
        "?statusFilter=ALL",
        "?statusFilter=Approved",
        "?limit=1000",
        "?limit=1",
    ] {
        assert_eq!(app.list(&app.key, ok).await.0, 200, "{ok}");
    }
}

#[tokio::test]
async fn approved_filter_shows_only_approved_models() {
    let app = TestApp::start().await;
    let body = app.register_ok(&app.key, "casual", 3).await;
    let model = body["createdRecordIds"][1].as_str().unwrap();
    let res = app
        .client
        .post(format!("{}/api/external/models/{model}/vote", app.url))
        .header("X-Api-Key", &app.key)
        .json(&json!({"voting": "approved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for q in ["?statusFilter=approved", "?statusFilter=APPROVED"] {
        let (_, list) = app.list(&app.key, q).await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["models"][0]["id"], model);
        assert_eq!(list["models"][0]["voting"], "APPROVED");
    }
    assert_eq!(app.list(&app.key, "?statusFilter=all").await.1["count"], 3);
}

#[tokio::test]
async fn paging_never_skips_or_repeats_even_while_models_are_created() {
    let app = TestApp::start().await;
    for i in 0..5 {
        app.register_ok(&app.key, &format!("casual {i}"), 5).await;
    }
    let (_, all) = app.list(&app.key, "").await;
    let expected: Vec<String> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(expected.len(), 25);
    let created: Vec<String> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["createdAt"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted, "newest first");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=7&cursor={c}"),
            None => "?limit=7".to_string(),
        };
        let (status, page) = app.list(&app.key, &q).await;
        assert_eq!(status, 200);
        assert!(page["count"].as_u64().unwrap() <= 7);
        seen.extend(
            page["models"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        // New models arrive between pages; they are newer than the cursor.
        app.register_ok(&app.key, "streetwear", 1).await;
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}
