//! The backbone, as a user runs it: stores, input discovery and normalisation, model ordering
//! and failure isolation, outputs and publication, exit codes of the real binary.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int16Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::support::*;

/// A small valid day: one customer's sign-up and purchase.
fn basic_events() -> Vec<Event> {
    vec![
        ev("e1", "2026-03-01 09:00", "a1", "page_view"),
        ev("e2", "2026-03-01 09:05", "a1", "signup").customer("C1"),
        ev("e3", "2026-03-01 09:10", "a1", "purchase")
            .customer("C1")
            .revenue(40.0),
        ev("e4", "2026-03-02 12:00", "a1", "survey_response")
            .customer("C1")
            .nps(10),
    ]
}

fn json(path: &std::path::Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid json")
}

#[test]
fn local_run_writes_every_model_manifest_report_and_latest() {
    let p = TestProject::new().events(&basic_events());
    p.run_ok("2026-03-02");
    let run = p.run_dir("2026-03-02");
    for model in [
        "customer_experience",
        "retention_monthly",
        "data_quality",
        "journey_funnel",
    ] {
        let files: Vec<String> = std::fs::read_dir(run.join(format!("tables/{model}")))
            .expect("table folder")
            .map(|f| f.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
        assert!(
            files.len() == 1 && files[0].ends_with(".parquet"),
            "{model}: {files:?}"
        );
    }
    // Views are inlined into their dependents, not written.
    assert!(!run.join("tables/touchpoints").exists());
    assert_eq!(
        p.table(
            "2026-03-02",
            "data_quality",
            &["rows_read", "rows_kept", "files_read"]
        ),
        vec!["4 | 4 | 2"]
    );
    let manifest = json(&run.join("manifest.json"));
    assert_eq!(manifest["status"], "success");
    assert_eq!(manifest["run_date"], "2026-03-02");
    assert_eq!(manifest["input"]["files_read"], 2);
    assert_eq!(manifest["input"]["rows_read"], 4);
    let models = manifest["models"].as_array().expect("models");
    assert!(models.iter().all(|m| m["status"] == "ok"), "{models:?}");
    let experience = models
        .iter()
        .find(|m| m["name"] == "customer_experience")
        .expect("model");
    assert_eq!(experience["rows"], 1);
    let latest = json(&p.output().join("latest.json"));
    assert_eq!(latest["run_date"], "2026-03-02");
    assert_eq!(latest["path"], "runs/2026-03-02/");
    assert_eq!(latest["run_id"], manifest["run_id"]);
    let report = std::fs::read_to_string(run.join("report.html")).expect("report written");
    assert!(
        report.contains("Content-Security-Policy") && report.len() > 1000,
        "a real report"
    );
    // Staging is cleaned up after publication.
    assert!(!p.output().join("_staging").exists(), "staging left behind");
}

#[test]
fn memory_store_input_and_output() {
    let rt = runtime();
    let store =
        cxpipe::storage::Location::parse("memory://pipeline-test", false).expect("memory store");
    let events = basic_events();
    let refs: Vec<&Event> = events.iter().collect();
    let mut bytes = Vec::new();
    {
        let batch = batch(&refs);
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
    }
    rt.block_on(async {
        store
            .store()
            .put(
                &store.path("in/touchpoints/date=2026-03-02/events.parquet"),
                PutPayload::from(bytes),
            )
            .await
            .expect("put input");
    });
    let p = TestProject::new();
    let mut config = p.config("2026-03-02");
    config.input = "memory://pipeline-test/in".into();
    config.output = "memory://pipeline-test/out".into();
    rt.block_on(cxpipe::run::run(&config))
        .expect("run on memory store");
    let latest = rt.block_on(async {
        store
            .store()
            .get(&store.path("out/latest.json"))
            .await
            .expect("latest exists")
            .bytes()
            .await
            .expect("bytes")
    });
    let latest: serde_json::Value = serde_json::from_slice(&latest).expect("json");
    assert_eq!(latest["run_date"], "2026-03-02");
    let listed: Vec<String> = rt.block_on(async {
        use futures::TryStreamExt;
        let prefix = ObjectPath::from("out/runs/2026-03-02/tables/customer_experience");
        store
            .store()
            .list(Some(&prefix))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .expect("list")
    });
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        listed[0].starts_with("out/runs/2026-03-02/tables/customer_experience/part-"),
        "{listed:?}"
    );
}

#[test]
fn partitions_after_the_run_date_are_never_read() {
    let p = TestProject::new().events(&basic_events());
    // A file that would fail the run if it were opened.
    let later = p.input().join("touchpoints/date=2026-03-03/part-0.parquet");
    std::fs::create_dir_all(later.parent().expect("folder")).expect("mkdir");
    std::fs::write(&later, b"not parquet at all").expect("write junk");
    p.run_ok("2026-03-02");
    let manifest = json(&p.run_dir("2026-03-02").join("manifest.json"));
    assert_eq!(manifest["input"]["later_partitions"], 1);
    assert_eq!(manifest["input"]["files_read"], 2);
}

#[test]
fn compatible_physical_types_and_odd_columns_are_normalised() {
    // timestamp(ms), int16 nps, no optional columns but nps, and an extra column.
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new(
            "occurred_at",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("anonymous_id", DataType::Utf8, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("touchpoint", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, true),
        Field::new("nps", DataType::Int16, true),
        Field::new("favourite_colour", DataType::Utf8, true),
    ]));
    let ms = |s: &str| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .expect("ts")
            .and_utc()
            .timestamp_millis()
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["x1", "x2"])),
        Arc::new(TimestampMillisecondArray::from(vec![
            ms("2026-03-01 10:00"),
            ms("2026-03-01 11:00"),
        ])),
        Arc::new(StringArray::from(vec!["a9", "a9"])),
        Arc::new(StringArray::from(vec!["app", "app"])),
        Arc::new(StringArray::from(vec!["purchase", "survey_response"])),
        Arc::new(StringArray::from(vec![Some("C9"), Some("C9")])),
        Arc::new(Int16Array::from(vec![None, Some(4)])),
        Arc::new(StringArray::from(vec!["red", "blue"])),
    ];
    let p = TestProject::new().events(&basic_events());
    write_parquet(
        &p.input()
            .join("touchpoints/date=2026-03-01/other-source.parquet"),
        &RecordBatch::try_new(schema, columns).expect("batch"),
    );
    p.run_ok("2026-03-02");
    assert_eq!(
        p.table(
            "2026-03-02",
            "customer_experience",
            &[
                "customer_id",
                "first_purchase_at",
                "nps_min",
                "experience_class"
            ]
        ),
        vec![
            "C1 | 2026-03-01 09:10:00 | 10 | good",
            "C9 | 2026-03-01 10:00:00 | 4 | poor"
        ]
    );
    assert_eq!(
        p.table(
            "2026-03-02",
            "data_quality",
            &["rows_read", "rows_kept", "files_read"]
        ),
        vec!["6 | 6 | 3"]
    );
}

#[test]
fn corrupt_file_fails_the_run_by_name_and_keeps_the_previous_run() {
    let p = TestProject::new().events(&basic_events());
    p.run_ok("2026-03-01");
    let latest_before = std::fs::read_to_string(p.output().join("latest.json")).expect("latest");
    let bad = p.input().join("touchpoints/date=2026-03-02/broken.parquet");
    std::fs::write(&bad, b"PAR1 truncated").expect("write junk");
    let out = p.run_binary("2026-03-02", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("date=2026-03-02/broken.parquet"),
        "{stderr}"
    );
    assert!(stderr.contains("not a readable parquet file"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(p.output().join("latest.json")).expect("latest"),
        latest_before
    );
    assert!(!p.run_dir("2026-03-02").exists());
}

#[test]
fn missing_required_column_names_file_and_column() {
    let p = TestProject::new().events(&basic_events());
    let schema = Arc::new(Schema::new(vec![Field::new(
        "event_id",
        DataType::Utf8,
        false,
    )]));
    let only_ids = RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(vec!["z"])) as ArrayRef],
    )
    .expect("batch");
    write_parquet(
        &p.input().join("touchpoints/date=2026-03-02/ids.parquet"),
        &only_ids,
    );
    let err = p.run("2026-03-02").expect_err("missing columns");
    let message = err.to_string();
    assert_eq!(err.exit_code(), cxpipe::ExitCode::Input);
    assert!(message.contains("date=2026-03-02/ids.parquet"), "{message}");
    assert!(
        message.contains("required column `occurred_at` is missing"),
        "{message}"
    );
}

#[test]
fn unknown_table_is_reported_with_position_and_suggestion_before_reading_data() {
    // No input at all: the project error must come first.
    let p = TestProject::new().queries(&[
        ("daily", "-- events per day\nselect event_date, count(*) as events\nfrom touchpoints\ngroup by 1"),
        ("touchpoints", "select * from raw_touchpoints"),
        ("weekly", "-- weekly\nselect *\nfrom daly"),
    ]);
    let out = p.run_binary("2026-03-02", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "weekly.sql:3:6: model `weekly` reads unknown table `daly`; did you mean `daily`?"
        ),
        "{stderr}"
    );
}

#[test]
fn cycle_is_reported_as_a_path() {
    let p = TestProject::new().queries(&[("a", "select * from b"), ("b", "select * from a")]);
    let err = p.run("2026-03-02").expect_err("cycle");
    assert_eq!(err.exit_code(), cxpipe::ExitCode::Project);
    assert!(
        err.to_string()
            .contains("circular dependency `a -> b -> a`"),
        "{err}"
    );
}

#[test]
fn failing_model_skips_dependents_and_siblings_still_written() {
    let p = TestProject::new().events(&basic_events()).queries(&[
        (
            "events",
            "-- materialized: view\nselect * from raw_touchpoints",
        ),
        ("broken", "select cast(event_id as int) as n from events"),
        ("after_broken", "select count(*) as n from broken"),
        ("sibling", "select count(*) as events from events"),
    ]);
    let out = p.run_binary("2026-03-02", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("broken.sql"), "{stderr}");
    assert_eq!(p.table("2026-03-02", "sibling", &["events"]), vec!["4"]);
    let manifest = json(&p.run_dir("2026-03-02").join("manifest.json"));
    assert_eq!(manifest["status"], "partial");
    let status = |name: &str| {
        manifest["models"]
            .as_array()
            .expect("models")
            .iter()
            .find(|m| m["name"] == name)
            .expect("model")["status"]
            .clone()
    };
    assert_eq!(status("broken"), "failed");
    assert_eq!(status("after_broken"), "skipped");
    assert_eq!(status("sibling"), "ok");
    // A partial run is not published as the latest.
    assert!(!p.output().join("latest.json").exists());
}

#[test]
fn exit_codes_for_success_and_bad_usage() {
    let p = TestProject::new().events(&basic_events());
    let ok = p.run_binary("2026-03-02", &[]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("success 2026-03-02: "));
    let bad_date = p.run_binary("2026-02-30", &[]);
    assert_eq!(bad_date.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_date.stderr).contains("invalid date '2026-02-30'"));
    let missing = cxpipe(&[
        "run",
        "--input",
        "/no/such/folder",
        "--output",
        &p.output().display().to_string(),
        "--date",
        "2026-03-02",
    ]);
    assert_eq!(
        missing.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let no_args = cxpipe(&["run"]);
    assert_eq!(no_args.status.code(), Some(2));
}

#[test]
fn rerunning_a_date_gives_identical_tables() {
    let p = TestProject::new().events(&basic_events());
    p.run_ok("2026-03-02");
    let first = p.table(
        "2026-03-02",
        "customer_experience",
        &["customer_id", "first_purchase_at", "experience_class"],
    );
    let first_dq = p.table(
        "2026-03-02",
        "data_quality",
        &["rows_read", "rows_kept", "duplicates"],
    );
    p.run_ok("2026-03-02");
    assert_eq!(
        p.table(
            "2026-03-02",
            "customer_experience",
            &["customer_id", "first_purchase_at", "experience_class"]
        ),
        first
    );
    assert_eq!(
        p.table(
            "2026-03-02",
            "data_quality",
            &["rows_read", "rows_kept", "duplicates"]
        ),
        first_dq
    );
}

#[test]
fn integer_ids_decimal_revenue_zoned_timestamps_and_dictionary_strings_are_read() {
    use arrow::array::{
        Decimal128Array, DictionaryArray, Int64Array, LargeStringArray, TimestampNanosecondArray,
    };
    use arrow::datatypes::Int32Type;
    let nanos = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("ts")
            .timestamp_nanos_opt()
            .expect("in range")
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Int64, false),
        Field::new(
            "occurred_at",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("+02:00".into())),
            false,
        ),
        Field::new("anonymous_id", DataType::LargeUtf8, false),
        Field::new(
            "channel",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            false,
        ),
        Field::new("touchpoint", DataType::Utf8, false),
        Field::new("customer_id", DataType::Int64, true),
        Field::new("revenue", DataType::Decimal128(10, 2), true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![101, 102])),
        // 00:30 at +02:00 is 22:30 UTC the day before: the event belongs to 2026-02-28.
        Arc::new(
            TimestampNanosecondArray::from(vec![
                nanos("2026-03-01T00:30:00+02:00"),
                nanos("2026-03-01T12:00:00+02:00"),
            ])
            .with_timezone("+02:00"),
        ),
        Arc::new(LargeStringArray::from(vec!["z1", "z1"])),
        Arc::new(DictionaryArray::<Int32Type>::from_iter(["store", "store"])),
        Arc::new(StringArray::from(vec!["purchase", "return"])),
        Arc::new(Int64Array::from(vec![Some(4711), Some(4711)])),
        Arc::new(
            Decimal128Array::from(vec![Some(12_050), Some(-2_000)])
                .with_precision_and_scale(10, 2)
                .expect("decimal"),
        ),
    ];
    let p = TestProject::new();
    write_parquet(
        &p.input().join("touchpoints/date=2026-03-01/export.parquet"),
        &RecordBatch::try_new(schema, columns).expect("batch"),
    );
    p.run_ok("2026-03-01");
    assert_eq!(
        p.table(
            "2026-03-01",
            "customer_experience",
            &[
                "customer_id",
                "first_purchase_at",
                "cohort_month",
                "returns"
            ]
        ),
        vec!["4711 | 2026-02-28 22:30:00 | 2026-02-01 | 1"]
    );
    // 120.50 paid on 2026-02-28 (UTC), 20.00 refunded on 2026-03-01.
    let mut days = p.table(
        "2026-03-01",
        "int_customer_days",
        &["activity_date", "purchases", "net_revenue"],
    );
    days.sort();
    assert_eq!(days, vec!["2026-02-28 | 1 | 120.5", "2026-03-01 | 0 | -20"]);
}
