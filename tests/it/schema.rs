//! Schema inference and validation: every anomaly type triggered by a small
//! crafted dataset (and only it), none on clean data, the round trip through
//! the file format, hand-edit mistakes, and the command line's exit codes.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, Int64Builder, ListBuilder, StringArray,
};
use skewer::backend::Backend;
use skewer::profile::DatasetProfile;
use skewer::schema::{infer, read_schema, validate, write_schema, Checks, InferOptions, Schema};

use crate::common::*;
use crate::compare::profile_cols;

/// The columns of a crafted dataset, edited per case before writing.
#[derive(Clone)]
struct Data {
    f: Vec<Option<f64>>,
    i: Vec<Option<i64>>,
    s: Vec<Option<String>>,
    l: Vec<Option<Vec<i64>>>,
    opt: Vec<Option<f64>>,
    b: Vec<Option<bool>>,
    /// Write `i` as float64 instead of int64.
    i_as_float: bool,
    drop_i: bool,
    extra: bool,
}

fn data(n: usize, seed: u64) -> Data {
    let mut r = Rng::new(seed);
    let mut d = Data {
        f: vec![],
        i: vec![],
        s: vec![],
        l: vec![],
        opt: vec![],
        b: vec![],
        i_as_float: false,
        drop_i: false,
        extra: false,
    };
    for _ in 0..n {
        d.f.push(Some(r.f64() * 100.0));
        d.i.push(Some(r.below(51) as i64));
        d.s.push(Some(["a", "b", "c"][r.below(3) as usize].to_string()));
        d.l.push(Some((0..1 + r.below(3)).map(|k| k as i64).collect()));
        d.opt.push(if r.chance(0.1) {
            None
        } else {
            Some(r.normal())
        });
        d.b.push(Some(r.chance(0.4)));
    }
    // Pin the extremes so bounds inferred from one sample hold for others.
    d.f[0] = Some(0.0);
    d.f[1] = Some(100.0);
    d.i[0] = Some(0);
    d.i[1] = Some(50);
    d.l[0] = Some(vec![1]);
    d.l[1] = Some(vec![1, 2, 3]);
    d.opt[0] = Some(-10.0);
    d.opt[1] = Some(10.0);
    d
}

fn profile(dir: &Path, name: &str, d: &Data) -> DatasetProfile {
    let mut lb = ListBuilder::new(Int64Builder::new());
    for row in &d.l {
        match row {
            Some(v) => {
                lb.values().append_slice(v);
                lb.append(true);
            }
            None => lb.append(false),
        }
    }
    let mut cols: Vec<(&str, ArrayRef)> = vec![
        ("f", Arc::new(Float64Array::from(d.f.clone()))),
        (
            "s",
            Arc::new(StringArray::from(
                d.s.iter().map(|v| v.as_deref()).collect::<Vec<_>>(),
            )),
        ),
        ("l", Arc::new(lb.finish())),
        ("opt", Arc::new(Float64Array::from(d.opt.clone()))),
        ("b", Arc::new(BooleanArray::from(d.b.clone()))),
    ];
    if !d.drop_i {
        let i: ArrayRef = if d.i_as_float {
            Arc::new(Float64Array::from(
                d.i.iter().map(|v| v.map(|x| x as f64)).collect::<Vec<_>>(),
            ))
        } else {
            Arc::new(Int64Array::from(d.i.clone()))
        };
        cols.insert(1, ("i", i));
    }
    if d.extra {
        cols.push(("extra", Arc::new(Int64Array::from(vec![7; d.f.len()]))));
    }
    profile_cols(dir, name, cols)
}

fn full_schema(p: &DatasetProfile) -> Schema {
    infer(
        p,
        &InferOptions {
            bounds: true,
            num_examples: true,
            ..Default::default()
        },
    )
}

/// (feature, anomaly type) pairs, sorted.
fn found(
    schema: &Schema,
    p: &DatasetProfile,
    previous: Option<&DatasetProfile>,
    training: Option<&DatasetProfile>,
) -> Vec<(String, String)> {
    let checks = Checks {
        previous,
        training,
        backend: &Backend::Cpu,
        bins: 10,
        data: None,
    };
    let list = validate(schema, p, &checks).unwrap();
    for a in &list {
        assert!(!a.short.is_empty() && !a.long.is_empty(), "{a:?}");
    }
    let mut v: Vec<(String, String)> = list
        .into_iter()
        .map(|a| (a.feature.unwrap_or_default(), a.kind))
        .collect();
    v.sort();
    v
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = v
        .iter()
        .map(|(f, k)| (f.to_string(), k.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn clean_data_has_no_anomalies_and_the_schema_round_trips() {
    let d = tmp();
    let base = profile(d.path(), "base", &data(2000, 1));
    let schema = full_schema(&base);
    let path = d.path().join("schema.json");
    write_schema(&path, &schema).unwrap();
    let back = read_schema(&path).unwrap();
    assert_eq!(back, schema);
    // The same data, and another sample of the same distribution as the
    // current, previous and training data.
    let other = profile(d.path(), "other", &data(2000, 2));
    assert_eq!(found(&back, &base, None, None), vec![]);
    assert_eq!(found(&back, &other, Some(&base), Some(&base)), vec![]);
    // What inference wrote.
    let f = |n: &str| back.features.iter().find(|f| f.name == n).unwrap();
    assert_eq!(
        f("s").domain.as_deref(),
        Some(&["a".to_string(), "b".into(), "c".into()][..])
    );
    assert!(f("f").disallow_nan && f("f").disallow_inf);
    let opt = base.features.iter().find(|f| f.name == "opt").unwrap();
    let hundredths = (opt.count as f64 / 2000.0 * 100.0).floor();
    assert!(opt.missing > 0);
    assert_eq!(
        f("opt").presence.min_fraction,
        Some((hundredths - 5.0) / 100.0),
        "the observed share less 5%"
    );
    assert_eq!(f("f").presence.min_fraction, Some(1.0));
    assert_eq!(f("l").values_per_row.as_ref().unwrap().max, Some(3));
    assert!(f("b").domain.is_none(), "no domain for booleans");
    assert!(f("f")
        .drift_comparator
        .as_ref()
        .unwrap()
        .threshold("ks")
        .is_some());
    assert!(f("s")
        .drift_comparator
        .as_ref()
        .unwrap()
        .threshold("ks")
        .is_none());
    assert_eq!(
        f("f")
            .skew_comparator
            .as_ref()
            .unwrap()
            .threshold("hellinger"),
        None,
        "not set by default"
    );
    assert_eq!(back.dataset.min_num_examples, Some(1000));
}

#[test]
fn every_anomaly_type_from_a_crafted_dataset() {
    let d = tmp();
    let clean = data(2000, 1);
    let base = profile(d.path(), "base", &clean);
    let schema = full_schema(&base);
    type Edit = Box<dyn Fn(&mut Data)>;
    type Case = (&'static str, Edit, Vec<(&'static str, &'static str)>);
    let cases: Vec<Case> = vec![
        (
            "missing column",
            Box::new(|d| d.drop_i = true),
            vec![("i", "SCHEMA_MISSING_COLUMN")],
        ),
        (
            "new column",
            Box::new(|d| d.extra = true),
            vec![("extra", "SCHEMA_NEW_COLUMN")],
        ),
        (
            "type",
            Box::new(|d| d.i_as_float = true),
            vec![("i", "UNEXPECTED_DATA_TYPE")],
        ),
        (
            "low fraction",
            Box::new(|d| {
                for v in d.opt.iter_mut().step_by(2) {
                    *v = None;
                }
            }),
            vec![("opt", "FEATURE_TYPE_LOW_FRACTION_PRESENT")],
        ),
        (
            "not present",
            Box::new(|d| d.opt.iter_mut().for_each(|v| *v = None)),
            vec![("opt", "FEATURE_TYPE_NOT_PRESENT")],
        ),
        (
            "high number of values",
            Box::new(|d| d.l[5] = Some(vec![1, 2, 3, 1, 2])),
            vec![("l", "FEATURE_TYPE_HIGH_NUMBER_VALUES")],
        ),
        (
            "low number of values",
            Box::new(|d| d.l[5] = Some(vec![])),
            vec![("l", "FEATURE_TYPE_LOW_NUMBER_VALUES")],
        ),
        (
            "unexpected strings",
            Box::new(|d| {
                d.s[3] = Some("zzz".into());
                d.s[4] = Some("zzz".into());
            }),
            vec![("s", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")],
        ),
        (
            "nan",
            Box::new(|d| d.f[7] = Some(f64::NAN)),
            vec![("f", "FLOAT_TYPE_HAS_NAN")],
        ),
        (
            "inf",
            Box::new(|d| d.f[7] = Some(f64::NEG_INFINITY)),
            vec![("f", "FLOAT_TYPE_HAS_INF")],
        ),
        (
            "big int",
            Box::new(|d| d.i[9] = Some(1000)),
            vec![("i", "INT_TYPE_BIG_INT")],
        ),
        (
            "small int",
            Box::new(|d| d.i[9] = Some(-5)),
            vec![("i", "INT_TYPE_SMALL_INT")],
        ),
        (
            "big float",
            Box::new(|d| d.f[9] = Some(1e6)),
            vec![("f", "FLOAT_TYPE_BIG_FLOAT")],
        ),
        (
            "small float",
            Box::new(|d| d.f[9] = Some(-1e-3)),
            vec![("f", "FLOAT_TYPE_SMALL_FLOAT")],
        ),
        (
            "few rows",
            Box::new(|d| {
                let keep = 900;
                d.f.truncate(keep);
                d.i.truncate(keep);
                d.s.truncate(keep);
                d.l.truncate(keep);
                d.opt.truncate(keep);
                d.b.truncate(keep);
            }),
            vec![("", "DATASET_LOW_NUM_EXAMPLES")],
        ),
    ];
    for (what, edit, want) in cases {
        let mut dd = clean.clone();
        edit(&mut dd);
        let p = profile(d.path(), "case", &dd);
        assert_eq!(found(&schema, &p, None, None), pairs(&want), "{what}");
    }

    // Too many rows.
    let big = profile(d.path(), "big", &data(4500, 3));
    assert_eq!(
        found(&schema, &big, None, None),
        pairs(&[("", "DATASET_HIGH_NUM_EXAMPLES")])
    );

    // Low number present: a hand edit asks for more present rows than any.
    let mut strict = schema.clone();
    strict
        .features
        .iter_mut()
        .find(|f| f.name == "opt")
        .unwrap()
        .presence
        .min_count = Some(1_000_000);
    assert_eq!(
        found(&strict, &base, None, None),
        pairs(&[("opt", "FEATURE_TYPE_LOW_NUMBER_PRESENT")])
    );
}

#[test]
fn comparator_anomalies_for_drift_and_skew() {
    let d = tmp();
    let base = profile(d.path(), "base", &data(2000, 1));
    let mut schema = full_schema(&base);
    // Turn on every metric for f and s.
    for f in schema
        .features
        .iter_mut()
        .filter(|f| f.name == "f" || f.name == "s")
    {
        for c in [&mut f.drift_comparator, &mut f.skew_comparator] {
            let c = c.as_mut().unwrap();
            c.set_threshold("jsd", Some(0.01)).unwrap();
            if f.name == "f" {
                c.set_threshold("psi", Some(0.1)).unwrap();
                c.set_threshold("wasserstein", Some(0.1)).unwrap();
            }
        }
    }
    // Shift f up by 30 and make s mostly "a".
    let mut moved = data(2000, 2);
    for v in moved.f.iter_mut().skip(2) {
        *v = v.map(|x| (x + 30.0).min(100.0));
    }
    for (k, v) in moved.s.iter_mut().enumerate() {
        if k % 3 != 0 {
            *v = Some("a".into());
        }
    }
    let cur = profile(d.path(), "moved", &moved);
    let per_metric =
        |f: &'static str, kinds: &[&'static str]| -> Vec<(&'static str, &'static str)> {
            kinds.iter().map(|k| (f, *k)).collect()
        };
    let mut want = per_metric(
        "f",
        &[
            "COMPARATOR_L_INFTY_HIGH",
            "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH",
            "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH",
            "COMPARATOR_POPULATION_STABILITY_INDEX_HIGH",
            "COMPARATOR_WASSERSTEIN_DISTANCE_HIGH",
        ],
    );
    want.extend(per_metric(
        "s",
        &[
            "COMPARATOR_L_INFTY_HIGH",
            "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH",
        ],
    ));
    // Drift (previous) and skew (training) each apply their own comparator.
    assert_eq!(found(&schema, &cur, Some(&base), None), pairs(&want));
    assert_eq!(found(&schema, &cur, None, Some(&base)), pairs(&want));
    let both = found(&schema, &cur, Some(&base), Some(&base));
    assert_eq!(both.len(), 2 * want.len());
    // Without a skew comparator, --training checks nothing per feature.
    let mut no_skew = schema.clone();
    no_skew
        .features
        .iter_mut()
        .for_each(|f| f.skew_comparator = None);
    assert_eq!(found(&no_skew, &cur, None, Some(&base)), vec![]);

    // Number of examples against the previous span and the training data.
    let few = profile(d.path(), "few", &data(900, 4));
    let dataset_level: Vec<_> = found(&schema, &few, Some(&base), Some(&base))
        .into_iter()
        .filter(|(f, _)| f.is_empty())
        .collect();
    assert_eq!(
        dataset_level,
        pairs(&[
            ("", "COMPARATOR_LOW_NUM_EXAMPLES"),
            ("", "COMPARATOR_LOW_NUM_EXAMPLES"),
            ("", "DATASET_LOW_NUM_EXAMPLES"),
        ])
    );
    let small = profile(d.path(), "small", &data(2000, 5));
    let big = profile(d.path(), "big", &data(4100, 6));
    let mut lenient = schema.clone();
    lenient.dataset.max_num_examples = None;
    let high: Vec<_> = found(&lenient, &big, Some(&small), None)
        .into_iter()
        .filter(|(f, _)| f.is_empty())
        .collect();
    assert_eq!(high, pairs(&[("", "COMPARATOR_HIGH_NUM_EXAMPLES")]));
}

#[test]
fn hand_edit_mistakes_are_clear_errors() {
    let d = tmp();
    let base = profile(d.path(), "base", &data(200, 1));
    let path = d.path().join("schema.json");
    write_schema(&path, &full_schema(&base)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    for (edit, needle) in [
        (
            text.replacen("\"min_fraction\"", "\"min_fracton\"", 1),
            "min_fracton",
        ),
        (text.replacen("skewer-schema", "tfdv", 1), "format"),
        (
            text.replacen("\"alpha\": 0.0001", "\"alpha\": 2.0", 1),
            "alpha",
        ),
        (
            text.replacen("\"name\": \"i\"", "\"name\": \"f\"", 1),
            "twice",
        ),
        // Comparator thresholds are keyed by the metric table's names.
        (
            text.replacen("\"linf\": 0.03", "\"linfty\": 0.03", 1),
            "linfty",
        ),
        (
            text.replacen("\"linf\": 0.03", "\"linf\": -0.03", 1),
            "linf must be a number",
        ),
        (
            text.replacen("\"linf\": 0.03", "\"linf\": 0.03, \"linf\": 0.1", 1),
            "duplicate field `linf`",
        ),
        ("{".to_string(), "EOF"),
    ] {
        std::fs::write(&path, edit).unwrap();
        let e = read_schema(&path).unwrap_err().to_string();
        assert!(e.contains("schema.json"), "{e}");
        assert!(e.contains(needle), "{e} should mention {needle}");
    }
}

#[test]
fn cli_exit_codes_json_and_markdown() {
    let d = tmp();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (train, serve) = (
        ex.join("train.parquet").display().to_string(),
        ex.join("serve.parquet").display().to_string(),
    );
    let schema = d.path().join("schema.json").display().to_string();
    let o = skewer(&["schema", "infer", &train, "-o", &schema, "--backend", "cpu"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The training data against its own schema: exit 0.
    let o = skewer(&[
        "validate",
        &train,
        "--schema",
        &schema,
        "--training",
        &train,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("no anomalies"));
    // Serving data: skew on the shifted columns, exit 1, JSON as documented.
    let o = skewer(&[
        "validate",
        &serve,
        "--schema",
        &schema,
        "--training",
        &train,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v["anomalies"].as_array().unwrap();
    assert!(!list.is_empty());
    for a in list {
        for k in ["feature", "type", "short", "long", "value", "threshold"] {
            assert!(a.get(k).is_some(), "{a} lacks {k}");
        }
    }
    assert!(list
        .iter()
        .any(|a| a["feature"] == "s_low" && a["type"] == "COMPARATOR_L_INFTY_HIGH"));
    let md = skewer(&[
        "validate",
        &serve,
        "--schema",
        &schema,
        "--training",
        &train,
        "--markdown",
    ]);
    assert_eq!(md.status.code(), Some(1));
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("| s_low | COMPARATOR_L_INFTY_HIGH |"), "{md}");
    // Errors: exit 2 naming the file.
    let o = skewer(&["validate", &serve, "--schema", "/nonexistent/s.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/s.json"));
    std::fs::write(&schema, "{\"format\": \"skewer-schema\"}").unwrap();
    let o = skewer(&["validate", &serve, "--schema", &schema]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid schema"));
}

/// A schema's comparator keys are the metric table's names: `hellinger`
/// is one, written after the older metrics; the existing shape is read and
/// written unchanged.
#[test]
fn comparator_thresholds_by_metric_name() {
    use skewer::schema::{parse_schema, Comparator};
    let c: Comparator =
        serde_json::from_str(r#"{"linf": 0.03, "ks": 0.03, "alpha": 1e-4}"#).unwrap();
    assert_eq!(c.threshold("linf"), Some(0.03));
    assert_eq!(c.threshold("jsd"), None);
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"linf":0.03,"ks":0.03,"alpha":0.0001}"#
    );
    // Any order and null (not checked) are read; the table's order is written.
    let c: Comparator = serde_json::from_str(
        r#"{"hellinger": 0.2, "alpha": 0.01, "psi": null, "jsd": 0.1, "linf": 0.05}"#,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"linf":0.05,"jsd":0.1,"hellinger":0.2,"alpha":0.01}"#
    );
    let mut d = Comparator::default();
    assert!(d
        .set_threshold("hellinger_distance", Some(0.1))
        .unwrap_err()
        .to_string()
        .contains("hellinger_distance"));
    d.set_threshold("hellinger", Some(0.1)).unwrap();
    assert_eq!(d.threshold("hellinger"), Some(0.1));
    d.set_threshold("hellinger", None).unwrap();
    assert_eq!(d, Comparator::default());
    // An unknown key names the file, the key and the metrics there are.
    let text = r#"{"format": "skewer-schema", "version": 1, "features": [
        {"name": "x", "type": "int64", "kind": "numeric", "presence": {},
         "drift_comparator": {"linf": 0.03, "helinger": 0.1}}]}"#;
    let e = parse_schema(Path::new("dir/s.json"), text)
        .unwrap_err()
        .to_string();
    for needle in ["dir/s.json", "helinger", "`hellinger`", "`alpha`"] {
        assert!(e.contains(needle), "{e} should mention {needle}");
    }
}

/// The Hellinger comparator (not set by default) fires on a shift, for
/// drift and skew, and stays quiet on another sample of one distribution.
#[test]
fn hellinger_comparator_fires_and_stays_quiet() {
    let d = tmp();
    let base = profile(d.path(), "base", &data(2000, 1));
    let mut schema = full_schema(&base);
    for f in schema.features.iter_mut() {
        for c in [&mut f.drift_comparator, &mut f.skew_comparator] {
            let c = c.as_mut().unwrap();
            // Only Hellinger: the default linf and ks thresholds off.
            *c = skewer::schema::Comparator::default();
            c.set_threshold("hellinger", Some(0.1)).unwrap();
        }
    }
    // Another sample of the same distribution: nothing.
    let other = profile(d.path(), "other", &data(2000, 2));
    assert_eq!(found(&schema, &other, Some(&base), Some(&base)), vec![]);
    // f shifted up by 30 (of 100), s mostly "a": both fire, nothing else.
    let mut moved = data(2000, 2);
    for v in moved.f.iter_mut().skip(2) {
        *v = v.map(|x| (x + 30.0).min(100.0));
    }
    for (k, v) in moved.s.iter_mut().enumerate() {
        if k % 3 != 0 {
            *v = Some("a".into());
        }
    }
    let cur = profile(d.path(), "moved", &moved);
    let want = pairs(&[
        ("f", "COMPARATOR_HELLINGER_DISTANCE_HIGH"),
        ("s", "COMPARATOR_HELLINGER_DISTANCE_HIGH"),
    ]);
    assert_eq!(found(&schema, &cur, Some(&base), None), want);
    assert_eq!(found(&schema, &cur, None, Some(&base)), want);
    // Above the shift's distance: quiet again.
    for f in schema.features.iter_mut() {
        for c in [&mut f.drift_comparator, &mut f.skew_comparator] {
            c.as_mut()
                .unwrap()
                .set_threshold("hellinger", Some(0.9))
                .unwrap();
        }
    }
    assert_eq!(found(&schema, &cur, Some(&base), Some(&base)), vec![]);
    // The anomaly as written: skewer's own type name, words, value.
    let checks = Checks {
        previous: Some(&base),
        training: None,
        backend: &Backend::Cpu,
        bins: 10,
        data: None,
    };
    for f in schema.features.iter_mut() {
        let c = f.drift_comparator.as_mut().unwrap();
        c.set_threshold("hellinger", Some(0.1)).unwrap();
    }
    let list = validate(&schema, &cur, &checks).unwrap();
    let a = list
        .iter()
        .find(|a| a.feature.as_deref() == Some("s"))
        .unwrap();
    assert_eq!(
        a.short,
        "High Hellinger distance between current and previous"
    );
    assert!(a
        .long
        .starts_with("The Hellinger distance between current and previous is "));
    assert!(
        a.long.contains("significant at alpha"),
        "with its critical value: {}",
        a.long
    );
    assert_eq!(a.threshold, serde_json::json!(0.1));
    assert!(a.value.as_f64().unwrap() >= 0.1);
}
