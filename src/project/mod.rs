//! The analyst's project, loaded up front with no data I/O so that mistakes surface in
//! milliseconds: every `queries/*.sql` becomes a [`Model`] named by its file stem, its
//! dependencies are read from the SQL itself, and the models are put in run order. Singular
//! data tests come from `queries/tests/*.sql`. Unknown tables and cycles are reported all at
//! once, each with file, line and column.

pub mod data_tests;
mod graph;
mod model;
mod select;

use std::path::Path;

pub use data_tests::{DataTest, Severity};
pub use graph::{did_you_mean, order};
pub use model::{Materialized, Model, locate_word};

use crate::error::{Error, Result};

/// Tables the pipeline provides to every model (not files in `queries/`).
pub const SOURCES: [&str; 4] = [
    crate::inputs::RAW_TABLE,
    crate::inputs::FILES_TABLE,
    "run_context",
    crate::state::EARLIER_TABLE,
];

/// The loaded project: models in run order, and singular tests.
#[derive(Debug)]
pub struct Project {
    pub models: Vec<Model>,
    /// Tests from `queries/tests/*.sql`.
    pub singular_tests: Vec<DataTest>,
}

impl Project {
    /// Loads and orders every `*.sql` file of `queries_dir`, and the tests in its `tests/`.
    pub fn load(queries_dir: &Path) -> Result<Project> {
        let paths = sql_files(queries_dir).map_err(|e| {
            Error::Usage(format!(
                "cannot read the queries folder '{}': {e}; pass --queries DIR",
                queries_dir.display()
            ))
        })?;
        let mut models = Vec::new();
        let mut problems = Vec::new();
        for path in paths {
            match Model::load(&path) {
                Ok(model) => models.push(model),
                Err(problem) => problems.push(problem),
            }
        }
        if models.is_empty() && problems.is_empty() {
            problems.push(format!(
                "{}: no .sql files; add a model such as `select count(*) as events from touchpoints`",
                queries_dir.display()
            ));
        }
        let deltas: std::collections::BTreeSet<String> = reading_previous(&models)
            .into_iter()
            .map(String::from)
            .collect();
        for model in &mut models {
            model.delta = model.materialized == Materialized::Incremental
                && deltas.contains(model.name.as_str());
        }
        for model in &models {
            if model.previous.contains(&model.name) {
                let (line, column) = model.locate(&format!("previous.{}", model.name));
                problems.push(format!(
                    "{}:{line}:{column}: a model cannot read its own previous table (on a full refresh it has no columns yet); declare `-- unique_key:` and cxpipe merges the rows into it",
                    model.path.display()
                ));
            }
            for name in &model.previous {
                let published = models
                    .iter()
                    .any(|m| m.name == *name && m.materialized == Materialized::Table);
                if !published {
                    let (line, column) = model.locate(name);
                    problems.push(format!(
                        "{}:{line}:{column}: `previous.{name}` reads the table the previous run published, but there is no table model `{name}` (only `materialized: table` models are published)",
                        model.path.display()
                    ));
                }
            }
            if let Some(keys) = &model.replaces
                && (model.unique_key.is_empty() || !model.depends_on.contains(keys))
            {
                problems.push(format!(
                    "{}:1: `replaces: {keys}` names the keys a `unique_key:` model recomputes, so the model needs a `unique_key:` and must read `{keys}`",
                    model.path.display()
                ));
            }
            if model.replaces_where.is_some() && model.replaces.is_none() {
                problems.push(format!(
                    "{}:1: `replaces_where:` says which stored rows of the keys `replaces:` names are replaced, so the model needs a `replaces:`",
                    model.path.display()
                ));
            }
            if model.partition_by.is_some() && model.materialized != Materialized::Table {
                problems.push(format!(
                    "{}:1: `partition_by:` publishes a table's rows in a file per month, so the model must be `materialized: table`",
                    model.path.display()
                ));
            }
            if !model.unique_key.is_empty() && model.materialized != Materialized::Table {
                problems.push(format!(
                    "{}:1: `unique_key:` merges a model's rows into the table the previous run published, so the model must be `materialized: table`",
                    model.path.display()
                ));
            }
            // A delta model reads the previous run's tables (itself or upstream) and adds what changed.
            // Otherwise it reads the night's new events, or the rows other incremental models
            // added for them: what it adds is computed from that night's rows only.
            let of_the_night = |name: &String| {
                name == crate::state::INGEST_MODEL
                    || models.iter().any(|m| {
                        m.name == *name && m.materialized == Materialized::Incremental && !m.delta
                    })
            };
            let reads_the_night =
                !model.depends_on.is_empty() && model.depends_on.iter().all(of_the_night);
            if model.materialized == Materialized::Incremental && !model.delta && !reads_the_night {
                problems.push(format!(
                    "{}:1: an incremental model reads only {} (it runs over each night's new events) or other incremental models (their rows of the night), not {}, unless it reads `previous.<table>` to add what changed since the previous run; make it `intermediate`, or split it",
                    model.path.display(),
                    crate::state::INGEST_MODEL,
                    model.depends_on.join(", ")
                ));
            }
        }
        let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
        let singular_tests = load_singular_tests(queries_dir, &names, &mut problems);
        match order(models) {
            Ok(models) if problems.is_empty() => Ok(Project {
                models,
                singular_tests,
            }),
            Ok(_) => Err(Error::Project(problems)),
            Err(mut graph_problems) => {
                problems.append(&mut graph_problems);
                Err(Error::Project(problems))
            }
        }
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    /// Every data test: each model's generic tests in run order, then the singular ones.
    pub fn tests(&self) -> impl Iterator<Item = &DataTest> {
        self.models
            .iter()
            .flat_map(|m| m.tests.iter())
            .chain(&self.singular_tests)
    }
}

/// The models that read a `previous.` table, themselves or through a model they read.
fn reading_previous(models: &[Model]) -> std::collections::BTreeSet<&str> {
    let mut found: std::collections::BTreeSet<&str> = models
        .iter()
        .filter(|m| !m.previous.is_empty())
        .map(|m| m.name.as_str())
        .collect();
    loop {
        let more: Vec<&str> = models
            .iter()
            .filter(|m| !found.contains(m.name.as_str()))
            .filter(|m| m.depends_on.iter().any(|d| found.contains(d.as_str())))
            .map(|m| m.name.as_str())
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

fn sql_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "sql") {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn load_singular_tests(
    queries_dir: &Path,
    models: &[String],
    problems: &mut Vec<String>,
) -> Vec<DataTest> {
    let dir = data_tests::tests_dir(queries_dir);
    let Ok(paths) = sql_files(&dir) else {
        return Vec::new();
    };
    let mut tests = Vec::new();
    for path in paths {
        let shown = path.display();
        let sql = match std::fs::read_to_string(&path) {
            Ok(sql) => sql,
            Err(e) => {
                problems.push(format!("{shown}: cannot read: {e}"));
                continue;
            }
        };
        let tables = match model::read_tables(&sql) {
            Ok(tables) => tables,
            Err(e) => {
                problems.push(format!("{shown}:{e}"));
                continue;
            }
        };
        for table in &tables {
            if !models.contains(table) && !SOURCES.contains(&table.as_str()) {
                let (line, column) = locate_word(&sql, table);
                let hint = did_you_mean(table, models.iter().map(String::as_str))
                    .map_or_else(String::new, |m| format!("; did you mean `{m}`?"));
                problems.push(format!(
                    "{shown}:{line}:{column}: test reads unknown table `{table}`{hint}"
                ));
            }
        }
        let models_read = tables.into_iter().filter(|t| models.contains(t)).collect();
        match data_tests::singular(&path, &sql, models_read) {
            Ok(test) => tests.push(test),
            Err(e) => problems.push(e),
        }
    }
    tests
}
