//! Logging: JSON lines in production, readable lines in development; `RUST_LOG` filters.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only on a terminal: a log file gets plain text that grep finds.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi);
    // A second initialisation (tests) is harmless, so its error is ignored.
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}
