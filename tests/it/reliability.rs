//! What a nightly job must be able to rely on (issue #8): exact moments of
//! 64-bit integers, binary values that survive JSON and merge, profiles of
//! another format version refused everywhere, outputs replaced atomically
//! and temporary files removed on SIGINT, a closed pipe, a read that never
//! progresses, running out of memory. Corrupt-file reproducers are in
//! tests/it/fuzz.rs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::*;
use arrow::record_batch::RecordBatch;

use crate::common::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_skewer"))
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/train.parquet")
        .display()
        .to_string()
}

/// i64 near both ends and u64 near 2^63 and 2^64, with the exact mean of
/// each column: {c·k : k < 1000} shifted, whose population variance is
/// c²·(1000² − 1)/12 and excess kurtosis −1.2000024000024.
pub(crate) fn int_extremes() -> (RecordBatch, Vec<(&'static str, f64, f64)>) {
    // Twenty copies (the same moments): many GPU workgroups and CPU batches.
    let k = (0..20_000i64).map(|i| i % 1000);
    let batch = RecordBatch::try_from_iter(vec![
        (
            "top",
            Arc::new(Int64Array::from_iter_values(
                k.clone().map(|k| i64::MAX - k),
            )) as ArrayRef,
        ),
        (
            "bottom",
            Arc::new(Int64Array::from_iter_values(
                k.clone().map(|k| i64::MIN + 2 * k),
            )) as ArrayRef,
        ),
        (
            "u_mid",
            Arc::new(UInt64Array::from_iter_values(
                k.clone().map(|k| (1u64 << 63) + k as u64),
            )) as ArrayRef,
        ),
        (
            "u_top",
            Arc::new(UInt64Array::from_iter_values(
                k.map(|k| u64::MAX - 3 * k as u64),
            )) as ArrayRef,
        ),
    ])
    .unwrap();
    // (name, step c, the mean rounded to f64)
    let want = vec![
        ("top", 1.0, 9223372036854775807.0 - 499.5),
        ("bottom", 2.0, -9223372036854775808.0 + 999.0),
        ("u_mid", 1.0, 9223372036854775808.0 + 499.5),
        ("u_top", 3.0, 18446744073709551615.0 - 1498.5),
    ];
    (batch, want)
}

/// Checks a profile of [`int_extremes`] (on any backend).
pub(crate) fn assert_exact_int_moments(
    prof: &skewer::profile::DatasetProfile,
    want: &[(&str, f64, f64)],
) {
    for &(name, step, mean) in want {
        let n = feature(prof, name).numeric.as_ref().unwrap();
        let var = step * step * (1000.0 * 1000.0 - 1.0) / 12.0;
        let got = n.variance.unwrap();
        assert!(
            (got - var).abs() <= 1e-12 * var,
            "{name} on {}: variance {got}, exactly {var}",
            prof.backend.kind
        );
        assert_eq!(n.mean, Some(mean), "{name}: mean");
        assert!(n.skewness.unwrap().abs() < 1e-9, "{name}: skewness");
        assert!(
            (n.kurtosis.unwrap() - (-1.2000024000024)).abs() < 1e-9,
            "{name}: kurtosis {:?}",
            n.kurtosis
        );
    }
}

#[test]
fn moments_of_64_bit_integers_near_their_ends_are_exact() {
    let (batch, want) = int_extremes();
    let dir = tmp();
    let path = dir.path().join("big.parquet");
    write_parquet(&path, &[batch], parquet::basic::Compression::SNAPPY, 300);
    // Batches of 97 rows: the moments of many batches are merged.
    let (src, p) = opts(97, 1 << 20);
    assert_exact_int_moments(&profile_files(&[path], &src, &p).unwrap(), &want);
}

/// Seven distinct byte strings that are not UTF-8 (each would print as
/// U+FFFD): distinct after JSON and after a merge, with exact counts.
#[test]
fn binary_values_that_are_not_utf8_survive_json_and_merge() {
    let vals: Vec<&[u8]> = vec![
        b"\xff",
        b"\xfe",
        b"\xff\xfe",
        b"\xc3",
        b"\x80abc",
        b"ok\xff",
        b"\xed\xa0\x80",
    ];
    let col: BinaryArray = (0..70).map(|i| Some(vals[i % 7])).collect();
    let batch = RecordBatch::try_from_iter(vec![("bytes", Arc::new(col) as ArrayRef)]).unwrap();
    let dir = tmp();
    let data = dir.path().join("b.arrow");
    write_ipc_file(&data, &[batch]);
    let a = dir.path().join("a.json");
    let o = skewer(&["profile", data.to_str().unwrap(), "-o", a.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let m = dir.path().join("m.json");
    let o = skewer(&[
        "merge",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "-o",
        m.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (path, per_value) in [(&a, 10), (&m, 20)] {
        let p = skewer::read_profile(path).unwrap();
        let c = p.features[0].categorical.as_ref().unwrap();
        assert_eq!(c.unique, 7, "{}", path.display());
        assert!(c.unique_exact);
        assert_eq!(c.invalid_utf8, Some(if per_value == 10 { 70 } else { 140 }));
        let mut seen: Vec<Vec<u8>> = c
            .value_counts
            .iter()
            .map(|v| {
                assert_eq!(v.count, per_value, "{}: {v:?}", path.display());
                v.bytes().unwrap().into_owned()
            })
            .collect();
        seen.sort();
        let mut want: Vec<Vec<u8>> = vals.iter().map(|v| v.to_vec()).collect();
        want.sort();
        assert_eq!(seen, want, "{}", path.display());
    }
    // A profile compared with its merge of itself has not moved.
    let o = skewer(&[
        "compare",
        a.to_str().unwrap(),
        m.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["features"][0]["metrics"]["linf"], 0.0);
}

/// Every command refuses a profile of another format version (exit 2,
/// naming the file), and a profile with malformed `value_hex`.
#[test]
fn every_command_checks_the_profile_format_version() {
    let dir = tmp();
    let good = dir.path().join("good.json");
    let o = skewer(&["profile", &example(), "-o", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&good).unwrap();
    let schema = dir.path().join("schema.json");
    let o = skewer(&[
        "schema",
        "infer",
        good.to_str().unwrap(),
        "-o",
        schema.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    for v in ["0", "2", "999"] {
        let bad = dir.path().join(format!("v{v}.json"));
        std::fs::write(
            &bad,
            text.replacen(
                "\"format_version\": 1",
                &format!("\"format_version\": {v}"),
                1,
            ),
        )
        .unwrap();
        let b = bad.to_str().unwrap();
        let g = good.to_str().unwrap();
        let s = schema.to_str().unwrap();
        for args in [
            vec!["merge", g, b],
            vec!["compare", g, b],
            vec!["compare", b, g],
            vec!["schema", "infer", b],
            vec!["validate", b, "--schema", s],
            vec!["validate", g, "--schema", s, "--previous", b],
            vec!["validate", g, "--schema", s, "--training", b],
        ] {
            fails_with(
                &args,
                &[&format!("format_version {v}"), &format!("v{v}.json")],
            );
        }
    }
    let hex = dir.path().join("hex.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cat = v["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["categorical"].is_object())
        .unwrap();
    cat["categorical"]["value_counts"][0]["value_hex"] = "zz".into();
    std::fs::write(&hex, serde_json::to_string(&v).unwrap()).unwrap();
    fails_with(
        &["compare", good.to_str().unwrap(), hex.to_str().unwrap()],
        &["hex.json", "value_hex"],
    );
}

/// `skewer … | head`: the reader goes away; skewer ends quietly, no panic.
#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    for args in [
        vec!["profile".to_string(), example()],
        vec!["compare".into(), example(), example(), "--json".into()],
    ] {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before skewer writes a byte: its first write
        // fails with EPIPE (where println! used to panic).
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}

/// A file whose reads never progress (a FIFO whose writer stalls after the
/// header) stops the run at --stall-timeout with exit 2 naming it.
#[test]
fn a_read_that_never_progresses_is_stopped_by_the_watchdog() {
    let dir = tmp();
    let fifo = dir.path().join("stuck.csv");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain mkfifo(3) call on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        // Open (this waits for skewer to open its end), write a header and
        // a row, then hold the pipe open without writing.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .unwrap();
        let _ = f.write_all(b"a,b\n1,2\n");
        std::thread::sleep(Duration::from_secs(5));
    });
    let t0 = Instant::now();
    let o = skewer(&["profile", fifo.to_str().unwrap(), "--stall-timeout", "2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stuck.csv") && err.contains("no progress"),
        "{err}"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(7),
        "took {:?}",
        t0.elapsed()
    );
    writer.join().unwrap();
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.contains("skewer-tmp") || n.starts_with("skewer-stdin")
        })
        .collect()
}

/// SIGINT at random moments of `profile - -o existing.json` (stdin spooled
/// to a temporary file): the existing profile is intact or wholly replaced,
/// and no temporary file is left, in the output's folder or TMPDIR.
#[test]
fn sigint_leaves_the_old_output_or_the_new_one_and_no_temporary_files() {
    let dir = tmp();
    let tmpdir = dir.path().join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    // A CSV big enough that the run takes a while (about 200k rows).
    let csv = dir.path().join("data.csv");
    let mut rng = Rng::new(8);
    let mut text = String::from("x,y,s\n");
    for i in 0..200_000 {
        text += &format!("{},{},v{}\n", rng.normal(), i % 977, rng.below(300));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("existing.json");
    let old = "{\"old\": true}\n";
    let mut replaced = 0;
    for attempt in 0..12u64 {
        std::fs::write(&out, old).unwrap();
        let mut child = bin()
            .args(["profile", "-", "-o", out.to_str().unwrap(), "--quiet"])
            .env("TMPDIR", &tmpdir)
            .stdin(std::fs::File::open(&csv).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Once the spool of stdin exists the handler is installed (it comes
        // first in main); then interrupt at a different moment each time.
        let t0 = Instant::now();
        while std::fs::read_dir(&tmpdir).unwrap().next().is_none()
            && t0.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(attempt * 40));
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let status = child.wait().unwrap();
        let now = std::fs::read_to_string(&out).unwrap();
        if now != old {
            let p: serde_json::Value = serde_json::from_str(&now)
                .unwrap_or_else(|e| panic!("attempt {attempt}: a partial output ({e})"));
            assert_eq!(p["num_rows"], 200_000, "attempt {attempt}");
            replaced += 1;
        } else {
            assert_eq!(status.code(), Some(130), "attempt {attempt}: {status:?}");
        }
        assert!(
            temp_files(dir.path()).is_empty(),
            "attempt {attempt}: {:?}",
            temp_files(dir.path())
        );
        assert!(
            temp_files(&tmpdir).is_empty(),
            "attempt {attempt}: {:?}",
            temp_files(&tmpdir)
        );
    }
    // Some attempts must have been interrupted mid-run for this to test anything.
    assert!(replaced < 12, "every run finished before its SIGINT");
}

/// Out of memory under an address-space limit is exit 2 with a message
/// and the way out, never an abort; at limits where the run gets as far as
/// reading, the message names the file. Several limits, since how far a
/// run gets before memory runs out depends on the build and the machine.
/// A limit under which the binary cannot even be loaded (the kernel kills
/// it at exec, or the loader cannot map libc: a debug build with the
/// object stores' clients maps about 50 MiB) tests nothing of skewer's and
/// is skipped.
#[test]
fn out_of_memory_is_an_error_naming_the_file() {
    use std::os::unix::process::CommandExt;
    let limited = |args: &[&str], mib: u64| {
        let mut cmd = bin();
        cmd.args(args);
        // SAFETY: setrlimit(2) in the child before exec; nothing allocates.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: mib << 20,
                    rlim_max: mib << 20,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.output().unwrap()
    };
    let mut named = 0;
    for mib in [40u64, 52, 64, 80, 96, 128] {
        // Killed at exec, or the loader cannot map the libraries (exit
        // 127): skewer never ran.
        if !limited(&["--version"], mib).status.success() {
            eprintln!("{mib} MiB: skewer cannot be loaded under this limit; skipped");
            continue;
        }
        let o = limited(
            &["profile", &example(), "--backend", "cpu", "--threads", "2"],
            mib,
        );
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0) => {}
            Some(2) => {
                // The way out in the command line's terms, or, where memory
                // ran out before main() set those (in the runtime's start),
                // in the library's words.
                assert!(
                    err.contains("out of memory")
                        && (err.contains("--memory-budget")
                            || err.contains("lower the memory kept between passes")),
                    "{mib} MiB: {err}"
                );
                named += err.contains("train.parquet") as usize;
            }
            // The loader's own failure, before skewer ran (the limit is
            // at the edge of what loading takes).
            Some(127) => eprintln!("{mib} MiB: the loader failed ({err}); skipped"),
            other => panic!("{mib} MiB: exit {other:?}: {err}"),
        }
    }
    assert!(
        named > 0,
        "no limit ran out of memory while reading the file"
    );
}

/// Two columns of one name (a corrupt or hand-made file) would be compared
/// with each other by compare and validate: an error instead, for data and
/// for profiles. (Found by the fuzzer: a mutated IPC file "drifted" from
/// itself.)
#[test]
fn duplicate_column_names_are_an_error() {
    let dir = tmp();
    let a: ArrayRef = Arc::new(Int64Array::from_iter_values(0..10));
    let b: ArrayRef = Arc::new(Int64Array::from_iter_values(100..110));
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("x", arrow::datatypes::DataType::Int64, false),
        arrow::datatypes::Field::new("x", arrow::datatypes::DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(schema, vec![a, b]).unwrap();
    let data = dir.path().join("dup.arrow");
    write_ipc_file(&data, &[batch]);
    fails_with(
        &["profile", data.to_str().unwrap()],
        &["dup.arrow", "two columns are named \"x\""],
    );

    let good = dir.path().join("p.json");
    let o = skewer(&["profile", &example(), "-o", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    let first = v["features"][0].clone();
    v["features"].as_array_mut().unwrap().push(first);
    let bad = dir.path().join("dup.json");
    std::fs::write(&bad, serde_json::to_string(&v).unwrap()).unwrap();
    fails_with(
        &["compare", good.to_str().unwrap(), bad.to_str().unwrap()],
        &["dup.json", "listed twice"],
    );
}

/// A footer whose unknown field is a list of 2^31 booleans made the parquet
/// crate's skip loop for minutes (20 such fields: 82 s on this machine);
/// the footer walk refuses it at once.
#[test]
fn a_footer_that_makes_the_parser_spin_is_refused_at_once() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/parquet/thrift-skip-of-2e31-booleans-spins");
    let t0 = Instant::now();
    fails_with(
        &["profile", f.to_str().unwrap(), "--format", "parquet"],
        &[
            "thrift-skip-of-2e31-booleans-spins",
            "claims a list of 2147483647 elements",
        ],
    );
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

/// A page header whose value count is absurd makes the parquet crate ask
/// for 6.3·10^18 bytes (found by the fuzzer). In-process that aborts, so
/// the binary's allocator turns it into exit 2 naming the file and column,
/// and calls the file corrupt rather than asking for more memory.
#[test]
fn an_absurd_allocation_from_a_corrupt_page_is_an_error() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/absurd-page-allocation.parquet");
    fails_with(
        &["profile", f.to_str().unwrap(), "--backend", "cpu"],
        &[
            "absurd-page-allocation.parquet",
            "column \"s\"",
            "probably corrupt",
        ],
    );
}
