//! The analyst's project, loaded up front with no data I/O so that mistakes surface in
//! milliseconds: every `queries/*.sql` becomes a [`Model`] named by its file stem, its
//! dependencies are read from the SQL itself, and the models are put in run order. Unknown
//! tables and cycles are reported all at once, each with file, line and column.

mod graph;
mod model;

use std::path::Path;

pub use graph::{did_you_mean, order};
pub use model::{Materialized, Model};

use crate::error::{Error, Result};

/// Tables the pipeline provides to every model (not files in `queries/`).
pub const SOURCES: [&str; 3] = [
    crate::inputs::RAW_TABLE,
    crate::inputs::FILES_TABLE,
    "run_context",
];

/// The loaded project: models in run order.
#[derive(Debug)]
pub struct Project {
    pub models: Vec<Model>,
}

impl Project {
    /// Loads and orders every `*.sql` file of `queries_dir` (not its subfolders).
    pub fn load(queries_dir: &Path) -> Result<Project> {
        let entries = std::fs::read_dir(queries_dir).map_err(|e| {
            Error::Usage(format!(
                "cannot read the queries folder '{}': {e}; pass --queries DIR",
                queries_dir.display()
            ))
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "sql") {
                paths.push(path);
            }
        }
        paths.sort();
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
        match order(models) {
            Ok(models) if problems.is_empty() => Ok(Project { models }),
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
}
