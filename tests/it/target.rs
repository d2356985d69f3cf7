//! A label of numbers (`--label` of a float or decimal column,
//! src/engine/target.rs and src/compare/target.rs): each feature's label
//! means are its rows' on every backend and through a merge; compare
//! tells covariate, label and concept shift apart; the concept test holds
//! its level.

use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use skewer::engine;
use skewer::profile::{DatasetProfile, FeatureProfile, MeanBin};
use skewer::source::Dataset;

use crate::common::*;

/// `k`: small integers with nulls; `z`: 14 strings with nulls; `b`:
/// booleans; `f`: awkward floats; `y`: the label, a float that depends on
/// `k` and `z`, with nulls, NaN and infinities.
fn batch(seed: u64, n: usize) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let k: Int64Array = (0..n)
        .map(|_| (!rng.chance(0.05)).then(|| rng.below(40) as i64))
        .collect();
    let z = strings(&mut rng, n, 14, 0.03);
    let b: BooleanArray = (0..n).map(|_| Some(rng.chance(0.3))).collect();
    let f = awkward_f64(&mut rng, n, 0.02);
    let y: Float64Array = (0..n)
        .map(|i| {
            let u = rng.f64();
            if u < 0.02 {
                return None;
            }
            if u < 0.025 {
                return Some([f64::NAN, f64::INFINITY][i % 2]);
            }
            let kk = if k.is_null(i) { 0.0 } else { k.value(i) as f64 };
            Some(100.0 + 0.5 * kk + rng.normal() * 3.0 + z.is_null(i) as u8 as f64)
        })
        .collect();
    let schema = Schema::new(vec![
        Field::new("k", DataType::Int64, true),
        Field::new("z", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, false),
        Field::new("f", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(k),
        Arc::new(z),
        Arc::new(b),
        Arc::new(f),
        Arc::new(y),
    ];
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

/// The label's count, mean and standard deviation over the rows where
/// `in_bin` holds and the label is finite, the slow obvious way.
fn expect(ys: &Float64Array, in_bin: impl Fn(usize) -> bool) -> (u64, f64, f64) {
    let v: Vec<f64> = (0..ys.len())
        .filter(|&i| in_bin(i) && !ys.is_null(i) && ys.value(i).is_finite())
        .map(|i| ys.value(i))
        .collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / (n - 1.0);
    (v.len() as u64, mean, var.sqrt())
}

fn assert_bin(b: &MeanBin, want: (u64, f64, f64)) {
    assert_eq!(b.count, want.0, "{}", b.bin);
    let (mean, sd) = (b.mean.unwrap(), b.std_dev.unwrap());
    assert!(
        (mean - want.1).abs() < 1e-9 * want.1.abs(),
        "{}: {mean} vs {}",
        b.bin,
        want.1
    );
    assert!(
        (sd - want.2).abs() < 1e-9 * want.2,
        "{}: {sd} vs {}",
        b.bin,
        want.2
    );
}

#[test]
fn label_means_are_each_bins_rows_on_every_backend_and_merged() {
    let dir = tmp();
    let data = batch(7, 9_001);
    let file = dir.path().join("d.parquet");
    write_parquet(
        &file,
        std::slice::from_ref(&data),
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    let mut profiles = Vec::new();
    for backend in backends() {
        let (src, mut opts) = opts(700, 1 << 30);
        opts.backend = backend.clone();
        opts.label = Some("y".into());
        let ds = Dataset::open(std::slice::from_ref(&file), &src).unwrap();
        let p = engine::profile(&ds, &opts, &engine::NoProgress).unwrap();
        profiles.push((backend.kind().to_string(), p));
    }
    let (_, cpu) = &profiles[0];
    for (kind, p) in &profiles[1..] {
        assert_same(cpu, p);
        eprintln!("label means: {kind} = cpu");
    }
    assert_eq!(cpu.label.as_deref(), Some("y"));
    assert!(cpu.slices.is_empty(), "a label of numbers has no classes");
    assert!(
        feature(cpu, "y").label_means.is_none(),
        "the label has none"
    );
    let ys = data
        .column_by_name("y")
        .unwrap()
        .as_primitive::<Float64Type>();

    // k: bins of whole integers covering 0..40, then "__missing__".
    let bins = &feature(cpu, "k").label_means.as_ref().unwrap().bins;
    let k = data
        .column_by_name("k")
        .unwrap()
        .as_primitive::<Int64Type>();
    let (missing, values) = bins.split_last().unwrap();
    assert_eq!(missing.bin, "__missing__");
    assert_bin(missing, expect(ys, |i| k.is_null(i)));
    assert!((8..=10).contains(&values.len()), "{bins:?}");
    let mut next = 0;
    for b in values {
        let ends: Vec<i64> = b
            .bin
            .trim_matches(['[', ']'])
            .split(", ")
            .map(|e| e.parse().unwrap())
            .collect();
        assert_eq!(ends[0], next, "bins cover every value: {bins:?}");
        next = ends[1] + 1;
        assert_bin(
            b,
            expect(ys, |i| {
                !k.is_null(i) && (ends[0]..=ends[1]).contains(&k.value(i))
            }),
        );
    }
    assert_eq!(next, 40);

    // z: the ten most frequent values, "__other__" and "__missing__".
    let bins = &feature(cpu, "z").label_means.as_ref().unwrap().bins;
    let z = data.column_by_name("z").unwrap().as_string::<i32>();
    let names: Vec<&str> = bins.iter().map(|b| b.bin.as_str()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert_eq!(&names[10..], ["__other__", "__missing__"]);
    let top = &names[..10];
    for b in bins {
        assert_bin(
            b,
            expect(ys, |i| match b.bin.as_str() {
                "__missing__" => z.is_null(i),
                "__other__" => !z.is_null(i) && !top.contains(&z.value(i)),
                v => !z.is_null(i) && z.value(i) == v,
            }),
        );
    }

    // b: booleans by their text.
    let bins = &feature(cpu, "b").label_means.as_ref().unwrap().bins;
    let bb = data.column_by_name("b").unwrap().as_boolean();
    assert_eq!(bins.len(), 2, "{bins:?}");
    for b in bins {
        assert_bin(b, expect(ys, |i| bb.value(i).to_string() == b.bin));
    }

    // f: every row with a finite value is in one bin; NaN and ±inf in none.
    let m = feature(cpu, "f").label_means.as_ref().unwrap();
    let f = data
        .column_by_name("f")
        .unwrap()
        .as_primitive::<Float64Type>();
    let binned: u64 = m
        .bins
        .iter()
        .filter(|b| b.bin != "__missing__")
        .map(|b| b.count)
        .sum();
    assert_eq!(
        binned,
        expect(ys, |i| !f.is_null(i) && f.value(i).is_finite()).0
    );
    assert_eq!(m.missing.count, expect(ys, |i| f.is_null(i)).0);

    // Two halves profiled apart and merged: the same means.
    let half = |at: usize, len: usize, name: &str| {
        let p = dir.path().join(name);
        write_parquet(
            &p,
            &[data.slice(at, len)],
            parquet::basic::Compression::SNAPPY,
            1_000,
        );
        let j = dir.path().join(format!("{name}.json"));
        let args = [
            "profile",
            p.to_str().unwrap(),
            "--label",
            "y",
            "-o",
            j.to_str().unwrap(),
        ];
        let o = skewer(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        j.display().to_string()
    };
    let (a, b) = (half(0, 4_000, "a.parquet"), half(4_000, 5_001, "b.parquet"));
    let merged = dir.path().join("m.json");
    let o = skewer(&["merge", &a, &b, "-o", merged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m: DatasetProfile = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_same_means(&m, cpu);
}

/// Every feature's label means in `got` are `want`'s: the same bins and
/// counts, means and standard deviations to rounding (sums added up in
/// another order).
fn assert_same_means(got: &DatasetProfile, want: &DatasetProfile) {
    for (g, w) in got.features.iter().zip(&want.features) {
        let bins = |f: &FeatureProfile| f.label_means.as_ref().map(|m| m.bins.clone());
        let (Some(gb), Some(wb)) = (bins(g), bins(w)) else {
            assert_eq!(bins(g), bins(w), "{}", g.name);
            continue;
        };
        assert_eq!(gb.len(), wb.len(), "{}: {gb:?}", g.name);
        for (x, y) in gb.iter().zip(&wb) {
            assert_eq!((&x.bin, x.count), (&y.bin, y.count), "{}", g.name);
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                (a, b) => a == b,
            };
            assert!(
                close(x.mean, y.mean) && close(x.std_dev, y.std_dev),
                "{}: {x:?} vs {y:?}",
                g.name
            );
        }
    }
}

/// `p` without its label means, nor its sources.
fn without_means(p: &DatasetProfile) -> DatasetProfile {
    let mut p = p.clone();
    p.features.iter_mut().for_each(|f| f.label_means = None);
    p.sources.clear();
    p
}

#[test]
fn windows_of_a_label_of_numbers_are_each_days_labelled_profile() {
    // Three days of `rows`, E[y | x] swapped at the ends on the third (a
    // concept shift; x and y as before), in row groups across the days.
    let dir = tmp();
    let n = 4_000;
    let day0 = 1_772_323_200i64; // 2026-03-01T00:00:00Z
    let days: Vec<RecordBatch> = (0..3)
        .map(|d| {
            let b = match d {
                2 => rows(20 + d, n, 0.0, |x| match x {
                    x if x < 0.2 => slope(x + 0.8),
                    x if x >= 0.8 => slope(x - 0.8),
                    x => slope(x),
                }),
                _ => rows(20 + d, n, 0.0, slope),
            };
            on_day(&b, day0 + d as i64 * 86_400, d)
        })
        .collect();
    let file = dir.path().join("days.parquet");
    write_parquet(&file, &days, parquet::basic::Compression::SNAPPY, 2_500);
    for backend in backends() {
        let (src, mut opts) = opts(700, 1 << 30);
        opts.backend = backend.clone();
        opts.label = Some("y".into());
        let ds = Dataset::open(std::slice::from_ref(&file), &src).unwrap();
        let windows = engine::profile_windows(&ds, &opts, "ts=1d", &engine::NoProgress).unwrap();
        assert_eq!(windows.len(), 3, "{}", backend.kind());
        for (d, w) in windows.iter().enumerate() {
            assert_eq!(w.label.as_deref(), Some("y"));
            let alone = dir.path().join(format!("day{d}.parquet"));
            write_parquet(
                &alone,
                &days[d..=d],
                parquet::basic::Compression::SNAPPY,
                2_500,
            );
            let want = profile_files(&[alone], &src, &opts).unwrap();
            let mut got = w.clone();
            got.window = None;
            assert_same_means(&got, &want);
            assert_same(&without_means(&got), &without_means(&want));
            assert!(
                feature(w, "ts").label_means.is_some(),
                "the window's column too"
            );
        }
    }
    // The CLI, in one pass: the timeline finds the concept shift on day 3.
    let path = |f: &str| dir.path().join(f).display().to_string();
    let data = path("days.parquet");
    let args = [
        "profile",
        &data,
        "--label",
        "y",
        "--window",
        "ts=1d",
        "-o",
        &path("w"),
        "--quiet",
    ];
    let o = skewer(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = skewer(&["timeline", &path("w"), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    let named = |n: &str| {
        let fs = t["features"].as_array().unwrap();
        fs.iter().find(|f| f["name"] == n).unwrap().clone()
    };
    let x = named("x");
    assert_eq!(x["concept"]["drift"], "fast", "{x}");
    assert_eq!(x["concept"]["since"], "2026-03-03T00:00:00Z");
    assert_eq!(x["drift"], "none");
    assert_eq!(named("z")["concept"]["drift"], "none");
}

/// Rows with `x` uniform on [lo, lo + 1), `z` a feature the label does
/// not depend on, and a label `y = mean(x) + noise`.
fn rows(seed: u64, n: usize, lo: f64, mean: impl Fn(f64) -> f64) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let x: Vec<f64> = (0..n).map(|_| lo + rng.f64()).collect();
    let z: StringArray = (0..n)
        .map(|_| Some(["a", "b", "c"][rng.below(3) as usize]))
        .collect();
    let y: Vec<f64> = x.iter().map(|&x| mean(x) + rng.normal()).collect();
    let schema = Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("z", DataType::Utf8, false),
        Field::new("y", DataType::Float64, false),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(x)),
        Arc::new(z),
        Arc::new(Float64Array::from(y)),
    ];
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

fn slope(x: f64) -> f64 {
    3.0 * x
}

fn compare(dir: &std::path::Path, base: &str, cur: &str) -> (Option<i32>, Value) {
    let path = |f: &str| dir.join(f).display().to_string();
    let o = skewer(&[
        "compare",
        &path(base),
        &path(cur),
        "--label",
        "y",
        "--json",
        "--quiet",
    ]);
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    (o.status.code(), v)
}

fn by_name<'a>(c: &'a Value, name: &str) -> &'a Value {
    let fs = c["features"].as_array().unwrap();
    fs.iter().find(|f| f["name"] == name).unwrap()
}

#[test]
fn compare_tells_covariate_label_and_concept_shift_of_numbers_apart() {
    let dir = tmp();
    let n = 40_000;
    let write = |name: &str, b: RecordBatch| {
        write_parquet(
            &dir.path().join(name),
            &[b],
            parquet::basic::Compression::SNAPPY,
            20_000,
        )
    };
    write("base.parquet", rows(1, n, 0.0, slope));
    write("same.parquet", rows(2, n, 0.0, slope));
    // Concept: x as in the base, and y's values too: E[y | x] of x below
    // 0.2 and from 0.8 swapped, so only y's relation to x moves.
    write(
        "concept.parquet",
        rows(3, n, 0.0, |x| match x {
            x if x < 0.2 => slope(x + 0.8),
            x if x >= 0.8 => slope(x - 0.8),
            x => slope(x),
        }),
    );
    // Covariate: x moves to [0.5, 1.5); E[y | x] as in the base.
    write("covariate.parquet", rows(4, n, 0.5, slope));
    // Label: y up by 0.5 where nothing depends on x.
    write("label-base.parquet", rows(5, n, 0.0, |_| 0.0));
    write("label.parquet", rows(6, n, 0.0, |_| 0.5));

    let (code, c) = compare(dir.path(), "base.parquet", "same.parquet");
    assert_eq!(code, Some(0), "{c}");
    assert_eq!(c["label_shift"]["drifted"], false, "{c}");
    assert_eq!(c["label_shift"]["numeric"], true);
    for f in ["x", "z"] {
        assert_eq!(by_name(&c, f)["concept"]["drifted"], false, "{f}: {c}");
    }

    let (code, c) = compare(dir.path(), "base.parquet", "concept.parquet");
    assert_eq!(code, Some(1));
    let x = by_name(&c, "x");
    assert_eq!(x["drifted"], false, "x's own distribution is the same: {x}");
    assert_eq!(x["concept"]["drifted"], true, "{x}");
    // The swapped ends move E[y | x] by 2.4, 1.8 standard deviations of y
    // (√(0.75 + 1) ≈ 1.32), over 40% of the mass: about 0.7.
    let v = x["concept"]["value"].as_f64().unwrap();
    assert!((0.5..0.9).contains(&v), "{x}");
    let bin = x["concept"]["bin"].as_str().unwrap();
    let low: f64 = bin
        .trim_start_matches('[')
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        !(0.2..0.79).contains(&low),
        "the largest move is at an end: {bin}"
    );
    assert_eq!(
        c["label_shift"]["drifted"], false,
        "y's values are the same: {c}"
    );
    assert_eq!(by_name(&c, "z")["concept"]["drifted"], false, "{c}");

    // Stored profiles compared on x alone (--columns leaves the label
    // out): still a label of numbers, x's concept shift found.
    let path = |f: &str| dir.path().join(f).display().to_string();
    for f in ["base", "concept"] {
        let args = [
            "profile",
            &path(&format!("{f}.parquet")),
            "--label",
            "y",
            "-o",
        ];
        let o = skewer(&[&args[..], &[&path(&format!("{f}.json")), "--quiet"]].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let o = skewer(&[
        "compare",
        &path("base.json"),
        &path("concept.json"),
        "--columns",
        "x",
        "--json",
    ]);
    let c: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    assert_eq!(by_name(&c, "x")["concept"]["drifted"], true, "{c}");

    let (code, c) = compare(dir.path(), "base.parquet", "covariate.parquet");
    assert_eq!(code, Some(1));
    let x = by_name(&c, "x");
    assert_eq!(x["drifted"], true, "{x}");
    assert_eq!(x["concept"]["drifted"], false, "E[y | x] is the same: {x}");

    let (code, c) = compare(dir.path(), "label-base.parquet", "label.parquet");
    assert_eq!(code, Some(1));
    let l = &c["label_shift"];
    assert_eq!(l["drifted"], true, "{c}");
    assert!(l["linf"].as_f64().unwrap() > 0.15, "{l}");
    assert_eq!(by_name(&c, "x")["drifted"], false);

    // The page draws each feature's means, current over base, the bin
    // where x's concept moved most marked.
    let page = dir.path().join("concept.html");
    let o = skewer(&[
        "compare",
        dir.path().join("base.parquet").to_str().unwrap(),
        dir.path().join("concept.parquet").to_str().unwrap(),
        "--label",
        "y",
        "--html",
        page.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    let figure = |name: &str| {
        let at = html
            .find(&format!("<title>{name}: mean of y in each bin"))
            .unwrap();
        let end = html[at..].find("</figure>").unwrap();
        html[at..at + end].to_string()
    };
    let (x, z) = (figure("x"), figure("z"));
    assert_eq!(
        x.matches("<circle").count(),
        11,
        "a dot per bin and the legend's"
    );
    assert_eq!(x.matches("◆ concept").count(), 1, "{x}");
    assert!(x.contains("(shifted)"), "{x}");
    assert!(!z.contains("◆") && !z.contains("(shifted)"), "{z}");

    // The table names the test.
    let o = skewer(&[
        "compare",
        dir.path().join("label-base.parquet").to_str().unwrap(),
        dir.path().join("label.parquet").to_str().unwrap(),
        "--label",
        "y",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("label y: SHIFTED (ks 0."), "{out}");
    assert!(out.contains("Kolmogorov p"), "{out}");
}

#[test]
fn concept_tests_of_numbers_hold_their_level_on_unequal_sides() {
    // A large reference against batches with the same E[y | k], with many
    // small cells (an integer feature of 1,000 values) and a skewed
    // label, half of them three times as spread: nothing is flagged (a
    // test that took both sides' spreads for one flagged every spread
    // batch).
    let dir = tmp();
    let make = |seed: u64, n: usize, spread: f64| {
        let mut rng = Rng::new(seed);
        let k: Int64Array = (0..n).map(|_| Some(rng.below(1_000) as i64)).collect();
        let y: Float64Array = (0..n)
            .map(|i| {
                let e = -rng.f64().max(1e-12).ln() - 1.0;
                Some(0.002 * k.value(i) as f64 + 1.0 + spread * e)
            })
            .collect();
        let schema = Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("y", DataType::Float64, false),
        ]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(k) as ArrayRef, Arc::new(y)]).unwrap()
    };
    let write = |name: &str, b: RecordBatch| {
        let p = dir.path().join(name);
        write_parquet(&p, &[b], parquet::basic::Compression::SNAPPY, 50_000);
        let j = format!("{}.json", p.display());
        let o = skewer(&[
            "profile",
            p.to_str().unwrap(),
            "--label",
            "y",
            "-o",
            &j,
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    write("ref.parquet", make(1, 200_000, 1.0));
    let mut ps = Vec::new();
    for i in 0..8 {
        let name = format!("b{i}.parquet");
        write(&name, make(100 + i, 1_000, [1.0, 3.0][i as usize % 2]));
        let (_, c) = compare(dir.path(), "ref.parquet.json", &format!("{name}.json"));
        let k = &by_name(&c, "k")["concept"];
        assert_eq!(k["drifted"], false, "batch {i}: {k}");
        ps.push(k["p_value"].as_f64().unwrap());
    }
    // Not one tiny p-value among eight (each below 0.001 at a chance of
    // 1 in 1,000 under the null), and not all large (a test that cannot
    // reject).
    eprintln!("p-values: {ps:?}");
    assert!(ps.iter().all(|&p| p > 1e-3), "{ps:?}");
    assert!(ps.iter().any(|&p| p < 0.5), "{ps:?}");
}

#[test]
fn labels_of_numbers_refuse_what_they_cannot_do() {
    let dir = tmp();
    let path = |f: &str| dir.path().join(f).display().to_string();
    write_parquet(
        &dir.path().join("d.parquet"),
        &[rows(1, 3_000, 0.0, slope)],
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    fails_with(
        &[
            "profile",
            &path("d.parquet"),
            "--label",
            "y",
            "--slice-by",
            "z",
        ],
        &["--label", "cannot be used with", "--slice-by"],
    );
    // A label neither of classes nor of numbers: a date.
    let days: Date32Array = (0..100).map(Some).collect();
    let schema = Schema::new(vec![Field::new("day", DataType::Date32, false)]);
    let b = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(days) as ArrayRef]).unwrap();
    write_parquet(
        &dir.path().join("days.parquet"),
        &[b],
        parquet::basic::Compression::SNAPPY,
        100,
    );
    fails_with(
        &["profile", &path("days.parquet"), "--label", "day"],
        &[
            "--label day",
            "date32",
            "days.parquet",
            "of classes",
            "of numbers",
        ],
    );
    // A stored profile with a broken sum of squares.
    let o = skewer(&[
        "profile",
        &path("d.parquet"),
        "--label",
        "y",
        "-o",
        &path("d.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut v: Value = serde_json::from_slice(&std::fs::read(path("d.json")).unwrap()).unwrap();
    let x = v["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["name"] == "x")
        .unwrap();
    x["label_means"]["cells"][0]["m2"] = serde_json::json!(-1.0);
    std::fs::write(path("bad.json"), serde_json::to_vec(&v).unwrap()).unwrap();
    fails_with(
        &["compare", &path("d.json"), &path("bad.json")],
        &["bad.json", "feature \"x\": label_means", "m2"],
    );
    // Labelled by y as numbers on one side and as classes on the other:
    // no label or concept shift, and a note says why.
    let classes = {
        let b = rows(2, 3_000, 0.0, slope);
        let y: Int64Array = b
            .column(2)
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|v| (v > 1.5) as i64))
            .collect();
        let schema = Schema::new(vec![
            b.schema().field(0).clone(),
            b.schema().field(1).clone(),
            Field::new("y", DataType::Int64, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![b.column(0).clone(), b.column(1).clone(), Arc::new(y)],
        )
        .unwrap()
    };
    write_parquet(
        &dir.path().join("c.parquet"),
        &[classes],
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    let o = skewer(&[
        "profile",
        &path("c.parquet"),
        "--label",
        "y",
        "-o",
        &path("c.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = skewer(&["compare", &path("d.json"), &path("c.json"), "--json"]);
    let err = stderr(&o);
    assert!(
        err.contains("as numbers") && err.contains("as classes"),
        "{err}"
    );
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(c.get("label_shift").is_none(), "{c}");
    assert!(by_name(&c, "x").get("concept").is_none(), "{c}");
    fails_with(
        &["merge", &path("d.json"), &path("c.json")],
        &["c.json", "same type of label"],
    );
}

#[test]
fn labels_of_decimals_and_float32_read_every_feature_type() {
    // The label as decimal128(12, 2) and as float32; features: a
    // dictionary of strings, dates, and integers marked categorical.
    let n = 3_000;
    let mut rng = Rng::new(11);
    let keys: Int32Array = (0..n)
        .map(|_| (!rng.chance(0.05)).then(|| rng.below(6) as i32))
        .collect();
    let dict = DictionaryArray::<Int32Type>::try_new(
        keys.clone(),
        Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e", "f"])),
    )
    .unwrap();
    let day: Date32Array = (0..n)
        .map(|_| Some(20_000 + rng.below(30) as i32))
        .collect();
    let c: Int64Array = (0..n).map(|_| Some(rng.below(4) as i64)).collect();
    let cents: Vec<Option<i128>> = (0..n)
        .map(|i| {
            let k = if keys.is_null(i) { 0 } else { keys.value(i) };
            (!rng.chance(0.02)).then(|| 10_000 + 250 * k as i128 + rng.below(1_000) as i128)
        })
        .collect();
    let dec = Decimal128Array::from(cents.clone())
        .with_precision_and_scale(12, 2)
        .unwrap();
    let f32s: Float32Array = cents.iter().map(|c| c.map(|c| c as f32 / 100.0)).collect();
    let dir = tmp();
    for (name, y) in [("dec", Arc::new(dec) as ArrayRef), ("f32", Arc::new(f32s))] {
        let schema = Schema::new(vec![
            Field::new("z", dict.data_type().clone(), true),
            Field::new("day", DataType::Date32, false),
            Field::new("c", DataType::Int64, false),
            Field::new("y", y.data_type().clone(), true),
        ]);
        let cols: Vec<ArrayRef> = vec![
            Arc::new(dict.clone()),
            Arc::new(day.clone()),
            Arc::new(c.clone()),
            y,
        ];
        let b = RecordBatch::try_new(Arc::new(schema), cols).unwrap();
        let file = dir.path().join(format!("{name}.parquet"));
        write_parquet(&file, &[b], parquet::basic::Compression::SNAPPY, 1_000);
        let (src, mut opts) = opts(700, 1 << 30);
        opts.label = Some("y".into());
        opts.categorical = vec!["c".into()];
        let ds = Dataset::open(std::slice::from_ref(&file), &src).unwrap();
        let p = engine::profile(&ds, &opts, &engine::NoProgress).unwrap();
        // The label in cents, as the rows hold it.
        let ys: Float64Array = cents.iter().map(|c| c.map(|c| c as f64 / 100.0)).collect();
        let tol = |x: f64| {
            if name == "f32" {
                1e-5 * x.abs()
            } else {
                1e-9 * x.abs()
            }
        };
        let check = |b: &MeanBin, want: (u64, f64, f64)| {
            assert_eq!(b.count, want.0, "{name} {}", b.bin);
            assert!(
                (b.mean.unwrap() - want.1).abs() <= tol(want.1),
                "{name} {b:?} {want:?}"
            );
            assert!(
                (b.std_dev.unwrap() - want.2).abs() <= tol(want.2).max(1e-3),
                "{name} {b:?} {want:?}"
            );
        };
        let values = ["a", "b", "c", "d", "e", "f"];
        let zs = &feature(&p, "z").label_means.as_ref().unwrap().bins;
        let mut names: Vec<&str> = zs.iter().map(|b| b.bin.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["__missing__", "a", "b", "c", "d", "e", "f"],
            "{name}"
        );
        for b in zs {
            let want = expect(&ys, |i| match b.bin.as_str() {
                "__missing__" => keys.is_null(i),
                v => !keys.is_null(i) && values[keys.value(i) as usize] == v,
            });
            check(b, want);
        }
        for b in &feature(&p, "c").label_means.as_ref().unwrap().bins {
            check(b, expect(&ys, |i| c.value(i).to_string() == b.bin));
        }
        let days = &feature(&p, "day").label_means.as_ref().unwrap().bins;
        assert!(days.iter().all(|b| b.bin.starts_with("[2024-")), "{days:?}");
        let total: u64 = days.iter().map(|b| b.count).sum();
        assert_eq!(total, expect(&ys, |_| true).0, "{name}");
    }
}
