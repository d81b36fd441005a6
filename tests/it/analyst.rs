//! The analyst's workflow: add a model, check it, run it, test it, select it, document it.

use crate::support::*;

fn json(path: &std::path::Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid json")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn events() -> Vec<Event> {
    vec![
        ev("e1", "2026-03-01 09:00", "a1", "purchase")
            .customer("C1")
            .revenue(20.0)
            .country("DE"),
        ev("e2", "2026-03-01 10:00", "a1", "survey_response")
            .customer("C1")
            .nps(10)
            .country("DE"),
        ev("e3", "2026-03-02 11:00", "a2", "survey_response")
            .nps(3)
            .country("AT"),
        ev("e4", "2026-03-02 12:00", "a3", "survey_response")
            .nps(9)
            .country("DE"),
    ]
}

const NPS_BY_COUNTRY: &str = "-- nps_by_country: one row per country with survey answers.
-- test: unique(country)
-- test: range(nps, -100, 100)
select
    country,
    count(nps) as answers,
    100.0 * (count(*) filter (where nps >= 9) - count(*) filter (where nps <= 6)) / count(nps) as nps
from touchpoints
where nps is not null
group by country
order by country
";

#[test]
fn a_new_model_is_checked_run_tested_and_written_with_the_shipped_ones() {
    let p = TestProject::new()
        .events(&events())
        .shipped_queries_plus(&[("nps_by_country", NPS_BY_COUNTRY)]);
    let check = cxpipe(&["check", "--queries", &p.queries.display().to_string()]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(stdout(&check).contains("models and"), "{}", stdout(&check));
    p.run_ok("2026-03-02");
    // DE: answers 10 and 9 -> 100; AT: one answer of 3 -> -100.
    assert_eq!(
        p.table(
            "2026-03-02",
            "nps_by_country",
            &["country", "answers", "nps"]
        ),
        vec!["AT | 1 | -100", "DE | 2 | 100"]
    );
    let manifest = json(&p.run_dir("2026-03-02").join("manifest.json"));
    let tests = manifest["tests"].as_array().expect("tests");
    let mine: Vec<_> = tests
        .iter()
        .filter(|t| t["models"][0] == "nps_by_country")
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|t| t["status"] == "pass"), "{mine:?}");
    // Each test says how long its query took, to find the slow one.
    assert!(
        tests
            .iter()
            .all(|t| t["seconds"].as_f64().is_some_and(|s| s >= 0.0)),
        "{tests:?}"
    );
    let report =
        std::fs::read_to_string(p.run_dir("2026-03-02").join("report.html")).expect("report");
    assert!(
        report.contains(&format!("{} passed, 0 warned, 0 failed", tests.len())),
        "test results in the report"
    );
    // The shipped invariants ran and passed too.
    assert!(
        tests.len() > 30 && tests.iter().all(|t| t["status"] == "pass"),
        "{tests:?}"
    );
}

#[test]
fn check_reports_every_error_with_file_line_column_and_a_hint() {
    let p = TestProject::new().queries(&[
        ("daily", "-- one row per day\nselect event_date, count(*) as events\nfrom touchpoints\ngroup by event_date"),
        ("touchpoints", "-- materialized: view\nselect *, cast(occurred_at as date) as event_date from raw_touchpoints"),
        ("by_country", "-- by country\nselect\n    countyr,\n    count(*) as events\nfrom touchpoints\ngroup by countyr"),
        ("typo", "-- weekly\nselect * from daly"),
        ("bad_syntax", "select count(* from touchpoints"),
    ]);
    let out = cxpipe(&["check", "--queries", &p.queries.display().to_string()]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    // All problems at once: the misspelt table, the syntax error...
    assert!(
        text.contains(
            "typo.sql:2:15: model `typo` reads unknown table `daly`; did you mean `daily`?"
        ),
        "{text}"
    );
    assert!(text.contains("bad_syntax.sql:1:"), "{text}");
    // ...and, once those are fixed, the unknown column with its line, caret and suggestion.
    std::fs::remove_file(p.queries.join("typo.sql")).expect("rm");
    std::fs::remove_file(p.queries.join("bad_syntax.sql")).expect("rm");
    let out = cxpipe(&["check", "--queries", &p.queries.display().to_string()]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("by_country.sql:3:5:"), "{text}");
    assert!(text.contains("    countyr,\n        ^"), "{text}");
    assert!(text.contains("did you mean `country`?"), "{text}");
}

#[test]
fn check_names_a_cycle_and_a_type_error_where_they_are() {
    let p = TestProject::new().queries(&[
        ("touchpoints", "-- materialized: view\nselect *, cast(occurred_at as date) as event_date from raw_touchpoints"),
        ("daily", "-- one row per day\nselect event_date, count(*) as events\nfrom touchpoints\ngroup by event_date"),
        ("a", "-- a\nselect *\nfrom b"),
        ("b", "-- b\nselect * from a"),
    ]);
    let queries = p.queries.display().to_string();
    let out = cxpipe(&["check", "--queries", &queries]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("a.sql:3:6: circular dependency `a -> b -> a`"),
        "{text}"
    );

    std::fs::remove_file(p.queries.join("a.sql")).expect("rm");
    std::fs::write(
        p.queries.join("b.sql"),
        "-- b\nselect\n    events + 'many' as label\nfrom daily",
    )
    .expect("type error");
    let out = cxpipe(&["check", "--queries", &queries]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("b.sql:3:5: "), "{text}");
    assert!(
        text.contains("    events + 'many' as label\n        ^"),
        "{text}"
    );
    assert!(
        text.contains("hint: the values have different types"),
        "{text}"
    );

    // A selection checks the selected model and what it needs, not the broken sibling.
    let out = cxpipe(&["check", "--queries", &queries, "--select", "daily"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 models and 0 tests ok"),
        "{}",
        stdout(&out)
    );
    let out = cxpipe(&["check", "--queries", &queries, "--select", "daily+"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the descendant b is checked too"
    );
}

#[test]
fn list_prints_models_in_run_order_with_what_each_reads() {
    let p = TestProject::new().queries(&[
        ("weekly", "-- w\nselect date_trunc('week', event_date) as week, sum(events) as events from daily group by 1"),
        ("daily", "-- d\nselect event_date, count(*) as events from touchpoints group by event_date"),
        ("touchpoints", "-- materialized: view\nselect *, cast(occurred_at as date) as event_date from raw_touchpoints"),
    ]);
    let out = cxpipe(&["list", "--queries", &p.queries.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<Vec<String>> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(
        lines,
        vec![
            vec!["touchpoints", "view", "<-", "raw_touchpoints"],
            vec!["daily", "table", "<-", "touchpoints"],
            vec!["weekly", "table", "<-", "daily"],
        ]
    );
}

/// A model with known rows, and tests of every kind about it.
fn tested_project(tests: &[&str]) -> TestProject {
    let header: String = tests.iter().map(|t| format!("-- {t}\n")).collect();
    let model = format!(
        "-- facts: three rows\n{header}select * from (values (1, 'good', 0.5, 'a'), (2, 'poor', 1.0, null), (3, 'good', 0.0, 'c')) as t(id, class, rate, note)"
    );
    TestProject::new()
        .events(&events())
        .queries(&[("facts", model.as_str())])
}

fn test_statuses(p: &TestProject, dir: &str) -> Vec<String> {
    let manifest = json(&p.output().join(dir).join("manifest.json"));
    manifest["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| {
            format!(
                "{} -> {} ({})",
                t["name"].as_str().unwrap_or(""),
                t["status"].as_str().unwrap_or(""),
                t["failing_rows"]
            )
        })
        .collect()
}

#[test]
fn every_generic_test_kind_passes_on_good_rows() {
    let p = tested_project(&[
        "test: not_null(id)",
        "test: unique(id)",
        "test: unique(class, id)",
        "test: accepted_values(class, 'good', 'neutral', 'poor')",
        "test: range(rate, 0, 1)",
        "test: row_count = 3",
        "test: expression(id > 0)",
    ]);
    let out = p.run_binary("2026-03-02", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let statuses = test_statuses(&p, "runs/2026-03-02");
    assert_eq!(statuses.len(), 7);
    assert!(
        statuses.iter().all(|s| s.contains("-> pass (0)")),
        "{statuses:#?}"
    );
}

#[test]
fn every_generic_test_kind_fails_on_bad_rows_and_the_run_is_not_published() {
    let p = tested_project(&[
        "test: unique(class)",
        "test: accepted_values(class, 'good', 'neutral')",
        "test: range(rate, 0, 0.75)",
        "test: row_count > 3",
        "test: expression(rate < 1)",
        "test: not_null(note)",
        "test: not_null(missing_column)",
    ]);
    let out = p.run_binary("2026-03-02", &[]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert_eq!(
        test_statuses(&p, "runs/2026-03-02"),
        vec![
            "facts: unique(class) -> fail (1)", // 'good' twice
            "facts: accepted_values(class, 'good', 'neutral') -> fail (1)", // 'poor'
            "facts: range(rate, 0, 0.75) -> fail (1)", // 1.0
            "facts: row_count > 3 -> fail (1)",
            "facts: expression(rate < 1) -> fail (1)",
            "facts: not_null(note) -> fail (1)", // row 2
            "facts: not_null(missing_column) -> error (null)",
        ]
    );
    assert!(
        text.contains("facts.sql:3"),
        "the failing test's declaration is named: {text}"
    );
    assert!(
        text.contains("facts.sql:7"),
        "not_null's declaration is named: {text}"
    );
    assert!(
        !p.output().join("latest.json").exists(),
        "a run with failing tests is not the latest"
    );
    assert_eq!(
        json(&p.run_dir("2026-03-02").join("manifest.json"))["status"],
        "tests_failed"
    );
}

#[test]
fn warn_severity_reports_without_failing_and_singular_tests_select_offenders() {
    let p = tested_project(&["test(warn): range(rate, 0, 0.75)"]);
    std::fs::create_dir_all(p.queries.join("tests")).expect("tests dir");
    std::fs::write(
        p.queries.join("tests/no_poor_rows.sql"),
        "-- Poor rows should not exist.\n-- severity: warn\nselect * from facts where class = 'poor'",
    )
    .expect("singular warn");
    let out = p.run_binary("2026-03-02", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        test_statuses(&p, "runs/2026-03-02"),
        vec![
            "facts: range(rate, 0, 0.75) -> warn (1)",
            "no_poor_rows -> warn (1)"
        ]
    );
    assert!(
        stderr(&out).contains("WARN test no_poor_rows warn: 1 failing rows"),
        "{}",
        stderr(&out)
    );

    // The same singular test as an error fails the run; `cxpipe test` rechecks the published run.
    std::fs::write(
        p.queries.join("tests/no_poor_rows.sql"),
        "select * from facts where class = 'poor'",
    )
    .expect("error");
    let out = p.binary_with_env("test", "2026-03-02", &[], &[]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 tests on 2026-03-02: 0 passed, 1 failed, 1 warned"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn select_runs_a_model_with_what_it_needs_into_dev() {
    let p = TestProject::new()
        .events(&events())
        .shipped_queries_plus(&[("nps_by_country", NPS_BY_COUNTRY)]);
    let out = p.run_binary("2026-03-02", &["--select", "nps_by_country"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = json(&p.output().join("dev/2026-03-02/manifest.json"));
    let ran: Vec<&str> = manifest["models"]
        .as_array()
        .expect("models")
        .iter()
        .map(|m| m["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ran,
        vec![
            "stg_touchpoints",
            "stg_first_copies",
            "touchpoints",
            "nps_by_country"
        ]
    );
    assert!(
        !p.run_dir("2026-03-02").exists(),
        "the published runs are not touched"
    );
    assert!(!p.output().join("latest.json").exists());
}

#[test]
fn selectors_with_ancestors_and_descendants() {
    let project = cxpipe::project::Project::load(&repo().join("queries")).expect("shipped project");
    let names = |s: &str| -> Vec<String> {
        project
            .select(&[s.to_string()])
            .expect("select")
            .into_iter()
            .collect()
    };
    assert_eq!(names("int_first_purchases"), vec!["int_first_purchases"]);
    assert_eq!(
        names("+int_first_purchases"),
        vec![
            "int_daily_activity",
            "int_first_purchases",
            "int_identities",
            "int_identity_candidates",
            "int_journey_parts",
            "stg_first_copies",
            "stg_touchpoints",
            "touchpoints"
        ]
    );
    let downstream = names("int_customer_months+");
    for model in [
        "int_customer_months",
        "retention_monthly",
        "experience_retention",
    ] {
        assert!(downstream.contains(&model.to_string()), "{downstream:?}");
    }
    assert!(!downstream.contains(&"customer_experience".to_string()));
    let err = project
        .select(&["retention_monthy".into()])
        .expect_err("typo");
    assert!(
        err.to_string()
            .contains("did you mean `retention_monthly`?"),
        "{err}"
    );
}

#[test]
fn docs_page_lists_every_model_and_an_edge_per_dependency() {
    let p = TestProject::new().shipped_queries_plus(&[("nps_by_country", NPS_BY_COUNTRY)]);
    let out_file = p.dir.path().join("docs/index.html");
    let out = cxpipe(&[
        "docs",
        "--queries",
        &p.queries.display().to_string(),
        "--out",
        &out_file.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&out_file).expect("docs written");
    let project = cxpipe::project::Project::load(&p.queries).expect("project");
    for model in &project.models {
        assert!(
            html.contains(&format!("<section id=\"{}\">", model.name)),
            "{} documented",
            model.name
        );
        for dep in &model.depends_on {
            assert!(
                html.contains(&format!("data-from=\"{dep}\" data-to=\"{}\"", model.name)),
                "edge {dep} -> {}",
                model.name
            );
        }
    }
    assert!(html.contains("one row per country with survey answers"));
    assert!(html.contains("nps_by_country: unique(country)"));
    // How a night keeps each table: merged by key, or a file per month.
    assert!(html.contains("int_customer_days.sql · table, a file per month of activity_date"));
    assert!(html.contains("int_customer_months.sql · table, merged by customer_id"));
    assert!(
        html.contains("<td class=\"mono\">answers</td><td class=\"mono muted\">Int64</td>"),
        "columns and types"
    );
}
