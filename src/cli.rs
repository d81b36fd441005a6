//! Command-line arguments, raw: what the user typed, nothing more. Environment variables, the
//! config file and defaults are layered in by `config`; running is `commands`' job.

use std::collections::BTreeMap;
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
    /// Run each date from --from to --to in order, skipping dates already published.
    Backfill(BackfillArgs),
    /// Print the effective configuration and where each value came from (secrets masked).
    Config(SettingsArgs),
    /// Parse and plan every model against the input schema, reading no data.
    Check(CheckArgs),
    /// Run the data tests against a published run's tables.
    Test(TestArgs),
    /// Write a static HTML page documenting every model, its columns, tests and lineage.
    Docs(DocsArgs),
    /// List the models in run order with their dependencies.
    List(SettingsArgs),
    /// Write synthetic touchpoints in the input layout (deterministic for a seed).
    Generate(GenerateArgs),
    /// Start a Ballista scheduler that runs cxpipe's models on its executors.
    #[cfg(feature = "ballista")]
    Scheduler(SchedulerArgs),
    /// Start a Ballista executor that registers with a scheduler and runs its tasks.
    #[cfg(feature = "ballista")]
    Executor(ExecutorArgs),
}

#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on, HOST:PORT.
    #[arg(long, default_value = "0.0.0.0:50050")]
    pub bind: String,
    /// Host name executors and clients use to reach this scheduler (default: the bind host).
    #[arg(long)]
    pub external_host: Option<String>,
    /// `GET /readyz` answers 200 once this many executors have registered.
    #[arg(long, default_value_t = 1)]
    pub min_executors: usize,
}

#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub scheduler: String,
    /// Address of this executor's Arrow Flight service (shuffle and results), HOST:PORT.
    #[arg(long, default_value = "0.0.0.0:50051")]
    pub bind: String,
    /// Port of the executor's gRPC service for tasks pushed by the scheduler (default: bind port + 1).
    #[arg(long)]
    pub grpc_port: Option<u16>,
    /// Host name the scheduler and other executors use to reach this one (default: the bind
    /// host, or the address the scheduler sees when binding 0.0.0.0).
    #[arg(long)]
    pub external_host: Option<String>,
    /// Tasks run at once (about the number of cores). Default: all cores.
    #[arg(long)]
    pub concurrent_tasks: Option<usize>,
    /// Folder for shuffle files and spills (fast local disk). Default: a temporary folder.
    #[arg(long)]
    pub work_dir: Option<std::path::PathBuf>,
    /// Memory for all running tasks before they spill, e.g. 8GiB. Default: 70% of the machine.
    #[arg(long)]
    pub memory_limit: Option<String>,
}

/// Settings shared by every command that reads the project or runs it. Each can also come from
/// `CXPIPE_<NAME>` or cxpipe.toml (see `cxpipe config`).
#[derive(Debug, Args, Default)]
pub struct SettingsArgs {
    /// Config file (default: ./cxpipe.toml when present; env CXPIPE_CONFIG).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where touchpoints/date=YYYY-MM-DD/*.parquet live: a path, file://, s3://, gs://, az://, memory://.
    #[arg(long)]
    pub input: Option<String>,
    /// Where runs/<date>/ and latest.json are written (same URL forms as --input).
    #[arg(long)]
    pub output: Option<String>,
    /// Folder of the models (*.sql). Default: queries.
    #[arg(long)]
    pub queries: Option<String>,
    /// Folder of the report templates. Default: reports.
    #[arg(long)]
    pub reports: Option<String>,
    /// Memory DataFusion may use before spilling to disk, e.g. 2GiB. Default: unbounded.
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// Parallelism. Default: number of cores.
    #[arg(long)]
    pub threads: Option<String>,
    /// Report language: en or de.
    #[arg(long)]
    pub lang: Option<String>,
    /// Survey metrics and cohort cells with fewer answers/customers are not shown as facts. Default: 10.
    #[arg(long)]
    pub min_sample: Option<String>,
    /// A corrupt or non-conforming input file: fail (default) or skip (listed in the manifest and report).
    #[arg(long)]
    pub on_bad_file: Option<String>,
    /// A lock older than this is stale and taken over, e.g. 6h (default).
    #[arg(long)]
    pub lock_timeout: Option<String>,
    /// Retries of a failed object-store request (default 10).
    #[arg(long)]
    pub retries: Option<String>,
    /// Stop retrying a request after this long, e.g. 3m (default).
    #[arg(long)]
    pub retry_timeout: Option<String>,
    /// Log lines as text (default) or json.
    #[arg(long)]
    pub log_format: Option<String>,
    /// Where models execute: local (default) or ballista://HOST:PORT (needs `--features ballista`).
    #[arg(long)]
    pub engine: Option<String>,
}

impl SettingsArgs {
    /// The values given on the command line, by setting key.
    pub fn flags(&self) -> BTreeMap<&'static str, String> {
        let given = [
            ("input", &self.input),
            ("output", &self.output),
            ("queries", &self.queries),
            ("reports", &self.reports),
            ("memory_limit", &self.memory_limit),
            ("threads", &self.threads),
            ("lang", &self.lang),
            ("min_sample", &self.min_sample),
            ("on_bad_file", &self.on_bad_file),
            ("lock_timeout", &self.lock_timeout),
            ("retries", &self.retries),
            ("retry_timeout", &self.retry_timeout),
            ("log_format", &self.log_format),
            ("engine", &self.engine),
        ];
        given
            .into_iter()
            .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
            .collect()
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The last day the run covers (YYYY-MM-DD, UTC). Default: yesterday.
    #[arg(long)]
    pub date: Option<String>,
    /// Run only these models and what they need, into dev/<date>/: NAME, NAME+ (and
    /// downstream), +NAME (and upstream). Repeat or separate with commas.
    #[arg(long, short = 's')]
    pub select: Vec<String>,
    /// Read every input file and rebuild the stored state, even when the state of an earlier
    /// night would let the run read only the files that arrived since.
    #[arg(long)]
    pub full_refresh: bool,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check only these models (NAME, NAME+, +NAME) and what they need.
    #[arg(long, short = 's')]
    pub select: Vec<String>,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The published run to test (YYYY-MM-DD). Default: yesterday.
    #[arg(long)]
    pub date: Option<String>,
    /// Only the tests of these models (NAME, NAME+, +NAME).
    #[arg(long, short = 's')]
    pub select: Vec<String>,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// Where to write the page.
    #[arg(long, default_value = "target/docs/index.html")]
    pub out: std::path::PathBuf,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// First date to run (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last date to run (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub to: String,
    /// Run dates that are already published too.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub settings: SettingsArgs,
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
