//! The `skewer` binary: exit codes, messages that name the file, column and
//! problem, determinism, stdin, and the merge command. Never a panic.

use std::path::Path;
use std::process::{Command, Stdio};

use skewer::source::Format;

use crate::common::*;

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/train.parquet")
        .display()
        .to_string()
}

#[test]
fn profile_prints_a_summary_and_writes_json() {
    let o = skewer(&["profile", &example()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for col in ["f_normal", "i_id", "s_dict", "b_flag", "median"] {
        assert!(out.contains(col), "summary lacks {col}:\n{out}");
    }
    let dir = tmp();
    let json = dir.path().join("p.json");
    let o = skewer(&[
        "profile",
        &example(),
        "-o",
        json.to_str().unwrap(),
        "--columns",
        "i_id,s_low",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["features"].as_array().unwrap().len(), 2);
    // int64 statistics are exact JSON integers.
    assert!(
        v["features"][0]["numeric"]["max"].is_u64() || v["features"][0]["numeric"]["max"].is_i64()
    );
}

#[test]
fn output_is_deterministic_across_thread_counts() {
    let dir = tmp();
    let batch = all_types_batch(5, 20_000);
    let data = dir.path().join("d.parquet");
    write_parquet(&data, &[batch], parquet::basic::Compression::SNAPPY, 3000);
    let mut outs = Vec::new();
    for (threads, budget) in [("1", "1GiB"), ("3", "1GiB"), ("2", "0")] {
        let out = dir.path().join(format!("p{threads}.json"));
        let o = Command::new(env!("CARGO_BIN_EXE_skewer"))
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "profile",
                data.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--memory-budget",
                budget,
                "--batch-size",
                "1000",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        outs.push(std::fs::read(&out).unwrap());
    }
    assert!(
        outs[0] == outs[1] && outs[1] == outs[2],
        "profiles differ between runs"
    );
}

#[test]
fn bad_inputs_fail_clearly() {
    let dir = tmp();
    let d = |name: &str| dir.path().join(name).display().to_string();
    fails_with(
        &["profile", &d("missing.parquet")],
        &["missing.parquet", "No such file"],
    );
    // Truncated Parquet.
    let full = std::fs::read(example()).unwrap();
    std::fs::write(d("trunc.parquet"), &full[..full.len() / 2]).unwrap();
    fails_with(
        &["profile", &d("trunc.parquet")],
        &["trunc.parquet", "Parquet"],
    );
    std::fs::write(d("garbage.parquet"), b"not a parquet file at all, really").unwrap();
    fails_with(&["profile", &d("garbage.parquet")], &["garbage.parquet"]);
    // Corrupt page data inside an intact footer.
    let mut bad = full.clone();
    for b in bad[100..full.len() / 3].iter_mut() {
        *b ^= 0x5a;
    }
    std::fs::write(d("corrupt.parquet"), &bad).unwrap();
    fails_with(&["profile", &d("corrupt.parquet")], &["corrupt.parquet"]);
    // A CSV row with the wrong number of fields names its line.
    std::fs::write(d("rows.csv"), "a,b\n1,2\n3,4\n5,6,7\n").unwrap();
    fails_with(&["profile", &d("rows.csv")], &["rows.csv", "line"]);
    // A value that does not parse as the stated type.
    std::fs::write(d("types.csv"), "a,b\n1,2\nx,4\n").unwrap();
    fails_with(
        &["profile", &d("types.csv"), "--type", "a=int64"],
        &[
            "types.csv",
            "column \"a\", line 3: 'x' is not a valid Int64",
        ],
    );
    fails_with(
        &["profile", &example(), "--columns", "f_normal,nope"],
        &["train.parquet", "\"nope\"", "f_normal"],
    );
    std::fs::write(d("empty.csv"), "").unwrap();
    fails_with(&["profile", &d("empty.csv")], &["empty.csv", "no columns"]);
    // Two files that disagree on a column.
    std::fs::write(d("x1.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(d("x2.csv"), "a,c\n1,2\n").unwrap();
    fails_with(
        &["profile", &d("x1.csv"), &d("x2.csv")],
        &["x2.csv", "\"b\""],
    );
    fails_with(&["profile", &d("data.xyz")], &["data.xyz", "--format"]);
    fails_with(&["profile", &example(), "--quantiles", "1.5"], &["1.5"]);
    fails_with(&["merge", &d("missing.json")], &["missing.json"]);
    std::fs::write(d("notprofile.json"), "{\"a\": 1}").unwrap();
    fails_with(
        &["merge", &d("notprofile.json")],
        &["notprofile.json", "not a skewer profile"],
    );
}

#[test]
fn stdin_and_merge_commands() {
    let dir = tmp();
    let csv = "x,y\n1,a\n2,b\n3,a\n,c\n";
    let out = dir.path().join("stdin.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_skewer"))
        .args(["profile", "-", "-o", out.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), csv.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p = skewer::read_profile(&out).unwrap();
    assert_eq!(p.num_rows, 4);
    assert_eq!(p.features[0].missing, 1);

    // Shards profiled apart and merged give the counts of the whole.
    let mut jsons = Vec::new();
    for k in 0..2 {
        let f = dir.path().join(format!("s{k}.csv"));
        std::fs::write(&f, format!("x,y\n{k},a\n{},b\n", k + 10)).unwrap();
        let j = dir.path().join(format!("s{k}.json"));
        let o = skewer(&["profile", f.to_str().unwrap(), "-o", j.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        jsons.push(j.display().to_string());
    }
    let merged = dir.path().join("all.json");
    let o = skewer(&[
        "merge",
        &jsons[0],
        &jsons[1],
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p = skewer::read_profile(&merged).unwrap();
    assert_eq!(p.num_rows, 4);
    assert_eq!(p.sources.len(), 2);
    let y = p.features[1].categorical.as_ref().unwrap();
    assert_eq!(
        (
            y.unique,
            y.top_values[0].value.as_str(),
            y.top_values[0].count
        ),
        (2, "a", 2)
    );
}

#[test]
fn bench_and_devices_commands() {
    let o = skewer(&["bench", "--synthetic", "5000", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.iter().any(|r| r["backend"] == "cpu"));
    for r in rows {
        assert_eq!(r["rows"], 5000, "{r}");
        assert!(r["seconds"].as_f64().unwrap() > 0.0);
    }
    if std::env::var("SKEWER_REQUIRE_GPU").as_deref() == Ok("1") {
        assert!(
            rows.iter().any(|r| r["backend"] == "gpu"),
            "no GPU row with SKEWER_REQUIRE_GPU=1"
        );
    }
    let o = skewer(&["devices", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(list.is_array());
    // --backend cpu never touches a GPU; --backend gpu with no such adapter fails clearly.
    fails_with(
        &[
            "profile",
            &example(),
            "--backend",
            "gpu",
            "--adapter",
            "no-such-adapter-xyz",
        ],
        &["no GPU adapter", "no-such-adapter-xyz"],
    );
}

/// Option values are parsed where the command line is read: a bad value is
/// exit 2 naming the flag and the problem, before any file is opened; and
/// library errors that a flag answers get the flag from the command line.
#[test]
fn option_values_are_checked_as_they_are_parsed() {
    let ex = example();
    for (flag, value, needle) in [
        ("--backend", "fast", "possible values: auto, cpu, gpu"),
        ("--memory-budget", "1XB", "invalid size unit"),
        ("--delimiter", "ab", "single byte"),
        ("--format", "xml", "unknown format"),
    ] {
        fails_with(&["profile", &ex, flag, value], &[flag, needle]);
    }
    let d = tmp();
    let odd = d.path().join("data.bin");
    std::fs::copy(&ex, &odd).unwrap();
    fails_with(
        &["profile", odd.to_str().unwrap()],
        &["cannot tell the format", "--format"],
    );
    fails_with(
        &["profile", &ex, "--categorical", "f_normal"],
        &["only integer columns", "--categorical"],
    );
}

/// Run skewer with `input` on standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skewer"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, &input);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    o
}

fn json_of(o: &std::process::Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

#[test]
fn csv_null_values_stdin_formats_and_output_to_stdout() {
    // NA and NULL as null markers keep a numeric column numeric, in
    // inference and in reading.
    let csv = b"x,s\n1,a\nNA,b\n3,NULL\n,\n5,e\n";
    let p = json_of(&with_stdin(
        &[
            "profile",
            "-",
            "--null-values",
            "NA,NULL",
            "-o",
            "-",
            "--quiet",
        ],
        csv,
    ));
    let x = &p["features"][0];
    assert_eq!(
        (
            x["type"].as_str(),
            x["count"].as_u64(),
            x["missing"].as_u64()
        ),
        (Some("int64"), Some(3), Some(2))
    );
    assert_eq!(p["features"][1]["missing"], 2);
    // Without them, the markers are text (the empty field alone is null).
    let p = json_of(&with_stdin(&["profile", "-", "-o", "-", "--quiet"], csv));
    assert_eq!(p["features"][0]["type"], "utf8");
    assert_eq!(p["features"][0]["missing"], 1);

    // Parquet, Arrow IPC files and streams on stdin are told by their bytes.
    let dir = tmp();
    let batch = all_types_batch(3, 500);
    let files = [
        ("p.parquet", Format::Parquet),
        ("f.arrow", Format::ArrowFile),
        ("s.arrows", Format::ArrowStream),
    ];
    let reference = json_of(&skewer(&["profile", &example(), "-o", "-", "--quiet"]));
    let from_stdin = json_of(&with_stdin(
        &["profile", "-", "-o", "-", "--quiet"],
        &std::fs::read(example()).unwrap(),
    ));
    assert_eq!(from_stdin["features"], reference["features"]);
    for (name, format) in files {
        let path = dir.path().join(name);
        match format {
            Format::Parquet => write_parquet(
                &path,
                std::slice::from_ref(&batch),
                parquet::basic::Compression::SNAPPY,
                200,
            ),
            Format::ArrowFile => write_ipc_file(&path, std::slice::from_ref(&batch)),
            _ => write_ipc_stream(&path, std::slice::from_ref(&batch)),
        }
        let p = json_of(&with_stdin(
            &["profile", "-", "-o", "-", "--quiet"],
            &std::fs::read(&path).unwrap(),
        ));
        assert_eq!(p["num_rows"], 500, "{name}");
        // The same profile as of the file by its name.
        let by_name = json_of(&skewer(&[
            "profile",
            path.to_str().unwrap(),
            "-o",
            "-",
            "--quiet",
        ]));
        assert_eq!(p["features"], by_name["features"], "{name}");
    }

    // -o - writes the JSON to stdout instead of the table: stdout is one
    // JSON document, whatever else was asked.
    let train = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/train.parquet");
    let serve = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/serve.parquet");
    let (train, serve) = (train.to_str().unwrap(), serve.to_str().unwrap());
    let o = skewer(&["compare", train, serve, "-o", "-", "--markdown", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["features"].as_array().unwrap().len(), 20);
    let schema = dir.path().join("schema.json");
    let o = skewer(&["schema", "infer", train, "-o", "-", "--quiet"]);
    std::fs::write(&schema, &o.stdout).unwrap();
    let o = skewer(&[
        "validate",
        serve,
        "--schema",
        schema.to_str().unwrap(),
        "-o",
        "-",
        "--quiet",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["anomalies"].is_array());
    // No file named "-" is left anywhere.
    assert!(!Path::new("-").exists());
    // Two outputs cannot share stdout.
    fails_with(
        &["compare", train, serve, "-o", "-", "--html", "-"],
        &["only one output can be written to standard output"],
    );
    // bench takes the CSV options too.
    let na = dir.path().join("na.csv");
    std::fs::write(&na, b"x;y\n1;NA\n2;3\n").unwrap();
    let o = skewer(&[
        "bench",
        na.to_str().unwrap(),
        "--delimiter",
        ";",
        "--null-values",
        "NA",
        "--json",
    ]);
    let rows = json_of(&o);
    assert!(
        rows.as_array().unwrap().iter().all(|r| r["rows"] == 2),
        "{rows}"
    );
}
