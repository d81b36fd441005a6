//! The pipeline on generated data, as `make demo` runs it: through the real binary, with the
//! story the report tells, and identical tables when a date is run again.

use std::collections::BTreeMap;

use crate::support::*;

// The demo's date and seed (Makefile), with fewer customers.
const END: &str = "2026-11-24";

fn generated_project(customers: &str) -> TestProject {
    let p = TestProject::new();
    let input = p.input().display().to_string();
    cxpipe(&[
        "generate",
        "--output",
        &input,
        "--customers",
        customers,
        "--days",
        "365",
        "--end",
        END,
        "--seed",
        "42",
    ]);
    p
}

fn run(p: &TestProject) {
    let (input, output) = (
        p.input().display().to_string(),
        p.output().display().to_string(),
    );
    cxpipe_ok(&["run", "--input", &input, "--output", &output, "--date", END]);
}

#[test]
fn poor_first_experiences_retain_worse_than_good_ones() {
    let p = generated_project("1500");
    run(&p);
    // Sum over cohorts: customers still purchasing in months 1-3 / customers who could have.
    let rows = p.table(
        END,
        "experience_retention",
        &[
            "experience_class",
            "month_number",
            "cohort_customers",
            "purchasing_customers",
        ],
    );
    let mut totals: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for row in &rows {
        let cells: Vec<&str> = row.split(" | ").collect();
        let month: u32 = cells[1].parse().expect("month number");
        if (1..=3).contains(&month) {
            let entry = totals.entry(cells[0].to_string()).or_default();
            entry.0 += cells[3].parse::<f64>().expect("purchasing");
            entry.1 += cells[2].parse::<f64>().expect("cohort size");
        }
    }
    let rate = |class: &str| {
        let (purchasing, size) = totals.get(class).copied().unwrap_or_default();
        assert!(
            size > 100.0,
            "{class}: too few customers ({size}) for a story: {totals:?}"
        );
        purchasing / size
    };
    let (good, neutral, poor) = (rate("good"), rate("neutral"), rate("poor"));
    assert!(
        good > neutral && neutral > poor,
        "good {good:.3}, neutral {neutral:.3}, poor {poor:.3}"
    );
    assert!(
        poor < 0.8 * good,
        "poor {poor:.3} should be clearly below good {good:.3}"
    );
    // Month 0 retention is 1 by definition, in every cohort.
    let month0 = p.table(
        END,
        "retention_monthly",
        &["month_number", "active_rate", "purchasing_rate"],
    );
    assert!(
        month0
            .iter()
            .filter(|r| r.starts_with("0 |"))
            .all(|r| r == "0 | 1 | 1"),
        "{month0:?}"
    );
    // The generator's deliberate flaws are all seen and counted.
    let dq = p.table(
        END,
        "data_quality",
        &[
            "dropped_invalid",
            "duplicates",
            "out_of_range_scores",
            "unknown_channels",
            "late_events",
        ],
    );
    let counts: Vec<u64> = dq[0]
        .split(" | ")
        .map(|c| c.parse().expect("count"))
        .collect();
    assert!(
        counts.iter().all(|c| *c > 0),
        "every flaw should be present: {dq:?}"
    );
}

/// Every core table of the run in `output`, all columns, in order.
fn snapshot(output: &std::path::Path) -> Vec<Vec<String>> {
    CORE_TABLES
        .iter()
        .map(|t| {
            let dir = output.join(format!("runs/{END}/tables/{t}"));
            let columns = columns_of(&dir);
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            read_table(&dir, &columns)
        })
        .collect()
}

const CORE_TABLES: [&str; 9] = [
    "customer_experience",
    "retention_monthly",
    "experience_retention",
    "engagement_tiers",
    "stickiness_daily",
    "lifecycle_weekly",
    "experience_quality_monthly",
    "journey_funnel",
    "data_quality",
];

#[test]
fn a_memory_limited_run_spills_and_equals_an_unlimited_one() {
    let p = generated_project("300");
    run(&p);
    let limited = p.dir.path().join("limited");
    let (input, output) = (
        p.input().display().to_string(),
        limited.display().to_string(),
    );
    // Far below what the run holds unlimited: sorts and aggregations spill to disk.
    cxpipe_ok(&[
        "run",
        "--input",
        &input,
        "--output",
        &output,
        "--date",
        END,
        "--memory-limit",
        "32MiB",
    ]);
    assert_eq!(snapshot(&limited), snapshot(&p.output()));
}

#[test]
fn running_the_same_date_twice_gives_identical_tables() {
    let p = generated_project("300");
    run(&p);
    let first = snapshot(&p.output());
    assert!(
        first.iter().all(|rows| !rows.is_empty()),
        "every core table has rows"
    );
    // Every published table, revenue sums included (added up as whole millionths, so the
    // order the cores add them in cannot change the last digit).
    let exact = |output: &std::path::Path| -> Vec<(String, Vec<String>)> {
        let tables = output.join(format!("runs/{END}/tables"));
        let mut names: Vec<String> = std::fs::read_dir(&tables)
            .expect("tables folder")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|t| {
                let rows = exact_rows(&tables.join(&t));
                (t, rows)
            })
            .collect()
    };
    let first_exact = exact(&p.output());
    run(&p);
    assert_eq!(snapshot(&p.output()), first);
    assert_eq!(
        exact(&p.output()),
        first_exact,
        "identical to the last digit"
    );
}
