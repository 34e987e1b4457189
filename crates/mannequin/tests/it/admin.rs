//! `mannequin admin` as an operator runs it: on the right database only,
//! with help for every command, disabling and enabling an account.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::process::{Server, admin, status_with_key};

const BIN: &str = env!("CARGO_BIN_EXE_mannequin");

/// Runs `mannequin <args>`: exit code, stdout as JSON (or null), stderr.
fn run(args: &[&str], data: Option<&Path>) -> (i32, Value, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("MANNEQUIN_LOG", "warn");
    if let Some(data) = data {
        cmd.arg("--data-dir").arg(data);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn admin_refuses_a_database_that_holds_no_mannequin_schema() {
    let dir = tempfile::tempdir().unwrap();
    // A mistyped data directory: refused, and nothing is created there.
    let typo = dir.path().join("dta");
    for args in [
        &["admin", "account", "list"][..],
        &["admin", "audit"],
        &["admin", "credits", "show", "--account", "acct_x"],
    ] {
        let (code, out, err) = run(args, Some(&typo));
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        let message = out["error"].as_str().unwrap();
        assert!(message.contains("holds no mannequin database"), "{message}");
        assert!(message.contains("--create"), "{message}");
        assert!(err.contains("holds no mannequin database"), "{err}");
    }
    assert!(!typo.exists(), "a refused command created {typo:?}");

    // A SQLite file that is not mannequin's is refused too, and left as it was.
    std::fs::create_dir_all(&typo).unwrap();
    let other = typo.join("mannequin.db");
    std::fs::write(&other, b"").unwrap();
    let (code, ..) = run(&["admin", "account", "list"], Some(&typo));
    assert_eq!(code, 2);
    assert_eq!(std::fs::metadata(&other).unwrap().len(), 0);
    std::fs::remove_dir_all(&typo).unwrap();

    // With --create it is made; then the commands work without it.
    let (code, out, err) = run(
        &["admin", "account", "create", "--name", "North", "--create"],
        Some(&typo),
    );
    assert_eq!(code, 0, "{out} {err}");
    let (code, out, _) = run(&["admin", "account", "list"], Some(&typo));
    assert_eq!(code, 0);
    assert_eq!(out["accounts"].as_array().unwrap().len(), 1);
    // An unknown account is an ordinary failure (1), not a usage error.
    let (code, ..) = run(
        &["admin", "credits", "show", "--account", "acct_nobody"],
        Some(&typo),
    );
    assert_eq!(code, 1);
}

#[tokio::test]
async fn admin_refuses_a_postgres_database_without_the_schema() {
    let Some(db) = crate::services::TestDatabase::create().await else {
        return;
    };
    let url = db.url.as_str();
    let (code, out, _) = run(&["admin", "account", "list", "--database-url", url], None);
    assert_eq!(code, 2, "{out}");
    // The message names the database (its URL, with any password hidden).
    let message = out["error"].as_str().unwrap();
    assert!(message.contains("holds no mannequin database"), "{message}");
    let name = url.rsplit('/').next().unwrap();
    assert!(message.contains(name), "{message}");
    let (code, out, _) = run(
        &[
            "admin",
            "account",
            "create",
            "--name",
            "N",
            "--database-url",
            url,
            "--create",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let (code, ..) = run(&["admin", "account", "list", "--database-url", url], None);
    assert_eq!(code, 0);
}

#[test]
fn every_command_explains_itself_and_a_worker_shows_only_its_settings() {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    // Each subcommand listed has a line of help beside its name.
    for group in [
        &["admin"][..],
        &["admin", "account"],
        &["admin", "key"],
        &["admin", "credits"],
    ] {
        let text = help(group);
        let commands: Vec<&str> = text
            .split("Commands:")
            .nth(1)
            .unwrap()
            .split("Options:")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(commands.len() >= 2, "{text}");
        for line in commands {
            let mut words = line.split_whitespace();
            let name = words.next().unwrap();
            assert!(
                words.next().is_some(),
                "`{group:?} {name}` has no help: {text}"
            );
        }
    }
    for leaf in [
        &["admin", "account", "disable"][..],
        &["admin", "key", "list"],
        &["admin", "ledger"],
    ] {
        let text = help(leaf);
        assert!(text.contains("--account"), "{text}");
        assert!(text.contains("--create"), "{text}");
    }
    let worker = help(&["worker"]);
    let serve = help(&["serve"]);
    for api_only in [
        "--listen ",
        "--rate-limit",
        "--starter-credits",
        "--no-bootstrap",
        "--cors-origins",
        "--credits-per-model",
        "--no-worker",
        "--redis-url",
    ] {
        assert!(!worker.contains(api_only), "worker --help shows {api_only}");
        assert!(serve.contains(api_only), "serve --help lacks {api_only}");
    }
    for shared in [
        "--generator ",
        "--queue",
        "--lease-ms",
        "--metrics-listen",
        "--database-url",
    ] {
        assert!(worker.contains(shared), "worker --help lacks {shared}");
        assert!(serve.contains(shared), "serve --help lacks {shared}");
    }
}

#[tokio::test]
async fn a_disabled_account_is_refused_and_its_queued_work_refunded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (ok, created) = admin(
        data,
        &[
            "account",
            "create",
            "--name",
            "Gone",
            "--credits",
            "100",
            "--create",
        ],
    );
    assert!(ok, "{created}");
    let account = created["accountId"].as_str().unwrap().to_string();
    let (_, other) = admin(
        data,
        &["account", "create", "--name", "Stays", "--credits", "100"],
    );
    let other = other["accountId"].as_str().unwrap().to_string();
    let key_of = |account: &str| {
        let (_, k) = admin(data, &["key", "create", "--account", account]);
        k["apiKey"].as_str().unwrap().to_string()
    };
    let (key, other_key) = (key_of(&account), key_of(&other));
    // No worker: what is registered stays queued.
    let server = Server::start(data, &["--no-worker"]);
    let client = mannequin::http_client().build().unwrap();
    let register = |key: String| {
        status_with_key(
            client
                .post(format!("{}/api/external/models/register-ideas", server.url))
                .json(&json!({"preferences": "casual", "count": 3})),
            key,
        )
    };
    let credits = |key: String| {
        status_with_key(
            client.get(format!("{}/api/external/credits", server.url)),
            key,
        )
    };
    assert_eq!(register(key.clone()).await, 200);
    assert_eq!(register(other_key.clone()).await, 200);

    let (ok, disabled) = admin(data, &["account", "disable", "--account", &account]);
    assert!(ok, "{disabled}");
    assert_eq!(disabled["cancelledModels"], 3);
    assert_eq!(disabled["refundedCredits"], 30);
    // The command waited out the servers' key cache: refused at once.
    assert_eq!(credits(key.clone()).await, 401);
    assert_eq!(register(key.clone()).await, 401);
    // Every credit is back; the other account is untouched.
    let (_, shown) = admin(data, &["credits", "show", "--account", &account]);
    assert_eq!(
        shown,
        json!({"available": 100, "reserved": 0, "consumed": 0})
    );
    let (_, shown) = admin(data, &["credits", "show", "--account", &other]);
    assert_eq!(
        shown,
        json!({"available": 70, "reserved": 30, "consumed": 0})
    );
    assert_eq!(credits(other_key.clone()).await, 200);
    let (_, listed) = admin(data, &["account", "list"]);
    let listed = listed["accounts"].as_array().unwrap();
    let gone = listed
        .iter()
        .find(|a| a["accountId"] == account.as_str())
        .unwrap();
    assert!(gone["disabledAt"].as_str().is_some(), "{gone}");
    let stays = listed
        .iter()
        .find(|a| a["accountId"] == other.as_str())
        .unwrap();
    assert!(stays.get("disabledAt").is_none(), "{stays}");

    // The ledger, newest first: the three refunds, then the reservation.
    let (ok, ledger) = admin(data, &["ledger", "--account", &account, "--limit", "4"]);
    assert!(ok, "{ledger}");
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund", "refund", "refund", "reserve"], "{ledger}");
    assert!(!admin(data, &["ledger", "--account", &account, "--limit", "0"]).0);

    // Its keys, without secrets.
    let (ok, keys) = admin(data, &["key", "list", "--account", &account]);
    assert!(ok);
    let keys_text = keys.to_string();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    assert!(keys["keys"][0]["keyId"].as_str().is_some());
    assert!(!keys_text.contains("mk_live_"), "{keys_text}");
    assert!(
        !keys_text.contains(key.split('.').nth(1).unwrap()),
        "{keys_text}"
    );
    assert!(!admin(data, &["key", "list", "--account", "acct_nobody"]).0);

    // Enabled again: the key works within the servers' key cache.
    assert!(admin(data, &["account", "enable", "--account", &account]).0);
    let enabled = Instant::now();
    while credits(key.clone()).await != 200 {
        assert!(
            enabled.elapsed() < Duration::from_secs(3),
            "still refused after enable"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(admin(data, &["audit"]).0);
}
