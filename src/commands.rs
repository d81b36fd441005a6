//! Carries out each subcommand: builds typed config from the raw arguments (the only place that
//! reads the clock for a default date), calls the library, prints what a person or cron needs.

use std::time::Instant;

use chrono::{Duration, NaiveDate, Utc};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};

use crate::cli::{Cli, Command, GenerateArgs, ProjectArgs, RunArgs};
use crate::config::{RunConfig, parse_date, parse_memory};
use crate::error::Result;
use crate::generate::{self, GenerateOptions};
use crate::outputs;
use crate::project::Project;
use crate::session::SessionSettings;
use crate::storage::Location;

pub async fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Check(args) => check(&args),
        Command::List(args) => list(&args),
        Command::Generate(args) => generate(args).await,
    }
}

/// The day before today, UTC: a nightly run reports on the day that just ended.
fn yesterday() -> NaiveDate {
    (Utc::now() - Duration::days(1)).date_naive()
}

pub fn run_config(args: RunArgs) -> Result<RunConfig> {
    Ok(RunConfig {
        run_date: args
            .date
            .as_deref()
            .map(parse_date)
            .transpose()?
            .unwrap_or_else(yesterday),
        input: args.input,
        output: args.output,
        queries: args.project.queries,
        reports: args.reports,
        session: SessionSettings {
            memory_limit: args.memory_limit.as_deref().map(parse_memory).transpose()?,
            target_partitions: args.threads,
        },
        report_row_limit: 5_000,
    })
}

async fn run(args: RunArgs) -> Result<()> {
    let config = run_config(args)?;
    eprintln!(
        "cxpipe: run {} from {} to {}",
        config.run_date, config.input, config.output
    );
    let summary = crate::run::run(&config).await?;
    println!(
        "cxpipe: {} ok: {} models ok, {} failed, {} skipped; {} rows read in {:.1}s; report {}/report.html",
        summary.run_date,
        summary.models_ok,
        summary.models_failed,
        summary.models_skipped,
        summary.rows_read,
        summary.seconds,
        summary.run_dir
    );
    Ok(())
}

fn check(args: &ProjectArgs) -> Result<()> {
    let project = Project::load(&args.queries)?;
    println!(
        "cxpipe: {} models ok in {}",
        project.models.len(),
        args.queries.display()
    );
    Ok(())
}

fn list(args: &ProjectArgs) -> Result<()> {
    let project = Project::load(&args.queries)?;
    for model in &project.models {
        let materialized = format!("{:?}", model.materialized).to_lowercase();
        println!(
            "{:<28} {:<6} <- {}",
            model.name,
            materialized,
            model.depends_on.join(", ")
        );
    }
    Ok(())
}

async fn generate(args: GenerateArgs) -> Result<()> {
    let started = Instant::now();
    let options = GenerateOptions {
        customers: args.customers,
        days: args.days,
        end: args
            .end
            .as_deref()
            .map(parse_date)
            .transpose()?
            .unwrap_or_else(yesterday),
        seed: args.seed,
    };
    let output = Location::parse(&args.output, true)?;
    let (days, summary) = generate::generate(&options);
    let schema = generate::touchpoint_schema();
    futures::stream::iter(days)
        .map(|day| {
            let output = &output;
            let schema = schema.clone();
            async move {
                let path = output.path(&format!(
                    "touchpoints/date={}/part-0.parquet",
                    day.arrival_date
                ));
                let stream =
                    RecordBatchStreamAdapter::new(schema, futures::stream::iter([Ok(day.batch)]));
                outputs::write_parquet(output, &path, Box::pin(stream)).await
            }
        })
        .buffer_unordered(4)
        .try_collect::<Vec<u64>>()
        .await?;
    println!(
        "cxpipe: generated {} events ({} customers, {} prospects, {} late, {} duplicates) for {} days ending {} in {:.1}s into {}",
        summary.events,
        summary.customers,
        summary.prospects,
        summary.late_events,
        summary.duplicate_events,
        options.days,
        options.end,
        started.elapsed().as_secs_f64(),
        output
    );
    Ok(())
}
