//! One nightly run, start to finish: project -> inputs -> session -> models -> report -> publish.
//! The project and templates are loaded before any data is read, so analyst mistakes fail in
//! milliseconds; nothing becomes visible under `runs/<run_date>/` until everything is staged.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::execute::{self, ModelRun};
use crate::inputs::{self, InputFile};
use crate::outputs::{self, Latest};
use crate::project::{Materialized, Project};
use crate::report::{self, TableData, Templates};
use crate::session;
use crate::storage::Location;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `manifest.json`: what was read, run, written and how long it took.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub cxpipe_version: &'static str,
    pub datafusion_version: &'static str,
    pub run_date: NaiveDate,
    pub run_id: String,
    /// `success` or `partial` (some models failed or were skipped, or the report failed).
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub seconds: f64,
    pub input: InputSummary,
    pub output: String,
    pub models: Vec<ModelRun>,
    pub report: ReportSummary,
    /// Seconds per phase.
    pub timings: BTreeMap<&'static str, f64>,
}

#[derive(Debug, Serialize)]
pub struct InputSummary {
    pub location: String,
    pub partitions: usize,
    pub files: Vec<InputFile>,
    pub files_read: usize,
    pub bytes_read: u64,
    pub rows_read: u64,
    /// Partitions dated after the run date: seen by name, never read.
    pub later_partitions: usize,
    pub ignored_folders: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ReportSummary {
    pub path: String,
    pub error: Option<String>,
}

/// The template context: the run, its models and every small table.
#[derive(Debug, Serialize)]
struct ReportContext<'a> {
    run: RunInfo<'a>,
    models: &'a [ModelRun],
    tables: BTreeMap<String, TableData>,
}

#[derive(Debug, Serialize)]
struct RunInfo<'a> {
    date: NaiveDate,
    id: &'a str,
    generated_at: &'a str,
    input: &'a str,
    version: &'static str,
    status: &'a str,
}

/// What a finished run reports back to the command line.
#[derive(Debug)]
pub struct RunSummary {
    pub run_date: NaiveDate,
    pub run_dir: String,
    pub models_ok: usize,
    pub models_failed: usize,
    pub models_skipped: usize,
    pub rows_read: u64,
    pub seconds: f64,
}

pub async fn run(config: &RunConfig) -> Result<RunSummary> {
    let started = Instant::now();
    let started_at = Utc::now();
    let run_id = format!(
        "{}-{}",
        started_at.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    );
    let mut timings = BTreeMap::new();
    let mut phase = Instant::now();
    let mut lap = |name: &'static str, timings: &mut BTreeMap<&'static str, f64>| {
        timings.insert(name, phase.elapsed().as_secs_f64());
        phase = Instant::now();
    };

    let project = Project::load(&config.queries)?;
    let templates = Templates::load(&config.reports)?;
    let input = Location::parse(&config.input, false)?;
    let output = Location::parse(&config.output, true)?;
    lap("load_project", &mut timings);

    let run_date = config.run_date;
    let mut discovery = inputs::discover(&input, run_date).await?;
    inputs::inspect(&input, &mut discovery.files).await?;
    lap("inspect_inputs", &mut timings);

    let ctx = session::context(&config.session, run_date)?;
    inputs::register(&ctx, &input, &discovery.files).await?;
    output.register(&ctx);
    let staging_rel = format!("_staging/{run_date}/{run_id}");
    let staging = output.join(&staging_rel);
    let models = execute::run_models(&ctx, &project, &staging).await;
    lap("models", &mut timings);

    let mut partial = models.iter().any(|m| !m.ok());
    let input_summary = InputSummary {
        location: input.to_string(),
        partitions: discovery
            .files
            .iter()
            .map(|f| f.arrival_date)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        files_read: discovery.files.len(),
        bytes_read: discovery.files.iter().map(|f| f.bytes).sum(),
        rows_read: discovery.files.iter().map(|f| f.rows).sum(),
        later_partitions: discovery.later_partitions,
        ignored_folders: discovery.ignored,
        files: discovery.files,
    };

    let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let status_if_report_ok = if partial { "partial" } else { "success" };
    let report_result = render_report(
        &ctx,
        &templates,
        &project,
        &models,
        RunInfo {
            date: run_date,
            id: &run_id,
            generated_at: &generated_at,
            input: &input_summary.location,
            version: VERSION,
            status: status_if_report_ok,
        },
        config.report_row_limit,
    )
    .await;
    let report_error = match report_result {
        Ok(html) => {
            outputs::put(&staging, &staging.path(report::ENTRY), html.into_bytes()).await?;
            None
        }
        Err(e) => {
            partial = true;
            Some(e.to_string())
        }
    };
    lap("report", &mut timings);

    let status = if partial { "partial" } else { "success" };
    let run_dir_rel = format!("runs/{run_date}");
    let run_dir = output.path(&run_dir_rel);
    let mut manifest = Manifest {
        cxpipe_version: VERSION,
        datafusion_version: datafusion::DATAFUSION_VERSION,
        run_date,
        run_id: run_id.clone(),
        status: status.to_string(),
        started_at: started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        finished_at: String::new(),
        seconds: 0.0,
        input: input_summary,
        output: output.to_string(),
        models,
        report: ReportSummary {
            path: format!("{run_dir_rel}/{}", report::ENTRY),
            error: report_error,
        },
        timings,
    };
    manifest.finished_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    manifest.seconds = started.elapsed().as_secs_f64();
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::output(output.url_of(&run_dir), e))?;
    let latest = (!partial).then(|| Latest {
        run_date,
        run_id,
        status: status.to_string(),
        path: format!("{run_dir_rel}/"),
        manifest: format!("{run_dir_rel}/manifest.json"),
        report: format!("{run_dir_rel}/{}", report::ENTRY),
        published_at: manifest.finished_at.clone(),
    });
    outputs::publish(
        &output,
        &output.path(&staging_rel),
        &run_dir,
        manifest_bytes,
        latest.as_ref(),
    )
    .await?;

    let count = |s: execute::Status| manifest.models.iter().filter(|m| m.status == s).count();
    let summary = RunSummary {
        run_date,
        run_dir: output.url_of(&run_dir),
        models_ok: count(execute::Status::Ok),
        models_failed: count(execute::Status::Failed),
        models_skipped: count(execute::Status::Skipped),
        rows_read: manifest.input.rows_read,
        seconds: started.elapsed().as_secs_f64(),
    };
    if partial {
        let mut problems: Vec<String> = manifest
            .models
            .iter()
            .filter_map(|m| m.error.as_ref().map(|e| format!("{}: {e}", m.name)))
            .collect();
        if let Some(e) = &manifest.report.error {
            problems.push(format!("report: {e}"));
        }
        return Err(Error::Partial {
            failed: summary.models_failed,
            skipped: summary.models_skipped,
            summary: problems.join("; "),
        });
    }
    Ok(summary)
}

async fn render_report(
    ctx: &datafusion::prelude::SessionContext,
    templates: &Templates,
    project: &Project,
    models: &[ModelRun],
    run: RunInfo<'_>,
    row_limit: usize,
) -> Result<String> {
    let mut tables = BTreeMap::new();
    for model in models {
        let is_table = project
            .model(&model.name)
            .is_some_and(|m| m.materialized == Materialized::Table);
        if model.ok() && is_table && model.rows.is_some_and(|r| r as usize <= row_limit) {
            let batches = ctx.table(model.name.as_str()).await?.collect().await?;
            tables.insert(model.name.clone(), report::table_data(&batches)?);
        }
    }
    templates.render(ReportContext {
        run,
        models,
        tables,
    })
}
