//! The `talktime` binary: production refusal, migrations, demo seed, `admin add` and `import`.

use std::process::{Command, Output};

use talktime_repository::testing::TestDatabase;

fn talktime(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_talktime"));
    command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    // Run from a directory without a .env file.
    command.current_dir(std::env::temp_dir());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run talktime")
}

#[test]
fn production_without_secrets_refuses_to_start_and_names_every_missing_setting() {
    let output = talktime(&["serve"], &[("APP_ENV", "production")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in [
        "DATABASE_URL",
        "JWT_SECRET",
        "SECRETS_KEY",
        "PAYMENT_GATEWAY",
        "RAZORPAY_KEY_ID",
        "SMS_PROVIDER",
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
        "GOOGLE_CLIENT_IDS",
    ] {
        assert!(stderr.contains(name), "{name} missing from:\n{stderr}");
    }
}

#[tokio::test]
async fn migrate_seed_and_admin_add() {
    let database = TestDatabase::new().await.unwrap();
    let env = [("DATABASE_URL", database.url.as_str())];

    let migrate = talktime(&["migrate"], &env);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));

    let seed = talktime(&["seed", "--demo"], &env);
    assert!(seed.status.success(), "{}", String::from_utf8_lossy(&seed.stderr));
    assert!(String::from_utf8_lossy(&seed.stdout).contains("3 telecaller(s), 4 gift(s)"));
    let again = talktime(&["seed", "--demo"], &env);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 plan(s), 0 telecaller(s), 0 gift(s), 0 admin(s)"));
    let plans = talktime_repository::plans::list_active(database.db.pool()).await.unwrap();
    assert_eq!(plans.len(), 4);
    let telecaller =
        talktime_repository::accounts::find_by_phone(database.db.pool(), "9000000101").await.unwrap().unwrap();
    assert_eq!(telecaller.approval_status(), Some(talktime_domain::account::ApprovalStatus::Approved));

    let add = talktime(&["admin", "add", "--email", "Boss@Example.com", "--name", "The Boss"], &env);
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let admin = talktime_repository::admins::find_by_email(database.db.pool(), "boss@example.com").await.unwrap();
    assert_eq!(admin.map(|a| a.name), Some("The Boss".to_owned()));
    let duplicate = talktime(&["admin", "add", "--email", "boss@example.com", "--name", "Again"], &env);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
}

#[test]
fn without_app_env_the_server_is_production_even_on_loopback_and_names_what_it_lacks() {
    let output = talktime(&["serve"], &[("BIND_ADDR", "127.0.0.1:0"), ("DATABASE_URL", "postgres://127.0.0.1/none")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for named in
        ["APP_ENV is not set", "JWT_SECRET", "SECRETS_KEY", "PAYMENT_GATEWAY", "SMS_PROVIDER", "LIVEKIT_API_KEY"]
    {
        assert!(stderr.contains(named), "{named} missing from:\n{stderr}");
    }
}

#[test]
fn an_exposed_development_server_needs_allow_exposed_development() {
    let output = talktime(&["serve"], &[("APP_ENV", "development"), ("BIND_ADDR", "0.0.0.0:0")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for named in
        ["BIND_ADDR 0.0.0.0:0", "ALLOW_EXPOSED_DEVELOPMENT", "JWT_SECRET", "PAYMENT_GATEWAY", "/admin/auth/dev"]
    {
        assert!(stderr.contains(named), "{named} missing from:\n{stderr}");
    }
}

/// A `.env` in a folder above is never read; the working directory's is, and the log names it.
#[test]
fn only_the_working_directorys_env_file_is_read_and_it_is_logged() {
    let root = std::env::temp_dir().join(format!("tt-dotenv-{}", std::process::id()));
    let below = root.join("app");
    std::fs::create_dir_all(&below).unwrap();
    // Were it read, this would start a development server (failing fast on the closed database
    // port rather than serving).
    std::fs::write(
        root.join(".env"),
        "APP_ENV=development\nBIND_ADDR=127.0.0.1:0\nDATABASE_URL=postgres://127.0.0.1:9/none\n",
    )
    .unwrap();

    let run_in = |dir: &std::path::Path| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_talktime"));
        command.arg("serve").env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        command.current_dir(dir).output().expect("run talktime")
    };
    let from_below = run_in(&below);
    assert_eq!(from_below.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&from_below.stderr);
    assert!(stderr.contains("APP_ENV is not set"), "the .env one folder up was read:\n{stderr}");

    // In the working directory: read, and named in the log (the exposed address then refuses).
    std::fs::write(below.join(".env"), "APP_ENV=development\nBIND_ADDR=0.0.0.0:0\n").unwrap();
    let here = run_in(&below);
    let stdout = String::from_utf8_lossy(&here.stdout);
    assert!(stdout.contains(&below.join(".env").display().to_string()), "the log names the file:\n{stdout}");
    assert!(String::from_utf8_lossy(&here.stderr).contains("ALLOW_EXPOSED_DEVELOPMENT"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn import_loads_an_export_of_the_earlier_backend_once_and_the_books_balance() {
    let database = TestDatabase::new().await.unwrap();
    // The import reads SECRETS_KEY (deleted accounts' phones): production would require it.
    let env = [("APP_ENV", "development"), ("DATABASE_URL", database.url.as_str())];
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/legacy-users.jsonl");

    let first = talktime(&["import", "--accounts", sample], &env);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout}{}", String::from_utf8_lossy(&first.stderr));
    assert!(stdout.contains("imported 3 accounts (2050 coins of opening balances)"), "{stdout}");
    assert!(stdout.contains("line 4: phone `98111` is not 10 to 15 digits"), "{stdout}");
    assert!(stdout.contains("the books balance"), "{stdout}");

    let pool = database.db.pool();
    let user = talktime_repository::accounts::find_by_phone(pool, "9811100001").await.unwrap().unwrap();
    assert_eq!(user.name.as_deref(), Some("Ravi Kumar"));
    assert_eq!(talktime_repository::ledger::wallet_balance(pool, user.id).await.unwrap(), 250);
    let telecaller = talktime_repository::accounts::find_by_phone(pool, "9811100002").await.unwrap().unwrap();
    assert_eq!(telecaller.approval_status(), Some(talktime_domain::account::ApprovalStatus::Approved));
    assert_eq!(talktime_repository::ledger::wallet_balance(pool, telecaller.id).await.unwrap(), 1_800);
    let blocked = talktime_repository::accounts::find_by_phone(pool, "9811100003").await.unwrap().unwrap();
    assert_eq!(blocked.status, talktime_domain::account::AccountStatus::Suspended);

    // Again: nothing is loaded twice.
    let again = talktime(&["import", "--accounts", sample], &env);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("imported 0 accounts (0 coins of opening balances); 3 already imported"), "{stdout}");
    assert_eq!(talktime_repository::ledger::wallet_balance(pool, user.id).await.unwrap(), 250);
    talktime_repository::testing::assert_books_balance(&database.db).await;
}

/// A phone whose Talktime account was deleted is never brought back by `talktime import`, even
/// under another id from the earlier backend.
#[tokio::test]
async fn import_never_brings_back_a_deleted_accounts_phone() {
    let app = crate::support::spawn_app().await;
    let user = app.user().await;
    app.delete_auth("/users/me", &user.token).await.assert(200);
    let export = std::env::temp_dir().join(format!("tt-import-{}.jsonl", user.id));
    std::fs::write(
        &export,
        format!(
            r#"{{"_id":{{"$oid":"65f0c2a1b2c3d4e5f6a7b8d0"}},"phone":"{}","name":"Ravi Kumar","role":"USER","accountStatus":"ACTIVE","wallet":{{"balance":50}}}}"#,
            user.phone
        ) + "\n",
    )
    .unwrap();
    let env = [("APP_ENV", "development"), ("DATABASE_URL", app.db_url.as_str())];
    let output = talktime(&["import", "--accounts", export.to_str().unwrap()], &env);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("imported 0 accounts"), "{stdout}");
    assert!(stdout.contains("belonged to a deleted account"), "{stdout}");
    assert!(talktime_repository::accounts::find_by_phone(app.db.pool(), &user.phone).await.unwrap().is_none());
    std::fs::remove_file(export).unwrap();
    app.assert_books_balance().await;
}

/// Production with a LiveKit server but without its webhooks, and without a way to protect
/// `/metrics`, refuses to start and names both.
#[test]
fn production_needs_livekit_webhooks_and_protected_metrics() {
    let key = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let env = [
        ("APP_ENV", "production"),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("DATABASE_URL", "postgres://127.0.0.1/none"),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef-production"),
        ("SECRETS_KEY", key),
        ("PAYMENT_GATEWAY", "razorpay"),
        ("RAZORPAY_KEY_ID", "rzp_live_x"),
        ("RAZORPAY_KEY_SECRET", "s"),
        ("RAZORPAY_WEBHOOK_SECRET", "w"),
        ("SMS_PROVIDER", "webhook"),
        ("SMS_WEBHOOK_URL", "http://127.0.0.1:9/sms"),
        ("LIVEKIT_URL", "wss://media.example.com"),
        ("LIVEKIT_API_KEY", "APIproduction"),
        ("LIVEKIT_API_SECRET", "a-long-livekit-secret"),
        ("GOOGLE_CLIENT_IDS", "a.apps.googleusercontent.com"),
    ];
    let output = talktime(&["serve"], &env);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LIVEKIT_WEBHOOK_ENABLED"), "{stderr}");
    assert!(stderr.contains("METRICS_TOKEN"), "{stderr}");
    assert!(!stderr.contains("JWT_SECRET"), "only what is missing is named: {stderr}");
}
