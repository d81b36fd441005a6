//! The `cxpipe` binary: parse arguments, run, print the error with its causes, exit with the
//! documented code (README "Exit codes").

use clap::Parser;

// See Cargo.toml: a lower peak and less time in the allocator than the system's.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = cxpipe::cli::Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // Ballista decodes plans recursively: deep plans need deep stacks (as its own binaries do).
    #[cfg(feature = "ballista")]
    builder.thread_stack_size(32 * 1024 * 1024);
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cxpipe: error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(cxpipe::ExitCode::Failure as u8);
        }
    };
    match runtime.block_on(cxpipe::commands::dispatch(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cxpipe: error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::ExitCode::from(error.exit_code() as u8)
        }
    }
}
