//! Runs the project's models in dependency order. A model that fails is recorded with its file
//! and error, its dependents are skipped, and every other model still runs: one analyst's
//! broken query does not cost the executives their report.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::catalog::TableProvider;
use datafusion::common::JoinType;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext, col};
use serde::Serialize;
use serde_json::json;

use crate::error::Result;
use crate::log::Log;
use crate::outputs::{self, Readers};
use crate::project::{Materialized, Model, Project};
use crate::state::{INGEST_KEY, INGEST_MODEL, IngestTarget};
use crate::storage::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    Skipped,
}

/// What happened to one model, as recorded in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRun {
    pub name: String,
    pub file: String,
    pub materialized: Materialized,
    pub depends_on: Vec<String>,
    pub status: Status,
    /// Rows written (tables only).
    pub rows: Option<u64>,
    pub seconds: f64,
    pub error: Option<String>,
}

impl ModelRun {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }
}

/// Runs every model; tables are written to `tables/<name>/<file_name>` below `staging`,
/// intermediates to `<name>/<file_name>` below `work`, and registered from there for their
/// dependents. With an `ingest` target, the ingest model's rows go to the state instead (see
/// [`crate::state`]).
pub async fn run_models(
    ctx: &SessionContext,
    project: &Project,
    staging: &Location,
    work: &Location,
    file_name: &str,
    ingest: Option<&IngestTarget>,
    log: &Log,
) -> Vec<ModelRun> {
    let mut status: HashMap<String, Status> = HashMap::new();
    // On an incremental run, the events that arrived (what incremental models are computed from).
    let mut new_rows: Option<Arc<dyn TableProvider>> = None;
    let mut runs = Vec::new();
    let total = project.models.len();
    for (index, model) in project.models.iter().enumerate() {
        log.progress("models", index, total, &model.name);
        let started = Instant::now();
        let blocked: Vec<&str> = model
            .depends_on
            .iter()
            .filter(|d| status.get(d.as_str()).is_some_and(|s| *s != Status::Ok))
            .map(String::as_str)
            .collect();
        let (state, rows, error) = if blocked.is_empty() {
            let ran = match ingest.filter(|t| t.keeps(&model.name)) {
                Some(target) if model.name == INGEST_MODEL => {
                    run_ingest(ctx, model, target).await.map(|(rows, arrived)| {
                        // Only an incremental run has stored rows to leave out.
                        if !target.stored(INGEST_MODEL).is_empty() {
                            new_rows = Some(arrived);
                        }
                        Some(rows)
                    })
                }
                Some(target) => run_incremental(ctx, model, target, new_rows.as_ref()).await,
                None => run_model(ctx, model, staging, work, file_name).await,
            };
            match ran {
                Ok(rows) => (Status::Ok, rows, None),
                Err(e) => (
                    Status::Failed,
                    None,
                    Some(format!(
                        "{}: {}",
                        model.path.display(),
                        first_line_chain(&e)
                    )),
                ),
            }
        } else {
            let reason = format!("skipped because {} did not run", blocked.join(", "));
            (Status::Skipped, None, Some(reason))
        };
        status.insert(model.name.clone(), state);
        let seconds = started.elapsed().as_secs_f64();
        let fields = [
            ("model", json!(model.name)),
            ("status", json!(state)),
            ("rows", json!(rows)),
            ("seconds", json!(seconds)),
            ("error", json!(error)),
        ];
        match (&state, &error) {
            (Status::Ok, _) => {
                let rows = rows.map_or_else(|| "view".to_string(), |r| format!("{r} rows"));
                log.info(
                    "model",
                    &format!("model {} ok: {rows} in {seconds:.2}s", model.name),
                    &fields,
                );
            }
            (_, Some(reason)) => log.warn(
                "model",
                &format!(
                    "model {} {}: {reason}",
                    model.name,
                    format!("{state:?}").to_lowercase()
                ),
                &fields,
            ),
            (_, None) => {}
        }
        runs.push(ModelRun {
            name: model.name.clone(),
            file: model.path.display().to_string(),
            materialized: model.materialized,
            depends_on: model.depends_on.clone(),
            status: state,
            rows,
            seconds,
            error,
        });
    }
    log.progress("models", total, total, "done");
    runs
}

async fn run_model(
    ctx: &SessionContext,
    model: &Model,
    staging: &Location,
    work: &Location,
    file_name: &str,
) -> Result<Option<u64>> {
    let df = ctx.sql(&model.sql).await?;
    match model.materialized {
        Materialized::View => {
            ctx.register_table(model.name.as_str(), df.into_view())?;
            Ok(None)
        }
        Materialized::Table => {
            write_and_register(ctx, model, df, staging, "tables", file_name).await
        }
        Materialized::Intermediate | Materialized::Incremental => {
            write_and_register(ctx, model, df, work, "", file_name).await
        }
    }
}

/// Writes the model's rows to `<below>/<folder>/<name>/<file_name>` and registers that folder
/// under the model's name, so dependents read the written rows instead of recomputing them.
async fn write_and_register(
    ctx: &SessionContext,
    model: &Model,
    df: DataFrame,
    below: &Location,
    folder: &str,
    file_name: &str,
) -> Result<Option<u64>> {
    let dir = below.path(&format!("{folder}/{}", model.name));
    let readers = match model.materialized {
        Materialized::Table => Readers::Anyone,
        _ => Readers::WholeFile,
    };
    let rows = outputs::write_frame(below, &dir.clone().join(file_name), df, readers).await?;
    let url = format!("{}/", below.url_of(&dir));
    ctx.register_parquet(model.name.as_str(), url, ParquetReadOptions::default())
        .await?;
    Ok(Some(rows))
}

/// The ingest model over the rows read in this run, less those whose key is already stored,
/// written as a new state part; the model's name then stands for stored and new rows together.
/// Returns the new rows alone, which incremental models are computed from.
async fn run_ingest(
    ctx: &SessionContext,
    model: &Model,
    target: &IngestTarget,
) -> Result<(u64, Arc<dyn TableProvider>)> {
    let mut df = ctx.sql(&model.sql).await?;
    let stored = target.stored(&model.name);
    if !stored.is_empty() {
        let stored_keys = ctx
            .read_parquet(stored.to_vec(), ParquetReadOptions::default())
            .await?
            .select(vec![col(INGEST_KEY)])?;
        df = df.join(
            stored_keys,
            JoinType::LeftAnti,
            &[INGEST_KEY],
            &[INGEST_KEY],
            None,
        )?;
    }
    let rows = write_part(ctx, model, df, target).await?;
    let new_rows = ctx
        .read_parquet(
            target.output.url_of(&target.part(&model.name)),
            ParquetReadOptions::default(),
        )
        .await?
        .into_view();
    Ok((rows, new_rows))
}

/// An incremental model over the events that arrived in this run (`new_rows` stands in for the
/// ingest model while its SQL is planned), written as a new state part.
async fn run_incremental(
    ctx: &SessionContext,
    model: &Model,
    target: &IngestTarget,
    new_rows: Option<&Arc<dyn TableProvider>>,
) -> Result<Option<u64>> {
    let planned = match new_rows {
        Some(new_rows) => {
            let all = ctx.deregister_table(INGEST_MODEL)?;
            ctx.register_table(INGEST_MODEL, Arc::clone(new_rows))?;
            let planned = ctx.sql(&model.sql).await;
            ctx.deregister_table(INGEST_MODEL)?;
            if let Some(all) = all {
                ctx.register_table(INGEST_MODEL, all)?;
            }
            planned
        }
        None => ctx.sql(&model.sql).await,
    };
    Ok(Some(write_part(ctx, model, planned?, target).await?))
}

/// Writes the model's new rows as this run's state part and registers the model as the stored
/// parts and the new one together.
async fn write_part(
    ctx: &SessionContext,
    model: &Model,
    df: DataFrame,
    target: &IngestTarget,
) -> Result<u64> {
    let part = target.part(&model.name);
    let rows = outputs::write_frame(&target.output, &part, df, Readers::WholeFile).await?;
    let stored = target.stored(&model.name).to_vec();
    if target.compacts(&model.name) {
        // Many nights' parts become one, so reads do not open a file per night forever.
        let compacted = target.compacted_part(&model.name);
        let earlier = ctx
            .read_parquet(stored.clone(), ParquetReadOptions::default())
            .await?;
        outputs::write_frame(&target.output, &compacted, earlier, Readers::WholeFile).await?;
    }
    let mut parts = stored;
    parts.push(target.output.url_of(&part));
    let all = ctx
        .read_parquet(parts, ParquetReadOptions::default())
        .await?;
    ctx.register_table(model.name.as_str(), all.into_view())?;
    Ok(rows)
}

/// DataFusion nests context; the innermost message is what the analyst needs, on one line.
fn first_line_chain(error: &crate::error::Error) -> String {
    error
        .to_string()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}
