//! Per-example validation (`validate --examples`): planted anomalies come
//! back with their exact rows, features, anomaly types and values, from
//! every input format; the cap per rule keeps the first rows in file order
//! while the counts stay complete; outputs are atomic.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use skewer::profile::keys::Num;
use skewer::schema::{Bounds, Schema};

use crate::common::*;

const N: usize = 3000;

/// One planted anomaly: (row, feature, anomaly, value as text; None: null).
type Planted = (u64, &'static str, &'static str, Option<&'static str>);

/// Clean data with planted per-row anomalies, and the list of them.
fn planted(with_list: bool) -> (RecordBatch, Vec<Planted>) {
    let mut rng = Rng::new(14);
    let mut f: Vec<Option<f64>> = (0..N).map(|_| Some(rng.f64() * 20.0 - 10.0)).collect();
    let mut i: Vec<Option<i64>> = (0..N).map(|_| Some(rng.below(101) as i64)).collect();
    let mut s: Vec<Option<String>> = (0..N)
        .map(|k| Some(["a", "b", "c"][k % 3].to_string()))
        .collect();
    let mut d: Vec<Option<i32>> = (0..N)
        .map(|_| Some(19000 + rng.below(400) as i32))
        .collect();
    let mut p = vec![
        (5, "f", "FLOAT_TYPE_HAS_NAN", Some("NaN")),
        (1234, "f", "FLOAT_TYPE_HAS_NAN", Some("NaN")),
        (77, "f", "FLOAT_TYPE_HAS_INF", Some("inf")),
        (2500, "f", "FLOAT_TYPE_HAS_INF", Some("-inf")),
        (300, "f", "FLOAT_TYPE_BIG_FLOAT", Some("11.5")),
        (2999, "f", "FLOAT_TYPE_SMALL_FLOAT", Some("-12.5")),
        (10, "i", "INT_TYPE_SMALL_INT", Some("-1")),
        (2000, "i", "INT_TYPE_BIG_INT", Some("101")),
        (42, "i", "FEATURE_TYPE_LOW_FRACTION_PRESENT", None),
        (2222, "i", "FEATURE_TYPE_LOW_FRACTION_PRESENT", None),
        (7, "s", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", Some("zz")),
        (1500, "s", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", Some("A")),
        (123, "d", "INT_TYPE_BIG_INT", Some("2023-05-23")),
        (2801, "d", "INT_TYPE_SMALL_INT", Some("2019-04-14")),
    ];
    f[5] = Some(f64::NAN);
    f[1234] = Some(f64::NAN);
    f[77] = Some(f64::INFINITY);
    f[2500] = Some(f64::NEG_INFINITY);
    f[300] = Some(11.5);
    f[2999] = Some(-12.5);
    // A null is no anomaly where presence does not require every row.
    f[8] = None;
    i[10] = Some(-1);
    i[2000] = Some(101);
    i[42] = None;
    i[2222] = None;
    s[7] = Some("zz".into());
    s[1500] = Some("A".into());
    s[9] = None;
    d[123] = Some(19500);
    d[2801] = Some(18000);
    let mut cols: Vec<(&str, ArrayRef)> = vec![
        ("f", Arc::new(Float64Array::from(f))),
        ("i", Arc::new(Int64Array::from(i))),
        ("s", Arc::new(StringArray::from(s))),
        ("d", Arc::new(Date32Array::from(d))),
    ];
    if with_list {
        let mut lb = ListBuilder::new(Int64Builder::new());
        for k in 0..N {
            let len = match k {
                11 => 0,
                1600 => 5,
                _ => 1 + k % 3,
            };
            for j in 0..len {
                lb.values().append_value(if k == 700 && j == 1 {
                    200
                } else {
                    j as i64 + 1
                });
            }
            lb.append(k != 13);
        }
        cols.push(("l", Arc::new(lb.finish())));
        p.extend([
            (11, "l", "FEATURE_TYPE_LOW_NUMBER_VALUES", Some("[]")),
            (
                1600,
                "l",
                "FEATURE_TYPE_HIGH_NUMBER_VALUES",
                Some("[1, 2, 3, 4, 5]"),
            ),
            (700, "l", "INT_TYPE_BIG_INT", Some("[1, 200]")),
        ]);
    }
    (RecordBatch::try_from_iter(cols).unwrap(), p)
}

/// The schema of the data's profile, with the per-row rules set: bounds on
/// `f`, `i`, `d` and `l`, `i` required, the domain a, b, c on `s`.
fn schema_for(data: &Path, args: &[&str]) -> Schema {
    let mut src = skewer::source::SourceOptions::default();
    for t in args.chunks(2).filter(|c| c[0] == "--type") {
        let (c, ty) = t[1].split_once('=').unwrap();
        src.csv
            .types
            .push((c.into(), skewer::source::parse_type(ty).unwrap()));
    }
    let p = profile_files(&[data.to_path_buf()], &src, &Default::default()).unwrap();
    let mut s = skewer::schema::infer(&p, &Default::default());
    let b = |lo: Num, hi: Num| {
        Some(Bounds {
            min: Some(lo),
            max: Some(hi),
        })
    };
    for fs in &mut s.features {
        fs.presence.min_fraction = Some(0.9);
        match fs.name.as_str() {
            "f" => {
                fs.disallow_nan = true;
                fs.disallow_inf = true;
                fs.float_bounds = b(Num::Float(-10.0), Num::Float(10.0));
            }
            "i" => {
                fs.int_bounds = b(Num::Int(0), Num::Int(100));
                fs.presence.min_fraction = Some(1.0);
            }
            "s" => fs.domain = Some(vec!["a".into(), "b".into(), "c".into()]),
            "d" => fs.int_bounds = b(Num::Int(19000), Num::Int(19399)),
            "l" => {
                fs.int_bounds = b(Num::Int(0), Num::Int(100));
                fs.values_per_row = Some(skewer::schema::ValueCountBounds {
                    min: Some(1),
                    max: Some(3),
                });
            }
            _ => {}
        }
    }
    s
}

/// Rows of an examples file: (file, row, feature, anomaly, value).
type Row = (String, u64, String, String, Option<String>);

fn read_examples(path: &Path) -> Vec<Row> {
    let batches: Vec<RecordBatch> = if path.extension().unwrap() == "csv" {
        let schema = Arc::new(Schema_::new(vec![
            Field::new("file", DataType::Utf8, false),
            Field::new("row", DataType::UInt64, false),
            Field::new("feature", DataType::Utf8, false),
            Field::new("anomaly", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ]));
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("file,row,feature,anomaly,value\n"),
            "{text}"
        );
        arrow::csv::ReaderBuilder::new(schema)
            .with_header(true)
            .build(std::fs::File::open(path).unwrap())
            .unwrap()
            .map(Result::unwrap)
            .collect()
    } else {
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(path).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let mut out = Vec::new();
    for b in batches {
        let s = |c: usize| b.column(c).as_string::<i32>().clone();
        let (file, feature, anomaly, value) = (s(0), s(2), s(3), s(4));
        let row = b.column(1).as_primitive::<UInt64Type>();
        for k in 0..b.num_rows() {
            out.push((
                file.value(k).to_string(),
                row.value(k),
                feature.value(k).to_string(),
                anomaly.value(k).to_string(),
                value.is_valid(k).then(|| value.value(k).to_string()),
            ));
        }
    }
    out
}

use arrow::datatypes::Schema as Schema_;

/// `validate DATA --schema S --examples OUT --json ARGS`: its JSON.
fn validate_examples(data: &Path, schema: &Path, out: &Path, args: &[&str]) -> Value {
    let mut a = vec![
        "validate",
        data.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--examples",
        out.to_str().unwrap(),
        "--json",
        "--backend",
        "cpu",
    ];
    a.extend_from_slice(args);
    let o = skewer(&a);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Every rule with example rows has its anomaly in validate's list, and
/// every per-row anomaly of the list has rows; where validate's value is a
/// count of rows (NaN, inf, and unexpected strings of a scalar column), it
/// equals the examples' count.
fn counts_agree(v: &Value) {
    let anomalies = v["anomalies"].as_array().unwrap();
    let rules = v["examples"]["rules"].as_array().unwrap();
    let per_row = skewer::schema::examples::RULES;
    let listed: BTreeSet<(String, String)> = anomalies
        .iter()
        .filter(|a| per_row.contains(&a["type"].as_str().unwrap()))
        .map(|a| (a["feature"].to_string(), a["type"].to_string()))
        .collect();
    let found: BTreeSet<(String, String)> = rules
        .iter()
        .map(|r| (r["feature"].to_string(), r["anomaly"].to_string()))
        .collect();
    assert_eq!(listed, found, "{v:#}");
    let max = v["examples"]["max_per_rule"].as_u64().unwrap();
    for r in rules {
        let rows = r["rows"].as_u64().unwrap();
        assert_eq!(r["written"].as_u64().unwrap(), rows.min(max), "{r}");
        let a = anomalies
            .iter()
            .find(|a| a["feature"] == r["feature"] && a["type"] == r["anomaly"])
            .unwrap();
        if r["feature"] == "l" {
            continue; // lists: validate counts values, the examples rows
        }
        match a["type"].as_str().unwrap() {
            "FLOAT_TYPE_HAS_NAN" | "FLOAT_TYPE_HAS_INF" => {
                assert_eq!(a["value"].as_u64(), Some(rows), "{a}")
            }
            "ENUM_TYPE_UNEXPECTED_STRING_VALUES" => {
                let n: u64 = a["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["count"].as_u64().unwrap())
                    .sum();
                assert_eq!(n, rows, "{a}");
            }
            _ => {}
        }
    }
}

fn expected(name: &str, p: &[Planted]) -> Vec<Row> {
    let order = |a: &str| {
        skewer::schema::examples::RULES
            .iter()
            .position(|r| *r == a)
            .unwrap()
    };
    let feats = ["f", "i", "s", "d", "l"];
    let mut v: Vec<(u64, usize, usize, Row)> = p
        .iter()
        .map(|&(row, f, a, val)| {
            (
                row,
                feats.iter().position(|x| *x == f).unwrap(),
                order(a),
                (
                    name.to_string(),
                    row,
                    f.to_string(),
                    a.to_string(),
                    val.map(str::to_string),
                ),
            )
        })
        .collect();
    v.sort_by_key(|x| (x.0, x.1, x.2));
    v.into_iter().map(|x| x.3).collect()
}

/// Every per-row rule, planted in Parquet (several row groups, read in
/// parallel), Arrow IPC and CSV inputs: exactly the planted rows come back,
/// in file order, with their values; the counts agree with validate's.
#[test]
fn planted_anomalies_come_back_with_their_exact_rows() {
    let d = tmp();
    let (batch, planted_all) = planted(true);
    let pq = d.path().join("data.parquet");
    // Row groups of 700 rows, batches of 256: row numbers cross both.
    write_parquet(
        &pq,
        std::slice::from_ref(&batch),
        parquet::basic::Compression::SNAPPY,
        700,
    );
    let arrow = d.path().join("data.arrow");
    let halves = [batch.slice(0, 1000), batch.slice(1000, N - 1000)];
    write_ipc_file(&arrow, &halves);
    let (scalar, planted_scalar) = planted(false);
    let csv = d.path().join("data.csv");
    write_csv(&csv, &[scalar]);
    let csv_types = [
        "--type",
        "f=float64",
        "--type",
        "i=int64",
        "--type",
        "d=date32",
    ];

    for (data, args, p) in [
        (
            &pq,
            &["--batch-size", "256", "--threads", "2"][..],
            &planted_all,
        ),
        (&arrow, &["--threads", "2"][..], &planted_all),
        (&csv, &csv_types[..], &planted_scalar),
    ] {
        let schema = d.path().join("schema.json");
        skewer::schema::write_schema(&schema, &schema_for(data, args)).unwrap();
        for ext in ["parquet", "csv"] {
            let out = d.path().join(format!("ex.{ext}"));
            let v = validate_examples(data, &schema, &out, args);
            counts_agree(&v);
            let got = read_examples(&out);
            assert_eq!(got, expected(data.to_str().unwrap(), p), "{data:?} → {ext}");
            assert_eq!(v["examples"]["written"].as_u64(), Some(p.len() as u64));
        }
    }
}

/// Many rows break two rules: `--max-examples 7` writes the first 7 of
/// each in file order whatever the threads, the counts stay complete, and
/// the output is the same bytes with 1 thread or 2.
#[test]
fn max_examples_caps_each_rule_and_keeps_the_counts() {
    let d = tmp();
    let n = 4000;
    let f: Float64Array = (0..n)
        .map(|k| Some(if k % 3 == 1 { f64::NAN } else { k as f64 }))
        .collect();
    let s: StringArray = (0..n)
        .map(|k| Some(if k % 5 == 4 { "bad" } else { "ok" }))
        .collect();
    let batch =
        RecordBatch::try_from_iter(vec![("f", Arc::new(f) as ArrayRef), ("s", Arc::new(s))])
            .unwrap();
    let data = d.path().join("many.parquet");
    write_parquet(&data, &[batch], parquet::basic::Compression::SNAPPY, 300);
    let p = profile_files(
        std::slice::from_ref(&data),
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    let mut schema = skewer::schema::infer(&p, &Default::default());
    schema.features[0].disallow_nan = true;
    schema.features[1].domain = Some(vec!["ok".into()]);
    let sp = d.path().join("schema.json");
    skewer::schema::write_schema(&sp, &schema).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = d.path().join(format!("ex{threads}.csv"));
        let v = validate_examples(
            &data,
            &sp,
            &out,
            &[
                "--max-examples",
                "7",
                "--threads",
                threads,
                "--batch-size",
                "100",
            ],
        );
        counts_agree(&v);
        let rules = v["examples"]["rules"].as_array().unwrap();
        let counts: Vec<(String, u64, u64)> = rules
            .iter()
            .map(|r| {
                (
                    r["anomaly"].as_str().unwrap().to_string(),
                    r["rows"].as_u64().unwrap(),
                    r["written"].as_u64().unwrap(),
                )
            })
            .collect();
        let nan = (0..n).filter(|k| k % 3 == 1).count() as u64;
        let bad = (0..n).filter(|k| k % 5 == 4).count() as u64;
        assert_eq!(
            counts,
            vec![
                ("FLOAT_TYPE_HAS_NAN".into(), nan, 7),
                ("ENUM_TYPE_UNEXPECTED_STRING_VALUES".into(), bad, 7),
            ]
        );
        let got = read_examples(&out);
        let rows = |a: &str| -> Vec<u64> { got.iter().filter(|r| r.3 == a).map(|r| r.1).collect() };
        assert_eq!(rows("FLOAT_TYPE_HAS_NAN"), vec![1, 4, 7, 10, 13, 16, 19]);
        assert_eq!(
            rows("ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
            vec![4, 9, 14, 19, 24, 29, 34]
        );
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    // `--examples -`: the same CSV on standard output, instead of the table.
    let o = skewer(&[
        "validate",
        data.to_str().unwrap(),
        "--schema",
        sp.to_str().unwrap(),
        "--examples",
        "-",
        "--max-examples",
        "7",
        "--backend",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(o.stdout, outputs[0]);
}

/// Wrong extension or a profile for data: exit 2 before any work. A read
/// that fails halfway through the examples leaves no file (and no
/// temporary file), and an existing output is left as it was.
#[test]
fn bad_names_and_failed_reads_leave_no_output() {
    let d = tmp();
    let (batch, _) = planted(false);
    let csv = d.path().join("data.csv");
    write_csv(&csv, std::slice::from_ref(&batch));
    let args = [
        "--type",
        "f=float64",
        "--type",
        "i=int64",
        "--type",
        "d=date32",
    ];
    let schema = d.path().join("schema.json");
    let s = schema_for(&csv, &args);
    skewer::schema::write_schema(&schema, &s).unwrap();
    let (c, sc) = (csv.to_str().unwrap(), schema.to_str().unwrap());
    let txt = d.path().join("ex.txt");
    fails_with(
        &[
            "validate",
            c,
            "--schema",
            sc,
            "--examples",
            txt.to_str().unwrap(),
        ],
        &["ex.txt", ".parquet or .csv"],
    );
    assert!(!txt.exists());
    fails_with(
        &[
            "validate",
            c,
            "--schema",
            sc,
            "--examples",
            "/nonexistent/dir/ex.csv",
        ],
        &["/nonexistent/dir/ex.csv", "not a folder"],
    );
    let prof = d.path().join("p.json");
    fails_with(
        &[
            "validate",
            prof.to_str().unwrap(),
            "--schema",
            sc,
            "--examples",
            "x.csv",
        ],
        &["p.json", "not a profile"],
    );

    // The same columns, with a value that does not parse on line 2001: the
    // examples of the first batches are found, then the read fails.
    let bad = d.path().join("bad.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    let line = text.lines().nth(2001).unwrap().to_string();
    let broken = format!("{},oops,{}", line.split(',').next().unwrap(), {
        let rest: Vec<&str> = line.split(',').skip(2).collect();
        rest.join(",")
    });
    text = text.replacen(&line, &broken, 1);
    std::fs::write(&bad, text).unwrap();
    let mut src = skewer::source::SourceOptions {
        batch_size: 100,
        ..Default::default()
    };
    for t in args.chunks(2) {
        let (c, ty) = t[1].split_once('=').unwrap();
        src.csv
            .types
            .push((c.into(), skewer::source::parse_type(ty).unwrap()));
    }
    let clean = profile_files(std::slice::from_ref(&csv), &src, &Default::default()).unwrap();
    let ds = skewer::source::Dataset::open(std::slice::from_ref(&bad), &src).unwrap();
    for name in ["out.parquet", "out.csv"] {
        let out = d.path().join(name);
        let e = skewer::schema::examples::write_examples(
            &ds,
            &s,
            &clean,
            &out,
            &Default::default(),
            &skewer::engine::NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bad.csv") && e.contains("oops"), "{e}");
        assert!(!out.exists(), "{name} was left behind");
    }
    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| !n.contains("skewer-tmp")), "{left:?}");

    // Through the command line: the profile fails on the same value; an
    // existing examples file is kept whole.
    let out = d.path().join("old.csv");
    std::fs::write(&out, "old").unwrap();
    let mut a = vec!["validate", bad.to_str().unwrap(), "--schema", sc];
    a.extend(["--examples", out.to_str().unwrap()]);
    a.extend(args);
    fails_with(&a, &["bad.csv", "oops"]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
}

/// The labels of domains beyond plain strings: bytes that are not UTF-8
/// (`0x…`, in a dictionary too), integers profiled as categorical (their
/// decimal form), booleans; and bounds on timestamps by their ticks.
#[test]
fn labels_of_binary_dictionary_integer_and_bool_values_and_timestamp_ticks() {
    let d = tmp();
    let n = 50;
    let bin: BinaryArray = (0..n)
        .map(|k| Some(if k == 3 { &b"\xff\xfe"[..] } else { &b"ok"[..] }))
        .collect();
    let dict: DictionaryArray<Int32Type> = (0..n)
        .map(|k| Some(if k == 4 { "no" } else { "yes" }))
        .collect();
    let dict = DictionaryArray::<Int32Type>::try_new(
        dict.keys().clone(),
        Arc::new(arrow::compute::cast(dict.values(), &DataType::Binary).unwrap()),
    )
    .unwrap();
    let code: Int32Array = (0..n)
        .map(|k| Some(if k == 5 { 99 } else { k % 2 }))
        .collect();
    let flag: BooleanArray = (0..n).map(|k| Some(k == 6)).collect();
    let ts = TimestampMillisecondArray::from_iter(
        (0..n).map(|k| Some(1_700_000_000_000 + if k == 7 { 10_000 } else { k as i64 })),
    )
    .with_timezone("UTC");
    let batch = RecordBatch::try_from_iter(vec![
        ("bin", Arc::new(bin) as ArrayRef),
        ("dict", Arc::new(dict)),
        ("code", Arc::new(code)),
        ("flag", Arc::new(flag)),
        ("ts", Arc::new(ts)),
    ])
    .unwrap();
    let data = d.path().join("labels.arrows");
    write_ipc_stream(&data, &[batch]);
    let src = skewer::source::SourceOptions::default();
    let opts = skewer::engine::ProfileOptions {
        categorical: vec!["code".into()],
        ..Default::default()
    };
    let p = profile_files(std::slice::from_ref(&data), &src, &opts).unwrap();
    let mut s = skewer::schema::infer(&p, &Default::default());
    for fs in &mut s.features {
        match fs.name.as_str() {
            "bin" => fs.domain = Some(vec!["ok".into()]),
            "dict" => fs.domain = Some(vec!["yes".into()]),
            "code" => fs.domain = Some(vec!["0".into(), "1".into()]),
            "flag" => fs.domain = Some(vec!["false".into()]),
            "ts" => {
                fs.int_bounds = Some(Bounds {
                    min: Some(Num::Int(1_700_000_000_000)),
                    max: Some(Num::Int(1_700_000_000_049)),
                })
            }
            _ => {}
        }
    }
    let anomalies = skewer::schema::validate(
        &s,
        &p,
        &skewer::schema::Checks {
            previous: None,
            training: None,
            backend: &skewer::backend::Backend::cpu(),
            bins: 10,
            data: None,
        },
    )
    .unwrap();
    let out = d.path().join("labels.parquet");
    let ds = skewer::source::Dataset::open(std::slice::from_ref(&data), &src).unwrap();
    let sum = skewer::schema::examples::write_examples(
        &ds,
        &s,
        &p,
        &out,
        &Default::default(),
        &skewer::engine::NoProgress,
    )
    .unwrap();
    let name = data.to_str().unwrap().to_string();
    let e = |row: u64, f: &str, a: &str, v: &str| {
        (name.clone(), row, f.into(), a.into(), Some(v.to_string()))
    };
    let enum_ = "ENUM_TYPE_UNEXPECTED_STRING_VALUES";
    assert_eq!(
        read_examples(&out),
        vec![
            e(3, "bin", enum_, "0xfffe"),
            e(4, "dict", enum_, "no"),
            e(5, "code", enum_, "99"),
            e(6, "flag", enum_, "true"),
            e(7, "ts", "INT_TYPE_BIG_INT", "2023-11-14T22:13:30Z"),
        ]
    );
    // The same (feature, type) pairs as validate's anomalies.
    let listed: Vec<(String, String)> = anomalies
        .iter()
        .map(|a| (a.feature.clone().unwrap(), a.kind.clone()))
        .collect();
    let found: Vec<(String, String)> = sum
        .rules
        .iter()
        .map(|r| (r.feature.clone(), r.anomaly.clone()))
        .collect();
    assert_eq!(listed, found);
}
