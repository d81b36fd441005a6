//! One nightly run, start to finish: project -> lock -> inputs -> session -> models -> report
//! -> publish. The project and templates are loaded before anything else, so analyst mistakes
//! fail in milliseconds; nothing becomes visible under `runs/<R>/` until everything is staged,
//! and `latest.json` moves only after a fully successful run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::json;

use crate::config::{BadFilePolicy, Engine, RunConfig};
use crate::error::{Error, Result};
use crate::execute::{self, ModelRun, Status};
use crate::inputs::{self, BadFile, InputFile};
use crate::lock::{Holder, Lock};
use crate::log::Log;
use crate::outputs::{self, Latest};
use crate::project::Project;
use crate::report::{self, Templates};
use crate::session;
use crate::state::{self, IngestTarget, Mode, StateSummary};
use crate::storage::Location;
use crate::verify::{self, TestRun};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `manifest.json`: what was read, run, written and how long it took.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub cxpipe_version: &'static str,
    pub datafusion_version: &'static str,
    /// Where the models executed: `local` or `ballista://HOST:PORT`.
    pub engine: String,
    pub run_date: NaiveDate,
    pub run_id: String,
    /// `success`; `partial` (some models failed or were skipped, or the report failed);
    /// `tests_failed` (a data test of severity error failed).
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub seconds: f64,
    pub input: InputSummary,
    pub output: String,
    pub models: Vec<ModelRun>,
    pub tests: Vec<TestRun>,
    pub report: ReportSummary,
    /// Incremental or full, and whether this run's state was kept for the next.
    pub state: StateSummary,
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
    /// Files left out under `--on-bad-file skip`, with the reason.
    pub skipped_files: Vec<BadFile>,
    /// Partitions dated after the run date: seen by name, never read.
    pub later_partitions: usize,
    pub ignored_folders: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ReportSummary {
    pub path: String,
    pub error: Option<String>,
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

impl RunSummary {
    /// The one line an operator reads at the end.
    pub fn line(&self) -> String {
        format!(
            "{}: {} models ok, {} failed, {} skipped; {} rows read in {:.1}s; report {}/report.html",
            self.run_date,
            self.models_ok,
            self.models_failed,
            self.models_skipped,
            self.rows_read,
            self.seconds,
            self.run_dir
        )
    }
}

pub async fn run(config: &RunConfig) -> Result<RunSummary> {
    let log = Log::new(config.log_format);
    let started_at = Utc::now();
    let run_id = format!(
        "{}-{}",
        started_at.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id()
    );
    let project = Project::load(&config.queries)?;
    let (project, selected) = select(project, &config.select)?;
    let templates = Templates::load(&config.reports)?;
    let input = Location::parse_with(&config.input, false, &config.storage)?;
    let output = Location::parse_with(&config.output, true, &config.storage)?;
    shared_with_cluster(&config.engine, &[&input, &output])?;
    let run_date = config.run_date.to_string();
    log.info(
        "start",
        &format!(
            "run {run_date} from {input} to {output} ({} models, engine {})",
            project.models.len(),
            config.engine
        ),
        &[
            ("run_date", json!(run_date)),
            ("run_id", json!(run_id)),
            ("engine", json!(config.engine.to_string())),
        ],
    );

    let lock = Lock::acquire(
        &output,
        &Holder::me(&run_date, &run_id),
        config.lock_timeout,
    )
    .await?;
    if config.fault.as_deref() == Some("hold_lock") {
        // Test hook: a run that takes a while, so a second one meets its lock.
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    if let Some(previous) = &lock.took_over {
        log.warn(
            "lock",
            &format!("took over a stale lock held by {previous}"),
            &[],
        );
    }
    let scope = Scope {
        config,
        log: &log,
        project: &project,
        selected: selected.as_ref(),
        templates: &templates,
        input: &input,
        output: &output,
        run_id: &run_id,
        started_at,
    };
    let result = locked_run(&scope).await;
    if config.engine != Engine::Local {
        // The intermediates a cluster read; a leftover is removed by the next run.
        let shared = output.path(&format!("{SHARED_WORK}/{run_id}"));
        let _ = outputs::delete_all(&output, &shared).await;
    }
    // Released on failure too; a crash leaves it behind, to be taken over once stale.
    let released = lock.release().await;
    let summary = result?;
    released?;
    Ok(summary)
}

/// What a run works with once it holds the lock.
struct Scope<'a> {
    config: &'a RunConfig,
    log: &'a Log,
    project: &'a Project,
    /// The selected models (`--select`), whose tests run; None: everything.
    selected: Option<&'a BTreeSet<String>>,
    templates: &'a Templates,
    input: &'a Location,
    output: &'a Location,
    run_id: &'a str,
    started_at: chrono::DateTime<Utc>,
}

async fn locked_run(scope: &Scope<'_>) -> Result<RunSummary> {
    let Scope {
        config,
        log,
        project,
        selected,
        templates,
        input,
        output,
        run_id,
        started_at,
    } = *scope;
    let started = Instant::now();
    let run_date = config.run_date;
    let mut timings = BTreeMap::new();
    let mut phase = Instant::now();
    let mut lap = |name: &'static str, timings: &mut BTreeMap<&'static str, f64>| {
        timings.insert(name, phase.elapsed().as_secs_f64());
        phase = Instant::now();
    };

    // Whatever a crashed run left in staging is debris now: we hold the lock.
    outputs::delete_all(output, &output.path("_staging")).await?;
    outputs::delete_all(output, &output.path(SHARED_WORK)).await?;

    let mut discovery = inputs::discover(input, run_date).await?;
    let planning = state::Planning {
        output,
        input,
        project,
        run_date,
        full_refresh: config.full_refresh,
        selecting: selected.is_some(),
        skipping_bad_files: config.on_bad_file == BadFilePolicy::Skip,
    };
    let state::Plan {
        mode,
        to_read,
        known_bad,
        stored_columns,
    } = state::plan(&planning, std::mem::take(&mut discovery.files)).await?;
    discovery.files = to_read;
    match &mode {
        Mode::Incremental { since } => log.info(
            "state",
            &format!(
                "incremental: {} files ingested up to {} are stored; reading {} new",
                since.files.len(),
                since.run_date,
                discovery.files.len()
            ),
            &[
                ("mode", json!("incremental")),
                ("since", json!(since.run_date)),
            ],
        ),
        Mode::Full { reason, .. } => log.info(
            "state",
            &format!("full refresh: {reason}"),
            &[("mode", json!("full")), ("reason", json!(reason))],
        ),
    }
    let as_listed: BTreeMap<String, inputs::FileRow> = discovery
        .files
        .iter()
        .map(|f| (f.path.clone(), f.row()))
        .collect();
    let bad = inputs::inspect(input, &mut discovery.files, |done, total| {
        log.progress("inputs", done, total, "file footers read")
    })
    .await;
    let mut skipped_files = Vec::new();
    // What the state remembers as left out: the files still bad as they were, and this run's.
    let mut remembered_bad = Vec::new();
    for known in known_bad {
        log.warn(
            "skip_file",
            &format!(
                "skipping {} as on {}: {}",
                known.file.path, known.since, known.reason
            ),
            &[("path", json!(known.file.path))],
        );
        skipped_files.push(BadFile {
            path: known.file.path.clone(),
            reason: format!("{} (left out since {})", known.reason, known.since),
        });
        remembered_bad.push(known);
    }
    for (file, error) in bad {
        match config.on_bad_file {
            BadFilePolicy::Fail => return Err(error),
            BadFilePolicy::Skip => {
                log.warn(
                    "skip_file",
                    &format!("skipping {}: {}", file.path, file.reason),
                    &[("path", json!(file.path))],
                );
                if let Some(row) = as_listed.get(&file.path) {
                    remembered_bad.push(state::SkippedFile {
                        file: row.clone(),
                        reason: file.reason.clone(),
                        since: run_date,
                    });
                }
                skipped_files.push(file);
            }
        }
    }
    let rows: u64 = discovery.files.iter().map(|f| f.rows).sum();
    log.info(
        "inputs",
        &format!(
            "{} files, {rows} rows in partitions up to {run_date}",
            discovery.files.len()
        ),
        &[
            ("files", json!(discovery.files.len())),
            ("rows", json!(rows)),
        ],
    );
    lap("inspect_inputs", &mut timings);

    let ctx = session::context_for(&config.engine, &config.session, run_date).await?;
    inputs::register(&ctx, input, &discovery.files).await?;
    output.register(&ctx);
    if let Mode::Incremental { since } = &mode {
        state::register_earlier(&ctx, since, &discovery.files)?;
        state::register_previous(&ctx, output, project, since).await?;
    }
    let staging_rel = format!("_staging/{run_date}/{run_id}");
    let staging = output.join(&staging_rel);
    let file_name = format!("part-{run_id}.parquet");
    let work = WorkDir::create(run_id, &config.engine, output)?;
    let ingest = mode
        .keeps_state()
        .then(|| IngestTarget::new(output, project, &mode, run_id, stored_columns));
    let places = execute::Places {
        staging: &staging,
        work: &work.location,
        file_name: &file_name,
        previous_tables: match &mode {
            Mode::Incremental { since } => Some(output.path(&state::previous_tables(since))),
            _ => None,
        },
    };
    let models = execute::run_models(
        &ctx,
        project,
        &places,
        ingest.as_ref(),
        model_concurrency(&config.engine),
        log,
    )
    .await;
    lap("models", &mut timings);
    let keep = match &ingest {
        Some(target) => settled_counters(&ctx, &models, target, run_date).await,
        None => Err("this run does not keep state".to_string()),
    };
    let ok: BTreeSet<&str> = models
        .iter()
        .filter(|m| m.ok())
        .map(|m| m.name.as_str())
        .collect();
    let chosen = |test: &&crate::project::DataTest| {
        selected.is_none_or(|s| test.models.iter().any(|m| s.contains(m)))
    };
    // A test of a `partition_by:` model that kept months of the previous run's table checks
    // tonight's months alone when it can (the months kept passed it in the run that wrote them).
    let passed_before = match &mode {
        Mode::Incremental { since } => state::tests_passed(output, since).await,
        _ => BTreeSet::new(),
    };
    let rows_written = |test: &crate::project::DataTest| {
        let (Some(part), [model]) = (&test.per_part, test.models.as_slice()) else {
            return false;
        };
        let column = project.model(model).and_then(|m| m.partition_by.as_deref());
        passed_before.contains(&test.name)
            && column.is_some_and(|c| part.apart_by(c))
            && ctx
                .table_exist(crate::project::data_tests::written_rows(model))
                .unwrap_or(false)
    };
    let tests = verify::run_tests(
        &ctx,
        project.tests().filter(chosen),
        |m| ok.contains(m),
        rows_written,
        log,
    )
    .await;
    lap("tests", &mut timings);

    let mut partial = models.iter().any(|m| !m.ok());
    let input_summary = InputSummary {
        location: input.to_string(),
        partitions: discovery
            .files
            .iter()
            .map(|f| f.arrival_date)
            .collect::<BTreeSet<_>>()
            .len(),
        files_read: discovery.files.len(),
        bytes_read: discovery.files.iter().map(|f| f.bytes).sum(),
        rows_read: rows,
        skipped_files,
        later_partitions: discovery.later_partitions,
        ignored_folders: discovery.ignored,
        files: discovery.files,
    };

    let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let run_info = report::RunInfo {
        date: run_date,
        id: run_id,
        generated_at: &generated_at,
        input: &input_summary.location,
        version: VERSION,
        status: if partial { "partial" } else { "success" },
        skipped_files: &input_summary.skipped_files,
        tests: &tests,
    };
    let report_error =
        match report::render(&ctx, templates, project, &models, run_info, &config.report).await {
            Ok(html) => {
                outputs::put(&staging, &staging.path(report::ENTRY), html.into_bytes()).await?;
                None
            }
            Err(e) => {
                partial = true;
                log.warn("report", &format!("report failed: {e}"), &[]);
                Some(e.to_string())
            }
        };
    lap("report", &mut timings);

    if config.fault.as_deref() == Some("after_tables") {
        // Test hook: die like a killed process with everything staged, nothing published.
        std::process::abort();
    }

    let tests_failed: Vec<&TestRun> = tests.iter().filter(|t| t.fails_run()).collect();
    let status = match (partial, tests_failed.is_empty()) {
        (true, _) => "partial",
        (false, false) => "tests_failed",
        (false, true) => "success",
    };
    // A selection is an analyst's iteration: it goes to dev/<R>/, never over the published run.
    let run_dir_rel = match selected {
        Some(_) => format!("dev/{run_date}"),
        None => format!("runs/{run_date}"),
    };
    let run_dir = output.path(&run_dir_rel);
    let mut manifest = Manifest {
        cxpipe_version: VERSION,
        datafusion_version: datafusion::DATAFUSION_VERSION,
        engine: config.engine.to_string(),
        run_date,
        run_id: run_id.to_string(),
        status: status.to_string(),
        started_at: started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        finished_at: String::new(),
        seconds: 0.0,
        input: input_summary,
        output: output.to_string(),
        models,
        tests: tests.clone(),
        report: ReportSummary {
            path: format!("{run_dir_rel}/{}", report::ENTRY),
            error: report_error,
        },
        state: StateSummary {
            kept: keep.is_ok(),
            stored_columns: ingest
                .as_ref()
                .filter(|_| keep.is_ok())
                .and_then(|target| target.stored_columns.clone()),
            ..mode.summary()
        },
        timings,
    };
    manifest.finished_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    manifest.seconds = started.elapsed().as_secs_f64();
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::output(output.url_of(&run_dir), e))?;
    let latest = (status == "success" && selected.is_none()).then(|| Latest {
        run_date,
        run_id: run_id.to_string(),
        status: status.to_string(),
        path: format!("{run_dir_rel}/"),
        manifest: format!("{run_dir_rel}/manifest.json"),
        report: format!("{run_dir_rel}/{}", report::ENTRY),
        published_at: manifest.finished_at.clone(),
    });
    outputs::publish(
        output,
        &output.path(&staging_rel),
        &run_dir,
        manifest_bytes,
        latest.as_ref(),
        config.fault.as_deref(),
    )
    .await?;
    if let Some(target) = &ingest {
        keep_state(
            target,
            keep,
            &mode,
            scope,
            &manifest.input.files,
            remembered_bad,
        )
        .await;
    }

    let count = |s: Status| manifest.models.iter().filter(|m| m.status == s).count();
    let summary = RunSummary {
        run_date,
        run_dir: output.url_of(&run_dir),
        models_ok: count(Status::Ok),
        models_failed: count(Status::Failed),
        models_skipped: count(Status::Skipped),
        rows_read: manifest.input.rows_read,
        seconds: started.elapsed().as_secs_f64(),
    };
    log.info(
        "summary",
        &format!("{} {}", status, summary.line()),
        &[
            ("run_date", json!(run_date)),
            ("status", json!(status)),
            ("models_ok", json!(summary.models_ok)),
            ("models_failed", json!(summary.models_failed)),
            ("models_skipped", json!(summary.models_skipped)),
            ("rows_read", json!(summary.rows_read)),
            ("seconds", json!(summary.seconds)),
        ],
    );
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
    if !tests_failed.is_empty() {
        return Err(Error::TestsFailed {
            failed: tests_failed.len(),
            summary: tests_failed
                .iter()
                .map(|t| {
                    let detail = t
                        .error
                        .clone()
                        .unwrap_or_else(|| format!("{} failing rows", t.failing_rows.unwrap_or(0)));
                    format!("{} ({detail}; {})", t.name, t.declared_at)
                })
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    Ok(summary)
}

/// The input counters to store with this run's rows, or why its rows cannot be kept: a model
/// they need failed, or some rows read are stamped after the run's day.
async fn settled_counters(
    ctx: &datafusion::prelude::SessionContext,
    models: &[ModelRun],
    target: &IngestTarget,
    run_date: NaiveDate,
) -> std::result::Result<state::Ingested, String> {
    for model in models {
        let needed = model.name == state::COUNTERS_MODEL || target.keeps(&model.name);
        if needed && !model.ok() {
            return Err(format!("{} did not run", model.name));
        }
    }
    match state::future_rows(ctx, run_date).await {
        Ok(0) => {}
        Ok(n) => {
            return Err(format!(
                "{n} rows read are stamped after {run_date}; their files are read again next run"
            ));
        }
        Err(e) => return Err(e.to_string()),
    }
    state::counters(ctx).await.map_err(|e| e.to_string())
}

/// Commits this run's rows as the state for the next run, or discards them; either way the run
/// itself has succeeded or failed already, so problems here are warnings.
async fn keep_state(
    target: &IngestTarget,
    keep: std::result::Result<state::Ingested, String>,
    mode: &Mode,
    scope: &Scope<'_>,
    read: &[InputFile],
    skipped: Vec<state::SkippedFile>,
) {
    let outcome = match keep {
        Ok(ingested) => state::commit(state::Commit {
            output: scope.output,
            input: scope.input,
            project: scope.project,
            run_date: scope.config.run_date,
            run_id: scope.run_id,
            mode,
            read,
            ingested,
            skipped,
            stored_columns: target.stored_columns.clone(),
        })
        .await
        .map_err(|e| e.to_string()),
        Err(reason) => {
            let _ = target.discard().await;
            Err(reason)
        }
    };
    if let Err(reason) = outcome {
        scope.log.warn(
            "state",
            &format!("state not kept: {reason}; the next run reads from the last kept state"),
            &[("reason", json!(reason))],
        );
    }
}

/// Where intermediates are written under a cluster: below the output, which every executor can
/// read (a local scratch folder is only on the driver).
const SHARED_WORK: &str = "_work";

/// Scratch space for intermediate models: a local folder removed when the run ends (also on
/// error), or `_work/<run_id>/` in the output when a cluster executes the models (removed by
/// `run` once the run ends).
struct WorkDir {
    path: Option<std::path::PathBuf>,
    location: Location,
}

impl WorkDir {
    fn create(run_id: &str, engine: &Engine, output: &Location) -> Result<WorkDir> {
        if *engine != Engine::Local {
            let relative = format!("{SHARED_WORK}/{run_id}");
            return Ok(WorkDir {
                path: None,
                location: output.join(&relative),
            });
        }
        let path = std::env::temp_dir().join(format!("cxpipe-work-{run_id}"));
        let location = Location::parse(&path.display().to_string(), true)?;
        Ok(WorkDir {
            path: Some(path),
            location,
        })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// How many models run at once: two locally, so one model's single-partition stages leave no
/// core idle; one on a cluster, whose executors already spread each model's tasks.
fn model_concurrency(engine: &Engine) -> usize {
    match engine {
        Engine::Local => 2,
        _ => 1,
    }
}

/// A cluster's executors cannot see the driver's in-process `memory://` stores.
fn shared_with_cluster(engine: &Engine, locations: &[&Location]) -> Result<()> {
    if *engine == Engine::Local {
        return Ok(());
    }
    match locations
        .iter()
        .find(|l| l.to_string().starts_with("memory://"))
    {
        Some(location) => Err(Error::Usage(format!(
            "{location} lives in this process and the {engine} cluster cannot read it; use a folder every machine mounts at the same path, or s3://, gs://, az://"
        ))),
        None => Ok(()),
    }
}

/// With selectors, the project narrowed to the selected models and everything they need, and
/// the selected names (whose tests run); without, the whole project.
fn select(project: Project, selectors: &[String]) -> Result<(Project, Option<BTreeSet<String>>)> {
    if selectors.is_empty() {
        return Ok((project, None));
    }
    let chosen = project.select(selectors)?;
    let with_ancestors: Vec<String> = chosen.iter().map(|name| format!("+{name}")).collect();
    let needed = project.select(&with_ancestors)?;
    let narrowed = Project {
        models: project
            .models
            .into_iter()
            .filter(|m| needed.contains(&m.name))
            .collect(),
        singular_tests: project
            .singular_tests
            .into_iter()
            .filter(|t| t.models.iter().all(|m| needed.contains(m)))
            .collect(),
    };
    Ok((narrowed, Some(chosen)))
}

/// `cxpipe test`: runs the data tests against the tables published in `runs/<R>/`, without
/// recomputing them. Views are planned over the input as in a run.
pub async fn test_published(config: &RunConfig) -> Result<Vec<TestRun>> {
    let log = Log::new(config.log_format);
    let project = Project::load(&config.queries)?;
    let (project, selected) = select(project, &config.select)?;
    let input = Location::parse_with(&config.input, false, &config.storage)?;
    let output = Location::parse_with(&config.output, false, &config.storage)?;
    let run_date = config.run_date;
    let run_dir = output.path(&format!("runs/{run_date}"));
    if outputs::get(&output, &run_dir.clone().join("manifest.json"))
        .await?
        .is_none()
    {
        return Err(Error::Usage(format!(
            "no published run at {}; run `cxpipe run --date {run_date}` first",
            output.url_of(&run_dir)
        )));
    }
    let mut discovery = inputs::discover(&input, run_date).await?;
    let _bad = inputs::inspect(&input, &mut discovery.files, |_, _| {}).await;
    shared_with_cluster(&config.engine, &[&input, &output])?;
    let ctx = session::context_for(&config.engine, &config.session, run_date).await?;
    inputs::register(&ctx, &input, &discovery.files).await?;
    output.register(&ctx);
    let mut ok = BTreeSet::new();
    for model in &project.models {
        let registered = match model.materialized {
            // Intermediates are not published: recompute them, as views.
            crate::project::Materialized::View
            | crate::project::Materialized::Intermediate
            | crate::project::Materialized::Incremental => match ctx.sql(&model.sql).await {
                Ok(df) => ctx
                    .register_table(model.name.as_str(), df.into_view())
                    .map(|_| ()),
                Err(e) => Err(e),
            },
            crate::project::Materialized::Table => {
                let url = format!(
                    "{}/",
                    output.url_of(&run_dir.clone().join("tables").join(model.name.as_str()))
                );
                ctx.register_parquet(
                    model.name.as_str(),
                    url,
                    datafusion::prelude::ParquetReadOptions::default(),
                )
                .await
            }
        };
        match registered {
            Ok(()) => {
                ok.insert(model.name.clone());
            }
            Err(e) => log.warn(
                "test",
                &format!("model {} is not available: {e}", model.name),
                &[],
            ),
        }
    }
    let chosen = |test: &&crate::project::DataTest| {
        selected
            .as_ref()
            .is_none_or(|s| test.models.iter().any(|m| s.contains(m)))
    };
    Ok(verify::run_tests(
        &ctx,
        project.tests().filter(chosen),
        |m| ok.contains(m),
        |_| false,
        &log,
    )
    .await)
}
