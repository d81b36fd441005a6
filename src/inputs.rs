//! Touchpoint input: finds the `touchpoints/date=YYYY-MM-DD/` partitions a run may read (arrival
//! date <= R; later partitions are never listed), checks every file's footer against the
//! contract's schema, and exposes all rows, normalised to one schema, to SQL as
//! `raw_touchpoints`. Which rows are valid, duplicates and identity are decided in SQL
//! (`queries/touchpoints.sql`), where analysts can read the rules.

use std::sync::Arc;

use arrow::array::{Date32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::FieldRef;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::NaiveDate;
use datafusion::catalog::Session;
use datafusion::common::Statistics;
use datafusion::common::stats::Precision;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfigBuilder, ParquetFileReaderFactory, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::datasource::{MemTable, TableProvider, TableType};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, RowNumber};
// Deprecated in parquet 59 in favour of a hand-written AsyncFileReader; still the reader
// DataFusion 55's own examples use, and it does exactly one ranged read for the footer.
#[allow(deprecated)]
use parquet::arrow::async_reader::ParquetObjectReader;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::naive_utc::NaiveAsUtcFactory;
use crate::storage::Location;

/// The SQL name of every input row, normalised.
pub const RAW_TABLE: &str = "raw_touchpoints";
/// The SQL name of the list of files read: path, arrival_date, bytes, rows.
pub const FILES_TABLE: &str = "input_files";

/// What kind of values a contract column holds, and so which physical types are accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    /// Text, or an integer id (many exports store ids as numbers).
    Id,
    Timestamp,
    /// Any number: float, decimal or integer.
    Number,
    /// A survey answer: an integer, or a float holding one (pandas writes nullable ints as floats).
    Score,
}

struct ColumnSpec {
    name: &'static str,
    required: bool,
    kind: Kind,
}

const fn spec(name: &'static str, required: bool, kind: Kind) -> ColumnSpec {
    ColumnSpec {
        name,
        required,
        kind,
    }
}

/// The contract's input columns (CONTRACT.md §1), in order.
const COLUMNS: [ColumnSpec; 15] = [
    spec("event_id", true, Kind::Id),
    spec("occurred_at", true, Kind::Timestamp),
    spec("anonymous_id", true, Kind::Id),
    spec("channel", true, Kind::Text),
    spec("touchpoint", true, Kind::Text),
    spec("customer_id", false, Kind::Id),
    spec("session_id", false, Kind::Id),
    spec("revenue", false, Kind::Number),
    spec("nps", false, Kind::Score),
    spec("csat", false, Kind::Score),
    spec("ces", false, Kind::Score),
    spec("comment", false, Kind::Text),
    spec("duration_s", false, Kind::Number),
    spec("country", false, Kind::Text),
    spec("properties", false, Kind::Text),
];

impl Kind {
    fn canonical(self) -> DataType {
        match self {
            // Strings as views: the parquet reader points them into the pages it decoded
            // instead of copying each value out, and every later copy of a row (the anti-join's
            // `take` of the kept events above all) moves 16-byte views, not the bytes.
            Kind::Text | Kind::Id => DataType::Utf8View,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Number | Kind::Score => DataType::Float64,
        }
    }

    fn accepts(self, data_type: &DataType) -> bool {
        let text = |t: &DataType| {
            matches!(
                t,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
            )
        };
        match (self, data_type) {
            (_, DataType::Dictionary(_, value)) => self.accepts(value),
            (Kind::Text, t) => text(t),
            (Kind::Id, t) => text(t) || t.is_integer(),
            (Kind::Timestamp, t) => matches!(t, DataType::Timestamp(_, _) | DataType::Null),
            (Kind::Number | Kind::Score, t) => t.is_numeric() || matches!(t, DataType::Null),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Id => "a string (or integer id)",
            Kind::Timestamp => "a timestamp (any unit, naive = UTC)",
            Kind::Number => "a number (float, decimal or integer)",
            Kind::Score => "an integer",
        }
    }
}

/// The schema of `raw_touchpoints`: the contract's columns in canonical types, plus where each
/// row came from.
pub fn raw_schema() -> SchemaRef {
    let mut fields: Vec<Field> = COLUMNS
        .iter()
        .map(|c| Field::new(c.name, c.kind.canonical(), true))
        .collect();
    fields.extend(partition_fields().iter().map(|f| f.as_ref().clone()));
    fields.extend(virtual_fields().iter().map(|f| f.as_ref().clone()));
    Arc::new(Schema::new(fields))
}

/// One parquet file of one arrival-date partition.
#[derive(Debug, Clone, Serialize)]
pub struct InputFile {
    pub arrival_date: NaiveDate,
    /// Path inside the input store.
    pub path: String,
    pub bytes: u64,
    /// From the footer; filled in by [`inspect`].
    pub rows: u64,
    /// The store's version of the object (e-tag and modification time): a file rewritten in
    /// place is not the file an earlier run read.
    pub version: String,
    #[serde(skip)]
    location: Path,
    #[serde(skip)]
    schema: Option<SchemaRef>,
}

impl InputFile {
    /// The file as listed in `input_files` and kept in the incremental state.
    pub fn row(&self) -> FileRow {
        FileRow {
            path: self.path.clone(),
            arrival_date: self.arrival_date,
            bytes: self.bytes,
            rows: self.rows,
            version: self.version.clone(),
        }
    }
}

/// One row of `input_files`: a file a run's tables are computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRow {
    pub path: String,
    pub arrival_date: NaiveDate,
    pub bytes: u64,
    pub rows: u64,
    /// Not in the table: the store's version, to notice a file rewritten in place.
    pub version: String,
}

/// What the run found under `<input>/touchpoints/`.
#[derive(Debug, Default, Serialize)]
pub struct Discovery {
    pub files: Vec<InputFile>,
    /// Partitions after the run date, seen by name and never listed or read.
    pub later_partitions: usize,
    /// Folder names under touchpoints/ that are not `date=YYYY-MM-DD`, ignored.
    pub ignored: Vec<String>,
}

/// Lists the partitions with arrival date <= `run_date` and the parquet files inside them.
pub async fn discover(input: &Location, run_date: NaiveDate) -> Result<Discovery> {
    let root = input.path("touchpoints");
    let store = input.store();
    let listing = store
        .list_with_delimiter(Some(&root))
        .await
        .map_err(|e| Error::input(input.url_of(&root), format!("cannot list: {e}")))?;
    let mut discovery = Discovery::default();
    let mut partitions = Vec::new();
    for prefix in listing.common_prefixes {
        let name = prefix.filename().unwrap_or_default().to_string();
        match name
            .strip_prefix("date=")
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            Some(date) if date <= run_date => partitions.push((date, prefix)),
            Some(_) => discovery.later_partitions += 1,
            None => discovery.ignored.push(name),
        }
    }
    if partitions.is_empty() {
        return Err(Error::input(
            input.url_of(&root),
            format!(
                "no partitions touchpoints/date=YYYY-MM-DD/ on or before {run_date}; check --input and --date"
            ),
        ));
    }
    partitions.sort();
    let listed: Vec<Vec<InputFile>> = futures::stream::iter(partitions)
        .map(|(date, prefix)| async move {
            let objects: Vec<_> =
                store.list(Some(&prefix)).try_collect().await.map_err(|e| {
                    Error::input(input.url_of(&prefix), format!("cannot list: {e}"))
                })?;
            let mut files: Vec<InputFile> = objects
                .into_iter()
                .filter(|o| is_data_file(&o.location))
                .map(|o| InputFile {
                    arrival_date: date,
                    path: o.location.to_string(),
                    bytes: o.size,
                    rows: 0,
                    version: format!(
                        "{}@{}",
                        o.e_tag.as_deref().unwrap_or(""),
                        o.last_modified.to_rfc3339()
                    ),
                    location: o.location,
                    schema: None,
                })
                .collect();
            files.sort_by(|a, b| a.path.cmp(&b.path));
            Ok::<_, Error>(files)
        })
        .buffered(16)
        .try_collect()
        .await?;
    discovery.files = listed.into_iter().flatten().collect();
    Ok(discovery)
}

/// Parquet files only; hidden and marker files (`.crc`, `_SUCCESS`, in-progress uploads) are not data.
fn is_data_file(path: &Path) -> bool {
    let name = path.filename().unwrap_or_default();
    name.ends_with(".parquet") && !name.starts_with('.') && !name.starts_with('_')
}

/// A file that cannot be read as touchpoints, and why.
#[derive(Debug, Clone, Serialize)]
pub struct BadFile {
    pub path: String,
    pub reason: String,
}

/// Reads every file's footer and checks its columns against the contract, before any data is
/// read. Good files keep their schema and row count; bad ones (corrupt, a required column
/// missing, an incompatible type) are taken out and returned with the error naming them.
pub async fn inspect(
    input: &Location,
    files: &mut Vec<InputFile>,
    progress: impl Fn(usize, usize),
) -> Vec<(BadFile, Error)> {
    let store = input.store().clone();
    let total = files.len();
    let mut done = 0;
    let footers: Vec<Result<(SchemaRef, u64)>> = futures::stream::iter(files.iter())
        .map(|file| {
            #[allow(deprecated)]
            let reader = ParquetObjectReader::new(store.clone(), file.location.clone())
                .with_file_size(file.bytes);
            let url = input.url_of(&file.location);
            async move {
                let builder = ParquetRecordBatchStreamBuilder::new(reader)
                    .await
                    .map_err(|e| {
                        Error::input(
                            &url,
                            format!(
                                "not a readable parquet file ({e}); replace or remove it from the input and run again"
                            ),
                        )
                    })?;
                let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
                check_schema(builder.schema()).map_err(|m| Error::input(&url, m))?;
                Ok::<_, Error>((builder.schema().clone(), rows))
            }
        })
        .buffered(16)
        .inspect(|_| {
            done += 1;
            progress(done, total);
        })
        .collect()
        .await;
    let mut bad = Vec::new();
    let mut good = Vec::with_capacity(files.len());
    for (mut file, footer) in std::mem::take(files).into_iter().zip(footers) {
        match footer {
            Ok((schema, rows)) => {
                file.schema = Some(schema);
                file.rows = rows;
                good.push(file);
            }
            Err(error) => {
                let reason = match &error {
                    Error::Input { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                bad.push((
                    BadFile {
                        path: file.path,
                        reason,
                    },
                    error,
                ));
            }
        }
    }
    *files = good;
    bad
}

fn check_schema(schema: &Schema) -> Result<(), String> {
    let mut problems = Vec::new();
    for column in &COLUMNS {
        let exact = schema.field_with_name(column.name).ok();
        if exact.is_none()
            && let Some(near) = schema
                .fields()
                .iter()
                .find(|f| f.name().eq_ignore_ascii_case(column.name))
        {
            problems.push(format!(
                "column `{}` must be named `{}` (names are case-sensitive)",
                near.name(),
                column.name
            ));
            continue;
        }
        match exact {
            None if column.required => problems.push(format!(
                "required column `{}` is missing (the file has: {})",
                column.name,
                column_list(schema)
            )),
            Some(field) if !column.kind.accepts(field.data_type()) => problems.push(format!(
                "column `{}` has type {}, expected {}",
                column.name,
                field.data_type(),
                column.kind.expected()
            )),
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Registers `raw_touchpoints`: every row of the given files, read by one scan, each file's
/// columns cast to the canonical schema by DataFusion's schema adapter (missing optional
/// columns read as null, extra columns are not read), with the file's `arrival_date` and
/// `source_file` as per-file partition values, and `file_seq`: the file's position among them in
/// arrival order (arrival date, then path), which with a row's position in its file orders the
/// rows as they arrived.
pub async fn register(ctx: &SessionContext, input: &Location, files: &[InputFile]) -> Result<()> {
    input.register(ctx);
    let rows: Vec<FileRow> = files.iter().map(InputFile::row).collect();
    ctx.register_table(FILES_TABLE, files_table(&rows)?)?;
    let mut arrival: Vec<&InputFile> = files.iter().collect();
    arrival.sort_by(|a, b| (a.arrival_date, &a.path).cmp(&(b.arrival_date, &b.path)));
    let table = TouchpointsTable {
        store_url: input
            .url_of(&Path::default())
            .trim_end_matches('/')
            .to_string(),
        files: arrival
            .iter()
            .zip(0..)
            .map(|(f, seq)| ScanFile {
                location: f.location.to_string(),
                bytes: f.bytes,
                arrival_date: f.arrival_date,
                shown: f.path.clone(),
                seq,
            })
            .collect(),
        rows: files.iter().map(|f| f.rows).sum(),
    };
    ctx.register_table(RAW_TABLE, Arc::new(table))?;
    Ok(())
}

/// The canonical file schema: the contract's columns in canonical types.
fn file_schema() -> SchemaRef {
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|c| Field::new(c.name, c.kind.canonical(), true))
            .collect::<Vec<_>>(),
    ))
}

fn partition_fields() -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new("arrival_date", DataType::Date32, false)),
        Arc::new(Field::new("source_file", DataType::Utf8, false)),
        Arc::new(Field::new("file_seq", DataType::Int64, false)),
    ]
}

/// What a scan of the raw files reads: their columns, the per-file partition values, and with
/// `row_numbers` the reader's `source_row`.
fn scan_schema(row_numbers: bool) -> TableSchema {
    let schema = TableSchema::builder(file_schema()).with_table_partition_cols(partition_fields());
    if row_numbers {
        schema.with_virtual_columns(virtual_fields()).build()
    } else {
        schema.build()
    }
}

/// Columns the parquet reader makes up: `source_row`, the row's position in its file.
fn virtual_fields() -> Vec<FieldRef> {
    vec![Arc::new(
        Field::new("source_row", DataType::Int64, false).with_extension_type(RowNumber),
    )]
}

/// `raw_touchpoints` as a table: exactly the files discovery chose, in one parquet scan. It is
/// plain data (the store's URL and the file list), so a Ballista scheduler can be sent it and
/// plan the same scan there (`crate::cluster`).
#[derive(Debug, Serialize, Deserialize)]
pub struct TouchpointsTable {
    /// The store's root URL, e.g. `s3://bucket` or `file://`.
    store_url: String,
    files: Vec<ScanFile>,
    /// Rows in all files, from their footers.
    rows: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct ScanFile {
    /// Location in the store.
    location: String,
    bytes: u64,
    arrival_date: NaiveDate,
    /// The path shown to users (`source_file`).
    shown: String,
    /// Position in arrival order (`file_seq`).
    seq: i64,
}

#[async_trait::async_trait]
impl TableProvider for TouchpointsTable {
    fn schema(&self) -> SchemaRef {
        raw_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        if self.files.is_empty() {
            // A night with no new files: no scan at all (a scan of zero file groups has no
            // partitioning, which aggregations above it cannot be planned on).
            let schema = match projection {
                Some(indices) => Arc::new(raw_schema().project(indices)?),
                None => raw_schema(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        // Spread files over the session's partitions, largest first, so cores share the work.
        let partitions = state.config().target_partitions().max(1);
        let mut groups: Vec<(u64, Vec<PartitionedFile>)> =
            (0..partitions).map(|_| (0, Vec::new())).collect();
        let mut files: Vec<&ScanFile> = self.files.iter().collect();
        files.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.location.cmp(&b.location)));
        for f in files {
            let file =
                PartitionedFile::new(f.location.clone(), f.bytes).with_partition_values(vec![
                    ScalarValue::Date32(Some(days_since_epoch(f.arrival_date))),
                    ScalarValue::Utf8(Some(f.shown.clone())),
                    ScalarValue::Int64(Some(f.seq)),
                ]);
            if let Some(group) = groups.iter_mut().min_by_key(|(size, _)| *size) {
                group.0 += f.bytes;
                group.1.push(file);
            }
        }
        let groups: Vec<FileGroup> = groups
            .into_iter()
            .filter(|(_, files)| !files.is_empty())
            .map(|(_, files)| FileGroup::new(files))
            .collect();
        let scan = RawScan {
            store_url: self.store_url.clone(),
            rows: self.rows,
            projection: projection.cloned(),
            limit,
        };
        #[cfg(feature = "ballista")]
        if crate::cluster::plans_for_cluster(state.config()) {
            return crate::cluster::RawScanExec::try_new(scan, groups);
        }
        // A run scans the raw files more than once (first copies, events, counters); the
        // session's metadata cache spares reading and decoding every footer each time.
        let runtime = state.runtime_env();
        let store = runtime.object_store(ObjectStoreUrl::parse(&scan.store_url)?)?;
        let reader = CachedParquetFileReaderFactory::new(
            store,
            runtime.cache_manager.get_file_metadata_cache(),
        );
        scan.plan_with(groups, Some(Arc::new(reader)))
    }
}

/// How `raw_touchpoints` is scanned, less the files: the columns, the row limit, and the row
/// count the planner sizes joins by. Plain data, so a cluster can send it to executors, which
/// plan the same scan from it over the files their task was given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawScan {
    store_url: String,
    rows: u64,
    projection: Option<Vec<usize>>,
    limit: Option<usize>,
}

impl RawScan {
    /// A scan of every column of files below `store_url` holding `rows` rows in all.
    #[cfg(test)]
    pub fn every_column(store_url: &str, rows: u64) -> RawScan {
        RawScan {
            store_url: store_url.to_string(),
            rows,
            projection: None,
            limit: None,
        }
    }

    /// The parquet scan of these file groups (one per partition), with the per-file partition
    /// values and `source_row`.
    pub fn plan(
        &self,
        groups: Vec<FileGroup>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        self.plan_with(groups, None)
    }

    /// [`Self::plan`], reading the files through `reader` (DataFusion's default without).
    fn plan_with(
        &self,
        groups: Vec<FileGroup>,
        reader: Option<Arc<dyn ParquetFileReaderFactory>>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let mut source = ParquetSource::new(scan_schema(true));
        if let Some(reader) = reader {
            source = source.with_parquet_file_reader_factory(reader);
        }
        // The row count lets the planner put the smaller side of a join on the build side.
        let mut statistics = Statistics::new_unknown(&raw_schema());
        statistics.num_rows = Precision::Exact(self.rows as usize);
        statistics.total_byte_size = Precision::Inexact(
            groups
                .iter()
                .flat_map(|g| g.iter())
                .map(|f| f.object_meta.size as usize)
                .sum(),
        );
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::parse(&self.store_url)?, Arc::new(source))
                .with_file_groups(groups)
                .with_statistics(statistics)
                .with_projection_indices(self.projection.clone())?
                .with_expr_adapter(Some(Arc::new(NaiveAsUtcFactory)))
                .with_limit(self.limit)
                .build();
        Ok(DataSourceExec::from_data_source(config))
    }

    /// A plain parquet scan of the same file groups without `source_row`, whose protobuf form
    /// every Ballista scheduler and executor understands: on a cluster it carries the files,
    /// and the scheduler hands each task its own (`crate::cluster::RawScanExec`).
    pub fn carrier(
        &self,
        groups: Vec<FileGroup>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let source = ParquetSource::new(scan_schema(false));
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::parse(&self.store_url)?, Arc::new(source))
                .with_file_groups(groups)
                .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

/// The `input_files` table: one row per file the tables are computed from.
pub fn files_table(files: &[FileRow]) -> Result<Arc<MemTable>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("arrival_date", DataType::Date32, false),
        Field::new("bytes", DataType::Int64, false),
        Field::new("rows", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                files.iter().map(|f| f.path.as_str()),
            )),
            Arc::new(Date32Array::from_iter_values(
                files.iter().map(|f| days_since_epoch(f.arrival_date)),
            )),
            Arc::new(Int64Array::from_iter_values(
                files.iter().map(|f| f.bytes as i64),
            )),
            Arc::new(Int64Array::from_iter_values(
                files.iter().map(|f| f.rows as i64),
            )),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// A day as Arrow's Date32 counts it.
pub(crate) fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

/// A schema's column names, comma-separated: what an error shows the user has.
pub(crate) fn column_list(schema: &arrow::datatypes::Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(fields: &[(&str, DataType)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    fn required() -> Vec<(&'static str, DataType)> {
        vec![
            ("event_id", DataType::Utf8),
            (
                "occurred_at",
                DataType::Timestamp(TimeUnit::Millisecond, None),
            ),
            ("anonymous_id", DataType::LargeUtf8),
            ("channel", DataType::Utf8View),
            ("touchpoint", DataType::Utf8),
        ]
    }

    #[test]
    fn compatible_types_are_accepted() {
        let mut fields = required();
        fields.push(("nps", DataType::Int16));
        fields.push(("revenue", DataType::Decimal128(10, 2)));
        fields.push(("customer_id", DataType::Int64));
        fields.push(("extra", DataType::Boolean));
        assert_eq!(check_schema(&schema(&fields)), Ok(()));
    }

    #[test]
    fn missing_required_column_is_named() {
        let fields: Vec<_> = required().into_iter().skip(1).collect();
        let err = check_schema(&schema(&fields)).expect_err("event_id missing");
        assert!(
            err.contains("required column `event_id` is missing"),
            "{err}"
        );
    }

    #[test]
    fn incompatible_type_is_named() {
        let mut fields = required();
        fields.push(("nps", DataType::Utf8));
        let err = check_schema(&schema(&fields)).expect_err("nps as text");
        assert!(
            err.contains("column `nps` has type Utf8, expected an integer"),
            "{err}"
        );
    }

    #[test]
    fn column_names_differing_in_case_are_named() {
        let mut fields = required();
        fields.push(("NPS", DataType::Int32));
        let err = check_schema(&schema(&fields)).expect_err("NPS is not nps");
        assert!(err.contains("column `NPS` must be named `nps`"), "{err}");
    }
}
