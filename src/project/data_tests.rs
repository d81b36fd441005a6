//! Data tests: assertions about a model's rows that run after the models. Generic tests are
//! declared in a model's header (`-- test: unique(customer_id)`, `-- test(warn): row_count > 0`);
//! singular tests are `queries/tests/*.sql` files selecting offending rows. Each compiles to one
//! query returning the number of failing rows; 0 passes.

use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the run.
    Error,
    /// Reported, the run still succeeds.
    Warn,
}

/// One data test, ready to run.
#[derive(Debug, Clone, Serialize)]
pub struct DataTest {
    /// `customer_experience: unique(customer_id)` or the singular test's file stem.
    pub name: String,
    /// The model it checks (generic), or the models it reads (singular).
    pub models: Vec<String>,
    pub severity: Severity,
    /// Where it is declared, `file:line`.
    pub declared_at: String,
    /// A query returning one row, one column: the number of failing rows.
    pub sql: String,
    /// For a test whose failing rows are found within groups of rows (each row alone, or the
    /// rows sharing some columns' values), the same test over the model's rows written by this
    /// run alone: a `partition_by:` model keeps the months before its earliest change, which
    /// passed the test when they were written.
    pub per_part: Option<PerPart>,
}

/// A test over [`written_rows`] of its model instead of all of them.
#[derive(Debug, Clone, Serialize)]
pub struct PerPart {
    /// The columns whose values a failure spans (empty: each row is checked alone). The
    /// narrower check holds for the whole table when the partition column is among them.
    pub grouped_by: Vec<String>,
    pub sql: String,
}

impl PerPart {
    /// Whether rows in different partitions by `column` cannot fail this test together.
    pub fn apart_by(&self, column: &str) -> bool {
        self.grouped_by.is_empty() || self.grouped_by.iter().any(|c| c == column)
    }
}

/// The name under which a run registers the rows a `partition_by:` model wrote tonight, when it
/// kept months of the previous run's table.
pub fn written_rows(model: &str) -> String {
    format!("__cxpipe_written_{model}")
}

/// Parses the text after `test:` in a model header into a test of `model`.
pub fn generic(
    model: &str,
    spec: &str,
    severity: Severity,
    declared_at: String,
) -> Result<DataTest, String> {
    let spec = spec.trim();
    let (sql, grouped_by) = compile(spec, &quote_ident(model))?;
    let per_part = match grouped_by {
        Some(grouped_by) => Some(PerPart {
            grouped_by,
            sql: compile(spec, &quote_ident(&written_rows(model)))?.0,
        }),
        None => None,
    };
    Ok(DataTest {
        name: format!("{model}: {spec}"),
        models: vec![model.to_string()],
        severity,
        declared_at,
        sql,
        per_part,
    })
}

/// A generic test's query over `table`, and the columns a failure spans: none for a check of
/// each row, the key of `unique`, and no grouping at all (`None`) for `row_count`.
fn compile(spec: &str, table: &str) -> Result<(String, Option<Vec<String>>), String> {
    let mut grouped_by = Some(Vec::new());
    let sql = if let Some(rest) = spec.strip_prefix("row_count") {
        let rest = rest.trim();
        let (op, number) = ["<=", ">=", "<>", "!=", "=", "<", ">"]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|n| (*op, n.trim())))
            .ok_or_else(|| {
                format!("`{spec}`: write row_count followed by a comparison, e.g. row_count > 0")
            })?;
        let number: u64 = number.parse().map_err(|_| {
            format!("`{spec}`: row_count compares with a whole number, not '{number}'")
        })?;
        grouped_by = None;
        format!("select case when count(*) {op} {number} then 0 else 1 end from {table}")
    } else {
        let (kind, args) = spec
            .strip_suffix(')')
            .and_then(|s| s.split_once('('))
            .ok_or_else(|| format!("`{spec}`: unknown test; use not_null(col), unique(col, ...), accepted_values(col, 'a', ...), range(col, min, max), expression(sql) or row_count > N"))?;
        let args = split_arguments(args);
        let column = |i: usize| -> Result<String, String> {
            args.get(i)
                .filter(|a| !a.is_empty())
                .map(|a| quote_ident(a))
                .ok_or_else(|| format!("`{spec}`: missing argument {}", i + 1))
        };
        match kind.trim() {
            "not_null" => format!("select count(*) from {table} where {} is null", column(0)?),
            "unique" => {
                grouped_by = Some(args.iter().map(|a| a.trim().to_string()).collect());
                let columns = (0..args.len())
                    .map(column)
                    .collect::<Result<Vec<_>, _>>()?
                    .join(", ");
                format!(
                    "select count(*) from (select {columns} from {table} group by {columns} having count(*) > 1) as duplicated"
                )
            }
            "accepted_values" => {
                if args.len() < 2 {
                    return Err(format!(
                        "`{spec}`: list the accepted values after the column"
                    ));
                }
                format!(
                    "select count(*) from {table} where {} is not null and {} not in ({})",
                    column(0)?,
                    column(0)?,
                    args[1..].join(", ")
                )
            }
            "range" => {
                let (low, high) = match (args.get(1), args.get(2)) {
                    (Some(low), Some(high)) => (low, high),
                    _ => return Err(format!("`{spec}`: write range(column, min, max)")),
                };
                let c = column(0)?;
                format!("select count(*) from {table} where {c} < {low} or {c} > {high}")
            }
            "expression" => format!(
                "select count(*) from {table} where not coalesce(({}), false)",
                args.join(", ")
            ),
            other => {
                return Err(format!(
                    "`{spec}`: unknown test `{other}`; use not_null, unique, accepted_values, range, expression or row_count"
                ));
            }
        }
    };
    Ok((sql, grouped_by))
}

/// A singular test: a file whose query selects offending rows.
pub fn singular(path: &Path, sql: &str, models: Vec<String>) -> Result<DataTest, String> {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("test")
        .to_string();
    let mut severity = Severity::Error;
    for line in sql
        .lines()
        .map(str::trim)
        .take_while(|l| l.starts_with("--") || l.is_empty())
    {
        if let Some(value) = line
            .trim_start_matches("--")
            .trim()
            .strip_prefix("severity:")
        {
            severity = match value.trim() {
                "warn" => Severity::Warn,
                "error" => Severity::Error,
                other => {
                    return Err(format!(
                        "{}: unknown severity '{other}'; use warn or error",
                        path.display()
                    ));
                }
            };
        }
    }
    let body = strip_comments(sql);
    let body = body.trim().trim_end_matches(';');
    Ok(DataTest {
        name,
        models,
        severity,
        declared_at: path.display().to_string(),
        sql: format!("select count(*) from (\n{body}\n) as offending"),
        per_part: None,
    })
}

/// Where singular tests live, below the queries folder.
pub fn tests_dir(queries: &Path) -> PathBuf {
    queries.join("tests")
}

fn strip_comments(sql: &str) -> String {
    sql.lines()
        .map(|l| {
            if l.trim_start().starts_with("--") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn quote_ident(name: &str) -> String {
    let name = name.trim();
    if name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Splits `a, 'x, y', b` at top-level commas, keeping quoted text whole.
fn split_arguments(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut depth) = (false, 0usize);
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                args.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        args.push(current.trim().to_string());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(spec: &str) -> String {
        generic("m", spec, Severity::Error, "m.sql:1".into())
            .expect("valid test")
            .sql
    }

    #[test]
    fn generic_tests_compile_to_failing_row_counts() {
        assert_eq!(
            sql("not_null(customer_id)"),
            "select count(*) from m where customer_id is null"
        );
        assert!(sql("unique(a, b)").contains("group by a, b having count(*) > 1"));
        assert_eq!(
            sql("accepted_values(class, 'good', 'a, b')"),
            "select count(*) from m where class is not null and class not in ('good', 'a, b')"
        );
        assert_eq!(
            sql("range(rate, 0, 1)"),
            "select count(*) from m where rate < 0 or rate > 1"
        );
        assert_eq!(
            sql("row_count > 0"),
            "select case when count(*) > 0 then 0 else 1 end from m"
        );
    }

    #[test]
    fn tests_whose_failures_lie_within_a_month_can_check_months_apart() {
        let per_part = |spec: &str| {
            generic("m", spec, Severity::Error, String::new())
                .expect("valid test")
                .per_part
        };
        let unique = per_part("unique(customer_id, day)").expect("grouped by its key");
        assert!(unique.apart_by("day") && !unique.apart_by("customer_id2"));
        assert!(
            unique
                .sql
                .contains("from __cxpipe_written_m group by customer_id, day")
        );
        assert!(
            !per_part("unique(customer_id)")
                .expect("a key")
                .apart_by("day")
        );
        for each_row in ["not_null(a)", "range(a, 0, 1)", "expression(a < b)"] {
            assert!(per_part(each_row).expect("row by row").apart_by("day"));
        }
        assert!(per_part("row_count > 0").is_none(), "counts every row");
    }

    #[test]
    fn mistakes_are_explained() {
        let err = generic("m", "uniq(a)", Severity::Error, String::new()).expect_err("unknown");
        assert!(err.contains("unknown test `uniq`"), "{err}");
        let err =
            generic("m", "row_count > lots", Severity::Error, String::new()).expect_err("nan");
        assert!(err.contains("not 'lots'"), "{err}");
    }
}
