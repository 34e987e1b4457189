//! A real headless Chromium, driven over the W3C WebDriver protocol by
//! `chromedriver` (Debian's `chromium` and `chromium-driver` packages), with
//! the few commands the console's tests use. Outside CI a missing browser
//! skips its tests loudly; under CI it fails them.

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::services::{Service, free_port, missing};

pub struct Chrome {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`
    session: String,
    _profile: tempfile::TempDir,
    _driver: Service,
}

/// An element of the page, as WebDriver names it.
pub struct Element(String);

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Chrome {
    /// Starts chromedriver and a headless Chromium of `width`×`height`.
    pub async fn start(width: u32, height: u32) -> Option<Chrome> {
        let what = "Chromium and chromedriver (apt-get install chromium chromium-driver)";
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(binary) = binary else {
            return missing(what, "no chromium binary");
        };
        let port = free_port();
        let driver = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => Service(c),
            Err(e) => return missing(what, e),
        };
        let base = format!("http://127.0.0.1:{port}");
        let http = mannequin::http_client().build().unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return missing(what, "chromedriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let Some(id) = res["value"]["sessionId"].as_str() else {
            return missing(what, res);
        };
        Some(Chrome {
            session: format!("{base}/session/{id}"),
            http,
            _profile: profile,
            _driver: driver,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        let v = self
            .call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
        assert!(v.is_null(), "navigation failed: {v}");
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The first element matching `css`, when there is one.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().map(|id| Element(id.to_string()))
    }

    /// Every element matching `css`.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|id| Element(id.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits up to `within` for an element matching `css`.
    pub async fn wait_for(&self, css: &str, within: Duration) -> Element {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(e) = self.try_find(css).await {
                return e;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {css} within {within:?} at {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, e: &Element) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", e.0),
            Some(json!({})),
        )
        .await;
    }

    /// Resizes the window.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Empties a field.
    pub async fn clear(&self, e: &Element) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.0),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, e: &Element, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Signs in to the console at `url` with `key` through its form, and
    /// waits for the gallery.
    pub async fn sign_in(&self, url: &str, key: &str) {
        self.goto(&format!("{url}/")).await;
        let field = self
            .wait_for("input[name=apiKey]", Duration::from_secs(10))
            .await;
        self.type_into(&field, key).await;
        let submit = self.try_find("form button[type=submit]").await.unwrap();
        self.click(&submit).await;
        self.wait_url(Duration::from_secs(10), |u| u.ends_with("/console"))
            .await;
    }

    /// The system's colour scheme as the page sees it (`prefers-color-scheme`),
    /// through Chromium's DevTools command.
    pub async fn color_scheme(&self, scheme: &str) {
        let v = self
            .call(
                reqwest::Method::POST,
                "/goog/cdp/execute",
                Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                    "features": [{"name": "prefers-color-scheme", "value": scheme}]
                }})),
            )
            .await;
        assert!(v.is_object() || v.is_null(), "emulation failed: {v}");
    }

    /// Runs `js` in the page with `args` (as `arguments`), giving its result.
    pub async fn script(&self, js: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": js, "args": args })),
        )
        .await
    }

    pub async fn text(&self, e: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub async fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/attribute/{name}", e.0),
            None,
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    /// Presses and releases one key on the page (`"a"`, or WebDriver's
    /// `"\u{E014}"` for the right arrow).
    pub async fn press(&self, key: &str) {
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(
                json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                    {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
                ]}]}),
            ),
        )
        .await;
    }

    /// The text of an open alert, if a script opened one.
    pub async fn alert(&self) -> Option<String> {
        self.call(reqwest::Method::GET, "/alert/text", None)
            .await
            .as_str()
            .map(str::to_string)
    }

    /// Waits up to `within` for the address to satisfy `ok`.
    pub async fn wait_url(&self, within: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let url = self.url().await;
            if ok(&url) {
                return url;
            }
            assert!(tokio::time::Instant::now() < deadline, "still at {url}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Closes the browser (the driver stops when this is dropped).
    pub async fn quit(self) {
        self.call(reqwest::Method::DELETE, "", None).await;
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}
