//! The one place that turns raw command-line values (which clap has already merged with
//! `CXPIPE_*` environment variables) into typed settings, with errors that quote the bad value.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::session::SessionSettings;

/// Everything one `cxpipe run` needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub input: String,
    pub output: String,
    pub run_date: NaiveDate,
    pub queries: PathBuf,
    pub reports: PathBuf,
    pub session: SessionSettings,
    /// Tables with at most this many rows are handed to report templates.
    pub report_row_limit: usize,
}

pub fn parse_date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::Usage(format!(
            "invalid date '{text}': use YYYY-MM-DD, e.g. 2026-11-24"
        ))
    })
}

/// `512MiB`, `4GiB`, `2G`, `1000000` (bytes).
pub fn parse_memory(text: &str) -> Result<usize> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    match number.parse::<f64>() {
        Ok(n) if multiplier.is_finite() && n > 0.0 => Ok((n * multiplier) as usize),
        _ => Err(Error::Usage(format!(
            "invalid memory limit '{text}': use a size such as 512MiB or 4GiB"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("1GiB").ok(), Some(1 << 30));
        assert_eq!(parse_memory("512MiB").ok(), Some(512 << 20));
        assert_eq!(parse_memory("2G").ok(), Some(2_000_000_000));
        let err = parse_memory("10q").expect_err("bad unit");
        assert!(err.to_string().contains("invalid memory limit '10q'"));
    }

    #[test]
    fn dates() {
        assert!(parse_date("2026-02-30").is_err());
        assert_eq!(
            parse_date("2026-11-24").ok(),
            NaiveDate::from_ymd_opt(2026, 11, 24)
        );
    }
}
