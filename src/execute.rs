//! Runs the project's models in dependency order. A model that fails is recorded with its file
//! and error, its dependents are skipped, and every other model still runs: one analyst's
//! broken query does not cost the executives their report.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::common::{DFSchema, JoinType, TableReference};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::transform_schema_to_view;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, ExprSchemable, Operator};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext, col};
use serde::Serialize;
use serde_json::json;

use crate::error::Result;
use crate::log::Log;
use crate::outputs::{self, Readers};
use crate::project::{Materialized, Model, Project, data_tests};
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

/// Where a run writes its models.
pub struct Places<'a> {
    /// The run's staging prefix: tables go to `tables/<name>/` below it.
    pub staging: &'a Location,
    /// The run's working folder: intermediates go to `<name>/` below it.
    pub work: &'a Location,
    /// The name of the one file each model writes.
    pub file_name: &'a str,
    /// On an incremental run, the folder the state's run published its tables in (in the
    /// staging prefix's store): where a `partition_by:` model's unchanged months are kept from.
    pub previous_tables: Option<object_store::path::Path>,
}

/// Runs every model; tables are written to `tables/<name>/<file_name>` below `staging`,
/// intermediates to `<name>/<file_name>` below `work`, and registered from there for their
/// dependents. With an `ingest` target, the ingest model's rows go to the state instead (see
/// [`crate::state`]).
///
/// Up to `concurrency` models run at once, each as soon as every model it reads has run: a
/// small model no longer waits for an unrelated one, and two models' small stages share the
/// cores. While an incremental model is planned the ingest model's name stands for this run's
/// rows only, so models are planned one at a time ([`Planning`]); a planned query holds the
/// tables it reads, so they then run side by side.
pub async fn run_models(
    ctx: &SessionContext,
    project: &Project,
    places: &Places<'_>,
    ingest: Option<&IngestTarget>,
    concurrency: usize,
    log: &Log,
) -> Vec<ModelRun> {
    let total = project.models.len();
    let read_as_previous = crate::state::read_as_previous(project);
    let names: HashSet<&str> = project.models.iter().map(|m| m.name.as_str()).collect();
    let mut status: HashMap<&str, Status> = HashMap::new();
    // On an incremental run, the events that arrived (what incremental models are computed from).
    let mut new_rows: Option<Arc<dyn TableProvider>> = None;
    let mut waiting: Vec<usize> = (0..total).collect();
    let planning = Planning::default();
    let mut running = FuturesUnordered::new();
    let mut runs: Vec<(usize, ModelRun)> = Vec::with_capacity(total);
    while !waiting.is_empty() || !running.is_empty() {
        // Start every model whose inputs are done, in project order, while there is room.
        let mut index = 0;
        while index < waiting.len() {
            let model = &project.models[waiting[index]];
            // Done: run, or not a model of this project (a deselected one, or a run table).
            let done = |d: &String| status.contains_key(d.as_str()) || !names.contains(d.as_str());
            if !model.depends_on.iter().all(done) {
                index += 1;
                continue;
            }
            let blocked: Vec<&str> = model
                .depends_on
                .iter()
                .filter(|d| status.get(d.as_str()).is_some_and(|s| *s != Status::Ok))
                .map(String::as_str)
                .collect();
            if !blocked.is_empty() {
                let position = waiting.remove(index);
                let reason = format!("skipped because {} did not run", blocked.join(", "));
                status.insert(&model.name, Status::Skipped);
                let run = finish(model, Status::Skipped, None, Some(reason), 0.0, log);
                runs.push((position, run));
                continue;
            }
            if running.len() >= concurrency.max(1) {
                break;
            }
            let position = waiting.remove(index);
            log.progress("models", runs.len(), total, &model.name);
            let arrived = new_rows.clone();
            let planning = &planning;
            let shapes_previous = read_as_previous.contains(model.name.as_str());
            running.push(async move {
                let started = Instant::now();
                let mut ran = run_one(ctx, model, places, ingest, arrived, planning).await;
                if shapes_previous && ran.is_ok() {
                    // A full refresh's `previous.<name>`: no rows, this model's columns.
                    if let Err(e) = crate::state::register_empty_previous(ctx, &model.name).await {
                        ran = Err(e);
                    }
                }
                (position, ran, started.elapsed().as_secs_f64())
            });
        }
        let Some((position, ran, seconds)) = running.next().await else {
            break;
        };
        let model = &project.models[position];
        let (state, rows, error) = match ran {
            Ok((rows, arrived)) => {
                if arrived.is_some() {
                    new_rows = arrived;
                }
                (Status::Ok, rows, None)
            }
            Err(e) => (
                Status::Failed,
                None,
                Some(format!(
                    "{}: {}",
                    model.path.display(),
                    first_line_chain(&e)
                )),
            ),
        };
        status.insert(&model.name, state);
        runs.push((position, finish(model, state, rows, error, seconds, log)));
    }
    log.progress("models", total, total, "done");
    runs.sort_by_key(|(position, _)| *position);
    runs.into_iter().map(|(_, run)| run).collect()
}

/// Runs one model; returns the rows written and, for the ingest model of an incremental run,
/// the rows that arrived in this run.
async fn run_one(
    ctx: &SessionContext,
    model: &Model,
    places: &Places<'_>,
    ingest: Option<&IngestTarget>,
    new_rows: Option<Arc<dyn TableProvider>>,
    planning: &Planning,
) -> Result<(Option<u64>, Option<Arc<dyn TableProvider>>)> {
    match ingest.filter(|t| t.keeps(&model.name)) {
        Some(target) if model.name == INGEST_MODEL => {
            let (rows, arrived) = run_ingest(ctx, model, target, planning).await?;
            // Only an incremental run has stored rows to leave out.
            let incremental = !target.stored(INGEST_MODEL).is_empty();
            Ok((Some(rows), incremental.then_some(arrived)))
        }
        Some(target) => Ok((
            run_incremental(ctx, model, target, new_rows.as_ref(), planning).await?,
            None,
        )),
        None => Ok((run_model(ctx, model, places, planning).await?, None)),
    }
}

/// Logs how a model ended and records it for the manifest.
fn finish(
    model: &Model,
    state: Status,
    rows: Option<u64>,
    error: Option<String>,
    seconds: f64,
    log: &Log,
) -> ModelRun {
    let fields = [
        ("model", json!(model.name)),
        ("status", json!(state)),
        ("rows", json!(rows)),
        ("seconds", json!(seconds)),
        ("error", json!(error)),
    ];
    match (&state, &error) {
        (Status::Ok, _) => {
            let shown = rows.map_or_else(|| "view".to_string(), |r| format!("{r} rows"));
            log.info(
                "model",
                &format!("model {} ok: {shown} in {seconds:.2}s", model.name),
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
    ModelRun {
        name: model.name.clone(),
        file: model.path.display().to_string(),
        materialized: model.materialized,
        depends_on: model.depends_on.clone(),
        status: state,
        rows,
        seconds,
        error,
    }
}

async fn run_model(
    ctx: &SessionContext,
    model: &Model,
    places: &Places<'_>,
    planning: &Planning,
) -> Result<Option<u64>> {
    let df = planning.plan(ctx, &model.sql).await?;
    match model.materialized {
        Materialized::View => {
            ctx.register_table(model.name.as_str(), df.into_view())?;
            Ok(None)
        }
        Materialized::Table if model.partition_by.is_some() => {
            write_by_month(ctx, model, df, places).await
        }
        Materialized::Table => {
            let df = merged_into_previous(ctx, model, df, places).await?;
            write_and_register(ctx, model, df, places.staging, "tables", places.file_name).await
        }
        Materialized::Intermediate | Materialized::Incremental => {
            write_and_register(ctx, model, df, places.work, "", places.file_name).await
        }
    }
}

/// For a `unique_key:` model on an incremental run: its rows (the keys that changed), and the
/// rows of the previous run's table whose key is not among them: not in the `replaces:` model,
/// or else not among the new rows' keys (then the new rows are written to the working folder
/// first, so the model's query runs once). Unchanged when there is no previous
/// table (a full refresh): then the model's rows are all there is.
async fn merged_into_previous(
    ctx: &SessionContext,
    model: &Model,
    df: DataFrame,
    places: &Places<'_>,
) -> Result<DataFrame> {
    match Merge::of(ctx, model, df, places, false).await? {
        Unmerged(df) => Ok(df),
        Merged(merge) => {
            let stored = ctx.table(merge.previous.clone()).await?;
            let kept = merge.kept(ctx, model, stored)?;
            Ok(merge.changed.union(kept)?)
        }
    }
}

/// A `unique_key:` model's rows on a run: as they are (no key, or no previous table), or to be
/// merged into the previous table.
enum MergeOrNot {
    Unmerged(DataFrame),
    Merged(Box<Merge>),
}
use MergeOrNot::{Merged, Unmerged};

/// What a merge needs: the model's rows, the keys they replace, and the previous table.
struct Merge {
    changed: DataFrame,
    keys: DataFrame,
    previous: TableReference,
}

impl Merge {
    /// With `materialize`, the model's rows are written to the working folder first even when
    /// a `replaces:` model gives the keys, for callers that read them twice.
    async fn of(
        ctx: &SessionContext,
        model: &Model,
        df: DataFrame,
        places: &Places<'_>,
        materialize: bool,
    ) -> Result<MergeOrNot> {
        // Checked on every run, so a wrong key fails the night it is written, not the next one.
        if let Some(problem) = model.unique_key_problem(df.schema().as_arrow()) {
            return Err(DataFusionError::Plan(problem).into());
        }
        let previous = TableReference::partial(crate::state::PREVIOUS_SCHEMA, model.name.as_str());
        let replacing = match &model.replaces {
            Some(keys) => Some(ctx.table(keys.as_str()).await?),
            None => None,
        };
        // Planned on every run, full refreshes included, so a wrong condition fails the night
        // it is written.
        if let Some(keys) = &replacing {
            let stored =
                DFSchema::try_from_qualified_schema(previous.clone(), df.schema().as_arrow())?;
            replaces_condition(ctx, model, &stored, keys.schema())?;
        }
        if model.unique_key.is_empty() || !ctx.table_exist(previous.clone())? {
            return Ok(Unmerged(df));
        }
        let key = key_refs(&model.unique_key);
        let changed = match replacing.is_none() || materialize {
            true => {
                let dir = places.work.path(&format!("{}__changed", model.name));
                let path = dir.clone().join(places.file_name);
                outputs::write_frame(places.work, &path, df, Readers::WholeFile).await?;
                ctx.read_parquet(places.work.url_of(&path), ParquetReadOptions::default())
                    .await?
            }
            false => df,
        };
        let keys = match replacing {
            // With a condition, the replacing model's other columns may be in it too.
            Some(keys) if model.replaces_where.is_some() => keys,
            Some(keys) => keys.select_columns(&key)?,
            None => changed.clone().select_columns(&key)?.distinct()?,
        };
        Ok(Merged(Box::new(Merge {
            changed,
            keys,
            previous,
        })))
    }

    /// The rows of `stored` (the previous table, or some of its files) that stay: those whose
    /// key is not replaced or, given `replaces_where:`, for which the condition does not hold.
    fn kept(&self, ctx: &SessionContext, model: &Model, stored: DataFrame) -> Result<DataFrame> {
        let condition = replaces_condition(ctx, model, stored.schema(), self.keys.schema())?;
        self.join(model, stored, JoinType::LeftAnti, condition)
    }

    /// The rows of `stored` the merge replaces. A term `<stored> >= <keys>` (or `>`) of the
    /// condition bounds them from below by the least value of its keys side, computed first:
    /// with `activity_date >= since` the scan skips the files and row groups before the
    /// earliest since instead of joining every stored row.
    async fn replaced(
        &self,
        ctx: &SessionContext,
        model: &Model,
        mut stored: DataFrame,
    ) -> Result<DataFrame> {
        use datafusion::functions_aggregate::expr_fn::min;
        use datafusion::logical_expr::utils::split_conjunction;

        let condition = replaces_condition(ctx, model, stored.schema(), self.keys.schema())?;
        let only_in = |expr: &Expr, schema: &DFSchema| {
            let columns = expr.column_refs();
            !columns.is_empty() && columns.iter().all(|c| schema.has_column(c))
        };
        let terms = condition
            .as_ref()
            .map(split_conjunction)
            .unwrap_or_default();
        for term in terms {
            let Expr::BinaryExpr(binary) = term else {
                continue;
            };
            let (low, high) = match binary.op {
                Operator::GtEq | Operator::Gt => (&*binary.right, &*binary.left),
                Operator::LtEq | Operator::Lt => (&*binary.left, &*binary.right),
                _ => continue,
            };
            if !only_in(high, stored.schema()) || !only_in(low, self.keys.schema()) {
                continue;
            }
            let least = self
                .keys
                .clone()
                .aggregate(vec![], vec![min(low.clone()).alias("least")])?
                .collect()
                .await?;
            let Some(batch) = least.first().filter(|b| b.num_rows() == 1) else {
                continue;
            };
            let least = datafusion::common::ScalarValue::try_from_array(batch.column(0), 0)?;
            // No keys: nothing is replaced. Otherwise the bound, as a literal the scan prunes by.
            let bound = match least.is_null() {
                true => datafusion::prelude::lit(false),
                false => high.clone().gt_eq(datafusion::prelude::lit(least)),
            };
            stored = stored.filter(bound)?;
        }
        self.join(model, stored, JoinType::LeftSemi, condition)
    }

    /// `stored` joined with the keys on the unique key and the condition.
    fn join(
        &self,
        model: &Model,
        stored: DataFrame,
        join: JoinType,
        condition: Option<Expr>,
    ) -> Result<DataFrame> {
        let key = key_refs(&model.unique_key);
        Ok(stored.join(self.keys.clone(), join, &key, &key, condition)?)
    }
}

fn key_refs(key: &[String]) -> Vec<&str> {
    key.iter().map(String::as_str).collect()
}

/// A `replaces_where:` model's condition, over a stored row (`stored`) and its key's row in the
/// `replaces:` model (`keys`); `None` without one. `cxpipe check` calls it on the planned
/// schemas, so a wrong condition is reported before the first night that merges.
pub(crate) fn replaces_condition(
    ctx: &SessionContext,
    model: &Model,
    stored: &DFSchema,
    keys: &DFSchema,
) -> std::result::Result<Option<Expr>, DataFusionError> {
    let Some(sql) = &model.replaces_where else {
        return Ok(None);
    };
    let problem =
        |e: &dyn std::fmt::Display| DataFusionError::Plan(format!("`replaces_where: {sql}`: {e}"));
    let both = stored.join(keys).map_err(|e| problem(&e))?;
    let condition = ctx.parse_sql_expr(sql, &both).map_err(|e| problem(&e))?;
    match condition.get_type(&both).map_err(|e| problem(&e))? {
        DataType::Boolean | DataType::Null => Ok(Some(condition)),
        other => Err(problem(&format!(
            "the condition must be true or false, but it is {other}"
        ))),
    }
}

/// The month a `partition_by:` model's rows without a date are published under.
const NO_MONTH: &str = "none";

/// Publishes a `partition_by: month(<column>)` model: a file per calendar month of the column,
/// named `<YYYY-MM>_<file_name>`, written to the working folder by month and then moved to
/// `tables/<name>/`. On an incremental run the previous table's files of every month the rows
/// leave out are copied as they are (a hard link locally, a server-side copy in a bucket): a
/// night that changes the last month writes that month, not the year.
async fn write_by_month(
    ctx: &SessionContext,
    model: &Model,
    df: DataFrame,
    places: &Places<'_>,
) -> Result<Option<u64>> {
    use datafusion::execution::FunctionRegistry;
    use datafusion::functions::core::expr_fn::coalesce;
    use datafusion::prelude::{ident, lit};

    let plan_error = |problem: String| DataFusionError::Plan(problem);
    if let Some(problem) = model.partition_problem(df.schema().as_arrow()) {
        return Err(plan_error(problem).into());
    }
    let column = model.partition_by.as_deref().unwrap_or_default();
    const MONTH: &str = "__cxpipe_month";
    let year_month = ctx.udf("year_month")?;
    let month_of = || coalesce(vec![year_month.call(vec![ident(column)]), lit(NO_MONTH)]);
    // The previous table's files by month, listed once: the merge reads some, the rest are kept.
    let mut previous_files = Vec::new();
    let previous = TableReference::partial(crate::state::PREVIOUS_SCHEMA, model.name.as_str());
    if let Some(tables) = &places.previous_tables
        && ctx.table_exist(previous)?
    {
        let previous_dir = tables.clone().join(model.name.as_str());
        for path in outputs::list(places.staging, &previous_dir).await? {
            let name = path.filename().unwrap_or_default().to_string();
            let month = name.split('_').next().unwrap_or_default().to_string();
            if !is_month(&month) {
                return Err(plan_error(format!(
                    "the previous run's {} table has a file not named by month ({name}): it was not published with `partition_by:`; rerun with --full-refresh",
                    model.name
                ))
                .into());
            }
            previous_files.push(MonthFile { month, name, path });
        }
    }
    let (df, rewritten) = merged_months(ctx, model, df, places, month_of, &previous_files).await?;
    let no_rows = df.clone().limit(0, Some(0))?;
    let df = df.with_column(MONTH, month_of())?;
    let work_dir = places.work.path(&format!("{}__by_month", model.name));
    outputs::write_frame_by(places.work, &work_dir, df, Readers::Anyone, MONTH).await?;

    let table_dir = places.staging.path(&format!("tables/{}", model.name));
    // The months written tonight, and how many files each has.
    let mut files_of_month: HashMap<String, usize> = HashMap::new();
    let mut written = Vec::new();
    for path in outputs::list(places.work, &work_dir).await? {
        let folder = path
            .prefix_match(&work_dir)
            .and_then(|mut parts| parts.next())
            .map(|part| part.as_ref().to_string())
            .unwrap_or_default();
        let month = folder
            .strip_prefix(&format!("{MONTH}="))
            .unwrap_or(NO_MONTH)
            .to_string();
        let seen = files_of_month.entry(month.clone()).or_default();
        let name = match *seen {
            0 => format!("{month}_{}", places.file_name),
            n => format!("{month}_{n}_{}", places.file_name),
        };
        *seen += 1;
        let published = table_dir.clone().join(name);
        outputs::transfer(places.work, &path, places.staging, &published).await?;
        written.push(places.staging.url_of(&published));
    }
    let mut kept_months = false;

    for file in &previous_files {
        if !files_of_month.contains_key(&file.month) && !rewritten.contains(&file.month) {
            let kept = table_dir.clone().join(file.name.as_str());
            outputs::copy(places.staging, &file.path, &kept).await?;
            kept_months = true;
        }
    }
    if outputs::list(places.staging, &table_dir).await?.is_empty() {
        // No rows in any month: one empty file keeps the table's columns for its readers.
        let path = table_dir
            .clone()
            .join(format!("{NO_MONTH}_{}", places.file_name));
        outputs::write_frame(places.staging, &path, no_rows, Readers::Anyone).await?;
    }
    let url = format!("{}/", places.staging.url_of(&table_dir));
    ctx.register_parquet(model.name.as_str(), url, ParquetReadOptions::default())
        .await?;
    if kept_months {
        // Tonight's months alone, for the tests that can check them apart from those kept.
        let tonight: Arc<dyn TableProvider> = match written.is_empty() {
            true => Arc::new(MemTable::try_new(
                ctx.table(model.name.as_str())
                    .await?
                    .schema()
                    .inner()
                    .clone(),
                vec![vec![]],
            )?),
            false => ctx
                .read_parquet(written, ParquetReadOptions::default())
                .await?
                .into_view(),
        };
        ctx.register_table(data_tests::written_rows(&model.name), tonight)?;
    }
    // The rows of the published table, tonight's months and those kept.
    let published = ctx.table(model.name.as_str()).await?.count().await?;
    Ok(Some(published as u64))
}

/// A file of a previous `partition_by:` table: the month its name starts with, its name, and
/// where it is.
struct MonthFile {
    month: String,
    name: String,
    path: object_store::path::Path,
}

/// For a `partition_by:` model with a `unique_key:` on an incremental run: the months to
/// rewrite, those of the model's rows and those of the stored rows they replace, and the rows
/// of those months: the model's and the stored rows that stay. Every other month's file is kept
/// as it is, so the model computes only the keys that changed, from where they changed, and a
/// month one key changed in is read from its stored file, not recomputed. A month all of whose
/// rows are replaced is rewritten empty.
async fn merged_months(
    ctx: &SessionContext,
    model: &Model,
    df: DataFrame,
    places: &Places<'_>,
    month_of: impl Fn() -> Expr,
    previous_files: &[MonthFile],
) -> Result<(DataFrame, HashSet<String>)> {
    let merge = match Merge::of(ctx, model, df, places, true).await? {
        Unmerged(df) => return Ok((df, HashSet::new())),
        Merged(merge) => merge,
    };
    let stored = ctx.table(merge.previous.clone()).await?;
    let months_of = |df: DataFrame| df.select(vec![month_of()]);
    let batches = months_of(merge.changed.clone())?
        .union(months_of(merge.replaced(ctx, model, stored).await?)?)?
        .distinct()?
        .collect()
        .await?;
    let mut months = HashSet::new();
    for batch in &batches {
        let column = arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
        let names = arrow::array::AsArray::as_string::<i32>(&column);
        months.extend(names.iter().flatten().map(str::to_string));
    }
    let files: Vec<String> = previous_files
        .iter()
        .filter(|file| months.contains(&file.month))
        .map(|file| places.staging.url_of(&file.path))
        .collect();
    if files.is_empty() {
        return Ok((merge.changed.clone(), months));
    }
    let stored = ctx
        .read_parquet(files, ParquetReadOptions::default())
        .await?;
    let kept = merge.kept(ctx, model, stored)?;
    Ok((merge.changed.union(kept)?, months))
}

/// Whether a file name prefix names a month as [`write_by_month`] does: `YYYY-MM` or `none`.
fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    text == NO_MONTH
        || (bytes.len() == 7
            && bytes[4] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit()))
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
    planning: &Planning,
) -> Result<(u64, Arc<dyn TableProvider>)> {
    let mut df = planning.plan(ctx, &model.sql).await?;
    // Readers see every column of the model; the parts hold those read (the others read null).
    let columns: Schema = nullable_unless(df.schema().as_arrow(), target.stored_columns.as_deref());
    if let Some(kept) = &target.stored_columns {
        let kept: Vec<&str> = columns
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|name| kept.iter().any(|k| k == name))
            .collect();
        df = df.select_columns(&kept)?;
    }
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
    // Strings as views, as DataFusion reads every other working file: a view points into the
    // page it was decoded from, where `Utf8` copies each value out of its column's dictionary
    // (the stored ids, channels and touchpoints, read by every incremental model).
    let read_schema = transform_schema_to_view(&columns);
    let read_as = ParquetReadOptions::default().schema(&read_schema);
    let rows = write_part(ctx, model, df, target, read_as.clone()).await?;
    let new_rows = ctx
        .read_parquet(target.output.url_of(&target.part(&model.name)), read_as)
        .await?
        .into_view();
    Ok((rows, new_rows))
}

/// `schema` with the columns not among `stored` (when some are not) made nullable: read from
/// parts that lack them, they are null.
fn nullable_unless(schema: &Schema, stored: Option<&[String]>) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let kept = stored.is_none_or(|s| s.iter().any(|k| k == f.name()));
            f.as_ref().clone().with_nullable(f.is_nullable() || !kept)
        })
        .collect();
    Schema::new(fields)
}

/// An incremental model over the events that arrived in this run (`new_rows` stands in for the
/// ingest model while its SQL is planned, this run's parts for the incremental models it
/// reads), written as a new state part.
async fn run_incremental(
    ctx: &SessionContext,
    model: &Model,
    target: &IngestTarget,
    new_rows: Option<&Arc<dyn TableProvider>>,
    planning: &Planning,
) -> Result<Option<u64>> {
    let planned = match new_rows {
        Some(new_rows) => {
            // The night's rows: the new events, and the rows other incremental models added
            // for them (this run's parts). A delta model reads its inputs whole.
            let mut night: Vec<(&str, Arc<dyn TableProvider>)> =
                vec![(INGEST_MODEL, Arc::clone(new_rows))];
            if !model.delta {
                for upstream in &model.depends_on {
                    if upstream != INGEST_MODEL && target.keeps(upstream) {
                        let part = target.output.url_of(&target.part(upstream));
                        let rows = ctx
                            .read_parquet(part, ParquetReadOptions::default())
                            .await?;
                        night.push((upstream.as_str(), rows.into_view()));
                    }
                }
            }
            planning.plan_over(ctx, &model.sql, night).await?
        }
        None => planning.plan(ctx, &model.sql).await?,
    };
    let read_as = ParquetReadOptions::default();
    Ok(Some(
        write_part(ctx, model, planned, target, read_as).await?,
    ))
}

/// Models are planned one at a time: while an incremental model is planned, the ingest model's
/// name stands for this run's rows only, and no other model may see that. Planning resolves
/// every table a query reads, so the planned queries then run side by side.
#[derive(Default)]
struct Planning {
    turn: futures::lock::Mutex<()>,
}

impl Planning {
    async fn plan(&self, ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
        self.plan_over(ctx, sql, Vec::new()).await
    }

    /// Plans `sql` with each named table standing for the given rows, then puts the tables back.
    async fn plan_over(
        &self,
        ctx: &SessionContext,
        sql: &str,
        standing_in: Vec<(&str, Arc<dyn TableProvider>)>,
    ) -> Result<DataFrame> {
        let turn = self.turn.lock().await;
        let mut whole = Vec::with_capacity(standing_in.len());
        for (name, rows) in standing_in {
            whole.push((name, ctx.deregister_table(name)?));
            ctx.register_table(name, rows)?;
        }
        let planned = ctx.sql(sql).await;
        for (name, all) in whole {
            ctx.deregister_table(name)?;
            if let Some(all) = all {
                ctx.register_table(name, all)?;
            }
        }
        drop(turn);
        // The plan holds the tables it reads: its subqueries run after the turn.
        crate::subqueries::computed_first(ctx, planned?).await
    }
}

/// Writes the model's new rows as this run's state part and registers the model as the stored
/// parts and the new one together.
async fn write_part(
    ctx: &SessionContext,
    model: &Model,
    df: DataFrame,
    target: &IngestTarget,
    read_as: ParquetReadOptions<'_>,
) -> Result<u64> {
    let part = target.part(&model.name);
    let rows = outputs::write_frame(&target.output, &part, df, Readers::WholeFile).await?;
    let stored = target.stored(&model.name).to_vec();
    if target.compacts(&model.name) {
        // Many nights' parts become one, so reads do not open a file per night forever.
        let compacted = target.compacted_part(&model.name);
        // As stored: the parts' own columns.
        let earlier = ctx
            .read_parquet(stored.clone(), ParquetReadOptions::default())
            .await?;
        outputs::write_frame(&target.output, &compacted, earlier, Readers::WholeFile).await?;
    }
    let mut parts = stored;
    parts.push(target.output.url_of(&part));
    let all = ctx.read_parquet(parts, read_as).await?;
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

#[cfg(test)]
mod tests {
    use super::is_month;

    #[test]
    fn month_files_are_told_from_others_by_their_prefix() {
        for month in ["2026-11", "1999-01", "none"] {
            assert!(is_month(month), "{month}");
        }
        for other in ["part-2026", "2026-1", "2026_11", "2026-11-01", "", "None"] {
            assert!(!is_month(other), "{other}");
        }
    }
}
