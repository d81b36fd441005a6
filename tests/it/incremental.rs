//! Incremental nightly runs: a run that continues from the state an earlier night stored reads
//! only the files that arrived since, and its tables equal a from-scratch run's; whenever the
//! state cannot be trusted the run is a full refresh and says why.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::*;

/// The state part of a run's manifest: (mode, reason, since, kept).
fn state_of(output: &Path, run_date: &str) -> (String, String, String, bool) {
    let m = manifest(output, run_date);
    let text = |key: &str| m["state"][key].as_str().unwrap_or("").to_string();
    (
        text("mode"),
        text("reason"),
        text("since"),
        m["state"]["kept"].as_bool().unwrap_or(false),
    )
}

/// A from-scratch run of the same input and date into a fresh output: what every incremental
/// run must equal.
fn from_scratch(
    p: &TestProject,
    run_date: &str,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let fresh = p.dir.path().join(format!("scratch-{run_date}"));
    let mut config = p.config(run_date);
    config.output = fresh.display().to_string();
    runtime()
        .block_on(cxpipe::run::run(&config))
        .unwrap_or_else(|e| panic!("from-scratch run {run_date}: {e}"));
    run_tables(&fresh, run_date)
}

#[test]
fn nights_of_generated_data_continue_from_the_state_and_equal_a_full_refresh() {
    const FIRST: &str = "2026-06-26";
    const END: &str = "2026-06-30";
    let p = TestProject::new();
    let (input, output) = (
        p.input().display().to_string(),
        p.output().display().to_string(),
    );
    cxpipe_ok(&[
        "generate",
        "--output",
        &input,
        "--customers",
        "300",
        "--days",
        "365",
        "--end",
        END,
        "--seed",
        "11",
    ]);
    let run = |day: &str, extra: &[&str]| {
        let mut args = vec!["run", "--input", &input, "--output", &output, "--date", day];
        args.extend_from_slice(extra);
        cxpipe_ok(&args)
    };
    run(FIRST, &[]);
    assert_eq!(state_of(&p.output(), FIRST).0, "full");
    let nights = ["2026-06-27", "2026-06-28", "2026-06-29", END];
    let mut previous = FIRST;
    for night in nights {
        let out = run(night, &[]);
        let (mode, _, since, kept) = state_of(&p.output(), night);
        assert_eq!(
            (mode.as_str(), since.as_str(), kept),
            ("incremental", previous, true)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("incremental:"),
            "the log says the run is incremental"
        );
        // Each night's tables equal a from-scratch run of that night.
        assert_eq!(
            run_tables(&p.output(), night),
            from_scratch(&p, night),
            "{night}"
        );
        previous = night;
    }
    // The nights brought what makes incremental runs hard: late events, and redeliveries of
    // events stored on an earlier night (counted as duplicates, the stored copy kept).
    let dq = |day: &str| -> Vec<i64> {
        p.table(
            day,
            "data_quality",
            &["duplicates", "late_events", "rows_kept"],
        )[0]
        .split(" | ")
        .map(|c| c.parse().expect("count"))
        .collect()
    };
    let (first, last) = (dq(FIRST), dq(END));
    assert!(last[0] > first[0], "duplicates grew: {first:?} -> {last:?}");
    assert!(
        last[1] > first[1],
        "late events grew: {first:?} -> {last:?}"
    );

    // --full-refresh rebuilds from every file and keeps the same tables.
    let incremental = run_tables(&p.output(), END);
    run(END, &["--full-refresh"]);
    let (mode, reason, _, kept) = state_of(&p.output(), END);
    assert_eq!((mode.as_str(), kept), ("full", true));
    assert!(
        reason.contains("rerun") || reason.contains("full-refresh"),
        "{reason}"
    );
    assert_eq!(run_tables(&p.output(), END), incremental);
}

/// Hand-built nights: an anonymous visitor identified two nights later, a redelivered event,
/// and a late event.
fn three_nights() -> Vec<Event> {
    vec![
        ev("a1", "2026-03-01 10:00", "anon-1", "page_view"),
        ev("b1", "2026-03-01 11:00", "anon-2", "purchase")
            .customer("c2")
            .revenue(20.0),
        ev("b2", "2026-03-02 09:00", "anon-2", "page_view").customer("c2"),
        // Delivered again two nights later: counted once, the first copy kept.
        ev("b1", "2026-03-01 11:00", "anon-2", "purchase")
            .customer("c2")
            .revenue(20.0)
            .arrives("2026-03-03"),
        // anon-1 signs up on night three: its browsing on day one becomes customer c1's.
        ev("a2", "2026-03-03 08:00", "anon-1", "signup").customer("c1"),
        // Occurred on day two, arrived on day three.
        ev("b3", "2026-03-02 23:30", "anon-2", "login")
            .customer("c2")
            .arrives("2026-03-03"),
    ]
}

#[test]
fn identities_duplicates_and_late_events_across_nights_match_a_full_refresh() {
    let p = TestProject::new().events(&three_nights());
    for day in ["2026-03-01", "2026-03-02", "2026-03-03"] {
        p.run_ok(day);
    }
    assert_eq!(state_of(&p.output(), "2026-03-03").0, "incremental");
    let tables = run_tables(&p.output(), "2026-03-03");
    assert_eq!(tables, from_scratch(&p, "2026-03-03"));
    // Worked out by hand: 6 rows read in three files, one duplicate, 5 kept; b3 is late.
    assert_eq!(
        p.table(
            "2026-03-03",
            "data_quality",
            &[
                "rows_read",
                "rows_kept",
                "dropped_invalid",
                "duplicates",
                "late_events",
                "files_read"
            ]
        ),
        ["6 | 5 | 0 | 1 | 1 | 3"]
    );
    // Day one's browsing counts for c1 once identified: two customers active on 03-01.
    assert_eq!(
        p.table("2026-03-03", "stickiness_daily", &["activity_date", "dau"]),
        ["2026-03-01 | 2", "2026-03-02 | 1", "2026-03-03 | 1"]
    );
}

/// A late event moves an anonymous id from one customer to another: the customer it leaves
/// loses a day and its only purchase, the one it joins gains them. The merged customer-days and
/// months and the delta-maintained stickiness and lifecycle counters must follow, as a full
/// refresh computes them.
#[test]
fn an_anonymous_id_that_moves_between_customers_moves_its_days_on_an_incremental_night() {
    let p = TestProject::new().events(&[
        ev("x1", "2026-03-01 12:00", "anon-3", "login").customer("c3"),
        // An anonymous purchase: c3's first purchase until anon-3 moves, then c4's.
        ev("x2", "2026-03-02 10:00", "anon-3", "purchase").revenue(10.0),
        // Identified earlier than x1, delivered on night three: anon-3 is c4's from then on.
        ev("x3", "2026-03-01 08:00", "anon-3", "login")
            .customer("c4")
            .arrives("2026-03-03"),
        ev("x4", "2026-03-03 09:00", "anon-5", "page_view").customer("c5"),
    ]);
    for day in ["2026-03-01", "2026-03-02"] {
        p.run_ok(day);
    }
    let customer_days = |day: &str| {
        let mut rows = p.table(day, "int_customer_days", &["customer_id", "activity_date"]);
        rows.sort();
        rows
    };
    let months = |day: &str| {
        p.table(
            day,
            "int_customer_months",
            &["customer_id", "cohort_month", "month_number"],
        )
    };
    // On night two anon-3's purchase on 03-02 is c3's.
    assert_eq!(
        customer_days("2026-03-02"),
        ["c3 | 2026-03-01", "c3 | 2026-03-02"]
    );
    assert_eq!(months("2026-03-02"), ["c3 | 2026-03-01 | 0"]);
    p.run_ok("2026-03-03");
    assert_eq!(state_of(&p.output(), "2026-03-03").0, "incremental");
    // c3 keeps only the day of its own login; c4 gets its login day and anon-3's browsing.
    assert_eq!(
        customer_days("2026-03-03"),
        [
            "c3 | 2026-03-01",
            "c4 | 2026-03-01",
            "c4 | 2026-03-02",
            "c5 | 2026-03-03"
        ]
    );
    // The purchase went with anon-3: c3 has no purchase left, so no cohort and no months.
    assert_eq!(months("2026-03-03"), ["c4 | 2026-03-01 | 0"]);
    // dau: {c3, c4}, {c4}, {c5}; on 03-03 the 7 and 28 days hold c3, c4 and c5.
    assert_eq!(
        p.table(
            "2026-03-03",
            "stickiness_daily",
            &["activity_date", "dau", "wau", "mau"]
        ),
        [
            "2026-03-01 | 2 | 2 | 2",
            "2026-03-02 | 1 | 2 | 2",
            "2026-03-03 | 1 | 3 | 3"
        ]
    );
    // 03-01 is a Sunday: c3 and c4 are new in the week of 02-23; in the week of 03-02 c5 is new,
    // c4 returns and c3 (active the week before, not this one) is dormant.
    assert_eq!(
        p.table(
            "2026-03-03",
            "lifecycle_weekly",
            &["week_start", "new", "returning", "resurrecting", "dormant"]
        ),
        ["2026-02-23 | 2 | 0 | 0 | 0", "2026-03-02 | 1 | 1 | 0 | 1"]
    );
    assert_eq!(
        run_tables(&p.output(), "2026-03-03"),
        from_scratch(&p, "2026-03-03")
    );
}

/// The files of a published table, each as (month, the run id its name carries).
fn month_files(p: &TestProject, run_date: &str, table: &str) -> Vec<(String, String)> {
    let dir = p.run_dir(run_date).join("tables").join(table);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let name = entry.expect("a directory entry").file_name();
            let name = name.to_string_lossy();
            let (month, rest) = name.split_once('_').expect("<month>_part-<run>.parquet");
            (month.to_string(), rest.to_string())
        })
        .collect();
    files.sort();
    files
}

/// int_customer_days is published a file per month. A night whose changes start this month
/// writes this month's file and keeps the earlier months' files of the night before; a visitor
/// identified tonight whose anonymous days go back across the year end has the months of those
/// days rewritten, and a month between without any of them is kept. Either way the tables
/// equal a full refresh.
#[test]
fn customer_days_are_published_by_month_and_a_night_rewrites_the_months_that_changed() {
    let p = TestProject::new().events(&[
        ev("d1", "2025-12-20 10:00", "anon-1", "page_view"),
        ev("d2", "2025-12-31 23:59", "anon-2", "login").customer("c2"),
        ev("d3", "2026-01-01 00:00", "anon-2", "purchase")
            .customer("c2")
            .revenue(5.0),
        ev("d4", "2026-02-09 12:00", "anon-2", "page_view").customer("c2"),
        // Night two: c2 again, and an event of the day before that arrived late.
        ev("d5", "2026-02-10 09:00", "anon-2", "login").customer("c2"),
        ev("d6", "2026-02-09 22:00", "anon-3", "login")
            .customer("c3")
            .arrives("2026-02-10"),
        // Night three: anon-1, seen on 2025-12-20 only, signs up as c1.
        ev("d7", "2026-02-11 08:00", "anon-1", "signup").customer("c1"),
    ]);
    p.run_ok("2026-02-09");
    let night_one = month_files(&p, "2026-02-09", "int_customer_days");
    let months: Vec<&str> = night_one.iter().map(|(m, _)| m.as_str()).collect();
    // anon-1 has no customer yet, so December holds c2's 12-31 only.
    assert_eq!(months, ["2025-12", "2026-01", "2026-02"]);

    p.run_ok("2026-02-10");
    assert_eq!(state_of(&p.output(), "2026-02-10").0, "incremental");
    let night_two = month_files(&p, "2026-02-10", "int_customer_days");
    assert_eq!(night_two[..2], night_one[..2], "December and January kept");
    assert_ne!(night_two[2], night_one[2], "February written again");

    p.run_ok("2026-02-11");
    let night_three = month_files(&p, "2026-02-11", "int_customer_days");
    assert_ne!(
        night_three[0], night_two[0],
        "December written again: c1's 12-20"
    );
    assert_eq!(
        night_three[1], night_two[1],
        "January kept: c1 has no day in it"
    );
    assert_ne!(night_three[2], night_two[2], "February written again");
    let mut days = p.table(
        "2026-02-11",
        "int_customer_days",
        &["customer_id", "activity_date", "purchases"],
    );
    days.sort();
    assert_eq!(
        days,
        [
            "c1 | 2025-12-20 | 0",
            "c1 | 2026-02-11 | 0",
            "c2 | 2025-12-31 | 0",
            "c2 | 2026-01-01 | 1",
            "c2 | 2026-02-09 | 0",
            "c2 | 2026-02-10 | 0",
            "c3 | 2026-02-09 | 0",
        ]
    );
    assert_eq!(
        run_tables(&p.output(), "2026-02-11"),
        from_scratch(&p, "2026-02-11")
    );
}

/// A `partition_by:` model merged by key rewrites the months of its new rows and of the stored
/// rows they replace: a month whose one row goes is rewritten empty (no file), not kept as the
/// night before had it, and a customer whose anonymous day moves to another owner leaves that
/// month's other customers as they were.
#[test]
fn a_month_merged_by_key_loses_the_rows_replaced_even_when_none_come_back() {
    let p = TestProject::new()
        .events(&[
            // c5's one-event days; January has nothing else.
            ev("s1", "2026-01-15 10:00", "anon-5", "login").customer("c5"),
            ev("s2", "2026-02-09 10:00", "anon-5", "page_view").customer("c5"),
            ev("s3", "2025-12-05 10:00", "anon-6", "page_view"),
            ev("s4", "2025-12-06 10:00", "anon-7", "login").customer("c7"),
            ev("s5", "2026-02-05 10:00", "anon-6", "login").customer("c6"),
            // Night two: a second event on c5's 01-15, so the day leaves the model; and an
            // earlier identified event hands anon-6 (and its 12-05) from c6 to c8.
            ev("s6", "2026-01-15 11:00", "anon-5", "page_view")
                .customer("c5")
                .arrives("2026-02-10"),
            ev("s7", "2026-02-03 10:00", "anon-6", "login")
                .customer("c8")
                .arrives("2026-02-10"),
        ])
        .shipped_queries_plus(&[(
            "my_single_days",
            "-- partition_by: month(activity_date)\n-- unique_key: customer_id\n-- replaces: int_touched_customers\n-- replaces_where: activity_date >= since\nselect d.customer_id, d.activity_date\nfrom int_customer_days as d\ninner join int_touched_customers as t on t.customer_id = d.customer_id\nwhere d.activity_date >= t.since and d.events = 1\n",
        )]);
    p.run_ok("2026-02-09");
    let months = |run_date: &str| -> Vec<String> {
        month_files(&p, run_date, "my_single_days")
            .into_iter()
            .map(|(month, _)| month)
            .collect()
    };
    assert_eq!(months("2026-02-09"), ["2025-12", "2026-01", "2026-02"]);
    p.run_ok("2026-02-10");
    assert_eq!(state_of(&p.output(), "2026-02-10").0, "incremental");
    assert_eq!(
        months("2026-02-10"),
        ["2025-12", "2026-02"],
        "January went with its one row"
    );
    let mut days = p.table(
        "2026-02-10",
        "my_single_days",
        &["customer_id", "activity_date"],
    );
    days.sort();
    assert_eq!(
        days,
        [
            "c5 | 2026-02-09",
            "c6 | 2026-02-05",
            "c7 | 2025-12-06",
            "c8 | 2025-12-05",
            "c8 | 2026-02-03",
        ]
    );
    assert_eq!(
        run_tables(&p.output(), "2026-02-10"),
        from_scratch(&p, "2026-02-10")
    );
}

/// How each data test of a run ended and which rows it read: name -> (status, failing rows,
/// checked).
fn tests_of(p: &TestProject, run_date: &str) -> BTreeMap<String, (String, u64, String)> {
    let manifest = manifest(&p.output(), run_date);
    let tests = manifest["tests"]
        .as_array()
        .expect("the manifest lists its tests");
    tests
        .iter()
        .map(|t| {
            let text = |key: &str| t[key].as_str().unwrap_or_default().to_string();
            let failing = t["failing_rows"].as_u64().unwrap_or_default();
            (text("name"), (text("status"), failing, text("checked")))
        })
        .collect()
}

/// A night that keeps earlier months of a `partition_by:` table checks a test on tonight's
/// months alone when that is the same as checking them all: the test passed in the run that
/// wrote the kept months, and a failure cannot span months (each row alone, or a unique key
/// that holds the partition column). Otherwise it reads every row, so a failure in a kept
/// month is still reported. (`my_days` computes the months from the earliest change on, as
/// `int_customer_days` does; a model computing every month writes them all and keeps none.)
#[test]
fn tests_of_a_table_published_by_month_check_the_months_written_when_the_rest_passed() {
    let p = TestProject::new()
        .events(&[
            ev("m1", "2025-12-31 10:00", "anon-1", "login").customer("c1"),
            ev("m2", "2026-01-15 10:00", "anon-1", "login").customer("c1"),
            ev("m3", "2026-02-09 10:00", "anon-1", "login").customer("c1"),
            ev("m4", "2026-02-10 10:00", "anon-2", "login").customer("c2"),
        ])
        .shipped_queries_plus(&[(
            "my_days",
            "-- partition_by: month(activity_date)\n\
             -- test: unique(customer_id, activity_date)\n\
             -- test(warn): unique(customer_id)\n\
             -- test(warn): not_null(events_this_year)\n\
             -- test: row_count > 0\n\
             select customer_id, activity_date,\n\
                 case when activity_date >= date '2026-01-01' then events end as events_this_year\n\
             from int_customer_days\n\
             where activity_date >= (select month_start(min(since)) from int_touched_customers)\n",
        )]);
    p.run_ok("2026-02-09");
    let full = tests_of(&p, "2026-02-09");
    assert!(
        full.values().all(|(_, _, checked)| checked == "all_rows"),
        "{full:?}"
    );
    assert_eq!(
        full["my_days: not_null(events_this_year)"].1, 1,
        "December's row"
    );

    p.run_ok("2026-02-10");
    let night = tests_of(&p, "2026-02-10");
    let seen = |name: &str| {
        let (status, failing, checked) = &night[name];
        (status.as_str(), *failing, checked.as_str())
    };
    assert_eq!(
        seen("my_days: unique(customer_id, activity_date)"),
        ("pass", 0, "rows_written")
    );
    assert_eq!(
        seen("int_customer_days: unique(customer_id, activity_date)"),
        ("pass", 0, "rows_written")
    );
    // c1's days in three months are one failure: only the whole table shows it.
    assert_eq!(
        seen("my_days: unique(customer_id)"),
        ("warn", 1, "all_rows")
    );
    // It failed last night, in December, which tonight keeps.
    assert_eq!(
        seen("my_days: not_null(events_this_year)"),
        ("warn", 1, "all_rows")
    );
    assert_eq!(seen("my_days: row_count > 0"), ("pass", 0, "all_rows"));
    assert_eq!(
        run_tables(&p.output(), "2026-02-10"),
        from_scratch(&p, "2026-02-10")
    );
}

/// A late event lands in the middle of a long history: the delta models recompute the
/// customer's days only from a week and month boundary before it, seeded with the active day
/// before that boundary, and must still equal a full refresh.
#[test]
fn a_late_event_in_a_long_history_is_counted_from_a_boundary_before_it() {
    let p = TestProject::new().events(&[
        ev("h1", "2026-01-05 10:00", "anon-9", "login").customer("c9"),
        ev("h2", "2026-01-20 10:00", "anon-9", "login").customer("c9"),
        ev("h4", "2026-03-02 10:00", "anon-9", "login").customer("c9"),
        // Occurred on Wednesday 02-11, arrived on 03-03: the boundary is Monday 01-26, with no
        // active day between it and 02-11, and 01-20 seeds the customer's days from there.
        ev("h5", "2026-02-11 10:00", "anon-9", "page_view")
            .customer("c9")
            .arrives("2026-03-03"),
        ev("h6", "2026-03-03 10:00", "anon-9", "login").customer("c9"),
    ]);
    p.run_ok("2026-03-02");
    p.run_ok("2026-03-03");
    assert_eq!(state_of(&p.output(), "2026-03-03").0, "incremental");
    let days = p.table(
        "2026-03-03",
        "stickiness_daily",
        &["activity_date", "dau", "wau", "mau"],
    );
    // 02-11: c9 that day, and the only customer of its 7 and 28 days (01-20 is within 28).
    assert!(
        days.contains(&"2026-02-11 | 1 | 1 | 1".to_string()),
        "{days:?}"
    );
    // Weeks of 01-05, 01-19, 02-09 and 03-02: new, then resurrecting three times; each week
    // after is dormant but has no active customer, so it is not a row.
    assert_eq!(
        p.table(
            "2026-03-03",
            "lifecycle_weekly",
            &["week_start", "new", "returning", "resurrecting", "dormant"]
        ),
        [
            "2026-01-05 | 1 | 0 | 0 | 0",
            "2026-01-19 | 0 | 0 | 1 | 0",
            "2026-02-09 | 0 | 0 | 1 | 0",
            "2026-03-02 | 0 | 0 | 1 | 0"
        ]
    );
    assert_eq!(
        run_tables(&p.output(), "2026-03-03"),
        from_scratch(&p, "2026-03-03")
    );
}

#[test]
fn events_stamped_after_the_run_date_are_read_again_the_next_night() {
    let mut events = three_nights();
    // A clock running ahead: delivered on 03-02, stamped 03-03.
    events.push(
        ev("f1", "2026-03-03 06:00", "anon-2", "product_view")
            .customer("c2")
            .arrives("2026-03-02"),
    );
    let p = TestProject::new().events(&events);
    p.run_ok("2026-03-01").run_ok("2026-03-02");
    let (mode, _, since, kept) = state_of(&p.output(), "2026-03-02");
    assert_eq!(
        (mode.as_str(), since.as_str(), kept),
        ("incremental", "2026-03-01", false)
    );
    assert_eq!(
        p.table("2026-03-02", "data_quality", &["dropped_invalid"]),
        ["1"]
    );
    // The next night continues from 03-01's state, so 03-02's file is read again, now valid.
    p.run_ok("2026-03-03");
    let (mode, _, since, kept) = state_of(&p.output(), "2026-03-03");
    assert_eq!(
        (mode.as_str(), since.as_str(), kept),
        ("incremental", "2026-03-01", true)
    );
    assert_eq!(
        p.table(
            "2026-03-03",
            "data_quality",
            &["rows_read", "rows_kept", "dropped_invalid"]
        ),
        ["7 | 6 | 0"]
    );
    assert_eq!(
        run_tables(&p.output(), "2026-03-03"),
        from_scratch(&p, "2026-03-03")
    );
}

#[test]
fn a_state_that_no_longer_describes_the_input_means_a_full_refresh_with_the_reason() {
    let p = TestProject::new().events(&three_nights());
    p.run_ok("2026-03-01").run_ok("2026-03-02");

    // A file lands in a partition an earlier night processed.
    let late_file = p.input().join("touchpoints/date=2026-03-01/part-1.parquet");
    write_parquet(
        &late_file,
        &batch(&[&ev("x1", "2026-03-01 12:00", "anon-9", "page_view").customer("c9")]),
    );
    p.run_ok("2026-03-03");
    let (mode, reason, _, kept) = state_of(&p.output(), "2026-03-03");
    assert_eq!((mode.as_str(), kept), ("full", true));
    assert!(
        reason.contains("date=2026-03-01/part-1.parquet") && reason.contains("already processed"),
        "{reason}"
    );
    assert_eq!(
        run_tables(&p.output(), "2026-03-03"),
        from_scratch(&p, "2026-03-03")
    );

    // A file rewritten in place.
    std::fs::remove_file(&late_file).expect("remove");
    write_parquet(
        &late_file,
        &batch(&[&ev("x2", "2026-03-01 12:30", "anon-9", "search").customer("c9")]),
    );
    p.run_ok("2026-03-04");
    let (mode, reason, _, _) = state_of(&p.output(), "2026-03-04");
    assert_eq!(mode, "full");
    assert!(
        reason.contains("part-1.parquet") && reason.contains("changed"),
        "{reason}"
    );
    assert_eq!(
        run_tables(&p.output(), "2026-03-04"),
        from_scratch(&p, "2026-03-04")
    );

    // A backfill of an earlier day runs in full and leaves the later state alone.
    p.run_ok("2026-03-02");
    let (mode, reason, _, kept) = state_of(&p.output(), "2026-03-02");
    assert_eq!((mode.as_str(), kept), ("full", false));
    assert!(reason.contains("later day"), "{reason}");
    p.run_ok("2026-03-05");
    assert_eq!(
        state_of(&p.output(), "2026-03-05").2,
        "2026-03-04",
        "the night after continues from the newest state"
    );
}

#[test]
fn changing_the_ingest_sql_means_a_full_refresh() {
    let p = TestProject::new()
        .events(&three_nights())
        .shipped_queries_plus(&[]);
    p.run_ok("2026-03-01");
    let touchpoints = p.queries.join("touchpoints.sql");
    let sql = std::fs::read_to_string(&touchpoints).expect("read");
    std::fs::write(&touchpoints, format!("{sql}\n-- reviewed\n")).expect("write");
    p.run_ok("2026-03-02");
    let (mode, reason, _, _) = state_of(&p.output(), "2026-03-02");
    assert_eq!(mode, "full");
    assert!(reason.contains("SQL of touchpoints"), "{reason}");
    // An analyst's downstream model does not touch the state.
    std::fs::write(
        p.queries.join("my_counts.sql"),
        "select count(*) as n from int_events",
    )
    .expect("write");
    p.run_ok("2026-03-03");
    assert_eq!(state_of(&p.output(), "2026-03-03").0, "incremental");
    assert_eq!(p.table("2026-03-03", "my_counts", &["n"]), ["5"]);
}

/// The columns of `touchpoints` the state keeps.
fn stored_columns(p: &TestProject) -> Vec<String> {
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.output().join("state/state.json")).expect("state.json"),
    )
    .expect("json");
    state["stored_columns"]
        .as_array()
        .expect("stored_columns")
        .iter()
        .filter_map(|c| c.as_str().map(String::from))
        .collect()
}

/// The state keeps the columns of `touchpoints` that some model or test reads. A model that
/// starts reading one it left out means a full refresh that names the column, and from then on
/// the state keeps it too.
#[test]
fn the_state_keeps_the_columns_read_and_reading_another_means_a_full_refresh() {
    let events: Vec<Event> = three_nights()
        .into_iter()
        .map(|e| match e.anonymous_id.as_deref() {
            Some("anon-1") => e.country("DE"),
            _ if e.event_id.as_deref() == Some("b3") => e,
            _ => e.country("FR"),
        })
        .collect();
    let p = TestProject::new().events(&events).shipped_queries_plus(&[]);
    p.run_ok("2026-03-01").run_ok("2026-03-02");
    assert_eq!(state_of(&p.output(), "2026-03-02").0, "incremental");
    let stored = stored_columns(&p);
    assert!(stored.iter().any(|c| c == "event_id"), "{stored:?}");
    assert!(stored.iter().any(|c| c == "occurred_at"), "{stored:?}");
    // The shipped models read neither the country nor the raw properties (int_events, a view
    // that shows the country, is read by none of them).
    for unread in ["country", "properties", "source_file"] {
        assert!(!stored.iter().any(|c| c == unread), "{unread}: {stored:?}");
    }
    // The manifest says so too.
    assert_eq!(
        manifest(&p.output(), "2026-03-02")["state"]["stored_columns"],
        serde_json::json!(stored)
    );

    std::fs::write(
        p.queries.join("my_countries.sql"),
        "select coalesce(country, 'unknown') as country, count(*) as events\nfrom int_events\ngroup by 1\n",
    )
    .expect("write");
    p.run_ok("2026-03-03");
    let (mode, reason, _, kept) = state_of(&p.output(), "2026-03-03");
    assert_eq!(mode, "full");
    assert!(kept);
    assert!(reason.contains("touchpoints.country"), "{reason}");
    assert!(stored_columns(&p).iter().any(|c| c == "country"));
    // By hand: a1 and a2 from Germany, b1 (once) and b2 from France, b3 without a country.
    let countries = |day: &str| {
        let mut rows = p.table(day, "my_countries", &["country", "events"]);
        rows.sort();
        rows
    };
    assert_eq!(countries("2026-03-03"), ["DE | 2", "FR | 2", "unknown | 1"]);

    // The night after continues from the state, which now holds the countries.
    p.run_ok("2026-03-04");
    assert_eq!(state_of(&p.output(), "2026-03-04").0, "incremental");
    assert_eq!(countries("2026-03-04"), ["DE | 2", "FR | 2", "unknown | 1"]);
    assert_eq!(
        run_tables(&p.output(), "2026-03-04"),
        from_scratch(&p, "2026-03-04")
    );
}

#[test]
fn an_incremental_model_that_reads_more_than_touchpoints_is_a_project_error() {
    let p = TestProject::new()
        .events(&three_nights())
        .shipped_queries_plus(&[(
            "my_rollup",
            "-- materialized: incremental\nselect t.anonymous_id, count(*) as n\nfrom touchpoints as t join int_identities as i on i.anonymous_id = t.anonymous_id\ngroup by 1\n",
        )]);
    let out = p.run_binary("2026-03-01", &[]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("my_rollup.sql:1") && stderr.contains("reads only touchpoints"),
        "{stderr}"
    );
}

/// An incremental model may read another one: each night it sees the rows that model added
/// for the night's events, so what it adds up counts every event once.
#[test]
fn an_incremental_model_reading_another_adds_the_nights_rows_only() {
    let p = TestProject::new()
        .events(&three_nights())
        .shipped_queries_plus(&[
            (
                "my_event_counts",
                "-- materialized: incremental\nselect sum(events) as events from int_daily_activity\n",
            ),
            (
                "my_event_total",
                "select sum(events) as events from my_event_counts",
            ),
        ]);
    for day in ["2026-03-01", "2026-03-02", "2026-03-03"] {
        p.run_ok(day);
    }
    assert_eq!(state_of(&p.output(), "2026-03-03").0, "incremental");
    // Worked out by hand: a1, b1, b2, a2 and b3 (b1's second copy is a duplicate). Reading the
    // whole table each night would give 2 + 3 + 5.
    assert_eq!(p.table("2026-03-03", "my_event_total", &["events"]), ["5"]);
}

/// Without `replaces:`, a merge replaces the keys of the model's new rows (dbt's
/// delete+insert): an analyst's table of the touched customers' days merges into the night
/// before's and equals a full refresh.
#[test]
fn a_merge_without_replaces_replaces_the_keys_of_the_new_rows() {
    // c7 is active on night one only: later nights keep its row from the table before.
    let mut events = three_nights();
    events.push(ev("z1", "2026-03-01 09:00", "anon-7", "login").customer("c7"));
    let p = TestProject::new()
        .events(&events)
        .shipped_queries_plus(&[(
            "my_days",
            "-- unique_key: customer_id\nselect d.customer_id, count(*) as days\nfrom int_customer_days as d join int_touched_customers as t on t.customer_id = d.customer_id\ngroup by 1\n",
        )]);
    for day in ["2026-03-01", "2026-03-02", "2026-03-03"] {
        p.run_ok(day);
    }
    assert_eq!(state_of(&p.output(), "2026-03-03").0, "incremental");
    let mut days = p.table("2026-03-03", "my_days", &["customer_id", "days"]);
    days.sort();
    // c1: 03-01 (its browsing, once identified) and 03-03; c2: 03-01 and 03-02; c7: 03-01.
    assert_eq!(days, ["c1 | 2", "c2 | 2", "c7 | 1"]);
    assert_eq!(
        run_tables(&p.output(), "2026-03-03"),
        from_scratch(&p, "2026-03-03")
    );
}

#[test]
fn a_merge_key_that_is_not_a_column_fails_the_first_night_and_check() {
    let p = TestProject::new()
        .events(&three_nights())
        .shipped_queries_plus(&[(
            "my_days",
            "-- unique_key: customer\n-- replaces: int_touched_customers\nselect d.customer_id, count(*) as days\nfrom int_customer_days as d join int_touched_customers as t on t.customer_id = d.customer_id\ngroup by 1\n",
        )]);
    let out = p.run_binary("2026-03-01", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("my_days.sql")
            && stderr.contains("unique_key column `customer` is not among the model's columns"),
        "{stderr}"
    );
    let check = cxpipe(&["check", "--queries", &p.queries.display().to_string()]);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("my_days.sql:1: unique_key column `customer` is not among the model's columns (customer_id, days)"),
        "{stderr}"
    );
}

#[test]
fn reading_previous_tables_and_merging_by_key_are_checked_with_the_file() {
    let p = TestProject::new().events(&three_nights()).shipped_queries_plus(&[
        // An intermediate is not published, so there is no previous table of it.
        (
            "my_change",
            "select count(*) as n from previous.int_touched_customers\n",
        ),
        (
            "my_itself",
            "select count(*) as n from previous.my_itself\n",
        ),
        (
            "my_merge",
            "-- unique_key: customer_id\n-- replaces: int_identities\n-- materialized: intermediate\nselect customer_id from int_customer_days\n",
        ),
        (
            "my_partial_merge",
            "-- unique_key: customer_id\n-- replaces_where: activity_date >= since\nselect customer_id, activity_date from int_customer_days\n",
        ),
    ]);
    let out = p.run_binary("2026-03-01", &[]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("my_change.sql:1:")
            && stderr.contains("no table model `int_touched_customers`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("my_itself.sql:1:")
            && stderr.contains("cannot read its own previous table"),
        "{stderr}"
    );
    assert!(
        stderr.contains("my_merge.sql:1: `replaces: int_identities`")
            && stderr.contains("must be `materialized: table`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("my_partial_merge.sql:1: `replaces_where:`")
            && stderr.contains("the model needs a `replaces:`"),
        "{stderr}"
    );
}

#[test]
fn publishing_by_month_is_checked_with_the_file() {
    let p = TestProject::new().events(&three_nights()).shipped_queries_plus(&[
        (
            "my_intermediate",
            "-- partition_by: month(activity_date)\n-- materialized: intermediate\nselect activity_date from int_customer_days\n",
        ),
        (
            "my_text_month",
            "-- partition_by: month(day)\nselect cast(activity_date as varchar) as day from int_customer_days\n",
        ),
    ]);
    let out = p.run_binary("2026-03-01", &[]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("my_intermediate.sql:1: `partition_by:`")
            && stderr.contains("must be `materialized: table`"),
        "{stderr}"
    );
    // Planned against the input schema once the project is sound: a month needs a date.
    std::fs::remove_file(p.queries.join("my_intermediate.sql")).expect("remove the model");
    let check = cxpipe(&["check", "--queries", &p.queries.display().to_string()]);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains(
            "my_text_month.sql:1: partition_by: month(day) needs a date, but `day` is Utf8"
        ),
        "{stderr}"
    );
}

/// A `replaces_where:` condition is planned by `cxpipe check` and by every run, full refreshes
/// included, against the stored row and its key's row: a wrong one names its file before the
/// first night that would merge.
#[test]
fn a_replaces_where_condition_is_checked_before_any_night_merges() {
    // The touched customers' days, merged by customer where `condition` holds.
    let merged_where = |condition: &str| {
        format!(
            "-- unique_key: customer_id\n-- replaces: int_touched_customers\n-- replaces_where: {condition}\nselect d.customer_id, d.activity_date from int_customer_days as d inner join int_touched_customers as t on t.customer_id = d.customer_id\n"
        )
    };
    let (unknown, not_a_condition, sound) = (
        merged_where("activity_day >= since"),
        merged_where("since"),
        merged_where("activity_date >= since"),
    );
    let p = TestProject::new()
        .events(&three_nights())
        .shipped_queries_plus(&[
            ("my_unknown_column", &unknown),
            ("my_not_a_condition", &not_a_condition),
            ("my_sound_condition", &sound),
        ]);
    let check = cxpipe(&["check", "--queries", &p.queries.display().to_string()]);
    assert!(!check.status.success());
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("my_unknown_column.sql:1: `replaces_where: activity_day >= since`")
            && stderr.contains("activity_day"),
        "{stderr}"
    );
    assert!(
        stderr.contains("my_not_a_condition.sql:1: `replaces_where: since`")
            && stderr.contains("must be true or false, but it is Date32"),
        "{stderr}"
    );
    assert!(!stderr.contains("my_sound_condition"), "{stderr}");
    // A full refresh merges nothing, but it plans the condition too: those two models fail
    // (exit code 5), the sound one and every other model are written.
    let out = p.run_binary("2026-03-01", &[]);
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("my_unknown_column.sql: Error during planning: `replaces_where:")
            && stderr.contains("my_not_a_condition.sql: Error during planning: `replaces_where:")
            && stderr.contains("model my_sound_condition ok"),
        "{stderr}"
    );
}

/// An analyst's table that compares itself with the previous night: on a full refresh the
/// previous table is empty, on an incremental night it holds the night before's rows.
#[test]
fn previous_tables_hold_the_night_before_and_are_empty_on_a_full_refresh() {
    let p = TestProject::new()
        .events(&three_nights())
        .shipped_queries_plus(&[(
            "customers_gained",
            "select (select count(*) from int_identities) - (select count(*) from previous.int_identities) as gained\n",
        )]);
    p.run_ok("2026-03-01");
    p.run_ok("2026-03-02");
    p.run_ok("2026-03-03");
    // anon-2 is identified on night one (c2), anon-1 on night three (c1).
    assert_eq!(
        p.table("2026-03-01", "customers_gained", &["gained"]),
        ["1"]
    );
    assert_eq!(
        p.table("2026-03-02", "customers_gained", &["gained"]),
        ["0"]
    );
    assert_eq!(
        p.table("2026-03-03", "customers_gained", &["gained"]),
        ["1"]
    );
}

#[test]
fn a_month_of_nights_is_compacted_into_one_part_per_model() {
    let start = date("2026-01-01");
    let day = |n: i64| (start + chrono::Duration::days(n)).to_string();
    let mut events = Vec::new();
    for n in 0..32 {
        let at = format!("{} 10:00", day(n));
        events.push(ev(&format!("v{n}"), &at, "anon-1", "page_view"));
        events.push(
            ev(&format!("p{n}"), &at, "anon-2", "purchase")
                .customer("c2")
                .revenue(5.0),
        );
    }
    events.push(ev("s1", &format!("{} 11:00", day(31)), "anon-1", "signup").customer("c1"));
    let p = TestProject::new().events(&events);
    for n in 0..31 {
        p.run_ok(&day(n));
    }
    let last = day(30);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.output().join("state/state.json")).expect("state.json"),
    )
    .expect("json");
    // Night 30 found 30 stored parts per model and merged them: the merged part and its own.
    for (model, parts) in state["parts"].as_object().expect("parts") {
        assert_eq!(parts.as_array().map(Vec::len), Some(2), "{model}: {parts}");
    }
    let files = std::fs::read_dir(p.output().join("state/touchpoints"))
        .expect("state folder")
        .count();
    assert_eq!(files, 2, "superseded parts are deleted");
    assert_eq!(run_tables(&p.output(), &last), from_scratch(&p, &last));
    // And the night after reads the merged part like any other; anon-1 signs up that night.
    p.run_ok(&day(31));
    assert_eq!(state_of(&p.output(), &day(31)).0, "incremental");
    assert_eq!(
        run_tables(&p.output(), &day(31)),
        from_scratch(&p, &day(31))
    );
}

#[test]
fn a_skipped_bad_file_is_remembered_until_it_is_replaced() {
    let p = TestProject::new().events(&three_nights());
    let bad = p
        .input()
        .join("touchpoints/date=2026-03-02/truncated.parquet");
    std::fs::write(&bad, b"PAR1\x00\x00garbage").expect("junk");
    let skip = ["--on-bad-file", "skip"];
    for day in ["2026-03-01", "2026-03-02", "2026-03-03"] {
        let out = p.run_binary(day, &skip);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The night after the skip continues from the state: the bad file is not a reason for a
    // full refresh, and it is still listed as left out.
    let (mode, _, since, kept) = state_of(&p.output(), "2026-03-03");
    assert_eq!(
        (mode.as_str(), since.as_str(), kept),
        ("incremental", "2026-03-02", true)
    );
    let listed = manifest(&p.output(), "2026-03-03")["input"]["skipped_files"][0]["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(listed.contains("left out since 2026-03-02"), "{listed}");

    // Replaced by a good file, it is read: a full refresh says why.
    std::fs::remove_file(&bad).expect("remove");
    write_parquet(
        &bad,
        &batch(&[&ev("r1", "2026-03-02 12:00", "anon-3", "page_view").customer("c3")]),
    );
    let out = p.run_binary("2026-03-04", &skip);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mode, reason, _, _) = state_of(&p.output(), "2026-03-04");
    assert_eq!(mode, "full");
    assert!(reason.contains("changed since it was left out"), "{reason}");
    assert_eq!(
        p.table("2026-03-04", "data_quality", &["rows_read", "files_read"]),
        ["7 | 4"]
    );
}
