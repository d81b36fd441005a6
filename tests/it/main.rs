//! cxpipe's integration tests: one binary, real parquet files, the shipped queries and reports.

mod analyst;
#[cfg(feature = "ballista")]
mod ballista;
mod generated;
mod incremental;
mod metrics;
mod operations;
mod pipeline;
mod report;
mod s3;
mod support;
