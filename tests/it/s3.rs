//! Inputs on an object store (issue #15), against a real S3-compatible
//! server: moto's, from the Python of `$SKEWER_PYTHON` (`pip install
//! 'moto[server]'`), started on a free localhost port for each test and
//! stopped when the test ends. Without it the tests skip with a notice,
//! unless SKEWER_REQUIRE_S3=1 (as in CI), where they fail.
//!
//! Every request goes to 127.0.0.1: the tests always give credentials (so
//! that no store looks for an instance's metadata service) and an endpoint,
//! and no process they start (skewer, boto3, moto) inherits the
//! environment's cloud settings (`AWS_*`, `GOOGLE_*`, `AZURE_*`) or proxies
//! ([`local_only`]); the in-process listings get settings that override
//! them ([`settings_in_process`]).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::*;
use arrow::record_batch::RecordBatch;

use crate::common::*;

const BUCKET: &str = "skewer-test";

fn python() -> String {
    std::env::var("SKEWER_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The environment's proxy variables.
const PROXIES: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// `cmd` without the environment's cloud settings and proxies: whatever
/// it asks, it asks 127.0.0.1 (a metadata service included).
fn local_only(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        if k.starts_with("AWS_")
            || k.starts_with("GOOGLE_")
            || k.starts_with("AZURE_")
            || PROXIES.contains(&k)
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        // object_store's AWS_METADATA_ENDPOINT (aws_metadata_endpoint);
        // boto3's own name for the same.
        .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // No ~/.aws profile for boto3.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

/// Whether moto and boto3 can be imported; else a notice (or a failure
/// under SKEWER_REQUIRE_S3=1).
fn moto_available(test: &str) -> bool {
    python_required(
        "moto.server, boto3",
        &format!("s3::{test}"),
        "SKEWER_REQUIRE_S3",
    )
    .is_some()
}

/// A moto server on 127.0.0.1, stopped on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Start one; `env` for the server (e.g. INITIAL_NO_AUTH_ACTION_COUNT).
    /// A port that another test took between [`free_port`] and the
    /// server's start makes it exit: then another port is tried.
    fn start(env: &[(&str, &str)]) -> Moto {
        for _ in 0..4 {
            if let Some(m) = Moto::start_on(free_port(), env) {
                return m;
            }
        }
        Moto::start_on(free_port(), env).expect("moto's server exited at start on five ports")
    }

    fn start_on(port: u16, env: &[(&str, &str)]) -> Option<Moto> {
        let py = python();
        // moto_server beside the interpreter (a venv's bin), else the module.
        let beside = Path::new(&py).with_file_name("moto_server");
        let mut cmd = if beside.is_file() {
            Command::new(beside)
        } else {
            let mut c = Command::new(&py);
            c.args(["-m", "moto.server"]);
            c
        };
        local_only(&mut cmd)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("start moto's server");
        let mut moto = Moto { child, port };
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let req = "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
                let mut head = [0u8; 12];
                if s.write_all(req.as_bytes()).is_ok()
                    && s.read_exact(&mut head).is_ok()
                    && head.starts_with(b"HTTP/1.")
                {
                    return Some(moto);
                }
            }
            if let Ok(Some(st)) = moto.child.try_wait() {
                eprintln!("moto's server exited at start on port {port}: {st}");
                return None;
            }
            assert!(
                Instant::now() < until,
                "moto's server did not answer in 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Create the bucket and upload `objects` (key, local file) with boto3.
    fn put(&self, objects: &[(&str, &Path)]) {
        put_objects(&self.endpoint(), objects)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const PUT: &str = r#"
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="testing",
                  aws_secret_access_key="testing", region_name="us-east-1")
try:
    s3.create_bucket(Bucket=sys.argv[2])
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
pairs = sys.argv[3:]
for key, path in zip(pairs[::2], pairs[1::2]):
    s3.upload_file(path, sys.argv[2], key)
"#;

fn put_objects(endpoint: &str, objects: &[(&str, &Path)]) {
    let mut args = vec![
        "-c".to_string(),
        PUT.to_string(),
        endpoint.to_string(),
        BUCKET.to_string(),
    ];
    for (k, p) in objects {
        args.extend([k.to_string(), p.display().to_string()]);
    }
    let o = local_only(&mut Command::new(python()))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "boto3 upload failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The settings of a store at `endpoint`, as the environment gives them.
fn settings(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_ALLOW_HTTP", "true".into()),
    ]
}

/// [`settings`] for a store made in this process (`list_with`), which
/// sees this process's environment: they override what in it could send a
/// request elsewhere (a proxy, an S3 endpoint, virtual-hosted buckets, a
/// metadata service).
fn settings_in_process(endpoint: &str) -> Vec<(&'static str, String)> {
    let mut s = settings(endpoint);
    s.extend([
        ("AWS_ENDPOINT_URL_S3", endpoint.to_string()),
        ("AWS_SESSION_TOKEN", String::new()),
        ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false".into()),
        ("AWS_S3_EXPRESS", "false".into()),
        ("AWS_SKIP_SIGNATURE", "false".into()),
        ("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1".into()),
        // An explicit proxy replaces the environment's (reqwest), and
        // 127.0.0.1 is excluded from it: requests go straight there.
        ("AWS_PROXY_URL", "http://127.0.0.1:1".into()),
        ("AWS_PROXY_EXCLUDES", "127.0.0.1,localhost".into()),
    ]);
    s
}

/// `skewer ARGS` against the store at `endpoint`, ended if it runs past
/// `limit` (a hang fails the test instead of stopping the suite).
fn skewer_at(endpoint: &str, args: &[&str], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skewer"));
    local_only(&mut cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in settings(endpoint) {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run skewer");
    let until = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "skewer {args:?} did not end within {limit:?}: {}",
                stderr(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn run_ok(endpoint: &str, args: &[&str]) -> Output {
    let o = skewer_at(endpoint, args, Duration::from_secs(300));
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{args:?}: {}",
        stderr(&o)
    );
    o
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A JSON output without what names the inputs (they differ by design).
fn without_names(path: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for k in [
                    "sources",
                    "source",
                    "base_sources",
                    "current_sources",
                    "path",
                ] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    strip(&mut v);
    v
}

/// Numbers, strings and nulls over `n` rows, seeded.
fn table(seed: u64, n: usize) -> RecordBatch {
    let mut rng = Rng::new(seed);
    RecordBatch::try_from_iter(vec![
        ("x", Arc::new(awkward_f64(&mut rng, n, 0.05)) as ArrayRef),
        ("k", Arc::new(awkward_i64(&mut rng, n, 0.05)) as ArrayRef),
        ("s", Arc::new(strings(&mut rng, n, 40, 0.05)) as ArrayRef),
        (
            "y",
            Arc::new(Float64Array::from_iter_values((0..n).map(|_| rng.normal()))) as ArrayRef,
        ),
    ])
    .unwrap()
}

#[test]
fn a_profile_of_an_object_equals_the_profile_of_the_file() {
    if !moto_available("a_profile_of_an_object_equals_the_profile_of_the_file") {
        return;
    }
    let dir = tmp();
    let csv = dir.path().join("t.csv");
    write_csv(&csv, &[table(7, 5000)]);
    let ipc = dir.path().join("t.arrow");
    write_ipc_file(&ipc, &[table(8, 3000)]);
    let moto = Moto::start(&[]);
    let train = example("train.parquet");
    moto.put(&[
        ("train.parquet", &train),
        ("data/t.csv", &csv),
        ("t.arrow", &ipc),
    ]);
    let ep = moto.endpoint();
    for (local, url) in [
        (train.clone(), format!("s3://{BUCKET}/train.parquet")),
        (csv.clone(), format!("s3://{BUCKET}/data/t.csv")),
        (ipc.clone(), format!("s3://{BUCKET}/t.arrow")),
    ] {
        let a = dir.path().join("remote.json");
        let b = dir.path().join("local.json");
        run_ok(&ep, &["profile", &url, "-o", a.to_str().unwrap()]);
        run_ok(
            &ep,
            &[
                "profile",
                local.to_str().unwrap(),
                "-o",
                b.to_str().unwrap(),
            ],
        );
        let remote: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&a).unwrap()).unwrap();
        assert_eq!(remote["sources"][0], url.as_str(), "{url}");
        assert_eq!(without_names(&a), without_names(&b), "{url}");
    }
    // compare with one side on the store: the same comparison, the same
    // exit code.
    let a = dir.path().join("cmp-remote.json");
    let b = dir.path().join("cmp-local.json");
    let serve = example("serve.parquet");
    let url = format!("s3://{BUCKET}/train.parquet");
    let r = run_ok(
        &ep,
        &[
            "compare",
            &url,
            serve.to_str().unwrap(),
            "-o",
            a.to_str().unwrap(),
        ],
    );
    let l = run_ok(
        &ep,
        &[
            "compare",
            train.to_str().unwrap(),
            serve.to_str().unwrap(),
            "-o",
            b.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), l.status.code());
    assert_eq!(without_names(&a), without_names(&b));
}

#[test]
fn a_missing_object_and_a_denied_request_are_errors_naming_the_url() {
    if !moto_available("a_missing_object_and_a_denied_request_are_errors_naming_the_url") {
        return;
    }
    let moto = Moto::start(&[]);
    moto.put(&[("train.parquet", &example("train.parquet"))]);
    let ep = moto.endpoint();
    let limit = Duration::from_secs(120);
    for url in [
        format!("s3://{BUCKET}/nope.parquet"),
        "s3://no-such-bucket/train.parquet".to_string(),
    ] {
        let o = skewer_at(&ep, &["profile", &url], limit);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&url) && err.contains("does not exist"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // A URL that is not one: exit 2, named.
    let o = skewer_at(&ep, &["profile", "s3:///x.parquet"], limit);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("s3:///x.parquet"), "{}", stderr(&o));

    // A server that checks credentials (moto with IAM authentication from
    // the first request), asked with credentials it does not know.
    let strict = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let url = format!("s3://{BUCKET}/train.parquet");
    let o = skewer_at(&strict.endpoint(), &["profile", &url], limit);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&url) && err.contains("access denied"), "{err}");
}

/// A TCP proxy in front of a server that counts the bytes the server sends
/// and, with a limit, closes each connection once it has passed that many.
struct Proxy {
    port: u16,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: u16, limit: Option<u64>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (sent2, stop2) = (sent.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let sent = sent2.clone();
                std::thread::spawn(move || relay(client, server, limit, &sent));
            }
        });
        Proxy { port, sent, stop }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copy both ways until either side closes; server-to-client bytes are
/// counted and, past `limit`, both connections are closed.
fn relay(client: TcpStream, server: TcpStream, limit: Option<u64>, sent: &AtomicU64) {
    let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_in, &mut s_out);
        let _ = s_out.shutdown(Shutdown::Write);
    });
    let (mut s_in, mut c_out) = (server, client);
    let mut buf = [0u8; 16 << 10];
    let mut passed = 0u64;
    loop {
        let n = match s_in.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let n = match limit {
            Some(l) => n.min((l - passed) as usize),
            None => n,
        };
        if c_out.write_all(&buf[..n]).is_err() {
            break;
        }
        passed += n as u64;
        sent.fetch_add(n as u64, Ordering::SeqCst);
        if limit.is_some_and(|l| passed >= l) {
            break;
        }
    }
    let _ = c_out.shutdown(Shutdown::Both);
    let _ = s_in.shutdown(Shutdown::Both);
    let _ = up.join();
}

#[test]
fn a_connection_lost_mid_read_is_an_error_in_bounded_time() {
    if !moto_available("a_connection_lost_mid_read_is_an_error_in_bounded_time") {
        return;
    }
    let dir = tmp();
    // About 10 MB: more than one block, far more than the proxy lets pass
    // on a connection.
    let csv = dir.path().join("big.csv");
    write_csv(&csv, &[table(3, 120_000)]);
    let moto = Moto::start(&[]);
    moto.put(&[("big.csv", &csv)]);
    // Each connection is closed after 300 KB from the server: the HEAD
    // passes, a block's body is cut.
    let proxy = Proxy::start(moto.port, Some(300_000));
    let url = format!("s3://{BUCKET}/big.csv");
    let started = Instant::now();
    // Bounded: the retries stop 30 s after a request's first attempt; the
    // limit here only keeps a hang from stopping the suite.
    let o = skewer_at(
        &proxy.endpoint(),
        &["profile", &url],
        Duration::from_secs(240),
    );
    let took = started.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("connection"), "{err}");
    eprintln!(
        "connection cut: failed after {:.1} s, {} bytes through the proxy: {err}",
        took.as_secs_f64(),
        proxy.sent()
    );
    // The retries' bound (30 s per request) and a few requests, not the
    // 240 s that only stop a hang.
    assert!(
        took < Duration::from_secs(100),
        "the lost connection was reported after {took:?}"
    );
}

#[test]
fn parquet_is_read_with_ranges_of_the_needed_columns_only() {
    if !moto_available("parquet_is_read_with_ranges_of_the_needed_columns_only") {
        return;
    }
    let dir = tmp();
    let path = dir.path().join("wide.parquet");
    // Four columns of 400k doubles (no compression): about 3.2 MB each.
    let mut rng = Rng::new(11);
    let n = 400_000;
    let cols: Vec<(String, ArrayRef)> = (0..4)
        .map(|c| {
            (
                format!("c{c}"),
                Arc::new(Float64Array::from_iter_values((0..n).map(|_| rng.normal()))) as ArrayRef,
            )
        })
        .collect();
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    write_parquet(
        &path,
        &[batch],
        parquet::basic::Compression::UNCOMPRESSED,
        100_000,
    );
    let size = std::fs::metadata(&path).unwrap().len();
    let moto = Moto::start(&[]);
    moto.put(&[("wide.parquet", &path)]);
    let url = format!("s3://{BUCKET}/wide.parquet");

    let one = Proxy::start(moto.port, None);
    let out = dir.path().join("one.json");
    run_ok(
        &one.endpoint(),
        &[
            "profile",
            &url,
            "--columns",
            "c2",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let all = Proxy::start(moto.port, None);
    let out_all = dir.path().join("all.json");
    run_ok(
        &all.endpoint(),
        &["profile", &url, "-o", out_all.to_str().unwrap()],
    );
    let (one, all) = (one.sent(), all.sent());
    eprintln!("object {size} bytes; read for one column of four: {one}; for all: {all}");
    // One column of four: its chunks, the footer and the HTTP headers.
    assert!(one < size / 3, "one column read {one} bytes of {size}");
    assert!(one > size / 5, "one column read only {one} bytes of {size}");
    // Every column: the object about once (twice would mean blocks read again).
    assert!(
        all >= size && all < size + size / 4,
        "all columns read {all} bytes of {size}"
    );
    // And the profile of the one column is the local file's.
    let local = dir.path().join("local.json");
    run_ok(
        &moto.endpoint(),
        &[
            "profile",
            path.to_str().unwrap(),
            "--columns",
            "c2",
            "-o",
            local.to_str().unwrap(),
        ],
    );
    assert_eq!(without_names(&out), without_names(&local));
}

#[test]
fn a_prefix_lists_its_objects_sorted() {
    if !moto_available("a_prefix_lists_its_objects_sorted") {
        return;
    }
    let dir = tmp();
    let f = dir.path().join("f.csv");
    std::fs::write(&f, "a\n1\n").unwrap();
    let moto = Moto::start(&[]);
    moto.put(&[
        ("dir/b.csv", &f),
        ("dir/a.csv", &f),
        ("dir/sub/c.csv", &f),
        ("dirt/x.csv", &f),
        ("other/y.csv", &f),
    ]);
    let ep = moto.endpoint();
    let s = settings_in_process(&ep);
    let s: Vec<(&str, &str)> = s.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let list = |u: &str| skewer::source::remote::list_with(u, &s).unwrap();
    let want = [
        format!("s3://{BUCKET}/dir/a.csv"),
        format!("s3://{BUCKET}/dir/b.csv"),
        format!("s3://{BUCKET}/dir/sub/c.csv"),
    ];
    assert_eq!(list(&format!("s3://{BUCKET}/dir/")), want);
    assert_eq!(list(&format!("s3://{BUCKET}/dir")), want);
    assert_eq!(list(&format!("s3://{BUCKET}/")).len(), 5);
    assert!(list(&format!("s3://{BUCKET}/none/")).is_empty());
    // A listed URL reads as an input.
    let o = run_ok(&ep, &["profile", &want[2]]);
    assert_eq!(o.status.code(), Some(0));
}

/// A prefix is a folder: read recursively (markers left out), its Hive
/// `key=value` folders as columns, or through a glob; the profile is the
/// local folder's.
#[test]
fn a_prefix_or_a_glob_on_the_store_is_a_dataset_with_hive_keys() {
    if !moto_available("a_prefix_or_a_glob_on_the_store_is_a_dataset_with_hive_keys") {
        return;
    }
    let dir = tmp();
    let root = dir.path().join("table");
    let mut objects = Vec::new();
    for day in 1..=3u64 {
        let d = root.join(format!("day={day}"));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("part-0.parquet");
        write_parquet(
            &f,
            &[table(day, 700 + 100 * day as usize)],
            parquet::basic::Compression::SNAPPY,
            256,
        );
        objects.push((format!("table/day={day}/part-0.parquet"), f));
    }
    let marker = root.join("_SUCCESS");
    std::fs::write(&marker, b"").unwrap();
    objects.push(("table/_SUCCESS".into(), marker));
    let moto = Moto::start(&[]);
    let pairs: Vec<(&str, &Path)> = objects
        .iter()
        .map(|(k, p)| (k.as_str(), p.as_path()))
        .collect();
    moto.put(&pairs);
    let ep = moto.endpoint();
    let local = dir.path().join("local.json");
    run_ok(
        &ep,
        &[
            "profile",
            root.to_str().unwrap(),
            "-o",
            local.to_str().unwrap(),
        ],
    );
    let want = without_names(&local);
    assert!(want["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "day"));
    for url in [
        format!("s3://{BUCKET}/table/"),
        format!("s3://{BUCKET}/table"),
        format!("s3://{BUCKET}/table/day=*/*.parquet"),
    ] {
        let out = dir.path().join("remote.json");
        run_ok(&ep, &["profile", &url, "-o", out.to_str().unwrap()]);
        let got: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(got["sources"].as_array().unwrap().len(), 3, "{url}");
        assert_eq!(without_names(&out), want, "{url}");
    }
    let o = skewer_at(
        &ep,
        &["profile", &format!("s3://{BUCKET}/table/day=9*/*.parquet")],
        Duration::from_secs(120),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no data files match"), "{}", stderr(&o));
}

/// Keys with characters a URL escapes: a Hive-escaped value (`%3A`), a
/// space, `#` and `?`. Listed, each URL opens the listed key (not a 404,
/// not another object), and the prefix profiles as a dataset.
#[test]
fn listed_keys_with_escapes_open_the_same_objects() {
    if !moto_available("listed_keys_with_escapes_open_the_same_objects") {
        return;
    }
    let dir = tmp();
    let mut objects = Vec::new();
    for (i, key) in [
        "esc/ts=2024-01-01 10%3A00/part.parquet",
        "esc/ts=2024-01-02 10%3A00/part.parquet",
    ]
    .into_iter()
    .enumerate()
    {
        let f = dir.path().join(format!("{i}.parquet"));
        write_parquet(
            &f,
            &[table(20 + i as u64, 300 + 50 * i)],
            parquet::basic::Compression::SNAPPY,
            128,
        );
        objects.push((key.to_string(), f));
    }
    let odd = dir.path().join("odd.csv");
    std::fs::write(&odd, "a\n1\n2\n3\n").unwrap();
    objects.push(("odd/a b#c?.csv".into(), odd));
    // A decoy at the key a dropped `#…`/`?…` would read.
    let decoy = dir.path().join("decoy.csv");
    std::fs::write(&decoy, "zzz\nq\n").unwrap();
    objects.push(("odd/a b".into(), decoy));
    let moto = Moto::start(&[]);
    let pairs: Vec<(&str, &Path)> = objects
        .iter()
        .map(|(k, p)| (k.as_str(), p.as_path()))
        .collect();
    moto.put(&pairs);
    let ep = moto.endpoint();
    let s = settings_in_process(&ep);
    let s: Vec<(&str, &str)> = s.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let list = |u: &str| skewer::source::remote::list_with(u, &s).unwrap();
    let esc = list(&format!("s3://{BUCKET}/esc/"));
    assert_eq!(
        esc,
        [
            format!("s3://{BUCKET}/esc/ts=2024-01-01%2010%253A00/part.parquet"),
            format!("s3://{BUCKET}/esc/ts=2024-01-02%2010%253A00/part.parquet"),
        ]
    );
    for (url, (_, local)) in esc.iter().zip(&objects) {
        let got = dir.path().join("got.json");
        let want = dir.path().join("want.json");
        run_ok(&ep, &["profile", url, "-o", got.to_str().unwrap()]);
        run_ok(
            &ep,
            &[
                "profile",
                local.to_str().unwrap(),
                "-o",
                want.to_str().unwrap(),
            ],
        );
        assert_eq!(without_names(&got), without_names(&want), "{url}");
    }
    let odd = list(&format!("s3://{BUCKET}/odd/"));
    let want_odd = format!("s3://{BUCKET}/odd/a%20b%23c%3F.csv");
    assert!(odd.contains(&want_odd), "{odd:?}");
    let out = dir.path().join("odd.json");
    run_ok(&ep, &["profile", &want_odd, "-o", out.to_str().unwrap()]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("\"a\""), "{text}");
    assert!(!text.contains("zzz"), "{text}");
    // The prefix as a dataset: both objects read.
    let all = dir.path().join("all.json");
    run_ok(
        &ep,
        &[
            "profile",
            &format!("s3://{BUCKET}/esc/"),
            "-o",
            all.to_str().unwrap(),
        ],
    );
    let got: serde_json::Value = serde_json::from_slice(&std::fs::read(&all).unwrap()).unwrap();
    assert_eq!(got["sources"].as_array().unwrap().len(), 2, "{got}");
    // The Hive key's values as a local folder gives them: the URL's
    // escapes and then Hive's undone.
    let ts = got["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ts")
        .unwrap_or_else(|| panic!("no ts column: {got}"));
    let values: Vec<&str> = ts["categorical"]["top_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["2024-01-02 10:00", "2024-01-01 10:00"], "{ts}");
}
