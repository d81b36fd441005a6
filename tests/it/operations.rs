//! Running unattended: kills at the worst moment, the lock, bad files, backfills, logs,
//! configuration — through the real binary, as cron would run it.

use crate::support::*;

fn json(path: &std::path::Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid json")
}

/// A week of activity: one purchase a day by a new customer.
fn week() -> Vec<Event> {
    (1..=7)
        .map(|day| {
            let at = format!("2026-03-{day:02} 10:00");
            ev(&format!("e{day}"), &at, &format!("a{day}"), "purchase")
                .customer(&format!("C{day}"))
                .revenue(10.0)
        })
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn table_files(p: &TestProject, date: &str, model: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(p.run_dir(date).join(format!("tables/{model}")))
        .map(|dir| {
            dir.map(|f| f.expect("entry").file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn a_run_killed_before_publishing_leaves_the_previous_run_and_the_next_run_recovers() {
    let p = TestProject::new().events(&week());
    cxpipe_ok(&[
        "run",
        "--input",
        &p.input().display().to_string(),
        "--output",
        &p.output().display().to_string(),
        "--date",
        "2026-03-05",
    ]);
    let latest = std::fs::read_to_string(p.output().join("latest.json")).expect("latest");

    let killed = p.binary_with_env(
        "run",
        "2026-03-06",
        &[],
        &[("CXPIPE_TEST_FAULT", "after_tables")],
    );
    assert_eq!(
        killed.status.code(),
        None,
        "the process was aborted by a signal: {}",
        stderr(&killed)
    );
    assert_eq!(
        std::fs::read_to_string(p.output().join("latest.json")).expect("latest"),
        latest
    );
    assert!(!p.run_dir("2026-03-06").exists(), "nothing published");
    assert!(
        p.output().join("_staging").exists(),
        "the killed run left its staging behind"
    );
    assert!(p.output().join("_lock.json").exists(), "and its lock");

    // The lock's holder is dead: the next run takes it over, cleans up and publishes.
    let next = p.run_binary("2026-03-06", &[]);
    assert_eq!(next.status.code(), Some(0), "{}", stderr(&next));
    assert!(
        stderr(&next).contains("took over a stale lock"),
        "{}",
        stderr(&next)
    );
    assert_eq!(
        json(&p.output().join("latest.json"))["run_date"],
        "2026-03-06"
    );
    assert!(!p.output().join("_staging").exists());
    assert!(
        !p.output().join("_lock.json").exists(),
        "released after the run"
    );
    assert_eq!(
        p.table("2026-03-06", "data_quality", &["rows_read"]),
        vec!["6"]
    );
}

#[test]
fn a_rerun_killed_while_publishing_keeps_the_published_manifest_and_its_files() {
    let p = TestProject::new().events(&week());
    assert_eq!(p.run_binary("2026-03-07", &[]).status.code(), Some(0));
    let manifest = json(&p.run_dir("2026-03-07").join("manifest.json"));
    let files = table_files(&p, "2026-03-07", "customer_experience");

    let killed = p.binary_with_env(
        "run",
        "2026-03-07",
        &[],
        &[("CXPIPE_TEST_FAULT", "during_publish")],
    );
    assert_eq!(killed.status.code(), None);
    // The committed manifest still describes the earlier run, and its files are all there.
    assert_eq!(
        json(&p.run_dir("2026-03-07").join("manifest.json"))["run_id"],
        manifest["run_id"]
    );
    let after_kill = table_files(&p, "2026-03-07", "customer_experience");
    assert!(
        files.iter().all(|f| after_kill.contains(f)),
        "{files:?} vs {after_kill:?}"
    );

    assert_eq!(p.run_binary("2026-03-07", &[]).status.code(), Some(0));
    let rerun = json(&p.run_dir("2026-03-07").join("manifest.json"));
    assert_ne!(rerun["run_id"], manifest["run_id"]);
    assert_eq!(
        table_files(&p, "2026-03-07", "customer_experience").len(),
        1,
        "old files removed"
    );
    assert_eq!(
        p.table("2026-03-07", "customer_experience", &["customer_id"])
            .len(),
        7
    );
}

#[test]
fn of_two_runs_started_together_the_second_meets_the_first_ones_lock() {
    let p = TestProject::new().events(&week());
    let first = p
        .command(
            "run",
            "2026-03-07",
            &[],
            &[("CXPIPE_TEST_FAULT", "hold_lock")],
        )
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("first run");
    let lock = p.output().join("_lock.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !lock.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = p.run_binary("2026-03-07", &[]);
    let message = stderr(&second);
    assert_eq!(second.status.code(), Some(6), "{message}");
    assert!(
        message.contains(&format!("pid {}", first.id())),
        "names the holder: {message}"
    );
    let first = first.wait_with_output().expect("first run ends");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(!lock.exists(), "released");
    assert_eq!(
        json(&p.output().join("latest.json"))["run_date"],
        "2026-03-07"
    );
}

#[test]
fn a_second_run_is_refused_while_the_lock_is_held() {
    let p = TestProject::new().events(&week());
    std::fs::create_dir_all(p.output()).expect("output");
    // Held by this test process: alive, on this host.
    let holder = serde_json::json!({
        "host": std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname").trim(),
        "pid": std::process::id(),
        "started_at": "2026-03-08T01:00:00Z",
        "run_date": "2026-03-07",
        "run_id": "other-run",
    });
    std::fs::write(p.output().join("_lock.json"), holder.to_string()).expect("lock");
    let out = p.run_binary("2026-03-07", &[]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(&format!("pid {}", std::process::id())) && message.contains("other-run"),
        "{message}"
    );
    assert!(
        p.output().join("_lock.json").exists(),
        "someone else's lock is left alone"
    );
    assert!(!p.run_dir("2026-03-07").exists());

    // Once older than the stale timeout, it is taken over.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = p.run_binary("2026-03-07", &["--lock-timeout", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("took over a stale lock held by pid"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_corrupt_file_fails_by_name_or_is_skipped_and_listed() {
    let p = TestProject::new().events(&week());
    let bad = p
        .input()
        .join("touchpoints/date=2026-03-03/truncated.parquet");
    std::fs::write(&bad, b"PAR1\x00\x00garbage").expect("junk");
    let failed = p.run_binary("2026-03-07", &[]);
    assert_eq!(failed.status.code(), Some(4));
    assert!(stderr(&failed).contains("date=2026-03-03/truncated.parquet"));

    let skipped = p.run_binary("2026-03-07", &["--on-bad-file", "skip"]);
    assert_eq!(skipped.status.code(), Some(0), "{}", stderr(&skipped));
    assert!(
        stderr(&skipped).contains("skipping"),
        "{}",
        stderr(&skipped)
    );
    let manifest = json(&p.run_dir("2026-03-07").join("manifest.json"));
    let listed = &manifest["input"]["skipped_files"][0];
    assert!(
        listed["path"]
            .as_str()
            .expect("path")
            .ends_with("date=2026-03-03/truncated.parquet"),
        "{listed}"
    );
    assert!(
        listed["reason"]
            .as_str()
            .expect("reason")
            .contains("not a readable parquet file")
    );
    // The good files are all read; the bad one is still in the input, untouched.
    assert_eq!(
        p.table("2026-03-07", "data_quality", &["rows_read", "files_read"]),
        vec!["7 | 7"]
    );
    assert!(bad.exists());
    let report =
        std::fs::read_to_string(p.run_dir("2026-03-07").join("report.html")).expect("report");
    assert!(
        report.contains("Skipped file") && report.contains("truncated.parquet"),
        "the report lists it"
    );
}

#[test]
fn backfill_runs_each_date_once_and_skips_published_ones() {
    let p = TestProject::new().events(&week());
    let out = p.binary_with_env(
        "backfill",
        "",
        &["--from", "2026-03-01", "--to", "2026-03-07"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for day in 1..=7 {
        let date = format!("2026-03-{day:02}");
        // Each date sees exactly the purchases up to it.
        assert_eq!(
            p.table(&date, "data_quality", &["rows_read"]),
            vec![day.to_string()],
            "{date}"
        );
    }
    assert_eq!(
        json(&p.output().join("latest.json"))["run_date"],
        "2026-03-07"
    );

    let again = p.binary_with_env(
        "backfill",
        "",
        &["--from", "2026-03-01", "--to", "2026-03-07"],
        &[],
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 run, 7 already published"));
    let forced = p.binary_with_env(
        "backfill",
        "",
        &["--from", "2026-03-06", "--to", "2026-03-07", "--force"],
        &[],
    );
    assert!(String::from_utf8_lossy(&forced.stdout).contains("2 run, 0 already published"));
    // Backfilling an older date does not move latest.json backwards.
    p.binary_with_env(
        "backfill",
        "",
        &["--from", "2026-03-02", "--to", "2026-03-02", "--force"],
        &[],
    );
    assert_eq!(
        json(&p.output().join("latest.json"))["run_date"],
        "2026-03-07"
    );
}

#[test]
fn json_logs_one_object_per_line_ending_with_a_summary() {
    let p = TestProject::new().events(&week());
    let out = p.run_binary("2026-03-07", &["--log-format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not json: {l}: {e}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["event"] == "model"
            && l["model"] == "customer_experience"
            && l["rows"] == 7)
    );
    let last = lines.last().expect("lines");
    assert_eq!(last["event"], "summary");
    assert_eq!(last["status"], "success");
    assert_eq!(last["rows_read"], 7);
}

#[test]
fn config_file_env_and_flags_layer_and_secrets_are_masked() {
    let p = TestProject::new().events(&week());
    let file = p.dir.path().join("cxpipe.toml");
    let toml = format!(
        "input = \"{}\"\noutput = \"{}\"\nmemory_limit = \"2GiB\"\nlang = \"de\"\n",
        p.input().display(),
        p.output().display()
    );
    std::fs::write(&file, toml).expect("config file");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cxpipe"))
        .args([
            "config",
            "--config",
            &file.display().to_string(),
            "--lang",
            "en",
        ])
        .env("CXPIPE_MIN_SAMPLE", "25")
        .env("AWS_SECRET_ACCESS_KEY", "supersecret")
        .env("AWS_REGION", "eu-central-1")
        .output()
        .expect("cxpipe config");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("memory_limit = \"2GiB\"  # {}", file.display())),
        "{text}"
    );
    assert!(text.contains("lang = \"en\"  # --lang"), "{text}");
    assert!(
        text.contains("min_sample = \"25\"  # CXPIPE_MIN_SAMPLE"),
        "{text}"
    );
    assert!(
        text.contains("AWS_SECRET_ACCESS_KEY = ****") && !text.contains("supersecret"),
        "{text}"
    );
    assert!(text.contains("AWS_REGION = eu-central-1"), "{text}");

    // The same file drives a run.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_cxpipe"))
        .args([
            "run",
            "--config",
            &file.display().to_string(),
            "--date",
            "2026-03-07",
        ])
        .current_dir(repo())
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));

    std::fs::write(&file, "inptu = \"x\"\n").expect("typo");
    let typo = cxpipe(&["config", "--config", &file.display().to_string()]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("unknown setting `inptu`; did you mean `input`?"),
        "{}",
        stderr(&typo)
    );
}

#[test]
fn the_date_defaults_to_yesterday_utc() {
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .to_string();
    let p = TestProject::new().events(&[ev("e1", &format!("{yesterday} 08:00"), "a1", "purchase")
        .customer("C1")
        .revenue(5.0)]);
    let out = p.run_binary("", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json(&p.output().join("latest.json"))["run_date"],
        yesterday.as_str()
    );
}

#[test]
fn the_engine_is_a_setting_like_the_others() {
    let p = TestProject::new().events(&[ev("e1", "2026-03-07 08:00", "a1", "page_view")]);
    let file = p.dir.path().join("cxpipe.toml");
    std::fs::write(&file, "engine = \"local\"\n").expect("config file");
    let config = file.display().to_string();
    let text =
        String::from_utf8_lossy(&cxpipe_ok(&["config", "--config", &config]).stdout).into_owned();
    assert!(
        text.contains(&format!("engine = \"local\"  # {config}")),
        "{text}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cxpipe"))
        .args(["config", "--config", &config])
        .env("CXPIPE_ENGINE", "ballista://10.1.2.3:50050")
        .current_dir(repo())
        .output()
        .expect("config");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("engine = \"ballista://10.1.2.3:50050\"  # CXPIPE_ENGINE"),
        "{text}"
    );

    let bad = p.run_binary("2026-03-07", &["--engine", "spark://x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("use local or ballista://HOST:PORT"),
        "{}",
        stderr(&bad)
    );
}

#[cfg(not(feature = "ballista"))]
#[test]
fn a_cluster_engine_without_ballista_compiled_in_says_how_to_build_it() {
    let p = TestProject::new().events(&[ev("e1", "2026-03-07 08:00", "a1", "page_view")]);
    let out = p.run_binary("2026-03-07", &["--engine", "ballista://127.0.0.1:50050"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--features ballista"),
        "{}",
        stderr(&out)
    );
    assert!(!p.output().join("runs").exists());
}

#[cfg(feature = "ballista")]
#[test]
fn a_cluster_engine_rejects_in_process_stores() {
    let out = cxpipe(&[
        "run",
        "--input",
        "memory://cluster-test/in",
        "--output",
        "memory://cluster-test/out",
        "--date",
        "2026-03-07",
        "--engine",
        "ballista://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cluster cannot read it"),
        "{}",
        stderr(&out)
    );
}

/// A file whose `nps` is text, and a file without `occurred_at`: both fail the run naming the
/// file and the column, or are both left out and listed with `--on-bad-file skip`.
#[test]
fn files_with_a_wrong_type_or_a_missing_column_fail_by_name_or_are_skipped() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    let p = TestProject::new().events(&week());
    let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let field = |name: &str, t: DataType| Field::new(name, t, true);
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, None);
    let text_nps = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            field("event_id", DataType::Utf8),
            field("occurred_at", timestamp),
            field("anonymous_id", DataType::Utf8),
            field("channel", DataType::Utf8),
            field("touchpoint", DataType::Utf8),
            field("nps", DataType::Utf8),
        ])),
        vec![
            text("x1"),
            Arc::new(TimestampMicrosecondArray::from(vec![1_772_445_600_000_000])) as ArrayRef,
            text("a1"),
            text("web"),
            text("survey_response"),
            text("ten"),
        ],
    )
    .expect("batch");
    write_parquet(
        &p.input()
            .join("touchpoints/date=2026-03-04/text_nps.parquet"),
        &text_nps,
    );
    let no_time = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            field("event_id", DataType::Utf8),
            field("anonymous_id", DataType::Utf8),
            field("channel", DataType::Utf8),
            field("touchpoint", DataType::Utf8),
        ])),
        vec![text("x2"), text("a2"), text("web"), text("page_view")],
    )
    .expect("batch");
    write_parquet(
        &p.input()
            .join("touchpoints/date=2026-03-05/no_time.parquet"),
        &no_time,
    );

    let failed = p.run_binary("2026-03-07", &[]);
    let message = stderr(&failed);
    assert_eq!(failed.status.code(), Some(4), "{message}");
    assert!(
        message.contains("date=2026-03-04/text_nps.parquet")
            && message.contains("column `nps` has type Utf8, expected an integer"),
        "{message}"
    );
    assert!(
        !p.output().join("latest.json").exists(),
        "nothing published"
    );

    let skipped = p.run_binary("2026-03-07", &["--on-bad-file", "skip"]);
    assert_eq!(skipped.status.code(), Some(0), "{}", stderr(&skipped));
    let manifest = json(&p.run_dir("2026-03-07").join("manifest.json"));
    let listed: Vec<String> = manifest["input"]["skipped_files"]
        .as_array()
        .expect("skipped files")
        .iter()
        .map(|f| format!("{} {}", f["path"], f["reason"]))
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed[0].contains("text_nps.parquet") && listed[0].contains("`nps`"),
        "{listed:?}"
    );
    assert!(
        listed[1].contains("no_time.parquet") && listed[1].contains("`occurred_at` is missing"),
        "{listed:?}"
    );
    // The seven good files are read in full.
    assert_eq!(
        p.table("2026-03-07", "data_quality", &["rows_read", "files_read"]),
        vec!["7 | 7"]
    );
}
