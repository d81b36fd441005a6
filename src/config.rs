//! The one place that turns command-line values, `CXPIPE_*` environment variables, the
//! `cxpipe.toml` file and defaults into typed settings — in that order of precedence — and the
//! only module that reads the environment. Every value remembers where it came from, so
//! `cxpipe config` can show it; errors quote the bad value and name its source.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::report::ReportSettings;
use crate::session::SessionSettings;

/// Every setting: its key (in cxpipe.toml; `CXPIPE_<KEY>` in the environment), default, and help.
pub const SETTINGS: &[(&str, Option<&str>, &str)] = &[
    (
        "input",
        None,
        "where touchpoints/date=YYYY-MM-DD/*.parquet live",
    ),
    (
        "output",
        None,
        "where runs/<date>/ and latest.json are written",
    ),
    ("date", None, "the run date (default: yesterday, UTC)"),
    ("queries", Some("queries"), "folder of the models"),
    ("reports", Some("reports"), "folder of the report templates"),
    (
        "memory_limit",
        None,
        "DataFusion memory pool before spilling, e.g. 2GiB (default: unbounded)",
    ),
    ("threads", None, "parallelism (default: number of cores)"),
    ("lang", Some("en"), "report language: en or de"),
    (
        "min_sample",
        Some("10"),
        "fewer answers/customers than this are suppressed in the report",
    ),
    (
        "on_bad_file",
        Some("fail"),
        "a corrupt or non-conforming input file: fail the run, or skip it",
    ),
    (
        "lock_timeout",
        Some("6h"),
        "a lock older than this is stale and taken over",
    ),
    (
        "retries",
        Some("10"),
        "retries of a failed object-store request",
    ),
    (
        "retry_timeout",
        Some("3m"),
        "give up retrying a request after this long",
    ),
    ("log_format", Some("text"), "text or json"),
    (
        "engine",
        Some("local"),
        "where models execute: local, or ballista://HOST:PORT (a Ballista scheduler)",
    ),
];

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    pub fn describe(self, key: &str, file: Option<&Path>) -> String {
        match self {
            Source::Flag => format!("--{}", key.replace('_', "-")),
            Source::Env => env_name(key),
            Source::File => file.map_or("cxpipe.toml".into(), |f| f.display().to_string()),
            Source::Default => "default".into(),
        }
    }
}

fn env_name(key: &str) -> String {
    format!("CXPIPE_{}", key.to_ascii_uppercase())
}

/// Raw values from all layers, before typing.
#[derive(Debug, Default)]
pub struct Layers {
    flags: BTreeMap<&'static str, String>,
    env: BTreeMap<&'static str, String>,
    file: BTreeMap<&'static str, String>,
    pub file_path: Option<PathBuf>,
}

impl Layers {
    /// Reads the environment and the config file (`--config`, else `CXPIPE_CONFIG`, else
    /// `./cxpipe.toml` when present). `flags` are the command line's values by key.
    pub fn load(
        flags: BTreeMap<&'static str, String>,
        config_flag: Option<PathBuf>,
    ) -> Result<Layers> {
        let mut layers = Layers {
            flags,
            ..Layers::default()
        };
        for (key, _, _) in SETTINGS {
            if let Ok(value) = std::env::var(env_name(key)) {
                layers.env.insert(key, value);
            }
        }
        let explicit = config_flag.or_else(|| std::env::var_os("CXPIPE_CONFIG").map(PathBuf::from));
        let path = match explicit {
            Some(path) => Some(path),
            None => Some(PathBuf::from("cxpipe.toml")).filter(|p| p.is_file()),
        };
        if let Some(path) = path {
            layers.file = read_file(&path)?;
            layers.file_path = Some(path);
        }
        Ok(layers)
    }

    /// The winning value of a setting and its source.
    pub fn get(&self, key: &str) -> Option<(String, Source)> {
        let default = SETTINGS
            .iter()
            .find(|(k, _, _)| *k == key)
            .and_then(|(_, d, _)| d.map(str::to_string));
        self.flags
            .get(key)
            .map(|v| (v.clone(), Source::Flag))
            .or_else(|| self.env.get(key).map(|v| (v.clone(), Source::Env)))
            .or_else(|| self.file.get(key).map(|v| (v.clone(), Source::File)))
            .or_else(|| default.map(|v| (v, Source::Default)))
    }

    fn value(&self, key: &str) -> Option<String> {
        self.get(key).map(|(v, _)| v)
    }

    /// A typed value, with the source named when it does not parse.
    fn parsed<T>(&self, key: &str, parse: impl Fn(&str) -> Result<T>) -> Result<Option<T>> {
        match self.get(key) {
            None => Ok(None),
            Some((value, source)) => parse(&value).map(Some).map_err(|e| {
                Error::Usage(format!(
                    "{e} (from {})",
                    source.describe(key, self.file_path.as_deref())
                ))
            }),
        }
    }

    fn required(&self, key: &str) -> Result<String> {
        self.value(key).ok_or_else(|| {
            Error::Usage(format!(
                "no {key} location: pass --{key} URL, set {}, or add `{key} = \"...\"` to cxpipe.toml",
                env_name(key)
            ))
        })
    }

    pub fn queries(&self) -> PathBuf {
        PathBuf::from(self.value("queries").unwrap_or_else(|| "queries".into()))
    }

    /// The typed configuration of a run for `run_date` (None: the `date` setting, else
    /// `default_date`).
    pub fn run_config(
        &self,
        run_date: Option<NaiveDate>,
        default_date: NaiveDate,
    ) -> Result<RunConfig> {
        let run_date = match run_date {
            Some(date) => date,
            None => self.parsed("date", parse_date)?.unwrap_or(default_date),
        };
        let report = ReportSettings {
            lang: self
                .parsed("lang", parse_lang)?
                .unwrap_or_else(|| "en".into()),
            min_sample: self
                .parsed("min_sample", |v| parse_count("min_sample", v))?
                .unwrap_or(10),
            ..ReportSettings::default()
        };
        Ok(RunConfig {
            input: self.required("input")?,
            output: self.required("output")?,
            run_date,
            queries: self.queries(),
            reports: PathBuf::from(self.value("reports").unwrap_or_else(|| "reports".into())),
            session: SessionSettings {
                memory_limit: self.parsed("memory_limit", parse_memory)?,
                target_partitions: self.parsed("threads", |v| parse_count("threads", v))?,
            },
            report,
            storage: StorageSettings {
                retries: self
                    .parsed("retries", |v| parse_count("retries", v))?
                    .unwrap_or(10),
                retry_timeout: self
                    .parsed("retry_timeout", parse_duration)?
                    .unwrap_or(Duration::from_secs(180)),
            },
            on_bad_file: self
                .parsed("on_bad_file", BadFilePolicy::parse)?
                .unwrap_or(BadFilePolicy::Fail),
            lock_timeout: self
                .parsed("lock_timeout", parse_duration)?
                .unwrap_or(Duration::from_secs(6 * 3600)),
            log_format: self
                .parsed("log_format", LogFormat::parse)?
                .unwrap_or(LogFormat::Text),
            fault: std::env::var("CXPIPE_TEST_FAULT").ok(),
            select: Vec::new(),
            full_refresh: false,
            engine: self.engine()?,
        })
    }

    /// The `engine` setting, typed; `ballista://` without the feature compiled in is a usage error.
    pub fn engine(&self) -> Result<Engine> {
        Ok(self.parsed("engine", Engine::parse)?.unwrap_or_default())
    }

    /// `cxpipe config`: every setting, its value (secrets masked) and where it came from.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(path) = &self.file_path {
            out.push_str(&format!("# config file: {}\n", path.display()));
        }
        for (key, _, help) in SETTINGS {
            match self.get(key) {
                Some((value, source)) => out.push_str(&format!(
                    "{key} = {:?}  # {}; {help}\n",
                    mask_url(&value),
                    source.describe(key, self.file_path.as_deref())
                )),
                None => out.push_str(&format!("# {key} is not set; {help}\n")),
            }
        }
        let mut credentials: Vec<String> = std::env::vars()
            .filter(|(k, _)| {
                ["AWS_", "AZURE_", "GOOGLE_"]
                    .iter()
                    .any(|p| k.starts_with(p))
            })
            .map(|(k, v)| {
                let secret = ["SECRET", "KEY", "TOKEN", "PASSWORD", "CREDENTIAL", "SAS"]
                    .iter()
                    .any(|s| k.contains(s));
                if secret {
                    format!("#   {k} = ****")
                } else {
                    format!("#   {k} = {v}")
                }
            })
            .collect();
        credentials.sort();
        if !credentials.is_empty() {
            out.push_str("# object-store settings from the environment:\n");
            out.push_str(&credentials.join("\n"));
            out.push('\n');
        }
        out
    }
}

fn read_file(path: &Path) -> Result<BTreeMap<&'static str, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read config file '{}': {e}", path.display())))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| Error::Usage(format!("config file '{}': {e}", path.display())))?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        let Some((known, _, _)) = SETTINGS.iter().find(|(k, _, _)| *k == key) else {
            let keys: Vec<&str> = SETTINGS.iter().map(|(k, _, _)| *k).collect();
            let hint = crate::project::did_you_mean(&key, keys.iter().copied()).map_or_else(
                || format!("known settings: {}", keys.join(", ")),
                |k| format!("did you mean `{k}`?"),
            );
            return Err(Error::Usage(format!(
                "config file '{}': unknown setting `{key}`; {hint}",
                path.display()
            )));
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Datetime(d) => d.to_string(),
            other => {
                return Err(Error::Usage(format!(
                    "config file '{}': `{key}` must be a string or number, not {}",
                    path.display(),
                    other.type_str()
                )));
            }
        };
        values.insert(*known, text);
    }
    Ok(values)
}

/// Hides credentials a URL may carry (user:password@, query strings such as SAS tokens).
pub fn mask_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.scheme().len() > 1 => {
            if !url.username().is_empty() || url.password().is_some() {
                let _ = url.set_username("****");
                let _ = url.set_password(None);
            }
            if url.query().is_some() {
                url.set_query(Some("****"));
            }
            url.to_string()
        }
        _ => text.to_string(),
    }
}

/// Everything one `cxpipe run` needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub input: String,
    pub output: String,
    pub run_date: NaiveDate,
    pub queries: PathBuf,
    pub reports: PathBuf,
    pub session: SessionSettings,
    pub report: ReportSettings,
    pub storage: StorageSettings,
    pub on_bad_file: BadFilePolicy,
    pub lock_timeout: Duration,
    pub log_format: LogFormat,
    /// Test hook (`CXPIPE_TEST_FAULT=after_tables`): abort like a killed process at that point.
    pub fault: Option<String>,
    /// `--select`: run only these models (and what they need), into `dev/<R>/`.
    pub select: Vec<String>,
    /// `--full-refresh`: read every input file even when stored state would allow less.
    pub full_refresh: bool,
    /// Where the models execute.
    pub engine: Engine,
}

impl RunConfig {
    /// Defaults for everything but the locations and date (tests, library use).
    pub fn new(input: &str, output: &str, run_date: NaiveDate) -> RunConfig {
        RunConfig {
            input: input.into(),
            output: output.into(),
            run_date,
            queries: "queries".into(),
            reports: "reports".into(),
            session: SessionSettings::default(),
            report: ReportSettings::default(),
            storage: StorageSettings::default(),
            on_bad_file: BadFilePolicy::Fail,
            lock_timeout: Duration::from_secs(6 * 3600),
            log_format: LogFormat::Text,
            fault: None,
            select: Vec::new(),
            full_refresh: false,
            engine: Engine::Local,
        }
    }
}

/// Where the models execute: in this process, or on an Apache Ballista cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Engine {
    /// DataFusion in this process (the default).
    #[default]
    Local,
    /// The scheduler of a Ballista cluster; models run on its executors.
    Ballista {
        host: String,
        port: u16,
        /// Joins as hash joins (`?joins=hash`) instead of Ballista's default sort-merge joins:
        /// faster when every join has a side that fits in an executor's memory (true of the
        /// shipped models), but a hash join does not spill.
        hash_joins: bool,
    },
}

impl Engine {
    /// `local` or `ballista://HOST[:PORT][?joins=hash|sort-merge]` (port 50050 by default).
    pub fn parse(text: &str) -> Result<Engine> {
        let text = text.trim();
        if text == "local" {
            return Ok(Engine::Local);
        }
        let Some(address) = text.strip_prefix("ballista://") else {
            return Err(Error::Usage(format!(
                "invalid engine '{text}': use local or ballista://HOST:PORT"
            )));
        };
        let (address, options) = address.split_once('?').unwrap_or((address, ""));
        let hash_joins = match options {
            "" | "joins=sort-merge" => false,
            "joins=hash" => true,
            other => {
                return Err(Error::Usage(format!(
                    "invalid engine '{text}': unknown option '{other}'; the one option is joins=hash or joins=sort-merge"
                )));
            }
        };
        let address = address.trim_end_matches('/');
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>().map_err(|_| {
                    Error::Usage(format!(
                        "invalid engine '{text}': the port must be a number, e.g. ballista://127.0.0.1:50050"
                    ))
                })?,
            ),
            None => (address, 50050),
        };
        if host.is_empty() || host.contains('/') {
            return Err(Error::Usage(format!(
                "invalid engine '{text}': use ballista://HOST:PORT, e.g. ballista://127.0.0.1:50050"
            )));
        }
        if !cfg!(feature = "ballista") {
            return Err(Error::Usage(format!(
                "engine '{text}' needs Ballista support, which this cxpipe was built without; build it with `cargo build --release --features ballista`"
            )));
        }
        Ok(Engine::Ballista {
            host: host.to_string(),
            port,
            hash_joins,
        })
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::Local => write!(f, "local"),
            Engine::Ballista {
                host,
                port,
                hash_joins,
            } => {
                write!(f, "ballista://{host}:{port}")?;
                if *hash_joins {
                    write!(f, "?joins=hash")?;
                }
                Ok(())
            }
        }
    }
}

/// Object-store client behaviour for remote stores.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub retries: usize,
    pub retry_timeout: Duration,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            retries: 10,
            retry_timeout: Duration::from_secs(180),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFilePolicy {
    /// Stop before publishing, naming the file (the default: nothing is silently left out).
    Fail,
    /// Leave the file out, list it in the manifest and the report.
    Skip,
}

impl BadFilePolicy {
    fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "fail" => Ok(BadFilePolicy::Fail),
            "skip" => Ok(BadFilePolicy::Skip),
            _ => Err(Error::Usage(format!(
                "invalid on_bad_file '{text}': use fail or skip"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(Error::Usage(format!(
                "invalid log format '{text}': use text or json"
            ))),
        }
    }
}

pub fn parse_date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::Usage(format!(
            "invalid date '{text}': use YYYY-MM-DD, e.g. 2026-11-24"
        ))
    })
}

fn parse_count(key: &str, text: &str) -> Result<usize> {
    text.trim()
        .parse()
        .map_err(|_| Error::Usage(format!("invalid {key} '{text}': use a whole number")))
}

/// Report languages with translated labels and formats.
pub fn parse_lang(text: &str) -> Result<String> {
    match text.trim().to_ascii_lowercase().as_str() {
        lang @ ("en" | "de") => Ok(lang.to_string()),
        _ => Err(Error::Usage(format!(
            "unsupported report language '{text}': use en or de"
        ))),
    }
}

/// `90s`, `15m`, `6h`, `2d`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if seconds > 0 => Ok(Duration::from_secs(n * seconds)),
        _ => Err(Error::Usage(format!(
            "invalid duration '{text}': use e.g. 90s, 15m, 6h or 2d"
        ))),
    }
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

    fn layers(flags: &[(&'static str, &str)], file: &[(&'static str, &str)]) -> Layers {
        Layers {
            flags: flags.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            file: file.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            ..Layers::default()
        }
    }

    #[test]
    fn flags_beat_file_beats_default() {
        let l = layers(
            &[("lang", "de")],
            &[("lang", "en"), ("memory_limit", "1GiB")],
        );
        assert_eq!(l.get("lang"), Some(("de".into(), Source::Flag)));
        assert_eq!(l.get("memory_limit"), Some(("1GiB".into(), Source::File)));
        assert_eq!(l.get("reports"), Some(("reports".into(), Source::Default)));
        assert_eq!(l.get("input"), None);
    }

    #[test]
    fn bad_values_name_their_source() {
        let l = layers(
            &[("input", "a"), ("output", "b")],
            &[("memory_limit", "10q")],
        );
        let err = l
            .run_config(None, NaiveDate::default())
            .expect_err("bad memory");
        assert!(
            err.to_string().contains("invalid memory limit '10q'"),
            "{err}"
        );
        assert!(err.to_string().contains("(from cxpipe.toml)"), "{err}");
        let missing = layers(&[], &[])
            .run_config(None, NaiveDate::default())
            .expect_err("no input");
        assert!(
            missing
                .to_string()
                .contains("pass --input URL, set CXPIPE_INPUT"),
            "{missing}"
        );
    }

    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(mask_url("s3://bucket/raw"), "s3://bucket/raw");
        assert_eq!(
            mask_url("https://acct.blob.core.windows.net/c?sig=abc"),
            "https://acct.blob.core.windows.net/c?****"
        );
        assert!(!mask_url("s3://key:secret@bucket/x").contains("secret"));
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("1GiB").ok(), Some(1 << 30));
        assert_eq!(parse_memory("512MiB").ok(), Some(512 << 20));
        assert_eq!(parse_memory("2G").ok(), Some(2_000_000_000));
        let err = parse_memory("10q").expect_err("bad unit");
        assert!(err.to_string().contains("invalid memory limit '10q'"));
    }

    #[test]
    fn engines() {
        assert_eq!(Engine::parse("local").ok(), Some(Engine::Local));
        assert!(Engine::parse("spark://x").is_err());
        assert!(Engine::parse("ballista://h:notaport").is_err());
        let parsed = Engine::parse("ballista://10.0.0.5:50050");
        if cfg!(feature = "ballista") {
            assert_eq!(
                parsed.ok(),
                Some(Engine::Ballista {
                    host: "10.0.0.5".into(),
                    port: 50050,
                    hash_joins: false,
                })
            );
            let hashed = Engine::parse("ballista://sched:50050?joins=hash").expect("option");
            assert_eq!(hashed.to_string(), "ballista://sched:50050?joins=hash");
            let err = Engine::parse("ballista://sched:50050?joins=fast").expect_err("bad option");
            assert!(
                err.to_string().contains("unknown option 'joins=fast'"),
                "{err}"
            );
        } else {
            let err = parsed.expect_err("not compiled in");
            assert!(err.to_string().contains("--features ballista"), "{err}");
        }
    }

    #[test]
    fn dates_and_durations() {
        assert!(parse_date("2026-02-30").is_err());
        assert_eq!(
            parse_date("2026-11-24").ok(),
            NaiveDate::from_ymd_opt(2026, 11, 24)
        );
        assert_eq!(parse_duration("6h").ok(), Some(Duration::from_secs(21_600)));
        assert!(parse_duration("6 hours").is_err());
    }
}
