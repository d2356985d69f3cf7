//! Drift metrics: against hand-computed values, against slow reference code
//! on the raw samples, their symmetries and ranges, the significance guard
//! (samples of one distribution are never flagged), and the command line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use skewer::backend::Backend;
use skewer::compare::{compare, CompareOptions, Comparison, FeatureComparison};
use skewer::profile::DatasetProfile;

use crate::common::*;

pub fn profile_cols(dir: &Path, name: &str, cols: Vec<(&str, ArrayRef)>) -> DatasetProfile {
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let p = dir.join(format!("{name}.parquet"));
    write_parquet(
        &p,
        &[batch],
        parquet::basic::Compression::UNCOMPRESSED,
        1 << 20,
    );
    let (src, o) = opts(4096, 1 << 30);
    profile_files(&[p], &src, &o).unwrap()
}

fn cmp(a: &DatasetProfile, b: &DatasetProfile) -> Comparison {
    compare(a, b, &CompareOptions::default(), &Backend::Cpu).unwrap()
}

fn feat<'a>(c: &'a Comparison, name: &str) -> &'a FeatureComparison {
    c.features.iter().find(|f| f.name == name).unwrap()
}

fn strs(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

#[test]
fn hand_computed_values() {
    let d = tmp();
    let a = profile_cols(
        d.path(),
        "a",
        vec![
            ("s", strs(&["a", "a", "b", "b"])),
            ("i", Arc::new(Int64Array::from(vec![1, 2, 3, 4]))),
        ],
    );
    let b = profile_cols(
        d.path(),
        "b",
        vec![
            ("s", strs(&["a", "b", "b", "b"])),
            ("i", Arc::new(Int64Array::from(vec![3, 4, 5, 6]))),
        ],
    );
    let c = cmp(&a, &b);
    let s = feat(&c, "s");
    // p = (.5, .5), q = (.25, .75): both values differ by .25; the first wins.
    assert_eq!(s.metrics.linf, Some(0.25));
    assert_eq!(s.linf_at.as_deref(), Some("a"));
    let h = |v: &[f64]| -v.iter().map(|x| x * x.log2()).sum::<f64>();
    let want = h(&[0.375, 0.625]) - 0.5 * (h(&[0.5, 0.5]) + h(&[0.25, 0.75]));
    assert!((s.metrics.jsd.unwrap() - want).abs() < 1e-15);
    // Four values a side cannot be significant.
    assert!(!s.drifted, "{}", s.reason);
    assert!(s.reason.contains("not significant"), "{}", s.reason);

    let i = feat(&c, "i");
    // F_base − F_cur peaks at 0.5 on [2, 3) and [4, 5); the two ECDFs are 2
    assert_eq!(i.metrics.ks, Some(0.5));
    assert_eq!(i.bounds.ks, Some(0.0), "one value per bucket: exact");
    // apart everywhere: W1 = 2, over the base's interquartile range (its
    // quantiles 1 and 3 by the inverted CDF): 1.
    assert_eq!(i.wasserstein_raw, Some(2.0));
    let scale = i.wasserstein_scale.as_ref().unwrap();
    assert_eq!((scale.by.as_str(), scale.value), ("base_iqr", 2.0));
    assert_eq!(i.metrics.wasserstein, Some(1.0));
    assert_eq!(i.bounds.wasserstein, Some(0.0));
}

/// Exact KS and W1 from raw samples (the slow, obvious way).
fn slow_ks_w1(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut xs: Vec<f64> = a.iter().chain(b).copied().collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let cdf = |s: &[f64], x: f64| s.iter().filter(|&&v| v <= x).count() as f64 / s.len() as f64;
    let (mut ks, mut w) = (0.0f64, 0.0);
    for (k, &x) in xs.iter().enumerate() {
        let d = (cdf(a, x) - cdf(b, x)).abs();
        ks = ks.max(d);
        if let Some(&next) = xs.get(k + 1) {
            w += (next - x) * d;
        }
    }
    (ks, w)
}

#[test]
fn numeric_metrics_against_slow_reference() {
    let d = tmp();
    let mut rng = Rng::new(11);
    for (case, n, m) in [(0, 3000usize, 2500usize), (1, 701, 4099), (2, 2048, 2049)] {
        let draw = |rng: &mut Rng, k: usize, shift: f64| -> Vec<f64> {
            (0..k)
                .map(|_| match case {
                    0 => rng.normal() * 3.0 + shift,
                    1 => (rng.below(40) as f64) + shift.round(),
                    _ => rng.normal().exp() * 1e-3 + shift * 1e-3,
                })
                .collect()
        };
        let xa = draw(&mut rng, n, 0.0);
        let xb = draw(&mut rng, m, 0.7);
        let pa = profile_cols(
            d.path(),
            "a",
            vec![("x", Arc::new(Float64Array::from(xa.clone())) as ArrayRef)],
        );
        let pb = profile_cols(
            d.path(),
            "b",
            vec![("x", Arc::new(Float64Array::from(xb.clone())) as ArrayRef)],
        );
        let f = cmp(&pa, &pb).features[0].clone();
        let (ks, w) = slow_ks_w1(&xa, &xb);
        let (eks, bks) = (f.metrics.ks.unwrap(), f.bounds.ks.unwrap());
        assert!(
            eks <= ks + 1e-12,
            "case {case}: sketch KS {eks} above exact {ks}"
        );
        assert!(
            ks <= eks + bks + 1e-12,
            "case {case}: exact KS {ks} beyond {eks} + {bks}"
        );
        let sd = f.wasserstein_scale.as_ref().unwrap().value;
        let (ew, bw) = (
            f.metrics.wasserstein.unwrap(),
            f.bounds.wasserstein.unwrap(),
        );
        assert!(
            (ew - w / sd).abs() <= bw + 1e-9 * (w / sd).max(1.0),
            "case {case}: W {ew} vs exact {} (bound {bw})",
            w / sd
        );
        // Bounds are useful, not vacuous, for continuous data (the sketch's
        // buckets are fine). Case 1's atoms (integers as floats) each fill
        // a bucket wider than one value, so its bound stays a bucket's mass.
        assert!(
            case == 1 || bks < 0.01 && bw < 0.1 * (w / sd).max(0.1),
            "case {case}: {bks} {bw}"
        );
        let jsd = f.metrics.jsd.unwrap();
        assert!((0.0..=1.0).contains(&jsd));
        // Over the same bins as linf: linf ≤ total variation ≤ √2·H.
        let (h, linf) = (f.metrics.hellinger.unwrap(), f.metrics.linf.unwrap());
        assert!((0.0..=1.0).contains(&h), "case {case}: {h}");
        assert!(
            linf <= std::f64::consts::SQRT_2 * h + 1e-12,
            "case {case}: {linf} {h}"
        );
    }
}

#[test]
fn categorical_metrics_against_slow_reference() {
    let d = tmp();
    let mut rng = Rng::new(5);
    let a = strings(&mut rng, 5000, 300, 0.1);
    let b = strings(&mut rng, 3001, 200, 0.0);
    let count = |s: &StringArray| {
        let mut m = std::collections::BTreeMap::<String, u64>::new();
        for v in s.iter().flatten() {
            *m.entry(v.to_string()).or_default() += 1;
        }
        m
    };
    let (ca, cb) = (count(&a), count(&b));
    let (na, nb) = (
        ca.values().sum::<u64>() as f64,
        cb.values().sum::<u64>() as f64,
    );
    let keys: std::collections::BTreeSet<&String> = ca.keys().chain(cb.keys()).collect();
    let (mut linf, mut at, mut jsd, mut bc) = (0.0f64, String::new(), 0.0f64, 0.0f64);
    for k in keys {
        let p = *ca.get(k).unwrap_or(&0) as f64 / na;
        let q = *cb.get(k).unwrap_or(&0) as f64 / nb;
        bc += (p * q).sqrt();
        if (p - q).abs() > linf {
            linf = (p - q).abs();
            at = k.clone();
        }
        let m = (p + q) / 2.0;
        if p > 0.0 {
            jsd += 0.5 * p * (p / m).log2();
        }
        if q > 0.0 {
            jsd += 0.5 * q * (q / m).log2();
        }
    }
    let pa = profile_cols(d.path(), "a", vec![("s", Arc::new(a) as ArrayRef)]);
    let pb = profile_cols(d.path(), "b", vec![("s", Arc::new(b) as ArrayRef)]);
    let f = cmp(&pa, &pb).features[0].clone();
    assert_eq!(f.metrics.linf, Some(linf));
    assert_eq!(f.linf_at, Some(at));
    assert!((f.metrics.jsd.unwrap() - jsd).abs() < 1e-12);
    // Hellinger, the textbook way: √(1 − Σ √(p·q)).
    let h = (1.0 - bc).sqrt();
    assert!((f.metrics.hellinger.unwrap() - h).abs() < 1e-12, "{h}");
    assert_eq!(f.bounds.hellinger, None, "no other mass: exact");
}

#[test]
fn identical_symmetric_and_in_range() {
    let d = tmp();
    let mut rng = Rng::new(3);
    let batch = |rng: &mut Rng, shift: f64| -> Vec<(&'static str, ArrayRef)> {
        let x: Float64Array = (0..4000).map(|_| Some(rng.normal() + shift)).collect();
        vec![
            ("x", Arc::new(x) as ArrayRef),
            ("s", Arc::new(strings(rng, 4000, 50, 0.05)) as ArrayRef),
            ("nan", Arc::new(awkward_f64(rng, 4000, 0.1)) as ArrayRef),
        ]
    };
    let a = profile_cols(d.path(), "a", batch(&mut rng, 0.0));
    let b = profile_cols(d.path(), "b", batch(&mut rng, 0.3));
    let same = cmp(&a, &a);
    for f in &same.features {
        let m = &f.metrics;
        for v in [m.linf, m.jsd, m.ks, m.psi, m.wasserstein, m.hellinger]
            .into_iter()
            .flatten()
        {
            assert_eq!(v, 0.0, "{}: {:?}", f.name, m);
        }
        assert!(!f.drifted);
    }
    let (ab, ba) = (cmp(&a, &b), cmp(&b, &a));
    for f in &ab.features {
        let g = feat(&ba, &f.name);
        assert_eq!(f.metrics.linf, g.metrics.linf, "{}", f.name);
        assert_eq!(f.linf_at, g.linf_at, "{}", f.name);
        assert_eq!(f.metrics.ks, g.metrics.ks, "{}", f.name);
        assert_eq!(f.metrics.jsd, g.metrics.jsd, "{}", f.name);
        assert_eq!(f.metrics.hellinger, g.metrics.hellinger, "{}", f.name);
        assert!(f.metrics.hellinger.is_some(), "{}", f.name);
        if let (Some(x), Some(y)) = (f.metrics.psi, g.metrics.psi) {
            assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{}", f.name);
        }
        for v in [
            f.metrics.linf,
            f.metrics.jsd,
            f.metrics.ks,
            f.metrics.hellinger,
        ]
        .into_iter()
        .flatten()
        {
            assert!((0.0..=1.0).contains(&v), "{}: {v}", f.name);
        }
    }
    assert!(feat(&ab, "x").drifted, "a 0.3 sd shift over 4000 values");
    // Disjoint supports: everything moved.
    let c = profile_cols(d.path(), "c", vec![("s", strs(&["x", "y"]))]);
    let e = profile_cols(d.path(), "e", vec![("s", strs(&["z", "z", "w"]))]);
    let f = cmp(&c, &e).features[0].clone();
    assert_eq!(f.metrics.jsd, Some(1.0));
    assert_eq!(f.metrics.linf, Some(2.0 / 3.0));
    assert!((f.metrics.hellinger.unwrap() - 1.0).abs() < 1e-15);
}

/// Rows with each value repeated its count of times, in value order.
fn repeat<T: Clone>(values: &[T], counts: &[usize]) -> Vec<T> {
    values
        .iter()
        .zip(counts)
        .flat_map(|(v, &k)| std::iter::repeat_n(v.clone(), k))
        .collect()
}

/// Hellinger against values numpy computed from the same counts, by the
/// textbook formula (skewer computes √(½ Σ (√p − √q)²)):
///
/// ```python
/// import numpy as np
/// def hellinger(a, b):
///     p = np.asarray(a, dtype=np.float64) / np.sum(a)
///     q = np.asarray(b, dtype=np.float64) / np.sum(b)
///     return float(np.sqrt(1.0 - np.sum(np.sqrt(p * q))))
/// # Categorical: counts of "a", "b", "c", "d", "e" on each side.
/// print(repr(hellinger([5, 3, 2, 0, 0], [0, 4, 4, 7, 1])))
/// # Numeric: counts of 1, 2, 4, 8, 16, NaN, +inf on each side.
/// print(repr(hellinger([30, 20, 25, 15, 20, 6, 4], [15, 25, 20, 30, 25, 0, 5])))
/// ```
///
/// (numpy 2, Python 3.) In the numeric case each value holds at least a
/// tenth of the pooled mass, so each is a metric bin of its own, and NaN
/// and +inf are categories of their own.
#[test]
fn hellinger_matches_numpy() {
    const CATEGORICAL: f64 = 0.7088948606792392;
    const NUMERIC: f64 = 0.22396833572356234;
    let d = tmp();
    let cats = ["a", "b", "c", "d", "e"];
    let nums = [1.0, 2.0, 4.0, 8.0, 16.0, f64::NAN, f64::INFINITY];
    let side = |name: &str, c: [usize; 5], n: [usize; 7]| {
        let (s, x) = (repeat(&cats, &c), repeat(&nums, &n));
        // Equal lengths: pad the shorter column with nulls.
        let len = s.len().max(x.len());
        let s: StringArray = (0..len).map(|i| s.get(i).copied()).collect();
        let x: Float64Array = (0..len).map(|i| x.get(i).copied()).collect();
        profile_cols(
            d.path(),
            name,
            vec![
                ("s", Arc::new(s) as ArrayRef),
                ("x", Arc::new(x) as ArrayRef),
            ],
        )
    };
    let a = side("a", [5, 3, 2, 0, 0], [30, 20, 25, 15, 20, 6, 4]);
    let b = side("b", [0, 4, 4, 7, 1], [15, 25, 20, 30, 25, 0, 5]);
    for (x, y) in [(&a, &b), (&b, &a)] {
        let c = cmp(x, y);
        let s = feat(&c, "s").metrics.hellinger.unwrap();
        assert!((s - CATEGORICAL).abs() < 1e-14, "{s} vs {CATEGORICAL}");
        let n = feat(&c, "x").metrics.hellinger.unwrap();
        assert!((n - NUMERIC).abs() < 1e-14, "{n} vs {NUMERIC}");
    }
}

/// Values beyond the distinct-value cap are one "other" mass: the true
/// Hellinger distance stays within `bounds.hellinger` of the reported one,
/// and the bound is reached when both sides list the same values and
/// their other masses differ entirely.
#[test]
fn hellinger_bound_covers_the_other_mass() {
    let d = tmp();
    let capped = |name: &str, cap: usize, v: &[String]| {
        let p = d.path().join(format!("{name}.parquet"));
        let s: StringArray = v.iter().map(|x| Some(x.as_str())).collect();
        let batch = RecordBatch::try_from_iter([("s", Arc::new(s) as ArrayRef)]).unwrap();
        write_parquet(
            &p,
            &[batch],
            parquet::basic::Compression::UNCOMPRESSED,
            1 << 20,
        );
        let (src, mut o) = opts(4096, 1 << 30);
        o.stats.unique_cap = cap;
        profile_files(&[p], &src, &o).unwrap()
    };
    let exact = |a: &[String], b: &[String]| {
        let count = |v: &[String]| {
            let mut m = std::collections::BTreeMap::<String, f64>::new();
            for x in v {
                *m.entry(x.clone()).or_default() += 1.0 / v.len() as f64;
            }
            m
        };
        let (p, q) = (count(a), count(b));
        let bc: f64 = p
            .iter()
            .map(|(k, x)| (x * q.get(k).unwrap_or(&0.0)).sqrt())
            .sum();
        (1.0 - bc).max(0.0).sqrt()
    };
    // The same listed value, and other masses of 10% on disjoint values.
    let side = |tag: &str| -> Vec<String> {
        let mut v = vec!["x".to_string(); 90];
        v.extend((0..10).map(|i| format!("{tag}{i}")));
        v
    };
    let (a, b) = (side("y"), side("z"));
    let f = cmp(&capped("a", 1, &a), &capped("b", 1, &b)).features[0].clone();
    let (h, bound, truth) = (
        f.metrics.hellinger.unwrap(),
        f.bounds.hellinger.unwrap(),
        exact(&a, &b),
    );
    assert_eq!(h, 0.0, "x and the other mass: the same shares");
    assert!((truth - 0.1f64.sqrt()).abs() < 1e-12, "{truth}");
    assert!((bound - truth).abs() < 1e-12, "tight: {bound} vs {truth}");
    // Random data at several caps: the truth within the bound.
    let mut rng = Rng::new(17);
    for cap in [3usize, 10, 40] {
        let draw = |rng: &mut Rng, n: usize, k: u64| -> Vec<String> {
            (0..n).map(|_| format!("v{}", rng.below(k))).collect()
        };
        let a = draw(&mut rng, 3000, 60);
        let b = draw(&mut rng, 2000, 80);
        let f = cmp(&capped("a", cap, &a), &capped("b", cap, &b)).features[0].clone();
        let (h, bound, truth) = (
            f.metrics.hellinger.unwrap(),
            f.bounds.hellinger.unwrap(),
            exact(&a, &b),
        );
        assert!(bound > 0.0, "cap {cap}");
        assert!(
            (h - truth).abs() <= bound + 1e-12,
            "cap {cap}: {h} vs exact {truth}, bound {bound}"
        );
    }
}

/// The significance guard: samples of one distribution, small or with
/// hundreds of thousands of distinct values, are never flagged.
#[test]
fn samples_of_one_distribution_are_not_flagged() {
    let d = tmp();
    let mut rng = Rng::new(99);
    for trial in 0..40 {
        let n = [20usize, 50, 200, 1000][trial % 4];
        let side = |rng: &mut Rng| -> Vec<(&'static str, ArrayRef)> {
            let x: Float64Array = (0..n).map(|_| Some(rng.normal())).collect();
            let k: Int64Array = (0..n).map(|_| Some(rng.below(4) as i64)).collect();
            let s: StringArray = (0..n)
                .map(|_| Some(["a", "b", "c", "d", "e"][rng.below(5) as usize]))
                .collect();
            vec![
                ("x", Arc::new(x) as ArrayRef),
                ("k", Arc::new(k) as ArrayRef),
                ("s", Arc::new(s) as ArrayRef),
            ]
        };
        let a = profile_cols(d.path(), "a", side(&mut rng));
        let b = profile_cols(d.path(), "b", side(&mut rng));
        for f in cmp(&a, &b).features {
            assert!(
                !f.drifted,
                "trial {trial} (n = {n}): {} flagged: {}",
                f.name, f.reason
            );
        }
    }
    // 150,000 distinct ids over 200,000 rows a side: JSD over raw values is
    // large from sampling noise alone, and must not flag.
    let ids = |rng: &mut Rng| -> Vec<(&'static str, ArrayRef)> {
        let s: StringArray = (0..200_000)
            .map(|_| Some(format!("u{}", rng.below(150_000))))
            .collect();
        vec![("id", Arc::new(s) as ArrayRef)]
    };
    let a = profile_cols(d.path(), "a", ids(&mut rng));
    let b = profile_cols(d.path(), "b", ids(&mut rng));
    let f = cmp(&a, &b).features[0].clone();
    assert!(
        f.metrics.jsd.unwrap() > 0.1,
        "the noise this guards against"
    );
    assert!(f.metrics.hellinger.unwrap() > 0.1, "Hellinger too");
    assert!(!f.drifted, "{}", f.reason);
}

fn flagged(json: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("compare --json");
    let mut out: Vec<String> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["drifted"].as_bool().unwrap())
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn truth(path: &Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut t: Vec<String> = v["shifted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

#[test]
fn cli_flags_the_shifted_columns_of_the_example_pair() {
    let ex = examples();
    let (train, serve) = (ex.join("train.parquet"), ex.join("serve.parquet"));
    let o = skewer(&[
        "compare",
        train.to_str().unwrap(),
        serve.to_str().unwrap(),
        "--backend",
        "cpu",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(flagged(&o.stdout), truth(&ex.join("truth.json")));
    // From the data, no decision is left open.
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let features = v["features"].as_array().unwrap();
    assert!(features.iter().all(|f| f.get("undecided").is_none()));
    assert!(features
        .iter()
        .any(|f| f["refined_values"].as_u64() > Some(0)));
    // The data-file path without refinement equals the profile path.
    let o = skewer(&[
        "compare",
        train.to_str().unwrap(),
        serve.to_str().unwrap(),
        "--backend",
        "cpu",
        "--json",
        "--refine",
        "never",
    ]);
    let d = tmp();
    let (pa, pb) = (d.path().join("a.json"), d.path().join("b.json"));
    for (data, out) in [(&train, &pa), (&serve, &pb)] {
        let o = skewer(&[
            "profile",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--backend",
            "cpu",
        ]);
        assert!(o.status.success());
    }
    let p = skewer(&[
        "compare",
        pa.to_str().unwrap(),
        pb.to_str().unwrap(),
        "--json",
        "--backend",
        "cpu",
    ]);
    assert_eq!(p.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&p.stdout),
        String::from_utf8_lossy(&o.stdout)
    );
    // The table and Markdown name the drifted features.
    let t = skewer(&["compare", pa.to_str().unwrap(), pb.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&t.stdout);
    assert!(text.starts_with("5 of 20 features drifted"), "{text}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("DRIFT") && l.contains("s_low")));
    let md = skewer(&[
        "compare",
        pa.to_str().unwrap(),
        pb.to_str().unwrap(),
        "--markdown",
    ]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("| DRIFT | b_flag | categorical |"), "{md}");
    assert!(
        md.contains("| status | feature | kind | ks | linf | linf at | jsd | psi | wasserstein | hellinger | n base / current | why |"),
        "{md}"
    );
    // Same data on both sides: exit 0, nothing drifted.
    let same = skewer(&[
        "compare",
        train.to_str().unwrap(),
        train.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(same.status.code(), Some(0));
    assert!(flagged(&same.stdout).is_empty());
    // The same profile on both sides: f_zeros' bucket around zero holds
    // 29% of the values, so from the sketches alone its KS could be that
    // large: undecided (exit 3), with the interval.
    let same = skewer(&[
        "compare",
        pa.to_str().unwrap(),
        pa.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(same.status.code(), Some(3));
    assert!(flagged(&same.stdout).is_empty());
    let v: serde_json::Value = serde_json::from_slice(&same.stdout).unwrap();
    let open: Vec<&serde_json::Value> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("undecided").is_some())
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["name"], "f_zeros");
    let ks = &open[0]["undecided"]["ks"];
    assert_eq!(ks[0], 0.0);
    assert!(ks[1].as_f64().unwrap() > 0.25, "{ks}");
    // Bad input: exit 2 naming the file.
    let bad = skewer(&["compare", pa.to_str().unwrap(), "/nonexistent/x.json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent/x.json"));
    let bad = skewer(&[
        "compare",
        pa.to_str().unwrap(),
        pb.to_str().unwrap(),
        "--threshold",
        "2",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

/// A Python with numpy and pyarrow for the bench generator.
pub fn bench_python() -> Option<String> {
    python_with("numpy, pyarrow", "the bench-pair test")
}

/// The bench pair of bench/gen_train.py at 1M rows: compare flags exactly the
/// columns of truth.json, and train sets made with two seeds (one
/// distribution, other samples) flag nothing; validate agrees.
#[test]
fn bench_pair_flags_exactly_the_truth() {
    let Some(py) = bench_python() else { return };
    let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_train.py");
    let d = tmp();
    let (s7, s8) = (d.path().join("seed7"), d.path().join("seed8"));
    for (dir, seed) in [(&s7, "7"), (&s8, "8")] {
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new(&py)
            .args([
                gen.to_str().unwrap(),
                "1000000",
                dir.to_str().unwrap(),
                "--seed",
                seed,
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let p = |dir: &Path, f: &str| dir.join(f).to_str().unwrap().to_string();
    let o = skewer(&[
        "compare",
        &p(&s7, "train.parquet"),
        &p(&s7, "serve.parquet"),
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(flagged(&o.stdout), truth(&s7.join("truth.json")));

    let o = skewer(&[
        "compare",
        &p(&s7, "train.parquet"),
        &p(&s8, "train.parquet"),
        "--json",
    ]);
    assert_eq!(flagged(&o.stdout), Vec::<String>::new());
    assert_eq!(o.status.code(), Some(0));

    // validate: a schema from seed 7's train set, today's data = seed 8's
    // train set with seed 7's as the previous span and the training data.
    let schema = p(d.path(), "schema.json");
    let prof = p(d.path(), "train7.json");
    assert!(skewer(&["profile", &p(&s7, "train.parquet"), "-o", &prof])
        .status
        .success());
    assert!(skewer(&["schema", "infer", &prof, "-o", &schema])
        .status
        .success());
    let train7 = p(&s7, "train.parquet");
    let v = skewer(&[
        "validate",
        &p(&s8, "train.parquet"),
        "--schema",
        &schema,
        "--previous",
        &train7,
        "--training",
        &train7,
    ]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    // With seed 7's stored profile instead of its data, the comparators
    // whose sketch bounds straddle 0.03 cannot be decided, and say so.
    let v = skewer(&[
        "validate",
        &p(&s8, "train.parquet"),
        "--schema",
        &schema,
        "--previous",
        &prof,
        "--training",
        &prof,
        "--json",
    ]);
    let kinds = anomaly_fields(&v, "type");
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| *k == "COMPARATOR_UNDECIDED"),
        "{kinds:?}"
    );
    let v = skewer(&[
        "validate",
        &p(&s7, "serve.parquet"),
        "--schema",
        &schema,
        "--training",
        &train7,
        "--json",
    ]);
    let mut hit = anomaly_fields(&v, "feature");
    hit.dedup();
    hit.sort();
    assert_eq!(hit, truth(&s7.join("truth.json")));
}

/// `field` of each anomaly that `validate --json` found (exit 1).
fn anomaly_fields(v: &std::process::Output, field: &str) -> Vec<String> {
    assert_eq!(v.status.code(), Some(1), "{}", stderr(v));
    let j: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    j["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a[field].as_str().unwrap().to_string())
        .collect()
}

/// compare, validate and schema infer profile data in one pass: everything
/// they use (counts, moments, min/max, sketches, value counts) equals the
/// two-pass profile's; only quantiles and histograms become sketch estimates.
#[test]
fn one_pass_profiles_carry_what_comparisons_use() {
    let ex = examples().join("train.parquet");
    let (src, exact_opts) = opts(512, 0);
    let one = skewer::engine::ProfileOptions {
        single_pass: true,
        ..exact_opts.clone()
    };
    let a = profile_files(std::slice::from_ref(&ex), &src, &exact_opts).unwrap();
    let b = profile_files(std::slice::from_ref(&ex), &src, &one).unwrap();
    assert_eq!((a.passes, b.passes), (2, 1));
    for (x, y) in a.features.iter().zip(&b.features) {
        assert_eq!((x.count, x.missing), (y.count, y.missing), "{}", x.name);
        assert_eq!(x.categorical, y.categorical, "{}", x.name);
        if let (Some(p), Some(q)) = (&x.numeric, &y.numeric) {
            assert_eq!(p.sketch, q.sketch, "{}", x.name);
            assert_eq!(p.moments, q.moments, "{}", x.name);
            assert_eq!(
                (p.min, p.max, p.nan, p.pos_inf),
                (q.min, q.max, q.nan, q.pos_inf)
            );
            assert!(p.quantiles_exact && !q.quantiles_exact, "{}", x.name);
        }
    }
    let c = cmp(&a, &b);
    assert!(c
        .features
        .iter()
        .all(|f| f.metrics.ks.unwrap_or(0.0) == 0.0));
}
