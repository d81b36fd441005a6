//! The executive report: minijinja templates from `reports/`, rendered with the run's tables into
//! one self-contained HTML file. Templates are loaded and compiled before any data is read, so a
//! template mistake fails fast with its file and line. Auto-escaping stays on for `.html`, and
//! undefined variables are errors, so a typo never renders as an empty number.
//!
//! The sections the executive reads are computed in Rust (`context`: periods, suppression of
//! small numbers, good/bad colouring, sentences; `charts`: SVG), then laid out by templates that
//! analysts edit. Analysts' own sections read `tables.<model>` and format with the `num`, `pct`,
//! `date` and `month` filters and the `bar_chart` function registered here.

pub mod charts;
pub mod context;
mod filters;
pub mod i18n;
pub mod pii;
mod values;

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

pub use values::{TableData, table_data};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::execute::ModelRun;
use crate::project::{Materialized, Project};

/// How the report is rendered; set by configuration.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Tables with at most this many rows are handed to templates as `tables.<name>`.
    pub row_limit: usize,
    /// Language of labels, number and date formats: "en" or "de".
    pub lang: String,
    /// Survey metrics and cohort cells with fewer answers / customers are suppressed.
    pub min_sample: usize,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            row_limit: 5_000,
            lang: "en".into(),
            min_sample: 10,
        }
    }
}

/// Facts about the run shown in the report.
#[derive(Debug, Serialize)]
pub struct RunInfo<'a> {
    pub date: NaiveDate,
    pub id: &'a str,
    pub generated_at: &'a str,
    pub input: &'a str,
    pub version: &'static str,
    pub status: &'a str,
    /// Input files left out under `--on-bad-file skip`.
    pub skipped_files: &'a [crate::inputs::BadFile],
    /// Data test results.
    pub tests: &'a [crate::verify::TestRun],
}

/// The template context: the run, its models, every small table, the labels of the language
/// and the computed sections.
#[derive(Debug, Serialize)]
struct ReportContext<'a> {
    lang: &'static str,
    t: BTreeMap<&'static str, &'static str>,
    run: RunInfo<'a>,
    models: &'a [ModelRun],
    tables: BTreeMap<String, TableData>,
    report: context::Report,
}

/// Renders the report from the run's tables (read back through `ctx`).
pub async fn render(
    ctx: &SessionContext,
    templates: &Templates,
    project: &Project,
    models: &[ModelRun],
    run: RunInfo<'_>,
    settings: &ReportSettings,
) -> Result<String> {
    let mut tables = BTreeMap::new();
    for model in models {
        let is_table = project
            .model(&model.name)
            .is_some_and(|m| m.materialized == Materialized::Table);
        // The report's own tables are aggregates: always loaded, whatever the row limit.
        let needed = context::TABLES.contains(&model.name.as_str());
        let small = model.rows.is_some_and(|r| r as usize <= settings.row_limit);
        if model.ok() && is_table && (small || needed) {
            let batches = ctx.table(model.name.as_str()).await?.collect().await?;
            tables.insert(model.name.clone(), table_data(&batches)?);
        }
    }
    let lang = i18n::Lang::parse(&settings.lang);
    let facts = context::RunFacts {
        date: run.date,
        generated_at: run.generated_at,
        input: run.input,
        version: run.version,
        id: run.id,
        models: models
            .iter()
            .map(|m| {
                let status = serde_json::to_value(m.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("{:?}", m.status).to_lowercase());
                (m.name.clone(), status, m.error.clone())
            })
            .collect(),
        skipped_files: run
            .skipped_files
            .iter()
            .map(|f| (f.path.clone(), f.reason.clone()))
            .collect(),
        tests: run
            .tests
            .iter()
            .map(|t| {
                let status = format!("{:?}", t.status).to_lowercase();
                (t.name.clone(), status, t.failing_rows)
            })
            .collect(),
    };
    let report = context::build(&tables, lang, settings.min_sample, &facts);
    templates.render(ReportContext {
        lang: lang.code(),
        t: i18n::labels(lang),
        run,
        models,
        tables,
        report,
    })
}

/// The page that is rendered; every other file in `reports/` is a layout or partial it uses.
pub const ENTRY: &str = "report.html";

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load(dir: &Path) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        filters::register(&mut env);
        let mut problems = Vec::new();
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files).map_err(|e| {
            Error::Usage(format!(
                "cannot read the reports folder '{}': {e}; pass --reports DIR",
                dir.display()
            ))
        })?;
        for (name, path) in files {
            match std::fs::read_to_string(&path) {
                Ok(source) => {
                    if let Err(e) = env.add_template_owned(name, source) {
                        problems.push(format!(
                            "{}:{}: {}",
                            path.display(),
                            e.line().unwrap_or(1),
                            e
                        ));
                    }
                }
                Err(e) => problems.push(format!("{}: cannot read: {e}", path.display())),
            }
        }
        if problems.is_empty() && env.get_template(ENTRY).is_err() {
            problems.push(format!(
                "{}: missing {ENTRY}, the page cxpipe renders",
                dir.display()
            ));
        }
        if problems.is_empty() {
            Ok(Templates { env })
        } else {
            Err(Error::Project(problems))
        }
    }

    pub fn render(&self, context: impl Serialize) -> Result<String> {
        let template = self.env.get_template(ENTRY)?;
        Ok(template.render(minijinja::Value::from(minijinja::value::Serde(context)))?)
    }
}

/// Template files below `dir`, named by their path relative to it (`partials/kpis.html`).
fn collect_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "html" || e == "jinja" || e == "css" || e == "svg")
        {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, path));
        }
    }
    Ok(())
}
