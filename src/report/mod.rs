//! The executive report: minijinja templates from `reports/`, rendered with the run's tables into
//! one self-contained HTML file. Templates are loaded and compiled before any data is read, so a
//! template mistake fails fast with its file and line. Auto-escaping stays on for `.html`, and
//! undefined variables are errors, so a typo never renders as an empty number.

mod values;

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

pub use values::{TableData, table_data};

use crate::error::{Error, Result};

/// The page that is rendered; every other file in `reports/` is a layout or partial it uses.
pub const ENTRY: &str = "report.html";

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load(dir: &Path) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
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
