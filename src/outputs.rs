//! Everything a run writes: parquet tables, the manifest, and publication. A run writes under a
//! staging prefix; only when it is done are its files copied to `runs/<R>/`, the manifest
//! written there, and finally `latest.json` replaced, so readers never see half a run.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::UInt64Type;
use datafusion::config::TableParquetOptions;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::format_as_file_type;
use datafusion::datasource::file_format::parquet::ParquetFormatFactory;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::physical_plan::{self, display::DisplayableExecutionPlan};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::Location;

fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build()
}

/// Streams record batches into one parquet file; returns the number of rows written.
pub async fn write_parquet(
    location: &Location,
    path: &Path,
    mut stream: SendableRecordBatchStream,
) -> Result<u64> {
    let writer = object_store::buffered::BufWriter::new(location.store().clone(), path.clone());
    let failed = |e: &dyn std::fmt::Display| Error::output(location.url_of(path), e.to_string());
    let mut writer = AsyncArrowWriter::try_new(writer, stream.schema(), Some(writer_properties()))
        .map_err(|e| failed(&e))?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).await.map_err(|e| failed(&e))?;
    }
    writer.close().await.map_err(|e| failed(&e))?;
    Ok(rows)
}

/// Runs the query and writes its rows into one parquet file through DataFusion's parquet sink,
/// which encodes the columns of each row group in parallel (the streaming writer above encodes
/// on one core); returns the number of rows written. The location's store must be registered
/// with the session that planned `df`. Under a Ballista cluster the sink runs on an executor,
/// which writes the file to the shared store itself: rows do not pass through the driver.
pub async fn write_frame(
    location: &Location,
    path: &Path,
    df: DataFrame,
    readers: Readers,
) -> Result<u64> {
    copy_to(location.url_of(path), df, readers, None).await
}

/// Like [`write_frame`], but into the folder `dir`, a folder `<column>=<value>/` per value of
/// `column`, which the files leave out.
pub async fn write_frame_by(
    location: &Location,
    dir: &Path,
    df: DataFrame,
    readers: Readers,
    column: &str,
) -> Result<u64> {
    copy_to(
        format!("{}/", location.url_of(dir)),
        df,
        readers,
        Some(column),
    )
    .await
}

async fn copy_to(
    url: String,
    df: DataFrame,
    readers: Readers,
    partition_column: Option<&str>,
) -> Result<u64> {
    let mut options = TableParquetOptions::default();
    options.global.compression = Some(
        match readers {
            Readers::Anyone => TABLE_COMPRESSION,
            Readers::WholeFile => WORKING_COMPRESSION,
        }
        .to_string(),
    );
    // Row groups of 128 Ki rows instead of DataFusion's 1 Mi: the sink encodes a row group's
    // columns in parallel, and smaller groups keep both cores encoding while the query runs (a
    // full run 0.5-1.1 s faster in each of two alternating pairs against 1 Mi, 0.1-0.4 s
    // against 256 Ki and 512 Ki; the night's scan of the stored ids is split more evenly too).
    options.global.max_row_group_size = ROW_GROUP_ROWS;
    if readers == Readers::WholeFile {
        // Min/max per page and row group cost a comparison per value (most of it on unique
        // strings such as event ids) and spare nothing when every reader reads the whole file.
        options.global.statistics_enabled = Some("none".to_string());
        for column in near_unique_columns(df.schema().as_arrow()) {
            options
                .column_specific_options
                .insert(column, plain_column_options());
        }
        // Except days: a night's readers filter by them (`added_on = run_date()`, the months
        // from the earliest changed day on), and each row group's range lets them skip the
        // nights before. A day is a small number that repeats, so its range is cheap to keep.
        for column in day_columns(df.schema().as_arrow()) {
            options
                .column_specific_options
                .entry(column)
                .or_default()
                .statistics_enabled = Some("chunk".to_string());
        }
    }
    let file_type = format_as_file_type(Arc::new(ParquetFormatFactory::new_with_options(options)));
    let (state, plan) = df.into_parts();
    let single_file = partition_column.is_none().to_string();
    let copy = LogicalPlanBuilder::copy_to(
        plan,
        url.clone(),
        file_type,
        HashMap::from([("single_file_output".to_string(), single_file)]),
        partition_column.iter().map(|c| c.to_string()).collect(),
    )?
    .build()?;
    let df = DataFrame::new(state, copy);
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let counts = physical_plan::collect(Arc::clone(&plan), task).await?;
    if std::env::var_os(PROFILE_VAR).is_some() {
        // What each operator of the query did (rows, time, spills): where a slow model spends.
        eprintln!(
            "{PROFILE_VAR}: {}\n{}",
            url,
            DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true)
        );
    }
    Ok(counts
        .iter()
        .filter_map(|batch| batch.column(0).as_primitive_opt::<UInt64Type>())
        .flat_map(|counts| counts.values().iter().copied())
        .sum())
}

/// Who reads a file written by [`write_frame`], which decides whether it carries statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// A published table: anyone, with any filter, so row groups carry min/max statistics.
    Anyone,
    /// The run's intermediates and the state: later models and nights, which read every row.
    WholeFile,
}

/// The columns of a working file whose values hardly repeat: the ingest key (unique by
/// definition) and timestamps (microsecond instants). A dictionary of such a column fills up and
/// is thrown away, and LZ4 finds nothing to compress (the state's event ids: 176 of 208 MB), so
/// they are written plain: on the benchmark a full run took about 1 CPU-s less in each of three
/// alternating pairs, for a state 11% larger, and a night reads them no slower.
fn near_unique_columns(schema: &arrow::datatypes::Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .filter(|f| {
            f.name() == crate::state::INGEST_KEY
                || matches!(f.data_type(), arrow::datatypes::DataType::Timestamp(..))
        })
        .map(|f| f.name().clone())
        .collect()
}

/// The columns of calendar days, which a working file keeps row group statistics of.
fn day_columns(schema: &arrow::datatypes::Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .filter(|f| f.data_type() == &arrow::datatypes::DataType::Date32)
        .map(|f| f.name().clone())
        .collect()
}

fn plain_column_options() -> datafusion::config::ParquetColumnOptions {
    datafusion::config::ParquetColumnOptions {
        dictionary_enabled: Some(false),
        compression: Some("uncompressed".to_string()),
        ..Default::default()
    }
}

/// Set, every query a run writes prints its executed plan with each operator's metrics.
pub const PROFILE_VAR: &str = "CXPIPE_PROFILE";

/// Rows per row group of every file a query writes (see [`copy_to`]).
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// zstd's fastest level for published tables: small, and quick to read back.
const TABLE_COMPRESSION: &str = "zstd(1)";
/// LZ4 for intermediates and state, which are written once and read whole soon after: on the
/// benchmark it saved 2.5 s of CPU in a full run against zstd(1), for files 1.6x as large.
const WORKING_COMPRESSION: &str = "lz4_raw";

/// Writes a small object whole.
pub async fn put(location: &Location, path: &Path, bytes: Vec<u8>) -> Result<()> {
    location
        .store()
        .put(path, PutPayload::from(bytes))
        .await
        .map_err(|e| Error::output(location.url_of(path), e))?;
    Ok(())
}

/// Copies one object within the location's store: a hard link on local disk, a server-side
/// copy in a bucket.
pub async fn copy(location: &Location, from: &Path, to: &Path) -> Result<()> {
    location
        .store()
        .copy(from, to)
        .await
        .map_err(|e| Error::output(location.url_of(to), e))
}

/// Copies one object from one location to another (the stores may differ), a chunk at a time:
/// a month of a large table never has to fit in memory.
pub async fn transfer(from: &Location, path: &Path, to: &Location, target: &Path) -> Result<()> {
    use tokio::io::AsyncWrite;
    let source = from
        .store()
        .get(path)
        .await
        .map_err(|e| Error::output(from.url_of(path), e))?;
    let mut chunks = source.into_stream();
    let mut writer = object_store::buffered::BufWriter::new(to.store().clone(), target.clone());
    let failed = |e: &dyn std::fmt::Display| Error::output(to.url_of(target), e.to_string());
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| Error::output(from.url_of(path), e))?;
        writer.put(chunk).await.map_err(|e| failed(&e))?;
    }
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut writer).poll_shutdown(cx))
        .await
        .map_err(|e| failed(&e))
}

/// Reads a small object, or None when it does not exist.
pub async fn get(location: &Location, path: &Path) -> Result<Option<Vec<u8>>> {
    match location.store().get(path).await {
        Ok(result) => Ok(Some(
            result
                .bytes()
                .await
                .map_err(|e| Error::output(location.url_of(path), e))?
                .to_vec(),
        )),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(Error::output(location.url_of(path), e)),
    }
}

/// Every object below `prefix`, as paths relative to it.
async fn list_relative(location: &Location, prefix: &Path) -> Result<Vec<String>> {
    let objects: Vec<_> = location
        .store()
        .list(Some(prefix))
        .try_collect()
        .await
        .map_err(|e| Error::output(location.url_of(prefix), format!("cannot list: {e}")))?;
    let mut relative: Vec<String> = objects
        .into_iter()
        .filter_map(|o| {
            o.location.prefix_match(prefix).map(|parts| {
                parts
                    .map(|p| p.as_ref().to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
        })
        .collect();
    relative.sort();
    Ok(relative)
}

/// Deletes one object; one already gone is fine.
pub async fn delete(location: &Location, path: &Path) -> Result<()> {
    match location.store().delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(Error::output(location.url_of(path), e)),
    }
}

/// Every object below `prefix`.
pub async fn list(location: &Location, prefix: &Path) -> Result<Vec<Path>> {
    Ok(list_relative(location, prefix)
        .await?
        .iter()
        .map(|relative| join(prefix, relative))
        .collect())
}

/// Deletes every object below `prefix`.
pub async fn delete_all(location: &Location, prefix: &Path) -> Result<()> {
    for relative in list_relative(location, prefix).await? {
        delete(location, &join(prefix, &relative)).await?;
    }
    Ok(())
}

fn join(prefix: &Path, relative: &str) -> Path {
    relative
        .split('/')
        .filter(|p| !p.is_empty())
        .fold(prefix.clone(), |path, part| path.join(part))
}

/// Where `latest.json` points.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Latest {
    pub run_date: chrono::NaiveDate,
    pub run_id: String,
    pub status: String,
    pub path: String,
    pub manifest: String,
    pub report: String,
    pub published_at: String,
}

/// Moves a finished run from `staging` to `runs/<R>/`: copies its objects, writes the manifest,
/// then removes objects of an earlier run of the same date that the new one does not have.
/// Then, given `latest` and unless a newer date is already published, replaces `latest.json`.
pub async fn publish(
    output: &Location,
    staging: &Path,
    run_dir: &Path,
    manifest: Vec<u8>,
    latest: Option<&Latest>,
    fault: Option<&str>,
) -> Result<()> {
    let staged = list_relative(output, staging).await?;
    let keep: BTreeSet<&str> = staged.iter().map(String::as_str).collect();
    futures::stream::iter(staged.iter())
        .map(|relative| async move {
            let (from, to) = (join(staging, relative), join(run_dir, relative));
            output
                .store()
                .copy(&from, &to)
                .await
                .map_err(|e| Error::output(output.url_of(&to), e))
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await?;
    if fault == Some("during_publish") {
        // Test hook: die like a killed process with the new files copied but not committed.
        std::process::abort();
    }
    // The manifest is the commit point: until it is replaced, the previous run's manifest and
    // files are all still there (new table files have new names).
    put(output, &run_dir.clone().join("manifest.json"), manifest).await?;
    for relative in list_relative(output, run_dir).await? {
        if !keep.contains(relative.as_str()) && relative != "manifest.json" {
            delete(output, &join(run_dir, &relative)).await?;
        }
    }
    delete_all(output, staging).await?;
    if let Some(latest) = latest {
        let latest_path = output.path("latest.json");
        let current: Option<Latest> = get(output, &latest_path)
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        // A backfill of an older date must not move `latest` backwards.
        if current.is_none_or(|c| c.run_date <= latest.run_date) {
            let bytes = serde_json::to_vec_pretty(latest)
                .map_err(|e| Error::output(output.url_of(&latest_path), e))?;
            put(output, &latest_path, bytes).await?;
        }
    }
    Ok(())
}
