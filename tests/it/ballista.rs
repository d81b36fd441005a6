//! The shipped queries on a real Ballista cluster: a scheduler and two executors started as
//! `cxpipe scheduler` / `cxpipe executor` subprocesses on loopback, the input and output in a
//! folder all of them share. Every table must equal a local run's; a model failing on the
//! executors is reported like a local failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const END: &str = "2026-03-31";
const DAY_BEFORE: &str = "2026-03-30";

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Two ports in a row (an executor's Flight and gRPC ports).
fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let port = free_port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no two free ports in a row on loopback");
}

/// A scheduler and executors, killed when dropped.
struct Cluster {
    children: Vec<Child>,
    scheduler_port: u16,
    _work: tempfile::TempDir,
}

impl Cluster {
    fn start(executors: usize) -> Cluster {
        let work = tempfile::tempdir().expect("work dir");
        let scheduler_port = free_port();
        let bind = format!("127.0.0.1:{scheduler_port}");
        let executors_text = executors.to_string();
        let mut cluster = Cluster {
            children: Vec::new(),
            scheduler_port,
            _work: work,
        };
        cluster.spawn(
            &work_log(cluster._work.path(), "scheduler"),
            &[
                "scheduler",
                "--bind",
                &bind,
                "--min-executors",
                &executors_text,
            ],
        );
        wait_for_port(scheduler_port);
        for n in 0..executors {
            let port = free_port_pair();
            let dir = cluster._work.path().join(format!("executor-{n}"));
            let dir_text = dir.display().to_string();
            let own = format!("127.0.0.1:{port}");
            cluster.spawn(
                &work_log(cluster._work.path(), &format!("executor-{n}")),
                &[
                    "executor",
                    "--scheduler",
                    &bind,
                    "--bind",
                    &own,
                    "--concurrent-tasks",
                    "2",
                    "--work-dir",
                    &dir_text,
                ],
            );
        }
        cluster.wait_ready();
        cluster
    }

    fn spawn(&mut self, log: &Path, args: &[&str]) {
        let log = std::fs::File::create(log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_cxpipe"))
            .args(args)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start cxpipe");
        self.children.push(child);
    }

    /// `/readyz` says 200 once the executors asked for have registered.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if readyz(self.scheduler_port) == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the cluster did not become ready in 60s; logs:\n{}",
            self.logs()
        );
    }

    fn engine(&self) -> String {
        format!("ballista://127.0.0.1:{}", self.scheduler_port)
    }

    fn logs(&self) -> String {
        let mut text = String::new();
        if let Ok(entries) = std::fs::read_dir(self._work.path()) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "log") {
                    text.push_str(&format!(
                        "--- {}\n{}\n",
                        path.display(),
                        std::fs::read_to_string(&path).unwrap_or_default()
                    ));
                }
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn work_log(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join(format!("{name}.log"))
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on 127.0.0.1:{port} after 30s");
}

/// The status code of `GET /readyz`, or None when the scheduler does not answer.
fn readyz(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.split_whitespace().nth(1)?.parse().ok()
}

fn generated() -> TestProject {
    generated_with(TestProject::new())
}

/// 200 generated customers over 60 days in `p`'s input folder.
fn generated_with(p: TestProject) -> TestProject {
    let input = p.input().display().to_string();
    cxpipe_ok(&[
        "generate",
        "--output",
        &input,
        "--customers",
        "200",
        "--days",
        "60",
        "--end",
        END,
        "--seed",
        "11",
    ]);
    p
}

fn run_into(p: &TestProject, output: &Path, date: &str, extra: &[&str]) -> std::process::Output {
    let (input, output) = (
        p.input().display().to_string(),
        output.display().to_string(),
    );
    let queries = p.queries.display().to_string();
    let mut args = vec![
        "run",
        "--input",
        &input,
        "--output",
        &output,
        "--queries",
        &queries,
        "--date",
        date,
    ];
    args.extend_from_slice(extra);
    cxpipe(&args)
}

#[test]
fn the_cluster_computes_the_same_tables_as_a_local_run_and_reports_failures_alike() {
    let cluster = Cluster::start(2);
    let engine = cluster.engine();

    // The shipped models, two nights in a row: identical tables, published, with the engine in
    // the manifest; the second night continues incrementally from the state the first kept.
    let p = generated();
    let local = p.dir.path().join("local");
    let remote = p.dir.path().join("cluster");
    for date in [DAY_BEFORE, END] {
        let out = run_into(&p, &local, date, &[]);
        assert!(
            out.status.success(),
            "local run {date}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run_into(&p, &remote, date, &["--engine", &engine]);
        assert!(
            out.status.success(),
            "cluster run {date}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            cluster.logs()
        );
        let expected = run_tables(&local, date);
        let got = run_tables(&remote, date);
        assert_eq!(
            expected.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>()
        );
        assert!(!expected["customer_experience"].is_empty());
        for (name, rows) in &expected {
            assert_eq!(
                rows, &got[name],
                "table {name} of {date} differs on the cluster"
            );
        }
    }
    let manifest_end = manifest(&remote, END);
    assert_eq!(manifest_end["engine"], engine.as_str());
    assert_eq!(manifest_end["status"], "success");
    assert_eq!(
        manifest_end["state"]["mode"], "incremental",
        "{manifest_end}"
    );
    assert!(remote.join(format!("runs/{END}/report.html")).is_file());
    let work = std::fs::read_dir(remote.join("_work"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(work, 0, "the intermediates of the runs are removed");

    // With hash joins instead of sort-merge joins (`?joins=hash`): the same tables again.
    let hashed = p.dir.path().join("cluster-hash-joins");
    let hash_engine = format!("{engine}?joins=hash");
    let out = run_into(&p, &hashed, END, &["--engine", &hash_engine]);
    assert!(
        out.status.success(),
        "cluster run with hash joins: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        cluster.logs()
    );
    assert_eq!(run_tables(&hashed, END), run_tables(&local, END));
    assert_eq!(manifest(&hashed, END)["engine"], hash_engine.as_str());

    // A model that fails on the executors (a cast of text to a number, at execution time):
    // named with its file, its dependent skipped, every other model written; exit code 5.
    let broken = generated_with(TestProject::new().shipped_queries_plus(&[
        (
            "zz_broken",
            "select customer_id, cast(channel as int) as channel_number from int_events",
        ),
        ("zz_after_broken", "select count(*) as n from zz_broken"),
    ]));
    let local = broken.dir.path().join("local");
    let remote = broken.dir.path().join("cluster");
    let local_out = run_into(&broken, &local, END, &[]);
    let remote_out = run_into(&broken, &remote, END, &["--engine", &engine]);
    assert_eq!(local_out.status.code(), Some(5), "local exit code");
    assert_eq!(
        remote_out.status.code(),
        Some(5),
        "cluster exit code: {}",
        String::from_utf8_lossy(&remote_out.stderr)
    );
    let stderr = String::from_utf8_lossy(&remote_out.stderr);
    assert!(stderr.contains("zz_broken.sql"), "{stderr}");
    assert!(stderr.to_lowercase().contains("cast"), "{stderr}");
    let (local_manifest, remote_manifest) = (manifest(&local, END), manifest(&remote, END));
    let status_of = |m: &serde_json::Value, name: &str| {
        m["models"]
            .as_array()
            .and_then(|models| models.iter().find(|x| x["name"] == name))
            .map(|x| x["status"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    for (name, status) in [
        ("zz_broken", "failed"),
        ("zz_after_broken", "skipped"),
        ("customer_experience", "ok"),
        ("retention_monthly", "ok"),
    ] {
        assert_eq!(status_of(&local_manifest, name), status, "local {name}");
        assert_eq!(status_of(&remote_manifest, name), status, "cluster {name}");
    }
    let error = remote_manifest["models"]
        .as_array()
        .and_then(|m| m.iter().find(|x| x["name"] == "zz_broken"))
        .and_then(|m| m["error"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("zz_broken.sql"), "{error}");
    assert_eq!(
        run_tables(&local, END).get("retention_monthly"),
        run_tables(&remote, END).get("retention_monthly")
    );
}

#[test]
fn check_plans_every_model_for_the_cluster_and_flags_what_it_cannot_run() {
    let out = cxpipe_ok(&["check", "--engine", "ballista://127.0.0.1:50050"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("for ballista://127.0.0.1:50050"), "{text}");

    let p = TestProject::new().shipped_queries_plus(&[(
        "zz_months",
        "with recursive months(m) as (select 0 union all select m + 1 from months where m < 11) \
         select m as month_number from months",
    )]);
    let queries = p.queries.display().to_string();
    let local = cxpipe(&["check", "--queries", &queries]);
    assert!(
        local.status.success(),
        "fine locally: {}",
        String::from_utf8_lossy(&local.stderr)
    );
    // `cxpipe check --engine`: its exit code and what it said.
    let check_for_cluster = || {
        let out = cxpipe(&[
            "check",
            "--queries",
            &queries,
            "--engine",
            "ballista://127.0.0.1:50050",
        ]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, stderr) = check_for_cluster();
    assert_eq!(code, Some(3));
    assert!(stderr.contains("zz_months.sql:1:1"), "{stderr}");
    assert!(stderr.contains("recursive CTE"), "{stderr}");
    assert!(
        !stderr.contains("RecursiveQueryExec {"),
        "no plan dump: {stderr}"
    );

    // A join on a zoned timestamp runs locally but not in a cluster's sort-merge join.
    std::fs::remove_file(p.queries.join("zz_months.sql")).expect("rm");
    std::fs::write(
        p.queries.join("zz_same_time.sql"),
        "-- events of one anonymous id at the same instant\nselect a.event_id\nfrom touchpoints as a\n\
         inner join touchpoints as b\n    on a.anonymous_id = b.anonymous_id and a.occurred_at = b.occurred_at",
    )
    .expect("model");
    assert!(cxpipe(&["check", "--queries", &queries]).status.success());
    let (code, stderr) = check_for_cluster();
    assert_eq!(code, Some(3));
    assert!(stderr.contains("zz_same_time.sql:"), "{stderr}");
    assert!(
        stderr.contains("joins on the zoned timestamp") && stderr.contains("occurred_at"),
        "{stderr}"
    );
}
