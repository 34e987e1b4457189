//! Each image-server backend against a fake of its server that follows that
//! API's documented requests and answers, error shapes included: success with
//! a PNG, a JPEG and a WebP, retry after 429 and 5xx, a refusal, a slow
//! asynchronous completion, bad image bytes and a misconfiguration; then one
//! run per backend through the API to `DONE`, credits settled and the audit
//! clean. The fakes keep what they were sent, so the tests check that the
//! customer's words reached the prompt.

mod automatic1111;
mod comfyui;
mod fashn;
mod openai;
mod replicate;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use mannequin::generator::GeneratorKind;
use mannequin::generator::{self, GenerateError, Generator, Made, Request, Settings};
use mannequin_domain::ids::AssetId;
use mannequin_domain::{AssetIdea, Attributes};
use serde_json::Value;

use crate::helpers::TestApp;

/// A part of a multipart form a fake received: its name, file name and bytes.
pub(crate) struct Part {
    pub name: String,
    pub file: Option<String>,
    pub bytes: Vec<u8>,
}

/// The parts of the multipart form `body`, in the order sent (the boundary
/// from `headers`, as a server reads it).
pub(crate) async fn form_parts(
    headers: &axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Vec<Part> {
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .expect("a multipart body");
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.unwrap() {
        parts.push(Part {
            name: field.name().unwrap_or_default().to_string(),
            file: field.file_name().map(str::to_string),
            bytes: field.bytes().await.unwrap().to_vec(),
        });
    }
    parts
}

/// What a careless image server puts in its error messages: an internal URL,
/// a path, a key, an organisation, an address. None of it may reach a
/// model's public failure reason.
pub const LEAK: &str = "upstream http://gpu-7.internal:8188/prompt failed: /srv/secret-models/sdxl.ckpt: Invalid api key sk-live-9f8e7d6c5b4a39281706 for org org-internal at 10.0.3.7";

/// Pieces of [`LEAK`] that must never be public.
const LEAKED: &[&str] = &[
    "gpu-7", "internal", "8188", "/srv", "secret", "sdxl", "sk-live", "org-", "10.0.3.7", "http",
];

/// The reason a customer (or `/readyz`) reads holds nothing of [`LEAK`].
pub fn assert_private(e: &GenerateError) {
    let r = match e {
        GenerateError::Retryable(r)
        | GenerateError::RetryAfter(r, _)
        | GenerateError::Fatal(r)
        | GenerateError::Misconfigured(r) => r,
    };
    for word in LEAKED {
        assert!(!r.public.contains(word), "{word:?} leaks: {:?}", r.public);
    }
}

/// The text every test asks for: its words must reach every server.
pub const TEXT: &str = "older man, grey beard, business suit";

/// Image formats a server may answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Webp,
}

/// What the fake server does with the next generation it is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Image(Format),
    /// Bytes that are no image.
    Garbage,
    /// 429 with `Retry-After` in seconds.
    Busy(u64),
    /// A server error.
    Down,
    /// The backend's own refusal of the prompt.
    Refuse,
    /// Bad credentials.
    Unauthorized,
    /// Accepted, then the run fails on the server (asynchronous backends).
    Crash,
    /// An image after this many looks (asynchronous backends) or this many
    /// tenths of a second (synchronous ones).
    Slow(u32),
}

/// What one picture's request carried: each input image's name (a form
/// field's file name, an input's name) and bytes.
pub type Received = Vec<(String, Vec<u8>)>;

/// What a fake server shares with its test.
#[derive(Clone, Default)]
pub struct Fake {
    pub url: String,
    script: Arc<Mutex<VecDeque<Answer>>>,
    /// The generation requests' JSON bodies, in order.
    pub bodies: Arc<Mutex<Vec<Value>>>,
    /// The `Authorization` header of every request.
    pub auth: Arc<Mutex<Vec<Option<String>>>>,
    /// Files the fake serves for download, by name.
    pub files: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>>,
    /// What every request answers when the script is empty.
    pub then: Arc<Mutex<Option<Answer>>>,
    /// The input images each picture's request carried, in order: the
    /// name the backend gave each (a form field, an input name) and its
    /// bytes.
    pub inputs: Arc<Mutex<Vec<Received>>>,
}

impl Fake {
    pub fn script(&self, answers: &[Answer]) {
        self.script.lock().unwrap().extend(answers.iter().copied());
    }

    /// The next answer (an image when nothing is scripted).
    pub fn next(&self) -> Answer {
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .or(*self.then.lock().unwrap())
            .unwrap_or(Answer::Image(Format::Png))
    }

    pub fn record(&self, headers: &axum::http::HeaderMap, body: &Value) {
        self.bodies.lock().unwrap().push(body.clone());
        self.record_auth(headers);
    }

    pub fn record_auth(&self, headers: &axum::http::HeaderMap) {
        self.auth.lock().unwrap().push(
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        );
    }

    pub fn last_body(&self) -> Value {
        self.bodies
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request")
    }

    /// A fake on a loopback port, serving the router `routes` builds for it.
    pub async fn start(routes: impl FnOnce(Fake) -> axum::Router) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ..Fake::default()
        };
        let router = routes(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        fake
    }
}

/// `GET /files/{name}`: what the fake stored for download.
pub async fn files(
    axum::extract::State(fake): axum::extract::State<Fake>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match fake.files.lock().unwrap().get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// A small picture in `format`: a red-brown rectangle, 64×96.
pub fn image(format: Format) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 96, image::Rgb([150, 60, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    let f = match format {
        Format::Png => image::ImageFormat::Png,
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Webp => image::ImageFormat::WebP,
    };
    img.write_to(&mut out, f).unwrap();
    out.into_inner()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub const GARBAGE: &[u8] = b"this is not an image at all";

/// A generator of `kind` for the fake at `url`.
pub fn generator(
    kind: GeneratorKind,
    url: &str,
    change: impl FnOnce(&mut Settings),
) -> Arc<dyn Generator> {
    let mut settings = Settings {
        kind,
        url: Some(url.to_string()),
        model: None,
        api_key: Some("test-key".into()),
        comfyui_workflow: None,
        timeout: Duration::from_secs(10),
        delay: Duration::ZERO,
        category: mannequin_domain::ideas::shoot::Category::Top,
        replicate_inputs: Default::default(),
    };
    change(&mut settings);
    generator::build(&settings).expect("settings accepted")
}

/// Shop requests from the domain's corpus, and words the service must never
/// add to their prompts (the customer's own words are removed before the
/// check): each backend is sent a prompt that keeps them.
pub const WORDS_HOLD: &[(&str, &[&str])] = &[
    (
        "girl, 6 years old, party dress",
        &[
            "glam",
            "bold makeup",
            "swimwear",
            "lingerie",
            "gray hair",
            "white hair",
            "wearing",
        ],
    ),
    (
        "Hijab model for our modest wear collection",
        &[" man", "swimwear", "lingerie", "glam", " hair"],
    ),
    (
        "woman in a long red dress",
        &[" man", "wearing", "swimwear", "lingerie"],
    ),
    (
        "young woman wearing a hijab, modest fashion, long dress",
        &[" man", " hair", "wearing", "swimwear"],
    ),
    ("man, casual", &["woman", "makeup", "wearing"]),
    (
        "kids clothing",
        &[
            "woman",
            " man",
            "glam",
            "bold makeup",
            "swimwear",
            "lingerie",
            "beard",
            "stubble",
            "senior",
        ],
    ),
    (
        "teen boy in a hoodie",
        &["beard", "stubble", "moustache", "man,", "wearing"],
    ),
    (
        "toddler in dungarees",
        &["woman", " man", "natural makeup", "swimwear", "wearing"],
    ),
    (
        "woman in an abaya",
        &[" man", " hair", "swimwear", "lingerie", "wearing"],
    ),
    (
        "Asian man, grey suit, sitting",
        &[" skin,", "pose", "wearing", "woman"],
    ),
    (
        "woman wearing a dirndl",
        &[
            "wearing casual",
            "wearing formal",
            "wearing sportswear",
            "swimwear",
        ],
    ),
    (
        "a model for our webshop",
        &["swimwear", "lingerie", "girl", "boy", "teenage"],
    ),
];

/// One generation of an idea of [`TEXT`], as the worker would ask for it.
pub async fn generate(g: &dyn Generator) -> Result<Made, GenerateError> {
    generate_for(g, TEXT, 7).await
}

/// One generation of an idea of `text` planned with `seed`.
pub async fn generate_for(g: &dyn Generator, text: &str, seed: u64) -> Result<Made, GenerateError> {
    let a = Attributes::read(text);
    let ideas = a.ideas(1, seed);
    let idea = ideas[0];
    let name = a.names(&ideas).remove(0);
    let model_id = AssetId::parse("model_01m8h0219szfj6vwfj8ypxrhen").unwrap();
    let prompt = mannequin_domain::prompt::Template::default().render(text, &idea);
    let request = Request {
        model_id: &model_id,
        name: &name,
        idea: &AssetIdea::Model(idea),
        preferences: text,
        prompt: &prompt,
        negative_prompt: "blurry",
        seed: idea.seed,
        width: 832,
        height: 1216,
        inputs: &[],
    };
    tokio::time::timeout(Duration::from_secs(30), g.generate(&request))
        .await
        .expect("a generation ends")
}

/// One photo shoot picture of a "Red Square" product, made from `inputs`.
pub async fn generate_picture(
    g: &dyn Generator,
    inputs: &[Arc<mannequin::generator::Input>],
) -> Result<Made, GenerateError> {
    use mannequin_domain::ideas::shoot::{self, Config, Named};
    let config = Config {
        product: Named {
            id: "prod_01m8h0219szfj6vwfj8ypxrhen".into(),
            name: "Red Square".into(),
        },
        model: None,
        scenery: None,
        preset: None,
        industry: None,
        suggestions: Some("soft morning light".into()),
    };
    let kind = mannequin_domain::AssetKind::PhotoShoot;
    let picture = shoot::plan(kind, &config, 1, 7).remove(0);
    let prompt = shoot::prompt(kind, &picture);
    let idea = AssetIdea::PhotoShoot(picture);
    let id = AssetId::parse("img_01m8h0219szfj6vwfj8ypxrhen").unwrap();
    let request = Request {
        model_id: &id,
        name: "Fashion Shoot - Red Square",
        idea: &idea,
        preferences: "soft morning light",
        prompt: &prompt,
        negative_prompt: "blurry",
        seed: idea.seed(),
        width: 864,
        height: 1296,
        inputs,
    };
    tokio::time::timeout(Duration::from_secs(30), g.generate(&request))
        .await
        .expect("a generation ends")
}

/// Walks a backend through every scripted answer and checks what the
/// generator makes of each. `prompt_of` finds the prompt in a request body.
pub async fn every_answer(
    fake: &Fake,
    g: &dyn Generator,
    prompt_of: impl Fn(&Value) -> String,
    refusal: &str,
) {
    // What the service adds never contradicts the customer's words.
    for (text, never) in WORDS_HOLD {
        for seed in 0..3 {
            fake.script(&[Answer::Image(Format::Png)]);
            generate_for(g, text, seed).await.expect("an image");
            let prompt = prompt_of(&fake.last_body());
            assert!(
                prompt.contains(text),
                "the words reach the server: {prompt}"
            );
            let added = prompt.replacen(text, "", 1).to_lowercase();
            for word in *never {
                assert!(
                    !added.contains(word),
                    "{text:?}: the service added {word:?}: {prompt}"
                );
            }
        }
    }
    for (format, content_type) in [
        (Format::Png, "image/png"),
        (Format::Jpeg, "image/jpeg"),
        (Format::Webp, "image/webp"),
    ] {
        fake.script(&[Answer::Image(format)]);
        let made = generate(g).await.expect("an image");
        assert_eq!(made.content_type, content_type);
        assert_eq!(made.image, image(format), "the server's bytes are kept");
        assert_eq!(&made.thumb_jpeg[..3], &[0xFF, 0xD8, 0xFF]);
        let prompt = prompt_of(&fake.last_body());
        assert!(
            prompt.contains(TEXT),
            "the customer's words reach the server: {prompt}"
        );
    }
    fake.script(&[Answer::Slow(3)]);
    assert_eq!(
        generate(g).await.expect("a slow image").content_type,
        "image/png"
    );

    fake.script(&[Answer::Busy(3)]);
    match generate(g).await {
        Err(GenerateError::RetryAfter(_, after)) => assert_eq!(after, Duration::from_secs(3)),
        other => panic!("429 is retried after Retry-After, got {other:?}"),
    }
    fake.script(&[Answer::Down]);
    let down = generate(g).await;
    assert!(
        matches!(down, Err(GenerateError::Retryable(_))),
        "5xx is retried"
    );
    assert_private(down.as_ref().unwrap_err());
    fake.script(&[Answer::Garbage]);
    match generate(g).await {
        Err(GenerateError::Fatal(r)) => assert!(r.public.contains("unusable image"), "{r:?}"),
        other => panic!("bad bytes fail the model, got {other:?}"),
    }
    fake.script(&[Answer::Refuse]);
    match generate(g).await {
        Err(e @ (GenerateError::Fatal(_) | GenerateError::Misconfigured(_))) => {
            assert_private(&e);
            let (GenerateError::Fatal(r) | GenerateError::Misconfigured(r)) = e else {
                unreachable!()
            };
            assert!(r.public.contains(refusal), "the backend's reason: {r:?}");
            assert!(
                r.detail.is_some_and(|d| d.contains("gpu-7")),
                "the log keeps the cause"
            );
        }
        other => panic!("a refusal fails the model, got {other:?}"),
    }
    fake.script(&[Answer::Unauthorized]);
    assert!(
        matches!(generate(g).await, Err(GenerateError::Misconfigured(_))),
        "bad credentials are a misconfiguration"
    );
}

/// A loopback URL where nothing listens.
pub async fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// Through the API: a batch of two with `extra` settings becomes two `DONE`
/// models whose records say what was asked, credits settled, audit clean.
pub async fn end_to_end(fake: &Fake, extra: &[&str], generator_name: &str) {
    let app = TestApp::start_with(extra, None).await;
    app.register_ok(&app.key, TEXT, 2).await;
    assert_eq!(app.drain().await, 2);
    let (_, list) = app.list(&app.key, "").await;
    let models = list["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        assert_eq!(m["status"], "DONE", "{m}");
        assert_eq!(m["generator"], generator_name, "{m}");
        assert!(m["prompt"].as_str().unwrap().contains(TEXT), "{m}");
        let image = app
            .client
            .get(m["image"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(image.status(), 200);
        assert_eq!(image.headers()["content-type"], "image/png");
        let thumb = app
            .client
            .get(m["thumbnail"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    }
    assert_ne!(
        models[0]["seed"], models[1]["seed"],
        "a batch's models differ"
    );
    assert_eq!(app.balance(&app.account).await, (980, 0, 20));
    assert_eq!(fake.bodies.lock().unwrap().len(), 2);

    // A scenery through the same backend: its own prompt, landscape.
    let res = app
        .client
        .post(format!("{}/api/external/sceneries/register-ideas", app.url))
        .header("X-Api-Key", &app.key)
        .json(&serde_json::json!({"preferences": SCENERY, "count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.drain().await, 1);
    let list = app.get_json(&app.key, "/api/external/sceneries").await;
    let scenery = &list["sceneries"][0];
    assert_eq!(scenery["status"], "DONE", "{scenery}");
    assert_eq!(scenery["generator"], generator_name);
    let asked = fake.last_body().to_string();
    assert!(asked.contains(SCENERY), "the words verbatim: {asked}");
    assert!(asked.contains("no people"), "an empty set: {asked}");
    assert_eq!(app.balance(&app.account).await, (970, 0, 30));
    app.audit().await;
}

/// What the service stores of the records a picture is made from.
pub struct Stored {
    pub product: Vec<u8>,
    pub model: Vec<u8>,
    pub scenery: Vec<u8>,
}

/// A product photo with something to recognise: a red square on white.
pub fn product_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(120, 160, |x, y| {
        if (20..100).contains(&x) && (30..130).contains(&y) {
            image::Rgb([200, 30, 40])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Through the API with `extra` settings: a product uploaded, a model and a
/// scenery made by the backend under test, then a photo shoot of two
/// pictures of the product on that model in that scenery and one packshot;
/// (or `generator`, for every kind) every picture `DONE` by the generators
/// named, credits settled, audit clean.
/// Returns what the service stores of the product, the model and the
/// scenery, for the test to compare with what its fake received.
pub async fn pictures_end_to_end(
    extra: &[&str],
    generator: Option<Arc<dyn Generator>>,
    (shoots_by, packshots_by): (&str, &str),
) -> Stored {
    let app = TestApp::start_with(extra, generator).await;
    let photo = product_photo();
    let body = {
        let boundary = "b-7d2f";
        let mut b = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"Red Square.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        b.extend(&photo);
        b.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
        b
    };
    let res = app
        .client
        .post(format!("{}/api/external/products", app.url))
        .header("X-Api-Key", &app.key)
        .header("Content-Type", "multipart/form-data; boundary=b-7d2f")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let product: Value = res.json().await.unwrap();
    let made = |path: &'static str, preferences: &'static str| {
        let app = &app;
        async move {
            let res = app
                .post(
                    &app.key,
                    &format!("/api/external/{path}/register-ideas"),
                    serde_json::json!({"preferences": preferences, "count": 1}),
                )
                .await;
            assert_eq!(res.status(), 200);
            let body: Value = res.json().await.unwrap();
            app.drain().await;
            body["createdRecordIds"][0].as_str().unwrap().to_string()
        }
    };
    let model = made("models", TEXT).await;
    let scenery = made("sceneries", SCENERY).await;
    let bytes = |url: String| {
        let app = &app;
        async move {
            app.client
                .get(url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec()
        }
    };
    let stored_of = |path: String| {
        let app = &app;
        async move {
            let v = app.get_json(&app.key, &path).await;
            v["image"].as_str().expect("an image").to_string()
        }
    };
    let stored = Stored {
        product: bytes(
            stored_of(format!(
                "/api/external/products/{}",
                product["id"].as_str().unwrap()
            ))
            .await,
        )
        .await,
        model: bytes(stored_of(format!("/api/external/models/{model}")).await).await,
        scenery: bytes(stored_of(format!("/api/external/sceneries/{scenery}")).await).await,
    };
    let before = app.balance(&app.account).await;
    for (path, body) in [
        (
            "image-picker",
            serde_json::json!({"config": {
                "product": {"id": product["id"]},
                "model": {"id": model},
                "scenery": {"id": scenery},
                "suggestions": "soft morning light"
            }, "count": 2}),
        ),
        (
            "packshots",
            serde_json::json!({"config": {"product": {"id": product["id"]}}, "count": 1}),
        ),
    ] {
        let res = app
            .post(
                &app.key,
                &format!("/api/external/{path}/register-ideas"),
                body,
            )
            .await;
        assert_eq!(res.status(), 200, "{path}");
    }
    assert_eq!(app.drain().await, 3);
    for (path, key, n, generator_name) in [
        ("image-picker", "images", 2, shoots_by),
        ("packshots", "packshots", 1, packshots_by),
    ] {
        let list = app
            .get_json(&app.key, &format!("/api/external/{path}"))
            .await;
        let items = list[key].as_array().unwrap();
        assert_eq!(items.len(), n, "{list}");
        for item in items {
            assert_eq!(item["status"], "DONE", "{item}");
            assert_eq!(item["generator"], generator_name, "{item}");
            assert!(
                item["prompt"].as_str().unwrap().contains("Red Square"),
                "{item}"
            );
        }
    }
    assert_eq!(
        app.balance(&app.account).await,
        (before.0 - 30, 0, before.2 + 30),
        "three pictures consumed"
    );
    app.audit().await;
    stored
}

/// The scenery [`end_to_end`] orders after its models.
pub const SCENERY: &str = "white studio, seamless paper";
