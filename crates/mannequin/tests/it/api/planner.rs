//! `--planner openai` against a fake chat completions server on loopback:
//! a good answer plans the batch; an answer that contradicts the text,
//! breaks the rules for minors, is malformed, fails or is late is dropped
//! and the built-in reading plans the batch instead. Every register-ideas
//! call answers 200 either way.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// What the fake answers to the next chat completion.
#[derive(Clone)]
enum Reply {
    /// These ideas, as the message content.
    Ideas(Vec<Value>),
    /// Content that is no JSON.
    Garbage,
    /// A server error.
    Down,
    /// An answer after this long.
    Late(Duration, Vec<Value>),
}

#[derive(Clone, Default)]
struct Chat {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

async fn complete(State(chat): State<Chat>, Json(body): Json<Value>) -> Response {
    chat.bodies.lock().unwrap().push(body);
    let reply = chat.replies.lock().unwrap().pop_front();
    let content = |ideas: Vec<Value>| {
        Json(json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": json!({"ideas": ideas}).to_string()}}],
        }))
        .into_response()
    };
    match reply {
        Some(Reply::Ideas(ideas)) => content(ideas),
        Some(Reply::Late(after, ideas)) => {
            tokio::time::sleep(after).await;
            content(ideas)
        }
        Some(Reply::Garbage) => Json(json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure! Here are some ideas"}}],
        }))
        .into_response(),
        Some(Reply::Down) | None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "overloaded", "type": "server_error"}})),
        )
            .into_response(),
    }
}

async fn start_chat() -> (Chat, String) {
    let chat = Chat::default();
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(complete))
        .with_state(chat.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (chat, url)
}

/// What the fake planner's two ideas decide, as [`skins`] reads them.
const PLANNED: [&str; 2] = [
    "dark/slim/black/long/wavy/none/smiling/standing",
    "fair/slim/black/long/wavy/none/smiling/standing",
];

/// An idea as the model writes it.
fn idea(gender: &str, age: &str, skin: &str, garment: Option<&str>, colour: Option<&str>) -> Value {
    json!({
        "gender": gender, "age": age, "build": "slim", "skin_tone": skin,
        "hair_color": "black", "hair_length": "long", "hair_style": "wavy",
        "makeup": "none", "expression": "smiling", "pose": "standing", "style": "formal",
        "facial_hair": "none", "eyewear": "none", "headwear": "none",
        "garment": garment, "second_garment": null, "colour": colour, "covered": false,
    })
}

async fn app_with_planner(url: &str) -> TestApp {
    TestApp::start_with(
        &[
            "--planner",
            "openai",
            "--planner-url",
            url,
            "--planner-model",
            "test-planner",
            "--planner-timeout-secs",
            "1",
        ],
        None,
    )
    .await
}

/// `GET /models/{id}` of a registered model id.
async fn model(app: &TestApp, id: &Value) -> Value {
    let path = format!("/api/external/models/{}", id.as_str().unwrap());
    app.get_json(&app.key, &path).await
}

/// What the batch's ideas decided (skin, build, hair, makeup, expression,
/// pose), read from `GET /models/{id}`: the fake's ideas read
/// `dark/slim/black/long/wavy/none/smiling/standing` and the same in `fair`,
/// which the built-in planner all but never draws for both ideas.
async fn skins(app: &TestApp, registered: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for id in registered["createdRecordIds"].as_array().unwrap() {
        let detail = model(app, id).await;
        let idea = &detail["idea"];
        let part = |k: &str| idea[k].as_str().unwrap_or("-").to_string();
        out.push(
            [
                "skinTone",
                "build",
                "hairColor",
                "hairLength",
                "hairStyle",
                "makeup",
                "expression",
                "pose",
            ]
            .map(part)
            .join("/"),
        );
    }
    out
}

#[tokio::test]
async fn a_good_answer_of_the_planner_plans_the_batch() {
    let (chat, url) = start_chat().await;
    let app = app_with_planner(&url).await;
    chat.replies.lock().unwrap().push_back(Reply::Ideas(vec![
        idea("female", "adult", "dark", Some("long_dress"), Some("red")),
        idea("female", "senior", "fair", Some("long_dress"), Some("red")),
    ]));
    let text = "woman in a long red dress";
    let registered = app.register_ok(&app.key, text, 2).await;
    assert_eq!(skins(&app, &registered).await, PLANNED);
    let (_, list) = app.list(&app.key, "").await;
    let mut names: Vec<&str> = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Female Model - Long Dress, Adult",
            "Female Model - Long Dress, Senior"
        ]
    );
    // What the planner was asked: the customer's words, the count, a strict
    // JSON schema whose garments are the domain's own.
    let bodies = chat.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert_eq!(body["model"], "test-planner");
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains(text)
    );
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("count: 2")
    );
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["strict"], true);
    let garments = &format["json_schema"]["schema"]["properties"]["ideas"]["items"]["properties"]["garment"]
        ["enum"];
    assert!(garments.as_array().unwrap().contains(&json!("long_dress")));
    app.drain().await;
    app.audit().await;
}

#[tokio::test]
async fn answers_that_break_the_rules_or_fail_leave_the_batch_to_the_builtin() {
    let (chat, url) = start_chat().await;
    let app = app_with_planner(&url).await;
    let woman = "woman in a long red dress";
    let cases: Vec<(&str, Reply)> = vec![
        // A man, where the text asks for a woman.
        (
            woman,
            Reply::Ideas(vec![
                idea("male", "adult", "dark", Some("long_dress"), Some("red")),
                idea("female", "adult", "fair", Some("long_dress"), Some("red")),
            ]),
        ),
        // Swimwear the text did not ask for.
        (
            woman,
            Reply::Ideas(vec![
                idea("female", "adult", "dark", Some("swimwear"), Some("red")),
                idea("female", "adult", "fair", Some("long_dress"), Some("red")),
            ]),
        ),
        // An adult, where the text asks for a six-year-old.
        (
            "girl, 6 years old, party dress",
            Reply::Ideas(vec![
                idea("female", "young_adult", "dark", Some("party_dress"), None),
                idea("female", "child", "fair", Some("party_dress"), None),
            ]),
        ),
        // Too few ideas.
        (
            woman,
            Reply::Ideas(vec![idea(
                "female",
                "adult",
                "dark",
                Some("long_dress"),
                Some("red"),
            )]),
        ),
        // Values outside the schema.
        (
            woman,
            Reply::Ideas(vec![json!({"gender": "robot"}), json!({})]),
        ),
        (woman, Reply::Garbage),
        (woman, Reply::Down),
        // Later than --planner-timeout-secs.
        (
            woman,
            Reply::Late(
                Duration::from_secs(3),
                vec![
                    idea("female", "adult", "dark", Some("long_dress"), Some("red")),
                    idea("female", "adult", "fair", Some("long_dress"), Some("red")),
                ],
            ),
        ),
    ];
    for (text, reply) in cases {
        chat.replies.lock().unwrap().push_back(reply);
        let registered = app.register_ok(&app.key, text, 2).await;
        let got = skins(&app, &registered).await;
        assert_ne!(got, PLANNED, "{text}: the planner's answer was used");
        for id in registered["createdRecordIds"].as_array().unwrap() {
            let detail = model(&app, id).await;
            assert_eq!(detail["idea"]["gender"], "female", "{detail}");
            if text.starts_with("girl") {
                assert_eq!(detail["idea"]["age"], "child", "{detail}");
                assert_eq!(detail["idea"]["makeup"], "none", "{detail}");
            } else {
                assert_eq!(detail["idea"]["garment"], "long_dress", "{detail}");
            }
        }
    }
    assert_eq!(chat.bodies.lock().unwrap().len(), 8);
    app.drain().await;
    app.audit().await;
}

#[tokio::test]
async fn a_minor_with_adult_styling_is_refused_before_any_credit_or_planner() {
    let (chat, url) = start_chat().await;
    let app = app_with_planner(&url).await;
    let res = app
        .register(
            &app.key,
            json!({"preferences": "girls swimwear line, ages 6-8", "count": 3}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "refused_preferences");
    assert!(
        body["error"].as_str().unwrap().contains("'swimwear'"),
        "{body}"
    );
    assert!(chat.bodies.lock().unwrap().is_empty());
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
    let (_, list) = app.list(&app.key, "").await;
    assert_eq!(list["count"], 0);
    app.audit().await;
}
