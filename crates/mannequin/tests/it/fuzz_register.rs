//! Whatever a client sends to register-ideas, the answer is a contract status
//! with a JSON body, and the books stay balanced.

use crate::helpers::TestApp;
use proptest::prelude::*;
use serde_json::{Value, json};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map("[a-z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = (Option<&'static str>, Vec<u8>)> {
    let content_type = prop_oneof![
        Just(Some("application/json")),
        Just(Some("application/json; charset=utf-8")),
        Just(Some("text/plain")),
        Just(None),
    ];
    let payload = prop_oneof![
        // Well-shaped requests with odd values.
        (any_json(), any_json()).prop_map(|(p, c)| json!({"preferences": p, "count": c})
            .to_string()
            .into_bytes()),
        ("\\PC{0,60}", -5i64..30).prop_map(|(p, c)| json!({"preferences": p, "count": c})
            .to_string()
            .into_bytes()),
        any_json().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..200),
    ];
    (content_type, payload)
}

#[test]
fn any_register_request_gets_a_contract_answer_and_changes_nothing_when_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::start());
    let url = format!("{}/api/external/models/register-ideas", app.url);
    let config = ProptestConfig {
        cases: 200,
        ..ProptestConfig::default()
    };
    proptest!(config, |((content_type, payload) in body())| {
        let (status, json, created) = rt.block_on(async {
            let before = app.list(&app.key, "").await.1["count"].as_u64().unwrap();
            let mut req = app.client.post(&url).header("X-Api-Key", &app.key).body(payload.clone());
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let json: Value = res.json().await.expect("every answer is JSON");
            let after = app.list(&app.key, "").await.1["count"].as_u64().unwrap();
            (status, json, after - before)
        });
        prop_assert!([200, 400, 402].contains(&status), "status {} for {:?}", status, String::from_utf8_lossy(&payload));
        if status == 200 {
            prop_assert_eq!(json["createdRecordIds"].as_array().unwrap().len() as u64, created);
        } else {
            prop_assert!(json["error"].is_string() && json["code"].is_string());
            prop_assert_eq!(created, 0, "a refused request created models");
        }
    });
    rt.block_on(app.audit());
}
