//! Slices and windows (src/engine/groups.rs): each group's profile is the
//! profile of its rows, on every backend; `skewer timeline` tells slow
//! drift from fast.

use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use skewer::engine::groups::{profile_groups, GroupBy};
use skewer::engine::{NoProgress, Slicing};
use skewer::source::Dataset;

use crate::common::*;

/// Every type, with a slice column of six values and nulls, the smaller
/// values rare (so that --max-slices folds some).
fn sliced_batch(seed: u64, n: usize) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let seg: StringArray = (0..n)
        .map(|_| {
            let r = rng.below(100);
            match r {
                0..5 => None,
                5..40 => Some("a"),
                40..65 => Some("b"),
                65..85 => Some("c"),
                85..95 => Some("d"),
                95..98 => Some("e"),
                _ => Some("f"),
            }
        })
        .collect();
    let b = all_types_batch(seed, n);
    let mut fields: Vec<Arc<Field>> = b.schema().fields().iter().cloned().collect();
    let mut cols = b.columns().to_vec();
    fields.push(Arc::new(Field::new("seg", DataType::Utf8, true)));
    cols.push(Arc::new(seg));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

/// The rows of `b` whose `col` is `value` (null: missing), or with
/// `others`, whose value is none of those.
fn rows_where(b: &RecordBatch, col: &str, keep: impl Fn(Option<&str>) -> bool) -> RecordBatch {
    let c = b.column_by_name(col).unwrap().as_string::<i32>();
    let mask: BooleanArray = (0..c.len())
        .map(|i| Some(keep((!c.is_null(i)).then(|| c.value(i)))))
        .collect();
    arrow::compute::filter_record_batch(b, &mask).unwrap()
}

#[test]
fn slices_are_the_profiles_of_their_rows_on_every_backend() {
    let dir = tmp();
    let batch = sliced_batch(11, 9_001);
    let file = dir.path().join("d.parquet");
    // 19 row groups: items read runs of 8, 8 and 3.
    write_parquet(
        &file,
        std::slice::from_ref(&batch),
        parquet::basic::Compression::SNAPPY,
        500,
    );
    let by = GroupBy::Slices(Slicing {
        columns: vec!["seg".into()],
        max: 3,
        only: None,
    });
    // A budget that keeps every value, and one that spills: pass two from
    // what pass one kept, and by reading the columns again.
    for budget in [1 << 30, 48 << 10] {
        for backend in backends() {
            let (src, mut opts) = opts(700, budget);
            opts.backend = backend.clone();
            let what = format!("{} budget {budget}", backend.kind());
            let ds = Dataset::open(std::slice::from_ref(&file), &src).unwrap();
            let p = profile_groups(&ds, &opts, &by, &NoProgress)
                .unwrap()
                .sliced()
                .unwrap();
            let alone = |b: &RecordBatch, name: &str| {
                let f = dir.path().join(name);
                write_parquet(
                    &f,
                    std::slice::from_ref(b),
                    parquet::basic::Compression::SNAPPY,
                    2_500,
                );
                profile_files(&[f], &src, &opts).unwrap()
            };
            let mut whole = p.clone();
            whole.slices.clear();
            assert_same(&whole, &alone(&batch, "whole.parquet"));
            let names: Vec<Value> = p
                .slices
                .iter()
                .map(|s| serde_json::to_value(&s.slice["seg"]).unwrap())
                .collect();
            assert_eq!(names, ["a", "b", "c", "__other__"], "{what}");
            let top = ["a", "b", "c"];
            for s in &p.slices {
                let rows = match s.other {
                    true => rows_where(&batch, "seg", |v| !v.is_some_and(|v| top.contains(&v))),
                    false => rows_where(&batch, "seg", |v| v == s.slice["seg"].as_deref()),
                };
                let want = alone(&rows, "slice.parquet");
                let mut got = want.clone();
                got.num_rows = s.num_rows;
                got.features = s.features.clone();
                assert_same(&got, &want);
            }
            assert_eq!(
                p.slices.iter().map(|s| s.num_rows).sum::<u64>(),
                p.num_rows,
                "{what}"
            );
        }
    }
}

/// Rows of 30 days: `steady` never moves, `creep` moves a little every
/// day, `jump` moves once overnight (day 20), `cat` never moves.
fn thirty_days(rows_per_day: usize) -> RecordBatch {
    let mut rng = Rng::new(30);
    let day0 = 1_767_225_600i64; // 2026-01-01T00:00:00Z
    let n = 30 * rows_per_day;
    let mut ts = Vec::with_capacity(n);
    let (mut steady, mut creep, mut jump, mut cat) = (vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let day = (i / rows_per_day) as i64;
        ts.push((day0 + day * 86_400 + rng.below(86_400) as i64) * 1_000);
        steady.push(rng.normal());
        creep.push(rng.normal() + 0.02 * day as f64);
        jump.push(rng.normal() + if day >= 20 { 1.0 } else { 0.0 });
        cat.push(["x", "y", "z"][rng.below(3) as usize]);
    }
    RecordBatch::try_from_iter([
        (
            "ts",
            Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")) as ArrayRef,
        ),
        ("steady", Arc::new(Float64Array::from(steady))),
        ("creep", Arc::new(Float64Array::from(creep))),
        ("jump", Arc::new(Float64Array::from(jump))),
        ("cat", Arc::new(StringArray::from(cat))),
    ])
    .unwrap()
}

#[test]
fn a_timeline_tells_slow_drift_from_fast() {
    let dir = tmp();
    let rows_per_day = 4_000;
    let batch = thirty_days(rows_per_day);
    let file = dir.path().join("month.parquet");
    write_parquet(
        &file,
        std::slice::from_ref(&batch),
        parquet::basic::Compression::SNAPPY,
        50_000,
    );
    let days = dir.path().join("days");
    let f = file.to_str().unwrap();
    let d = days.to_str().unwrap();
    let o = skewer(&["profile", f, "--window", "ts=1d", "-o", d, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(&days)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 30);
    assert_eq!(
        (&names[0][..], &names[29][..]),
        ("2026-01-01.json", "2026-01-30.json")
    );

    // A window's profile is the profile of its rows.
    let day = skewer::read_profile(&days.join("2026-01-21.json")).unwrap();
    let w = day.window.as_ref().unwrap();
    assert_eq!(
        (&w.column[..], &w.width[..], &w.start[..], &w.end[..]),
        ("ts", "1d", "2026-01-21T00:00:00Z", "2026-01-22T00:00:00Z")
    );
    let rows = batch.slice(20 * rows_per_day, rows_per_day);
    let alone = dir.path().join("day20.parquet");
    write_parquet(&alone, &[rows], parquet::basic::Compression::SNAPPY, 50_000);
    let (src, opts) = opts(65_536, 1 << 30);
    let mut want = profile_files(&[alone], &src, &opts).unwrap();
    want.window = day.window.clone();
    assert_same(&day, &want);

    let run = |extra: &[&str]| {
        let mut args = vec!["timeline", d, "--json"];
        args.extend(extra);
        let o = skewer(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let t: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(t["windows"].as_array().unwrap().len(), 30);
        let verdict = |name: &str| {
            let f = t["features"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap();
            assert_eq!(f["series"].as_array().unwrap().len(), 30);
            (
                f["drift"].as_str().unwrap().to_string(),
                f["since"].as_str().map(String::from),
            )
        };
        let (creep, since) = verdict("creep");
        assert_eq!(creep, "slow", "{since:?}");
        assert_eq!(
            verdict("jump"),
            ("fast".into(), Some("2026-01-21T00:00:00Z".into()))
        );
        for steady in ["steady", "cat"] {
            assert_eq!(verdict(steady), ("none".into(), None), "{steady}");
        }
        // The time column moves by a window each day: left out.
        assert!(t["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"] != "ts"));
    };
    run(&[]);
    // Against the training data: the first ten days profiled alone.
    let train = dir.path().join("train.json");
    let train_rows = dir.path().join("train.parquet");
    write_parquet(
        &train_rows,
        &[batch.slice(0, 10 * rows_per_day)],
        parquet::basic::Compression::SNAPPY,
        50_000,
    );
    let tr = train.to_str().unwrap();
    let o = skewer(&["profile", train_rows.to_str().unwrap(), "-o", tr, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    run(&["--reference", tr]);

    // A reference without one of the windows' columns: that column has
    // no steps against it (not a creep from the first window), and a
    // note says so; one with none of them is refused.
    let narrow = dir.path().join("narrow.json");
    let nr = narrow.to_str().unwrap();
    let tp = train_rows.to_str().unwrap();
    let o = skewer(&[
        "profile",
        tp,
        "--columns",
        "steady,creep,jump",
        "-o",
        nr,
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = skewer(&["timeline", d, "--reference", nr, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("narrow.json has no column cat"),
        "{}",
        stderr(&o)
    );
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    let cat = t["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "cat")
        .unwrap();
    assert_eq!(cat["drift"], "none", "{cat}");
    assert!(cat["series"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["vs_reference"].is_null()));
    let o = skewer(&["profile", tp, "--columns", "ts", "-o", nr, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    fails_with(
        &["timeline", d, "--reference", nr],
        &["narrow.json", "none of the windows' columns"],
    );
    // A profile that is no window's among windows (a training profile
    // beside them) is refused by name, and so is an empty folder.
    fails_with(
        &["timeline", tr, d],
        &["train.json", "not a window's profile"],
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_with(&["timeline", empty.to_str().unwrap()], &["no profiles"]);

    let page = dir.path().join("timeline.html");
    let o = skewer(&[
        "timeline",
        d,
        "--markdown",
        "--html",
        page.to_str().unwrap(),
    ]);
    let md = String::from_utf8(o.stdout).unwrap();
    for row in [
        "| jump | fast |",
        "| creep | slow |",
        "| steady | none |",
        "| cat | none |",
    ] {
        assert!(md.contains(row), "{row}: {md}");
    }
    // The page: a section per feature with its verdict and its chart, and
    // nothing fetched.
    let html = std::fs::read_to_string(&page).unwrap();
    for (f, drift) in [
        ("creep", "slow"),
        ("jump", "fast"),
        ("steady", "none"),
        ("cat", "none"),
    ] {
        let at = html
            .find(&format!(r#"data-feature="{f}" data-drift="{drift}""#))
            .unwrap_or_else(|| panic!("{f} {drift}"));
        let section = &html[at..at + html[at..].find("</section>").unwrap()];
        assert!(
            section.contains("<svg") && section.contains("cur-line"),
            "{section}"
        );
    }
    assert!(!html.contains("http://") && !html.contains("https://"));

    // Steady features alone: nothing drifts, exit 0.
    let calm = dir.path().join("calm");
    let c = calm.to_str().unwrap();
    let o = skewer(&[
        "profile",
        f,
        "--window",
        "ts=1d",
        "--columns",
        "steady,cat",
        "-o",
        c,
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = skewer(&["timeline", c]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn groups_refuse_what_they_cannot_group() {
    let dir = tmp();
    let file = dir.path().join("d.parquet");
    write_parquet(
        &file,
        &[all_types_batch(3, 3_000)],
        parquet::basic::Compression::SNAPPY,
        1_000,
    );
    let f = file.to_str().unwrap();
    let out = dir.path().join("w");
    let o = out.to_str().unwrap();
    fails_with(
        &["profile", f, "--window", "f64=1d", "-o", o],
        &["d.parquet", "\"f64\"", "not a timestamp or a date"],
    );
    fails_with(&["profile", f, "--window", "ts_ms=1y", "-o", o], &["1y"]);
    fails_with(&["profile", f, "--window", "ts_ms=1d"], &["-o"]);
    // Parquet's types are the file's: no hint about CSV's --type.
    let e = stderr(&skewer(&["profile", f, "--window", "f64=1d", "-o", o]));
    assert!(!e.contains("--type"), "{e}");
    // A file where the windows' folder should be, before anything is read.
    let taken = dir.path().join("taken.json");
    std::fs::write(&taken, "{}").unwrap();
    fails_with(
        &[
            "profile",
            f,
            "--window",
            "ts_ms=1d",
            "-o",
            taken.to_str().unwrap(),
        ],
        &["taken.json", "into a folder, and this is a file"],
    );
    fails_with(
        &["profile", f, "--slice-by", "nope"],
        &["d.parquet", "nope"],
    );
    fails_with(
        &["profile", f, "--slice-by", "f64"],
        &["d.parquet", "--slice-by f64", "distinct values"],
    );
    assert!(!out.exists(), "nothing is written on an error");
}

/// Rows in three segments with a numeric `x` and a string `s`; `shift`
/// moves `x` in segment "b" and adds a new value of `s` in segment "c".
fn segments(seed: u64, n: usize, shift: bool) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let (mut seg, mut x, mut s) = (vec![], vec![], vec![]);
    for _ in 0..n {
        let g = ["a", "b", "c"][rng.below(3) as usize];
        let moved = shift && g == "b";
        x.push(rng.normal() + if moved { 1.0 } else { 0.0 });
        let v = ["p", "q", "r"][rng.below(3) as usize];
        s.push(if shift && g == "c" && rng.chance(0.2) {
            "new"
        } else {
            v
        });
        seg.push(g);
    }
    RecordBatch::try_from_iter([
        ("seg", Arc::new(StringArray::from(seg)) as ArrayRef),
        ("x", Arc::new(Float64Array::from(x))),
        ("s", Arc::new(StringArray::from(s))),
    ])
    .unwrap()
}

/// The rows of a page's slices section, each from its `data-slice` value.
fn slice_rows(html: &str) -> Vec<String> {
    let at = html
        .find("<section id=\"slices\">")
        .expect("a slices section");
    let section = &html[at..at + html[at..].find("</section>").unwrap()];
    section
        .split("<tr data-slice=")
        .skip(1)
        .map(|r| r[..r.find("</tr>").unwrap()].to_string())
        .collect()
}

#[test]
fn compare_and_validate_report_each_slice() {
    let dir = tmp();
    let base = dir.path().join("base.parquet");
    let cur = dir.path().join("cur.parquet");
    let c = parquet::basic::Compression::SNAPPY;
    write_parquet(&base, &[segments(1, 30_000, false)], c, 8_000);
    write_parquet(&cur, &[segments(2, 30_000, true)], c, 8_000);
    let (b, cu) = (base.to_str().unwrap(), cur.to_str().unwrap());

    let o = skewer(&["compare", b, cu, "--slice-by", "seg", "--json", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let cmp: Value = serde_json::from_slice(&o.stdout).unwrap();
    let drifted = |slice: &Value| -> Vec<String> {
        let mut v: Vec<String> = slice["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["drifted"] == true)
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    // Per segment, its drifted features: exactly x in b and s in c.
    let by_seg = |cmp: &Value| -> Vec<(String, Vec<String>)> {
        let mut v: Vec<(String, Vec<String>)> = cmp["slices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["slice"]["seg"].as_str().unwrap().to_string(), drifted(s)))
            .collect();
        v.sort();
        v
    };
    let want: Vec<(String, Vec<String>)> = vec![
        ("a".into(), vec![]),
        ("b".into(), vec!["x".into()]),
        ("c".into(), vec!["s".into()]),
    ];
    assert_eq!(by_seg(&cmp), want);

    // The same from stored sliced profiles; a profile without slices is
    // refused by name.
    let pb = dir.path().join("base.json");
    let pc = dir.path().join("cur.json");
    let plain = dir.path().join("plain.json");
    for (data, out, extra) in [(b, &pb, true), (cu, &pc, true), (cu, &plain, false)] {
        let mut args = vec!["profile", data, "-o", out.to_str().unwrap(), "--quiet"];
        if extra {
            args.extend(["--slice-by", "seg"]);
        }
        assert!(skewer(&args).status.success());
    }
    let o = skewer(&[
        "compare",
        pb.to_str().unwrap(),
        pc.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let stored: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(by_seg(&stored), want);

    // The page: a row per slice, a column per feature that drifted in
    // some slice, each cell its verdict; the profile alone lists the
    // slices' rows.
    let page = dir.path().join("page.html");
    let o = skewer(&[
        "compare",
        pb.to_str().unwrap(),
        pc.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let rows = slice_rows(&std::fs::read_to_string(&page).unwrap());
    let cell = |f: &str, st: &str| format!("data-column=\"{f}\" data-status=\"{st}\"");
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (seg, drifted, x, s) in [
        ("a", 0, "ok", "ok"),
        ("b", 1, "DRIFT", "ok"),
        ("c", 1, "ok", "DRIFT"),
    ] {
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("\"seg={seg}\" data-drifts=\"{drifted}\"")))
            .unwrap_or_else(|| panic!("seg={seg}: {rows:?}"));
        assert!(
            row.contains(&cell("x", x)) && row.contains(&cell("s", s)),
            "{row}"
        );
    }
    let o = skewer(&["report", pc.to_str().unwrap(), "-o", page.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = slice_rows(&std::fs::read_to_string(&page).unwrap());
    let listed: u64 = rows
        .iter()
        .map(|r| {
            let n = r.split("<td class=\"num\">").nth(1).unwrap();
            n[..n.find('<').unwrap()].parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!((rows.len(), listed), (3, 30_000), "{rows:?}");
    fails_with(
        &[
            "compare",
            pb.to_str().unwrap(),
            plain.to_str().unwrap(),
            "--slice-by",
            "seg",
        ],
        &["plain.json", "no slices by seg"],
    );

    // Merged sliced profiles have the slices of the union (the merge's
    // quantiles come from sketches, as for any merge: counts compared).
    let merged = dir.path().join("merged.json");
    let m = merged.to_str().unwrap();
    let both = dir.path().join("both.json");
    let o = skewer(&["merge", pb.to_str().unwrap(), pc.to_str().unwrap(), "-o", m]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = skewer(&[
        "profile",
        b,
        cu,
        "--slice-by",
        "seg",
        "-o",
        both.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (merged, both) = (
        skewer::read_profile(&merged).unwrap(),
        skewer::read_profile(&both).unwrap(),
    );
    assert_eq!(merged.slices.len(), 3);
    for (x, y) in merged.slices.iter().zip(&both.slices) {
        assert_eq!((&x.slice, x.num_rows), (&y.slice, y.num_rows));
        let counts = |s: &skewer::profile::SliceProfile| -> Vec<(u64, u64)> {
            s.features.iter().map(|f| (f.count, f.missing)).collect()
        };
        assert_eq!(counts(x), counts(y));
    }
    fails_with(
        &["merge", pb.to_str().unwrap(), plain.to_str().unwrap()],
        &["plain.json", "not by the first's columns"],
    );

    // validate: the new value is an anomaly of segment c only.
    let schema = dir.path().join("schema.json");
    let s = schema.to_str().unwrap();
    assert!(skewer(&["schema", "infer", b, "-o", s, "--quiet"])
        .status
        .success());
    let o = skewer(&[
        "validate",
        cu,
        "--schema",
        s,
        "--slice-by",
        "seg",
        "--json",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let with_anomalies: Vec<&str> = v["slices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["anomalies"].as_array().unwrap().is_empty())
        .map(|s| s["slice"]["seg"].as_str().unwrap())
        .collect();
    assert_eq!(with_anomalies, ["c"]);

    // A stored --previous that folds some of the current's slices into
    // "__other__": validate says which slices have nothing to compare with.
    let (b1, c2) = (dir.path().join("base1.json"), dir.path().join("cur2.json"));
    for (data, out, max) in [(b, &b1, "1"), (cu, &c2, "2")] {
        let o = skewer(&[
            "profile",
            data,
            "--slice-by",
            "seg",
            "--max-slices",
            max,
            "-o",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let b1 = b1.to_str().unwrap();
    let apart: Vec<String> = skewer::read_profile(std::path::Path::new(b1))
        .unwrap()
        .slices
        .iter()
        .filter(|s| !s.other)
        .map(|s| s.slice["seg"].clone().unwrap())
        .collect();
    assert_eq!(apart.len(), 1);
    let o = skewer(&[
        "validate",
        cu,
        "--schema",
        s,
        "--slice-by",
        "seg",
        "--previous",
        b1,
        "--json",
    ]);
    assert!(
        stderr(&o).contains("not compared with the previous data"),
        "{}",
        stderr(&o)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for sl in v["slices"].as_array().unwrap() {
        let seg = sl["slice"]["seg"].as_str().unwrap();
        let unchecked = sl["not_compared_with"] == serde_json::json!(["previous"]);
        assert_eq!(unchecked, !apart.iter().any(|a| a == seg), "{sl}");
    }
}

#[test]
fn slices_of_a_partition_key_in_csv_and_parquet_folders() {
    let dir = tmp();
    let mut want = Vec::new();
    for (day, n) in [("2026-01-01", 700), ("2026-01-02", 1_300)] {
        let b = segments(n as u64, n, false);
        for (ext, write) in [
            ("csv", write_csv as fn(&std::path::Path, &[RecordBatch])),
            ("parquet", |p: &std::path::Path, b: &[RecordBatch]| {
                write_parquet(p, b, parquet::basic::Compression::SNAPPY, 400)
            }),
        ] {
            let d = dir.path().join(ext).join(format!("day={day}"));
            std::fs::create_dir_all(&d).unwrap();
            write(&d.join(format!("part.{ext}")), std::slice::from_ref(&b));
        }
        want.push((day.to_string(), n as u64));
    }
    for ext in ["csv", "parquet"] {
        let folder = dir.path().join(ext);
        let out = dir.path().join(format!("{ext}.json"));
        let o = skewer(&[
            "profile",
            folder.to_str().unwrap(),
            "--slice-by",
            "day",
            "-o",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        let p = skewer::read_profile(&out).unwrap();
        let mut got: Vec<(String, u64)> = p
            .slices
            .iter()
            .map(|s| (s.slice["day"].clone().unwrap(), s.num_rows))
            .collect();
        got.sort();
        assert_eq!(got, want, "{ext}");
        assert_eq!(p.num_rows, 2_000);
    }
}
