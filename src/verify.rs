//! Runs data tests after the models: each test's query counts failing rows; 0 passes. A failing
//! `error` test fails the run (exit code 7); a failing `warn` test is reported only.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, stream};
use serde::Serialize;
use serde_json::json;

use crate::log::Log;
use crate::project::{DataTest, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    Pass,
    /// Failing rows, severity error: the run fails.
    Fail,
    /// Failing rows, severity warn.
    Warn,
    /// The test's query itself failed.
    Error,
    /// A model it checks did not run.
    Skipped,
}

/// One test's result, as recorded in the manifest and shown in the report.
#[derive(Debug, Clone, Serialize)]
pub struct TestRun {
    pub name: String,
    pub models: Vec<String>,
    pub severity: Severity,
    pub declared_at: String,
    pub status: TestStatus,
    pub failing_rows: Option<u64>,
    pub error: Option<String>,
    /// How long the test's query took (shared with the test running beside it).
    pub seconds: f64,
    pub checked: Checked,
}

/// Which of its model's rows a test read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    AllRows,
    /// The months a `partition_by:` model wrote in this run: the months it kept from the
    /// previous run passed this test there.
    RowsWritten,
}

impl TestRun {
    /// Whether this result fails the run.
    pub fn fails_run(&self) -> bool {
        self.severity == Severity::Error
            && matches!(self.status, TestStatus::Fail | TestStatus::Error)
    }
}

/// How many tests' queries run at once: most take a few milliseconds, much of it planning, and
/// two at once left a core idle part of the time (a night's tests 78–88 ms, with four 70–76 ms).
const CONCURRENT_TESTS: usize = 4;

/// Runs the tests; `rows_written` says which may read only their model's rows written by this
/// run (their [`DataTest::per_part`] query).
pub async fn run_tests<'a>(
    ctx: &SessionContext,
    tests: impl Iterator<Item = &'a DataTest>,
    model_ok: impl Fn(&str) -> bool,
    rows_written: impl Fn(&DataTest) -> bool,
    log: &Log,
) -> Vec<TestRun> {
    let tests: Vec<&DataTest> = tests.collect();
    // Tests only read, so several run at once; results are reported in declaration order.
    let count = tests.len();
    let model_ok = &model_ok;
    let checked: Vec<(Checked, &str)> = tests
        .iter()
        .map(|test| match &test.per_part {
            Some(part) if rows_written(test) => (Checked::RowsWritten, part.sql.as_str()),
            _ => (Checked::AllRows, test.sql.as_str()),
        })
        .collect();
    let outcomes: Vec<(Option<Result<u64, String>>, f64)> =
        stream::iter(tests.iter().zip(&checked).enumerate())
            .map(|(index, (test, (_, sql)))| {
                let runs_now = test.models.iter().all(|m| model_ok(m));
                async move {
                    log.progress("tests", index, count, &test.name);
                    let started = std::time::Instant::now();
                    let outcome = match runs_now {
                        true => Some(failing_rows_of(ctx, sql).await),
                        false => None,
                    };
                    (outcome, started.elapsed().as_secs_f64())
                }
            })
            .buffered(CONCURRENT_TESTS)
            .collect()
            .await;
    let mut runs = Vec::new();
    for ((test, (checked, _)), (outcome, seconds)) in tests.iter().zip(checked).zip(outcomes) {
        let (status, failing_rows, error) = match outcome {
            Some(Ok(0)) => (TestStatus::Pass, Some(0), None),
            Some(Ok(n)) if test.severity == Severity::Warn => (TestStatus::Warn, Some(n), None),
            Some(Ok(n)) => (TestStatus::Fail, Some(n), None),
            Some(Err(e)) => (TestStatus::Error, None, Some(e)),
            None => (
                TestStatus::Skipped,
                None,
                Some("a model it checks did not run".to_string()),
            ),
        };
        let run = TestRun {
            name: test.name.clone(),
            models: test.models.clone(),
            severity: test.severity,
            declared_at: test.declared_at.clone(),
            status,
            failing_rows,
            error,
            seconds,
            checked,
        };
        let fields = [
            ("test", json!(run.name)),
            ("status", json!(run.status)),
            ("failing_rows", json!(run.failing_rows)),
        ];
        match run.status {
            TestStatus::Pass => log.info("test", &format!("test {} passed", run.name), &fields),
            _ => log.warn(
                "test",
                &format!(
                    "test {} {}: {} ({})",
                    run.name,
                    format!("{:?}", run.status).to_lowercase(),
                    run.error.clone().unwrap_or_else(|| format!(
                        "{} failing rows",
                        run.failing_rows.unwrap_or(0)
                    )),
                    run.declared_at
                ),
                &fields,
            ),
        }
        runs.push(run);
    }
    log.progress("tests", tests.len(), tests.len(), "done");
    runs
}

async fn failing_rows_of(ctx: &SessionContext, sql: &str) -> Result<u64, String> {
    let batches = async { ctx.sql(sql).await?.collect().await }
        .await
        .map_err(|e| e.to_string().lines().collect::<Vec<_>>().join(" "))?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or("the test returned no row")?;
    let column = batch.column(0);
    let casted =
        datafusion::arrow::compute::cast(column, &datafusion::arrow::datatypes::DataType::Int64)
            .map_err(|e| e.to_string())?;
    let values = casted.as_primitive::<Int64Type>();
    if values.is_null(0) {
        return Ok(0);
    }
    Ok(values.value(0).max(0) as u64)
}
