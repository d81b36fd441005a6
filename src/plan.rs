//! `cxpipe check`: plans every model — logically and physically — against empty tables of the
//! input schema, reading no data. Every problem is reported at once as `file:line:col`, with the
//! offending SQL line, a caret, and a hint (a did-you-mean for unknown columns). The schemas it
//! finds are what `cxpipe docs` shows.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use chrono::NaiveDate;
use datafusion::common::{DFSchema, TableReference};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::config::Engine;
use crate::error::{Error, Result};
use crate::inputs;
use crate::project::{Materialized, Model, Project, did_you_mean, locate_word};
use crate::session::{self, SessionSettings};

/// A model's planned output.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: String,
    pub schema: SchemaRef,
}

/// Plans every model in order; models whose dependencies failed are reported as not checked.
pub async fn check(project: &Project, run_date: NaiveDate) -> Result<Vec<Planned>> {
    check_for(project, run_date, &Engine::Local).await
}

/// Like [`check`]; for a Ballista engine, every model and test is also planned with Ballista's
/// settings and serialised as it would be sent to the scheduler and executors, so SQL a cluster
/// cannot run is reported with its file. No cluster is contacted.
pub async fn check_for(
    project: &Project,
    run_date: NaiveDate,
    engine: &Engine,
) -> Result<Vec<Planned>> {
    let distributed = *engine != Engine::Local;
    let ctx = empty_input_context(run_date, distributed)?;
    let mut planned = Vec::new();
    let mut problems = Vec::new();
    let mut failed: Vec<&str> = Vec::new();
    let read_as_previous = crate::state::read_as_previous(project);
    for model in &project.models {
        if let Some(dep) = model
            .depends_on
            .iter()
            .find(|d| failed.contains(&d.as_str()))
        {
            failed.push(&model.name);
            problems.push(format!(
                "{}: not checked: it reads `{dep}`, which has errors",
                model.path.display()
            ));
            continue;
        }
        let planned_model = plan_model(&ctx, model, distributed).await;
        if let Ok(schema) = &planned_model
            && let Some(problem) = merge_problem(&ctx, model, schema, &planned)
        {
            failed.push(&model.name);
            problems.push(problem);
            continue;
        }
        match planned_model {
            Ok(schema) => {
                if read_as_previous.contains(model.name.as_str()) {
                    crate::state::register_empty_previous(&ctx, &model.name).await?;
                }
                planned.push(Planned {
                    name: model.name.clone(),
                    schema,
                });
            }
            Err(e) => {
                failed.push(&model.name);
                problems.push(explain(model, &e));
            }
        }
    }
    for test in project.tests() {
        if test.models.iter().any(|m| failed.contains(&m.as_str())) {
            continue;
        }
        if let Err(e) = plan(&ctx, &test.sql, distributed).await {
            problems.push(format!(
                "{}: test `{}`: {}",
                test.declared_at,
                test.name,
                one_line(&e)
            ));
        }
    }
    if problems.is_empty() {
        Ok(planned)
    } else {
        Err(Error::Project(problems))
    }
}

/// The columns of `table` that some model or data test reads (views count through their
/// readers: a view nobody reads reads nothing), from each query's optimised plan over empty
/// tables of the input schema. `None` when a query cannot be planned: the run then reports it,
/// and keeps every column meanwhile.
pub async fn columns_read(
    project: &Project,
    run_date: NaiveDate,
    table: &str,
) -> Option<BTreeSet<String>> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    use datafusion::logical_expr::LogicalPlan;

    let ctx = empty_input_context(run_date, false).ok()?;
    let read_as_previous = crate::state::read_as_previous(project);
    let mut read = BTreeSet::new();
    let mut collect = |plan: &LogicalPlan| -> Option<()> {
        let optimized = ctx.state().optimize(plan).ok()?;
        optimized
            .apply_with_subqueries(|node| {
                if let LogicalPlan::TableScan(scan) = node
                    && scan.table_name.table() == table
                    && scan.table_name.schema().is_none()
                {
                    let schema = scan.source.schema();
                    let all: Vec<usize> = (0..schema.fields().len()).collect();
                    for index in scan.projection.as_ref().unwrap_or(&all) {
                        read.insert(schema.field(*index).name().clone());
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
            .ok()?;
        Some(())
    };
    for model in &project.models {
        let df = ctx.sql(&model.sql).await.ok()?;
        if model.materialized != Materialized::View && model.name != table {
            collect(df.logical_plan())?;
        }
        register_stand_in(&ctx, model, &df).ok()?;
        if read_as_previous.contains(model.name.as_str()) {
            crate::state::register_empty_previous(&ctx, &model.name)
                .await
                .ok()?;
        }
    }
    for test in project.tests() {
        collect(ctx.sql(&test.sql).await.ok()?.logical_plan())?;
    }
    Some(read)
}

/// Why a `unique_key:` model cannot be merged, if it cannot: a key column missing from its rows,
/// or from the rows of the model its `replaces:` names; or why a `partition_by:` model cannot
/// be published by month; or why its `replaces_where:` condition cannot be planned.
fn merge_problem(
    ctx: &SessionContext,
    model: &Model,
    schema: &SchemaRef,
    planned: &[Planned],
) -> Option<String> {
    if let Some(problem) = model
        .unique_key_problem(schema)
        .or_else(|| model.partition_problem(schema))
    {
        return Some(format!("{}:1: {problem}", model.path.display()));
    }
    let replaces = model.replaces.as_ref()?;
    let keys = planned.iter().find(|p| p.name == *replaces)?;
    if let Some(key) = model
        .unique_key
        .iter()
        .find(|k| keys.schema.field_with_name(k).is_err())
    {
        return Some(format!(
            "{}:1: `replaces: {replaces}` must list the unique_key columns, but `{replaces}` has no `{key}` ({})",
            model.path.display(),
            inputs::column_list(&keys.schema)
        ));
    }
    // The condition compares a stored row with its key's row, qualified as on a night.
    let qualified = |table: TableReference, schema: &SchemaRef| {
        DFSchema::try_from_qualified_schema(table, schema)
    };
    let stored = qualified(
        TableReference::partial(crate::state::PREVIOUS_SCHEMA, model.name.as_str()),
        schema,
    );
    let keys = qualified(TableReference::bare(replaces.as_str()), &keys.schema);
    let condition = match (stored, keys) {
        (Ok(stored), Ok(keys)) => {
            crate::execute::replaces_condition(ctx, model, &stored, &keys).err()
        }
        (Err(e), _) | (_, Err(e)) => Some(e),
    };
    condition.map(|e| format!("{}:1: {}", model.path.display(), one_line(&e)))
}

/// A planning context whose raw input tables are empty.
fn empty_input_context(run_date: NaiveDate, distributed: bool) -> Result<SessionContext> {
    let ctx = planning_context(run_date, distributed)?;
    ctx.register_table(
        inputs::RAW_TABLE,
        Arc::new(MemTable::try_new(inputs::raw_schema(), vec![vec![]])?),
    )?;
    ctx.register_table(inputs::FILES_TABLE, inputs::files_table(&[])?)?;
    Ok(ctx)
}

/// The session `check` plans in: a local one, or one configured like a Ballista client's.
fn planning_context(run_date: NaiveDate, distributed: bool) -> Result<SessionContext> {
    if !distributed {
        return session::context(&SessionSettings::default(), run_date);
    }
    #[cfg(feature = "ballista")]
    {
        let (config, runtime) = session::parts(&SessionSettings::default());
        let config = crate::cluster::planning_config(config);
        let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
        session::register_run_tables(&ctx, run_date)?;
        Ok(ctx)
    }
    #[cfg(not(feature = "ballista"))]
    Err(Error::Usage(
        "checking for a Ballista engine needs a cxpipe built with `--features ballista`".into(),
    ))
}

/// With `distributed`, also what a Ballista cluster needs of the plan (see [`check_for`]).
async fn distributable(
    ctx: &SessionContext,
    df: &datafusion::prelude::DataFrame,
    distributed: bool,
) -> Result<(), DataFusionError> {
    #[cfg(feature = "ballista")]
    if distributed {
        crate::cluster::check_distributable(ctx, df).await?;
    }
    #[cfg(not(feature = "ballista"))]
    let _ = (ctx, df, distributed);
    Ok(())
}

async fn plan(
    ctx: &SessionContext,
    sql: &str,
    distributed: bool,
) -> Result<SchemaRef, DataFusionError> {
    let df = ctx.sql(sql).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    distributable(ctx, &df, distributed).await?;
    df.create_physical_plan().await?;
    Ok(schema)
}

async fn plan_model(
    ctx: &SessionContext,
    model: &Model,
    distributed: bool,
) -> Result<SchemaRef, DataFusionError> {
    let df = ctx.sql(&model.sql).await?;
    distributable(ctx, &df, distributed).await?;
    let schema = register_stand_in(ctx, model, &df)?;
    df.create_physical_plan().await?;
    Ok(schema)
}

/// Registers what later models read as `model` while nothing is executed: a view as its query,
/// anything written as an empty table of its schema, which it returns.
fn register_stand_in(
    ctx: &SessionContext,
    model: &Model,
    df: &datafusion::prelude::DataFrame,
) -> Result<SchemaRef, DataFusionError> {
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    match model.materialized {
        Materialized::View => {
            ctx.register_table(model.name.as_str(), df.clone().into_view())?;
        }
        Materialized::Table | Materialized::Intermediate | Materialized::Incremental => {
            ctx.register_table(
                model.name.as_str(),
                Arc::new(MemTable::try_new(schema.clone(), vec![vec![]])?),
            )?;
        }
    }
    Ok(schema)
}

/// `file:line:col: message`, the SQL line with a caret under the column, and a hint.
fn explain(model: &Model, error: &DataFusionError) -> String {
    let full = one_line(error);
    let suggestion = unknown_field(&full)
        .zip(valid_fields(&full))
        .and_then(|(field, valid)| {
            let bare: Vec<&str> = valid
                .iter()
                .map(|v| v.rsplit('.').next().unwrap_or(v))
                .collect();
            did_you_mean(&field, bare.iter().copied()).map(str::to_string)
        });
    // With our own suggestion, DataFusion's and its list of every valid field are noise.
    let message = match &suggestion {
        Some(_) => {
            let cut = [" Did you mean", " Valid fields are"]
                .iter()
                .filter_map(|m| full.find(m))
                .min();
            full[..cut.unwrap_or(full.len())].to_string()
        }
        None => full.clone(),
    };
    let diagnostic = error.diagnostic();
    let (line, column) = diagnostic
        .and_then(|d| d.span)
        .map(|span| (span.start.line as usize, span.start.column as usize))
        .filter(|(line, _)| *line > 0)
        .or_else(|| {
            unknown_field(&full).map(|field| locate_word(&model.sql, &field.to_lowercase()))
        })
        .unwrap_or((1, 1));
    let mut text = format!("{}:{line}:{column}: {message}", model.path.display());
    if let Some(source) = model.sql.lines().nth(line - 1) {
        text.push_str(&format!(
            "\n    {source}\n    {}^",
            " ".repeat(column.saturating_sub(1))
        ));
    }
    let mut hints: Vec<String> = diagnostic
        .map(|d| d.helps.iter().map(|h| h.message.clone()).collect())
        .unwrap_or_default();
    if let Some(best) = suggestion {
        hints.push(format!("did you mean `{best}`?"));
    }
    if is_type_mismatch(&full) {
        hints.push(
            "the values have different types: cast one side, e.g. `cast(x as double)` or `cast(x as varchar)`"
                .to_string(),
        );
    }
    for hint in hints {
        text.push_str(&format!("\n    hint: {hint}"));
    }
    text
}

/// DataFusion's innermost message on one line, without its "Error during planning:" prefixes.
fn one_line(error: &DataFusionError) -> String {
    let text = error.find_root().to_string();
    let text = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    [
        "Error during planning: ",
        "Schema error: ",
        "Optimizer rule",
        "type_coercion\ncaused by\n",
    ]
    .iter()
    .fold(text, |t, prefix| {
        t.strip_prefix(prefix).map(str::to_string).unwrap_or(t)
    })
}

/// DataFusion's words for an expression whose operand types do not fit together.
fn is_type_mismatch(message: &str) -> bool {
    [
        "Cannot coerce",
        "cannot be coerced",
        "Cannot infer common",
        "No function matches",
    ]
    .iter()
    .any(|words| message.contains(words))
}

/// The column named in "No field named x." / "No field named t.x."
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.split("No field named ").nth(1)?;
    let field: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '"')
        .collect();
    let field = field.trim_end_matches('.').replace('"', "");
    Some(field.rsplit('.').next().unwrap_or(&field).to_string())
}

/// The names after "Valid fields are ".
fn valid_fields(message: &str) -> Option<Vec<String>> {
    let rest = message.split("Valid fields are ").nth(1)?;
    let end = rest.rfind('.').unwrap_or(rest.len());
    Some(
        rest[..end]
            .split(", ")
            .map(|f| f.replace('"', "").trim().to_string())
            .filter(|f| !f.is_empty())
            .collect(),
    )
}
