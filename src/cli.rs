//! Command-line arguments, raw: clap parses them and fills gaps from `CXPIPE_*` environment
//! variables. Turning them into typed settings is `config`'s job; running them is `commands`'.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cxpipe",
    version,
    about = "Nightly customer-experience reporting: touchpoints in, CX tables and an executive report out"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every model for one date, write the tables, manifest and report, publish.
    Run(RunArgs),
    /// Load and order the project's models without reading data.
    Check(ProjectArgs),
    /// List the models in run order with their dependencies.
    List(ProjectArgs),
    /// Write synthetic touchpoints in the input layout (deterministic for a seed).
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Folder of the models (*.sql).
    #[arg(long, env = "CXPIPE_QUERIES", default_value = "queries")]
    pub queries: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Where touchpoints/date=YYYY-MM-DD/*.parquet live: a path, file://, s3://, gs://, az://, memory://.
    #[arg(long, env = "CXPIPE_INPUT")]
    pub input: String,
    /// Where runs/<date>/ and latest.json are written (same URL forms as --input).
    #[arg(long, env = "CXPIPE_OUTPUT")]
    pub output: String,
    /// The last day the run covers (YYYY-MM-DD, UTC). Default: yesterday.
    #[arg(long, env = "CXPIPE_DATE")]
    pub date: Option<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Folder of the report templates.
    #[arg(long, env = "CXPIPE_REPORTS", default_value = "reports")]
    pub reports: PathBuf,
    /// Memory DataFusion may use before spilling to disk, e.g. 2GiB. Default: unbounded.
    #[arg(long, env = "CXPIPE_MEMORY_LIMIT")]
    pub memory_limit: Option<String>,
    /// Parallelism (default: number of cores).
    #[arg(long, env = "CXPIPE_THREADS")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Where to write touchpoints/date=YYYY-MM-DD/part-0.parquet.
    #[arg(long)]
    pub output: String,
    /// Identified customers (about 0.6 as many anonymous prospects come on top).
    #[arg(long, default_value_t = 2000)]
    pub customers: usize,
    /// Days of history, ending at --end.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// The last day (YYYY-MM-DD). Default: yesterday.
    #[arg(long)]
    pub end: Option<String>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
