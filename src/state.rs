//! Incremental state: what earlier runs ingested, kept under `<output>/state/` so that a nightly
//! run reads only the files that arrived since, instead of a year of raw touchpoints.
//!
//! The state holds the ingest model's rows (`touchpoints`: valid events, each counted once) as
//! parquet parts, with the columns some model or data test reads (and the key: a run whose
//! queries read a column the state left out is a full refresh), the list of input files they
//! came from, and the input counters `data_quality` needs (`earlier_inputs`). A run for R uses
//! it when it was written by a run for an earlier day, from the same input, by the same ingest
//! SQL, and every file it lists is still there unchanged; the files that are new all arrived
//! after the state's day. Then only the new files are read, their valid rows whose `event_id` is
//! already stored are duplicates (the stored copy arrived first), and every model downstream of
//! `touchpoints` runs as usual over stored + new rows, so the tables equal a from-scratch run's.
//! Anything else is a full refresh, with the reason logged.
//!
//! A run whose files hold events stamped after its day does not write state: those rows turn
//! valid on a later day, so the next run reads those files again as new.
//!
//! The tables the state's run published are part of it too: models read them as
//! `previous.<name>` (empty on a full refresh), `unique_key:` models merge into them, and
//! incremental models that read them add what changed since (deltas). An incremental run
//! needs `runs/<state's day>/` to still be that run's.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::NaiveDate;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionContext, col, lit};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::inputs::{self, FileRow, InputFile};
use crate::outputs;
use crate::project::{Materialized, Project};
use crate::storage::Location;

/// The model whose rows are stored: every valid event, counted once.
pub const INGEST_MODEL: &str = "touchpoints";
/// Its key: a new row whose key is already stored is a duplicate.
pub const INGEST_KEY: &str = "event_id";
/// The model whose counters (rows read, dropped, valid) are carried from run to run.
pub const COUNTERS_MODEL: &str = "data_quality";
/// The SQL name of the counters of files ingested by earlier runs (zeros on a full refresh).
pub const EARLIER_TABLE: &str = "earlier_inputs";

const STATE_DIR: &str = "state";
const STATE_FILE: &str = "state/state.json";
const FORMAT: u32 = 2;

/// Input counters of the files the stored rows came from.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingested {
    pub rows_read: i64,
    pub dropped_invalid: i64,
    pub valid_rows: i64,
}

/// `state/state.json`: the commit point of the state; parts it does not list are debris.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub format: u32,
    pub run_date: NaiveDate,
    pub run_id: String,
    pub input: String,
    pub fingerprint: String,
    pub files: Vec<FileRow>,
    /// Parquet parts of the ingest model and of every incremental model, relative to the output.
    pub parts: BTreeMap<String, Vec<String>>,
    pub ingested: Ingested,
    /// Files left out under `--on-bad-file skip`: not read again while they stay as they are.
    #[serde(default)]
    pub skipped: Vec<SkippedFile>,
    /// The ingest model's columns its parts hold: those some model or test reads (`None`:
    /// every column).
    #[serde(default)]
    pub stored_columns: Option<Vec<String>>,
    /// `reads_fingerprint` of the queries known to read no other columns: while they stay as
    /// they are, a night need not plan them again to find out.
    #[serde(default)]
    pub reads: Option<String>,
}

/// A bad file a run left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SkippedFile {
    pub file: FileRow,
    pub reason: String,
    /// The day of the run that first left it out.
    pub since: NaiveDate,
}

/// How a run computes the ingest model.
#[derive(Debug)]
pub enum Mode {
    /// Read only `new_files`; add to the stored rows of `since`.
    Incremental { since: State },
    /// Read every file. `keeps_state`: the run may replace the state when it ends.
    Full { reason: String, keeps_state: bool },
}

/// What the manifest says about the state.
#[derive(Debug, Clone, Serialize)]
pub struct StateSummary {
    pub mode: &'static str,
    /// Why a run was a full refresh.
    pub reason: Option<String>,
    /// The day of the state an incremental run continued from.
    pub since: Option<NaiveDate>,
    /// Files already ingested by earlier runs and not read again.
    pub files_reused: usize,
    /// Whether this run's rows and files were kept as the state for the next run.
    pub kept: bool,
    /// The columns of the ingest model the state this run wrote holds (`None`: every column,
    /// or no state).
    pub stored_columns: Option<Vec<String>>,
}

impl Mode {
    pub fn summary(&self) -> StateSummary {
        match self {
            Mode::Incremental { since } => StateSummary {
                mode: "incremental",
                reason: None,
                since: Some(since.run_date),
                files_reused: since.files.len(),
                kept: false,
                stored_columns: None,
            },
            Mode::Full { reason, .. } => StateSummary {
                mode: "full",
                reason: Some(reason.clone()),
                since: None,
                files_reused: 0,
                kept: false,
                stored_columns: None,
            },
        }
    }

    pub fn keeps_state(&self) -> bool {
        matches!(
            self,
            Mode::Incremental { .. }
                | Mode::Full {
                    keeps_state: true,
                    ..
                }
        )
    }
}

/// What a run needs to decide on and to write the state.
pub struct Planning<'a> {
    pub output: &'a Location,
    pub input: &'a Location,
    pub project: &'a Project,
    pub run_date: NaiveDate,
    pub full_refresh: bool,
    /// A `--select` run: never reads or writes state.
    pub selecting: bool,
    /// `--on-bad-file skip`: files the state remembers as bad stay left out.
    pub skipping_bad_files: bool,
}

/// What a run reads, and the bad files it leaves out without reading because the state
/// remembers them.
pub struct Plan {
    pub mode: Mode,
    pub to_read: Vec<InputFile>,
    pub known_bad: Vec<SkippedFile>,
    /// The ingest model's columns this run's state parts hold (`None`: all).
    pub stored_columns: Option<Vec<String>>,
}

/// Decides between an incremental run and a full refresh, which discovered files to read (on an
/// incremental run, the files the state does not list), and which columns the state keeps.
pub async fn plan(p: &Planning<'_>, discovered: Vec<InputFile>) -> Result<Plan> {
    let mut plan = decide(p, discovered).await?;
    plan.stored_columns = match &plan.mode {
        Mode::Incremental { since } => since.stored_columns.clone(),
        // Only what is read is stored: unread columns (a raw JSON `properties`, the source
        // file's path) cost a full run more to write than anything reads back. The ingest key
        // is always kept, for the nights that check new rows against it.
        Mode::Full {
            keeps_state: true, ..
        } => crate::plan::columns_read(p.project, p.run_date, INGEST_MODEL)
            .await
            .map(|read| {
                let mut columns: Vec<String> = read.into_iter().collect();
                if !columns.iter().any(|c| c == INGEST_KEY) {
                    columns.push(INGEST_KEY.to_string());
                }
                columns
            }),
        Mode::Full { .. } => None,
    };
    Ok(plan)
}

async fn decide(p: &Planning<'_>, discovered: Vec<InputFile>) -> Result<Plan> {
    let full = |reason: &str, keeps_state: bool| Mode::Full {
        reason: reason.to_string(),
        keeps_state,
    };
    let everything = |mode: Mode| Plan {
        mode,
        to_read: discovered.clone(),
        known_bad: Vec::new(),
        stored_columns: None,
    };
    if p.selecting {
        return Ok(everything(full("a selection runs from scratch", false)));
    }
    if p.project.model(INGEST_MODEL).is_none() || p.project.model(COUNTERS_MODEL).is_none() {
        let reason = format!("the project has no {INGEST_MODEL} or {COUNTERS_MODEL} model");
        return Ok(everything(full(&reason, false)));
    }
    let state = match load(p.output).await {
        Ok(Some(state)) => state,
        Ok(None) => return Ok(everything(full("no state yet", true))),
        Err(e) => return Ok(everything(full(&format!("state unreadable ({e})"), true))),
    };
    // Remembered bad files count as known only while they are unchanged and skipping is asked.
    let known_bad: Vec<SkippedFile> = if p.skipping_bad_files {
        state
            .skipped
            .iter()
            .filter(|s| {
                discovered
                    .iter()
                    .any(|f| f.path == s.file.path && f.row() == s.file)
            })
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mode = if state.run_date > p.run_date {
        // A backfill: the state stays with the newer day.
        full(
            &format!("the state is of a later day, {}", state.run_date),
            false,
        )
    } else if state.run_date == p.run_date {
        full("a rerun of the state's day", true)
    } else if p.full_refresh {
        full("--full-refresh", true)
    } else if state.format != FORMAT || state.input != p.input.to_string() {
        full("the state was written for another input or version", true)
    } else if state.fingerprint != fingerprint(p.project) {
        full(
            &format!("the SQL of {INGEST_MODEL} or {COUNTERS_MODEL} (or what they read) changed"),
            true,
        )
    } else if let Some(problem) = not_stored(&state, p).await {
        full(&problem, true)
    } else if let Some(problem) = unusable(&state, &discovered, &known_bad) {
        full(&problem, true)
    } else if let Some(problem) = previous_missing(p.output, p.project, &state).await? {
        full(&problem, true)
    } else {
        Mode::Incremental { since: state }
    };
    Ok(match &mode {
        Mode::Incremental { since } => {
            let known: BTreeSet<&str> = since
                .files
                .iter()
                .chain(known_bad.iter().map(|s| &s.file))
                .map(|f| f.path.as_str())
                .collect();
            let to_read = discovered
                .into_iter()
                .filter(|f| !known.contains(f.path.as_str()))
                .collect();
            Plan {
                mode,
                to_read,
                known_bad,
                stored_columns: None,
            }
        }
        Mode::Full { .. } => everything(mode),
    })
}

/// Why the stored rows lack what this run's models and tests read, if they do: a column of the
/// ingest model the state does not keep. Queries unchanged since the state was kept read what
/// they read then; others are planned to find out.
async fn not_stored(state: &State, p: &Planning<'_>) -> Option<String> {
    let stored = state.stored_columns.as_ref()?;
    if state.reads.as_deref() == Some(reads_fingerprint(p.project).as_str()) {
        return None;
    }
    let Some(read) = crate::plan::columns_read(p.project, p.run_date, INGEST_MODEL).await else {
        return Some(format!(
            "the state keeps some of {INGEST_MODEL}' columns, and what the models read of it is unknown"
        ));
    };
    let missing: Vec<String> = read
        .iter()
        .filter(|c| !stored.contains(c))
        .map(|c| format!("{INGEST_MODEL}.{c}"))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "a model or test now reads {}, which the state does not keep",
            missing.join(", ")
        )
    })
}

/// Why the stored rows no longer describe the files as they are now, if they do not.
fn unusable(state: &State, discovered: &[InputFile], known_bad: &[SkippedFile]) -> Option<String> {
    let now: BTreeMap<&str, (u64, &str)> = discovered
        .iter()
        .map(|f| (f.path.as_str(), (f.bytes, f.version.as_str())))
        .collect();
    for file in &state.files {
        match now.get(file.path.as_str()) {
            None => return Some(format!("{} is gone since {}", file.path, state.run_date)),
            Some(&(bytes, version)) if bytes != file.bytes || version != file.version => {
                return Some(format!("{} changed since {}", file.path, state.run_date));
            }
            Some(_) => {}
        }
    }
    let known: BTreeSet<&str> = state
        .files
        .iter()
        .chain(known_bad.iter().map(|s| &s.file))
        .map(|f| f.path.as_str())
        .collect();
    discovered
        .iter()
        .find(|f| !known.contains(f.path.as_str()) && f.arrival_date <= state.run_date)
        .map(|f| {
            if state.skipped.iter().any(|s| s.file.path == f.path) {
                format!("{} changed since it was left out as bad", f.path)
            } else {
                format!(
                    "{} landed in a partition already processed on {}",
                    f.path, state.run_date
                )
            }
        })
}

/// The SQL schema under which a model reads the tables the previous run published:
/// `previous.int_customer_days`. On a full refresh those tables are empty.
pub const PREVIOUS_SCHEMA: &str = "previous";

/// The models some model reads as `previous.<name>`, and those merged into their previous
/// table (`unique_key:`) or keeping its months (`partition_by:`).
pub fn read_as_previous(project: &Project) -> BTreeSet<&str> {
    project
        .models
        .iter()
        .flat_map(|m| m.previous.iter().map(String::as_str))
        .chain(
            project
                .models
                .iter()
                .filter(|m| !m.unique_key.is_empty() || m.partition_by.is_some())
                .map(|m| m.name.as_str()),
        )
        .collect()
}

/// Where the run that wrote the state published its tables, below its run folder.
pub fn previous_tables(state: &State) -> String {
    format!("{}/tables", state_run_dir(state))
}

/// The run folder of the run that wrote the state.
fn state_run_dir(state: &State) -> String {
    format!("runs/{}", state.run_date)
}

/// Why the tables read as `previous.<name>` are not the state's run's, if they are not: that
/// run's day was published again since, or its tables were removed.
async fn previous_missing(
    output: &Location,
    project: &Project,
    state: &State,
) -> Result<Option<String>> {
    let needed = read_as_previous(project);
    if needed.is_empty() {
        return Ok(None);
    }
    let manifest_path = output.path(&format!("{}/manifest.json", state_run_dir(state)));
    let published_by = outputs::get(output, &manifest_path)
        .await?
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|m| m.get("run_id")?.as_str().map(str::to_string));
    if published_by.as_deref() != Some(state.run_id.as_str()) {
        return Ok(Some(format!(
            "the tables of {} are no longer those of the run that wrote the state",
            state.run_date
        )));
    }
    for name in needed {
        let dir = output.path(&format!("{}/{name}", previous_tables(state)));
        if outputs::list(output, &dir).await?.is_empty() {
            return Ok(Some(format!(
                "the previous run's {name} table is gone from {}",
                state_run_dir(state)
            )));
        }
    }
    Ok(None)
}

/// The data tests that passed in the run that wrote the state (none when its manifest cannot
/// be read: every test then checks all its rows).
pub async fn tests_passed(output: &Location, state: &State) -> BTreeSet<String> {
    let path = output.path(&format!("{}/manifest.json", state_run_dir(state)));
    let manifest = outputs::get(output, &path)
        .await
        .ok()
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .filter(|m| m.get("run_id").and_then(|id| id.as_str()) == Some(state.run_id.as_str()));
    let tests = manifest
        .as_ref()
        .and_then(|m| m.get("tests")?.as_array().cloned())
        .unwrap_or_default();
    tests
        .iter()
        .filter(|t| t.get("status").and_then(|s| s.as_str()) == Some("pass"))
        .filter_map(|t| t.get("name")?.as_str().map(str::to_string))
        .collect()
}

/// Registers `previous.<name>` for every model read so: on an incremental run, the tables the
/// state's run published.
pub async fn register_previous(
    ctx: &SessionContext,
    output: &Location,
    project: &Project,
    since: &State,
) -> Result<()> {
    for name in read_as_previous(project) {
        let dir = output.path(&format!("{}/{name}", previous_tables(since)));
        let url = format!("{}/", output.url_of(&dir));
        ctx.register_parquet(
            TableReference::partial(PREVIOUS_SCHEMA, name),
            url,
            ParquetReadOptions::default(),
        )
        .await?;
    }
    Ok(())
}

/// On a full refresh, `previous.<name>` is an empty table shaped like the model's rows,
/// registered when the model has run and before any model that reads it does.
pub async fn register_empty_previous(ctx: &SessionContext, name: &str) -> Result<()> {
    let reference = TableReference::partial(PREVIOUS_SCHEMA, name);
    if ctx.table_exist(reference.clone())? {
        return Ok(());
    }
    let schema = ctx.table_provider(name).await?.schema();
    ctx.register_table(
        reference,
        Arc::new(MemTable::try_new(schema, vec![vec![]])?),
    )?;
    Ok(())
}

async fn load(output: &Location) -> Result<Option<State>> {
    let path = output.path(STATE_FILE);
    let Some(bytes) = outputs::get(output, &path).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::output(output.url_of(&path), e))
}

/// A stable hash of the SQL the stored rows and counters depend on, and of cxpipe's version.
pub fn fingerprint(project: &Project) -> String {
    let mut needed: BTreeSet<&str> = BTreeSet::new();
    let mut pending = vec![INGEST_MODEL, COUNTERS_MODEL];
    pending.extend(kept_models(project));
    pending.extend(read_as_previous(project));
    while let Some(name) = pending.pop() {
        if needed.insert(name)
            && let Some(model) = project.model(name)
        {
            pending.extend(model.depends_on.iter().map(String::as_str));
        }
    }
    let mut hash = Fnv::new();
    for name in needed {
        hash.feed(name);
        hash.feed(project.model(name).map_or("", |m| m.sql.as_str()));
    }
    hash.finish()
}

/// A stable hash of every model's and data test's SQL, and of cxpipe's version: what they read
/// of the ingest model is the same while it is.
pub fn reads_fingerprint(project: &Project) -> String {
    let mut hash = Fnv::new();
    for model in &project.models {
        hash.feed(&model.name);
        hash.feed(&model.sql);
        // A view's columns count through its readers, a table's all: the kind matters too.
        hash.feed(&format!("{:?}", model.materialized));
    }
    for test in project.tests() {
        hash.feed(&test.name);
        hash.feed(&test.sql);
    }
    hash.finish()
}

/// FNV-1a over cxpipe's version and NUL-terminated texts: stable across builds and platforms,
/// unlike std's hasher.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
        hash.bytes(env!("CARGO_PKG_VERSION").as_bytes());
        hash
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn feed(&mut self, text: &str) {
        self.bytes(text.as_bytes());
        self.bytes(&[0]);
    }

    fn finish(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The models whose rows the state keeps: the ingest model and every `incremental` model.
pub fn kept_models(project: &Project) -> Vec<&str> {
    project
        .models
        .iter()
        .filter(|m| m.name == INGEST_MODEL || m.materialized == Materialized::Incremental)
        .map(|m| m.name.as_str())
        .collect()
}

/// Where a run writes the new rows of the models the state keeps, and what is stored already.
#[derive(Clone)]
pub struct IngestTarget {
    pub output: Location,
    run_id: String,
    /// The kept models, and the URLs of the parts earlier runs stored (incremental runs only).
    stored: BTreeMap<String, Vec<String>>,
    /// The ingest model's columns its parts hold (`None`: all).
    pub stored_columns: Option<Vec<String>>,
}

impl IngestTarget {
    pub fn new(
        output: &Location,
        project: &Project,
        mode: &Mode,
        run_id: &str,
        stored_columns: Option<Vec<String>>,
    ) -> IngestTarget {
        let stored = kept_models(project)
            .into_iter()
            .map(|name| {
                let parts = match mode {
                    Mode::Incremental { since } => since
                        .parts
                        .get(name)
                        .into_iter()
                        .flatten()
                        .map(|p| output.url_of(&output.path(p)))
                        .collect(),
                    Mode::Full { .. } => Vec::new(),
                };
                (name.to_string(), parts)
            })
            .collect();
        IngestTarget {
            output: output.clone(),
            run_id: run_id.to_string(),
            stored,
            stored_columns,
        }
    }

    /// Whether the state keeps this model's rows.
    pub fn keeps(&self, model: &str) -> bool {
        self.stored.contains_key(model)
    }

    /// URLs of the parts earlier runs stored for this model.
    pub fn stored(&self, model: &str) -> &[String] {
        self.stored.get(model).map_or(&[], Vec::as_slice)
    }

    /// Where this run writes the model's new rows.
    pub fn part(&self, model: &str) -> Path {
        self.output.path(&part_name(model, &self.run_id))
    }

    /// Whether this run also merges the model's stored parts into one.
    pub fn compacts(&self, model: &str) -> bool {
        compacts(self.stored(model).len())
    }

    /// Where this run writes the model's stored parts merged into one.
    pub fn compacted_part(&self, model: &str) -> Path {
        self.output.path(&compacted_name(model, &self.run_id))
    }

    /// Removes this run's parts when it does not commit them.
    pub async fn discard(&self) -> Result<()> {
        for model in self.stored.keys() {
            outputs::delete(&self.output, &self.part(model)).await?;
            outputs::delete(&self.output, &self.compacted_part(model)).await?;
        }
        Ok(())
    }
}

/// Parts a model may gather (one a night) before a run merges them into one.
const COMPACT_AFTER: usize = 30;

fn compacts(stored_parts: usize) -> bool {
    stored_parts >= COMPACT_AFTER
}

fn part_name(model: &str, run_id: &str) -> String {
    format!("{STATE_DIR}/{model}/part-{run_id}.parquet")
}

fn compacted_name(model: &str, run_id: &str) -> String {
    format!("{STATE_DIR}/{model}/part-{run_id}-earlier.parquet")
}

/// The `earlier_inputs` table: one row of counters.
pub fn earlier_table(ingested: Ingested) -> Result<Arc<MemTable>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("rows_read", DataType::Int64, false),
        Field::new("dropped_invalid", DataType::Int64, false),
        Field::new("valid_rows", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![ingested.rows_read])),
            Arc::new(Int64Array::from(vec![ingested.dropped_invalid])),
            Arc::new(Int64Array::from(vec![ingested.valid_rows])),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// Registers what an incremental run adds to: the earlier counters, and `input_files` listing
/// the stored files as well as the new ones.
pub fn register_earlier(ctx: &SessionContext, since: &State, new: &[InputFile]) -> Result<()> {
    ctx.deregister_table(EARLIER_TABLE)?;
    ctx.register_table(EARLIER_TABLE, earlier_table(since.ingested)?)?;
    let mut files = since.files.clone();
    files.extend(new.iter().map(InputFile::row));
    ctx.deregister_table(inputs::FILES_TABLE)?;
    ctx.register_table(inputs::FILES_TABLE, inputs::files_table(&files)?)?;
    Ok(())
}

/// Rows read in this run that are stamped after its day: valid on a later day, so the files
/// they are in cannot be taken as settled. Row-group statistics spare reading most files.
pub async fn future_rows(ctx: &SessionContext, run_date: NaiveDate) -> Result<u64> {
    let run_end = crate::session::run_end_value(run_date);
    let count = ctx
        .table(inputs::RAW_TABLE)
        .await?
        .filter(col("occurred_at").gt_eq(lit(run_end)))?
        .count()
        .await?;
    Ok(count as u64)
}

/// The counters `data_quality` reports for this run: all files so far.
pub async fn counters(ctx: &SessionContext) -> Result<Ingested> {
    let batches = ctx
        .sql(&format!(
            "select cast(rows_read as bigint), cast(dropped_invalid as bigint), \
             cast(rows_kept + duplicates as bigint) from {COUNTERS_MODEL}"
        ))
        .await?
        .collect()
        .await?;
    let value = |column: usize| -> Option<i64> {
        let batch = batches.iter().find(|b| b.num_rows() > 0)?;
        let array = batch.column(column).as_any().downcast_ref::<Int64Array>()?;
        (!array.is_null(0)).then(|| array.value(0))
    };
    match (value(0), value(1), value(2)) {
        (Some(rows_read), Some(dropped_invalid), Some(valid_rows)) => Ok(Ingested {
            rows_read,
            dropped_invalid,
            valid_rows,
        }),
        _ => Err(Error::Usage(format!(
            "{COUNTERS_MODEL} must return one row with rows_read, dropped_invalid, rows_kept and duplicates"
        ))),
    }
}

/// What a finished run commits.
pub struct Commit<'a> {
    pub output: &'a Location,
    pub input: &'a Location,
    pub project: &'a Project,
    pub run_date: NaiveDate,
    pub run_id: &'a str,
    pub mode: &'a Mode,
    pub read: &'a [InputFile],
    pub ingested: Ingested,
    /// Bad files left out: remembered ones still there, and this run's.
    pub skipped: Vec<SkippedFile>,
    pub stored_columns: Option<Vec<String>>,
}

/// Writes `state.json` listing the earlier parts (incremental) and this run's part, then deletes
/// parts no longer listed. Until `state.json` is replaced the previous state is whole.
pub async fn commit(c: Commit<'_>) -> Result<()> {
    let (mut files, earlier) = match c.mode {
        Mode::Incremental { since } => (since.files.clone(), since.parts.clone()),
        Mode::Full { .. } => (Vec::new(), BTreeMap::new()),
    };
    files.extend(c.read.iter().map(InputFile::row));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let parts: BTreeMap<String, Vec<String>> = kept_models(c.project)
        .into_iter()
        .map(|name| {
            let mut parts = earlier.get(name).cloned().unwrap_or_default();
            if compacts(parts.len()) {
                parts = vec![compacted_name(name, c.run_id)];
            }
            parts.push(part_name(name, c.run_id));
            (name.to_string(), parts)
        })
        .collect();
    let state = State {
        format: FORMAT,
        run_date: c.run_date,
        run_id: c.run_id.to_string(),
        input: c.input.to_string(),
        fingerprint: fingerprint(c.project),
        files,
        parts,
        ingested: c.ingested,
        skipped: c.skipped,
        stored_columns: c.stored_columns,
        reads: Some(reads_fingerprint(c.project)),
    };
    let path = c.output.path(STATE_FILE);
    let bytes =
        serde_json::to_vec_pretty(&state).map_err(|e| Error::output(c.output.url_of(&path), e))?;
    outputs::put(c.output, &path, bytes).await?;
    // Parts of failed runs, of earlier full refreshes and of models no longer in the project.
    let listed: BTreeSet<Path> = state
        .parts
        .values()
        .flatten()
        .map(|p| c.output.path(p))
        .collect();
    for path in outputs::list(c.output, &c.output.path(STATE_DIR)).await? {
        if !listed.contains(&path) && path != c.output.path(STATE_FILE) {
            outputs::delete(c.output, &path).await?;
        }
    }
    Ok(())
}
