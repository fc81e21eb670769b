use std::process::ExitCode;

use clap::Parser;

/// mimalloc packs the many small per-socket allocations without glibc's per-chunk headers and
/// arena fragmentation: an idle socket costs ~5 KiB of RSS instead of ~9 (docs/benchmarks.md).
/// It builds with the C compiler alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match talktime_api::cli::run(talktime_api::cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
