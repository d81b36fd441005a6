//! Test support: hand-written touchpoint fixtures written as real parquet partitions, a way to
//! run the pipeline in-process or as the real binary, and readers that turn output tables into
//! plain strings to compare against numbers worked out by hand.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::SchemaRef;
use chrono::{NaiveDate, NaiveDateTime};
use cxpipe::config::RunConfig;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion::scalar::ScalarValue;

/// The repository root, for the shipped queries/ and reports/.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
}

/// One touchpoint as a test writes it. `at` is "YYYY-MM-DD HH:MM[:SS]" in UTC; the event
/// arrives on its own day unless `arrives` says otherwise.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_id: Option<String>,
    pub at: String,
    pub anonymous_id: Option<String>,
    pub channel: Option<String>,
    pub touchpoint: Option<String>,
    pub customer_id: Option<String>,
    pub session_id: Option<String>,
    pub revenue: Option<f64>,
    pub nps: Option<i32>,
    pub csat: Option<i32>,
    pub ces: Option<i32>,
    pub comment: Option<String>,
    pub duration_s: Option<f64>,
    pub country: Option<String>,
    pub arrives: Option<String>,
}

/// An event with the required fields; channel defaults to "web".
pub fn ev(event_id: &str, at: &str, anonymous_id: &str, touchpoint: &str) -> Event {
    Event {
        event_id: Some(event_id.into()),
        at: at.into(),
        anonymous_id: Some(anonymous_id.into()),
        channel: Some("web".into()),
        touchpoint: Some(touchpoint.into()),
        customer_id: None,
        session_id: None,
        revenue: None,
        nps: None,
        csat: None,
        ces: None,
        comment: None,
        duration_s: None,
        country: None,
        arrives: None,
    }
}

impl Event {
    pub fn customer(mut self, id: &str) -> Self {
        self.customer_id = Some(id.into());
        self
    }
    pub fn channel(mut self, channel: &str) -> Self {
        self.channel = Some(channel.into());
        self
    }
    pub fn revenue(mut self, revenue: f64) -> Self {
        self.revenue = Some(revenue);
        self
    }
    pub fn nps(mut self, score: i32) -> Self {
        self.nps = Some(score);
        self
    }
    pub fn csat(mut self, score: i32) -> Self {
        self.csat = Some(score);
        self
    }
    pub fn ces(mut self, score: i32) -> Self {
        self.ces = Some(score);
        self
    }
    pub fn comment(mut self, text: &str) -> Self {
        self.comment = Some(text.into());
        self
    }
    pub fn duration(mut self, seconds: f64) -> Self {
        self.duration_s = Some(seconds);
        self
    }
    pub fn country(mut self, country: &str) -> Self {
        self.country = Some(country.into());
        self
    }
    /// Lands in the partition of this arrival date (YYYY-MM-DD) instead of its own day.
    pub fn arrives(mut self, day: &str) -> Self {
        self.arrives = Some(day.into());
        self
    }
    pub fn without_event_id(mut self) -> Self {
        self.event_id = None;
        self
    }
    pub fn without_anonymous_id(mut self) -> Self {
        self.anonymous_id = None;
        self
    }

    fn occurred_at(&self) -> NaiveDateTime {
        let formats = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"];
        formats
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(&self.at, f).ok())
            .unwrap_or_else(|| panic!("bad test timestamp {:?}", self.at))
    }

    fn arrival_date(&self) -> NaiveDate {
        self.arrives
            .as_deref()
            .map(date)
            .unwrap_or_else(|| self.occurred_at().date())
    }
}

/// The contract's schema with the usual physical types (the generator writes the same).
pub fn contract_schema() -> SchemaRef {
    cxpipe::generate::touchpoint_schema()
}

/// The events as one record batch in the contract schema.
pub fn batch(events: &[&Event]) -> RecordBatch {
    let strings = |f: &dyn Fn(&Event) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            events.iter().map(|e| f(e)).collect::<Vec<_>>(),
        ))
    };
    let ints = |f: &dyn Fn(&Event) -> Option<i32>| -> ArrayRef {
        Arc::new(Int32Array::from(
            events.iter().map(|e| f(e)).collect::<Vec<_>>(),
        ))
    };
    let floats = |f: &dyn Fn(&Event) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            events.iter().map(|e| f(e)).collect::<Vec<_>>(),
        ))
    };
    let micros: Vec<i64> = events
        .iter()
        .map(|e| e.occurred_at().and_utc().timestamp_micros())
        .collect();
    RecordBatch::try_new(
        contract_schema(),
        vec![
            strings(&|e| e.event_id.clone()),
            Arc::new(TimestampMicrosecondArray::from(micros)),
            strings(&|e| e.anonymous_id.clone()),
            strings(&|e| e.channel.clone()),
            strings(&|e| e.touchpoint.clone()),
            strings(&|e| e.customer_id.clone()),
            strings(&|e| e.session_id.clone()),
            floats(&|e| e.revenue),
            ints(&|e| e.nps),
            ints(&|e| e.csat),
            ints(&|e| e.ces),
            strings(&|e| e.comment.clone()),
            floats(&|e| e.duration_s),
            strings(&|e| e.country.clone()),
            strings(&|_| None),
        ],
    )
    .expect("fixture batch matches the schema")
}

/// Writes a record batch as a parquet file, creating folders.
pub fn write_parquet(path: &Path, batch: &RecordBatch) {
    std::fs::create_dir_all(path.parent().expect("file has a folder")).expect("create folder");
    let file = std::fs::File::create(path).expect("create parquet file");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("parquet writer");
    writer.write(batch).expect("write batch");
    writer.close().expect("close parquet");
}

/// Writes events into `<input>/touchpoints/date=<arrival>/part-0.parquet`, one file per day.
pub fn write_events(input: &Path, events: &[Event]) {
    let mut by_day: BTreeMap<NaiveDate, Vec<&Event>> = BTreeMap::new();
    for event in events {
        by_day.entry(event.arrival_date()).or_default().push(event);
    }
    for (day, events) in by_day {
        let path = input.join(format!("touchpoints/date={day}/part-0.parquet"));
        write_parquet(&path, &batch(&events));
    }
}

/// A temporary project: input and output folders, and the shipped queries/ and reports/ unless
/// a test gives its own.
pub struct TestProject {
    pub dir: tempfile::TempDir,
    pub queries: PathBuf,
    pub reports: PathBuf,
}

impl TestProject {
    pub fn new() -> Self {
        TestProject {
            dir: tempfile::tempdir().expect("temp dir"),
            queries: repo().join("queries"),
            reports: repo().join("reports"),
        }
    }

    pub fn input(&self) -> PathBuf {
        self.dir.path().join("input")
    }

    pub fn output(&self) -> PathBuf {
        self.dir.path().join("output")
    }

    pub fn events(self, events: &[Event]) -> Self {
        write_events(&self.input(), events);
        self
    }

    /// Uses a queries folder of its own holding these (name, sql) models.
    pub fn queries(mut self, models: &[(&str, &str)]) -> Self {
        let dir = self.dir.path().join("queries");
        std::fs::create_dir_all(&dir).expect("queries folder");
        for (name, sql) in models {
            std::fs::write(dir.join(format!("{name}.sql")), sql).expect("write model");
        }
        self.queries = dir;
        self
    }

    /// Uses a copy of the shipped queries/ (with its tests/) plus these (name, sql) models.
    pub fn shipped_queries_plus(mut self, models: &[(&str, &str)]) -> Self {
        let dir = self.dir.path().join("queries");
        copy_dir(&repo().join("queries"), &dir);
        for (name, sql) in models {
            std::fs::write(dir.join(format!("{name}.sql")), sql).expect("write model");
        }
        self.queries = dir;
        self
    }

    pub fn config(&self, run_date: &str) -> RunConfig {
        let mut config = RunConfig::new(
            &self.input().display().to_string(),
            &self.output().display().to_string(),
            date(run_date),
        );
        config.queries = self.queries.clone();
        config.reports = self.reports.clone();
        config
    }

    /// Runs the pipeline in-process for this date.
    pub fn run(&self, run_date: &str) -> cxpipe::Result<cxpipe::run::RunSummary> {
        runtime().block_on(cxpipe::run::run(&self.config(run_date)))
    }

    /// Runs and panics with the error if the run is not a full success.
    pub fn run_ok(&self, run_date: &str) -> &Self {
        if let Err(e) = self.run(run_date) {
            panic!("run {run_date} failed: {e}");
        }
        self
    }

    /// The rows of an output table of the run for `run_date`, as `a | b | c` strings of the
    /// named columns, in the table's order. Floats show up to 4 decimals; null is `null`.
    pub fn table(&self, run_date: &str, name: &str, columns: &[&str]) -> Vec<String> {
        read_table(
            &self.output().join(format!("runs/{run_date}/tables/{name}")),
            columns,
        )
    }

    pub fn run_dir(&self, run_date: &str) -> PathBuf {
        self.output().join(format!("runs/{run_date}"))
    }
}

/// Runs the real `cxpipe` binary from the repository root.
pub fn cxpipe(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cxpipe"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run cxpipe binary")
}

/// Runs the binary and fails the test, showing stderr, unless it exits 0.
pub fn cxpipe_ok(args: &[&str]) -> std::process::Output {
    let out = cxpipe(args);
    assert!(
        out.status.success(),
        "cxpipe {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl TestProject {
    /// `cxpipe run` on this project's folders for `date`, with extra arguments.
    pub fn run_binary(&self, date: &str, extra: &[&str]) -> std::process::Output {
        self.binary_with_env("run", date, extra, &[])
    }

    /// `cxpipe <command>` on this project's folders with environment variables set.
    pub fn binary_with_env(
        &self,
        command: &str,
        date: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Output {
        self.command(command, date, extra, env)
            .output()
            .expect("run cxpipe binary")
    }

    /// The `cxpipe` command line `binary_with_env` runs, to start it in the background.
    pub fn command(
        &self,
        command: &str,
        date: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Command {
        let (input, output) = (
            self.input().display().to_string(),
            self.output().display().to_string(),
        );
        let queries = self.queries.display().to_string();
        let mut args = vec![
            command,
            "--input",
            &input,
            "--output",
            &output,
            "--queries",
            &queries,
        ];
        if !date.is_empty() {
            args.extend(["--date", date]);
        }
        args.extend_from_slice(extra);
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cxpipe"));
        cmd.args(&args)
            .envs(env.iter().copied())
            .current_dir(repo());
        cmd
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Reads a table folder of parquet files into `a | b | c` rows.
pub fn read_table(dir: &Path, columns: &[&str]) -> Vec<String> {
    table_rows(dir, |batch, row| {
        columns
            .iter()
            .map(|c| {
                let column = batch
                    .column_by_name(c)
                    .unwrap_or_else(|| panic!("{} has no column {c}", dir.display()));
                format_cell(&ScalarValue::try_from_array(column, row).expect("cell value"))
            })
            .collect()
    })
}

/// Every row of the table in `dir`, every column at full precision, sorted: for comparing two
/// runs value for value (`read_table` rounds floats for hand-computed expectations).
pub fn exact_rows(dir: &Path) -> Vec<String> {
    let mut rows = table_rows(dir, |batch, row| {
        batch
            .columns()
            .iter()
            .map(|c| format!("{:?}", ScalarValue::try_from_array(c, row).expect("cell")))
            .collect()
    });
    rows.sort();
    rows
}

/// The rows of the parquet files in `dir`, each as its cells joined by ` | `.
fn table_rows(dir: &Path, cells: impl Fn(&RecordBatch, usize) -> Vec<String>) -> Vec<String> {
    let url = format!("{}/", dir.display());
    let batches = runtime().block_on(async {
        let ctx = SessionContext::new();
        let df = ctx
            .read_parquet(url.as_str(), ParquetReadOptions::default())
            .await
            .unwrap_or_else(|e| panic!("read {url}: {e}"));
        df.collect().await.expect("collect table")
    });
    batches
        .iter()
        .flat_map(|batch| (0..batch.num_rows()).map(|row| cells(batch, row).join(" | ")))
        .collect()
}

fn format_cell(value: &ScalarValue) -> String {
    if value.is_null() {
        return "null".into();
    }
    match value {
        ScalarValue::Float64(Some(v)) => format_float(*v),
        ScalarValue::Float32(Some(v)) => format_float(f64::from(*v)),
        ScalarValue::TimestampMicrosecond(Some(us), _) => {
            chrono::DateTime::from_timestamp_micros(*us)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default()
        }
        other => other.to_string(),
    }
}

fn format_float(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// The whole table as `a | b | ...` rows of every column, for eyeballing in failures.
pub fn columns_of(dir: &Path) -> Vec<String> {
    let url = format!("{}/", dir.display());
    runtime().block_on(async {
        let ctx = SessionContext::new();
        let df = ctx
            .read_parquet(url.as_str(), ParquetReadOptions::default())
            .await
            .expect("read table");
        df.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("file name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// Every table of the run for `run_date` in `output`: name -> all columns, rows sorted (two runs
/// may write equal tables in different row order where the SQL does not order them).
pub fn run_tables(output: &Path, run_date: &str) -> BTreeMap<String, Vec<String>> {
    let tables = output.join(format!("runs/{run_date}/tables"));
    let mut names: Vec<String> = std::fs::read_dir(&tables)
        .unwrap_or_else(|e| panic!("list {}: {e}", tables.display()))
        .map(|entry| {
            entry
                .expect("table folder")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let dir = tables.join(&name);
            let columns = columns_of(&dir);
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            let mut rows = read_table(&dir, &columns);
            rows.sort();
            (name, rows)
        })
        .collect()
}

/// The manifest of the run for `run_date` in `output`.
pub fn manifest(output: &Path, run_date: &str) -> serde_json::Value {
    let path = output.join(format!("runs/{run_date}/manifest.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("manifest is JSON")
}
