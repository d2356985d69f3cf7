//! `skewer skew`: the join on a key and TFDV's feature-skew counts, against
//! slow obvious code; keys on one side, duplicated and null keys, composite
//! keys, float equality, the spill path, temporary files, the CLI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::*;
use arrow::datatypes::Int64Type;
use arrow::record_batch::RecordBatch;
use skewer::engine::NoProgress;
use skewer::skew::{skew, SkewOptions, SkewReport, Tolerance};
use skewer::source::SourceOptions;

use crate::common::*;

/// One example of the planted pair: key, float, int, string, list.
#[derive(Clone, Debug)]
struct Ex {
    id: Option<i64>,
    f: Option<f64>,
    i: Option<i64>,
    s: Option<String>,
    l: Option<Vec<i64>>,
}

fn batch(rows: &[Ex]) -> RecordBatch {
    let mut lb = ListBuilder::new(Int64Builder::new());
    for r in rows {
        match &r.l {
            Some(v) => {
                lb.values().append_slice(v);
                lb.append(true);
            }
            None => lb.append(false),
        }
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "id",
            Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.id))),
        ),
        (
            "f",
            Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.f))),
        ),
        (
            "i",
            Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.i))),
        ),
        (
            "s",
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.s.clone()))),
        ),
        ("l", Arc::new(lb.finish())),
    ];
    RecordBatch::try_from_iter(cols).unwrap()
}

/// The expected counts of one feature, by the definitions of docs/skew.md,
/// computed the slow way: pairs of values of the joined examples.
#[derive(Default, Debug, PartialEq)]
struct Expect {
    match_count: u64,
    mismatch_count: u64,
    base_only: u64,
    test_only: u64,
    both_missing: u64,
    /// Keys of the differing pairs, ascending.
    differing: Vec<i64>,
}

fn expect<T: PartialEq>(pairs: &[(i64, Option<T>, Option<T>)]) -> Expect {
    let mut e = Expect::default();
    for (k, a, b) in pairs {
        match (a, b) {
            (Some(x), Some(y)) if x == y => e.match_count += 1,
            (Some(_), Some(_)) => {
                e.mismatch_count += 1;
                e.differing.push(*k)
            }
            (Some(_), None) => {
                e.base_only += 1;
                e.differing.push(*k)
            }
            (None, Some(_)) => {
                e.test_only += 1;
                e.differing.push(*k)
            }
            (None, None) => e.both_missing += 1,
        }
    }
    e.differing.sort();
    e
}

fn feature<'a>(r: &'a SkewReport, name: &str) -> &'a skewer::skew::FeatureSkew {
    r.features
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

fn check(r: &SkewReport, name: &str, e: &Expect, samples: usize) {
    let f = feature(r, name);
    let got = (
        f.match_count,
        f.mismatch_count,
        f.base_only,
        f.test_only,
        f.both_missing,
    );
    let want = (
        e.match_count,
        e.mismatch_count,
        e.base_only,
        e.test_only,
        e.both_missing,
    );
    assert_eq!(got, want, "{name}");
    assert_eq!(f.base_count, e.match_count + e.mismatch_count + e.base_only);
    assert_eq!(f.test_count, e.match_count + e.mismatch_count + e.test_only);
    assert_eq!(f.diff_count, e.mismatch_count + e.base_only + e.test_only);
    let keys: Vec<String> = f.samples.iter().map(|s| s.key[0].clone()).collect();
    let want: Vec<String> = e
        .differing
        .iter()
        .take(samples)
        .map(|k| k.to_string())
        .collect();
    assert_eq!(
        keys, want,
        "{name}: the samples are the smallest differing keys"
    );
}

/// The planted pair: 6000 base examples; the test drops some keys, adds
/// others, repeats some, has null keys, and changes values in a known
/// share of the joined examples. Returns the two tables and the expected
/// counts.
struct Planted {
    base: Vec<Ex>,
    test: Vec<Ex>,
    joined: u64,
    f: Expect,
    i: Expect,
    s: Expect,
    l: Expect,
    /// unmatched, null key, duplicate keys, duplicate key rows, excluded.
    base_side: [u64; 5],
    test_side: [u64; 5],
}

fn planted(seed: u64) -> Planted {
    let mut rng = Rng::new(seed);
    let n = 6000;
    let mut base: Vec<Ex> = (0..n)
        .map(|k| Ex {
            id: Some(k * 7 - 20_000),
            f: (!rng.chance(0.05)).then(|| rng.normal()),
            i: (!rng.chance(0.05)).then(|| rng.below(50) as i64),
            s: (!rng.chance(0.05)).then(|| format!("c{}", rng.below(20))),
            l: (!rng.chance(0.05)).then(|| (0..rng.below(4)).map(|x| x as i64).collect()),
        })
        .collect();
    // Base: 40 rows with a null key, one key three times.
    for _ in 0..40 {
        let mut e = base[rng.below(n as u64) as usize].clone();
        e.id = None;
        base.push(e);
    }
    let tripled = base[17].clone();
    base.push(tripled.clone());
    base.push(tripled.clone());
    let mut test = Vec::new();
    let mut pairs_f = Vec::new();
    let mut pairs_i = Vec::new();
    let mut pairs_s = Vec::new();
    let mut pairs_l = Vec::new();
    let (mut base_unmatched, mut test_dup_keys, mut joined) = (0, 0, 0);
    for e in base.iter().take(n as usize) {
        if e.id == tripled.id {
            // Once in the test, thrice in the base: excluded.
            test.push(e.clone());
            continue;
        }
        if rng.chance(0.03) {
            base_unmatched += 1; // dropped: a key only in the base
            continue;
        }
        let mut t = e.clone();
        // Planted changes in 2% to 5% of the examples, nulls both ways.
        if rng.chance(0.04) {
            t.f = t.f.map(|x| x + 1.0);
        }
        if rng.chance(0.01) {
            t.f = None;
        }
        if rng.chance(0.02) {
            t.i = Some(rng.below(50) as i64);
        }
        if rng.chance(0.03) {
            t.s = Some("changed".into());
        }
        if rng.chance(0.02) {
            t.l = t.l.map(|mut v| {
                v.push(9);
                v
            });
        }
        if rng.chance(0.01) {
            t.l = Some(vec![]);
        }
        if rng.chance(0.005) {
            // A key twice in the test: excluded from the join.
            test.push(t.clone());
            test.push(t);
            test_dup_keys += 1;
            continue;
        }
        test.push(t.clone());
        joined += 1;
        let k = e.id.unwrap();
        pairs_f.push((k, e.f.map(f64::to_bits), t.f.map(f64::to_bits)));
        pairs_i.push((k, e.i, t.i));
        pairs_s.push((k, e.s.clone(), t.s.clone()));
        pairs_l.push((k, e.l.clone(), t.l.clone()));
    }
    // Keys only in the test, and null keys.
    let fresh = 150;
    for k in 0..fresh {
        let mut e = base[k as usize].clone();
        e.id = Some(1_000_000 + k);
        test.push(e);
    }
    for _ in 0..25 {
        let mut e = base[rng.below(n as u64) as usize].clone();
        e.id = None;
        test.push(e);
    }
    // The test in another order: reversed.
    test.reverse();
    Planted {
        joined,
        f: expect(&pairs_f),
        i: expect(&pairs_i),
        s: expect(&pairs_s),
        l: expect(&pairs_l),
        base_side: [base_unmatched, 40, 1, 3, 3 + test_dup_keys],
        test_side: [
            fresh as u64,
            25,
            test_dup_keys,
            2 * test_dup_keys,
            2 * test_dup_keys + 1,
        ],
        base,
        test,
    }
}

fn write_pair(dir: &Path, p: &Planted) -> (PathBuf, PathBuf) {
    let (b, t) = (dir.join("base.parquet"), dir.join("test.parquet"));
    // Several row groups, so the sides are read in parallel.
    write_parquet(
        &b,
        &[batch(&p.base)],
        parquet::basic::Compression::SNAPPY,
        1000,
    );
    write_parquet(
        &t,
        &[batch(&p.test)],
        parquet::basic::Compression::ZSTD(Default::default()),
        1700,
    );
    (b, t)
}

fn run(b: &Path, t: &Path, opts: &SkewOptions, batch_size: usize) -> SkewReport {
    let src = SourceOptions {
        batch_size,
        ..Default::default()
    };
    skew(b, t, &src, opts, &NoProgress).unwrap()
}

fn side_counts(s: &skewer::skew::Side) -> [u64; 5] {
    [
        s.unmatched_rows,
        s.null_key_rows,
        s.duplicate_keys,
        s.duplicate_key_rows,
        s.excluded_rows,
    ]
}

/// Planted value changes, keys on one side, duplicated and null keys: every
/// count is exact, in memory and through the spill path alike.
#[test]
fn planted_changes_give_exact_counts_in_memory_and_spilled() {
    let d = tmp();
    let p = planted(3);
    let (b, t) = write_pair(d.path(), &p);
    let opts = SkewOptions {
        key: vec!["id".into()],
        max_samples: 4,
        ..Default::default()
    };
    let mem = run(&b, &t, &opts, 777);
    assert_eq!(mem.partitions, 1);
    assert_eq!(mem.joined, p.joined);
    assert!(p.f.mismatch_count > 100 && p.f.base_only > 20, "{:?}", p.f);
    assert!(p.l.mismatch_count > 100, "{:?}", p.l);
    for (name, e) in [("f", &p.f), ("i", &p.i), ("s", &p.s), ("l", &p.l)] {
        check(&mem, name, e, 4);
        let f = feature(&mem, name);
        assert_eq!(f.diff_share, f.diff_count as f64 / p.joined as f64);
        assert!(f.skewed);
    }
    assert_eq!(side_counts(&mem.base), p.base_side);
    assert_eq!(side_counts(&mem.test), p.test_side);
    for s in [&mem.base, &mem.test] {
        assert_eq!(
            s.rows,
            mem.joined + s.unmatched_rows + s.null_key_rows + s.excluded_rows
        );
    }
    // The samples show the values as text, a missing one as null.
    let s = &feature(&mem, "s").samples[0];
    assert_eq!(s.test.as_deref(), Some("changed"), "{s:?}");

    // A tiny budget: partitioned to disk, the same report.
    let spilled = run(
        &b,
        &t,
        &SkewOptions {
            memory_budget: 20_000,
            ..opts.clone()
        },
        500,
    );
    assert!(spilled.partitions > 1 && spilled.spilled_bytes > 0);
    assert_eq!(without_run_info(&spilled), without_run_info(&mem));
    // A threshold above every share: nothing is skewed.
    let lax = run(
        &b,
        &t,
        &SkewOptions {
            threshold: 0.5,
            ..opts.clone()
        },
        4096,
    );
    assert!(!lax.has_skew());
    assert!(lax.features.iter().all(|f| !f.skewed));
}

/// A key of two columns (string, int), where neither alone is unique; the
/// base a CSV, the test Parquet; columns on one side only are listed.
#[test]
fn composite_keys_join_on_every_column() {
    let d = tmp();
    let mut csv = String::from("region,n,x,only_base\n");
    let mut rows = Vec::new();
    for r in ["eu", "us", "apac"] {
        for n in 0..300i64 {
            let x = n as f64 * 0.5;
            csv += &format!("{r},{n},{x},1\n");
            rows.push((r, n, x));
        }
    }
    let b = d.path().join("base.csv");
    std::fs::write(&b, csv).unwrap();
    // The test: x changed where region is "us" and n % 10 == 3; the rows
    // in another order.
    rows.reverse();
    let t = d.path().join("test.parquet");
    let region: StringArray = rows.iter().map(|r| Some(r.0)).collect();
    let n = Int64Array::from_iter_values(rows.iter().map(|r| r.1));
    let x = Float64Array::from_iter_values(rows.iter().map(|r| {
        if r.0 == "us" && r.1 % 10 == 3 {
            r.2 + 0.25
        } else {
            r.2
        }
    }));
    let only = Int64Array::from_iter_values(rows.iter().map(|_| 1));
    let tb = RecordBatch::try_from_iter(vec![
        ("n", Arc::new(n) as ArrayRef),
        ("x", Arc::new(x) as ArrayRef),
        ("region", Arc::new(region) as ArrayRef),
        ("only_test", Arc::new(only) as ArrayRef),
    ])
    .unwrap();
    write_parquet(&t, &[tb], parquet::basic::Compression::UNCOMPRESSED, 250);
    let opts = SkewOptions {
        key: vec!["region".into(), "n".into()],
        max_samples: 3,
        ..Default::default()
    };
    let r = run(&b, &t, &opts, 128);
    assert_eq!(r.joined, 900);
    let x = feature(&r, "x");
    assert_eq!((x.match_count, x.mismatch_count), (870, 30));
    // Smallest keys first: ("us", 3), ("us", 13), ("us", 23).
    let keys: Vec<Vec<String>> = x.samples.iter().map(|s| s.key.clone()).collect();
    assert_eq!(keys, [["us", "3"], ["us", "13"], ["us", "23"]]);
    assert_eq!(x.samples[0].base.as_deref(), Some("1.5"));
    assert_eq!(x.samples[0].test.as_deref(), Some("1.75"));
    assert_eq!(r.base_only_columns, ["only_base"]);
    assert_eq!(r.test_only_columns, ["only_test"]);
    assert_eq!(r.features.len(), 1);
    // On one of the two columns, every key is duplicated: nothing joins.
    let one = run(
        &b,
        &t,
        &SkewOptions {
            key: vec!["n".into()],
            ..opts.clone()
        },
        128,
    );
    assert_eq!(one.joined, 0);
    assert_eq!(one.base.duplicate_keys, 300);
    assert_eq!(one.base.excluded_rows, 900);
    assert!(!one.has_skew());
}

/// Floats: bits equal or both NaN; 0.0 and -0.0 differ unless a tolerance
/// is given; f32 the same; a tolerance absolute or relative; a column whose
/// type differs is reported and counts as skew.
#[test]
fn float_equality_is_bitwise_with_nan_equal_and_an_optional_tolerance() {
    let d = tmp();
    let other_nan = f64::from_bits(0x7ff8_0000_0000_0001);
    // (base, test): equal bitwise?, equal with abs=0.1?, equal with
    // rel=1e-3?, as float64 then as float32 (the same values cast: f64::MAX
    // becomes inf and 1 + EPSILON becomes 1, so those two pairs are equal
    // there).
    type Case = (f64, f64, [bool; 3], [bool; 3]);
    const T: bool = true;
    const F: bool = false;
    let cases: Vec<Case> = vec![
        (1.5, 1.5, [T, T, T], [T, T, T]),
        (f64::NAN, other_nan, [T, T, T], [T, T, T]),
        (f64::NAN, -f64::NAN, [T, T, T], [T, T, T]),
        (0.0, -0.0, [F, T, T], [F, T, T]),
        (f64::INFINITY, f64::INFINITY, [T, T, T], [T, T, T]),
        (f64::INFINITY, f64::MAX, [F, F, F], [T, T, T]),
        (f64::NAN, 1.0, [F, F, F], [F, F, F]),
        (1.0, 1.05, [F, T, F], [F, T, F]),
        (1000.0, 1000.5, [F, F, T], [F, F, T]),
        (1.0, 1.0 + f64::EPSILON, [F, T, T], [T, T, T]),
        (-3.0, 3.0, [F, F, F], [F, F, F]),
    ];
    let ids = Int64Array::from_iter_values(0..cases.len() as i64);
    let mk = |side: usize| {
        let f: Float64Array = cases
            .iter()
            .map(|c| Some(if side == 0 { c.0 } else { c.1 }))
            .collect();
        let f32s: Float32Array = cases
            .iter()
            .map(|c| Some((if side == 0 { c.0 } else { c.1 }) as f32))
            .collect();
        // A type that differs between the sides: int in the base, float in the test.
        let t: ArrayRef = if side == 0 {
            Arc::new(Int64Array::from_iter_values(0..cases.len() as i64))
        } else {
            Arc::new(Float64Array::from_iter_values(
                (0..cases.len()).map(|i| i as f64),
            ))
        };
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(ids.clone()) as ArrayRef),
            ("f", Arc::new(f) as ArrayRef),
            ("f32", Arc::new(f32s) as ArrayRef),
            ("typed", t),
        ])
        .unwrap()
    };
    let (b, t) = (d.path().join("b.arrow"), d.path().join("t.arrow"));
    write_ipc_file(&b, &[mk(0)]);
    write_ipc_file(&t, &[mk(1)]);
    let count = |rule: usize, f32s: bool| {
        cases
            .iter()
            .filter(|c| if f32s { c.3[rule] } else { c.2[rule] })
            .count() as u64
    };
    for (rule, tol) in [
        None,
        Some(Tolerance { abs: 0.1, rel: 0.0 }),
        Some(Tolerance {
            abs: 0.0,
            rel: 1e-3,
        }),
    ]
    .into_iter()
    .enumerate()
    {
        let want = count(rule, false);
        let r = run(
            &b,
            &t,
            &SkewOptions {
                key: vec!["id".into()],
                tolerance: tol,
                max_samples: 20,
                ..Default::default()
            },
            4,
        );
        let f = feature(&r, "f");
        assert_eq!(f.match_count, want, "{tol:?}");
        assert_eq!(f.mismatch_count, cases.len() as u64 - want, "{tol:?}");
        assert_eq!(f.samples.len() as u64, f.mismatch_count);
        let g = feature(&r, "f32");
        assert_eq!(g.data_type, "Float32");
        assert_eq!(g.match_count, count(rule, true), "{tol:?}");
        assert_eq!(
            g.mismatch_count,
            cases.len() as u64 - count(rule, true),
            "{tol:?}"
        );
        assert_eq!(r.not_compared.len(), 1);
        assert_eq!(r.not_compared[0].name, "typed");
        assert!(r.has_skew());
    }
    let r = run(
        &b,
        &t,
        &SkewOptions {
            key: vec!["id".into()],
            ..Default::default()
        },
        64,
    );
    // -0.0 against 0.0 is shown as it is.
    let zero = feature(&r, "f")
        .samples
        .iter()
        .find(|s| s.key == ["3"])
        .expect("the 0.0/-0.0 pair differs");
    assert_eq!(
        (zero.base.as_deref(), zero.test.as_deref()),
        (Some("0.0"), Some("-0.0"))
    );
}

fn write_small_pair(dir: &Path, changed: bool) -> (String, String) {
    let ids: Vec<i64> = (0..2000).collect();
    let mk = |shift: bool| {
        let v = Float64Array::from_iter_values(ids.iter().map(|&i| {
            if shift && i % 100 == 7 {
                i as f64 + 0.5
            } else {
                i as f64
            }
        }));
        let s: DictionaryArray<Int64Type> = ids
            .iter()
            .map(|i| Some(["a", "b", "c"][(i % 3) as usize]))
            .collect();
        RecordBatch::try_from_iter(vec![
            ("key", Arc::new(Int64Array::from(ids.clone())) as ArrayRef),
            ("v", Arc::new(v) as ArrayRef),
            ("s", Arc::new(s) as ArrayRef),
        ])
        .unwrap()
    };
    let (b, t) = (dir.join("b.parquet"), dir.join("t.parquet"));
    write_parquet(&b, &[mk(false)], parquet::basic::Compression::SNAPPY, 500);
    write_parquet(&t, &[mk(changed)], parquet::basic::Compression::SNAPPY, 300);
    (b.display().to_string(), t.display().to_string())
}

/// Exit codes 0, 1 and 2; errors name the file and the column; -o writes
/// the JSON; a tiny budget spills and leaves no temporary file.
#[test]
fn cli_exit_codes_messages_and_temporary_files() {
    let d = tmp();
    let (b, t) = write_small_pair(d.path(), true);
    let o = skewer(&["skew", &b, &b, "--key", "key"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = skewer(&["skew", &b, &t, "--key", "key"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("SKEW") && out.contains("key = 7: base 7.0, test 7.5"),
        "{out}"
    );
    // 20 of 2000 differ: 1% is skew at the default threshold, not at 0.02.
    let o = skewer(&["skew", &b, &t, "--key", "key", "--threshold", "0.02"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = skewer(&["skew", &b, &t, "--key", "key", "--tolerance", "0.5"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let tmpdir = d.path().join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    let json = d.path().join("skew.json");
    let o = Command::new(env!("CARGO_BIN_EXE_skewer"))
        .args([
            "skew",
            &b,
            &t,
            "--key",
            "key",
            "--json",
            "--memory-budget",
            "4KiB",
        ])
        .args(["-o", json.to_str().unwrap(), "--batch-size", "100"])
        .env("TMPDIR", &tmpdir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&json).unwrap()).unwrap()
    );
    assert!(v["partitions"].as_u64().unwrap() > 1, "{v}");
    assert_eq!(v["features"][1]["name"], "v");
    assert_eq!(v["features"][1]["mismatch_count"], 20);
    assert_eq!(v["features"][0]["name"], "s");
    assert_eq!(v["features"][0]["match_count"], 2000);
    let left: Vec<_> = std::fs::read_dir(&tmpdir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // An error after the base has spilled (a key that does not parse, late
    // in the test CSV): exit 2 naming the file and line, no spill file left.
    let late = d.path().join("late.csv");
    let mut text = String::from("key,v\n");
    for i in 0..3000 {
        text += &if i == 2500 {
            "oops,1\n".to_string()
        } else {
            format!("{i},{i}.0\n")
        };
    }
    std::fs::write(&late, text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_skewer"))
        .args([
            "skew",
            &b,
            late.to_str().unwrap(),
            "--key",
            "key",
            "--infer-rows",
            "100",
        ])
        .args(["--memory-budget", "0", "--batch-size", "100"])
        .env("TMPDIR", &tmpdir)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("late.csv") && err.contains("oops"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&tmpdir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    fails_with(
        &["skew", &b, &t, "--key", "nope"],
        &["b.parquet", "\"nope\"", "key, v, s"],
    );
    // The key in the base only: the message names the test file.
    let csv = d.path().join("other.csv");
    std::fs::write(&csv, "id,v\n1,2\n").unwrap();
    fails_with(
        &["skew", &b, csv.to_str().unwrap(), "--key", "key"],
        &["other.csv", "\"key\""],
    );
    // A key of different types on the two sides.
    std::fs::write(&csv, "key,v\nx,2\n").unwrap();
    fails_with(
        &["skew", &b, csv.to_str().unwrap(), "--key", "key"],
        &["other.csv", "\"key\"", "Int64", "Utf8"],
    );
    fails_with(
        &["skew", &b, &t, "--key", "key", "--threshold", "1.5"],
        &["--threshold"],
    );
    fails_with(
        &["skew", &b, &t, "--key", "key", "--tolerance", "rel=-1"],
        &["--tolerance"],
    );
    fails_with(&["skew", &b, &t, "--key", "key,key"], &["\"key\" twice"]);
    fails_with(
        &[
            "skew",
            &b,
            &d.path().join("missing.parquet").display().to_string(),
            "--key",
            "key",
        ],
        &["missing.parquet"],
    );
    let o = skewer(&["skew", &b, &t]);
    assert_eq!(o.status.code(), Some(2), "--key is required");
}

/// SIGINT while the join spills: exit 130 and no spill file left.
#[test]
fn sigint_while_spilling_leaves_no_temporary_files() {
    let d = tmp();
    let p = planted(11);
    let (b, t) = write_pair(d.path(), &p);
    let tmpdir = d.path().join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    let mut interrupted = 0;
    for attempt in 0..4u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_skewer"))
            .args([
                "skew",
                b.to_str().unwrap(),
                t.to_str().unwrap(),
                "--key",
                "id",
            ])
            .args([
                "--memory-budget",
                "0",
                "--batch-size",
                "16",
                "--quiet",
                "--threads",
                "1",
            ])
            .env("TMPDIR", &tmpdir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Once a spill file exists, interrupt at a different moment each time.
        let t0 = Instant::now();
        while std::fs::read_dir(&tmpdir).unwrap().next().is_none()
            && t0.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(attempt * 5));
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let status = child.wait().unwrap();
        if status.code() == Some(130) {
            interrupted += 1;
        } else {
            assert_eq!(status.code(), Some(1), "attempt {attempt}: {status:?}");
        }
        let left: Vec<_> = std::fs::read_dir(&tmpdir).unwrap().collect();
        assert!(left.is_empty(), "attempt {attempt}: {left:?}");
    }
    assert!(interrupted > 0, "every run finished before its SIGINT");
}

/// bench/gen_skew_pair.py's pair (skipped without a Python with numpy and
/// pyarrow, unless SKEWER_REQUIRE_PYTHON=1): every count equals the
/// generator's own (numpy's) count, through the spill path too.
#[test]
fn bench_pair_counts_equal_the_generators() {
    let Some(py) = python_with(
        "numpy, pyarrow",
        "skew::bench_pair_counts_equal_the_generators",
    ) else {
        return;
    };
    let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_skew_pair.py");
    let d = tmp();
    let o = Command::new(&py)
        .args([gen.to_str().unwrap(), "30000", d.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("truth.json")).unwrap()).unwrap();
    let (b, t) = (d.path().join("base.parquet"), d.path().join("test.parquet"));
    for budget in [1 << 30, 200_000] {
        let r = run(
            &b,
            &t,
            &SkewOptions {
                key: vec!["id".into()],
                memory_budget: budget,
                ..Default::default()
            },
            8192,
        );
        assert_eq!(r.joined, truth["joined"].as_u64().unwrap());
        let r = serde_json::to_value(&r).unwrap();
        let mut skewed = BTreeMap::new();
        for f in r["features"].as_array().unwrap() {
            let want = &truth["features"][f["name"].as_str().unwrap()];
            for (k, v) in want.as_object().unwrap() {
                assert_eq!(&f[k], v, "{} {k}", f["name"]);
            }
            skewed.insert(
                f["name"].as_str().unwrap().to_string(),
                f["skewed"].as_bool().unwrap(),
            );
        }
        let planted = [
            "f32_a",
            "f_nan_inf",
            "f_normal",
            "f_zeros",
            "i_count",
            "s_low",
        ];
        for (name, s) in &skewed {
            assert_eq!(*s, planted.contains(&name.as_str()), "{name}");
        }
        for side in ["base", "test"] {
            for (k, v) in truth[side].as_object().unwrap() {
                assert_eq!(&r[side][k], v, "{side} {k}");
            }
        }
    }
}

/// A run with `memory_budget` and the in-memory one give the same report
/// (but for how the join ran).
fn same_as_in_memory(b: &Path, t: &Path, opts: &SkewOptions, budget: u64) -> SkewReport {
    let mem = run(b, t, opts, 100);
    assert_eq!(mem.partitions, 1);
    let spilled = run(
        b,
        t,
        &SkewOptions {
            memory_budget: budget,
            ..opts.clone()
        },
        100,
    );
    assert!(spilled.partitions > 1 && spilled.spilled_bytes > 0);
    assert_eq!(without_run_info(&spilled), without_run_info(&mem));
    spilled
}

/// The base fits the budget, base and test do not: spilling starts while
/// the test is read, and the base's rows (written to their files then)
/// count in `spilled_bytes`: at least the two sides' string bytes. The
/// report equals the in-memory one.
#[test]
fn spilling_that_starts_on_the_test_side_counts_both_sides_files() {
    let d = tmp();
    // 1000-byte strings; the test changes those of the keys i % 50 == 3.
    let mk = |ids: std::ops::Range<i64>, test: bool| {
        let s: StringArray = ids
            .clone()
            .map(|i| Some(format!("{:0>1000}", i % 7 + (test && i % 50 == 3) as i64)))
            .collect();
        RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(Int64Array::from_iter_values(ids)) as ArrayRef,
            ),
            ("s", Arc::new(s) as ArrayRef),
        ])
        .unwrap()
    };
    // Base: 500 rows (about 0.6 MB held); test: 2000 rows, the base's
    // keys and 1500 more (2.5 MB together).
    let (b, t) = (d.path().join("b.parquet"), d.path().join("t.parquet"));
    write_parquet(
        &b,
        &[mk(0..500, false)],
        parquet::basic::Compression::SNAPPY,
        100,
    );
    write_parquet(
        &t,
        &[mk(0..2000, true)],
        parquet::basic::Compression::SNAPPY,
        400,
    );
    let opts = SkewOptions {
        key: vec!["id".into()],
        ..Default::default()
    };
    let r = same_as_in_memory(&b, &t, &opts, 1_500_000);
    assert_eq!(r.joined, 500);
    assert_eq!(r.test.unmatched_rows, 1500);
    assert_eq!(feature(&r, "s").mismatch_count, 10);
    let strings = 1000 * (500 + 2000);
    assert!(
        r.spilled_bytes >= strings,
        "spilled_bytes {} < the two sides' {strings} string bytes",
        r.spilled_bytes
    );
}

/// A key whose types differ in width between the sides (int32 and int64, a
/// dictionary of strings and large strings): the keys are encoded as the
/// wider type, so the same key lands in the same partition; the spilled
/// join equals the in-memory one and the slow count.
#[test]
fn keys_of_different_widths_join_the_same_spilled_and_in_memory() {
    let d = tmp();
    let n = 3000i32;
    let region = |i: i32| format!("r{}", i % 5);
    let value = |i: i32, test: bool| i as f64 + if test && i % 37 == 1 { 0.5 } else { 0.0 };
    let a = Int32Array::from_iter_values(0..n);
    let regions: Vec<String> = (0..n).map(region).collect();
    let r: DictionaryArray<arrow::datatypes::Int32Type> =
        regions.iter().map(|s| Some(s.as_str())).collect();
    let v = Float64Array::from_iter_values((0..n).map(|i| value(i, false)));
    let base = RecordBatch::try_from_iter(vec![
        ("a", Arc::new(a) as ArrayRef),
        ("r", Arc::new(r) as ArrayRef),
        ("v", Arc::new(v) as ArrayRef),
    ])
    .unwrap();
    // The test: every key but those with i % 11 == 0, in reverse order.
    let ids: Vec<i32> = (0..n).rev().filter(|i| i % 11 != 0).collect();
    let test = RecordBatch::try_from_iter(vec![
        (
            "a",
            Arc::new(Int64Array::from_iter_values(ids.iter().map(|&i| i as i64))) as ArrayRef,
        ),
        (
            "r",
            Arc::new(LargeStringArray::from_iter_values(
                ids.iter().map(|&i| region(i)),
            )),
        ),
        (
            "v",
            Arc::new(Float64Array::from_iter_values(
                ids.iter().map(|&i| value(i, true)),
            )),
        ),
    ])
    .unwrap();
    let (b, t) = (d.path().join("b.arrow"), d.path().join("t.arrow"));
    write_ipc_file(&b, &[base]);
    write_ipc_file(&t, &[test]);
    let opts = SkewOptions {
        key: vec!["r".into(), "a".into()],
        max_samples: 2,
        ..Default::default()
    };
    let rep = same_as_in_memory(&b, &t, &opts, 20_000);
    let joined = ids.len() as u64;
    let changed = ids.iter().filter(|&&i| i % 37 == 1).count() as u64;
    assert_eq!(rep.joined, joined);
    assert_eq!(rep.base.unmatched_rows, n as u64 - joined);
    let v = feature(&rep, "v");
    assert_eq!(
        (v.match_count, v.mismatch_count),
        (joined - changed, changed)
    );
    // The samples: the smallest keys, by region then by a.
    let keys: Vec<Vec<String>> = v.samples.iter().map(|s| s.key.clone()).collect();
    let mut want: Vec<(String, i32)> = ids
        .iter()
        .filter(|&&i| i % 37 == 1)
        .map(|&i| (region(i), i))
        .collect();
    want.sort();
    let want: Vec<Vec<String>> = want[..2]
        .iter()
        .map(|(r, i)| vec![r.clone(), i.to_string()])
        .collect();
    assert_eq!(keys, want);
}

/// Timestamps with a named time zone (which Arrow's display cannot format
/// without chrono-tz), as a feature and as the key: shown as their UTC
/// instant, never as null or "".
#[test]
fn samples_show_timestamps_with_a_named_zone() {
    let d = tmp();
    let key = TimestampSecondArray::from_iter_values((0..5).map(|i| 1_700_000_000 + i))
        .with_timezone("UTC");
    let ms = |i: i64| 1_700_000_000_000 + 1000 * i;
    let base = TimestampMillisecondArray::from(vec![
        Some(ms(0)),
        Some(ms(1)),
        Some(ms(2)),
        None,
        Some(ms(4)),
    ])
    .with_timezone("UTC");
    let test = TimestampMillisecondArray::from(vec![
        Some(ms(0)),
        Some(ms(1) + 1000),
        None,
        Some(ms(3)),
        Some(ms(4)),
    ])
    .with_timezone("UTC");
    let (b, t) = (d.path().join("b.arrow"), d.path().join("t.arrow"));
    for (path, col) in [(&b, base), (&t, test)] {
        let batch = RecordBatch::try_from_iter(vec![
            ("at", Arc::new(key.clone()) as ArrayRef),
            ("seen", Arc::new(col) as ArrayRef),
        ])
        .unwrap();
        write_ipc_file(path, &[batch]);
    }
    let r = run(
        &b,
        &t,
        &SkewOptions {
            key: vec!["at".into()],
            ..Default::default()
        },
        64,
    );
    let f = feature(&r, "seen");
    assert_eq!((f.match_count, f.mismatch_count), (2, 1));
    assert_eq!((f.base_only, f.test_only), (1, 1));
    let got: Vec<(Vec<String>, Option<String>, Option<String>)> = f
        .samples
        .iter()
        .map(|s| (s.key.clone(), s.base.clone(), s.test.clone()))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        [
            (
                vec!["2023-11-14T22:13:21Z".to_string()],
                s("2023-11-14T22:13:21Z"),
                s("2023-11-14T22:13:22Z")
            ),
            (
                vec!["2023-11-14T22:13:22Z".to_string()],
                s("2023-11-14T22:13:22Z"),
                None
            ),
            (
                vec!["2023-11-14T22:13:23Z".to_string()],
                None,
                s("2023-11-14T22:13:23Z")
            ),
        ]
    );
}

/// List columns whose child is named `item` on one side and `element` (not
/// nullable, with Parquet's field id) on the other are one type: compared
/// value by value, not reported as a type difference.
#[test]
fn list_columns_with_differently_named_children_are_compared() {
    let d = tmp();
    let n = 100i64;
    let item = Arc::new(arrow::datatypes::Field::new(
        "item",
        arrow::datatypes::DataType::Int64,
        true,
    ));
    let element = Arc::new(
        arrow::datatypes::Field::new("element", arrow::datatypes::DataType::Int64, false)
            .with_metadata(
                [("PARQUET:field_id".to_string(), "2".to_string())]
                    .into_iter()
                    .collect::<std::collections::HashMap<_, _>>(),
            ),
    );
    let list = |child: &Arc<arrow::datatypes::Field>, test: bool| {
        let lists: Vec<Vec<i64>> = (0..n)
            .map(|i| {
                if test && i % 10 == 3 {
                    vec![i]
                } else {
                    vec![i, i + 1]
                }
            })
            .collect();
        let lengths = lists.iter().map(|l| l.len());
        let values = Int64Array::from_iter_values(lists.iter().flatten().copied());
        ListArray::new(
            child.clone(),
            arrow::buffer::OffsetBuffer::from_lengths(lengths),
            Arc::new(values),
            None,
        )
    };
    let (b, t) = (d.path().join("b.arrow"), d.path().join("t.arrow"));
    for (path, child, test) in [(&b, &item, false), (&t, &element, true)] {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
            ),
            ("l", Arc::new(list(child, test)) as ArrayRef),
        ])
        .unwrap();
        write_ipc_file(path, &[batch]);
    }
    let r = run(
        &b,
        &t,
        &SkewOptions {
            key: vec!["id".into()],
            max_samples: 1,
            ..Default::default()
        },
        32,
    );
    assert!(r.not_compared.is_empty(), "{:?}", r.not_compared);
    let l = feature(&r, "l");
    assert_eq!((l.match_count, l.mismatch_count), (90, 10));
    assert_eq!(l.samples[0].key, ["3"]);
    assert_eq!(l.samples[0].base.as_deref(), Some("[3, 4]"));
    assert_eq!(l.samples[0].test.as_deref(), Some("[3]"));
}

/// `-o` naming BASE or CURRENT is refused (exit 2) and the input is kept.
#[test]
fn cli_refuses_to_write_the_report_over_an_input() {
    let d = tmp();
    let (b, t) = write_small_pair(d.path(), true);
    for target in [&b, &t] {
        let before = std::fs::read(target).unwrap();
        fails_with(
            &["skew", &b, &t, "--key", "key", "-o", target],
            &["would write over an input"],
        );
        assert_eq!(std::fs::read(target).unwrap(), before);
    }
    // Another spelling of the same file too.
    let dotted = d.path().join(".").join("b.parquet");
    fails_with(
        &[
            "skew",
            &b,
            &t,
            "--key",
            "key",
            "-o",
            dotted.to_str().unwrap(),
        ],
        &["would write over an input"],
    );
}

/// A report without how the run went (partitions, bytes spilled), which
/// may differ between runs of the same join.
fn without_run_info(r: &SkewReport) -> SkewReport {
    SkewReport {
        partitions: 0,
        spilled_bytes: 0,
        ..r.clone()
    }
}
