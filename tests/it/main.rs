//! cxpipe's integration tests: one binary, real parquet files, the shipped queries and reports.

mod metrics;
mod pipeline;
mod support;
