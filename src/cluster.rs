//! Running the models on an Apache Ballista cluster (`--engine ballista://HOST:PORT`, built with
//! `--features ballista`): the driver's session, the `cxpipe scheduler` and `cxpipe executor`
//! processes, and what all three need to agree on.
//!
//! - **Plans travel as protobuf.** Ballista serialises only standard tables, so
//!   [`CxpipeCodec`] adds cxpipe's own: `raw_touchpoints` (sent as its file list; the scheduler
//!   plans the same parquet scan with the same per-file `arrival_date` and `source_file`) and the
//!   small in-memory tables `run_context`, `input_files` and `earlier_inputs` (sent as Arrow IPC).
//! - **Stores come from each process's own environment.** [`EnvStores`] builds `s3://`, `gs://`
//!   and `az://` stores on first use from the `AWS_*`, `GOOGLE_*` and `AZURE_*` variables of the
//!   process that needs them, so no credentials travel with a query; `file://` is a folder every
//!   machine mounts at the same path.
//! - **Every function everywhere.** Executors decode functions by name from the full DataFusion
//!   registry (Ballista's default lacks `range`, `unnest` helpers and the other nested functions).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use ballista::prelude::SessionContextExt;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use datafusion::common::Statistics;
use datafusion::common::TableReference;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{FunctionRegistry, SessionStateBuilder, TaskContext};
use datafusion::logical_expr::ScalarUDF;
use datafusion::logical_expr::{ExprSchemable, Extension, LogicalPlan};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use object_store::ObjectStore;
use url::Url;

use crate::cli::{ExecutorArgs, SchedulerArgs};
use crate::error::{Error, Result};
use crate::inputs::{RawScan, TouchpointsTable};
use crate::storage::Location;

/// A driver session whose queries run on the Ballista scheduler at `host:port`. `config` is the
/// local session's; Ballista's planner settings are applied on top (sort-merge joins, plain
/// Utf8 strings), and its memory pool stays local (executors have their own).
pub async fn remote_context(
    host: &str,
    port: u16,
    hash_joins: bool,
    config: SessionConfig,
    runtime: RuntimeEnvBuilder,
    job: &str,
) -> Result<SessionContext> {
    let config = config
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(Arc::new(CxpipeCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(CxpipePhysicalCodec::default()))
        .with_ballista_job_name(job)
        // The adaptive planner (on by default in Ballista 55) can hand a sort with a row limit
        // an input without partitions, which DataFusion 55 rejects by panicking in the
        // executor; the static planner runs every shipped model.
        .set_bool(
            ballista_core::config::BALLISTA_ADAPTIVE_PLANNER_ENABLED,
            false,
        )
        // Ballista prefers sort-merge joins because they spill; `?joins=hash` opts out.
        .set_bool("datafusion.optimizer.prefer_hash_join", hash_joins);
    let runtime = runtime
        .with_object_store_registry(Arc::new(EnvStores::default()))
        .build_arc()?;
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .build();
    Ok(SessionContext::remote_with_state(&format!("df://{host}:{port}"), state).await?)
}

/// A local session planned the way a Ballista scheduler plans (`cxpipe check --engine`).
pub fn planning_config(config: SessionConfig) -> SessionConfig {
    config.upgrade_for_ballista()
}

/// Checks that the cluster can run `df`: the plan reads no `information_schema` alongside other
/// tables, it serialises and deserialises as it would on its way to the scheduler, and its
/// physical plan serialises as it would on its way to the executors.
pub async fn check_distributable(ctx: &SessionContext, df: &DataFrame) -> DfResult<()> {
    let plan = ctx.state().optimize(df.logical_plan())?;
    ballista_core::planner::scans_only_information_schema(&plan)?;
    joins_on_comparable_keys(&plan)?;
    let codec = CxpipeCodec::default();
    let bytes = datafusion_proto::bytes::logical_plan_to_bytes_with_extension_codec(&plan, &codec)
        .map_err(|e| {
            DataFusionError::NotImplemented(format!(
                "Ballista cannot send this query to the scheduler: {e}"
            ))
        })?;
    datafusion_proto::bytes::logical_plan_from_bytes_with_extension_codec(
        &bytes,
        &ctx.task_ctx(),
        &codec,
    )
    .map_err(|e| {
        DataFusionError::NotImplemented(format!(
            "the Ballista scheduler cannot read this query back: {e}"
        ))
    })?;
    let physical = ctx.state().create_physical_plan(&plan).await?;
    datafusion_proto::bytes::physical_plan_to_bytes_with_extension_codec(
        physical,
        &CxpipePhysicalCodec::default(),
    )
    .map_err(|e| {
        DataFusionError::NotImplemented(format!(
            "Ballista cannot send this query's execution plan to the executors: {}",
            unsupported(&e.to_string())
        ))
    })?;
    Ok(())
}

/// A cluster joins large inputs with sort-merge joins, whose key comparator (DataFusion 55)
/// has no zoned timestamps: such a join fails on the executors once the data is large enough
/// not to be broadcast, so it is refused here whatever the size.
fn joins_on_comparable_keys(plan: &LogicalPlan) -> DfResult<()> {
    plan.apply(|node| {
        if let LogicalPlan::Join(join) = node {
            for (left, _) in &join.on {
                if let DataType::Timestamp(_, Some(_)) = left.get_type(join.left.schema())? {
                    return Err(DataFusionError::NotImplemented(format!(
                        "it joins on the zoned timestamp `{left}`, which a cluster's sort-merge join \
                         cannot compare; join on an id or a day and compare the times with `<=` \
                         in the ON clause (as int_identity_candidates.sql does)"
                    )));
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map(|_| ())
}

/// The operator a serialisation error names, and the SQL that makes it, without the plan dump.
fn unsupported(error: &str) -> String {
    let node = error
        .split("Unsupported plan node, name: [")
        .nth(1)
        .and_then(|rest| rest.split(']').next());
    match node {
        Some("RecursiveQueryExec") => {
            "a recursive CTE (`with recursive`) cannot run on a cluster; use range()/unnest or a join instead".into()
        }
        Some(node) => format!("its {node} operator cannot run on a cluster"),
        None => error.split(". Plan:").next().unwrap_or(error).to_string(),
    }
}

/// Object stores built on first use from this process's environment (see the module docs).
#[derive(Debug, Default)]
pub struct EnvStores {
    known: DefaultObjectStoreRegistry,
}

impl ObjectStoreRegistry for EnvStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.known.get_store(url) {
            return Ok(store);
        }
        let root = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
        if url.scheme() == "memory" {
            return Err(DataFusionError::Configuration(format!(
                "{root} is an in-process store that a Ballista cluster cannot share; use a folder every machine mounts, or s3://, gs://, az://"
            )));
        }
        let location = Location::parse(&root, false).map_err(|e| {
            DataFusionError::Configuration(format!(
                "cannot open the object store {root} on this machine: {e}"
            ))
        })?;
        let store = location.store().clone();
        self.known.register_store(url, store.clone());
        Ok(store)
    }
}

/// Ballista's codec plus cxpipe's tables (see the module docs). Everything else is delegated,
/// so file formats (`COPY`, `write_parquet`) keep Ballista's encoding.
#[derive(Debug, Default)]
pub struct CxpipeCodec {
    ballista: BallistaLogicalExtensionCodec,
}

/// Whether a session plans for a Ballista cluster (scheduler, or `check --engine`), whose
/// executors receive its physical plans as protobuf.
pub fn plans_for_cluster(config: &SessionConfig) -> bool {
    config
        .options()
        .extensions
        .get::<ballista_core::config::BallistaConfig>()
        .is_some()
}

/// The scan of `raw_touchpoints` on a cluster. DataFusion's protobuf form of a parquet scan has
/// no virtual columns, so `source_row` would not reach the executors. This node travels as its
/// [`RawScan`] with one child, a plain parquet scan of the same files (the carrier): the
/// scheduler gives each task its share of the carrier's files, as it does for any scan, and the
/// node plans its own scan, `source_row` included, over exactly those files. The carrier itself
/// is never executed.
#[derive(Debug)]
pub struct RawScanExec {
    scan: RawScan,
    carrier: Arc<dyn ExecutionPlan>,
    planned: Arc<dyn ExecutionPlan>,
}

impl RawScanExec {
    pub fn try_new(scan: RawScan, groups: Vec<FileGroup>) -> DfResult<Arc<dyn ExecutionPlan>> {
        let carrier = scan.carrier(groups)?;
        Self::over(scan, carrier)
    }

    /// The scan over the files `carrier` (a parquet scan) reads.
    fn over(scan: RawScan, carrier: Arc<dyn ExecutionPlan>) -> DfResult<Arc<dyn ExecutionPlan>> {
        let groups = file_groups(&carrier)
            .map(<[FileGroup]>::to_vec)
            .ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "the raw scan's files must come from a parquet scan, not {}",
                    carrier.name()
                ))
            })?;
        let planned = scan.plan(groups)?;
        Ok(Arc::new(RawScanExec {
            scan,
            carrier,
            planned,
        }))
    }
}

/// The files a parquet scan reads, one group per partition.
fn file_groups(plan: &Arc<dyn ExecutionPlan>) -> Option<&[FileGroup]> {
    let exec = plan.downcast_ref::<DataSourceExec>()?;
    let source: &dyn std::any::Any = exec.data_source().as_ref();
    Some(&source.downcast_ref::<FileScanConfig>()?.file_groups)
}

impl DisplayAs for RawScanExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "RawScanExec: ")?;
        self.planned.fmt_as(DisplayFormatType::Default, f)
    }
}

impl ExecutionPlan for RawScanExec {
    fn name(&self) -> &str {
        "RawScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.planned.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.carrier]
    }

    // The carrier is a list of files, not an input: nothing may be put between it and this node.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match <[_; 1]>::try_from(children) {
            Ok([carrier]) if Arc::ptr_eq(&carrier, &self.carrier) => Ok(self),
            Ok([carrier]) => Self::over(self.scan.clone(), carrier),
            Err(children) => Err(DataFusionError::Internal(format!(
                "RawScanExec takes one child, not {}",
                children.len()
            ))),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        self.planned.execute(partition, context)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.planned.metrics()
    }

    fn statistics_from_inputs(
        &self,
        _: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> DfResult<Arc<Statistics>> {
        // The scan's own statistics, so joins keep raw rows on the probe side.
        self.planned.statistics_from_inputs(&[], args)
    }
}

/// Ballista's physical codec plus [`RawScanExec`].
#[derive(Debug, Default)]
pub struct CxpipePhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for CxpipePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match buf.split_first() {
            Some((&RAW_SCAN, json)) => {
                let scan: RawScan = serde_json::from_slice(json).map_err(|e| {
                    DataFusionError::Internal(format!("cannot decode the raw scan: {e}"))
                })?;
                let [carrier] = inputs else {
                    return Err(DataFusionError::Internal(format!(
                        "the raw scan takes one input, not {}",
                        inputs.len()
                    )));
                };
                RawScanExec::over(scan, Arc::clone(carrier))
            }
            _ => self.ballista.try_decode(buf, inputs, ctx, converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        match node.downcast_ref::<RawScanExec>() {
            Some(raw) => {
                buf.push(RAW_SCAN);
                serde_json::to_writer(buf, &raw.scan).map_err(|e| {
                    DataFusionError::Internal(format!("cannot encode the raw scan: {e}"))
                })
            }
            None => self.ballista.try_encode(node, buf, converter),
        }
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        self.ballista.try_encode_udf(node, buf)
    }
}

/// The first byte of an encoded cxpipe table says which kind it is.
const MEMORY_TABLE: u8 = 0xC1;
const TOUCHPOINTS_TABLE: u8 = 0xC2;
/// ... and of an encoded [`RawScanExec`].
const RAW_SCAN: u8 = 0xC3;

impl LogicalExtensionCodec for CxpipeCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> DfResult<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: arrow::datatypes::SchemaRef,
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn TableProvider>> {
        match buf.split_first() {
            Some((&MEMORY_TABLE, ipc)) => {
                let reader = StreamReader::try_new(ipc, None)?;
                let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
            }
            Some((&TOUCHPOINTS_TABLE, json)) => {
                let table: TouchpointsTable = serde_json::from_slice(json).map_err(|e| {
                    DataFusionError::Internal(format!("cannot decode table {table_ref}: {e}"))
                })?;
                Ok(Arc::new(table))
            }
            _ => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> DfResult<()> {
        if let Some(table) = node.downcast_ref::<MemTable>() {
            buf.push(MEMORY_TABLE);
            let schema = table.schema();
            let mut writer = StreamWriter::try_new(&mut *buf, &schema)?;
            for partition in &table.batches {
                let batches = partition.try_read().map_err(|_| {
                    DataFusionError::Internal(format!(
                        "table {table_ref} is being written while it is sent"
                    ))
                })?;
                for batch in batches.iter() {
                    writer.write(batch)?;
                }
            }
            writer.finish()?;
            return Ok(());
        }
        if let Some(table) = node.downcast_ref::<TouchpointsTable>() {
            buf.push(TOUCHPOINTS_TABLE);
            serde_json::to_writer(&mut *buf, table).map_err(|e| {
                DataFusionError::Internal(format!("cannot encode table {table_ref}: {e}"))
            })?;
            return Ok(());
        }
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
            .map_err(|_| {
                DataFusionError::NotImplemented(format!(
                    "table {table_ref} is held in the driver's memory and cannot be sent to a Ballista cluster"
                ))
            })
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> DfResult<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// Ballista's own log lines on stderr: warnings and errors, or down to the level in
/// `CXPIPE_CLUSTER_LOG` (`info`, `debug`).
struct StderrLog(log::LevelFilter);

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= self.0
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "{} {} {}: {}",
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

fn init_log() {
    let level = match std::env::var("CXPIPE_CLUSTER_LOG").as_deref() {
        Ok("debug") => log::LevelFilter::Debug,
        Ok("info") => log::LevelFilter::Info,
        Ok("error") => log::LevelFilter::Error,
        _ => log::LevelFilter::Warn,
    };
    if log::set_boxed_logger(Box::new(StderrLog(level))).is_ok() {
        log::set_max_level(level);
    }
}

/// `HOST:PORT` as given, or a usage error naming the flag.
fn host_port(text: &str, flag: &str) -> Result<(String, u16)> {
    let usage = || {
        Error::Usage(format!(
            "invalid {flag} '{text}': use HOST:PORT, e.g. 127.0.0.1:50050"
        ))
    };
    let (host, port) = text.trim().rsplit_once(':').ok_or_else(usage)?;
    let port = port.parse::<u16>().map_err(|_| usage())?;
    if host.is_empty() {
        return Err(usage());
    }
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

fn resolve(host: &str, port: u16, flag: &str) -> Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| Error::Usage(format!("{flag}: cannot resolve host '{host}'")))
}

/// A runtime whose stores come from this process's environment.
fn shared_runtime(temp: Option<&std::path::Path>) -> DfResult<Arc<RuntimeEnv>> {
    let mut builder =
        RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(EnvStores::default()));
    if let Some(dir) = temp {
        builder = builder.with_temp_file_path(dir);
    }
    builder.build_arc()
}

/// `cxpipe scheduler`: serves until interrupted (Ctrl-C or SIGTERM).
pub async fn scheduler(args: &SchedulerArgs) -> Result<()> {
    init_log();
    let (host, port) = host_port(&args.bind, "--bind")?;
    let address = resolve(&host, port, "--bind")?;
    let external = args.external_host.clone().unwrap_or_else(|| {
        if host == "0.0.0.0" {
            "localhost".to_string()
        } else {
            host.clone()
        }
    });
    let runtime = shared_runtime(None)?;
    let mut config = SchedulerConfig::default()
        .with_hostname(&external)
        .with_port(port)
        .with_override_session_builder(Arc::new(move |config: SessionConfig| {
            let state = ballista_core::utils::default_session_builder(config)?;
            let mut state = SessionStateBuilder::new_from_existing(state)
                .with_runtime_env(runtime.clone())
                .build();
            // Plans arrive naming cxpipe's functions; the scheduler resolves them by name.
            for function in crate::functions::all() {
                state.register_udf(Arc::new(function))?;
            }
            Ok(state)
        }));
    config.bind_host = host.clone();
    config.min_ready_executors = args.min_executors.max(1);
    config.override_logical_codec = Some(Arc::new(CxpipeCodec::default()));
    config.override_physical_codec = Some(Arc::new(CxpipePhysicalCodec::default()));
    let config = Arc::new(config);
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| Error::Engine(format!("cannot start the scheduler: {e}")))?;
    eprintln!(
        "cxpipe: scheduler listening on {address} (clients and executors use {external}:{port}); Ctrl-C to stop"
    );
    tokio::select! {
        served = start_server(cluster, address, config) => served.map_err(|e| {
            Error::Engine(format!("scheduler on {address} stopped: {e}; is the port already in use?"))
        }),
        _ = stop_signal() => {
            eprintln!("cxpipe: scheduler stopped");
            Ok(())
        }
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `cxpipe executor`: registers with the scheduler and runs its tasks until interrupted.
pub async fn executor(args: &ExecutorArgs) -> Result<()> {
    init_log();
    let (scheduler_host, scheduler_port) = host_port(&args.scheduler, "--scheduler")?;
    let (bind_host, port) = host_port(&args.bind, "--bind")?;
    let grpc_port = match args.grpc_port {
        Some(p) => p,
        None => port.checked_add(1).ok_or_else(|| {
            Error::Usage("--bind port 65535 leaves no port for --grpc-port; give one".into())
        })?,
    };
    let memory_pool_size = args
        .memory_limit
        .as_deref()
        .map(crate::config::parse_memory)
        .transpose()?
        .map(|bytes| bytes as u64);
    // A folder we made is ours to remove; one the user named is theirs.
    let (work_dir, made) = match &args.work_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("cxpipe-executor-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&work_dir).map_err(|e| {
        Error::Usage(format!(
            "cannot create the work dir {}: {e}; give a writable --work-dir",
            work_dir.display()
        ))
    })?;
    let runtime_dir = work_dir.clone();
    let registry = Arc::new(EnvStores::default());
    let mut functions =
        BallistaFunctionRegistry::from(&SessionStateBuilder::new().with_default_features().build());
    for function in crate::functions::all() {
        functions
            .scalar_functions
            .insert(function.name().to_string(), Arc::new(function));
    }
    let external_host = args
        .external_host
        .clone()
        .or_else(|| (bind_host != "0.0.0.0").then(|| bind_host.clone()));
    let config = ExecutorProcessConfig {
        bind_host: bind_host.clone(),
        external_host,
        port,
        grpc_port,
        scheduler_host,
        scheduler_port,
        scheduler_connect_timeout_seconds: 60,
        vcores: args.concurrent_tasks.unwrap_or(0),
        work_dir: Some(work_dir.display().to_string()),
        memory_pool_size,
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| {
            Ok(Arc::new(
                RuntimeEnvBuilder::new()
                    .with_temp_file_path(runtime_dir.clone())
                    .with_object_store_registry(registry.clone())
                    .build()?,
            ))
        })),
        override_function_registry: Some(Arc::new(functions)),
        override_logical_codec: Some(Arc::new(CxpipeCodec::default())),
        override_physical_codec: Some(Arc::new(CxpipePhysicalCodec::default())),
        ..Default::default()
    };
    eprintln!(
        "cxpipe: executor on {bind_host}:{port} (tasks on gRPC port {grpc_port}) for scheduler {}; work dir {}",
        args.scheduler,
        work_dir.display()
    );
    let ran = start_executor_process(Arc::new(config)).await;
    if made {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    ran.map_err(|e| {
        Error::Engine(format!(
            "executor stopped: {e}; check that the scheduler at {} is running and the ports are free",
            args.scheduler
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballista_scheduler::state::task_builder::restrict_plan_to_partitions;
    use datafusion::datasource::listing::PartitionedFile;
    use datafusion::scalar::ScalarValue;

    fn file(name: &str, seq: i64) -> PartitionedFile {
        PartitionedFile::new(name, 1000).with_partition_values(vec![
            ScalarValue::Date32(Some(20_000)),
            ScalarValue::Utf8(Some(name.to_string())),
            ScalarValue::Int64(Some(seq)),
        ])
    }

    /// The files the node's own scan reads, partition by partition.
    fn scanned(plan: &Arc<dyn ExecutionPlan>) -> Vec<Vec<String>> {
        let Some(raw) = plan.downcast_ref::<RawScanExec>() else {
            panic!("expected a RawScanExec, got {}", plan.name());
        };
        let groups = file_groups(&raw.planned).expect("the raw scan plans a parquet scan");
        groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|f| f.object_meta.location.to_string())
                    .collect()
            })
            .collect()
    }

    // A task of a stage reads only its partition's files, and the node reaches the executor
    // with them and with `source_row`: without both, every task read every file.
    #[test]
    fn a_task_scans_only_its_partitions_files_and_keeps_source_row_on_the_way() {
        let groups = vec![
            FileGroup::new(vec![file("a.parquet", 0), file("b.parquet", 1)]),
            FileGroup::new(vec![file("c.parquet", 2)]),
        ];
        let scan = RawScan::every_column("file:///", 30);
        let plan = RawScanExec::try_new(scan, groups).expect("planned");
        assert_eq!(
            scanned(&plan),
            vec![vec!["a.parquet", "b.parquet"], vec!["c.parquet"]]
        );

        let task = restrict_plan_to_partitions(plan, &[1]).expect("restricted");
        assert_eq!(scanned(&task), vec![vec!["c.parquet"]]);
        assert_eq!(task.properties().output_partitioning().partition_count(), 1);

        let codec = CxpipePhysicalCodec::default();
        let bytes = datafusion_proto::bytes::physical_plan_to_bytes_with_extension_codec(
            Arc::clone(&task),
            &codec,
        )
        .expect("encoded");
        let arrived = datafusion_proto::bytes::physical_plan_from_bytes_with_extension_codec(
            &bytes,
            &SessionContext::new().task_ctx(),
            &codec,
        )
        .expect("decoded");
        assert_eq!(scanned(&arrived), vec![vec!["c.parquet"]]);
        assert!(arrived.schema().field_with_name("source_row").is_ok());
        assert_eq!(arrived.schema(), task.schema());
    }
}
