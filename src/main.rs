//! The `cxpipe` binary: parse arguments, run, print the error with its causes, exit with the
//! documented code (README "Exit codes").

use clap::Parser;

// See Cargo.toml: a lower peak and less time in the allocator than the system's.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read once at start-up (`_rjem_` is the prefix of the jemalloc that
/// tikv-jemallocator builds). `oversize_threshold:0`: allocations of 8 MiB and more (hash
/// tables, large batches) share the arenas of the others instead of one that hands every page
/// back to the system as soon as it is freed; the pages of the next large allocation were then
/// faulted in again. A full run spent 0.6-0.9 s less in the kernel (0.15-0.46 s less wall time
/// in nine of ten alternating pairs) for a peak RSS of 1.2 instead of 0.8 GiB.
#[repr(transparent)]
pub struct MallocConf(*const std::ffi::c_char);
// SAFETY: the pointer is to a static C string that nothing writes.
unsafe impl Sync for MallocConf {}
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: MallocConf = MallocConf(c"oversize_threshold:0".as_ptr());

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
