//! `talktime serve | migrate | seed --demo | admin add --email --name | import --accounts FILE`.

use clap::{Parser, Subcommand};
use talktime_repository::{Db, admins, seed};

use crate::config::Settings;
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(name = "talktime", version, about = "Talktime API server and operator commands")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP and WebSocket (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Development only: seed the demo data, serve, and keep the demo telecallers online (bots on
    /// the real WebSocket endpoint that answer calls after a short ring and hang up later).
    Demo,
    /// Insert demo data: plans, prices, approved telecallers and an admin. Safe to repeat.
    Seed {
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Load accounts, telecaller applications and wallet balances exported from the earlier
    /// backend (JSON lines, `-` for standard input); safe to run again (docs/migrating.md).
    Import {
        #[arg(long)]
        accounts: String,
    },
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator who can then sign in with Google using this e-mail address.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

/// Reads `.env` from the working directory only, never from a folder above (a forgotten
/// development `.env` there must not configure a server); its path is logged once logging is set
/// up. A missing `.env` is normal (production uses real environment variables); a malformed one
/// stops the start.
fn load_env_file() -> Result<Option<std::path::PathBuf>, Box<dyn std::error::Error>> {
    match dotenvy::from_path(".env") {
        Ok(()) => Ok(Some(std::path::absolute(".env")?)),
        Err(error) if error.not_found() => Ok(None),
        Err(error) => Err(format!("cannot read .env: {error}").into()),
    }
}

/// Runs a command with the settings of the environment (and `.env`).
pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let env_file = load_env_file()?;
    let serving = |env_file| -> Result<Settings, Box<dyn std::error::Error>> {
        let settings = Settings::from_env()?;
        crate::telemetry::init(settings.is_production());
        log_env_file(env_file);
        settings.refuse_exposed_development()?;
        Ok(settings)
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let settings = serving(env_file)?;
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "talktime listening");
            app.run_until_stopped().await?;
        }
        Command::Demo => {
            let settings = serving(env_file)?;
            if settings.is_production() {
                return Err("talktime demo is for development only (set APP_ENV=development)".into());
            }
            let demo = settings.demo;
            let tokens = talktime_services::tokens::TokenIssuer::new(
                settings.auth.jwt_secret.expose().as_bytes(),
                settings.auth.jwt_ttl,
            );
            let app = Application::build(settings).await?;
            println!("{}", seed::demo(app.db()).await?);
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], app.port()));
            let hosts = crate::demo::run_hosts(addr, app.db(), &tokens, demo).await?;
            tracing::info!(port = app.port(), hosts, "talktime demo: open http://127.0.0.1:{}/console", app.port());
            app.run_until_stopped().await?;
        }
        operator => operate(operator, env_file).await?,
    }
    Ok(())
}

fn log_env_file(env_file: Option<std::path::PathBuf>) {
    match env_file {
        Some(path) => tracing::info!(path = %path.display(), "settings read from the environment and this .env file"),
        None => tracing::info!("settings read from the environment (no .env file in the working directory)"),
    }
}

/// The operator commands: they need the database only, so a migration job needs no secrets.
async fn operate(command: Command, env_file: Option<std::path::PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let (env, database) = Settings::database_from_vars(std::env::vars())?;
    crate::telemetry::init(env == crate::config::AppEnv::Production);
    log_env_file(env_file);
    let connect = || Db::connect(&database.url, 2);
    match command {
        Command::Serve | Command::Demo => return Err("not an operator command".into()),
        Command::Migrate => {
            connect().await?.migrate().await?;
            println!("migrations applied");
        }
        Command::Seed { .. } => {
            let db = connect().await?;
            db.migrate().await?;
            let report = seed::demo(&db).await?;
            println!("{report}");
        }
        Command::Import { accounts } => {
            // The key that recognises deleted accounts' phones (never brought back).
            let key = Settings::secrets_key_from_vars(std::env::vars())?;
            let phones = talktime_services::secrets::PhoneDigests::new(key.expose());
            let db = connect().await?;
            db.migrate().await?;
            let report = if accounts == "-" {
                talktime_services::import::import_accounts(&db, &phones, std::io::stdin().lock()).await?
            } else {
                let file = std::fs::File::open(&accounts).map_err(|e| format!("cannot read {accounts}: {e}"))?;
                talktime_services::import::import_accounts(&db, &phones, std::io::BufReader::new(file)).await?
            };
            print!("{report}");
            let books = talktime_services::ledger::books(&db).await?;
            if !books.balanced() {
                return Err(format!("the books do not balance after the import: {books:?}").into());
            }
            println!("the books balance");
        }
        Command::Admin { command: AdminCommand::Add { email, name } } => {
            let email = email.trim().to_lowercase();
            if !email.contains('@') || name.trim().is_empty() {
                return Err("admin add needs a valid --email and a non-empty --name".into());
            }
            let db = connect().await?;
            db.migrate().await?;
            match admins::create(db.pool(), &email, &name).await {
                Ok(admin) => println!("admin {} <{}> created ({})", admin.name, admin.email, admin.id),
                Err(error) if error.is_unique(admins::EMAIL_KEY) => {
                    return Err(format!("an admin with e-mail {email} already exists").into());
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}
