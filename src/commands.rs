//! Carries out each subcommand: builds typed config from the raw arguments (the only place that
//! reads the clock for a default date), calls the library, prints what a person or cron needs.

use std::time::Instant;

use chrono::{Duration, NaiveDate, Utc};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};

use crate::cli::{
    BackfillArgs, CheckArgs, Cli, Command, DocsArgs, GenerateArgs, RunArgs, SettingsArgs, TestArgs,
};
use crate::config::{Layers, RunConfig, parse_date};
use crate::error::{Error, Result};
use crate::generate::{self, GenerateOptions};
use crate::outputs;
use crate::project::Project;
use crate::storage::Location;

pub async fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Backfill(args) => backfill(args).await,
        Command::Config(args) => config(&args),
        Command::Check(args) => check(&args).await,
        Command::Test(args) => test(&args).await,
        Command::Docs(args) => docs(&args).await,
        Command::List(args) => list(&args),
        Command::Generate(args) => generate(args).await,
        #[cfg(feature = "ballista")]
        Command::Scheduler(args) => crate::cluster::scheduler(&args).await,
        #[cfg(feature = "ballista")]
        Command::Executor(args) => crate::cluster::executor(&args).await,
    }
}

/// The day before today, UTC: a nightly run reports on the day that just ended.
fn yesterday() -> NaiveDate {
    (Utc::now() - Duration::days(1)).date_naive()
}

fn layers(settings: &SettingsArgs) -> Result<Layers> {
    Layers::load(settings.flags(), settings.config.clone())
}

/// The configuration `cxpipe run` would use with these arguments.
pub fn run_config(args: &RunArgs) -> Result<RunConfig> {
    let date = args.date.as_deref().map(parse_date).transpose()?;
    let mut config = layers(&args.settings)?.run_config(date, yesterday())?;
    config.select = args.select.clone();
    config.full_refresh = args.full_refresh;
    Ok(config)
}

async fn run(args: RunArgs) -> Result<()> {
    let config = run_config(&args)?;
    let summary = crate::run::run(&config).await?;
    println!("cxpipe: success {}", summary.line());
    Ok(())
}

/// Runs each date in order over the partitions up to it (from the state where it can), so a
/// backfilled date's tables are exactly what its nightly run would have produced.
async fn backfill(args: BackfillArgs) -> Result<()> {
    let (from, to) = (parse_date(&args.from)?, parse_date(&args.to)?);
    if from > to {
        return Err(Error::Usage(format!("--from {from} is after --to {to}")));
    }
    let layers = layers(&args.settings)?;
    let base = layers.run_config(Some(from), yesterday())?;
    let output = Location::parse_with(&base.output, true, &base.storage)?;
    let (mut ran, mut skipped) = (0, 0);
    let mut date = from;
    while date <= to {
        if !args.force && is_published(&output, date).await? {
            println!("cxpipe: {date} already published; skipped (use --force to run it again)");
            skipped += 1;
        } else {
            let config = RunConfig {
                run_date: date,
                ..base.clone()
            };
            let summary = crate::run::run(&config).await?;
            println!("cxpipe: success {}", summary.line());
            ran += 1;
        }
        date += Duration::days(1);
    }
    println!("cxpipe: backfill {from}..{to}: {ran} run, {skipped} already published");
    Ok(())
}

/// A date whose run folder holds a successful manifest.
async fn is_published(output: &Location, date: NaiveDate) -> Result<bool> {
    let path = output.path(&format!("runs/{date}/manifest.json"));
    let Some(bytes) = outputs::get(output, &path).await? else {
        return Ok(false);
    };
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    Ok(manifest["status"] == "success")
}

fn config(args: &SettingsArgs) -> Result<()> {
    print!("{}", layers(args)?.describe());
    Ok(())
}

async fn check(args: &CheckArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let layers = layers(&args.settings)?;
    let queries = layers.queries();
    let engine = layers.engine()?;
    let mut project = Project::load(&queries)?;
    if !args.select.is_empty() {
        let with_ancestors: Vec<String> = project
            .select(&args.select)?
            .iter()
            .map(|name| format!("+{name}"))
            .collect();
        let needed = project.select(&with_ancestors)?;
        project.models.retain(|m| needed.contains(&m.name));
        project
            .singular_tests
            .retain(|t| t.models.iter().all(|m| needed.contains(m)));
    }
    let planned = crate::plan::check_for(&project, yesterday(), &engine).await?;
    let tests = project.tests().count();
    println!(
        "cxpipe: {} models and {tests} tests ok in {}{} ({:.2}s)",
        planned.len(),
        queries.display(),
        match engine {
            crate::config::Engine::Local => String::new(),
            other => format!(" for {other}"),
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn test(args: &TestArgs) -> Result<()> {
    let date = args.date.as_deref().map(parse_date).transpose()?;
    let mut config = layers(&args.settings)?.run_config(date, yesterday())?;
    config.select = args.select.clone();
    let results = crate::run::test_published(&config).await?;
    let passed = results
        .iter()
        .filter(|t| t.status == crate::verify::TestStatus::Pass)
        .count();
    let failed: Vec<&crate::verify::TestRun> = results.iter().filter(|t| t.fails_run()).collect();
    println!(
        "cxpipe: {} tests on {}: {passed} passed, {} failed, {} warned",
        results.len(),
        config.run_date,
        failed.len(),
        results
            .iter()
            .filter(|t| t.status == crate::verify::TestStatus::Warn)
            .count()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::TestsFailed {
            failed: failed.len(),
            summary: failed
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

async fn docs(args: &DocsArgs) -> Result<()> {
    let queries = layers(&args.settings)?.queries();
    let project = Project::load(&queries)?;
    let planned = crate::plan::check(&project, yesterday()).await?;
    let html = crate::docs::render(&project, &planned)?;
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, html)?;
    println!(
        "cxpipe: documented {} models in {}",
        project.models.len(),
        args.out.display()
    );
    Ok(())
}

fn list(args: &SettingsArgs) -> Result<()> {
    let project = Project::load(&layers(args)?.queries())?;
    for model in &project.models {
        let materialized = format!("{:?}", model.materialized).to_lowercase();
        println!(
            "{:<28} {:<6} <- {}",
            model.name,
            materialized,
            model.reads().join(", ")
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
