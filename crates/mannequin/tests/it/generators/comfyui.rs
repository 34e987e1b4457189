//! A fake ComfyUI: `POST /prompt` answering `{"prompt_id", "number",
//! "node_errors"}` or a 400 with `{"error": {"type", "message"}, "node_errors"}`,
//! `GET /history/{prompt_id}` empty until the prompt has run, `GET /view`
//! serving the saved image, and `GET /system_stats`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mannequin::generator::GenerateError;
use mannequin::generator::GeneratorKind;
use serde_json::{Value, json};

use super::{Answer, Fake, Format, GARBAGE, image};

/// Prompt id → (looks left before it has run, the image or the error).
type Queue = Arc<Mutex<HashMap<String, (u32, Result<Vec<u8>, String>)>>>;

/// The fake with its queue.
#[derive(Clone)]
struct Comfy {
    fake: Fake,
    queued: Queue,
}

async fn prompt(State(c): State<Comfy>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    c.fake.record(&headers, &body);
    assert!(
        body["client_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("mannequin-")),
        "{body}"
    );
    let error = |status: StatusCode, kind: &str, message: &str| {
        (status, Json(json!({"error": {"type": kind, "message": message, "details": "", "extra_info": {}}, "node_errors": {}})))
            .into_response()
    };
    let (looks, outcome) = match c.fake.next() {
        Answer::Image(f) => (1, Ok(image(f))),
        Answer::Slow(n) => (n, Ok(image(Format::Png))),
        Answer::Garbage => (1, Ok(GARBAGE.to_vec())),
        Answer::Crash => (2, Err(format!("CUDA out of memory: {}", super::LEAK))),
        Answer::Busy(s) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", s.to_string())],
                "slow down",
            )
                .into_response();
        }
        Answer::Down => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                super::LEAK,
            );
        }
        Answer::Refuse => {
            return error(
                StatusCode::BAD_REQUEST,
                "prompt_outputs_failed_validation",
                &format!(
                    "Prompt outputs failed validation: Value not in list: ckpt_name: {}",
                    super::LEAK
                ),
            );
        }
        Answer::Unauthorized => return (StatusCode::UNAUTHORIZED, "unauthorized").into_response(),
    };
    let mut queued = c.queued.lock().unwrap();
    let id = format!("p-{}", queued.len() + 1);
    queued.insert(id.clone(), (looks, outcome));
    Json(json!({"prompt_id": id, "number": queued.len(), "node_errors": {}})).into_response()
}

async fn history(State(c): State<Comfy>, Path(id): Path<String>) -> Response {
    let mut queued = c.queued.lock().unwrap();
    let Some((looks, outcome)) = queued.get_mut(&id) else {
        return Json(json!({})).into_response();
    };
    if *looks > 1 {
        *looks -= 1;
        return Json(json!({})).into_response();
    }
    let entry = match outcome {
        Ok(bytes) => {
            let name = format!("mannequin_{id}_.png");
            c.fake
                .files
                .lock()
                .unwrap()
                .insert(name.clone(), bytes.clone());
            json!({
                "prompt": [1, id, {}, {}, ["9"]],
                "outputs": {
                    "12": {"images": [{"filename": "preview.png", "subfolder": "", "type": "temp"}]},
                    "9": {"images": [{"filename": name, "subfolder": "", "type": "output"}]}
                },
                "status": {"status_str": "success", "completed": true, "messages": []}
            })
        }
        Err(message) => json!({
            "prompt": [1, id, {}, {}, ["9"]],
            "outputs": {},
            "status": {"status_str": "error", "completed": false, "messages": [
                ["execution_start", {"prompt_id": id}],
                ["execution_error", {"prompt_id": id, "node_type": "KSampler", "exception_message": message}]
            ]}
        }),
    };
    Json(json!({ id: entry })).into_response()
}

async fn view(State(c): State<Comfy>, Query(q): Query<HashMap<String, String>>) -> Response {
    assert_eq!(
        q.get("type").map(String::as_str),
        Some("output"),
        "the saved image, not a preview"
    );
    match c
        .fake
        .files
        .lock()
        .unwrap()
        .get(q.get("filename").map(String::as_str).unwrap_or(""))
    {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn start() -> (
    Fake,
    Arc<Mutex<HashMap<String, (u32, Result<Vec<u8>, String>)>>>,
) {
    let queued = Arc::new(Mutex::new(HashMap::new()));
    let q = queued.clone();
    let fake = Fake::start(move |fake| {
        axum::Router::new()
            .route("/prompt", post(prompt))
            .route("/history/{id}", get(history))
            .route("/view", get(view))
            .route("/upload/image", post(upload))
            .route(
                "/system_stats",
                get(|| async { Json(json!({"system": {"os": "posix"}, "devices": []})) }),
            )
            .with_state(Comfy { fake, queued: q })
    })
    .await;
    (fake, queued)
}

/// `POST /upload/image`: the `image` file kept under its file name (the
/// fake's uploads are its `files`), `{"name", "subfolder", "type"}`.
async fn upload(State(c): State<Comfy>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let mut name = None;
    let mut fields = HashMap::new();
    for part in super::form_parts(&headers, body).await {
        if part.name == "image" {
            let file = part.file.expect("a file name");
            c.fake
                .files
                .lock()
                .unwrap()
                .insert(file.clone(), part.bytes);
            name = Some(file);
        } else {
            fields.insert(part.name, String::from_utf8(part.bytes).unwrap());
        }
    }
    assert_eq!(fields.get("type").map(String::as_str), Some("input"));
    c.fake
        .inputs
        .lock()
        .unwrap()
        .push(vec![(name.clone().unwrap(), Vec::new())]);
    Json(json!({"name": name, "subfolder": "", "type": "input"})).into_response()
}

const PHOTO_SHOOT_WORKFLOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/comfyui-photo-shoot-workflow.json"
);

/// Photo shoots and packshots through the example workflow: each image
/// uploaded once, whatever the number of pictures, and the `LoadImage`
/// nodes given the uploaded names of the very product, model and scenery.
#[tokio::test]
async fn comfyui_pictures_upload_each_image_once_and_name_it_in_the_workflow() {
    let (fake, _) = start().await;
    let stored = super::pictures_end_to_end(
        &[
            "--generator",
            "comfyui",
            "--generator-url",
            &fake.url,
            "--comfyui-workflow",
            WORKFLOW,
            "--photo-shoot-comfyui-workflow",
            PHOTO_SHOOT_WORKFLOW,
            "--packshot-generator",
            "builtin",
        ],
        None,
        ("comfyui/comfyui-photo-shoot-workflow", "builtin"),
    )
    .await;
    let uploads = fake.inputs.lock().unwrap().len();
    let distinct: std::collections::HashSet<&Vec<u8>> =
        [&stored.product, &stored.model, &stored.scenery]
            .into_iter()
            .collect();
    assert_eq!(
        uploads,
        distinct.len(),
        "each image once (the fake draws the model and the scenery alike)"
    );
    let files = fake.files.lock().unwrap().clone();
    let bodies = fake.bodies.lock().unwrap().clone();
    let pictures: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["prompt"].get("10").is_some())
        .collect();
    assert_eq!(pictures.len(), 2, "the photo shoot's two pictures");
    for body in pictures {
        let wf = &body["prompt"];
        let file = |node: &str| files[wf[node]["inputs"]["image"].as_str().unwrap()].clone();
        assert_eq!(file("10"), stored.product, "the product's very bytes");
        assert_eq!(file("11"), stored.model);
        assert_eq!(file("12"), stored.scenery);
        assert!(
            wf["20"]["inputs"]["text"]
                .as_str()
                .unwrap()
                .contains("Red Square")
        );
    }
    // A models workflow takes no images: it is refused for photo shoots at
    // start, with the flag to set.
    let dir = tempfile::tempdir().unwrap();
    let args = crate::helpers::serve_args(
        dir.path(),
        &["--generator", "comfyui", "--comfyui-workflow", WORKFLOW],
    );
    let err = mannequin::app::start(&args, false, Default::default())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("--photo-shoot-generator"), "{err}");
}

const WORKFLOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/comfyui-workflow.json"
);

/// The text of the positive prompt node in a submitted workflow.
fn prompt_text(body: &Value) -> String {
    body["prompt"]["6"]["inputs"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_answer_of_comfyui_is_understood() {
    let (fake, queued) = start().await;
    let g = super::generator(GeneratorKind::Comfyui, &fake.url, |s| {
        s.comfyui_workflow = Some(WORKFLOW.into());
    });
    assert_eq!(g.name(), "comfyui/comfyui-workflow");
    super::every_answer(&fake, g.as_ref(), prompt_text, "refused the workflow").await;
    let wf = &fake.last_body()["prompt"];
    assert_eq!(wf["7"]["inputs"]["text"], "blurry");
    assert!(wf["3"]["inputs"]["seed"].is_u64(), "{wf}");
    assert_eq!(wf["5"]["inputs"]["width"], 832);
    assert_eq!(wf["5"]["inputs"]["height"], 1216);

    // A run that fails on the server is retried.
    fake.script(&[Answer::Crash]);
    match super::generate(g.as_ref()).await {
        Err(GenerateError::Retryable(r)) => {
            assert_eq!(r.public, "ComfyUI failed to run the workflow");
            assert!(r.detail.unwrap().contains("CUDA out of memory"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!queued.lock().unwrap().is_empty());
}

#[tokio::test]
async fn comfyui_models_reach_done_through_the_api() {
    let (fake, _) = start().await;
    super::end_to_end(
        &fake,
        &[
            "--generator",
            "comfyui",
            "--photo-shoot-generator",
            "builtin",
            "--packshot-generator",
            "builtin",
            "--generator-url",
            &fake.url,
            "--comfyui-workflow",
            WORKFLOW,
        ],
        "comfyui/comfyui-workflow",
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_comfyui_is_a_misconfiguration_at_start() {
    let g = super::generator(GeneratorKind::Comfyui, &super::closed_url().await, |s| {
        s.comfyui_workflow = Some(WORKFLOW.into());
    });
    assert!(matches!(
        g.check().await,
        Err(GenerateError::Misconfigured(_))
    ));
    let (fake, _) = start().await;
    let g = super::generator(GeneratorKind::Comfyui, &fake.url, |s| {
        s.comfyui_workflow = Some(WORKFLOW.into());
    });
    assert!(g.check().await.is_ok());
}
