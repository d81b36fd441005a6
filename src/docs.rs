//! `cxpipe docs`: one static, offline HTML page documenting the project — every model with its
//! description, materialization, columns and types (from planning), tests, what it reads and
//! what reads it — and a lineage graph drawn as inline SVG.

use std::collections::BTreeMap;
use std::fmt::Write;

use minijinja::{Environment, context};
use serde::Serialize;

use crate::error::Result;
use crate::plan::Planned;
use crate::project::{Project, SOURCES};

const PAGE: &str = include_str!("docs.html");

#[derive(Serialize)]
struct ModelDoc {
    name: String,
    file: String,
    description: String,
    materialized: String,
    depends_on: Vec<String>,
    used_by: Vec<String>,
    columns: Vec<(String, String)>,
    tests: Vec<(String, String)>,
}

/// The model's materialization, and how an incremental night keeps its previous table.
fn how_kept(model: &crate::project::Model) -> String {
    let materialized = format!("{:?}", model.materialized).to_lowercase();
    let merged = match (model.unique_key.as_slice(), &model.replaces_where) {
        ([], _) => None,
        (key, Some(condition)) => Some(format!("merged by {} where {condition}", key.join(", "))),
        (key, None) => Some(format!("merged by {}", key.join(", "))),
    };
    let by_month = model
        .partition_by
        .as_ref()
        .map(|column| format!("a file per month of {column}"));
    [Some(materialized), by_month, merged]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(project: &Project, planned: &[Planned]) -> Result<String> {
    let schemas: BTreeMap<&str, &Planned> = planned.iter().map(|p| (p.name.as_str(), p)).collect();
    let models: Vec<ModelDoc> = project
        .models
        .iter()
        .map(|m| ModelDoc {
            name: m.name.clone(),
            file: m
                .path
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default(),
            description: m.description.clone(),
            materialized: how_kept(m),
            depends_on: m.depends_on.clone(),
            used_by: project
                .models
                .iter()
                .filter(|other| other.depends_on.contains(&m.name))
                .map(|other| other.name.clone())
                .collect(),
            columns: schemas
                .get(m.name.as_str())
                .map(|p| {
                    p.schema
                        .fields()
                        .iter()
                        .map(|f| (f.name().clone(), f.data_type().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            tests: project
                .tests()
                .filter(|t| t.models.contains(&m.name))
                .map(|t| (t.name.clone(), format!("{:?}", t.severity).to_lowercase()))
                .collect(),
        })
        .collect();
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("docs.html", PAGE)?;
    let page = env.get_template("docs.html")?.render(context! {
        models => minijinja::Value::from(minijinja::value::Serde(&models)),
        lineage => minijinja::Value::from_safe_string(lineage_svg(project)),
        version => crate::run::VERSION,
    })?;
    Ok(page)
}

/// Columns by depth (sources first), one box per model, a curve per dependency.
pub fn lineage_svg(project: &Project) -> String {
    let mut depth: BTreeMap<&str, usize> = SOURCES.iter().map(|s| (*s, 0)).collect();
    for model in &project.models {
        // Models are in run order, so every dependency already has its depth.
        let d = model
            .depends_on
            .iter()
            .filter_map(|dep| depth.get(dep.as_str()))
            .max()
            .map_or(1, |d| d + 1);
        depth.insert(&model.name, d);
    }
    let mut columns: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (name, d) in &depth {
        columns.entry(*d).or_default().push(name);
    }
    let (box_w, box_h, gap_x, gap_y) = (190.0, 28.0, 60.0, 14.0);
    let mut at: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (d, names) in &columns {
        for (i, name) in names.iter().enumerate() {
            at.insert(
                name,
                (
                    10.0 + *d as f64 * (box_w + gap_x),
                    10.0 + i as f64 * (box_h + gap_y),
                ),
            );
        }
    }
    let width = 20.0 + columns.len() as f64 * (box_w + gap_x);
    let height = 20.0 + columns.values().map(Vec::len).max().unwrap_or(1) as f64 * (box_h + gap_y);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="lineage-title" viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title id="lineage-title">Lineage: which models read which</title>"#
    );
    for model in &project.models {
        let Some(&(x2, y2)) = at.get(model.name.as_str()) else {
            continue;
        };
        for dep in &model.depends_on {
            let Some(&(x1, y1)) = at.get(dep.as_str()) else {
                continue;
            };
            let (sx, sy, ex, ey) = (x1 + box_w, y1 + box_h / 2.0, x2, y2 + box_h / 2.0);
            let mid = (sx + ex) / 2.0;
            let _ = write!(
                svg,
                r#"<path class="edge" data-from="{dep}" data-to="{}" d="M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}"/>"#,
                model.name
            );
        }
    }
    for (name, (x, y)) in &at {
        let kind = if SOURCES.contains(name) {
            "source"
        } else {
            "model"
        };
        let _ = write!(
            svg,
            r##"<a href="#{name}"><rect class="{kind}" x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="5"/><text x="{}" y="{}">{name}</text></a>"##,
            x + 8.0,
            y + 18.0
        );
    }
    svg.push_str("</svg>");
    svg
}
