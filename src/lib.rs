//! cxpipe: a nightly customer-experience reporting pipeline. Reads raw touchpoint events
//! (parquet, partitioned by arrival date) from an object store, runs the SQL models of
//! `queries/` in DataFusion, writes their tables as parquet and renders an HTML report.
//!
//! Data flows one way: [`config`] -> [`project`] (parsed, ordered) -> [`inputs`] -> [`session`]
//! -> [`execute`] -> [`outputs`] -> [`report`]; [`run`] strings them together.

pub mod cli;
#[cfg(feature = "ballista")]
pub mod cluster;
pub mod commands;
pub mod config;
pub mod docs;
pub mod error;
pub mod execute;
pub mod functions;
pub mod generate;
pub mod inputs;
pub mod lock;
pub mod log;
pub mod naive_utc;
pub mod outputs;
pub mod plan;
pub mod project;
pub mod report;
pub mod run;
pub mod session;
pub mod state;
pub mod storage;
pub mod subqueries;
pub mod verify;

pub use error::{Error, ExitCode, Result};
