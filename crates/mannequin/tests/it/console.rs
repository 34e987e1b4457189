//! The console over HTTP, as a browser speaks to it: sign in with a form,
//! keep the session cookie, read pages, send forms with their token.

use mannequin::keys::Scope;
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::helpers::TestApp;

/// A browser-like client: no redirects followed (the tests read them), the
/// session cookie kept by hand.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            client: mannequin::http_client()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.url.clone(),
            cookie: None,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap());
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    /// Signs in and keeps the cookie; returns the Set-Cookie header.
    async fn sign_in(&mut self, key: &str) -> String {
        let res = self.post("/console/sign-in", &[("apiKey", key)]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/console");
        let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
        self.cookie = Some(set.split(';').next().unwrap().to_string());
        set
    }

    async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }
}

/// The value of the first `name="csrf"` field on a page.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn a_key_signs_in_to_a_session_and_the_gallery_shows_the_accounts_models() {
    let app = TestApp::start().await;
    let mut browser = Browser::new(&app);
    // Not signed in: the sign-in page, with its form field.
    let page = browser.page("/").await;
    assert!(page.contains("name=\"apiKey\""));
    let res = browser.get("/console").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");

    // A wrong key: words, 401, no session.
    let last = app.key.chars().last().unwrap();
    let wrong = format!(
        "{}{}",
        &app.key[..app.key.len() - 1],
        if last == 'a' { 'b' } else { 'a' }
    );
    for (key, says) in [
        (wrong.as_str(), "not valid"),
        ("mk_live_nope", "not an API key"),
        ("", "Enter an API key"),
    ] {
        let res = browser.post("/console/sign-in", &[("apiKey", key)]).await;
        assert_eq!(res.status(), 401);
        assert!(res.headers().get("set-cookie").is_none());
        let text = res.text().await.unwrap();
        assert!(text.contains(says), "{text}");
        assert!(
            key.is_empty() || !text.contains(key),
            "the key is not echoed back"
        );
    }

    let registered = app.register_ok(&app.key, "woman, casual", 3).await;
    app.drain().await;
    let set = browser.sign_in(&app.key).await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "http public URL: {set}");
    assert!(!set.contains(&app.key), "the cookie is not the key");

    let res = browser.get("/console").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let gallery = res.text().await.unwrap();
    for id in registered["createdRecordIds"].as_array().unwrap() {
        assert!(gallery.contains(&format!("data-model-id=\"{}\"", id.as_str().unwrap())));
    }
    assert!(
        !gallery.contains(&app.key),
        "the key never reaches the page"
    );
    assert!(
        gallery.contains("<b>970</b> available"),
        "credits on every page"
    );

    // Another account's session sees none of them.
    let (_, other) = app.account(100, &[Scope::Read]).await;
    let mut stranger = Browser::new(&app);
    stranger.sign_in(&other).await;
    let theirs = stranger.page("/console").await;
    assert!(!theirs.contains("data-model-id"));
    let model = registered["createdRecordIds"][0].as_str().unwrap();
    let res = stranger.get(&format!("/console/models/{model}")).await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn votes_need_the_pages_token_and_text_stays_text() {
    let app = TestApp::start().await;
    let attack = "<img src=x onerror=alert(1)> woman";
    let registered = app.register_ok(&app.key, attack, 2).await;
    app.drain().await;
    let ids: Vec<String> = registered["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut browser = Browser::new(&app);
    browser.sign_in(&app.key).await;
    // Newest first: the second model is shown first and links on to the first.
    let page = browser.page(&format!("/console/models/{}", ids[1])).await;
    assert!(page.contains("&#60;img src=x onerror=alert(1)&#62; woman"));
    assert!(!page.contains("<img src=x"), "the text stays text");
    assert!(page.contains("data-action=\"approve\"") && page.contains("data-action=\"reject\""));
    assert!(
        page.contains(&format!("href=\"/console/models/{}\"", ids[0])),
        "older link"
    );

    // Without the token, or with another, nothing changes.
    let path = format!("/console/models/{}/vote", ids[1]);
    for token in ["", "forged"] {
        let res = browser
            .post(&path, &[("csrf", token), ("voting", "APPROVED")])
            .await;
        assert_eq!(res.status(), 403);
    }
    let (_, list) = app.list(&app.key, "?statusFilter=approved").await;
    assert_eq!(list["count"], 0);

    // With it, the vote counts and the reviewer moves on to the next model.
    let token = csrf(&page);
    let res = browser
        .post(
            &path,
            &[("csrf", &token), ("voting", "APPROVED"), ("next", &ids[0])],
        )
        .await;
    assert_eq!(res.status(), 303);
    let moved_to = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        moved_to,
        format!("/console/models/{}?voted=APPROVED&moved=1", ids[0])
    );
    // The next page confirms the vote in a line, and labels its pills.
    let next = browser.page(&moved_to).await;
    assert!(
        next.contains("<p class=\"notice\" role=\"status\">Approved. This is the next model.</p>"),
        "{next}"
    );
    assert!(
        next.contains("<span class=\"pill-label\">Status:</span> Done"),
        "{next}"
    );
    assert!(
        next.contains("<span class=\"pill-label\">Vote:</span> <span id=\"vote\">Pending</span>")
    );
    let (_, list) = app.list(&app.key, "?statusFilter=approved").await;
    assert_eq!(list["models"][0]["id"], ids[1].as_str());
    let gallery = browser.page("/console?voting=APPROVED").await;
    assert!(
        gallery.contains(&ids[1]) && !gallery.contains(&format!("data-model-id=\"{}\"", ids[0]))
    );

    // A read-only key's session may look but not vote.
    let (_, reader) = {
        let key = app.key_for(&app.account, &[Scope::Read], None).await;
        ((), key)
    };
    let mut looker = Browser::new(&app);
    looker.sign_in(&reader).await;
    let page = looker.page(&format!("/console/models/{}", ids[0])).await;
    let res = looker
        .post(
            &format!("/console/models/{}/vote", ids[0]),
            &[("csrf", &csrf(&page)), ("voting", "REJECTED")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let body = res.text().await.unwrap();
    assert!(body.contains("content.register"), "{body}");
}

#[tokio::test]
async fn sign_out_and_a_revoked_key_end_the_session() {
    let app = TestApp::start().await;
    let key = app.key_for(&app.account, &Scope::ALL, None).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&key).await;
    browser.page("/console").await;

    // Revoking the key ends every session it opened, at once.
    let key_id = key
        .trim_start_matches("mk_live_")
        .split('.')
        .next()
        .unwrap();
    assert!(
        app.running
            .store
            .revoke_key(key_id, mannequin::clock::now_ms())
            .await
            .unwrap()
    );
    let res = browser.get("/console").await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );

    // Signing out ends the session; the old cookie opens nothing.
    let mut browser = Browser::new(&app);
    browser.sign_in(&app.key).await;
    let page = browser.page("/console").await;
    let res = browser
        .post("/console/sign-out", &[("csrf", "wrong")])
        .await;
    assert_eq!(res.status(), 403, "signing out needs the token too");
    let res = browser
        .post("/console/sign-out", &[("csrf", &csrf(&page))])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(browser.get("/console").await.status(), 303);

    // A sign-in posted from another site is refused.
    let res = browser
        .client
        .post(format!("{}/console/sign-in", app.url))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("apiKey={}", app.key))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    // The API itself still answers JSON, and the console leaves it alone.
    let (status, body): (u16, Value) = app.list(&app.key, "").await;
    assert_eq!(status, 200);
    assert!(body["models"].is_array());
}

/// Where to save screenshots for the docs, when asked
/// (`MANNEQUIN_SCREENSHOTS=docs cargo test console::in_a_browser`).
fn screenshot_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("MANNEQUIN_SCREENSHOTS").map(std::path::PathBuf::from)
}

#[tokio::test]
async fn in_a_browser_a_reviewer_signs_in_votes_with_the_keyboard_and_signs_out() {
    use crate::browser::Chrome;
    use std::time::Duration;
    let Some(chrome) = Chrome::start(1280, 900).await else {
        return;
    };
    let app = TestApp::start().await;
    for text in [
        "young female model, athletic build, natural makeup, for sportswear",
        "man, business suit, confident, short hair",
    ] {
        app.register_ok(&app.key, text, 4).await;
    }
    let attack = "<img src=x onerror=alert(1)> woman, evening dress";
    let last = app.register_ok(&app.key, attack, 2).await;
    app.drain().await;
    let mine: Vec<&str> = last["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();

    // Sign in through the form.
    chrome.sign_in(&app.url, &app.key).await;
    let cards = chrome.find_all("[data-model-id]").await;
    assert_eq!(cards.len(), 10, "the grid shows every model");
    let newest = chrome.attribute(&cards[0], "data-model-id").await.unwrap();
    let second = chrome.attribute(&cards[1], "data-model-id").await.unwrap();
    assert!(
        mine.contains(&newest.as_str()) && mine.contains(&second.as_str()),
        "newest first"
    );
    let credits = chrome
        .text(&chrome.try_find(".credits").await.unwrap())
        .await;
    assert!(credits.contains("900 available"), "{credits}");
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-gallery.png")).await;
    }

    // Open the newest model: the customer's text shows as text, no script ran.
    let link = chrome.try_find("[data-model-id] a").await.unwrap();
    chrome.click(&link).await;
    chrome
        .wait_url(Duration::from_secs(10), |u| u.contains(&newest))
        .await;
    assert_eq!(chrome.alert().await, None, "no script from the text ran");
    let facts = chrome.text(&chrome.try_find("dl").await.unwrap()).await;
    assert!(facts.contains(attack), "{facts}");
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-model.png")).await;
        chrome.resize(390, 844).await;
        chrome
            .screenshot(&dir.join("console-model-phone.png"))
            .await;
        chrome.resize(1280, 900).await;
    }

    // `a` approves and moves on to the next (older) model; the left arrow
    // comes back, where the vote shows.
    chrome.press("a").await;
    chrome
        .wait_url(Duration::from_secs(10), |u| u.contains(&second))
        .await;
    chrome.press("\u{E012}").await;
    chrome
        .wait_url(Duration::from_secs(10), |u| u.contains(&newest))
        .await;
    let vote = chrome.text(&chrome.try_find("#vote").await.unwrap()).await;
    assert_eq!(vote, "Approved");
    let (_, approved) = app.list(&app.key, "?statusFilter=approved").await;
    assert_eq!(approved["count"], 1);
    assert_eq!(approved["models"][0]["id"], newest.as_str());
    // `r` rejects; the right arrow steps on without voting.
    chrome.press("\u{E014}").await;
    chrome
        .wait_url(Duration::from_secs(10), |u| u.contains(&second))
        .await;
    chrome.press("r").await;
    chrome
        .wait_url(Duration::from_secs(10), |u| !u.contains(&second))
        .await;
    let (_, all) = app.list(&app.key, "").await;
    let voted: Vec<(&str, &str)> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["voting"] != "PENDING")
        .map(|m| (m["id"].as_str().unwrap(), m["voting"].as_str().unwrap()))
        .collect();
    assert_eq!(
        voted,
        vec![(newest.as_str(), "APPROVED"), (second.as_str(), "REJECTED")]
    );

    // Signing out ends it: the console sends the browser back to sign in.
    let out = chrome.try_find(".sign-out button").await.unwrap();
    chrome.click(&out).await;
    chrome
        .wait_url(Duration::from_secs(10), |u| u.ends_with('/'))
        .await;
    chrome.goto(&format!("{}/console", app.url)).await;
    chrome
        .wait_for("input[name=apiKey]", Duration::from_secs(10))
        .await;
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-sign-in.png")).await;
    }
    chrome.quit().await;
}

/// The value of the hidden field `name` on a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).expect("the field") + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn ordering_registers_once_per_form_and_a_402_says_what_is_missing() {
    let app = TestApp::start().await;
    let (account, key) = app.account(50, &Scope::ALL).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&key).await;
    let form = browser.page("/console/order").await;
    assert!(
        form.contains("data-per-model=\"10\""),
        "the price shows before sending"
    );
    let (token, once) = (csrf(&form), hidden(&form, "idempotencyKey"));

    // A double click: the same form twice makes one batch.
    let fields = [
        ("csrf", token.as_str()),
        ("idempotencyKey", once.as_str()),
        ("preferences", "man, denim jacket"),
        ("count", "3"),
    ];
    let first = browser.post("/console/order", &fields).await;
    assert_eq!(first.status(), 303);
    let to = first.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/console/batches/batch_"), "{to}");
    let second = browser.post("/console/order", &fields).await;
    assert_eq!(second.headers()["location"].to_str().unwrap(), to);
    assert_eq!(app.balance(&account).await, (20, 30, 0));
    let page = browser.page(&to).await;
    assert!(page.contains("0 of 3 models finished") && page.contains("data-live=\"true\""));

    // More than the account has: 402, in words, the text kept, nothing held.
    let again = browser.page("/console/order").await;
    let res = browser
        .post(
            "/console/order",
            &[
                ("csrf", token.as_str()),
                ("idempotencyKey", hidden(&again, "idempotencyKey").as_str()),
                ("preferences", "woman, <b>bold</b> look"),
                ("count", "5"),
            ],
        )
        .await;
    assert_eq!(res.status(), 402);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("this order costs 50, the account has 20 available, 30 short"),
        "{text}"
    );
    assert!(
        text.contains("woman, &#60;b&#62;bold&#60;/b&#62; look"),
        "the text is kept, escaped: {text}"
    );
    assert_eq!(app.balance(&account).await, (20, 30, 0));
    for (count, says) in [
        ("0", "from 1 to 20"),
        ("21", "from 1 to 20"),
        ("x", "from 1 to 20"),
    ] {
        let res = browser
            .post(
                "/console/order",
                &[
                    ("csrf", token.as_str()),
                    ("preferences", "man"),
                    ("count", count),
                ],
            )
            .await;
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains(says));
    }

    // The batches page lists it; cancelling refunds what has not started.
    let list = browser.page("/console/batches").await;
    let batch = to.trim_start_matches("/console/batches/");
    assert!(list.contains(&format!("data-batch-id=\"{batch}\"")));
    assert!(list.contains("data-action=\"cancel\""));
    let res = browser
        .post(&format!("{to}/cancel"), &[("csrf", token.as_str())])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.balance(&account).await, (50, 0, 0));
    let page = browser.page(&to).await;
    assert!(
        page.contains("3 of 3 models finished") && page.contains("3 cancelled"),
        "{page}"
    );
    assert!(!page.contains("data-action=\"cancel\"") && !page.contains("data-live"));
    app.audit().await;
}

#[tokio::test]
async fn in_a_browser_an_order_is_followed_to_its_end_and_another_cancelled() {
    use crate::browser::Chrome;
    use std::time::Duration;
    let Some(chrome) = Chrome::start(1280, 900).await else {
        return;
    };
    let app = TestApp::start().await;
    let (_, key) = app.account(100, &Scope::ALL).await;
    chrome.sign_in(&app.url, &key).await;

    // The form shows the price as the count changes.
    chrome.goto(&format!("{}/console/order", app.url)).await;
    let text = chrome
        .wait_for("#preferences", Duration::from_secs(10))
        .await;
    chrome
        .type_into(
            &text,
            "young female model, athletic build, natural makeup, for sportswear",
        )
        .await;
    let count = chrome.try_find("#count").await.unwrap();
    chrome.clear(&count).await;
    chrome.type_into(&count, "4").await;
    let price = chrome.text(&chrome.try_find("#price").await.unwrap()).await;
    assert_eq!(price, "40");
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-order.png")).await;
    }
    chrome
        .click(&chrome.try_find("#order button[type=submit]").await.unwrap())
        .await;
    let batch = chrome
        .wait_url(Duration::from_secs(10), |u| {
            u.contains("/console/batches/batch_")
        })
        .await;
    let progress = chrome
        .text(&chrome.try_find(".counts").await.unwrap())
        .await;
    assert!(progress.starts_with("0 of 4 models finished"), "{progress}");

    // The worker makes them; the page follows without a reload.
    app.drain().await;
    chrome.wait_for("#finished", Duration::from_secs(15)).await;
    let progress = chrome
        .text(&chrome.try_find(".counts").await.unwrap())
        .await;
    assert!(progress.starts_with("4 of 4 models finished"), "{progress}");
    assert_eq!(
        chrome.find_all(".batch [data-status=\"DONE\"]").await.len(),
        4
    );
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-batch.png")).await;
    }

    // Another order, cancelled before it starts: refunded.
    chrome.goto(&format!("{}/console/order", app.url)).await;
    let text = chrome
        .wait_for("#preferences", Duration::from_secs(10))
        .await;
    chrome.type_into(&text, "man, suit").await;
    let count = chrome.try_find("#count").await.unwrap();
    chrome.clear(&count).await;
    chrome.type_into(&count, "2").await;
    chrome
        .click(&chrome.try_find("#order button[type=submit]").await.unwrap())
        .await;
    chrome
        .wait_url(Duration::from_secs(10), |u| {
            u.contains("/console/batches/batch_") && u != batch
        })
        .await;
    chrome
        .click(
            &chrome
                .wait_for("button[data-action=cancel]", Duration::from_secs(5))
                .await,
        )
        .await;
    chrome.wait_for("#finished", Duration::from_secs(10)).await;
    let progress = chrome
        .text(&chrome.try_find(".counts").await.unwrap())
        .await;
    assert!(progress.contains("2 cancelled"), "{progress}");
    let credits = chrome
        .text(&chrome.try_find(".credits").await.unwrap())
        .await;
    assert!(credits.contains("60 available"), "{credits}");

    // Too many for what is left: the form says so, in words.
    chrome.goto(&format!("{}/console/order", app.url)).await;
    let text = chrome
        .wait_for("#preferences", Duration::from_secs(10))
        .await;
    chrome.type_into(&text, "woman, evening dress").await;
    let count = chrome.try_find("#count").await.unwrap();
    chrome.clear(&count).await;
    chrome.type_into(&count, "20").await;
    chrome
        .click(&chrome.try_find("#order button[type=submit]").await.unwrap())
        .await;
    let alert = chrome
        .wait_for(".error[role=alert]", Duration::from_secs(10))
        .await;
    let said = chrome.text(&alert).await;
    assert!(
        said.contains("costs 200") && said.contains("60 available") && said.contains("140 short"),
        "{said}"
    );

    // The key is revoked elsewhere: the next page is the sign-in form.
    let key_id = key
        .trim_start_matches("mk_live_")
        .split('.')
        .next()
        .unwrap();
    app.running
        .store
        .revoke_key(key_id, mannequin::clock::now_ms())
        .await
        .unwrap();
    chrome.goto(&format!("{}/console/batches", app.url)).await;
    chrome
        .wait_for("input[name=apiKey]", Duration::from_secs(10))
        .await;
    chrome.quit().await;
    app.audit().await;
}

#[tokio::test]
async fn in_a_browser_sceneries_are_ordered_reviewed_and_kept_apart_from_models() {
    use crate::browser::Chrome;
    use std::time::Duration;
    let Some(chrome) = Chrome::start(1280, 900).await else {
        return;
    };
    let app = TestApp::start_with(&["--credits-per-scenery", "5"], None).await;
    let (_, key) = app.account(100, &Scope::ALL).await;
    chrome.sign_in(&app.url, &key).await;

    // The empty sceneries gallery says what to do, and leads to the form.
    chrome.goto(&format!("{}/console/sceneries", app.url)).await;
    let empty = chrome.wait_for(".empty a", Duration::from_secs(10)).await;
    chrome.click(&empty).await;
    let text = chrome
        .wait_for("#preferences", Duration::from_secs(10))
        .await;
    let heading = chrome.text(&chrome.try_find("h1").await.unwrap()).await;
    assert_eq!(heading, "Order sceneries");
    chrome
        .type_into(&text, "white studio, seamless paper")
        .await;
    let count = chrome.try_find("#count").await.unwrap();
    chrome.clear(&count).await;
    chrome.type_into(&count, "3").await;
    let price = chrome.text(&chrome.try_find("#price").await.unwrap()).await;
    assert_eq!(price, "15", "the scenery's own price");
    if let Some(dir) = screenshot_dir() {
        chrome
            .screenshot(&dir.join("console-order-sceneries.png"))
            .await;
    }
    chrome
        .click(&chrome.try_find("#order button[type=submit]").await.unwrap())
        .await;
    chrome
        .wait_url(Duration::from_secs(10), |u| {
            u.contains("/console/batches/batch_")
        })
        .await;
    app.drain().await;
    chrome.wait_for("#finished", Duration::from_secs(15)).await;
    let progress = chrome
        .text(&chrome.try_find(".counts").await.unwrap())
        .await;
    assert!(
        progress.starts_with("3 of 3 sceneries finished"),
        "{progress}"
    );

    // Their gallery shows them as landscapes; the models gallery does not.
    chrome.goto(&format!("{}/console/sceneries", app.url)).await;
    chrome
        .wait_for("[data-status=\"DONE\"] img", Duration::from_secs(10))
        .await;
    let cards = chrome.find_all(".card img").await;
    assert_eq!(cards.len(), 3);
    assert_eq!(
        chrome.attribute(&cards[0], "width").await.as_deref(),
        Some("240")
    );
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-sceneries.png")).await;
    }
    chrome.goto(&format!("{}/console", app.url)).await;
    chrome.wait_for(".empty", Duration::from_secs(10)).await;
    assert!(chrome.find_all(".card").await.is_empty());

    // One is approved with the keyboard, on its own page.
    chrome.goto(&format!("{}/console/sceneries", app.url)).await;
    let first = chrome.wait_for(".card a", Duration::from_secs(10)).await;
    chrome.click(&first).await;
    let here = chrome
        .wait_url(Duration::from_secs(10), |u| {
            u.contains("/console/sceneries/scenery_")
        })
        .await;
    chrome.wait_for("#vote", Duration::from_secs(10)).await;
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-scenery.png")).await;
    }
    // `a` approves and moves on to the next (older) scenery.
    chrome.press("a").await;
    chrome
        .wait_url(Duration::from_secs(10), |u| {
            u.contains("/console/sceneries/scenery_") && u != here
        })
        .await;
    let listed = app
        .get_json(&key, "/api/external/sceneries?statusFilter=approved")
        .await;
    assert_eq!(listed["count"], 1, "{listed}");
    chrome.goto(&format!("{}/console/batches", app.url)).await;
    let counts = chrome.wait_for(".counts", Duration::from_secs(10)).await;
    assert!(
        chrome
            .text(&counts)
            .await
            .contains("3 of 3 sceneries finished")
    );
    if let Some(dir) = screenshot_dir() {
        chrome
            .screenshot(&dir.join("console-batches-kinds.png"))
            .await;
    }
    chrome.quit().await;
    app.audit().await;
}

#[tokio::test]
async fn in_a_browser_products_are_uploaded_by_picker_and_by_drop_and_presets_made() {
    use crate::browser::Chrome;
    use base64::Engine;
    use std::time::Duration;
    let Some(chrome) = Chrome::start(1280, 900).await else {
        return;
    };
    let app = TestApp::start().await;
    let (_, key) = app.account(100, &Scope::ALL).await;
    chrome.sign_in(&app.url, &key).await;

    // The file picker: a photo on disk, named on the page.
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("Blue Jeans.png");
    image::RgbImage::from_fn(120, 160, |x, _| image::Rgb([20, 40, (100 + x) as u8]))
        .save(&photo)
        .unwrap();
    chrome.goto(&format!("{}/console/products", app.url)).await;
    let empty = chrome.wait_for(".empty", Duration::from_secs(10)).await;
    assert!(chrome.text(&empty).await.contains("upload a photo"));
    let input = chrome.try_find("#image").await.unwrap();
    chrome.type_into(&input, photo.to_str().unwrap()).await;
    chrome
        .click(
            &chrome
                .try_find("#upload button[type=submit]")
                .await
                .unwrap(),
        )
        .await;
    chrome
        .wait_for("[data-product-id] img", Duration::from_secs(10))
        .await;
    let listed = app.get_json(&key, "/api/external/products").await;
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["products"][0]["name"], "Blue Jeans");

    // A photo dropped on the zone is sent at once.
    let mut png = Vec::new();
    image::RgbImage::from_pixel(50, 50, image::Rgb([200, 200, 20]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    chrome
        .script(
            "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
             const file = new File([bytes], 'Yellow Cap.png', {type: 'image/png'});
             const dt = new DataTransfer(); dt.items.add(file);
             const zone = document.getElementById('drop');
             zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
             zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
            serde_json::json!([data]),
        )
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while chrome.find_all("[data-product-id]").await.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the dropped photo was not uploaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = app.get_json(&key, "/api/external/products").await;
    assert_eq!(listed["products"][0]["name"], "Yellow Cap");
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-products.png")).await;
    }

    // A file that is no photo: the page says so, nothing is added.
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "not a picture").unwrap();
    let input = chrome.try_find("#image").await.unwrap();
    chrome.type_into(&input, text.to_str().unwrap()).await;
    chrome
        .click(
            &chrome
                .try_find("#upload button[type=submit]")
                .await
                .unwrap(),
        )
        .await;
    let alert = chrome
        .wait_for(".error[role=alert]", Duration::from_secs(10))
        .await;
    assert!(
        chrome
            .text(&alert)
            .await
            .contains("not a PNG, JPEG or WebP")
    );
    assert_eq!(chrome.find_all("[data-product-id]").await.len(), 2);

    // Delete the first.
    chrome
        .click(&chrome.try_find("button[data-action=delete]").await.unwrap())
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while chrome.find_all("[data-product-id]").await.len() != 1 {
        assert!(std::time::Instant::now() < deadline, "not deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.get_json(&key, "/api/external/products").await["count"],
        1
    );

    // A preset, made from the form; missing its quality guidelines first.
    chrome.goto(&format!("{}/console/presets", app.url)).await;
    let name = chrome.wait_for("#name", Duration::from_secs(10)).await;
    assert_eq!(chrome.find_all("[data-preset-id]").await.len(), 5);
    chrome.type_into(&name, "Catalogue").await;
    let quantity = chrome.try_find("#quantityGuidelines").await.unwrap();
    chrome.type_into(&quantity, "Front and back.").await;
    let quality = chrome.try_find("#qualityGuidelines").await.unwrap();
    chrome.type_into(&quality, "True colours.").await;
    let cover = chrome.try_find("#cover").await.unwrap();
    chrome.type_into(&cover, photo.to_str().unwrap()).await;
    chrome
        .click(
            &chrome
                .try_find("#preset button[type=submit]")
                .await
                .unwrap(),
        )
        .await;
    chrome
        .wait_for("[data-preset-id] img.cover", Duration::from_secs(10))
        .await;
    assert_eq!(chrome.find_all("[data-preset-id]").await.len(), 6);
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-presets.png")).await;
    }
    let presets = app.get_json(&key, "/api/external/presets").await;
    assert_eq!(presets["presets"][0]["name"], "Catalogue");
    assert!(presets["presets"][0]["cover"].is_string());
    chrome.quit().await;
}

/// A photo shoot ordered from the console: the product, an approved model
/// and scenery picked as cards, the price shown; its pictures in their
/// gallery, filtered by the product, each saying what it was made from; a
/// refusal in the API's words, nothing reserved.
#[tokio::test]
async fn in_a_browser_a_photo_shoot_is_ordered_and_its_pictures_name_what_they_are_made_from() {
    use crate::browser::Chrome;
    use std::time::Duration;
    let Some(chrome) = Chrome::start(1280, 1100).await else {
        return;
    };
    let app = TestApp::start().await;
    let (account, key) = app.account(1000, &Scope::ALL).await;
    let mut png = Vec::new();
    image::RgbImage::from_fn(200, 240, |x, y| {
        if (40..160).contains(&x) && (30..210).contains(&y) {
            image::Rgb([30, 80, 180])
        } else {
            image::Rgb([255, 255, 255])
        }
    })
    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    .unwrap();
    let upload = |name: &'static str| {
        let (app, key, png) = (&app, &key, &png);
        async move {
            let res = crate::api::products::upload(
                app,
                key,
                &[
                    crate::api::products::image_part("shirt.png", png),
                    crate::api::products::text_part("name", name),
                ],
            )
            .await;
            assert_eq!(res.status(), 201);
            let v: serde_json::Value = res.json().await.unwrap();
            v["id"].as_str().unwrap().to_string()
        }
    };
    let product = upload("Blue Shirt").await;
    let made = |path: &'static str, words: &'static str| {
        let (app, key) = (&app, &key);
        async move {
            let res = app
                .post(
                    key,
                    &format!("/api/external/{path}/register-ideas"),
                    serde_json::json!({"preferences": words, "count": 1}),
                )
                .await;
            let v: serde_json::Value = res.json().await.unwrap();
            let id = v["createdRecordIds"][0].as_str().unwrap().to_string();
            app.drain().await;
            let res = app
                .post(
                    key,
                    &format!("/api/external/{path}/{id}/vote"),
                    serde_json::json!({"voting": "APPROVED"}),
                )
                .await;
            assert_eq!(res.status(), 200);
            id
        }
    };
    let model = made("models", "young woman, long hair").await;
    let scenery = made("sceneries", "outdoor park, golden hour").await;
    chrome.sign_in(&app.url, &key).await;

    chrome.goto(&format!("{}/console/shoot", app.url)).await;
    chrome
        .wait_for("#products .choice img", Duration::from_secs(10))
        .await;
    for css in [
        format!("input[name=model][value={model}]"),
        format!("input[name=scenery][value={scenery}]"),
    ] {
        chrome
            .click(&chrome.try_find(&css).await.expect(&css))
            .await;
    }
    let suggestions = chrome.try_find("#suggestions").await.unwrap();
    chrome.type_into(&suggestions, "bright summer light").await;
    let count = chrome.try_find("#count").await.unwrap();
    chrome.clear(&count).await;
    chrome.type_into(&count, "2").await;
    let price = chrome.text(&chrome.try_find("#price").await.unwrap()).await;
    assert_eq!(price, "20", "two pictures at 10 credits");
    if let Some(dir) = screenshot_dir() {
        chrome
            .script(
                "document.activeElement.blur(); window.scrollTo({top: 0, behavior: 'instant'});",
                serde_json::json!([]),
            )
            .await;
        chrome
            .screenshot(&dir.join("console-photo-shoot.png"))
            .await;
    }
    chrome
        .click(&chrome.try_find("#order button[type=submit]").await.unwrap())
        .await;
    chrome
        .wait_url(Duration::from_secs(10), |u| {
            u.contains("/console/batches/batch_")
        })
        .await;
    assert_eq!(app.drain().await, 2);

    chrome
        .goto(&format!("{}/console/images?product={product}", app.url))
        .await;
    chrome.wait_for(".card img", Duration::from_secs(10)).await;
    assert_eq!(chrome.find_all(".card").await.len(), 2);
    if let Some(dir) = screenshot_dir() {
        chrome
            .screenshot(&dir.join("console-photo-shoots.png"))
            .await;
    }
    chrome
        .click(&chrome.try_find(".card a").await.unwrap())
        .await;
    let made_from = chrome
        .wait_for("dl.made-from", Duration::from_secs(10))
        .await;
    let text = chrome.text(&made_from).await;
    assert!(text.contains("Blue Shirt"), "{text}");
    assert!(text.contains("bright summer light"), "{text}");
    assert!(
        chrome
            .try_find(&format!("dl.made-from a[href='/console/models/{model}']"))
            .await
            .is_some(),
        "the model's page is linked"
    );
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-picture.png")).await;
    }

    // Packshots of a product deleted meanwhile: the API's refusal, shown.
    let gone = upload("Old Shirt").await;
    chrome
        .goto(&format!(
            "{}/console/shoot?kind=packshot&product={gone}",
            app.url
        ))
        .await;
    chrome
        .wait_for("#products .choice", Duration::from_secs(10))
        .await;
    let res = app
        .delete(&key, &format!("/api/external/products/{gone}"))
        .await;
    assert_eq!(res.status(), 200);
    let before = app.balance(&account).await;
    chrome
        .click(&chrome.try_find("#order button[type=submit]").await.unwrap())
        .await;
    let error = chrome.wait_for("p.error", Duration::from_secs(10)).await;
    assert_eq!(chrome.text(&error).await, "Product not found.");
    assert_eq!(app.balance(&account).await, before, "nothing reserved");
    chrome.quit().await;
}

/// Error pages keep the frame a signed-in person knows; an unknown console
/// address is such a page, never JSON; a 402 says where credits come from
/// when the operator set `--credits-url`, in the console and in the API.
#[tokio::test]
async fn problems_are_pages_in_the_frame_and_a_402_says_where_credits_come_from() {
    let app = TestApp::start_with(
        &[
            "--credits-url",
            "https://shop.example/credits",
            "--credits-text",
            "Top up at",
        ],
        None,
    )
    .await;
    let (_, key) = app.account(30, &Scope::ALL).await;
    let mut browser = Browser::new(&app);

    // Signed out: the page still says what happened, as HTML, with a way in.
    let res = browser.get("/console/no-such-page").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<h1>Not found</h1>") && page.contains("There is no page at this address."),
        "{page}"
    );
    assert!(
        page.contains("href=\"/\">Sign in") && !page.contains("<nav"),
        "{page}"
    );

    browser.sign_in(&key).await;
    for path in [
        "/console/no-such-page",
        "/console/models/model_nope",
        "/console/batches/batch_nope",
    ] {
        let res = browser.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("<nav aria-label=\"Console\">"),
            "{path}: the navigation stays: {page}"
        );
        assert!(
            page.contains("title=\"The account signed in: its credits and ledger\">test</a>"),
            "{path}: the account's name"
        );
        assert!(
            page.contains("<b>30</b> available"),
            "{path}: the credits stay"
        );
        assert!(page.contains("Back to the gallery"), "{path}");
    }
    // A form sent without its token: 403, in the frame too.
    let res = browser
        .post("/console/order", &[("preferences", "man"), ("count", "1")])
        .await;
    assert_eq!(res.status(), 403);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<h1>Not allowed</h1>") && page.contains("<nav"),
        "{page}"
    );

    // Every page links to where credits come from; a 402 says it.
    let form = browser.page("/console/order").await;
    assert!(
        form.contains("href=\"https://shop.example/credits\""),
        "{form}"
    );
    let res = browser
        .post(
            "/console/order",
            &[
                ("csrf", csrf(&form).as_str()),
                ("idempotencyKey", hidden(&form, "idempotencyKey").as_str()),
                ("preferences", "man, denim"),
                ("count", "5"),
            ],
        )
        .await;
    assert_eq!(res.status(), 402);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("20 short. Top up at https://shop.example/credits"),
        "{text}"
    );

    let res = app
        .register(&key, serde_json::json!({"preferences": "man", "count": 5}))
        .await;
    assert_eq!(res.status(), 402);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"],
        "Insufficient credits. Required: 50, available: 30. Top up at https://shop.example/credits",
        "{body}"
    );
    assert_eq!(body["code"], "insufficient_credits");
}

/// Without --credits-url the API's 402 is the contract's sentence alone.
#[tokio::test]
async fn without_a_credits_url_the_402_is_the_contracts_sentence() {
    let app = TestApp::start().await;
    let (_, key) = app.account(30, &Scope::ALL).await;
    let body: Value = app
        .register(&key, serde_json::json!({"preferences": "man", "count": 5}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["error"],
        "Insufficient credits. Required: 50, available: 30."
    );
}

/// The console follows the system's colour scheme: the page's computed
/// background is light, then dark, as `prefers-color-scheme` says. Times
/// read as a person says them, the exact local time on hover, on one line.
#[tokio::test]
async fn in_a_browser_the_console_follows_the_systems_dark_mode_and_reads_times_aloud() {
    use crate::browser::Chrome;
    let Some(chrome) = Chrome::start(1280, 900).await else {
        return;
    };
    let app = TestApp::start().await;
    app.register_ok(&app.key, "woman, linen dress", 2).await;
    app.drain().await;
    chrome.sign_in(&app.url, &app.key).await;
    let background = || async {
        chrome
            .script(
                "return getComputedStyle(document.body).backgroundColor",
                serde_json::json!([]),
            )
            .await
            .as_str()
            .unwrap()
            .to_string()
    };
    let ink = || async {
        chrome
            .script(
                "return getComputedStyle(document.querySelector('h1')).color",
                serde_json::json!([]),
            )
            .await
            .as_str()
            .unwrap()
            .to_string()
    };
    chrome.color_scheme("light").await;
    assert_eq!(background().await, "rgb(246, 247, 249)");
    if let Some(dir) = screenshot_dir() {
        chrome.goto(&format!("{}/console/account", app.url)).await;
        chrome
            .wait_for("table.ledger", std::time::Duration::from_secs(5))
            .await;
        chrome.screenshot(&dir.join("console-account.png")).await;
        chrome.goto(&format!("{}/console", app.url)).await;
        chrome
            .wait_for(".card", std::time::Duration::from_secs(5))
            .await;
    }
    assert_eq!(ink().await, "rgb(29, 36, 51)");
    chrome.color_scheme("dark").await;
    assert_eq!(background().await, "rgb(18, 21, 28)");
    assert_eq!(ink().await, "rgb(230, 233, 239)");
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-dark.png")).await;
    }
    // A batch's time: relative, the exact time on hover, never wrapped.
    chrome.goto(&format!("{}/console/batches", app.url)).await;
    let when = chrome
        .wait_for("li[data-batch-id] time", std::time::Duration::from_secs(5))
        .await;
    let said = chrome.text(&when).await;
    assert!(said == "now" || said.ends_with(" ago"), "{said}");
    let exact = chrome.attribute(&when, "title").await.unwrap_or_default();
    let year = chrome
        .script(
            "return String(new Date(document.querySelector('time').getAttribute('datetime')).getFullYear())",
            serde_json::json!([]),
        )
        .await;
    assert!(
        exact.contains(year.as_str().unwrap()),
        "{exact} names {year}"
    );
    let wrap = chrome
        .script(
            "return getComputedStyle(document.querySelector('time')).whiteSpace",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(wrap, "nowrap");
    // An unknown address, in the same frame and colours.
    chrome
        .goto(&format!("{}/console/no-such-page", app.url))
        .await;
    let heading = chrome
        .wait_for("h1", std::time::Duration::from_secs(5))
        .await;
    assert_eq!(chrome.text(&heading).await, "Not found");
    assert!(chrome.try_find("nav[aria-label=Console]").await.is_some());
    assert_eq!(background().await, "rgb(18, 21, 28)");
    if let Some(dir) = screenshot_dir() {
        chrome
            .screenshot(&dir.join("console-not-found-dark.png"))
            .await;
    }
    chrome.quit().await;
}

/// Every picture downloads whole: the stored image's bytes, its own type,
/// named `<name> (<id>).<ext>`; never another account's.
#[tokio::test]
async fn a_picture_downloads_as_stored_with_a_name_people_can_keep() {
    let app = TestApp::start().await;
    let registered = app.register_ok(&app.key, "woman, linen dress", 1).await;
    app.drain().await;
    let id = registered["createdRecordIds"][0]
        .as_str()
        .unwrap()
        .to_string();
    let mut browser = Browser::new(&app);
    browser.sign_in(&app.key).await;
    let page = browser.page(&format!("/console/models/{id}")).await;
    assert!(
        page.contains(&format!("href=\"/console/models/{id}/download\" download")),
        "{page}"
    );
    let gallery = browser.page("/console").await;
    assert!(gallery.contains(&format!("href=\"/console/models/{id}/download\" download")));

    let res = browser.get(&format!("/console/models/{id}/download")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let (_, one) = app.list(&app.key, "").await;
    let model = &one["models"][0];
    let name = model["name"].as_str().unwrap();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"{name} ({id}).png\"")),
        "{disposition}"
    );
    let downloaded = res.bytes().await.unwrap();
    let stored = app
        .client
        .get(model["image"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(downloaded, stored, "the stored image, byte for byte");
    assert!(image::load_from_memory(&downloaded).is_ok());

    // Another account's session finds nothing there.
    let (_, other) = app.account(100, &Scope::ALL).await;
    let mut stranger = Browser::new(&app);
    stranger.sign_in(&other).await;
    let res = stranger
        .get(&format!("/console/models/{id}/download"))
        .await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

/// On a phone the header folds to three short rows and the filters fold
/// away, so the gallery's pictures start within the first screen.
#[tokio::test]
async fn in_a_browser_a_phone_sees_the_pictures_in_the_first_screen() {
    use crate::browser::Chrome;
    let Some(chrome) = Chrome::start(390, 844).await else {
        return;
    };
    let app = TestApp::start().await;
    app.register_ok(&app.key, "man, streetwear", 4).await;
    app.drain().await;
    chrome.sign_in(&app.url, &app.key).await;
    let number = |js: &'static str| {
        let chrome = &chrome;
        async move {
            chrome
                .script(js, serde_json::json!([]))
                .await
                .as_f64()
                .unwrap()
        }
    };
    let viewport = number("return window.innerHeight").await;
    let picture =
        number("return document.querySelector('.card img').getBoundingClientRect().top").await;
    assert!(
        picture < viewport * 0.5,
        "the first picture starts at {picture} of {viewport}"
    );
    let nav =
        number("return document.querySelector('.top nav').getBoundingClientRect().height").await;
    assert!(nav < 40.0, "the links in one row: {nav}");
    let folded = chrome
        .script(
            "return document.querySelector('details.fold').open",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(folded, false, "the filters start folded");
    if let Some(dir) = screenshot_dir() {
        chrome
            .screenshot(&dir.join("console-gallery-phone.png"))
            .await;
    }
    // Unfolded, they work as on a desktop.
    chrome
        .click(&chrome.try_find("details.fold > summary").await.unwrap())
        .await;
    assert!(chrome.try_find("select[name=status]").await.is_some());
    // Pictures still being made: a moving bar where the picture will be.
    app.register_ok(&app.key, "woman, linen dress", 2).await;
    chrome.goto(&format!("{}/console", app.url)).await;
    assert_eq!(
        chrome.find_all(".placeholder.making progress").await.len(),
        2
    );
    if let Some(dir) = screenshot_dir() {
        chrome
            .screenshot(&dir.join("console-gallery-making-phone.png"))
            .await;
    }
    chrome.quit().await;
}

/// An empty page says what to do next, with the link to do it.
#[tokio::test]
async fn empty_pages_say_what_to_do_next() {
    let app = TestApp::start().await;
    let (_, key) = app.account(100, &Scope::ALL).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&key).await;
    let gallery = browser.page("/console").await;
    assert!(
        gallery
            .contains("No models here yet. <a href=\"/console/order?kind=model\">Order models</a>"),
        "{gallery}"
    );
    let filtered = browser.page("/console?voting=APPROVED").await;
    assert!(
        filtered
            .contains("No models match these filters. <a href=\"/console\">Show all models</a>"),
        "{filtered}"
    );
    let shoots = browser.page("/console/images").await;
    assert!(
        shoots
            .contains("No images here yet. <a href=\"/console/shoot?kind=image\">Order images</a>"),
        "{shoots}"
    );
    let batches = browser.page("/console/batches").await;
    assert!(
        batches.contains("No batches yet: <a href=\"/console/order\">order models</a>"),
        "{batches}"
    );
    let products = browser.page("/console/products").await;
    assert!(
        products.contains("No products yet: upload a photo of one above."),
        "{products}"
    );
}

/// The account page: the balances, the ledger with the credits available
/// after each entry (paged, filtered by kind), and the same as CSV.
#[tokio::test]
async fn the_account_page_keeps_a_running_balance_and_exports_it() {
    let app = TestApp::start().await;
    let (_, key) = app.account(1000, &Scope::ALL).await;
    for i in 0..20 {
        app.register_ok(&key, &format!("man, look {i}"), 2).await;
    }
    app.drain().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&key).await;
    let after = |page: &str| -> Vec<i64> {
        page.split("data-available-after=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect()
    };
    let first = browser.page("/console/account").await;
    assert!(
        first.contains("<h1>test</h1>") && first.contains("<dd>600</dd>"),
        "{first}"
    );
    let newest = after(&first);
    assert_eq!(newest.len(), 50, "a page of 50");
    assert_eq!(
        newest[0], 600,
        "after the newest entry: what is available now"
    );
    let older = first
        .split("rel=\"next\" href=\"")
        .nth(1)
        .map(|s| s[..s.find('"').unwrap()].replace("&amp;", "&"))
        .expect("a link to older entries");
    let second = browser.page(&older).await;
    let rest = after(&second);
    // The grant, 20 reserves of 20 (all ordered before any was made), then
    // 40 consumes, which move nothing out of what is available.
    assert_eq!(newest.len() + rest.len(), 61);
    assert_eq!(*rest.last().unwrap(), 1000, "after the grant");
    let all: Vec<i64> = newest.iter().chain(&rest).copied().collect();
    let mut expected = vec![600; 40];
    expected.extend((0..20).map(|i| 600 + 20 * i));
    expected.push(1000);
    assert_eq!(all, expected);

    let reserves = browser.page("/console/account?kind=reserve").await;
    let only = after(&reserves);
    assert_eq!(only.len(), 20);
    assert_eq!(
        (only[0], only[19]),
        (600, 980),
        "the running balance over every entry"
    );
    assert!(reserves.contains("<option value=\"reserve\" selected>"));

    let res = browser
        .get("/console/account/ledger.csv?kind=reserve")
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("ledger-reserve.csv")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,createdAt,kind,amount,availableAfter,modelId,batchId,reservationId,correlationId,note"
    );
    assert_eq!(lines.len(), 21);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.split(',').nth(2) == Some("reserve") && l.split(',').nth(3) == Some("20"))
    );
    assert_eq!(lines[1].split(',').nth(4), Some("600"));
    let whole = browser
        .get("/console/account/ledger.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(whole.lines().count(), 62);
}

/// The gallery's search: words of the text, name or prompt, kept in the URL,
/// in the search box and in the links from a model to the next.
#[tokio::test]
async fn the_gallery_searches_by_words_and_keeps_them_in_the_url() {
    let app = TestApp::start().await;
    let (_, key) = app.account(1000, &Scope::ALL).await;
    let linen = app.register_ok(&key, "woman, linen summer dress", 2).await;
    app.register_ok(&key, "man, denim jacket", 2).await;
    app.drain().await;
    let ids: Vec<String> = linen["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut browser = Browser::new(&app);
    browser.sign_in(&key).await;
    let page = browser.page("/console?q=LINEN+summer").await;
    let shown: Vec<&str> = page
        .split("data-model-id=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(shown.len(), 2, "{page}");
    assert!(shown.iter().all(|id| ids.iter().any(|m| m == id)));
    assert!(
        page.contains("name=\"q\" value=\"LINEN summer\""),
        "the box keeps the words"
    );
    // Newest first: from the newest, "Older" is the other; from it, "Newer"
    // comes back; the models the search leaves out are never a step.
    let (newest, older) = (shown[0].to_string(), shown[1].to_string());
    let link = |rel: &str, id: &str| {
        let key = if rel == "next" {
            "ArrowRight"
        } else {
            "ArrowLeft"
        };
        format!("rel=\"{rel}\" data-key=\"{key}\" href=\"/console/models/{id}?q=LINEN+summer\"")
    };
    let first = browser
        .page(&format!("/console/models/{newest}?q=LINEN+summer"))
        .await;
    assert!(
        first.contains(&link("next", &older)),
        "the older model of the search: {first}"
    );
    assert!(
        !first.contains("rel=\"prev\""),
        "nothing newer in the search: {first}"
    );
    let back = browser
        .page(&format!("/console/models/{older}?q=LINEN+summer"))
        .await;
    assert!(
        back.contains(&link("prev", &newest)),
        "the newer model of the search: {back}"
    );
    assert!(
        !back.contains("rel=\"next\""),
        "nothing older in the search: {back}"
    );
    let none = browser.page("/console?q=velvet").await;
    assert!(none.contains("No models match these filters."));
}

/// A picture still being made says so, with a moving bar, in the gallery
/// and on its page; once made, its picture.
#[tokio::test]
async fn pictures_being_made_show_progress_not_grey_boxes() {
    let app = TestApp::start().await;
    let registered = app.register_ok(&app.key, "woman, linen dress", 2).await;
    let id = registered["createdRecordIds"][0]
        .as_str()
        .unwrap()
        .to_string();
    let mut browser = Browser::new(&app);
    browser.sign_in(&app.key).await;
    let gallery = browser.page("/console").await;
    assert_eq!(
        gallery
            .matches("<span>Queued…</span><progress aria-label=")
            .count(),
        2,
        "{gallery}"
    );
    let page = browser.page(&format!("/console/models/{id}")).await;
    assert!(
        page.contains("<span>Queued…</span><progress aria-label=\"Queued\"></progress>"),
        "{page}"
    );
    app.drain().await;
    let gallery = browser.page("/console").await;
    assert!(
        !gallery.contains("<progress") && gallery.matches("<img src=").count() == 2,
        "{gallery}"
    );
}

/// API keys from the console, for a session whose key has keys.manage: a new
/// key shown once works with the scopes chosen and no more; revoked, the API
/// refuses it; no scope beyond the session's own; another account's key is
/// not there; a session without keys.manage is refused.
#[tokio::test]
async fn keys_are_made_and_revoked_from_the_console_within_the_sessions_scopes() {
    let app = TestApp::start().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&app.key).await;
    let page = browser.page("/console/keys").await;
    let token = csrf(&page);
    let res = browser
        .post(
            "/console/keys",
            &[("csrf", token.as_str()), ("scope.content.read", "on")],
        )
        .await;
    assert_eq!(res.status(), 201);
    let made = res.text().await.unwrap();
    let secret = made
        .split("<code id=\"new-key\">")
        .nth(1)
        .map(|s| s[..s.find('<').unwrap()].to_string())
        .expect("the secret, shown once");
    assert!(secret.starts_with("mk_live_"), "{secret}");
    let again = browser.page("/console/keys").await;
    assert!(!again.contains(&secret), "never shown again");
    let key_id = secret
        .trim_start_matches("mk_live_")
        .split('.')
        .next()
        .unwrap()
        .to_string();
    assert!(
        again.contains(&format!("data-key-id=\"{key_id}\"")),
        "listed"
    );

    let models = |key: String| {
        let app = &app;
        async move { app.get(&key, "/api/external/models").await.status() }
    };
    assert_eq!(models(secret.clone()).await, 200);
    let res = app
        .register(
            &secret,
            serde_json::json!({"preferences": "man", "count": 1}),
        )
        .await;
    assert_eq!(res.status(), 403, "content.register was not given");

    // Forged, or another account's key: nothing changes.
    let path = format!("/console/keys/{key_id}/revoke");
    assert_eq!(
        browser.post(&path, &[("csrf", "forged")]).await.status(),
        403
    );
    let (_, stranger) = app.account(10, &Scope::ALL).await;
    let stranger_id = stranger
        .trim_start_matches("mk_live_")
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let res = browser
        .post(
            &format!("/console/keys/{stranger_id}/revoke"),
            &[("csrf", token.as_str())],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(models(stranger.clone()).await, 200);

    // Revoked: the API refuses it.
    let res = browser.post(&path, &[("csrf", token.as_str())]).await;
    assert_eq!(res.status(), 303);
    let refused = models(secret.clone()).await;
    assert_eq!(refused, 401);
    assert!(browser.page("/console/keys").await.contains("Revoked"));

    // A session whose key has keys.manage but not content.register cannot give it.
    let limited = app
        .key_for(&app.account, &[Scope::Read, Scope::Keys], None)
        .await;
    let mut other = Browser::new(&app);
    other.sign_in(&limited).await;
    let page = other.page("/console/keys").await;
    let res = other
        .post(
            "/console/keys",
            &[
                ("csrf", csrf(&page).as_str()),
                ("scope.content.register", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("does not have content.register")
    );

    // A session without keys.manage is refused, in words.
    let reader = app.key_for(&app.account, &[Scope::Read], None).await;
    let mut looker = Browser::new(&app);
    looker.sign_in(&reader).await;
    let res = looker.get("/console/keys").await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("keys.manage"));
}

/// In a browser: a key made from the console, shown once with its copy
/// button, then revoked with a click; the API refuses it afterwards.
#[tokio::test]
async fn in_a_browser_a_key_is_made_copied_and_revoked() {
    use crate::browser::Chrome;
    use std::time::Duration;
    let Some(chrome) = Chrome::start(1280, 900).await else {
        return;
    };
    let app = TestApp::start().await;
    chrome.sign_in(&app.url, &app.key).await;
    chrome.goto(&format!("{}/console/keys", app.url)).await;
    let make = chrome
        .wait_for("form.new-key button[type=submit]", Duration::from_secs(5))
        .await;
    chrome.click(&make).await;
    let shown = chrome.wait_for("#new-key", Duration::from_secs(10)).await;
    let secret = chrome.text(&shown).await;
    assert!(secret.starts_with("mk_live_"), "{secret}");
    let copy = chrome.try_find("button[data-copy=new-key]").await.unwrap();
    chrome.click(&copy).await;
    let said = chrome.text(&copy).await;
    assert!(said == "Copied" || said == "Select and copy it", "{said}");
    if let Some(dir) = screenshot_dir() {
        chrome.screenshot(&dir.join("console-keys.png")).await;
    }
    let ok = |key: String| {
        let app = &app;
        async move {
            app.get(&key, "/api/external/models")
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(ok(secret.clone()).await, 200);
    let key_id = secret
        .trim_start_matches("mk_live_")
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let revoke = chrome
        .try_find(&format!(
            "tr[data-key-id=\"{key_id}\"] button[data-action=revoke]"
        ))
        .await
        .expect("a revoke button on the new key's row");
    chrome.click(&revoke).await;
    // The page that answers the revoke has no revoke button on that row (each
    // look is a fresh query: the page before the click is gone).
    let active = format!("tr[data-key-id=\"{key_id}\"] button[data-action=revoke]");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while chrome.try_find(&active).await.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the key's row shows it revoked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = chrome
        .wait_for(
            &format!("tr[data-key-id=\"{key_id}\"]"),
            Duration::from_secs(10),
        )
        .await;
    assert!(chrome.text(&row).await.contains("Revoked"));
    assert_eq!(ok(secret).await, 401);
    chrome.quit().await;
}
