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
    assert!(String::from_utf8_lossy(&seed.stdout).contains("3 telecaller(s)"));
    let again = talktime(&["seed", "--demo"], &env);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 plan(s), 0 telecaller(s), 0 admin(s)"));
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
fn a_reachable_address_with_development_secrets_refuses_to_start_and_says_which() {
    let output = talktime(&["serve"], &[("BIND_ADDR", "0.0.0.0:0"), ("JWT_SECRET", "")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for named in ["BIND_ADDR 0.0.0.0:0", "JWT_SECRET", "PAYMENT_GATEWAY", "APP_ENV=development"] {
        assert!(stderr.contains(named), "{named} missing from:\n{stderr}");
    }
}

#[tokio::test]
async fn import_loads_an_export_of_the_earlier_backend_once_and_the_books_balance() {
    let database = TestDatabase::new().await.unwrap();
    let env = [("DATABASE_URL", database.url.as_str())];
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
