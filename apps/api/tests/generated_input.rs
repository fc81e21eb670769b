//! Generated input against every REST operation: schemathesis (installed by
//! `scripts/dev-fuzz.sh`) runs with every check on against the real server, once per role, and
//! must report no failure: no 5xx, every answer's status, content type and body as documented,
//! schema-valid input accepted and schema-invalid input refused with a 4xx.

// Its own test binary, on purpose: it runs a CPU-heavy outside fuzzer for over a minute, and the
// other black-box tests (cross-node cache coherence, timing of pushes) would share 2 cores with
// it. Test binaries run one after another, so this one runs alone.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "api/support/mod.rs"]
mod support;

use std::path::PathBuf;

use support::{TestApp, spawn_app_with};

const PANEL: &str = "http://panel.example";

/// The `st` program: `SCHEMATHESIS`, else the virtualenv `scripts/dev-fuzz.sh` makes.
fn schemathesis() -> PathBuf {
    std::env::var_os("SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/schemathesis/bin/st"))
}

/// Signing out and deleting the account end the session every other operation is tested with,
/// so they run apart, last.
const SIGN_OUT: &str = "/logout$";
const DELETION: &str = "DELETE /users/me";

/// Which operations a run covers.
enum Scope {
    AllButSessionEnders,
    SignOut,
    Deletion,
}

/// Runs schemathesis with `headers` as credentials; panics with its report when anything failed.
async fn fuzz(app: &TestApp, role: &str, scope: Scope, headers: &[String]) {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let report = std::env::temp_dir().join(format!("talktime-schemathesis-{role}-{}", app.port));
    let mut command = std::process::Command::new(schemathesis());
    command
        .current_dir(&here)
        .args(["--config-file", "schemathesis.toml", "--no-color", "run", &app.url("/openapi.json")])
        // One worker: Hypothesis's module-constant cache is not thread-safe, and two workers
        // sharing it fail now and then with a KeyError inside Hypothesis itself.
        .args(["--checks", "all", "--workers", "1", "--report-dir"])
        .arg(&report);
    match scope {
        Scope::AllButSessionEnders => command.args(["--exclude-path-regex", SIGN_OUT, "--exclude-name", DELETION]),
        Scope::SignOut => command.args(["--include-path-regex", SIGN_OUT]),
        Scope::Deletion => command.args(["--include-name", DELETION]),
    };
    // Extra arguments when investigating (`--include-path /users/calls --report har`, say).
    if let Ok(extra) = std::env::var("SCHEMATHESIS_ARGS") {
        command.args(extra.split_whitespace());
    }
    for header in headers {
        command.arg("--header").arg(header);
    }
    // The server answers on this process's runtime: wait for schemathesis off it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {} (run scripts/dev-fuzz.sh): {e}", schemathesis().display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis as {role} found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Warnings (operations this role may not use, rate limits) are fine; a failed phase is not.
    assert!(!stdout.contains('❌'), "schemathesis as {role} reported a failure:\n{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_generated_input_as_documented() {
    // Generous per-network budgets: the run should reach the handlers, not the limiter.
    let app = spawn_app_with(&[
        ("RATE_LIMIT_LOGIN_PER_IP", "100000"),
        ("RATE_LIMIT_ADMIN_SIGN_IN_PER_IP", "100000"),
        ("SMS_MAX_PER_HOUR_PER_NETWORK", "100000"),
        ("OTP_TEST_NUMBERS", "9000000001:123456"),
        ("CORS_ALLOWED_ORIGINS", PANEL),
    ])
    .await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    let admin = app.admin_session().await;
    let bearer = |token: &str| vec![format!("Authorization: Bearer {token}")];
    // The panel's way: the cookie, from its origin. Schemathesis replaces one credential at a time
    // to check that a bad one is refused; with a valid bearer beside a bad cookie the bearer
    // would rightly win.
    let panel = vec![format!("Cookie: {}", admin.cookie), format!("Origin: {PANEL}")];
    for token in [&user.token, &telecaller.token, &admin.token] {
        longest_strings(&app, token).await;
    }
    fuzz(&app, "user", Scope::AllButSessionEnders, &bearer(&user.token)).await;
    fuzz(&app, "telecaller", Scope::AllButSessionEnders, &bearer(&telecaller.token)).await;
    fuzz(&app, "admin", Scope::AllButSessionEnders, &panel).await;
    // The sessions lived through the runs (so every operation was reached as its role).
    app.get_auth("/users/me", &user.token).await.assert(200);
    app.get_auth("/users/me", &telecaller.token).await.assert(200);
    app.get_auth("/admin/config", &admin.token).await.assert(200);
    fuzz(&app, "user-sign-out", Scope::SignOut, &bearer(&user.token)).await;
    fuzz(&app, "admin-sign-out", Scope::SignOut, &panel).await;
    let leaving = app.user().await;
    fuzz(&app, "deletion", Scope::Deletion, &bearer(&leaving.token)).await;
    app.assert_books_balance().await;
}

/// A value a property's schema accepts as far as its type goes (the rules it cannot express may
/// still refuse it with a 4xx).
fn plausible(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.iter().find(|v| !v.is_null())) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").cloned().unwrap_or(Value::Null),
        kind => kind.clone(),
    };
    match kind.as_str() {
        Some("string") => Value::String("a".repeat(schema["minLength"].as_u64().unwrap_or(1).max(1) as usize)),
        Some("integer" | "number") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("boolean") => json!(true),
        Some("array") => json!([]),
        _ => json!({}),
    }
}

/// Every string property of every JSON body, at exactly its documented maximum length of random
/// text, the other properties plausible: whatever the server answers, it is not a 5xx.
/// (Hypothesis rarely draws a string that long, and one of repeated characters compresses under
/// Postgres's index limit, so a long random token once answered 500 unnoticed.)
async fn longest_strings(app: &TestApp, token: &str) {
    use serde_json::Value;
    let document: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let schemas = &document["components"]["schemas"];
    let resolve = |schema: &Value| -> Value {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => schemas[name].clone(),
            None => schema.clone(),
        }
    };
    let mut tried = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            // The session enders run last, on their own (see `fuzz`).
            if path.ends_with("/logout") || (method == "delete" && path == "/users/me") {
                continue;
            }
            let body = resolve(&operation["requestBody"]["content"]["application/json"]["schema"]);
            let Some(properties) = body["properties"].as_object() else { continue };
            let base: serde_json::Map<String, Value> =
                properties.iter().map(|(name, schema)| (name.clone(), plausible(&resolve(schema)))).collect();
            let url = app.url(
                &path
                    .split('/')
                    .map(|part| if part.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { part.to_owned() })
                    .collect::<Vec<_>>()
                    .join("/"),
            );
            for (name, schema) in properties {
                let Some(max) = resolve(schema)["maxLength"].as_u64() else { continue };
                let mut request = base.clone();
                request.insert(name.clone(), Value::String(support::random_text(max as usize)));
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let reply = app
                    .client
                    .request(method.clone(), &url)
                    .bearer_auth(token)
                    .header("x-forwarded-for", support::fresh_ip())
                    .json(&request)
                    .send()
                    .await
                    .unwrap();
                let status = reply.status();
                assert!(
                    status.as_u16() < 500,
                    "{method} {path} answered {status} to `{name}` of {max} random characters: {}",
                    reply.text().await.unwrap_or_default()
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 10, "only {tried} bounded strings found in the document");
}
