//! The DataFusion session a run executes in: memory pool with spill to disk, parallelism, and
//! the `run_context` table that tells SQL which day the run covers.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema};
use chrono::NaiveDate;
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::config::Engine;
use crate::error::{Error, Result};

/// Settings that shape execution, not results.
#[derive(Debug, Clone, Default)]
pub struct SessionSettings {
    /// Bytes DataFusion may hold before spilling to disk; None = unbounded.
    pub memory_limit: Option<usize>,
    /// Parallelism; None = the number of cores.
    pub target_partitions: Option<usize>,
}

/// A session for one run date.
pub fn context(settings: &SessionSettings, run_date: NaiveDate) -> Result<SessionContext> {
    let (config, runtime) = parts(settings);
    let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
    register_run_tables(&ctx, run_date)?;
    Ok(ctx)
}

/// A session for one run date whose queries execute on `engine`.
pub async fn context_for(
    engine: &Engine,
    settings: &SessionSettings,
    run_date: NaiveDate,
) -> Result<SessionContext> {
    match engine {
        Engine::Local => context(settings, run_date),
        #[cfg(feature = "ballista")]
        Engine::Ballista {
            host,
            port,
            hash_joins,
        } => {
            let (config, runtime) = parts(settings);
            let ctx = crate::cluster::remote_context(
                host,
                *port,
                *hash_joins,
                config,
                runtime,
                &format!("cxpipe {run_date}"),
            )
            .await?;
            register_run_tables(&ctx, run_date)?;
            Ok(ctx)
        }
        #[cfg(not(feature = "ballista"))]
        Engine::Ballista { .. } => Err(crate::error::Error::Usage(format!(
            "engine {engine} needs a cxpipe built with `--features ballista`"
        ))),
    }
}

/// The session's configuration and runtime (memory pool) for these settings.
pub fn parts(settings: &SessionSettings) -> (SessionConfig, RuntimeEnvBuilder) {
    let mut runtime = RuntimeEnvBuilder::new();
    let mut config = SessionConfig::new().with_information_schema(true);
    if let Some(limit) = settings.memory_limit {
        // A fair pool gives every spilling operator its share, so one sort cannot starve the
        // next; the merge reservation is scaled down so small limits still leave room to sort.
        runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        let execution = &mut config.options_mut().execution;
        execution.sort_spill_reservation_bytes =
            (limit / 32).min(execution.sort_spill_reservation_bytes);
    }
    // Positions of SQL elements, so planning errors can point at file:line:col.
    config.options_mut().sql_parser.collect_spans = true;
    // A join's build side up to 8 MB is collected once instead of both sides being
    // repartitioned: touchpoints' anti-join against the first copies (1.2 MB) otherwise moves
    // every wide row read between partitions.
    config
        .options_mut()
        .optimizer
        .hash_join_single_partition_threshold = 8 << 20;
    // Twice DataFusion's 8,192 rows per batch: a full run's ten million events pass through
    // every operator in half as many steps (0.4-0.5 s less in four of five alternating pairs of
    // full runs; a night and a 1 GiB-limited run unchanged).
    config = config.with_batch_size(16 * 1024);
    if let Some(partitions) = settings.target_partitions {
        config = config.with_target_partitions(partitions.max(1));
    }
    (config, runtime)
}

pub fn register_run_tables(ctx: &SessionContext, run_date: NaiveDate) -> Result<()> {
    ctx.register_table("run_context", run_context(run_date)?)?;
    for (name, value) in run_values(run_date) {
        ctx.register_udf(constant_function(name, value));
    }
    for function in crate::functions::all() {
        ctx.register_udf(function);
    }
    // `previous.<model>`: the previous run's tables, registered as the run finds them.
    let catalog = ctx
        .catalog(&ctx.state().config().options().catalog.default_catalog)
        .ok_or_else(|| Error::Usage("the session has no default catalog".into()))?;
    catalog.register_schema(
        crate::state::PREVIOUS_SCHEMA,
        Arc::new(datafusion::catalog::MemorySchemaProvider::new()),
    )?;
    // Zeros unless an incremental run continues from stored state.
    ctx.register_table(
        crate::state::EARLIER_TABLE,
        crate::state::earlier_table(crate::state::Ingested::default())?,
    )?;
    Ok(())
}

/// The run's day.
fn run_date_value(run_date: NaiveDate) -> ScalarValue {
    ScalarValue::Date32(Some(crate::inputs::days_since_epoch(run_date)))
}

/// The first instant after the run's day, UTC: events stamped from then on are not counted.
pub fn run_end_value(run_date: NaiveDate) -> ScalarValue {
    let days = i64::from(crate::inputs::days_since_epoch(run_date)) + 1;
    ScalarValue::TimestampMicrosecond(Some(days * 86_400_000_000), Some("UTC".into()))
}

/// `run_date()` and `run_end()`: the same values as functions.
fn run_values(run_date: NaiveDate) -> [(&'static str, ScalarValue); 2] {
    [
        ("run_date", run_date_value(run_date)),
        ("run_end", run_end_value(run_date)),
    ]
}

/// A function without arguments that returns `value`. The planner folds it into the query as a
/// literal, so a filter on it needs no join with `run_context` (on a cluster, a join with a
/// one-row table in every task of a scan).
fn constant_function(name: &str, value: ScalarValue) -> ScalarUDF {
    let data_type = value.data_type();
    create_udf(
        name,
        Vec::new(),
        data_type,
        Volatility::Immutable,
        Arc::new(move |_: &[ColumnarValue]| Ok(ColumnarValue::Scalar(value.clone()))),
    )
}

/// One row: `run_date` (R) and `run_end` (the first instant after R, UTC). Models use
/// `occurred_at < run_end`, so events stamped after the run's day are never counted.
fn run_context(run_date: NaiveDate) -> Result<Arc<MemTable>> {
    let values = run_values(run_date);
    let schema = Arc::new(Schema::new(
        values
            .iter()
            .map(|(name, value)| Field::new(*name, value.data_type(), false))
            .collect::<Vec<_>>(),
    ));
    let columns = values
        .iter()
        .map(|(_, value)| value.to_array())
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}
