//! The whole pipeline against a real S3-compatible server (moto) on 127.0.0.1: input read from
//! one bucket, tables and report written to another, the lock created with a conditional put.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::support::*;

/// A moto S3 server on a free loopback port, stopped when dropped.
struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    fn start() -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        // `python3 -m moto.server` rather than the `moto_server` script: no PATH/shim surprises.
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "moto_server must be installed: pip install 'moto[server]' (.ci/run does this)",
            );
        let server = S3Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket with a plain HTTP PUT (object stores cannot create buckets).
    fn create_bucket(&self, name: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let request = format!(
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "create bucket {name}: {response}"
        );
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    fn store(&self, bucket: &str) -> impl ObjectStore {
        AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_access_key_id("testing")
            .with_secret_access_key("testing-secret")
            .with_region("us-east-1")
            .build()
            .expect("s3 client")
    }

    /// Uploads a local project's input files to `bucket` under `prefix`, as a producer would.
    fn upload_input(&self, project: &TestProject, bucket: &str, prefix: &str) {
        let rt = runtime();
        let store = self.store(bucket);
        for entry in walk(&project.input()) {
            let relative = entry
                .strip_prefix(project.input())
                .expect("below input")
                .display()
                .to_string();
            let bytes = std::fs::read(&entry).expect("read fixture");
            rt.block_on(store.put(
                &Path::from(format!("{prefix}/{relative}")),
                PutPayload::from(bytes),
            ))
            .expect("upload");
        }
    }

    fn cxpipe(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_cxpipe"))
            .args(args)
            .envs(self.env())
            .current_dir(repo())
            .output()
            .expect("run cxpipe")
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_pipeline_reads_and_writes_s3_and_locks_with_a_conditional_put() {
    let server = S3Server::start();
    server.create_bucket("raw");
    server.create_bucket("reports");
    // Upload a hand-made week of events from a local fixture, as a producer would.
    let local = TestProject::new().events(&[
        ev("e1", "2026-03-01 09:00", "a1", "page_view"),
        ev("e2", "2026-03-01 09:05", "a1", "purchase")
            .customer("C1")
            .revenue(30.0),
        ev("e3", "2026-03-02 10:00", "a1", "survey_response")
            .customer("C1")
            .nps(9)
            .arrives("2026-03-03"),
    ]);
    let rt = runtime();
    let raw = server.store("raw");
    server.upload_input(&local, "raw", "cx");

    let run = |date: &str| {
        server.cxpipe(&[
            "run",
            "--input",
            "s3://raw/cx",
            "--output",
            "s3://reports/nightly",
            "--date",
            date,
        ])
    };
    let out = run("2026-03-03");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("testing-secret"),
        "credentials never reach the log"
    );

    let reports = server.store("reports");
    let get = |path: &str| -> Option<Vec<u8>> {
        rt.block_on(async {
            Some(
                reports
                    .get(&Path::from(path))
                    .await
                    .ok()?
                    .bytes()
                    .await
                    .ok()?
                    .to_vec(),
            )
        })
    };
    let latest: serde_json::Value =
        serde_json::from_slice(&get("nightly/latest.json").expect("latest.json")).expect("json");
    assert_eq!(latest["run_date"], "2026-03-03");
    let manifest: serde_json::Value =
        serde_json::from_slice(&get("nightly/runs/2026-03-03/manifest.json").expect("manifest"))
            .expect("json");
    assert_eq!(manifest["input"]["rows_read"], 3);
    assert_eq!(manifest["input"]["location"], "s3://raw/cx");
    let report = String::from_utf8(get("nightly/runs/2026-03-03/report.html").expect("report"))
        .expect("utf-8");
    assert!(
        report.contains("Content-Security-Policy") && report.len() > 1000,
        "a real report"
    );
    assert!(
        !String::from_utf8_lossy(&serde_json::to_vec(&manifest).expect("json"))
            .contains("testing-secret")
    );
    assert!(get("nightly/_lock.json").is_none(), "lock released");

    // The next night continues from the state kept on S3: one new file read, a redelivery of
    // e2 counted as a duplicate.
    let night = local.dir.path().join("night.parquet");
    write_parquet(
        &night,
        &batch(&[
            &ev("e4", "2026-03-04 08:00", "a1", "page_view").customer("C1"),
            &ev("e2", "2026-03-01 09:05", "a1", "purchase")
                .customer("C1")
                .revenue(30.0),
        ]),
    );
    rt.block_on(raw.put(
        &Path::from("cx/touchpoints/date=2026-03-04/part-0.parquet"),
        PutPayload::from(std::fs::read(&night).expect("read night")),
    ))
    .expect("upload");
    let next = run("2026-03-04");
    assert_eq!(
        next.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&get("nightly/runs/2026-03-04/manifest.json").expect("manifest"))
            .expect("json");
    assert_eq!(manifest["state"]["mode"], "incremental");
    assert_eq!(manifest["state"]["kept"], true);
    assert_eq!(manifest["input"]["rows_read"], 2);
    let dq = manifest["models"]
        .as_array()
        .and_then(|models| models.iter().find(|m| m["name"] == "data_quality"))
        .map(|m| m["status"].clone());
    assert_eq!(dq, Some(serde_json::json!("ok")));

    // A lock held by a live run refuses the second one: the conditional put fails on S3 itself.
    let holder = serde_json::json!({"host": "other-host", "pid": 4242, "started_at": "2026-03-04T01:00:00Z", "run_date": "2026-03-03", "run_id": "r-other"});
    rt.block_on(reports.put(
        &Path::from("nightly/_lock.json"),
        PutPayload::from(holder.to_string().into_bytes()),
    ))
    .expect("lock");
    let refused = run("2026-03-03");
    assert_eq!(
        refused.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pid 4242 on other-host"));
    // Once stale, it is taken over with a conditional update on its ETag.
    std::thread::sleep(Duration::from_millis(1100));
    let taken = server.cxpipe(&[
        "run",
        "--input",
        "s3://raw/cx",
        "--output",
        "s3://reports/nightly",
        "--date",
        "2026-03-03",
        "--lock-timeout",
        "1s",
    ]);
    assert_eq!(
        taken.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
}

#[test]
fn an_unreachable_store_fails_with_the_url_and_cause() {
    let server = S3Server::start();
    let out = server.cxpipe(&[
        "run",
        "--input",
        "s3://no-such-bucket/cx",
        "--output",
        "s3://no-such-bucket/out",
        "--date",
        "2026-03-03",
        "--retries",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("s3://no-such-bucket"), "{stderr}");
    assert!(!stderr.contains("testing-secret"), "{stderr}");
}

/// A TCP proxy in front of the S3 server that answers its first `failures` connections with
/// `503 Service Unavailable` (what S3 says when it sheds load) and forwards every later one.
struct FlakyProxy {
    port: u16,
    failed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FlakyProxy {
    fn start(target: u16, failures: usize) -> FlakyProxy {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("addr").port();
        let failed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&failed);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                if counter.load(Ordering::SeqCst) < failures {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let mut head = [0u8; 4096];
                    let _ = client.read(&mut head);
                    let _ = client.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)) else {
                    return;
                };
                let (Ok(mut client_reader), Ok(mut server_writer)) =
                    (client.try_clone(), server.try_clone())
                else {
                    return;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_reader, &mut server_writer);
                    let _ = server_writer.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        FlakyProxy { port, failed }
    }
}

#[test]
fn transient_store_errors_are_retried_and_the_run_succeeds() {
    let server = S3Server::start();
    server.create_bucket("raw");
    let local = TestProject::new().events(&[ev("e1", "2026-03-01 09:00", "a1", "purchase")
        .customer("C1")
        .revenue(30.0)]);
    server.upload_input(&local, "raw", "cx");
    let run_through = |proxy: &FlakyProxy, retries: &str| {
        Command::new(env!("CARGO_BIN_EXE_cxpipe"))
            .args([
                "run",
                "--input",
                "s3://raw/cx",
                "--output",
                &local.output().display().to_string(),
                "--date",
                "2026-03-01",
                "--retries",
                retries,
                "--retry-timeout",
                "30s",
            ])
            .envs(server.env())
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", proxy.port),
            )
            .current_dir(repo())
            .output()
            .expect("run cxpipe")
    };

    // Three refusals in a row: retried with backoff, then the run reads everything.
    let flaky = FlakyProxy::start(server.port, 3);
    let out = run_through(&flaky, "10");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        flaky.failed.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "every refusal was met"
    );
    assert_eq!(
        local.table("2026-03-01", "data_quality", &["rows_read"]),
        vec!["1"]
    );

    // Without retries the first refusal fails the run, naming the location.
    let flaky = FlakyProxy::start(server.port, 3);
    let out = run_through(&flaky, "0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("s3://raw/cx"), "{stderr}");
    assert!(!stderr.contains("testing-secret"), "{stderr}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
