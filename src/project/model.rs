//! One model: a SQL file, its header comment (description, options, data tests) and the tables
//! it reads.

use std::path::{Path, PathBuf};

use datafusion::sql::parser::DFParser;
use datafusion::sql::resolve::resolve_table_references;

use super::data_tests::{self, DataTest, Severity};

/// How a model's result is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialized {
    /// Computed once, written under `tables/<name>/`, read by dependents from there.
    Table,
    /// Not computed on its own: dependents inline its SQL (for cheap row-level steps).
    View,
    /// Computed once per run and kept as parquet on local disk for its dependents, but not
    /// published: for wide row-level steps that many models read (clean events) and that would
    /// be wasteful to recompute per reader or to write out every night.
    Intermediate,
    /// An aggregate or subset of `touchpoints` kept from night to night: each run computes it
    /// over the events that arrived and adds the rows to the stored ones, so readers must add up
    /// rows that share a key. Not published.
    Incremental,
}

#[derive(Debug, Clone)]
pub struct Model {
    /// The file stem: what other models call it in SQL.
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    /// The header comment, without option and test lines.
    pub description: String,
    pub materialized: Materialized,
    /// Tables the SQL reads (models or sources), lower-case, without CTE names; a model read
    /// as `previous.<name>` counts too (it runs after that model), unless it is this one.
    pub depends_on: Vec<String>,
    /// Models whose tables of the previous run this one reads, as `previous.<name>`.
    pub previous: Vec<String>,
    /// `unique_key:` columns. On an incremental run the model's rows replace those of the
    /// previous run's table that share a key, and the others are kept: its SQL computes only
    /// the keys that changed (dbt's delete+insert).
    pub unique_key: Vec<String>,
    /// `replaces:` the model whose rows name the keys a run recomputes (it has the key
    /// columns): every stored row of those keys is replaced, even by none. Without it, the keys
    /// of the model's new rows are.
    pub replaces: Option<String>,
    /// `replaces_where:` a condition on a stored row and its key's row in the `replaces:` model
    /// (their columns by name): of a replaced key, only the stored rows it holds for are
    /// replaced, and the others are kept, so a run recomputes a key's rows from the day that
    /// changed on, not all of them (dbt's incremental_predicates).
    pub replaces_where: Option<String>,
    /// `partition_by: month(<column>)`: the date column whose calendar month names the file
    /// each row is published in. On an incremental run the model's rows replace the previous
    /// table's files of the months they fall in, and the other months' files are kept: its SQL
    /// computes every row of the months that changed (dbt's insert_overwrite).
    pub partition_by: Option<String>,
    /// An incremental model that reads a `previous.` table, itself or upstream: each night it
    /// adds what changed, so it reads its inputs whole. Other incremental models read the rows
    /// of the night only. Set by the project, which knows the upstream models.
    pub delta: bool,
    /// Data tests declared in the header.
    pub tests: Vec<DataTest>,
}

impl Model {
    /// Reads and parses one file; a problem comes back as `file:line:col: message`.
    pub fn load(path: &Path) -> Result<Model, String> {
        let shown = path.display();
        let sql =
            std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| is_identifier(s))
            .ok_or_else(|| {
                format!(
                    "{shown}: a model's file name must be a SQL identifier (letters, digits, _), e.g. nps_by_country.sql"
                )
            })?
            .to_lowercase();
        let header =
            parse_header(&sql).map_err(|(line, msg)| format!("{shown}:{line}:1: {msg}"))?;
        let tests = header
            .tests
            .iter()
            .map(|(line, severity, spec)| {
                data_tests::generic(&name, spec, *severity, format!("{shown}:{line}"))
                    .map_err(|msg| format!("{shown}:{line}:1: {msg}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (current, previous) = table_references(&sql).map_err(|e| format!("{shown}:{e}"))?;
        let mut depends_on: Vec<String> = current
            .into_iter()
            .chain(previous.iter().filter(|p| **p != name).cloned())
            .collect();
        depends_on.sort();
        depends_on.dedup();
        Ok(Model {
            name,
            path: path.to_path_buf(),
            sql,
            description: header.description,
            materialized: header.materialized,
            unique_key: header.unique_key,
            replaces: header.replaces,
            replaces_where: header.replaces_where,
            partition_by: header.partition_by,
            depends_on,
            previous,
            delta: false,
            tests,
        })
    }

    /// What the model reads, as its SQL names it: tables of this run, then `previous.<name>`.
    pub fn reads(&self) -> Vec<String> {
        let (current, previous) = table_references(&self.sql).unwrap_or_default();
        current
            .into_iter()
            .chain(
                previous
                    .iter()
                    .map(|p| format!("{}.{p}", crate::state::PREVIOUS_SCHEMA)),
            )
            .collect()
    }

    /// Why the model's rows cannot be merged by its `unique_key:`, if they cannot: a key column
    /// missing from `schema`, its rows'.
    pub fn unique_key_problem(&self, schema: &arrow::datatypes::Schema) -> Option<String> {
        let key = self
            .unique_key
            .iter()
            .find(|k| schema.field_with_name(k).is_err())?;
        Some(format!(
            "unique_key column `{key}` is not among the model's columns ({})",
            crate::inputs::column_list(schema)
        ))
    }

    /// Why the model's rows cannot be published by month, if they cannot: the `partition_by:`
    /// column missing from `schema`, its rows', or not a date.
    pub fn partition_problem(&self, schema: &arrow::datatypes::Schema) -> Option<String> {
        let column = self.partition_by.as_ref()?;
        match schema.field_with_name(column) {
            Err(_) => Some(format!(
                "partition_by column `{column}` is not among the model's columns ({})",
                crate::inputs::column_list(schema)
            )),
            Ok(field) if *field.data_type() != arrow::datatypes::DataType::Date32 => Some(format!(
                "partition_by: month({column}) needs a date, but `{column}` is {}; cast it with `cast({column} as date)`",
                field.data_type()
            )),
            Ok(_) => None,
        }
    }

    /// 1-based line and column of the first use of `table` in the SQL outside comments.
    pub fn locate(&self, table: &str) -> (usize, usize) {
        locate_word(&self.sql, table)
    }
}

/// The tables one SELECT reads (sorted, without CTE names, `previous.` ones included); errors
/// as `line:col: message`.
pub fn read_tables(sql: &str) -> Result<Vec<String>, String> {
    let (mut current, previous) = table_references(sql)?;
    current.extend(previous);
    current.sort();
    current.dedup();
    Ok(current)
}

/// The tables one SELECT reads: those of this run, and those it reads as `previous.<name>`
/// (the previous run's). Each list sorted, without CTE names.
fn table_references(sql: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let mut statements =
        DFParser::parse_sql(sql).map_err(|e| locate_parser_error(&e.to_string()))?;
    let statement = match (statements.pop_front(), statements.is_empty()) {
        (Some(statement), true) => statement,
        (None, _) => {
            return Err("1:1: the file holds no SQL statement; a model is one SELECT".into());
        }
        (Some(_), false) => {
            return Err("1:1: the file holds several statements; a model is exactly one SELECT (split it into files)".into());
        }
    };
    let (tables, _ctes) =
        resolve_table_references(&statement, true).map_err(|e| format!("1:1: {e}"))?;
    let (mut previous, mut current): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for table in &tables {
        let name = table.table().to_string();
        if table.schema() == Some(crate::state::PREVIOUS_SCHEMA) {
            previous.push(name);
        } else {
            current.push(name);
        }
    }
    for names in [&mut current, &mut previous] {
        names.sort();
        names.dedup();
    }
    Ok((current, previous))
}

/// 1-based line and column of the first whole-word use of `word` outside `--` comments.
pub fn locate_word(sql: &str, word: &str) -> (usize, usize) {
    for (index, line) in sql.lines().enumerate() {
        let code = line.split("--").next().unwrap_or("");
        let lower = code.to_lowercase();
        let mut start = 0;
        while let Some(found) = lower[start..].find(word) {
            let at = start + found;
            let before = lower[..at].chars().next_back();
            let after = lower[at + word.len()..].chars().next();
            let boundary = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if boundary(before) && boundary(after) {
                return (index + 1, at + 1);
            }
            start = at + word.len();
        }
    }
    (1, 1)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a model's header says.
struct Header {
    description: String,
    materialized: Materialized,
    unique_key: Vec<String>,
    replaces: Option<String>,
    replaces_where: Option<String>,
    partition_by: Option<String>,
    /// (line, severity, spec) of each `test:` line.
    tests: Vec<(usize, Severity, String)>,
}

/// The leading `--` comment block: `key: value` option lines, `test:` lines and free text.
fn parse_header(sql: &str) -> Result<Header, (usize, String)> {
    let mut description = Vec::new();
    let mut materialized = Materialized::Table;
    let mut unique_key = Vec::new();
    let mut replaces = None;
    let mut replaces_where = None;
    let mut partition_by = None;
    let mut tests = Vec::new();
    for (index, line) in sql.lines().enumerate() {
        let Some(text) = line.trim().strip_prefix("--") else {
            if line.trim().is_empty() {
                continue;
            }
            break;
        };
        let text = text.trim();
        let test = [
            ("test:", Severity::Error),
            ("test(error):", Severity::Error),
            ("test(warn):", Severity::Warn),
        ]
        .iter()
        .find_map(|(prefix, severity)| {
            text.strip_prefix(prefix)
                .map(|spec| (*severity, spec.trim()))
        });
        if let Some((severity, spec)) = test {
            tests.push((index + 1, severity, spec.to_string()));
        } else if let Some(value) = text.strip_prefix("unique_key:") {
            unique_key = value
                .split(',')
                .map(|c| c.trim().to_lowercase())
                .filter(|c| !c.is_empty())
                .collect();
            if unique_key.is_empty() || !unique_key.iter().all(|c| is_identifier(c)) {
                return Err((
                    index + 1,
                    format!(
                        "`unique_key:` takes column names separated by commas, not '{}'",
                        value.trim()
                    ),
                ));
            }
        } else if let Some(value) = text.strip_prefix("replaces_where:") {
            let condition = value.trim();
            if condition.is_empty() {
                return Err((
                    index + 1,
                    "`replaces_where:` takes a condition on the stored row and its key's row, such as `month >= month_start(since)`".to_string(),
                ));
            }
            replaces_where = Some(condition.to_string());
        } else if let Some(value) = text.strip_prefix("replaces:") {
            let value = value.trim().to_lowercase();
            if !is_identifier(&value) {
                return Err((
                    index + 1,
                    format!("`replaces:` takes one model's name, not '{value}'"),
                ));
            }
            replaces = Some(value);
        } else if let Some(value) = text.strip_prefix("partition_by:") {
            let column = value
                .trim()
                .strip_prefix("month(")
                .and_then(|rest| rest.strip_suffix(')'))
                .map(|c| c.trim().to_lowercase())
                .filter(|c| is_identifier(c));
            let Some(column) = column else {
                return Err((
                    index + 1,
                    format!(
                        "`partition_by:` takes `month(<date column>)`, not '{}'",
                        value.trim()
                    ),
                ));
            };
            partition_by = Some(column);
        } else if let Some(value) = text.strip_prefix("materialized:") {
            materialized = match value.trim() {
                "table" => Materialized::Table,
                "view" => Materialized::View,
                "intermediate" => Materialized::Intermediate,
                "incremental" => Materialized::Incremental,
                other => {
                    return Err((
                        index + 1,
                        format!(
                            "unknown materialization '{other}'; use `table`, `intermediate`, `incremental` or `view`"
                        ),
                    ));
                }
            };
        } else {
            description.push(text);
        }
    }
    Ok(Header {
        description: description.join("\n").trim().to_string(),
        materialized,
        unique_key,
        replaces,
        replaces_where,
        partition_by,
        tests,
    })
}

/// sqlparser reports positions as "at Line: 3, Column: 7"; turn them into `3:7: message`.
fn locate_parser_error(message: &str) -> String {
    let message = message
        .trim_start_matches("SQL error: ")
        .trim_start_matches("ParserError(\"")
        .trim_end_matches("\")");
    if let Some(at) = message.rfind(" at Line: ") {
        let position = &message[at + " at Line: ".len()..];
        if let Some((line, column)) = position.split_once(", Column: ") {
            let column: String = column.chars().take_while(|c| c.is_ascii_digit()).collect();
            return format!("{line}:{column}: {}", &message[..at]);
        }
    }
    format!("1:1: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_gives_description_options_and_tests() {
        let header = parse_header(
            "-- one row per day\n-- materialized: view\n-- test(warn): row_count > 0\n\nselect 1",
        )
        .expect("valid header");
        assert_eq!(header.description, "one row per day");
        assert_eq!(header.materialized, Materialized::View);
        assert_eq!(
            header.tests,
            vec![(3, Severity::Warn, "row_count > 0".to_string())]
        );
    }

    #[test]
    fn header_gives_the_merge_key_and_what_it_replaces() {
        let header = parse_header(
            "-- days\n-- unique_key: customer_id, Activity_Date\n-- replaces: int_touched\n-- replaces_where: Activity_Date >= since \nselect 1",
        )
        .expect("valid header");
        assert_eq!(header.unique_key, ["customer_id", "activity_date"]);
        assert_eq!(header.replaces.as_deref(), Some("int_touched"));
        // Not lower-cased: the condition is SQL, with its own quoting.
        assert_eq!(
            header.replaces_where.as_deref(),
            Some("Activity_Date >= since")
        );
        let err = parse_header("-- x\n-- replaces_where:  \nselect 1")
            .err()
            .expect("a condition is needed");
        assert_eq!(err.0, 2);
        let err = parse_header("-- x\n-- unique_key: a b\nselect 1")
            .err()
            .expect("a space is not a separator");
        assert_eq!(err.0, 2);
    }

    #[test]
    fn header_gives_the_month_column_to_publish_by() {
        let header = parse_header("-- days\n-- partition_by: month( Activity_Date )\nselect 1")
            .expect("valid header");
        assert_eq!(header.partition_by.as_deref(), Some("activity_date"));
        for wrong in ["activity_date", "day(activity_date)", "month(a, b)"] {
            let err = parse_header(&format!("-- x\n-- partition_by: {wrong}\nselect 1"))
                .err()
                .expect("only month(<column>) is understood");
            assert_eq!(err.0, 2, "{wrong}");
            assert!(err.1.contains("month(<date column>)"), "{}", err.1);
        }
    }

    #[test]
    fn previous_tables_are_read_apart_from_this_runs() {
        let (current, previous) = table_references(
            "select * from int_customer_days as d join previous.int_customer_days as p using (customer_id) join previous.int_identities as i using (anonymous_id)",
        )
        .expect("valid SQL");
        assert_eq!(current, ["int_customer_days"]);
        assert_eq!(previous, ["int_customer_days", "int_identities"]);
    }

    #[test]
    fn unknown_materialization_names_line() {
        let err = parse_header("-- x\n-- materialized: cube\nselect 1")
            .err()
            .expect("cube is unknown");
        assert_eq!(err.0, 2);
    }

    #[test]
    fn parser_positions_become_line_and_column() {
        assert_eq!(
            locate_parser_error(
                "SQL error: ParserError(\"Expected: end of statement, found: x at Line: 3, Column: 7\")"
            ),
            "3:7: Expected: end of statement, found: x"
        );
    }
}
