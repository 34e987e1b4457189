//! Live events of a batch: a client connected to one API process sees every
//! change a worker elsewhere makes, then the batch's end; it can resume.

use mannequin::keys::Scope;
use serde_json::Value;

use crate::helpers::{TestApp, expect_error};

#[derive(Debug, Clone)]
pub(super) struct Sse {
    pub id: String,
    pub event: String,
    pub data: Value,
}

/// Reads events from `res` until `until` is seen or the stream ends.
pub(super) async fn read_until(
    stream: &mut reqwest::Response,
    buf: &mut String,
    until: &str,
) -> Vec<Sse> {
    let mut out = Vec::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if event.is_empty() {
                continue; // a keep-alive comment
            }
            let done = event == until;
            out.push(Sse {
                id,
                event,
                data: serde_json::from_str(&data).unwrap(),
            });
            if done {
                return out;
            }
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(20), stream.chunk())
            .await
            .expect("an event within 20 s")
            .unwrap();
        match chunk {
            Some(bytes) => buf.push_str(std::str::from_utf8(&bytes).unwrap()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn a_client_on_one_api_process_sees_every_change_a_worker_makes() {
    let app = TestApp::start().await;
    let registered = app.register_ok(&app.key, "woman, casual", 2).await;
    let batch = registered["batchId"].as_str().unwrap().to_string();
    // The client talks to another API process; the worker runs in this one.
    let api = app.another_api(&[]).await;
    let url = format!("{}/api/external/batches/{batch}/events", api.base_url());
    let res = app
        .client
        .get(&url)
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = res;
    let mut buf = String::new();
    // First every model's state as it is.
    let first = read_until(&mut stream, &mut buf, "model.pending").await;
    let mut seen = first.clone();
    if seen.iter().filter(|e| e.event == "model.pending").count() < 2 {
        seen.extend(read_until(&mut stream, &mut buf, "model.pending").await);
    }
    assert_eq!(
        seen.iter().filter(|e| e.event == "model.pending").count(),
        2,
        "{seen:?}"
    );

    app.drain().await;
    let rest = read_until(&mut stream, &mut buf, "batch.completed").await;
    let completed: Vec<&Sse> = rest
        .iter()
        .filter(|e| e.event == "model.completed")
        .collect();
    assert_eq!(completed.len(), 2, "{rest:?}");
    for e in &completed {
        assert_eq!(e.data["status"], "DONE");
        assert!(e.data["thumbnail"].as_str().is_some());
        assert!(e.id.parse::<i64>().is_ok());
    }
    let end = rest.last().unwrap();
    assert_eq!(end.event, "batch.completed");
    assert_eq!(end.data["statuses"]["DONE"], 2);
    assert_eq!(end.data["creditsConsumed"], 20);
    assert!(end.data["finishedAt"].as_str().is_some());
    // The stream ends after the batch's end.
    assert!(read_until(&mut stream, &mut buf, "never").await.is_empty());

    // A client that lost the stream resumes from its last event id: it is
    // told the states since then and the end again, nothing older.
    let resumed = app
        .client
        .get(&url)
        .header("X-Api-Key", &app.key)
        .header("Last-Event-ID", &completed[0].id)
        .send()
        .await
        .unwrap();
    let mut stream = resumed;
    let mut buf = String::new();
    let again = read_until(&mut stream, &mut buf, "batch.completed").await;
    assert_eq!(again.last().unwrap().event, "batch.completed");
    assert!(
        again.iter().any(|e| e.event == "model.completed"),
        "{again:?}"
    );
    app.audit().await;
}

#[tokio::test]
async fn only_the_accounts_own_batches_stream() {
    let app = TestApp::start().await;
    let registered = app.register_ok(&app.key, "man, casual", 1).await;
    let path = format!(
        "{}/api/external/batches/{}/events",
        app.url,
        registered["batchId"].as_str().unwrap()
    );
    let (_, other) = app.account(100, &Scope::ALL).await;
    let res = app
        .client
        .get(&path)
        .header("X-Api-Key", &other)
        .send()
        .await
        .unwrap();
    expect_error(res, 404, "not_found").await;
    let bad = format!("{}/api/external/batches/nope/events", app.url);
    let res = app
        .client
        .get(&bad)
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_id").await;
    let (_, register_only) = app.account(100, &[Scope::Register]).await;
    let res = app
        .client
        .get(&path)
        .header("X-Api-Key", &register_only)
        .send()
        .await
        .unwrap();
    expect_error(res, 403, "missing_scope").await;
}
