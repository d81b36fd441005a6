//! Typed errors. Each variant is a condition the user can act on, and maps to one documented
//! exit code (see README "Exit codes"). Library errors arrive through `#[from]` or are wrapped
//! with the location they concern, so a message always names the file, URL or model involved.

use std::fmt;

/// Process exit codes, documented in the README. Stable: cron wrappers and alerting match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every model ran and the run was published.
    Success = 0,
    /// An unexpected failure: the output store could not be written, or an internal error.
    Failure = 1,
    /// Bad command-line usage or configuration (clap also uses 2 for usage errors).
    Usage = 2,
    /// The project (queries/, reports/) is invalid: parse error, unknown table, cycle, template error.
    Project = 3,
    /// The input could not be read: missing location, corrupt file, missing required column.
    Input = 4,
    /// Partial: some models failed or were skipped; the others were written but not published
    /// as `latest.json`.
    Partial = 5,
    /// Another run holds the output's lock.
    Locked = 6,
    /// Every model ran, but a data test of severity error failed; `latest.json` did not move.
    TestsFailed = 7,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error("{}", ProblemList(.0))]
    Project(Vec<String>),

    #[error("input {location}: {message}")]
    Input { location: String, message: String },

    #[error("output {location}: {message}")]
    Output { location: String, message: String },

    #[error("{failed} model(s) failed and {skipped} were skipped: {summary}")]
    Partial {
        failed: usize,
        skipped: usize,
        summary: String,
    },

    #[error(
        "another run holds the lock {lock}: {holder}; wait for it, or if it is gone remove the lock (it is also taken over once stale, see --lock-timeout)"
    )]
    Locked { lock: String, holder: String },

    #[error("{failed} data test(s) failed: {summary}")]
    TestsFailed { failed: usize, summary: String },

    /// The execution engine (a Ballista scheduler or executor) could not start or be reached.
    #[error("{0}")]
    Engine(String),

    #[error("report template: {0}")]
    Template(#[from] minijinja::Error),

    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::Usage,
            Error::Project(_) | Error::Template(_) => ExitCode::Project,
            Error::Input { .. } => ExitCode::Input,
            Error::Partial { .. } => ExitCode::Partial,
            Error::Locked { .. } => ExitCode::Locked,
            Error::TestsFailed { .. } => ExitCode::TestsFailed,
            Error::Output { .. }
            | Error::Engine(_)
            | Error::Arrow(_)
            | Error::DataFusion(_)
            | Error::Io(_) => ExitCode::Failure,
        }
    }

    pub fn input(location: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Input {
            location: location.to_string(),
            message: message.to_string(),
        }
    }

    pub fn output(location: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Output {
            location: location.to_string(),
            message: message.to_string(),
        }
    }
}

struct ProblemList<'a>(&'a [String]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the project",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
