//! The served OpenAPI description: generated from the handlers' declarations
//! and the views, kept in `docs/openapi.json`, and true to what the server
//! answers.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

/// Every operation of the description, as (method, path, operation).
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

#[tokio::test]
async fn docs_openapi_json_is_what_the_server_serves() {
    let app = TestApp::start().await;
    let mut spec = app.openapi().await;
    assert_eq!(spec["servers"][0]["url"], app.url.as_str());
    spec["servers"][0]["url"] = mannequin::http::DEFAULT_PUBLIC_URL.into();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        kept == spec,
        "docs/openapi.json differs from the description the server serves; regenerate it:\n  \
         cargo run -q -- openapi > docs/openapi.json"
    );
}

#[tokio::test]
async fn every_operation_is_described_whole() {
    let app = TestApp::start().await;
    let spec = app.openapi().await;
    assert_eq!(spec["openapi"], "3.1.0");
    let ops = operations(&spec);
    assert_eq!(ops.len(), 40, "every route of the API");
    for (method, path, op) in &ops {
        let at = format!("{method} {path}");
        assert!(op["operationId"].is_string(), "{at}: an operation id");
        assert!(op["summary"].is_string(), "{at}: a summary");
        let responses = op["responses"].as_object().unwrap();
        for status in ["400", "401", "403", "405", "429", "500", "503"] {
            assert!(responses.contains_key(status), "{at}: answers {status}");
        }
        // The correlation id as a typed header parameter (an empty schema
        // leaves the operation out of generated clients).
        let correlation = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["$ref"] == "#/components/parameters/CorrelationId");
        assert!(correlation.is_some(), "{at}: takes X-Correlation-Id");
        // Every success has an example, the event stream its own media type.
        let (status, ok) = responses
            .iter()
            .find(|(s, _)| s.starts_with('2'))
            .unwrap_or_else(|| panic!("{at}: a success"));
        let content = ok["content"].as_object().unwrap();
        let media = if path.ends_with("/events") {
            assert!(content.contains_key("text/event-stream"), "{at}");
            &content["text/event-stream"]
        } else {
            &content["application/json"]
        };
        assert!(
            media["example"].is_object() || media["example"].is_string(),
            "{at} {status}: an example"
        );
        if let Some(body) = op.get("requestBody") {
            // A JSON body has an example; an upload's form names its parts.
            match body["content"].get("multipart/form-data") {
                Some(form) => {
                    let schema = form["schema"]["$ref"].as_str().unwrap_or_default();
                    let name = schema.trim_start_matches("#/components/schemas/");
                    let parts = &spec["components"]["schemas"][name]["properties"];
                    assert!(parts.is_object(), "{at}: the form's parts");
                }
                None => {
                    let example = &body["content"]["application/json"]["example"];
                    assert!(example.is_object(), "{at}: a request example");
                }
            }
        }
    }
    assert_eq!(
        spec["components"]["parameters"]["CorrelationId"]["schema"]["type"],
        "string"
    );
    let statuses = &spec["components"]["schemas"]["BatchStatus"]["enum"];
    assert_eq!(
        statuses,
        &serde_json::json!([
            "PENDING",
            "PROCESSING",
            "DONE",
            "PARTIAL",
            "FAILED",
            "CANCELLED"
        ])
    );
    assert_eq!(
        spec["components"]["schemas"]["Voted"]["properties"]["voting"]["$ref"],
        "#/components/schemas/Voting",
        "a vote's answer names its enum"
    );
    let webhooks = spec["webhooks"].as_object().unwrap();
    let names: Vec<&str> = webhooks.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "model.completed",
            "model.failed",
            "model.cancelled",
            "scenery.completed",
            "scenery.failed",
            "scenery.cancelled",
            "image.completed",
            "image.failed",
            "image.cancelled",
            "packshot.completed",
            "packshot.failed",
            "packshot.cancelled",
            "batch.completed"
        ]
    );
    for (name, hook) in webhooks {
        let schema = hook["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap();
        let payload =
            &spec["components"]["schemas"][schema.trim_start_matches("#/components/schemas/")];
        assert_eq!(payload["properties"]["type"]["const"], name.as_str());
    }
}

/// Each path answers another method with 405, the error body and `Allow`,
/// as the description says.
#[tokio::test]
async fn another_method_is_405_with_the_paths_methods() {
    let app = TestApp::start().await;
    let spec = app.openapi().await;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let methods: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        let other = if methods.contains(&"PUT".to_string()) {
            Method::PATCH
        } else {
            Method::PUT
        };
        let url = format!("{}{}", app.url, path.replace("{id}", "model_x"));
        let res = app
            .client
            .request(other, url)
            .header("x-api-key", &app.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{path}");
        let allow = res.headers()["allow"].to_str().unwrap().to_string();
        for m in &methods {
            assert!(
                allow.contains(m.as_str()),
                "{path}: Allow {allow} names {m}"
            );
        }
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed", "{path}");
    }
}
