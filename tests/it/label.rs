//! The label (`--label`, src/compare/concept.rs): each feature's
//! label-conditional table counts every class in every bin, on every
//! backend; compare tells covariate, label and concept shift apart; a
//! timeline of labelled profiles dates a concept shift.

use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use skewer::engine;
use skewer::source::Dataset;

use crate::common::*;

/// `k`: small integers (each its own sketch cell) with nulls; `z`: 14
/// strings, the rarer folded into "__other__", with nulls; `f`: awkward
/// floats; `y`: the label, three classes and nulls.
fn labelled_batch(seed: u64, n: usize) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let k: Int64Array = (0..n)
        .map(|_| (!rng.chance(0.05)).then(|| rng.below(40) as i64))
        .collect();
    let z: StringArray = (0..n)
        .map(|_| (!rng.chance(0.03)).then(|| format!("v{}", rng.below(14))))
        .collect();
    let f = awkward_f64(&mut rng, n, 0.02);
    // The label depends on k, so that the classes differ from bin to bin.
    let kk = k.clone();
    let y: StringArray = (0..n)
        .map(|i| {
            if rng.chance(0.02) {
                return None;
            }
            let bias = if kk.is_null(i) {
                0
            } else {
                kk.value(i) as u64 / 14
            };
            Some(["cat", "dog", "emu"][((rng.below(3) + bias) % 3) as usize].to_string())
        })
        .collect();
    let schema = Schema::new(vec![
        Field::new("k", DataType::Int64, true),
        Field::new("z", DataType::Utf8, true),
        Field::new("f", DataType::Float64, true),
        Field::new("y", DataType::Utf8, true),
    ]);
    let cols: Vec<ArrayRef> = vec![Arc::new(k), Arc::new(z), Arc::new(f), Arc::new(y)];
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

/// The rows' classes (as the table names them) and, per row, whether
/// `in_bin` holds: the count of each class.
fn count_by_class(
    classes: &[Option<String>],
    labels: &StringArray,
    in_bin: impl Fn(usize) -> bool,
) -> Vec<u64> {
    let mut out = vec![0u64; classes.len()];
    for i in 0..labels.len() {
        if !in_bin(i) {
            continue;
        }
        let y = (!labels.is_null(i)).then(|| labels.value(i).to_string());
        let c = classes
            .iter()
            .position(|c| *c == y)
            .expect("a class of the table");
        out[c] += 1;
    }
    out
}

#[test]
fn label_tables_count_every_class_in_every_bin_on_every_backend() {
    let dir = tmp();
    let batch = labelled_batch(5, 7_001);
    let file = dir.path().join("d.parquet");
    write_parquet(
        &file,
        std::slice::from_ref(&batch),
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    let mut profiles = Vec::new();
    for backend in backends() {
        let (src, mut opts) = opts(600, 1 << 30);
        opts.backend = backend.clone();
        opts.label = Some("y".into());
        let ds = Dataset::open(std::slice::from_ref(&file), &src).unwrap();
        let p = engine::profile(&ds, &opts, &engine::NoProgress).unwrap();
        profiles.push((backend.kind().to_string(), p));
    }
    let (_, cpu) = &profiles[0];
    for (kind, p) in &profiles[1..] {
        // The GPU's classes, bins and counts are the CPU's.
        assert_same(cpu, p);
        eprintln!("label tables: {kind} = cpu");
    }
    assert_eq!(cpu.label.as_deref(), Some("y"));
    assert!(
        feature(cpu, "y").label_table.is_none(),
        "the label has no table"
    );
    let labels = batch.column_by_name("y").unwrap().as_string::<i32>();

    // k: bins of whole integers, of about equal mass, then "__missing__".
    let t = feature(cpu, "k").label_table.as_ref().unwrap();
    assert_eq!(
        t.classes.len(),
        4,
        "three classes and null: {:?}",
        t.classes
    );
    let k = batch
        .column_by_name("k")
        .unwrap()
        .as_primitive::<Int64Type>();
    let (missing, bins) = t.bins.split_last().unwrap();
    assert_eq!(missing.bin, "__missing__");
    assert_eq!(
        missing.classes,
        count_by_class(&t.classes, labels, |i| k.is_null(i))
    );
    assert!((8..=10).contains(&bins.len()), "{} bins", bins.len());
    let mut next = 0;
    for b in bins {
        let ends: Vec<i64> = b
            .bin
            .trim_matches(['[', ']'])
            .split(", ")
            .map(|e| e.parse().unwrap())
            .collect();
        assert_eq!(ends[0], next, "bins cover every value: {:?}", t.bins);
        next = ends[1] + 1;
        let want = count_by_class(&t.classes, labels, |i| {
            !k.is_null(i) && (ends[0]..=ends[1]).contains(&k.value(i))
        });
        assert_eq!(b.classes, want, "k in {}", b.bin);
        assert_eq!(b.count, want.iter().sum::<u64>());
    }
    assert_eq!(next, 40);

    // z: the ten most frequent values, "__other__" and "__missing__".
    let t = feature(cpu, "z").label_table.as_ref().unwrap();
    let z = batch.column_by_name("z").unwrap().as_string::<i32>();
    let names: Vec<&str> = t.bins.iter().map(|b| b.bin.as_str()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert_eq!(&names[10..], ["__other__", "__missing__"]);
    let top = &names[..10];
    for b in &t.bins {
        let want = count_by_class(&t.classes, labels, |i| match b.bin.as_str() {
            "__missing__" => z.is_null(i),
            "__other__" => !z.is_null(i) && !top.contains(&z.value(i)),
            v => !z.is_null(i) && z.value(i) == v,
        });
        assert_eq!(b.classes, want, "z = {}", b.bin);
    }
    // The top values are the most frequent.
    let count = |v: &str| {
        (0..z.len())
            .filter(|&i| !z.is_null(i) && z.value(i) == v)
            .count()
    };
    let least_top = top.iter().map(|v| count(v)).min().unwrap();
    let most_other = (0..14)
        .map(|v| count(&format!("v{v}")))
        .filter(|&c| c < least_top)
        .max();
    assert!(most_other.is_some(), "some values are folded");

    // f: every finite value is in one bin of its class.
    let t = feature(cpu, "f").label_table.as_ref().unwrap();
    let f = batch
        .column_by_name("f")
        .unwrap()
        .as_primitive::<Float64Type>();
    let finite = count_by_class(&t.classes, labels, |i| {
        !f.is_null(i) && f.value(i).is_finite()
    });
    let binned: Vec<u64> = (0..t.classes.len())
        .map(|c| {
            t.bins
                .iter()
                .filter(|b| b.bin != "__missing__")
                .map(|b| b.classes[c])
                .sum()
        })
        .collect();
    assert_eq!(binned, finite);
}

/// Rows with `x` uniform on [0, 1) (on [lo, lo + 1) for a covariate
/// shift), `z` a feature the label does not depend on, and a binary label
/// with P(y = 1 | x) from `p`.
fn rows(seed: u64, n: usize, lo: f64, p: impl Fn(f64) -> f64) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let x: Vec<f64> = (0..n).map(|_| lo + rng.f64()).collect();
    let z: StringArray = (0..n)
        .map(|_| Some(["a", "b", "c"][rng.below(3) as usize]))
        .collect();
    let y: Int64Array = x
        .iter()
        .map(|&x| Some(i64::from(rng.chance(p(x)))))
        .collect();
    let schema = Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("z", DataType::Utf8, false),
        Field::new("y", DataType::Int64, false),
    ]);
    let cols: Vec<ArrayRef> = vec![Arc::new(Float64Array::from(x)), Arc::new(z), Arc::new(y)];
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

/// P(y = 1 | x): 0.2 below 0.5, 0.6 from 0.5 to 1, and 0.2 beyond.
fn step(x: f64) -> f64 {
    if (0.5..1.0).contains(&x) {
        0.6
    } else {
        0.2
    }
}

fn compare_json(dir: &std::path::Path, base: &str, cur: &str) -> (Option<i32>, Value) {
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

/// `skewer profile DATA --label y -o OUT EXTRA…`, which must succeed.
fn profile_labelled(data: &str, out: &str, extra: &[&str]) {
    let mut args = vec!["profile", data, "--label", "y", "-o", out, "--quiet"];
    args.extend_from_slice(extra);
    let o = skewer(&args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
}

fn by_name<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap()
}

#[test]
fn compare_tells_covariate_label_and_concept_shift_apart() {
    let dir = tmp();
    let n = 60_000;
    let write = |name: &str, b: RecordBatch| {
        write_parquet(
            &dir.path().join(name),
            &[b],
            parquet::basic::Compression::SNAPPY,
            20_000,
        )
    };
    write("base.parquet", rows(1, n, 0.0, step));
    write("same.parquet", rows(2, n, 0.0, step));
    // Concept: x and P(y) as in the base; P(y | x) swapped below 0.3
    // and from 0.7 (each 30% of the mass, so P(y) stays 0.4).
    write(
        "concept.parquet",
        rows(3, n, 0.0, |x| match x {
            x if x < 0.3 => 0.6,
            x if x >= 0.7 => 0.2,
            x => step(x),
        }),
    );
    // Covariate: x moves to [0.5, 1.5); P(y | x) and P(y) as in the base.
    write("covariate.parquet", rows(4, n, 0.5, step));
    // Label: P(y) from 0.4 to 0.55, where nothing depends on x.
    write("label-base.parquet", rows(5, n, 0.0, |_| 0.4));
    write("label.parquet", rows(6, n, 0.0, |_| 0.55));

    let (code, c) = compare_json(dir.path(), "base.parquet", "same.parquet");
    assert_eq!(code, Some(0), "{c}");
    assert_eq!(c["label_shift"]["drifted"], false);
    for f in ["x", "z"] {
        assert_eq!(by_name(&c, f)["concept"]["drifted"], false, "{f}: {c}");
    }

    let (code, c) = compare_json(dir.path(), "base.parquet", "concept.parquet");
    assert_eq!(code, Some(1));
    let x = by_name(&c, "x");
    assert_eq!(x["drifted"], false, "x's own distribution is the same: {x}");
    assert_eq!(x["concept"]["drifted"], true, "{x}");
    // 60% of the mass moved by 0.4: 0.24 on average.
    let value = x["concept"]["value"].as_f64().unwrap();
    assert!((value - 0.24).abs() < 0.03, "{value}");
    let bin = x["concept"]["bin"].as_str().unwrap();
    let low: f64 = bin
        .trim_start_matches('[')
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        !(0.3..0.7).contains(&low),
        "the change is outside [0.3, 0.7): {bin}"
    );
    assert_eq!(by_name(&c, "z")["concept"]["drifted"], false);
    assert_eq!(c["label_shift"]["drifted"], false);

    let (code, c) = compare_json(dir.path(), "base.parquet", "covariate.parquet");
    assert_eq!(code, Some(1));
    let x = by_name(&c, "x");
    assert_eq!(x["drifted"], true, "{x}");
    assert_eq!(x["concept"]["drifted"], false, "P(y | x) is the same: {x}");
    assert_eq!(by_name(&c, "z")["concept"]["drifted"], false);
    assert_eq!(c["label_shift"]["drifted"], false, "{}", c["label_shift"]);

    // Label shift: P(y | x) = P(y) for a feature the label does not
    // depend on, so its concept moves by the label's shift.
    let (code, c) = compare_json(dir.path(), "label-base.parquet", "label.parquet");
    assert_eq!(code, Some(1));
    let l = &c["label_shift"];
    assert_eq!(l["drifted"], true, "{l}");
    assert_eq!(l["column"], "y");
    let linf = l["linf"].as_f64().unwrap();
    assert!((linf - 0.15).abs() < 0.02, "{linf}");
    let x = by_name(&c, "x");
    assert_eq!(x["drifted"], false, "{x}");
    let value = x["concept"]["value"].as_f64().unwrap();
    assert!((value - linf).abs() < 0.02, "{value} vs {linf}");
    assert!(
        by_name(&c, "y").get("concept").is_none(),
        "the label has no concept"
    );

    // The tables show it: the Markdown names the concept shift, the HTML
    // report draws P(y | x) bin by bin and marks the section.
    let path = |f: &str| dir.path().join(f).display().to_string();
    let o = skewer(&[
        "compare",
        &path("base.parquet"),
        &path("concept.parquet"),
        "--label",
        "y",
        "--quiet",
        "--html",
        &path("c.html"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let html = std::fs::read_to_string(path("c.html")).unwrap();
    let section = |name: &str| {
        let at = html.find(&format!("data-feature=\"{name}\"")).unwrap();
        let end = html[at..].find("</section>").unwrap();
        html[at..at + end].to_string()
    };
    let x = section("x");
    assert!(
        x.contains("data-concept=\"true\"") && x.contains("CONCEPT"),
        "{x}"
    );
    assert!(
        x.contains("x: share of y = ") && x.contains("◆ concept 0.2"),
        "{x}"
    );
    assert!(section("z").contains("data-concept=\"false\""));
    assert!(
        !section("y").contains("data-concept"),
        "the label has no concept"
    );
    assert!(
        html.contains("not shifted"),
        "the overview names the label's shift"
    );
    let o = skewer(&[
        "compare",
        &path("base.parquet"),
        &path("concept.parquet"),
        "--label",
        "y",
        "--markdown",
        "--quiet",
    ]);
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("concept shift in 1; label not shifted"), "{md}");
    assert!(md.contains("| CONCEPT | x |"), "{md}");

    // A timeline of labelled profiles dates it: steady, steady, then the
    // concept shift from the third day.
    for (day, file) in [(1, "base"), (2, "same"), (3, "concept")] {
        profile_labelled(
            &path(&format!("{file}.parquet")),
            &path(&format!("day{day}.json")),
            &[],
        );
    }
    let o = skewer(&[
        "timeline",
        &path("day1.json"),
        &path("day2.json"),
        &path("day3.json"),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = t["features"].as_array().unwrap();
    let x = f.iter().find(|f| f["name"] == "x").unwrap();
    assert_eq!(x["drift"], "none");
    assert_eq!(x["concept"]["drift"], "fast", "{x}");
    assert!(x["concept"]["since"]
        .as_str()
        .unwrap()
        .ends_with("day3.json"));
    let z = f.iter().find(|f| f["name"] == "z").unwrap();
    assert_eq!(z["concept"]["drift"], "none", "{z}");
    // Stored labelled profiles compare by themselves.
    let (code, c) = compare_json(dir.path(), "day1.json", "day3.json");
    assert_eq!(code, Some(1));
    assert_eq!(by_name(&c, "x")["concept"]["drifted"], true);
}

#[test]
fn label_refusals_and_merge() {
    let dir = tmp();
    let path = |f: &str| dir.path().join(f).display().to_string();
    let b = rows(7, 3_000, 0.0, step);
    write_parquet(
        &dir.path().join("d.parquet"),
        std::slice::from_ref(&b),
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    fails_with(
        &["profile", &path("d.parquet"), "--label", "nope"],
        &["nope"],
    );
    let o = skewer(&[
        "profile",
        &path("d.parquet"),
        "--label",
        "y",
        "--slice-by",
        "z",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A stored profile must be labelled by the label asked for.
    assert_eq!(
        skewer(&[
            "profile",
            &path("d.parquet"),
            "-o",
            &path("plain.json"),
            "--quiet"
        ])
        .status
        .code(),
        Some(0)
    );
    fails_with(
        &[
            "compare",
            &path("plain.json"),
            &path("d.parquet"),
            "--label",
            "y",
        ],
        &["plain.json", "not labelled by y"],
    );

    // Merged labelled profiles: the tables of the union.
    let halves = [b.slice(0, 1_400), b.slice(1_400, 1_600)];
    for (i, h) in halves.iter().enumerate() {
        write_parquet(
            &dir.path().join(format!("h{i}.parquet")),
            std::slice::from_ref(h),
            parquet::basic::Compression::SNAPPY,
            1_000,
        );
        profile_labelled(
            &path(&format!("h{i}.parquet")),
            &path(&format!("h{i}.json")),
            &[],
        );
    }
    let o = skewer(&[
        "merge",
        &path("h0.json"),
        &path("h1.json"),
        "-o",
        &path("m.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read =
        |f: &str| -> Value { serde_json::from_slice(&std::fs::read(path(f)).unwrap()).unwrap() };
    let m = read("m.json");
    assert_eq!(m["label"], "y");
    let z = |p: &Value| -> Value {
        p["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "z")
            .unwrap()["label_table"]
            .clone()
    };
    let mut whole = read("h0.json");
    let z1 = z(&read("h1.json"));
    // z's bins are its three values in both halves: the merged counts are the sums.
    let mut want = z(&whole);
    for (b, b1) in want["bins"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(z1["bins"].as_array().unwrap())
    {
        assert_eq!(b["bin"], b1["bin"]);
        let sum: Vec<u64> = b["classes"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b1["classes"].as_array().unwrap())
            .map(|(x, y)| x.as_u64().unwrap() + y.as_u64().unwrap())
            .collect();
        b["classes"] = serde_json::json!(sum);
        b["count"] = serde_json::json!(sum.iter().sum::<u64>());
    }
    let mut got = z(&m);
    // Bins are ordered by their merged share: compare as sets.
    let key = |v: &mut Value| {
        v["bins"]
            .as_array_mut()
            .unwrap()
            .sort_by_key(|b| b["bin"].as_str().unwrap().to_string())
    };
    key(&mut want);
    key(&mut got);
    assert_eq!(got, want);
    // A labelled profile does not merge with an unlabelled one.
    whole["label"] = Value::Null;
    std::fs::write(path("u.json"), serde_json::to_vec(&whole).unwrap()).unwrap();
    fails_with(
        &["merge", &path("u.json"), &path("h1.json")],
        &["h1.json", "labelled"],
    );
}

#[test]
fn windows_with_a_label_are_each_days_labelled_profile_on_every_backend() {
    use skewer::engine::groups::{profile_groups, GroupBy, Width};
    let dir = tmp();
    // Three days: the label's relation to x as in `step`, then swapped on
    // the third day (a concept shift; x and P(y) as before).
    let n = 4_000;
    let day0 = 1_772_323_200i64; // 2026-03-01T00:00:00Z
    let days: Vec<RecordBatch> = (0..3)
        .map(|d| {
            let b = match d {
                2 => rows(20 + d, n, 0.0, |x| match x {
                    x if x < 0.3 => 0.6,
                    x if x >= 0.7 => 0.2,
                    x => step(x),
                }),
                _ => rows(20 + d, n, 0.0, step),
            };
            on_day(&b, day0 + d as i64 * 86_400, d)
        })
        .collect();
    let file = dir.path().join("days.parquet");
    // Row groups that cross the days' edges.
    write_parquet(&file, &days, parquet::basic::Compression::SNAPPY, 2_500);
    let classes = skewer::engine::Slicing {
        columns: vec!["y".into()],
        max: 20,
        only: None,
    };
    let by = GroupBy::Windows {
        column: "ts".into(),
        width: Width::parse("1d").unwrap(),
        classes: Some(classes),
    };
    // A budget that keeps every value, and one that spills: a class's
    // values read again count for its class and its window.
    for (backend, budget) in backends()
        .into_iter()
        .flat_map(|b| [(b.clone(), 1 << 30), (b, 24 << 10)])
    {
        let (src, mut opts) = opts(700, budget);
        opts.backend = backend.clone();
        opts.label = Some("y".into());
        let ds = Dataset::open(std::slice::from_ref(&file), &src).unwrap();
        let windows = profile_groups(&ds, &opts, &by, &engine::NoProgress)
            .unwrap_or_else(|e| panic!("{} budget {budget}: {e}", backend.kind()))
            .windows()
            .unwrap();
        assert_eq!(windows.len(), 3, "{}", backend.kind());
        for (d, w) in windows.iter().enumerate() {
            assert_eq!(w.label.as_deref(), Some("y"));
            assert!(feature(w, "x").label_table.is_some());
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
            assert_same(&got, &want);
        }
    }
    // The CLI, in one pass: the timeline finds the concept shift on day 3.
    let path = |f: &str| dir.path().join(f).display().to_string();
    profile_labelled(&path("days.parquet"), &path("w"), &["--window", "ts=1d"]);
    let o = skewer(&["timeline", &path("w"), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    let x = t["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "x")
        .unwrap();
    assert_eq!(x["concept"]["drift"], "fast", "{x}");
    assert_eq!(x["concept"]["since"], "2026-03-03T00:00:00Z");
    assert_eq!(x["drift"], "none");
}

#[test]
fn every_window_keeps_the_same_classes_apart() {
    // Class "a" is the larger on day 1, "b" on day 2 and over both: with
    // one class apart, both windows keep "b" apart and fold "a".
    let dir = tmp();
    let day0 = 1_772_323_200i64; // 2026-03-01T00:00:00Z
    let (mut x, mut y, mut ts) = (Vec::new(), Vec::new(), Vec::new());
    for (d, a, b) in [(0i64, 600, 400), (1, 300, 700)] {
        for i in 0..a + b {
            x.push(i as f64);
            y.push(if i < a { "a" } else { "b" });
            ts.push(day0 + d * 86_400 + i);
        }
    }
    let schema = Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Utf8, false),
        Field::new("ts", DataType::Timestamp(TimeUnit::Second, None), false),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(x)),
        Arc::new(StringArray::from(y)),
        Arc::new(TimestampSecondArray::from(ts)),
    ];
    let b = RecordBatch::try_new(Arc::new(schema), cols).unwrap();
    let file = dir.path().join("days.parquet");
    write_parquet(&file, &[b], parquet::basic::Compression::SNAPPY, 512);
    let out = dir.path().join("w");
    profile_labelled(
        file.to_str().unwrap(),
        out.to_str().unwrap(),
        &["--window", "ts=1d", "--max-classes", "1"],
    );
    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let classes: Vec<Vec<(String, u64)>> = files
        .iter()
        .map(|f| {
            let p: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            let slices = p["slices"].as_array().unwrap();
            slices
                .iter()
                .map(|s| {
                    let y = s["slice"]["y"].as_str().unwrap().to_string();
                    (y, s["num_rows"].as_u64().unwrap())
                })
                .collect()
        })
        .collect();
    let c = |y: &str, n| (y.to_string(), n);
    assert_eq!(
        classes,
        vec![
            vec![c("b", 400), c("__other__", 600)],
            vec![c("b", 700), c("__other__", 300)]
        ]
    );
    // The label itself drifted from one window to the next ("a" from 60%
    // to 30%): the windows' profiles compare.
    let o = skewer(&["timeline", out.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(by_name(&t, "y")["drift"], "fast", "{t}");
}

/// Rows where nothing depends on anything: `x` uniform, `k` one of 1,000
/// integers (sparse cells), `z` one of 30 strings, and a label of four
/// classes, one rare (2%), drawn apart from them.
fn independent(seed: u64, n: usize, shares: [f64; 4]) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let x: Float64Array = (0..n).map(|_| Some(rng.f64())).collect();
    let k: Int64Array = (0..n).map(|_| Some(rng.below(1_000) as i64)).collect();
    let z: StringArray = (0..n)
        .map(|_| Some(format!("z{}", rng.below(30))))
        .collect();
    let y: StringArray = (0..n)
        .map(|_| {
            let u = rng.f64();
            let mut acc = 0.0;
            let c = shares.iter().position(|&s| {
                acc += s;
                u < acc
            });
            Some(["a", "b", "c", "d"][c.unwrap_or(3)])
        })
        .collect();
    let schema = Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("k", DataType::Int64, false),
        Field::new("z", DataType::Utf8, false),
        Field::new("y", DataType::Utf8, false),
    ]);
    let cols: Vec<ArrayRef> = vec![Arc::new(x), Arc::new(k), Arc::new(z), Arc::new(y)];
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

#[test]
fn concept_tests_hold_their_level_on_small_sparse_samples() {
    // Ten pairs of 5,000 rows of one distribution: every cell of `k` is a
    // few rows, so a sum of one Pearson statistic per cell adds up to a
    // rejection (p near 1e-23). Nothing may be flagged, and the p-values
    // are spread as a test's at its level are.
    let dir = tmp();
    let mut ps = Vec::new();
    for seed in 0..10u64 {
        for (side, name) in [(0, "a.parquet"), (1, "b.parquet")] {
            let b = independent(100 * seed + side, 5_000, [0.5, 0.3, 0.18, 0.02]);
            write_parquet(
                &dir.path().join(name),
                &[b],
                parquet::basic::Compression::SNAPPY,
                5_000,
            );
        }
        let (code, c) = compare_json(dir.path(), "a.parquet", "b.parquet");
        assert_eq!(code, Some(0), "seed {seed}: {c}");
        for f in ["x", "k", "z"] {
            let k = &by_name(&c, f)["concept"];
            assert_eq!(k["drifted"], false, "seed {seed}, {f}: {k}");
            ps.push(k["p_value"].as_f64().unwrap());
        }
    }
    ps.sort_by(f64::total_cmp);
    let median = ps[ps.len() / 2];
    assert!((0.15..0.85).contains(&median), "median p {median}: {ps:?}");
    assert!(ps[0] > 1e-4, "smallest p {}: {ps:?}", ps[0]);
}

#[test]
fn classes_folded_apart_on_each_side_are_compared_as_one() {
    // Four classes; with --max-classes 3, "c" (13%) is apart on day 1 and
    // folded on day 2, where "d" overtakes it (13% against 12%), and "d"
    // the other way round. Compared, both are folded on both sides: no
    // label shift (c alone would seem to move by 13%), no concept shift.
    let dir = tmp();
    let path = |f: &str| dir.path().join(f).display().to_string();
    let day = |seed: u64, shares: [f64; 4], name: &str| {
        let b = independent(seed, 40_000, shares);
        write_parquet(
            &dir.path().join(name),
            &[b],
            parquet::basic::Compression::SNAPPY,
            10_000,
        );
        profile_labelled(
            &path(name),
            &path(&format!("{name}.json")),
            &["--max-classes", "3"],
        );
    };
    day(1, [0.45, 0.3, 0.13, 0.12], "one.parquet");
    day(2, [0.45, 0.3, 0.12, 0.13], "two.parquet");
    let folded = |f: &str| -> Vec<Value> {
        let p: Value = serde_json::from_slice(&std::fs::read(path(f)).unwrap()).unwrap();
        p["slices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["slice"]["y"].clone())
            .collect()
    };
    assert_eq!(folded("one.parquet.json"), ["a", "b", "c", "__other__"]);
    assert_eq!(folded("two.parquet.json"), ["a", "b", "d", "__other__"]);
    let (code, c) = compare_json(dir.path(), "one.parquet.json", "two.parquet.json");
    assert_eq!(code, Some(0), "{c}");
    assert_eq!(c["label_shift"]["drifted"], false, "{}", c["label_shift"]);
    assert!(c["label_shift"]["linf"].as_f64().unwrap() < 0.02);
    for f in ["x", "k", "z"] {
        assert_eq!(by_name(&c, f)["concept"]["drifted"], false, "{f}");
    }
}

#[test]
fn concept_tests_hold_their_level_on_unequal_sides() {
    // A big reference against small batches: 200,000 rows against eight
    // of 1,000, one distribution. The noise of the concept's value passes
    // the threshold; the test must not reject. A sum of one (scaled)
    // Pearson statistic per cell (the test before the stratified one)
    // flagged `k` (1,000 integer values: a batch has about one row per
    // cell) and `x` with seed 5, at p 3e-9 and 4e-11.
    let dir = tmp();
    let write = |b: RecordBatch, name: &str| {
        write_parquet(
            &dir.path().join(name),
            &[b],
            parquet::basic::Compression::SNAPPY,
            50_000,
        )
    };
    write(
        independent(1_000, 200_000, [0.5, 0.3, 0.18, 0.02]),
        "a.parquet",
    );
    let mut ps = Vec::new();
    for seed in 0..8u64 {
        write(
            independent(2_000 + seed, 1_000, [0.5, 0.3, 0.18, 0.02]),
            "b.parquet",
        );
        let (code, c) = compare_json(dir.path(), "a.parquet", "b.parquet");
        assert_eq!(code, Some(0), "seed {seed}: {c}");
        for f in ["x", "k", "z"] {
            ps.push(by_name(&c, f)["concept"]["p_value"].as_f64().unwrap());
        }
    }
    ps.sort_by(f64::total_cmp);
    let median = ps[ps.len() / 2];
    assert!((0.15..0.85).contains(&median), "median p {median}: {ps:?}");
    assert!(ps[0] > 1e-4, "smallest p {}: {ps:?}", ps[0]);
}

/// `b` with the label's class `from` renamed `to`.
fn rename_class(b: &RecordBatch, from: &str, to: &str) -> RecordBatch {
    let y = b.column_by_name("y").unwrap().as_string::<i32>();
    let renamed: StringArray = y
        .iter()
        .map(|v| v.map(|v| if v == from { to } else { v }))
        .collect();
    let mut cols = b.columns().to_vec();
    let at = b.schema().index_of("y").unwrap();
    cols[at] = Arc::new(renamed);
    RecordBatch::try_new(b.schema(), cols).unwrap()
}

#[test]
fn a_class_only_one_side_has_is_its_own_on_data_profiles_and_merges() {
    // The base's classes are cat, dog and emu; the current's cat, dog and
    // gnu. Compared on data, each side keeps its own classes (the base's
    // do not fold the current's gnu into "__other__", where emu and gnu
    // would pass for one class): the label shifted by emu's share, as
    // between the two sides' stored profiles. Merged, the profiles hold
    // all four classes, as the profile of both files' rows does.
    let dir = tmp();
    let path = |f: &str| dir.path().join(f).display().to_string();
    let base = labelled_batch(41, 6_000);
    let cur = rename_class(&labelled_batch(42, 6_000), "emu", "gnu");
    let write = |name: &str, batches: &[RecordBatch]| {
        write_parquet(
            &dir.path().join(name),
            batches,
            parquet::basic::Compression::SNAPPY,
            1_000,
        )
    };
    write("b.parquet", std::slice::from_ref(&base));
    write("c.parquet", std::slice::from_ref(&cur));
    write("u.parquet", &[base, cur]);
    let (code, on_data) = compare_json(dir.path(), "b.parquet", "c.parquet");
    assert_eq!(code, Some(1), "{on_data}");
    let shift = &on_data["label_shift"];
    assert_eq!(shift["drifted"], true, "{shift}");
    assert!(
        ["emu", "gnu"].contains(&shift["class"].as_str().unwrap()),
        "{shift}"
    );
    assert!(shift["linf"].as_f64().unwrap() > 0.25, "{shift}");
    assert_eq!(shift["dof"], 4, "{shift}");
    for (data, out) in [
        ("b.parquet", "b.json"),
        ("c.parquet", "c.json"),
        ("u.parquet", "u.json"),
    ] {
        profile_labelled(&path(data), &path(out), &[]);
    }
    let (code, on_profiles) = compare_json(dir.path(), "b.json", "c.json");
    assert_eq!(code, Some(1));
    assert_eq!(on_profiles["label_shift"], on_data["label_shift"]);
    // The same concepts (the data's comparison refines f's KS on the
    // values, which profiles cannot).
    let concepts = |c: &Value| -> Vec<Value> {
        c["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["concept"].clone())
            .collect()
    };
    assert_eq!(concepts(&on_profiles), concepts(&on_data));
    assert_eq!(
        concepts(&on_data).iter().filter(|c| c.is_object()).count(),
        3
    );
    let o = skewer(&[
        "merge",
        &path("b.json"),
        &path("c.json"),
        "-o",
        &path("m.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (m, u) = (
        skewer::read_profile(&dir.path().join("m.json")).unwrap(),
        skewer::read_profile(&dir.path().join("u.json")).unwrap(),
    );
    let slices = |p: &skewer::profile::DatasetProfile| {
        let mut v: Vec<_> = p
            .slices
            .iter()
            .map(|s| (s.slice.clone(), s.num_rows))
            .collect();
        v.sort();
        v
    };
    assert_eq!(slices(&m).len(), 5, "cat, dog, emu, gnu and null");
    assert_eq!(slices(&m), slices(&u));
    for (a, b) in m.features.iter().zip(&u.features) {
        assert_eq!(a.label_table, b.label_table, "{}", a.name);
    }
}

#[test]
fn a_covariate_shift_far_from_the_base_is_no_concept() {
    // x ~ N(0, 1), then N(3, 1); P(y = 1 | x) the logistic of x on both
    // sides. The sides share only the tails' cells: each bin weighs the
    // mass both sides have in it, so the slivers' noise stays small, and
    // each cell's rate is compared with the same cell's.
    let dir = tmp();
    let side = |seed: u64, mean: f64, name: &str| {
        let mut rng = Rng::new(seed);
        let n = 50_000;
        let x: Vec<f64> = (0..n).map(|_| mean + rng.normal()).collect();
        let y: Int64Array = x
            .iter()
            .map(|&x| Some(i64::from(rng.chance(1.0 / (1.0 + (-x).exp())))))
            .collect();
        let schema = Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Int64, false),
        ]);
        let cols: Vec<ArrayRef> = vec![Arc::new(Float64Array::from(x)), Arc::new(y)];
        let b = RecordBatch::try_new(Arc::new(schema), cols).unwrap();
        write_parquet(
            &dir.path().join(name),
            &[b],
            parquet::basic::Compression::SNAPPY,
            50_000,
        );
    };
    side(31, 0.0, "a.parquet");
    side(32, 3.0, "b.parquet");
    let (_, c) = compare_json(dir.path(), "a.parquet", "b.parquet");
    let x = by_name(&c, "x");
    assert_eq!(x["drifted"], true);
    assert_eq!(x["concept"]["drifted"], false, "{x}");
    let value = x["concept"]["value"].as_f64().unwrap();
    assert!(value < 0.015, "{x}");
}

#[test]
fn labels_refuse_bad_input_with_exit_2() {
    let dir = tmp();
    let path = |f: &str| dir.path().join(f).display().to_string();
    // No rows: a profile and a report, no panic.
    let b = rows(9, 0, 0.0, step);
    write_parquet(
        &dir.path().join("empty.parquet"),
        &[b],
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    profile_labelled(
        &path("empty.parquet"),
        &path("e.json"),
        &["--html", &path("e.html")],
    );
    // More distinct values than groups: named as the label's.
    let n = 2_500;
    let y: Int64Array = (0..n as i64).map(Some).collect();
    let x: Float64Array = (0..n).map(|i| Some(i as f64)).collect();
    let schema = Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Int64, false),
    ]);
    let b =
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(x) as ArrayRef, Arc::new(y)]).unwrap();
    write_parquet(
        &dir.path().join("many.parquet"),
        &[b],
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    fails_with(
        &["profile", &path("many.parquet"), "--label", "y"],
        &["--label y", "more than", "many.parquet"],
    );
    // A hand-edited labelled profile: slices that do not add up, or are
    // not by the label.
    let b = rows(10, 2_000, 0.0, step);
    write_parquet(
        &dir.path().join("d.parquet"),
        &[b],
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    profile_labelled(&path("d.parquet"), &path("d.json"), &[]);
    let good: Value = serde_json::from_slice(&std::fs::read(path("d.json")).unwrap()).unwrap();
    let mut huge = good.clone();
    huge["slices"][0]["num_rows"] = serde_json::json!(1u64 << 63);
    std::fs::write(path("huge.json"), serde_json::to_vec(&huge).unwrap()).unwrap();
    fails_with(
        &["compare", &path("d.json"), &path("huge.json")],
        &["huge.json", "beyond any dataset"],
    );
    let mut other = good.clone();
    other["label"] = serde_json::json!("x");
    std::fs::write(path("other.json"), serde_json::to_vec(&other).unwrap()).unwrap();
    fails_with(
        &["compare", &path("d.json"), &path("other.json")],
        &["other.json", "not by \"x\" alone"],
    );
    // A class whose value is "__other__" itself, beside the fold: read
    // back as two slices.
    let n = 3_000;
    let y: StringArray = (0..n)
        .map(|i| Some(["__other__", "__other__", "a", "b"][i % 4]))
        .collect();
    let x: Float64Array = (0..n).map(|i| Some(i as f64)).collect();
    let schema = Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Utf8, false),
    ]);
    let b =
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(x) as ArrayRef, Arc::new(y)]).unwrap();
    write_parquet(
        &dir.path().join("lit.parquet"),
        &[b],
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    profile_labelled(
        &path("lit.parquet"),
        &path("lit.json"),
        &["--max-classes", "1"],
    );
    let (code, c) = compare_json(dir.path(), "lit.json", "lit.json");
    assert_eq!(code, Some(0), "{c}");
    let mut twice = good.clone();
    let first = twice["slices"][0].clone();
    twice["slices"].as_array_mut().unwrap().push(first);
    std::fs::write(path("twice.json"), serde_json::to_vec(&twice).unwrap()).unwrap();
    fails_with(
        &["compare", &path("d.json"), &path("twice.json")],
        &["twice.json", "listed twice"],
    );
    let mut rows = good.clone();
    rows["slices"][0]["num_rows"] =
        serde_json::json!(good["slices"][0]["num_rows"].as_u64().unwrap() + 1);
    std::fs::write(path("rows.json"), serde_json::to_vec(&rows).unwrap()).unwrap();
    fails_with(
        &["compare", &path("d.json"), &path("rows.json")],
        &["rows.json", "slices hold"],
    );
    let mut count = good;
    count["slices"][0]["features"][0]["categorical"] = Value::Null;
    count["slices"][0]["features"][0]["count"] = serde_json::json!(1u64 << 60);
    std::fs::write(path("count.json"), serde_json::to_vec(&count).unwrap()).unwrap();
    fails_with(
        &["timeline", &path("d.json"), &path("count.json")],
        &["count.json", "beyond any dataset"],
    );
}
