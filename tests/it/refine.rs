//! compare decides exactly: refinement against scipy's values (the data
//! and values of tests/fixtures/compare, made once by its make.py),
//! undecided verdicts from stored profiles, the same results on every
//! backend and in every number of rounds, and the calibration of the tests
//! on seeded samples of one distribution.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use skewer::backend::Backend;
use skewer::compare::{
    compare, compare_data, CompareOptions, Comparison, Data, Refine, RefineOptions,
};
use skewer::engine::{self, NoProgress, ProfileOptions};
use skewer::profile::DatasetProfile;
use skewer::source::{Dataset, SourceOptions};

use crate::common::*;

const CASES: [&str; 5] = [
    "in_bucket",
    "zero_spike",
    "crossing_zero",
    "outliers",
    "same",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare")
}

fn expected(case: &str) -> Value {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    v["cases"][case].clone()
}

fn file(case: &str, side: &str) -> PathBuf {
    fixtures().join(format!("{case}.{side}.parquet"))
}

/// One-pass profiles, as compare makes of data files.
fn profile(ds: &Dataset, backend: &Arc<Backend>) -> DatasetProfile {
    let o = ProfileOptions {
        single_pass: true,
        backend: backend.clone(),
        ..Default::default()
    };
    engine::profile(ds, &o, &NoProgress).unwrap()
}

/// Compare two files on `backend`, refining as `refine` says, each round
/// collecting at most `budget` bytes of values.
fn compare_files(
    a: &Path,
    b: &Path,
    backend: &Arc<Backend>,
    refine: Refine,
    budget: u64,
    opts: &CompareOptions,
) -> Comparison {
    let open = |p: &Path| Dataset::open(&[p.to_path_buf()], &SourceOptions::default()).unwrap();
    let (da, db) = (open(a), open(b));
    let (pa, pb) = (profile(&da, backend), profile(&db, backend));
    let data = Data {
        base: &da,
        current: &db,
        options: RefineOptions {
            refine,
            memory_budget: budget,
            progress: &NoProgress,
        },
    };
    compare_data(&pa, &pb, opts, backend, Some(&data)).unwrap()
}

fn case(case: &str, backend: &Arc<Backend>, refine: Refine, budget: u64) -> Comparison {
    let (a, b) = (file(case, "base"), file(case, "current"));
    compare_files(&a, &b, backend, refine, budget, &CompareOptions::default())
}

/// The comparison as JSON without where it ran.
fn placeless(c: &Comparison) -> Value {
    let mut v = serde_json::to_value(c).unwrap();
    for f in v["features"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("computed_on");
    }
    v
}

#[test]
fn refined_ks_is_scipys_statistic_on_every_backend() {
    for name in CASES {
        let want = expected(name);
        let mut results = Vec::new();
        for backend in backends() {
            // 1 GiB: one round; 1,600 bytes: 25 values a round (64 bytes each), many
            // rounds.
            for budget in [1 << 30, 1600] {
                let c = case(name, &backend, Refine::Always, budget);
                let f = &c.features[0];
                let ks = want["ks"].as_f64().unwrap();
                assert!(
                    (f.metrics.ks.unwrap() - ks).abs() < 1e-15,
                    "{name}: KS {:?}, scipy {ks}",
                    f.metrics.ks
                );
                assert_eq!(f.bounds.ks, Some(0.0), "{name}: refined until exact");
                // Wasserstein is refined only when it decides: the raw
                // value is within its bound of scipy's.
                let scale = f.wasserstein_scale.as_ref().unwrap();
                let w = want["wasserstein"].as_f64().unwrap();
                let err = f.bounds.wasserstein.unwrap() * scale.value;
                let raw = f.wasserstein_raw.unwrap();
                assert!(
                    (raw - w).abs() <= err + 1e-9 * w,
                    "{name}: W {raw} vs {w} ± {err}"
                );
                // The scale is the base's IQR, from the sketch: within a
                // bucket of the exact one.
                let iqr = want["base_iqr"].as_f64().unwrap();
                assert_eq!(scale.by, "base_iqr");
                assert!(
                    (scale.value - iqr).abs() < 0.03 * iqr,
                    "{name}: {} vs {iqr}",
                    scale.value
                );
                results.push((budget, placeless(&c)));
            }
        }
        // Every backend: the same comparison. (Round sizes give the same
        // KS, checked above; which cells were refined on the way, and so
        // Wasserstein's estimate, may differ.)
        for (budget, r) in &results {
            let first = results.iter().find(|(b, _)| b == budget).unwrap();
            assert_eq!(r, &first.1, "{name}: budget {budget}");
        }
    }
}

#[test]
fn a_move_inside_one_bucket_is_found() {
    // 5% of the mass at 10.01 in the base, at 10.03 in the current data:
    // one 12-bit sketch bucket holds both.
    let ks = expected("in_bucket")["ks"].as_f64().unwrap();
    let cpu = Backend::cpu();
    let c = case("in_bucket", &cpu, Refine::Auto, 1 << 30);
    let f = &c.features[0];
    assert!(f.drifted, "{}", f.reason);
    assert_eq!(f.metrics.ks, Some(ks));
    assert!(f.refined_values > 0 && f.refined_values < 40_000);
    // In rounds of 25 values (1,600 bytes) too: refinement goes on past the
    // round that decides, until no cell can exceed the KS that decides.
    let small = case("in_bucket", &cpu, Refine::Auto, 1600);
    let f = &small.features[0];
    assert!(f.drifted, "{}", f.reason);
    assert_eq!((f.metrics.ks, f.bounds.ks), (Some(ks), Some(0.0)));
    // From the profiles alone, or without refinement: undecided, with an
    // interval that holds scipy's value.
    let never = case("in_bucket", &cpu, Refine::Never, 1 << 30);
    let pa = profile(
        &Dataset::open(&[file("in_bucket", "base")], &SourceOptions::default()).unwrap(),
        &cpu,
    );
    let pb = profile(
        &Dataset::open(&[file("in_bucket", "current")], &SourceOptions::default()).unwrap(),
        &cpu,
    );
    let stored = compare(&pa, &pb, &CompareOptions::default(), &Backend::Cpu).unwrap();
    assert_eq!(placeless(&stored), placeless(&never));
    let f = &stored.features[0];
    assert!(!f.drifted);
    let [low, high] = f.undecided["ks"];
    assert!(low <= ks && ks <= high, "[{low}, {high}] holds {ks}");
    assert!(
        f.reason.starts_with("undecided: ks is between"),
        "{}",
        f.reason
    );

    // The command line: exit 3 and UNDECIDED from the profiles, exit 1
    // from the data.
    let d = tmp();
    let mut jsons = Vec::new();
    for side in ["base", "current"] {
        let out = d.path().join(format!("{side}.json"));
        let data = file("in_bucket", side);
        let o = skewer(&[
            "profile",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--backend",
            "cpu",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        jsons.push(out);
    }
    let o = skewer(&[
        "compare",
        jsons[0].to_str().unwrap(),
        jsons[1].to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("0 of 1 features drifted, 1 undecided"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("UNDECIDED") && l.contains(" x ")),
        "{text}"
    );
    let (a, b) = (file("in_bucket", "base"), file("in_bucket", "current"));
    let o = skewer(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--backend",
        "cpu",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["features"][0]["metrics"]["ks"].as_f64(), Some(ks));

    // validate: a KS comparator fires from the data and is undecided from
    // the profiles.
    let schema = d.path().join("schema.json");
    let o = skewer(&[
        "schema",
        "infer",
        a.to_str().unwrap(),
        "-o",
        schema.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&schema).unwrap()).unwrap();
    s["features"][0]["drift_comparator"] = serde_json::json!({"ks": 0.03, "alpha": 1e-4});
    std::fs::write(&schema, s.to_string()).unwrap();
    let validate = |data: &Path, previous: &Path| {
        let o = skewer(&[
            "validate",
            data.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--previous",
            previous.to_str().unwrap(),
            "--json",
            "--backend",
            "cpu",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["anomalies"].as_array().unwrap().clone()
    };
    let found = validate(&b, &a);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["type"], "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH");
    assert_eq!(found[0]["value"].as_f64(), Some(ks));
    let found = validate(&jsons[1], &jsons[0]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["type"], "COMPARATOR_UNDECIDED");
    let interval = found[0]["value"].as_array().unwrap();
    assert!(interval[0].as_f64().unwrap() <= ks && ks <= interval[1].as_f64().unwrap());
}

#[test]
fn outliers_cannot_break_wasserstein() {
    // Five values of 1e12 on both sides and a shift of the bulk by half a
    // standard deviation.
    let want = expected("outliers");
    let c = case("outliers", &Backend::cpu(), Refine::Auto, 1 << 30);
    let f = &c.features[0];
    let scale = f.wasserstein_scale.as_ref().unwrap();
    assert_eq!(scale.by, "base_iqr");
    let w = want["wasserstein"].as_f64().unwrap() / scale.value;
    let got = f.metrics.wasserstein.unwrap();
    assert!((got - w).abs() <= f.bounds.wasserstein.unwrap() + 1e-12);
    assert!(got > 0.3, "a clear shift: {got}");
    // Divided by the standard deviation (the old scale) it was nothing.
    let pa = profile(
        &Dataset::open(&[file("outliers", "base")], &SourceOptions::default()).unwrap(),
        &Backend::cpu(),
    );
    let sd = pa.features[0].numeric.as_ref().unwrap().std_dev.unwrap();
    assert!(f.wasserstein_raw.unwrap() / sd < 1e-9);
}

#[test]
fn reading_changed_data_is_an_error_naming_the_file() {
    let d = tmp();
    let (a, b) = (d.path().join("a.parquet"), d.path().join("b.parquet"));
    for p in [&a, &b] {
        std::fs::copy(
            file("in_bucket", if p == &a { "base" } else { "current" }),
            p,
        )
        .unwrap();
    }
    let open = |p: &Path| Dataset::open(&[p.to_path_buf()], &SourceOptions::default()).unwrap();
    let cpu = Backend::cpu();
    let (pa, pb) = (profile(&open(&a), &cpu), profile(&open(&b), &cpu));
    // The current file changes after it was profiled.
    std::fs::copy(file("in_bucket", "base"), &b).unwrap();
    let (da, db) = (open(&a), open(&b));
    let data = Data {
        base: &da,
        current: &db,
        options: RefineOptions {
            refine: Refine::Auto,
            memory_budget: 1 << 30,
            progress: &NoProgress,
        },
    };
    let e = compare_data(&pa, &pb, &CompareOptions::default(), &cpu, Some(&data)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, skewer::Error::DataChanged { .. }), "{msg}");
    assert!(
        msg.contains("b.parquet") && msg.contains("column \"x\""),
        "{msg}"
    );
}

/// Write `cols` as one Parquet file.
fn write(path: &Path, cols: Vec<(String, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    write_parquet(
        path,
        &[batch],
        parquet::basic::Compression::UNCOMPRESSED,
        1 << 20,
    );
}

/// `k` of `n` trials at probability `p` is within the two-sided 99.9%
/// interval (normal approximation to the binomial).
fn within_binomial(k: usize, n: usize, p: f64) -> bool {
    let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
    (k as f64 - mean).abs() <= 3.3 * sd
}

#[test]
fn decisions_are_calibrated_on_samples_of_one_distribution() {
    // 400 numeric and 200 categorical features, 1,000 values a side, each
    // pair drawn from one distribution; threshold 0, so only the tests
    // decide. A feature is flagged with probability at most alpha.
    let (n, numeric, categorical, alpha) = (1000, 400, 200, 0.05);
    let mut rng = Rng::new(20261127);
    let d = tmp();
    let (a, b) = (d.path().join("a.parquet"), d.path().join("b.parquet"));
    for path in [&a, &b] {
        let mut cols: Vec<(String, ArrayRef)> = Vec::new();
        for j in 0..numeric {
            // Some on a coarse lattice (ties), most continuous.
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    let x = j as f64 + (1.0 + j as f64 / 100.0) * rng.normal();
                    if j % 4 == 0 {
                        (x * 4.0).round() / 4.0
                    } else {
                        x
                    }
                })
                .collect();
            cols.push((format!("n{j:03}"), Arc::new(Float64Array::from(v))));
        }
        for j in 0..categorical {
            // Zipf-like shares over 5 + j % 20 values.
            let k = 5 + j % 20;
            let w: Vec<f64> = (1..=k).map(|i| 1.0 / i as f64).collect();
            let total: f64 = w.iter().sum();
            let v: Vec<String> = (0..n)
                .map(|_| {
                    let mut u = rng.f64() * total;
                    let i = w
                        .iter()
                        .position(|&x| {
                            u -= x;
                            u < 0.0
                        })
                        .unwrap_or(k - 1);
                    format!("v{i}")
                })
                .collect();
            cols.push((format!("c{j:03}"), Arc::new(StringArray::from(v))));
        }
        write(path, cols);
    }
    let opts = CompareOptions {
        threshold: 0.0,
        alpha,
        bins: 10,
    };
    let c = compare_files(&a, &b, &Backend::cpu(), Refine::Auto, 1 << 30, &opts);
    let count = |kind: &str, f: &dyn Fn(&skewer::compare::FeatureComparison) -> bool| {
        c.features.iter().filter(|x| x.kind == kind && f(x)).count()
    };
    let (num_flags, cat_flags) = (
        count("numeric", &|f| f.drifted),
        count("categorical", &|f| f.drifted),
    );
    assert_eq!(count("numeric", &|f| !f.undecided.is_empty()), 0);
    eprintln!("flagged: {num_flags} of {numeric} numeric, {cat_flags} of {categorical} categorical at alpha {alpha}");
    assert!(
        within_binomial(num_flags, numeric, alpha),
        "numeric: {num_flags} of {numeric}"
    );
    assert!(
        within_binomial(cat_flags, categorical, alpha),
        "categorical: {cat_flags} of {categorical}"
    );
    // JSD, PSI and Hellinger at their critical values (each at alpha / 2
    // for numeric features, as KS and L∞) stay within their rates too.
    for m in ["jsd", "psi", "hellinger"] {
        for (kind, total, level) in [
            ("numeric", numeric, alpha / 2.0),
            ("categorical", categorical, alpha),
        ] {
            let over = count(kind, &|f| {
                let v = serde_json::to_value(f).unwrap();
                match (v["metrics"][m].as_f64(), v["critical"][m].as_f64()) {
                    (Some(x), Some(c)) => x >= c,
                    _ => false,
                }
            });
            eprintln!("{m} ≥ critical: {over} of {total} {kind} at {level}");
            assert!(
                within_binomial(over, total, level),
                "{m} {kind}: {over} of {total}"
            );
        }
    }
}

#[test]
fn jsd_is_not_significant_on_high_cardinality_noise() {
    // 150,000 ids over 200,000 rows a side, of one distribution: JSD is
    // large (sampling noise) and below its critical value; the same with 5%
    // of the rows moved to one new id is above it.
    let mut rng = Rng::new(7);
    let d = tmp();
    let ids = |rng: &mut Rng, moved: f64| -> ArrayRef {
        let v: Vec<String> = (0..200_000)
            .map(|_| {
                if rng.chance(moved) {
                    "new".to_string()
                } else {
                    format!("u{}", rng.below(150_000))
                }
            })
            .collect();
        Arc::new(StringArray::from(v))
    };
    let paths: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|s| d.path().join(format!("{s}.parquet")))
        .collect();
    write(&paths[0], vec![("id".into(), ids(&mut rng, 0.0))]);
    write(&paths[1], vec![("id".into(), ids(&mut rng, 0.0))]);
    write(&paths[2], vec![("id".into(), ids(&mut rng, 0.05))]);
    let opts = CompareOptions::default();
    let cpu = Backend::cpu();
    let same = compare_files(&paths[0], &paths[1], &cpu, Refine::Auto, 1 << 30, &opts);
    let f = &same.features[0];
    let (jsd, crit) = (f.metrics.jsd.unwrap(), f.critical.jsd.unwrap());
    assert!(jsd > 0.2 && jsd < crit, "noise: jsd {jsd}, critical {crit}");
    let (h, hc) = (f.metrics.hellinger.unwrap(), f.critical.hellinger.unwrap());
    assert!(h < hc, "noise: hellinger {h}, critical {hc}");
    let moved = compare_files(&paths[0], &paths[2], &cpu, Refine::Auto, 1 << 30, &opts);
    let f = &moved.features[0];
    assert!(
        f.metrics.jsd.unwrap() >= f.critical.jsd.unwrap(),
        "{:?} {:?}",
        f.metrics,
        f.critical
    );
}
