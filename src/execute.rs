//! Runs the project's models in dependency order. A model that fails is recorded with its file
//! and error, its dependents are skipped, and every other model still runs: one analyst's
//! broken query does not cost the executives their report.

use std::collections::HashMap;
use std::time::Instant;

use datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde::Serialize;

use crate::error::Result;
use crate::outputs;
use crate::project::{Materialized, Model, Project};
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

/// Runs every model; tables are written to `tables/<name>/part-0.parquet` below `staging` and
/// registered from there for their dependents.
pub async fn run_models(
    ctx: &SessionContext,
    project: &Project,
    staging: &Location,
) -> Vec<ModelRun> {
    let mut status: HashMap<String, Status> = HashMap::new();
    let mut runs = Vec::new();
    for model in &project.models {
        let started = Instant::now();
        let blocked: Vec<&str> = model
            .depends_on
            .iter()
            .filter(|d| status.get(d.as_str()).is_some_and(|s| *s != Status::Ok))
            .map(String::as_str)
            .collect();
        let (state, rows, error) = if blocked.is_empty() {
            match run_model(ctx, model, staging).await {
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
        runs.push(ModelRun {
            name: model.name.clone(),
            file: model.path.display().to_string(),
            materialized: model.materialized,
            depends_on: model.depends_on.clone(),
            status: state,
            rows,
            seconds: started.elapsed().as_secs_f64(),
            error,
        });
    }
    runs
}

async fn run_model(ctx: &SessionContext, model: &Model, staging: &Location) -> Result<Option<u64>> {
    let df = ctx.sql(&model.sql).await?;
    match model.materialized {
        Materialized::View => {
            ctx.register_table(model.name.as_str(), df.into_view())?;
            Ok(None)
        }
        Materialized::Table => {
            let dir = staging.path(&format!("tables/{}", model.name));
            let stream = df.execute_stream().await?;
            let rows = outputs::write_parquet(staging, &dir.clone().join("part-0.parquet"), stream)
                .await?;
            let url = format!("{}/", staging.url_of(&dir));
            ctx.register_parquet(model.name.as_str(), url, ParquetReadOptions::default())
                .await?;
            Ok(Some(rows))
        }
    }
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
