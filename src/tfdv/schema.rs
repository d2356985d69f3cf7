//! Schemas both ways: skewer's schema as TFDV's `Schema` (`skewer schema
//! export --to tfdv`), and TFDV's `Schema` as skewer's (`skewer schema
//! import`).
//!
//! What maps (one place each, [`export`] and [`import`] mirror each
//! other): presence, values per row (`value_count`), string domains,
//! integer and float bounds (`int_domain`, `float_domain`), NaN and
//! infinity bans, the categorical flag of integers, booleans
//! (`bool_domain`), the dataset's bounds on examples, and the comparators'
//! L-infinity and Jensen-Shannon thresholds. Everything else, on either
//! side, is returned as an [`Unmapped`] note naming the feature and the
//! field. Each exported feature carries its Arrow type as the annotation
//! tag `skewer_type=<type>`, so that an exported schema imports with the
//! same types; a schema written by TFDV has no such tag, and takes the
//! types of the data given to import (`--like`), else TFDV's defaults.

use std::collections::BTreeMap;

use super::pb::{self, feature, FeatureType};
use super::statistics::{element_type, TfdvType};
use super::Unmapped;
use crate::compare::metric::{JSD, LINF};
use crate::profile::keys::Num;
use crate::profile::{DatasetProfile, FeatureProfile, Kind};
use crate::schema::{
    Bounds, Comparator, DatasetConstraints, FeatureSchema, NumExamplesComparator, Presence, Schema,
    ValueCountBounds, SCHEMA_FORMAT, SCHEMA_VERSION,
};

/// The annotation tag that carries a feature's Arrow type.
const TYPE_TAG: &str = "skewer_type=";

/// The comparator thresholds TFDV and skewer share: skewer's metric name
/// and how it is read from and put into TFDV's `FeatureComparator`.
struct SharedMetric {
    name: &'static str,
    get: fn(&pb::FeatureComparator) -> Option<f64>,
    set: fn(&mut pb::FeatureComparator, f64),
}

const SHARED: &[SharedMetric] = &[
    SharedMetric {
        name: LINF.name,
        get: |c| c.infinity_norm.as_ref().and_then(|m| m.threshold),
        set: |c, t| {
            c.infinity_norm = Some(pb::InfinityNorm { threshold: Some(t) });
        },
    },
    SharedMetric {
        name: JSD.name,
        get: |c| {
            c.jensen_shannon_divergence
                .as_ref()
                .and_then(|m| m.threshold)
        },
        set: |c, t| {
            c.jensen_shannon_divergence = Some(pb::JensenShannonDivergence {
                threshold: Some(t),
                source: None,
            });
        },
    },
];

/// TFDV's class of an Arrow type name (lists by their elements,
/// dictionaries by their values): integers, dates, times, timestamps and
/// durations INT; floats and decimals FLOAT; strings and booleans
/// String; binaries Bytes. The one table of it: statistics and schemas
/// both read it.
pub fn class_of(type_name: &str) -> TfdvType {
    let t = element_type(type_name);
    if let Some(rest) = t.strip_prefix("dictionary<") {
        let values = rest.split_once(", ").map_or(rest, |(_, v)| v);
        return class_of(values.strip_suffix('>').unwrap_or(values));
    }
    let starts = |ps: &[&str]| ps.iter().any(|p| t.starts_with(p));
    if starts(&["float", "halffloat", "double", "decimal"]) {
        TfdvType::Float
    } else if starts(&["int", "uint", "date", "time", "timestamp", "duration"]) {
        TfdvType::Int
    } else if starts(&["binary", "large_binary", "fixed_size_binary", "binary_view"]) {
        TfdvType::Bytes
    } else {
        TfdvType::String
    }
}

fn is_bool(type_name: &str) -> bool {
    element_type(type_name) == "bool"
}

fn is_list(type_name: &str) -> bool {
    element_type(type_name) != type_name
}

/// TFDV's `time_domain` integer format of a date or timestamp type.
fn time_format(type_name: &str) -> Option<pb::time_domain::IntegerTimeFormat> {
    use pb::time_domain::IntegerTimeFormat as F;
    let t = element_type(type_name);
    if t.starts_with("date32") {
        return Some(F::UnixDays);
    }
    if t.starts_with("date64") {
        return Some(F::UnixMilliseconds);
    }
    let unit = t.strip_prefix("timestamp[")?.split([',', ']']).next()?;
    match unit {
        "s" => Some(F::UnixSeconds),
        "ms" => Some(F::UnixMilliseconds),
        "us" => Some(F::UnixMicroseconds),
        "ns" => Some(F::UnixNanoseconds),
        _ => None,
    }
}

/// A float32 at or below `x` (at or above with `up`): bounds rounded
/// outward, so that no value inside the f64 bounds falls outside.
fn f32_outward(x: f64, up: bool) -> f32 {
    let y = x as f32;
    let f = f64::from(y);
    if f == x || x.is_nan() {
        return y;
    }
    let step = |v: f32, up: bool| {
        if v.is_infinite() {
            return v;
        }
        let b = v.to_bits();
        let next = match (up, v >= 0.0) {
            (true, true) | (false, false) => b + 1,
            (true, false) | (false, true) if v == 0.0 => {
                return if up {
                    f32::from_bits(1)
                } else {
                    -f32::from_bits(1)
                };
            }
            _ => b - 1,
        };
        f32::from_bits(next)
    };
    if up && f < x || !up && f > x {
        step(y, up)
    } else {
        y
    }
}

/// skewer's schema as TFDV's, with what TFDV cannot say.
pub fn export(s: &Schema) -> (pb::Schema, Vec<Unmapped>) {
    let mut notes = Vec::new();
    let mut note = |feature: Option<&str>, field: &str, detail: &str| {
        notes.push(Unmapped {
            feature: feature.map(str::to_string),
            field: field.into(),
            detail: detail.into(),
        })
    };
    let d = &s.dataset;
    let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let comparator = |c: &NumExamplesComparator| pb::NumericValueComparator {
        min_fraction_threshold: c.min_fraction_threshold,
        max_fraction_threshold: c.max_fraction_threshold,
    };
    let constraints = pb::DatasetConstraints {
        num_examples_drift_comparator: d.num_examples_drift_comparator.as_ref().map(comparator),
        num_examples_version_comparator: None,
        min_examples_count: d.min_num_examples.map(to_i64),
        max_examples_count: d.max_num_examples.map(to_i64),
    };
    if d.num_examples_skew_comparator.is_some() {
        note(
            None,
            "dataset.num_examples_skew_comparator",
            "TFDV has no skew comparator of the number of examples (its version comparator compares with the previous version); not exported",
        );
    }
    let mut features = Vec::new();
    for f in &s.features {
        features.push(export_feature(f, &mut note));
    }
    let has_constraints = constraints != pb::DatasetConstraints::default();
    let schema = pb::Schema {
        feature: features,
        dataset_constraints: has_constraints.then_some(constraints),
        ..Default::default()
    };
    (schema, notes)
}

fn export_feature(
    f: &FeatureSchema,
    note: &mut dyn FnMut(Option<&str>, &str, &str),
) -> pb::Feature {
    let name = Some(f.name.as_str());
    let class = class_of(&f.type_name);
    if ["struct", "map", "union", "null"]
        .iter()
        .any(|t| element_type(&f.type_name).starts_with(t))
    {
        note(
            name,
            "type",
            &format!(
                "a {} column: TFDV would need a STRUCT feature with its fields' schemas; exported as {:?} with its presence only",
                f.type_name,
                class.schema_type()
            ),
        );
    }
    let mut out = pb::Feature {
        name: Some(f.name.clone()),
        r#type: Some(class.schema_type() as i32),
        presence_constraints: Some(feature::PresenceConstraints::Presence(
            pb::FeaturePresence {
                min_fraction: f.presence.min_fraction,
                min_count: f
                    .presence
                    .min_count
                    .map(|c| i64::try_from(c).unwrap_or(i64::MAX)),
            },
        )),
        annotation: Some(pb::Annotation {
            tag: vec![format!("{TYPE_TAG}{}", f.type_name)],
            ..Default::default()
        }),
        ..Default::default()
    };
    // Values per row: a scalar column has exactly one per present row.
    let vc = match &f.values_per_row {
        Some(v) => pb::ValueCount {
            min: v.min.map(|x| x as i64),
            max: v.max.map(|x| x as i64),
        },
        None if is_list(&f.type_name) => pb::ValueCount::default(),
        None => pb::ValueCount {
            min: Some(1),
            max: Some(1),
        },
    };
    if vc != pb::ValueCount::default() {
        out.shape_type = Some(feature::ShapeType::ValueCount(vc));
    }
    let mut domain = None;
    if is_bool(&f.type_name) {
        domain = Some(feature::DomainInfo::BoolDomain(pb::BoolDomain {
            name: None,
            true_value: Some("true".into()),
            false_value: Some("false".into()),
        }));
    }
    match &f.domain {
        // TFDV's string_domain is for BYTES features; its int_domain and
        // float_domain have no list of values.
        Some(values) if matches!(class, TfdvType::String | TfdvType::Bytes) => {
            domain = Some(feature::DomainInfo::StringDomain(pb::StringDomain {
                name: None,
                value: values.clone(),
                is_categorical: None,
            }));
        }
        Some(_) => note(
            name,
            "domain",
            &format!(
                "TFDV's {} has no list of values (string_domain is for BYTES features); not exported",
                if class == TfdvType::Int {
                    "int_domain"
                } else {
                    "float_domain"
                }
            ),
        ),
        None => {}
    }
    if class == TfdvType::Int && (f.kind == Kind::Categorical || f.int_bounds.is_some()) {
        let b = f.int_bounds.as_ref();
        // An integer bound; a float one rounded inward (min up, max
        // down: the integers it allows are the same), non-finite ones
        // left out.
        let int = |v: Option<Num>,
                   up: bool,
                   what: &str,
                   note: &mut dyn FnMut(Option<&str>, &str, &str)| {
            let field = format!("int_bounds.{what}");
            match v {
                Some(Num::Int(x)) => Some(x),
                Some(Num::UInt(x)) => i64::try_from(x).ok().or_else(|| {
                    note(
                        name,
                        &field,
                        "beyond int64, which TFDV's int_domain holds; not exported",
                    );
                    None
                }),
                Some(Num::Float(x)) if !x.is_finite() => {
                    note(
                        name,
                        &field,
                        &format!("{x}, which TFDV's int_domain cannot hold; not exported"),
                    );
                    None
                }
                Some(Num::Float(x)) => {
                    let r = if up { x.ceil() } else { x.floor() };
                    // i64's range, exactly: [-2^63, 2^63).
                    let limit = 2f64.powi(63);
                    if !(-limit..limit).contains(&r) {
                        note(
                            name,
                            &field,
                            &format!(
                                "{x}, beyond int64, which TFDV's int_domain holds; not exported"
                            ),
                        );
                        return None;
                    }
                    if r != x {
                        note(
                            name,
                            &field,
                            &format!(
                                "TFDV's int_domain holds integers: {x} written as {r}, rounded inward (the same integers pass)"
                            ),
                        );
                    }
                    Some(r as i64)
                }
                None => None,
            }
        };
        let min = int(b.and_then(|b| b.min), true, "min", note);
        let max = int(b.and_then(|b| b.max), false, "max", note);
        domain = Some(feature::DomainInfo::IntDomain(pb::IntDomain {
            name: None,
            min,
            max,
            is_categorical: (f.kind == Kind::Categorical).then_some(true),
        }));
    } else if f.int_bounds.is_some() {
        note(
            name,
            "int_bounds",
            "on a feature that TFDV does not type INT; not exported",
        );
    }
    if class == TfdvType::Float {
        let b = f.float_bounds.as_ref();
        let bound = |v: Option<Num>,
                     up: bool,
                     what: &str,
                     note: &mut dyn FnMut(Option<&str>, &str, &str)| {
            v.map(|v| {
                let x = v.as_f64();
                let y = f32_outward(x, up);
                if f64::from(y) != x {
                    note(
                        name,
                        &format!("float_bounds.{what}"),
                        &format!("TFDV's float_domain holds float32: {x} written as {y}, rounded outward"),
                    );
                }
                y
            })
        };
        let fd = pb::FloatDomain {
            min: bound(b.and_then(|b| b.min), false, "min", note),
            max: bound(b.and_then(|b| b.max), true, "max", note),
            disallow_nan: f.disallow_nan.then_some(true),
            disallow_inf: f.disallow_inf.then_some(true),
            ..Default::default()
        };
        if fd != pb::FloatDomain::default() {
            domain = Some(feature::DomainInfo::FloatDomain(fd));
        }
    } else {
        if f.float_bounds.is_some() {
            note(
                name,
                "float_bounds",
                "on a feature that TFDV does not type FLOAT; not exported",
            );
        }
        if f.disallow_nan || f.disallow_inf {
            note(
                name,
                "disallow_nan/disallow_inf",
                "on a feature that TFDV does not type FLOAT; not exported",
            );
        }
    }
    if domain.is_none() {
        if let Some(fmt) = time_format(&f.type_name) {
            domain = Some(feature::DomainInfo::TimeDomain(pb::TimeDomain {
                format: Some(pb::time_domain::Format::IntegerFormat(fmt as i32)),
            }));
        }
    }
    out.domain_info = domain;
    for (which, c, slot) in [
        (
            "drift_comparator",
            &f.drift_comparator,
            &mut out.drift_comparator,
        ),
        (
            "skew_comparator",
            &f.skew_comparator,
            &mut out.skew_comparator,
        ),
    ] {
        let Some(c) = c else { continue };
        let mut t = pb::FeatureComparator::default();
        for (m, v) in c.thresholds() {
            match SHARED.iter().find(|s| s.name == m.name) {
                Some(s) => (s.set)(&mut t, v),
                None => note(
                    name,
                    &format!("{which}.{}", m.name),
                    &format!("TFDV has no {} comparator; not exported", m.words),
                ),
            }
        }
        note(
            name,
            &format!("{which}.alpha"),
            "TFDV's comparators have no significance test (its thresholds alone decide); not exported",
        );
        *slot = Some(t);
    }
    out
}

/// What a TFDV schema's types cannot forbid and skewer cannot read: a
/// negative count (examples, presence, values per row, a shape's
/// dimension). The error names the field (and the feature).
pub fn check(s: &pb::Schema) -> std::result::Result<(), String> {
    let negative = |v: Option<i64>, field: &str, feature: Option<&str>| match v {
        Some(x) if x < 0 => Err(match feature {
            Some(f) => format!("feature {f:?}: {field} is {x}, and a count cannot be negative"),
            None => format!("{field} is {x}, and a count cannot be negative"),
        }),
        _ => Ok(()),
    };
    if let Some(c) = &s.dataset_constraints {
        negative(
            c.min_examples_count,
            "dataset_constraints.min_examples_count",
            None,
        )?;
        negative(
            c.max_examples_count,
            "dataset_constraints.max_examples_count",
            None,
        )?;
    }
    for f in &s.feature {
        let at = f.name.as_deref();
        if let Some(feature::PresenceConstraints::Presence(p)) = &f.presence_constraints {
            negative(p.min_count, "presence.min_count", at)?;
        }
        match &f.shape_type {
            Some(feature::ShapeType::ValueCount(v)) => {
                negative(v.min, "value_count.min", at)?;
                negative(v.max, "value_count.max", at)?;
            }
            Some(feature::ShapeType::Shape(sh)) => {
                for d in &sh.dim {
                    negative(d.size, "shape.dim.size", at)?;
                }
            }
            Some(feature::ShapeType::ValueCounts(_)) | None => {}
        }
    }
    Ok(())
}

/// TFDV's schema as skewer's, with what skewer cannot use. Negative
/// counts (which [`check`], and so [`super::read`], rejects) are left out
/// with a note. `like`: a
/// profile of the data the schema is for, whose Arrow types (and kinds)
/// the features take where TFDV's type agrees; features tagged
/// `skewer_type=` by [`export`] keep their tagged type.
pub fn import(s: &pb::Schema, like: Option<&DatasetProfile>) -> (Schema, Vec<Unmapped>) {
    let mut notes = Vec::new();
    let mut note = |feature: Option<&str>, field: &str, detail: String| {
        notes.push(Unmapped {
            feature: feature.map(str::to_string),
            field: field.into(),
            detail,
        })
    };
    let mut dataset = DatasetConstraints::default();
    if let Some(c) = &s.dataset_constraints {
        let mut to_u64 = |v: Option<i64>, field: &str| {
            let v = v?;
            u64::try_from(v).ok().or_else(|| {
                note(None, field, format!("{v}: negative; not imported"));
                None
            })
        };
        dataset.min_num_examples = to_u64(
            c.min_examples_count,
            "dataset_constraints.min_examples_count",
        );
        dataset.max_num_examples = to_u64(
            c.max_examples_count,
            "dataset_constraints.max_examples_count",
        );
        dataset.num_examples_drift_comparator =
            c.num_examples_drift_comparator
                .as_ref()
                .map(|c| NumExamplesComparator {
                    min_fraction_threshold: c.min_fraction_threshold,
                    max_fraction_threshold: c.max_fraction_threshold,
                });
        if c.num_examples_version_comparator.is_some() {
            note(
                None,
                "dataset_constraints.num_examples_version_comparator",
                "skewer compares with the previous span or the training data, not a previous version; not imported".into(),
            );
        }
    }
    for (what, n) in [
        ("sparse_feature", s.sparse_feature.len()),
        ("weighted_feature", s.weighted_feature.len()),
        ("default_environment", s.default_environment.len()),
        (
            "tensor_representation_group",
            s.tensor_representation_group.len(),
        ),
    ] {
        if n > 0 {
            note(
                None,
                what,
                format!("{n} entries, which skewer has no equivalent of; not imported"),
            );
        }
    }
    if s.annotation.is_some() {
        note(None, "annotation", "not imported".into());
    }
    let like: BTreeMap<&str, &FeatureProfile> = like
        .map(|p| p.features.iter().map(|f| (f.name.as_str(), f)).collect())
        .unwrap_or_default();
    let mut features = Vec::new();
    for f in &s.feature {
        if let Some(fs) = import_feature(s, f, &like, &mut note) {
            features.push(fs);
        }
    }
    let schema = Schema {
        format: SCHEMA_FORMAT.into(),
        version: SCHEMA_VERSION,
        dataset,
        features,
    };
    (schema, notes)
}

fn import_feature(
    s: &pb::Schema,
    f: &pb::Feature,
    like: &BTreeMap<&str, &FeatureProfile>,
    note: &mut dyn FnMut(Option<&str>, &str, String),
) -> Option<FeatureSchema> {
    let Some(name) = f.name.clone().filter(|n| !n.is_empty()) else {
        note(
            None,
            "feature.name",
            "a feature without a name; skipped".into(),
        );
        return None;
    };
    let at = Some(name.as_str());
    use pb::LifecycleStage as L;
    let stage = f.lifecycle_stage.and_then(|v| L::try_from(v).ok());
    // TFDV still honours the deprecated `deprecated` flag.
    #[allow(deprecated)]
    let deprecated = f.deprecated == Some(true);
    if matches!(stage, Some(L::Deprecated | L::Disabled)) || deprecated {
        note(
            at,
            "lifecycle_stage",
            "deprecated or disabled in TFDV (not validated there); skipped".into(),
        );
        return None;
    }
    let tfdv = f.r#type.and_then(|t| FeatureType::try_from(t).ok());
    // The domain, resolved when the feature names a schema-level one.
    let domain = match &f.domain_info {
        Some(feature::DomainInfo::Domain(d)) => {
            let found = s
                .string_domain
                .iter()
                .find(|x| x.name.as_deref() == Some(d.as_str()))
                .map(|x| feature::DomainInfo::StringDomain(x.clone()))
                .or_else(|| {
                    s.int_domain
                        .iter()
                        .find(|x| x.name.as_deref() == Some(d.as_str()))
                        .map(|x| feature::DomainInfo::IntDomain(x.clone()))
                })
                .or_else(|| {
                    s.float_domain
                        .iter()
                        .find(|x| x.name.as_deref() == Some(d.as_str()))
                        .map(|x| feature::DomainInfo::FloatDomain(x.clone()))
                });
            if found.is_none() {
                note(
                    at,
                    "domain",
                    format!("names {d:?}, which the schema does not define; not imported"),
                );
            }
            found
        }
        other => other.clone(),
    };
    let bool_domain = matches!(domain, Some(feature::DomainInfo::BoolDomain(_)));
    let categorical_int = matches!(&domain, Some(feature::DomainInfo::IntDomain(d)) if d.is_categorical == Some(true));
    let vc = match &f.shape_type {
        Some(feature::ShapeType::ValueCount(v)) => Some(*v),
        Some(feature::ShapeType::Shape(sh)) => {
            let n: i64 = sh.dim.iter().map(|d| d.size.unwrap_or(1)).product();
            Some(pb::ValueCount {
                min: Some(n),
                max: Some(n),
            })
        }
        Some(feature::ShapeType::ValueCounts(_)) => {
            note(
                at,
                "value_counts",
                "nested values per row, which skewer does not profile; not imported".into(),
            );
            None
        }
        None => None,
    };
    let scalar_by_counts = vc.as_ref().is_some_and(|v| v.max == Some(1));
    // The Arrow type: tagged by skewer's export, else the data's, else
    // TFDV's default for its type.
    let tagged = f
        .annotation
        .iter()
        .flat_map(|a| &a.tag)
        .find_map(|t| t.strip_prefix(TYPE_TAG))
        .map(str::to_string);
    let agrees = |type_name: &str| match tfdv {
        // tf.Example's booleans are INT.
        Some(FeatureType::Int) => class_of(type_name) == TfdvType::Int || is_bool(type_name),
        Some(FeatureType::Float) => class_of(type_name) == TfdvType::Float,
        Some(FeatureType::Bytes) => {
            matches!(class_of(type_name), TfdvType::String | TfdvType::Bytes)
        }
        _ => false,
    };
    let from_data = like.get(name.as_str()).filter(|p| agrees(&p.type_name));
    let (type_name, kind) = if let Some(t) = tagged {
        let kind = if categorical_int || matches!(class_of(&t), TfdvType::String | TfdvType::Bytes)
        {
            Kind::Categorical
        } else {
            Kind::Numeric
        };
        let kind = like
            .get(name.as_str())
            .filter(|p| p.type_name == t)
            .map_or(kind, |p| p.kind);
        (t, kind)
    } else if let Some(p) = from_data {
        if categorical_int && p.kind != Kind::Categorical {
            note(at, "int_domain.is_categorical", "the data's profile counts this integer feature as numeric (profile it with --categorical); imported as numeric".into());
        }
        (p.type_name.clone(), p.kind)
    } else {
        let scalar = |t: &str| {
            if scalar_by_counts {
                t.to_string()
            } else {
                format!("list<{t}>")
            }
        };
        let (t, kind) = match tfdv {
            Some(FeatureType::Int) if bool_domain => (scalar("bool"), Kind::Categorical),
            Some(FeatureType::Int) if categorical_int => (scalar("int64"), Kind::Categorical),
            Some(FeatureType::Int) => (scalar("int64"), Kind::Numeric),
            Some(FeatureType::Float) => (scalar("float64"), Kind::Numeric),
            Some(FeatureType::Bytes) if bool_domain => (scalar("bool"), Kind::Categorical),
            Some(FeatureType::Bytes) => (scalar("utf8"), Kind::Categorical),
            other => {
                let what = other.map_or("no type".into(), |t| t.as_str_name().to_string());
                note(
                    at,
                    "type",
                    format!("{what}, which skewer does not validate; skipped"),
                );
                return None;
            }
        };
        let why = if like.contains_key(name.as_str()) {
            "the data's type does not agree with TFDV's"
        } else if like.is_empty() {
            "no --like data gave the column's type"
        } else {
            "the --like data has no such column"
        };
        note(at, "type", format!("{tfdv:?} imported as {t} ({why}); validation reports another Arrow type as UNEXPECTED_DATA_TYPE"));
        (t, kind)
    };
    let mut out = FeatureSchema {
        name: name.clone(),
        type_name: type_name.clone(),
        kind,
        presence: Presence {
            min_fraction: None,
            min_count: None,
        },
        values_per_row: None,
        domain: None,
        disallow_nan: false,
        disallow_inf: false,
        int_bounds: None,
        float_bounds: None,
        drift_comparator: None,
        skew_comparator: None,
    };
    match &f.presence_constraints {
        Some(feature::PresenceConstraints::Presence(p)) => {
            out.presence.min_fraction = p.min_fraction;
            out.presence.min_count = p.min_count.and_then(|c| {
                u64::try_from(c).ok().or_else(|| {
                    note(
                        at,
                        "presence.min_count",
                        format!("{c}: negative; not imported"),
                    );
                    None
                })
            });
        }
        Some(feature::PresenceConstraints::GroupPresence(_)) => {
            note(
                at,
                "group_presence",
                "presence within a struct's group, which skewer has no equivalent of; not imported"
                    .into(),
            );
        }
        None => {}
    }
    if let Some(v) = vc {
        let mut to_u64 = |x: Option<i64>, field: &str| {
            let x = x?;
            u64::try_from(x).ok().or_else(|| {
                note(at, field, format!("{x}: negative; not imported"));
                None
            })
        };
        if is_list(&type_name) {
            out.values_per_row = Some(ValueCountBounds {
                min: to_u64(v.min, "value_count.min"),
                max: to_u64(v.max, "value_count.max"),
            });
        } else if v.min.unwrap_or(0) > 1 || v.max.is_some_and(|m| m < 1) {
            note(
                at,
                "value_count",
                format!(
                    "{:?}..{:?} values per row on a column of single values; not imported",
                    v.min, v.max
                ),
            );
        }
    }
    match domain {
        Some(feature::DomainInfo::StringDomain(d)) => {
            let mut values = d.value.clone();
            values.sort();
            out.domain = Some(values);
        }
        Some(feature::DomainInfo::IntDomain(d)) => {
            if d.min.is_some() || d.max.is_some() {
                out.int_bounds = Some(Bounds {
                    min: d.min.map(Num::Int),
                    max: d.max.map(Num::Int),
                });
            }
        }
        Some(feature::DomainInfo::FloatDomain(d)) => {
            if d.min.is_some() || d.max.is_some() {
                out.float_bounds = Some(Bounds {
                    min: d.min.map(|x| Num::Float(f64::from(x))),
                    max: d.max.map(|x| Num::Float(f64::from(x))),
                });
            }
            out.disallow_nan = d.disallow_nan == Some(true);
            out.disallow_inf = d.disallow_inf == Some(true);
            for (set, what) in [
                (d.is_embedding.is_some(), "float_domain.is_embedding"),
                (d.is_categorical.is_some(), "float_domain.is_categorical"),
                (d.embedding_dim.is_some(), "float_domain.embedding_dim"),
                (d.embedding_type.is_some(), "float_domain.embedding_type"),
            ] {
                if set {
                    note(at, what, "skewer has no equivalent; not imported".into());
                }
            }
        }
        Some(feature::DomainInfo::BoolDomain(d)) => {
            let custom = |v: &Option<String>, dflt: &str| v.as_deref().is_some_and(|x| x != dflt);
            if custom(&d.true_value, "true") || custom(&d.false_value, "false") {
                note(at, "bool_domain", "custom true/false strings; skewer reads booleans as Arrow bool (or \"true\"/\"false\"); not imported".into());
            }
        }
        Some(feature::DomainInfo::TimeDomain(_)) | None => {}
        Some(other) => {
            note(
                at,
                "domain",
                format!(
                    "{}, which skewer has no equivalent of; not imported",
                    domain_name(&other)
                ),
            );
        }
    }
    for (which, c, slot) in [
        (
            "drift_comparator",
            &f.drift_comparator,
            &mut out.drift_comparator,
        ),
        (
            "skew_comparator",
            &f.skew_comparator,
            &mut out.skew_comparator,
        ),
    ] {
        let Some(c) = c else { continue };
        let mut t = Comparator::new();
        for m in SHARED {
            if let Some(v) = (m.get)(c) {
                // The shared names are rows of the metric table.
                let _ = t.set_threshold(m.name, Some(v));
            }
        }
        if let Some(j) = &c.jensen_shannon_divergence {
            if j.source
                .as_ref()
                .is_some_and(|s| s.r#type.unwrap_or(0) != 0)
            {
                note(at, &format!("{which}.jensen_shannon_divergence.source"), "skewer's numeric JSD is over its own equal-mass bins (--compare-bins), not a chosen histogram; the threshold is imported".into());
            }
        }
        if c.normalized_abs_difference.is_some() {
            note(
                at,
                &format!("{which}.normalized_abs_difference"),
                "skewer has no such metric; not imported".into(),
            );
        }
        *slot = Some(t);
    }
    let unmapped: [(bool, &str); 8] = [
        (
            f.distribution_constraints.is_some(),
            "distribution_constraints",
        ),
        (f.unique_constraints.is_some(), "unique_constraints"),
        (!f.in_environment.is_empty(), "in_environment"),
        (!f.not_in_environment.is_empty(), "not_in_environment"),
        (f.sequence_metadata.is_some(), "sequence_metadata"),
        (
            f.validation_derived_source.is_some(),
            "validation_derived_source",
        ),
        (
            f.annotation.as_ref().is_some_and(|a| {
                !a.comment.is_empty()
                    || !a.extra_metadata.is_empty()
                    || a.tag.iter().any(|t| !t.starts_with(TYPE_TAG))
            }),
            "annotation",
        ),
        (
            stage.is_some_and(|s| s != L::Production && s != L::UnknownStage),
            "lifecycle_stage",
        ),
    ];
    for (set, what) in unmapped {
        if set {
            note(at, what, "skewer has no equivalent; not imported".into());
        }
    }
    Some(out)
}

fn domain_name(d: &feature::DomainInfo) -> &'static str {
    use feature::DomainInfo as D;
    match d {
        D::Domain(_) => "domain",
        D::IntDomain(_) => "int_domain",
        D::FloatDomain(_) => "float_domain",
        D::StringDomain(_) => "string_domain",
        D::BoolDomain(_) => "bool_domain",
        D::StructDomain(_) => "struct_domain",
        D::NaturalLanguageDomain(_) => "natural_language_domain",
        D::ImageDomain(_) => "image_domain",
        D::AudioDomain(_) => "audio_domain",
        D::VideoDomain(_) => "video_domain",
        D::ContentChunkDomain(_) => "content_chunk_domain",
        D::MidDomain(_) => "mid_domain",
        D::UrlDomain(_) => "url_domain",
        D::TimeDomain(_) => "time_domain",
        D::TimeOfDayDomain(_) => "time_of_day_domain",
    }
}
