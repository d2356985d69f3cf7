//! TFDV interop (docs/tfdv.md): skewer's statistics, schemas and anomalies
//! read back by the `tensorflow-metadata` package's own protos
//! (tests/fixtures/tfdv/read.py, run with $SKEWER_PYTHON) and compared
//! field by field with skewer's JSON; schemas round-trip; corrupt input is
//! exit 2 naming the file.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use skewer::profile::keys::{Domain, Num};
use skewer::profile::DatasetProfile;
use skewer::tfdv::anomalies::serialized_path;
use skewer::tfdv::pb;

use crate::common::{fails_with, python_with, skewer, stderr, tmp};

const TRAIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/train.parquet");
const SERVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/serve.parquet");
const READ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tfdv/read.py");
const TFDV_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tfdv/train_schema.pbtxt"
);

/// A Python with tensorflow-metadata.
fn python(test: &str) -> Option<String> {
    python_with(
        "tensorflow_metadata.proto.v0.statistics_pb2",
        &format!("tfdv::{test}"),
    )
}

/// `read.py KIND FILE`: the message as protobuf's JSON.
fn read(py: &str, kind: &str, file: &Path) -> Value {
    let o = Command::new(py)
        .args([READ, kind, file.to_str().unwrap()])
        .output()
        .expect("run python");
    assert!(o.status.success(), "read.py {kind}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let o = skewer(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stderr(&o)
}

/// protobuf's JSON writes 64-bit integers as strings, and leaves out zeros.
fn u(v: &Value) -> u64 {
    match v {
        Value::Null => 0,
        Value::String(s) => s.parse().unwrap(),
        v => v.as_u64().unwrap(),
    }
}

fn f(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        v => v.as_f64().unwrap(),
    }
}

fn p(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The profile of train.parquet, exported as .pb and .pbtxt: both read by
/// tensorflow-metadata give the same message, and it says what the profile
/// says, field by field.
/// A numeric feature's two histograms as TFDV's buckets are compared:
/// (low, high, count), the equal-width one then the quantile one.
fn histograms(n: &skewer::profile::NumericStats) -> [Vec<(f64, f64, u64)>; 2] {
    [
        n.histogram
            .iter()
            .map(|b| (b.low, b.high, b.count))
            .collect(),
        n.quantile_histogram
            .iter()
            .map(|b| (b.low.as_f64(), b.high.as_f64(), b.count))
            .collect(),
    ]
}

#[test]
fn statistics_are_the_profiles() {
    let d = tmp();
    let (json, pb, txt) = (
        p(d.path(), "p.json"),
        p(d.path(), "s.pb"),
        p(d.path(), "s.pbtxt"),
    );
    run_ok(&["profile", TRAIN, "-o", s(&json), "--quiet"]);
    run_ok(&["export", s(&json), "--to", "tfdv", "-o", s(&pb)]);
    run_ok(&["export", s(&json), "--to", "tfdv", "-o", s(&txt)]);
    let profile = skewer::read_profile(&json).unwrap();
    // skewer's own decoder, with or without Python.
    let mine: pb::DatasetFeatureStatisticsList = skewer::tfdv::read(&pb).unwrap();
    let mine_txt: pb::DatasetFeatureStatisticsList = skewer::tfdv::read(&txt).unwrap();
    assert_eq!(mine, mine_txt, "binary and text differ");
    stats_match_profile(&mine, &profile);

    let Some(py) = python("statistics_are_the_profiles") else {
        return;
    };
    let binary = read(&py, "stats", &pb);
    assert_eq!(binary, read(&py, "stats", &txt), "binary and text differ");
    assert_ne!(std::fs::read(&pb).unwrap(), std::fs::read(&txt).unwrap());

    let ds = &binary["datasets"][0];
    assert_eq!(binary["datasets"].as_array().unwrap().len(), 1);
    assert_eq!(u(&ds["num_examples"]), profile.num_rows);
    let feats = ds["features"].as_array().unwrap();
    assert_eq!(feats.len(), profile.features.len());
    let (mut numeric, mut strings) = (0, 0);
    for (t, pf) in feats.iter().zip(&profile.features) {
        assert_eq!(t["name"], pf.name.as_str());
        let stats = if let Some(n) = &pf.numeric {
            numeric += 1;
            let want = if n.domain == Domain::Float {
                "FLOAT"
            } else {
                "INT"
            };
            // INT is the enum's zero: protobuf's JSON leaves it out.
            let got = t.get("type").map_or("INT", |v| v.as_str().unwrap());
            assert_eq!(got, want, "{}", pf.name);
            let ns = &t["num_stats"];
            assert_eq!(f(&ns["mean"]), n.mean.unwrap_or(0.0), "{}", pf.name);
            assert_eq!(f(&ns["std_dev"]), n.std_dev.unwrap_or(0.0));
            assert_eq!(u(&ns["num_zeros"]), n.zeros);
            assert_eq!(f(&ns["min"]), n.min.unwrap().as_f64());
            assert_eq!(f(&ns["max"]), n.max.unwrap().as_f64());
            assert_eq!(f(&ns["median"]), n.quantile(0.5).unwrap().as_f64());
            let hs = ns["histograms"].as_array().unwrap();
            assert_eq!(hs.len(), 2);
            // STANDARD is the enum's zero: protobuf's JSON leaves it out.
            assert_eq!(hs[0].get("type"), None);
            assert_eq!(hs[1]["type"], "QUANTILES");
            for h in hs {
                assert_eq!(u(&h["num_nan"]), n.nan, "{}", pf.name);
            }
            for (h, want) in hs.iter().zip(histograms(n)) {
                let got: Vec<(f64, f64, u64)> = h["buckets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| {
                        (
                            f(&b["low_value"]),
                            f(&b["high_value"]),
                            f(&b["sample_count"]) as u64,
                        )
                    })
                    .collect();
                assert_eq!(got, want, "{}", pf.name);
                assert!(!got.is_empty());
            }
            &ns["common_stats"]
        } else {
            strings += 1;
            let c = pf.categorical.as_ref().unwrap();
            assert_eq!(t["type"], "STRING", "{}", pf.name);
            let ss = &t["string_stats"];
            assert_eq!(u(&ss["unique"]), c.unique);
            let top: Vec<(String, u64)> = ss["top_values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    (
                        // The empty string is proto3's default: left out.
                        v["value"].as_str().unwrap_or("").to_string(),
                        f(&v["frequency"]) as u64,
                    )
                })
                .collect();
            let want: Vec<(String, u64)> =
                c.top_values.iter().map(|v| (v.label(), v.count)).collect();
            assert_eq!(top, want, "{}", pf.name);
            let ranks: Vec<(u64, String, u64)> = ss["rank_histogram"]["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    assert_eq!(b["low_rank"], b["high_rank"]);
                    (
                        u(&b["low_rank"]),
                        b["label"].as_str().unwrap_or("").to_string(),
                        f(&b["sample_count"]) as u64,
                    )
                })
                .collect();
            let want: Vec<(u64, String, u64)> = want
                .into_iter()
                .enumerate()
                .map(|(i, (v, n))| (i as u64, v, n))
                .collect();
            assert_eq!(ranks, want);
            // float32 in TFDV's message.
            let len = c.mean_length.unwrap_or(0.0);
            assert!(
                (f(&ss["avg_length"]) - len).abs() <= len * 1e-6,
                "{}",
                pf.name
            );
            &ss["common_stats"]
        };
        assert_eq!(u(&stats["num_non_missing"]), pf.count, "{}", pf.name);
        assert_eq!(u(&stats["num_missing"]), pf.missing, "{}", pf.name);
        assert_eq!(u(&stats["tot_num_values"]), pf.count);
        assert_eq!(u(&stats["min_num_values"]), 1);
        assert_eq!(u(&stats["max_num_values"]), 1);
        assert_eq!(f(&stats["avg_num_values"]), 1.0);
    }
    assert!(
        numeric >= 10 && strings >= 5,
        "{numeric} numeric, {strings} string features"
    );
}

/// The statistics, as skewer's decoder reads them, say what the profile
/// says.
fn stats_match_profile(m: &pb::DatasetFeatureStatisticsList, profile: &DatasetProfile) {
    use pb::feature_name_statistics::{FieldId, Stats, Type};
    assert_eq!(m.datasets.len(), 1);
    let ds = &m.datasets[0];
    assert_eq!(ds.num_examples, profile.num_rows);
    assert_eq!(ds.features.len(), profile.features.len());
    let (mut numeric, mut strings) = (0, 0);
    for (t, pf) in ds.features.iter().zip(&profile.features) {
        assert_eq!(t.field_id, Some(FieldId::Name(pf.name.clone())));
        let common = match (&t.stats, &pf.numeric, &pf.categorical) {
            (Some(Stats::NumStats(ns)), Some(n), _) => {
                numeric += 1;
                let want = if n.domain == Domain::Float {
                    Type::Float
                } else {
                    Type::Int
                };
                assert_eq!(t.r#type(), want, "{}", pf.name);
                assert_eq!(ns.mean, n.mean.unwrap_or(0.0), "{}", pf.name);
                assert_eq!(ns.std_dev, n.std_dev.unwrap_or(0.0));
                assert_eq!(ns.num_zeros, n.zeros);
                assert_eq!(ns.min, n.min.unwrap().as_f64());
                assert_eq!(ns.max, n.max.unwrap().as_f64());
                assert_eq!(ns.median, n.quantile(0.5).unwrap().as_f64());
                assert_eq!(ns.histograms.len(), 2);
                for (h, want) in ns.histograms.iter().zip(histograms(n)) {
                    assert_eq!(h.num_nan, n.nan, "{}", pf.name);
                    let got: Vec<(f64, f64, u64)> = h
                        .buckets
                        .iter()
                        .map(|b| (b.low_value, b.high_value, b.sample_count as u64))
                        .collect();
                    assert_eq!(got, want, "{}", pf.name);
                    assert!(!got.is_empty());
                }
                use pb::histogram::HistogramType;
                assert_eq!(ns.histograms[0].r#type(), HistogramType::Standard);
                assert_eq!(ns.histograms[1].r#type(), HistogramType::Quantiles);
                ns.common_stats.clone().unwrap()
            }
            (Some(Stats::StringStats(ss)), None, Some(c)) => {
                strings += 1;
                assert_eq!(t.r#type(), Type::String, "{}", pf.name);
                assert_eq!(ss.unique, c.unique);
                let top: Vec<(String, u64)> = ss
                    .top_values
                    .iter()
                    .map(|v| (v.value.clone(), v.frequency as u64))
                    .collect();
                let want: Vec<(String, u64)> =
                    c.top_values.iter().map(|v| (v.label(), v.count)).collect();
                assert_eq!(top, want, "{}", pf.name);
                let ranks: Vec<(u64, u64, String, u64)> = ss
                    .rank_histogram
                    .as_ref()
                    .unwrap()
                    .buckets
                    .iter()
                    .map(|b| {
                        (
                            b.low_rank,
                            b.high_rank,
                            b.label.clone(),
                            b.sample_count as u64,
                        )
                    })
                    .collect();
                let want: Vec<(u64, u64, String, u64)> = want
                    .into_iter()
                    .enumerate()
                    .map(|(i, (v, n))| (i as u64, i as u64, v, n))
                    .collect();
                assert_eq!(ranks, want);
                assert_eq!(ss.avg_length, c.mean_length.unwrap_or(0.0) as f32);
                assert_eq!(ss.invalid_utf8_count, c.invalid_utf8.unwrap_or(0));
                ss.common_stats.clone().unwrap()
            }
            other => panic!("{}: unexpected statistics {other:?}", pf.name),
        };
        assert_eq!(common.num_non_missing, pf.count, "{}", pf.name);
        assert_eq!(common.num_missing, pf.missing, "{}", pf.name);
        assert_eq!(common.tot_num_values, pf.count);
        assert_eq!((common.min_num_values, common.max_num_values), (1, 1));
        assert_eq!(common.avg_num_values, 1.0);
    }
    assert!(
        numeric >= 10 && strings >= 5,
        "{numeric} numeric, {strings} string features"
    );
}

/// The same profile gives the same bytes; `-o -` writes the text format to
/// standard output.
#[test]
fn exports_are_deterministic() {
    let d = tmp();
    let json = p(d.path(), "p.json");
    run_ok(&["profile", TRAIN, "-o", s(&json), "--quiet"]);
    let mut outs = Vec::new();
    for name in ["a.pb", "b.pb", "a.pbtxt", "b.pbtxt"] {
        let out = p(d.path(), name);
        run_ok(&["export", s(&json), "--to", "tfdv", "-o", s(&out)]);
        outs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[2], outs[3]);
    let o = skewer(&["export", s(&json), "--to", "tfdv", "-o", "-"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, outs[2]);
}

/// schema infer → export → import gives the schema back, but for what
/// the export reported it could not say (KS thresholds, alpha, float
/// bounds rounded outward to float32), and tensorflow-metadata reads the
/// export.
#[test]
fn schemas_round_trip() {
    let d = tmp();
    let (json, schema, txt, back) = (
        p(d.path(), "p.json"),
        p(d.path(), "schema.json"),
        p(d.path(), "schema.pbtxt"),
        p(d.path(), "back.json"),
    );
    run_ok(&["profile", TRAIN, "-o", s(&json), "--quiet"]);
    run_ok(&[
        "schema",
        "infer",
        s(&json),
        "-o",
        s(&schema),
        "--bounds",
        "--num-examples",
    ]);
    let warned = run_ok(&[
        "schema",
        "export",
        s(&schema),
        "--to",
        "tfdv",
        "-o",
        s(&txt),
    ]);
    for w in [
        "drift_comparator.ks",
        "skew_comparator.alpha",
        "dataset.num_examples_skew_comparator",
        "float_bounds.min",
        "\"f_normal\"",
    ] {
        assert!(warned.contains(w), "no warning of {w}: {warned}");
    }
    let imported = run_ok(&["schema", "import", s(&txt), "-o", s(&back)]);
    assert!(
        !imported.contains("type"),
        "the tagged types import as they were: {imported}"
    );
    let a = skewer::schema::read_schema(&schema).unwrap();
    let mut b = skewer::schema::read_schema(&back).unwrap();
    // What the export reported, undone: the skew comparator of the
    // number of examples, KS thresholds (alpha is the default on both
    // sides), float bounds rounded outward.
    assert_eq!(b.dataset.num_examples_skew_comparator, None);
    b.dataset.num_examples_skew_comparator = a.dataset.num_examples_skew_comparator.clone();
    let mut rounded = 0;
    for (fa, fb) in a.features.iter().zip(&mut b.features) {
        for (ca, cb) in [
            (&fa.drift_comparator, &mut fb.drift_comparator),
            (&fa.skew_comparator, &mut fb.skew_comparator),
        ] {
            let (ca, cb) = (ca.as_ref().unwrap(), cb.as_mut().unwrap());
            assert_eq!(cb.threshold("ks"), None);
            cb.set_threshold("ks", ca.threshold("ks")).unwrap();
        }
        if let (Some(x), Some(y)) = (&fa.float_bounds, &mut fb.float_bounds) {
            let (lo, hi) = (x.min.unwrap().as_f64(), x.max.unwrap().as_f64());
            let (lo2, hi2) = (y.min.unwrap().as_f64(), y.max.unwrap().as_f64());
            assert!(
                lo2 <= lo && hi2 >= hi,
                "{}: [{lo2}, {hi2}] within [{lo}, {hi}]",
                fa.name
            );
            assert!((lo - lo2).abs() <= lo.abs() * 1.2e-7 && (hi2 - hi).abs() <= hi.abs() * 1.2e-7);
            rounded += usize::from(lo2 != lo) + usize::from(hi2 != hi);
            *y = x.clone();
        }
    }
    assert!(rounded > 0);
    assert_eq!(a, b);

    let Some(py) = python("schemas_round_trip") else {
        return;
    };
    let t = read(&py, "schema", &txt);
    let feats = t["feature"].as_array().unwrap();
    assert_eq!(feats.len(), a.features.len());
    for (tf, fa) in feats.iter().zip(&a.features) {
        assert_eq!(tf["name"], fa.name.as_str());
        assert_eq!(
            f(&tf["presence"]["min_fraction"]),
            fa.presence.min_fraction.unwrap()
        );
        assert_eq!(
            u(&tf["presence"]["min_count"]),
            fa.presence.min_count.unwrap()
        );
        let linf = fa
            .drift_comparator
            .as_ref()
            .unwrap()
            .threshold("linf")
            .unwrap();
        assert_eq!(
            f(&tf["drift_comparator"]["infinity_norm"]["threshold"]),
            linf
        );
        if let Some(dom) = &fa.domain {
            let got: Vec<&str> = tf["string_domain"]["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(got, dom.iter().map(String::as_str).collect::<Vec<_>>());
        }
        if let Some(b) = &fa.int_bounds {
            assert_eq!(
                tf["int_domain"]["min"].as_str().unwrap(),
                b.min.unwrap().as_f64().to_string()
            );
        }
    }
    let dc = &t["dataset_constraints"];
    assert_eq!(
        u(&dc["min_examples_count"]),
        a.dataset.min_num_examples.unwrap()
    );
}

/// validate --anomalies-out: TFDV's Anomalies, one AnomalyInfo per feature
/// with one reason per anomaly of validate's JSON, in both encodings.
#[test]
fn anomalies_are_validates() {
    let d = tmp();
    let (schema, json) = (p(d.path(), "schema.json"), p(d.path(), "a.json"));
    run_ok(&[
        "schema",
        "infer",
        TRAIN,
        "-o",
        s(&schema),
        "--bounds",
        "--quiet",
    ]);
    let mut outs = Vec::new();
    for name in ["a.pbtxt", "a.pb"] {
        let out = p(d.path(), name);
        let o = skewer(&[
            "validate",
            SERVE,
            "--schema",
            s(&schema),
            "--training",
            TRAIN,
            "-o",
            s(&json),
            "--anomalies-out",
            s(&out),
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        outs.push(out);
    }
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let anomalies = v["anomalies"].as_array().unwrap();
    assert!(anomalies.len() >= 3);
    let schema_doc = skewer::schema::read_schema(&schema).unwrap();

    // skewer's own decoder, with or without Python.
    let mine: pb::Anomalies = skewer::tfdv::read(&outs[0]).unwrap();
    let mine_pb: pb::Anomalies = skewer::tfdv::read(&outs[1]).unwrap();
    assert_eq!(mine, mine_pb, "binary and text differ");
    assert_eq!(
        mine.anomaly_name_format(),
        pb::anomalies::AnomalyNameFormat::SerializedPath
    );
    match &mine.baseline_schema {
        Some(pb::anomalies::BaselineSchema::Baseline(b)) => {
            assert_eq!(b.feature.len(), schema_doc.features.len())
        }
        other => panic!("baseline {other:?}"),
    }
    let mut seen = 0;
    for (key, info) in &mine.anomaly_info {
        let step = &info.path.as_ref().unwrap().step;
        assert_eq!(step.len(), 1);
        assert_eq!(key, &serialized_path(&[&step[0]]));
        assert_eq!(info.severity(), pb::anomaly_info::Severity::Error);
        let own: Vec<&Value> = anomalies
            .iter()
            .filter(|a| a["feature"] == step[0].as_str())
            .collect();
        assert_eq!(info.reason.len(), own.len(), "{key}");
        for (r, a) in info.reason.iter().zip(&own) {
            let (kind, long) = (a["type"].as_str().unwrap(), a["long"].as_str().unwrap());
            assert_eq!(r.short_description.as_deref(), a["short"].as_str());
            let (t, known) = skewer::tfdv::anomalies::anomaly_type(kind);
            assert_eq!(r.r#type(), t);
            let want = if known {
                long.to_string()
            } else {
                format!("{kind}: {long}")
            };
            assert_eq!(r.description.as_deref(), Some(want.as_str()));
            seen += 1;
        }
        if own.len() > 1 {
            assert_eq!(info.short_description.as_deref(), Some("Multiple errors"));
        }
    }
    let dataset = anomalies.iter().filter(|a| a["feature"].is_null()).count();
    assert_eq!(seen + dataset, anomalies.len());
    assert_eq!(mine.dataset_anomaly_info.is_some(), dataset > 0);

    let Some(py) = python("anomalies_are_validates") else {
        return;
    };
    let docs: Vec<Value> = outs.iter().map(|o| read(&py, "anomalies", o)).collect();
    assert_eq!(docs[0], docs[1]);
    let t = &docs[0];
    assert_eq!(
        t["baseline"]["feature"].as_array().unwrap().len(),
        schema_doc.features.len()
    );
    let infos = t["anomaly_info"].as_object().unwrap();
    let mut seen = 0;
    for (feature, info) in infos {
        assert_eq!(info["severity"], "ERROR");
        assert_eq!(info["path"]["step"][0], feature.as_str());
        let mine: Vec<&Value> = anomalies
            .iter()
            .filter(|a| a["feature"] == feature.as_str())
            .collect();
        let reasons = info["reason"].as_array().unwrap();
        assert_eq!(reasons.len(), mine.len(), "{feature}");
        for (r, a) in reasons.iter().zip(&mine) {
            let kind = a["type"].as_str().unwrap();
            let long = a["long"].as_str().unwrap();
            assert_eq!(r["short_description"], a["short"]);
            match skewer::tfdv::anomalies::anomaly_type(kind) {
                (_, true) => {
                    assert_eq!(r["type"], kind);
                    assert_eq!(r["description"], long);
                }
                (_, false) => {
                    // UNKNOWN_TYPE is the enum's zero: left out of the JSON.
                    assert_eq!(
                        r.get("type")
                            .map_or("UNKNOWN_TYPE", |t| t.as_str().unwrap()),
                        "UNKNOWN_TYPE"
                    );
                    assert_eq!(r["description"], format!("{kind}: {long}").as_str());
                }
            }
            seen += 1;
        }
        if mine.len() == 1 {
            assert_eq!(info["description"], mine[0]["long"]);
        } else {
            assert_eq!(info["short_description"], "Multiple errors");
        }
    }
    let dataset = anomalies.iter().filter(|a| a["feature"].is_null()).count();
    assert_eq!(seen + dataset, anomalies.len());
}

/// skewer's compiled messages are tensorflow-metadata's: every field's
/// name, number, label, type and oneof, every enum value.
#[test]
fn messages_are_the_published_ones() {
    // Without Python: the compiled set holds the messages skewer writes and
    // reads, with the fields' published numbers (spot checks; the
    // package's descriptors below check every field).
    let pool = prost_reflect::DescriptorPool::decode(skewer::tfdv::DESCRIPTOR_SET).unwrap();
    let mut fields = 0;
    for m in pool.all_messages() {
        if m.package_name() == "tensorflow.metadata.v0" {
            fields += m.fields().count();
        }
    }
    assert!(fields > 250, "{fields} fields");
    for (message, field, number) in [
        ("DatasetFeatureStatisticsList", "datasets", 1),
        ("DatasetFeatureStatistics", "num_examples", 2),
        ("FeatureNameStatistics", "num_stats", 3),
        ("FeatureNameStatistics", "string_stats", 4),
        ("NumericStatistics", "histograms", 8),
        ("Schema", "feature", 1),
        ("Schema", "dataset_constraints", 11),
        ("Feature", "int_domain", 9),
        ("Feature", "drift_comparator", 21),
        ("Anomalies", "anomaly_info", 2),
        ("Anomalies", "anomaly_name_format", 7),
        ("AnomalyInfo", "reason", 7),
    ] {
        let m = pool
            .get_message_by_name(&format!("tensorflow.metadata.v0.{message}"))
            .unwrap_or_else(|| panic!("no {message}"));
        let f = m
            .get_field_by_name(field)
            .unwrap_or_else(|| panic!("no {message}.{field}"));
        assert_eq!(f.number(), number, "{message}.{field}");
    }

    let Some(py) = python("messages_are_the_published_ones") else {
        return;
    };
    let d = tmp();
    let set = p(d.path(), "set.pb");
    std::fs::write(&set, skewer::tfdv::DESCRIPTOR_SET).unwrap();
    let r = read(&py, "descriptors", &set);
    assert_eq!(r["mismatches"], Value::Array(vec![]), "{r}");
    assert!(u(&r["fields"]) > 250, "{r}");
}

/// A schema TFDV inferred from train.parquet (tests/fixtures/tfdv/make.py)
/// imports, taking the data's types, and validates serve.parquet.
#[test]
fn a_tfdv_schema_imports_and_validates() {
    let d = tmp();
    let (back, json) = (p(d.path(), "schema.json"), p(d.path(), "a.json"));
    run_ok(&[
        "schema",
        "import",
        TFDV_SCHEMA,
        "--like",
        TRAIN,
        "-o",
        s(&back),
        "--quiet",
    ]);
    let schema = skewer::schema::read_schema(&back).unwrap();
    let pj = p(d.path(), "p.json");
    run_ok(&["profile", TRAIN, "-o", s(&pj), "--quiet"]);
    let train = skewer::read_profile(&pj).unwrap();
    assert_eq!(schema.features.len(), train.features.len());
    for (fs, pf) in schema.features.iter().zip(&train.features) {
        assert_eq!((&fs.name, &fs.type_name), (&pf.name, &pf.type_name));
    }
    let o = skewer(&[
        "validate",
        SERVE,
        "--schema",
        s(&back),
        "-o",
        s(&json),
        "--quiet",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for a in v["anomalies"].as_array().unwrap() {
        assert_ne!(a["type"], "UNEXPECTED_DATA_TYPE", "{a}");
    }
    // The training data itself breaks none of TFDV's constraints.
    let o = skewer(&["validate", TRAIN, "--schema", s(&back), "--quiet"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// Corrupt or wrong input is exit 2 naming the file, never a panic.
#[test]
fn bad_input_names_the_file() {
    let d = tmp();
    let bad_pb = p(d.path(), "bad.pb");
    std::fs::write(&bad_pb, [0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01]).unwrap();
    fails_with(
        &["schema", "import", s(&bad_pb)],
        &["bad.pb", "tensorflow.metadata.v0.Schema"],
    );
    let bad_txt = p(d.path(), "bad.pbtxt");
    std::fs::write(&bad_txt, "feature {\n  name: \"x\"\n  typo_field: 3\n}\n").unwrap();
    fails_with(
        &["schema", "import", s(&bad_txt)],
        &["bad.pbtxt", "line 3", "typo_field"],
    );
    std::fs::write(
        &bad_txt,
        "feature { name: \"x\" type: INT presence { min_fraction: 7 } }",
    )
    .unwrap();
    fails_with(
        &["schema", "import", s(&bad_txt)],
        &["bad.pbtxt", "min_fraction"],
    );
    fails_with(
        &["schema", "import", s(&p(d.path(), "none.pbtxt"))],
        &["none.pbtxt"],
    );
    // Negative counts: no skewer schema can say them (once read as 0).
    let neg = p(d.path(), "neg.pbtxt");
    std::fs::write(&neg, "dataset_constraints { max_examples_count: -1 }\n").unwrap();
    fails_with(
        &["schema", "import", s(&neg)],
        &[
            "neg.pbtxt",
            "tensorflow.metadata.v0.Schema",
            "dataset_constraints.max_examples_count",
            "-1",
        ],
    );
    std::fs::write(
        &neg,
        "feature { name: \"x\" type: INT presence { min_count: -3 } }\n",
    )
    .unwrap();
    fails_with(
        &["schema", "import", s(&neg)],
        &["neg.pbtxt", "\"x\"", "presence.min_count"],
    );
    let neg_pb = p(d.path(), "neg.pb");
    let mut m = pb::Schema::default();
    m.feature.push(pb::Feature {
        name: Some("v".into()),
        r#type: Some(pb::FeatureType::Int as i32),
        shape_type: Some(pb::feature::ShapeType::ValueCount(pb::ValueCount {
            min: Some(-2),
            max: Some(3),
        })),
        ..Default::default()
    });
    std::fs::write(&neg_pb, prost::Message::encode_to_vec(&m)).unwrap();
    fails_with(
        &["schema", "import", s(&neg_pb)],
        &["neg.pb", "\"v\"", "value_count.min"],
    );
    let json = p(d.path(), "p.json");
    std::fs::write(&json, "{").unwrap();
    fails_with(
        &[
            "export",
            s(&json),
            "--to",
            "tfdv",
            "-o",
            s(&p(d.path(), "o.pb")),
        ],
        &["p.json"],
    );
    assert!(!p(d.path(), "o.pb").exists());
}

/// `--anomalies-out` gives the same bytes run after run, with
/// `anomaly_info` (a map, which prost-reflect holds in a HashMap) in key
/// order, in the text format tensorflow-metadata parses.
#[test]
fn anomalies_are_deterministic() {
    let d = tmp();
    let schema = p(d.path(), "schema.json");
    run_ok(&[
        "schema",
        "infer",
        TRAIN,
        "-o",
        s(&schema),
        "--bounds",
        "--quiet",
    ]);
    let validate = |out: &str| {
        skewer(&[
            "validate",
            SERVE,
            "--schema",
            s(&schema),
            "--training",
            TRAIN,
            "--anomalies-out",
            out,
            "--quiet",
        ])
    };
    let mut outs = Vec::new();
    for name in ["a.pbtxt", "b.pbtxt", "c.pbtxt"] {
        let out = p(d.path(), name);
        let o = validate(s(&out));
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        outs.push(std::fs::read(&out).unwrap());
    }
    assert!(outs[0] == outs[1] && outs[0] == outs[2], "runs differ");
    // The map's entries are the top-level message's `key:` lines.
    let text = String::from_utf8(outs[0].clone()).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  key: "))
        .collect();
    assert!(keys.len() >= 3, "{keys:?}");
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let m: pb::Anomalies = skewer::tfdv::read(&p(d.path(), "a.pbtxt")).unwrap();
    assert_eq!(m.anomaly_info.len(), keys.len());
    if let Some(py) = python("anomalies_are_deterministic") {
        let t = read(&py, "anomalies", &p(d.path(), "a.pbtxt"));
        assert_eq!(t["anomaly_info"].as_object().unwrap().len(), keys.len());
    }
}

/// `anomaly_info`'s keys are paths serialized as TFDV's `Path::Serialize`
/// does: a step with `.`, `(`, `)` or `'` (and not one `(…)`) in single
/// quotes, its quotes doubled.
#[test]
fn anomaly_keys_are_tfdv_serialized_paths() {
    for (steps, want) in [
        (&["f_normal"][..], "f_normal"),
        (&["a.b"], "'a.b'"),
        (&["a(b"], "'a(b'"),
        (&["(ext)"], "(ext)"),
        (&["(a)(b)"], "'(a)(b)'"),
        (&["it's"], "'it''s'"),
        (&[""], "''"),
        (&["s", "x.y"], "s.'x.y'"),
    ] {
        assert_eq!(serialized_path(steps), want, "{steps:?}");
    }
    let d = tmp();
    let path = p(d.path(), "s.json");
    run_ok(&["schema", "infer", TRAIN, "-o", s(&path), "--quiet"]);
    let mut schema = skewer::schema::read_schema(&path).unwrap();
    schema.features.clear();
    let anomaly = |feature: &str| skewer::schema::Anomaly {
        feature: Some(feature.into()),
        kind: "FLOAT_TYPE_HAS_NAN".into(),
        short: "Invalid values".into(),
        long: "NaN".into(),
        value: Value::Null,
        threshold: Value::Null,
        values: Vec::new(),
    };
    let (m, _) = skewer::tfdv::anomalies::export(&schema, &[anomaly("a.b"), anomaly("plain")]);
    let keys: Vec<&str> = m.anomaly_info.keys().map(String::as_str).collect();
    assert_eq!(keys, ["'a.b'", "plain"]);
    assert_eq!(m.anomaly_info["'a.b'"].path.as_ref().unwrap().step, ["a.b"]);
}

/// A categorical integer's `domain` (its values) has no place in TFDV's
/// int_domain: the export says so, keeps `is_categorical`, and the import
/// gives the feature back categorical without a domain.
#[test]
fn categorical_int_domain_is_reported() {
    let d = tmp();
    let (schema, txt, back) = (
        p(d.path(), "schema.json"),
        p(d.path(), "schema.pbtxt"),
        p(d.path(), "back.json"),
    );
    run_ok(&[
        "schema",
        "infer",
        TRAIN,
        "--categorical",
        "i_count",
        "-o",
        s(&schema),
        "--quiet",
    ]);
    let a = skewer::schema::read_schema(&schema).unwrap();
    let fa = a.features.iter().find(|f| f.name == "i_count").unwrap();
    assert!(fa.domain.as_ref().is_some_and(|d| !d.is_empty()), "{fa:?}");
    let warned = run_ok(&[
        "schema",
        "export",
        s(&schema),
        "--to",
        "tfdv",
        "-o",
        s(&txt),
    ]);
    assert!(
        warned
            .lines()
            .any(|l| l.contains("warning: domain:") && l.contains("\"i_count\"")),
        "{warned}"
    );
    let m: pb::Schema = skewer::tfdv::read(&txt).unwrap();
    let f = m
        .feature
        .iter()
        .find(|f| f.name.as_deref() == Some("i_count"))
        .unwrap();
    match &f.domain_info {
        Some(pb::feature::DomainInfo::IntDomain(i)) => assert_eq!(i.is_categorical, Some(true)),
        other => panic!("{other:?}"),
    }
    run_ok(&["schema", "import", s(&txt), "-o", s(&back), "--quiet"]);
    let b = skewer::schema::read_schema(&back).unwrap();
    let fb = b.features.iter().find(|f| f.name == "i_count").unwrap();
    assert_eq!(fb.kind, fa.kind);
    assert_eq!(fb.domain, None);
    if let Some(py) = python("categorical_int_domain_is_reported") {
        read(&py, "schema", &txt);
    }
}

/// Float integer bounds round inward (min up, max down) with a note when
/// inexact; non-finite ones are left out with a note.
#[test]
fn float_int_bounds_round_inward() {
    let d = tmp();
    let path = p(d.path(), "s.json");
    run_ok(&["schema", "infer", TRAIN, "-o", s(&path), "--quiet"]);
    let mut schema = skewer::schema::read_schema(&path).unwrap();
    let i = schema
        .features
        .iter()
        .position(|f| f.type_name == "int64")
        .expect("an int64 feature");
    let bounds = |min: f64, max: f64| skewer::schema::Bounds {
        min: Some(Num::Float(min)),
        max: Some(Num::Float(max)),
    };
    let export = |schema: &skewer::schema::Schema| {
        let (m, notes) = skewer::tfdv::schema::export(schema);
        let f = m.feature[i].clone();
        let dom = match f.domain_info {
            Some(pb::feature::DomainInfo::IntDomain(d)) => d,
            other => panic!("{other:?}"),
        };
        let fields: Vec<String> = notes
            .iter()
            .filter(|n| n.field.starts_with("int_bounds"))
            .map(|n| n.field.clone())
            .collect();
        (dom.min, dom.max, fields)
    };
    schema.features[i].int_bounds = Some(bounds(1.5, 7.9));
    assert_eq!(
        export(&schema),
        (
            Some(2),
            Some(7),
            vec!["int_bounds.min".into(), "int_bounds.max".into()]
        )
    );
    schema.features[i].int_bounds = Some(bounds(-1.5, -0.5));
    assert_eq!(export(&schema).0, Some(-1));
    assert_eq!(export(&schema).1, Some(-1));
    schema.features[i].int_bounds = Some(bounds(3.0, 4.0));
    assert_eq!(export(&schema), (Some(3), Some(4), vec![]));
    schema.features[i].int_bounds = Some(bounds(f64::NAN, f64::INFINITY));
    assert_eq!(
        export(&schema),
        (
            None,
            None,
            vec!["int_bounds.min".into(), "int_bounds.max".into()]
        )
    );
    schema.features[i].int_bounds = Some(bounds(-1e30, 1e30));
    let (min, max, fields) = export(&schema);
    assert_eq!((min, max, fields.len()), (None, None, 2));
}

/// Columns skewer does not profile (a struct: no statistics) are left out
/// of the statistics, with a note, not written as empty STRING features;
/// the TFDV type of the others is class_of's, refined for binary columns.
#[test]
fn unprofiled_columns_are_reported() {
    let d = tmp();
    let json = p(d.path(), "p.json");
    run_ok(&["profile", TRAIN, "-o", s(&json), "--quiet"]);
    let mut profile = skewer::read_profile(&json).unwrap();
    let n = profile.features.len();
    let mut st = profile.features[0].clone();
    st.name = "st".into();
    st.type_name = "struct<a: int64>".into();
    st.numeric = None;
    st.categorical = None;
    st.values_per_row = None;
    profile.features.push(st);
    let (m, notes) = skewer::tfdv::statistics::export(&profile);
    assert_eq!(m.datasets[0].features.len(), n);
    assert!(
        notes
            .iter()
            .any(|x| x.feature.as_deref() == Some("st") && x.detail.contains("struct")),
        "{notes:?}"
    );

    // In a schema too: a nested column's type is reported, not dropped
    // in silence.
    let mut schema = skewer::schema::infer(&profile, &Default::default());
    schema
        .features
        .retain(|f| f.name == profile.features[0].name);
    let mut nested = schema.features[0].clone();
    nested.name = "st".into();
    nested.type_name = "struct<a: int64>".into();
    schema.features.push(nested);
    let (_, notes) = skewer::tfdv::schema::export(&schema);
    assert!(
        notes
            .iter()
            .any(|x| x.feature.as_deref() == Some("st") && x.detail.contains("STRUCT")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .all(|x| x.feature.as_deref() != Some(&profile.features[0].name) || x.field != "type"),
        "{notes:?}"
    );

    use skewer::tfdv::schema::class_of;
    use skewer::tfdv::statistics::{feature_type, TfdvType};
    for f in &profile.features[..n] {
        assert_eq!(feature_type(f), class_of(&f.type_name), "{}", f.name);
    }
    let s_feature = profile
        .features
        .iter()
        .find(|f| f.categorical.is_some() && f.type_name == "utf8")
        .expect("a string feature");
    let mut bin = s_feature.clone();
    bin.type_name = "binary".into();
    assert_eq!(feature_type(&bin), TfdvType::String);
    bin.categorical.as_mut().unwrap().invalid_utf8 = Some(1);
    assert_eq!(feature_type(&bin), TfdvType::Bytes);
    bin.type_name = "list<large_binary>".into();
    assert_eq!(feature_type(&bin), TfdvType::Bytes);
}
