//! Validation of a profile against a schema: the anomalies, with TFDV's
//! names where TFDV has one.
//!
//! Anomalies come out in a fixed order: dataset-level first, then per feature
//! in the schema's order (new columns last, by name), each feature's in the
//! order of the checks below.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Comparator, FeatureSchema, NumExamplesComparator, Schema};
use crate::backend::Backend;
use crate::compare::metric::{judge_metric, Metric, Verdict, LINF};
use crate::compare::{
    compare_feature, refine, wanted, CompareOptions, Compared, FeatureComparison, RefineOptions,
};
use crate::error::Result;
use crate::profile::keys::Num;
use crate::profile::{DatasetProfile, FeatureProfile};

/// One anomaly, as `validate --json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// The feature; null for dataset-level anomalies.
    pub feature: Option<String>,
    /// TFDV's anomaly name, e.g. "FLOAT_TYPE_HAS_NAN".
    #[serde(rename = "type")]
    pub kind: String,
    pub short: String,
    pub long: String,
    /// What was observed (a number, or null where nothing was).
    pub value: Value,
    /// The limit it crossed.
    pub threshold: Value,
    /// ENUM_TYPE_UNEXPECTED_STRING_VALUES: the unexpected values, most
    /// frequent first, with their counts and shares of present values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<UnexpectedValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnexpectedValue {
    pub value: String,
    pub count: u64,
    pub share: f64,
}

/// The profiles the comparators compare with, and how.
pub struct Checks<'a> {
    /// `--previous`: the drift comparators.
    pub previous: Option<&'a DatasetProfile>,
    /// `--training`: the skew comparators.
    pub training: Option<&'a DatasetProfile>,
    /// Where the L-infinity argmax runs.
    pub backend: &'a Backend,
    /// Metric bins of numeric features (see [`CompareOptions::bins`]).
    pub bins: usize,
    /// The data behind the profiles, read again where a comparator's
    /// decision needs the values inside sketch buckets; without it such a
    /// decision is reported as undecided.
    pub data: Option<CheckData<'a>>,
}

/// The data behind [`validate`]'s profiles, for refinement.
pub struct CheckData<'a> {
    pub current: &'a crate::source::Dataset,
    pub previous: Option<&'a crate::source::Dataset>,
    pub training: Option<&'a crate::source::Dataset>,
    pub options: RefineOptions<'a>,
}

fn anomaly(
    feature: Option<&str>,
    kind: &str,
    short: &str,
    long: String,
    value: Value,
    threshold: Value,
) -> Anomaly {
    Anomaly {
        feature: feature.map(str::to_string),
        kind: kind.into(),
        short: short.into(),
        long,
        value,
        threshold,
        values: Vec::new(),
    }
}

/// The anomalies of one slice (`validate --slice-by`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceAnomalies {
    pub slice: std::collections::BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    pub num_rows: u64,
    pub anomalies: Vec<Anomaly>,
    /// "previous", "training": given, but without this slice to compare
    /// with (it lacks the values, or folds them into "__other__"), so
    /// the slice's drift or skew is not checked against it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared_with: Vec<String>,
}

/// [`validate`] each slice of `p`, against the same slice of the previous
/// span and of the training data where they have it, from the profiles
/// alone (no slice is read again: a decision the sketches leave open is
/// reported as undecided).
pub fn validate_slices(
    schema: &Schema,
    p: &DatasetProfile,
    checks: &Checks,
) -> Result<Vec<SliceAnomalies>> {
    let same = |other: Option<&DatasetProfile>, s: &crate::profile::SliceProfile| {
        other.and_then(|o| o.find_slice(s).map(|t| o.slice(t)))
    };
    p.slices
        .iter()
        .map(|s| {
            let (previous, training) = (same(checks.previous, s), same(checks.training, s));
            let anomalies = validate(
                schema,
                &p.slice(s),
                &Checks {
                    previous: previous.as_ref(),
                    training: training.as_ref(),
                    backend: checks.backend,
                    bins: checks.bins,
                    data: None,
                },
            )?;
            let missing = |given: Option<&DatasetProfile>, has: bool, name: &str| {
                (given.is_some() && !has).then(|| name.to_string())
            };
            let not_compared_with = [
                missing(checks.previous, previous.is_some(), "previous"),
                missing(checks.training, training.is_some(), "training"),
            ]
            .into_iter()
            .flatten()
            .collect();
            Ok(SliceAnomalies {
                slice: s.slice.clone(),
                other: s.other,
                num_rows: s.num_rows,
                anomalies,
                not_compared_with,
            })
        })
        .collect()
}

/// Check `p` against `schema` (and against `previous`/`training`).
pub fn validate(schema: &Schema, p: &DatasetProfile, checks: &Checks) -> Result<Vec<Anomaly>> {
    let mut out = Vec::new();
    let d = &schema.dataset;
    if let Some(min) = d.min_num_examples {
        if p.num_rows < min {
            out.push(anomaly(
                None,
                "DATASET_LOW_NUM_EXAMPLES",
                "Low num examples in dataset",
                format!(
                    "The dataset has {} examples, fewer than the minimum {min}.",
                    p.num_rows
                ),
                json!(p.num_rows),
                json!(min),
            ));
        }
    }
    if let Some(max) = d.max_num_examples {
        if p.num_rows > max {
            out.push(anomaly(
                None,
                "DATASET_HIGH_NUM_EXAMPLES",
                "High num examples in dataset",
                format!(
                    "The dataset has {} examples, more than the maximum {max}.",
                    p.num_rows
                ),
                json!(p.num_rows),
                json!(max),
            ));
        }
    }
    for (other, cmp, what) in [
        (
            checks.previous,
            &d.num_examples_drift_comparator,
            "the previous span",
        ),
        (
            checks.training,
            &d.num_examples_skew_comparator,
            "the training data",
        ),
    ] {
        if let (Some(o), Some(c)) = (other, cmp) {
            num_examples(&mut out, p.num_rows, o.num_rows, c, what);
        }
    }

    let data: BTreeMap<&str, &FeatureProfile> =
        p.features.iter().map(|f| (f.name.as_str(), f)).collect();
    let compared = comparisons(schema, &data, checks)?;
    for fs in &schema.features {
        let Some(f) = data.get(fs.name.as_str()) else {
            out.push(anomaly(
                Some(&fs.name),
                "SCHEMA_MISSING_COLUMN",
                "Column dropped",
                format!(
                    "The schema expects column {:?} ({}), but the data has no such column.",
                    fs.name, fs.type_name
                ),
                Value::Null,
                Value::Null,
            ));
            continue;
        };
        if f.type_name != fs.type_name {
            out.push(anomaly(
                Some(&fs.name),
                "UNEXPECTED_DATA_TYPE",
                "Unexpected data type",
                format!(
                    "Expected data of type {} but got {}.",
                    fs.type_name, f.type_name
                ),
                json!(f.type_name),
                json!(fs.type_name),
            ));
            // The other checks assume the schema's type.
            continue;
        }
        feature_checks(&mut out, fs, f, p.num_rows);
        for (drift, cmp) in [(true, &fs.drift_comparator), (false, &fs.skew_comparator)] {
            let side = &compared[usize::from(!drift)];
            if let (Some(c), Some(&i)) = (cmp, side.at.get(fs.name.as_str())) {
                comparator(&mut out, &fs.name, c, &side.items[i].fc, drift);
            }
        }
    }
    let in_schema: BTreeSet<&str> = schema.features.iter().map(|f| f.name.as_str()).collect();
    for f in &p.features {
        if !in_schema.contains(f.name.as_str()) {
            out.push(anomaly(
                Some(&f.name),
                "SCHEMA_NEW_COLUMN",
                "New column",
                format!(
                    "New column {:?} ({}) is in the data but not in the schema.",
                    f.name, f.type_name
                ),
                json!(f.type_name),
                Value::Null,
            ));
        }
    }
    Ok(out)
}

fn num_examples(
    out: &mut Vec<Anomaly>,
    rows: u64,
    other: u64,
    c: &NumExamplesComparator,
    what: &str,
) {
    if other == 0 {
        return;
    }
    let ratio = rows as f64 / other as f64;
    if let Some(t) = c.min_fraction_threshold {
        if ratio < t {
            out.push(anomaly(
                None,
                "COMPARATOR_LOW_NUM_EXAMPLES",
                &format!("Low num examples in current dataset versus {what}"),
                format!(
                    "The ratio of examples in the current dataset ({rows}) to {what} ({other}) is {ratio:.6}, below the threshold {t}."
                ),
                json!(ratio),
                json!(t),
            ));
        }
    }
    if let Some(t) = c.max_fraction_threshold {
        if ratio > t {
            out.push(anomaly(
                None,
                "COMPARATOR_HIGH_NUM_EXAMPLES",
                &format!("High num examples in current dataset versus {what}"),
                format!(
                    "The ratio of examples in the current dataset ({rows}) to {what} ({other}) is {ratio:.6}, above the threshold {t}."
                ),
                json!(ratio),
                json!(t),
            ));
        }
    }
}

/// Exact order of two numbers of any domain (None when one is NaN).
pub fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    use Num::*;
    fn int_float(i: i128, x: f64) -> Option<Ordering> {
        if x.is_nan() {
            return None;
        }
        if x.fract() == 0.0 && x.abs() < 1.7e38 {
            return Some(i.cmp(&(x as i128)));
        }
        (i as f64).partial_cmp(&x)
    }
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(&y)),
        (UInt(x), UInt(y)) => Some(x.cmp(&y)),
        (Int(x), UInt(y)) => Some((x as i128).cmp(&(y as i128))),
        (UInt(x), Int(y)) => Some((x as i128).cmp(&(y as i128))),
        (Float(x), Float(y)) => x.partial_cmp(&y),
        (Int(x), Float(y)) => int_float(x as i128, y),
        (UInt(x), Float(y)) => int_float(x as i128, y),
        (Float(x), Int(y)) => int_float(y as i128, x).map(Ordering::reverse),
        (Float(x), UInt(y)) => int_float(y as i128, x).map(Ordering::reverse),
    }
}

fn num_json(n: Num) -> Value {
    serde_json::to_value(n).unwrap_or(Value::Null)
}

fn show(n: Num) -> String {
    num_json(n).to_string()
}

fn feature_checks(out: &mut Vec<Anomaly>, fs: &FeatureSchema, f: &FeatureProfile, rows: u64) {
    let name = Some(fs.name.as_str());
    let pr = &fs.presence;
    let needs = pr.min_count.is_some_and(|c| c > 0) || pr.min_fraction.is_some_and(|x| x > 0.0);
    if f.count == 0 && needs {
        out.push(anomaly(
            name,
            "FEATURE_TYPE_NOT_PRESENT",
            "No examples contain the feature",
            format!("The feature is present in none of the {rows} examples."),
            json!(0),
            json!(pr.min_count.unwrap_or(1)),
        ));
    } else if f.count > 0 {
        if let Some(min) = pr.min_count {
            if f.count < min {
                out.push(anomaly(
                    name,
                    "FEATURE_TYPE_LOW_NUMBER_PRESENT",
                    "Column dropped",
                    format!(
                        "The feature was present in fewer examples than expected: minimum = {min}, actual = {}.",
                        f.count
                    ),
                    json!(f.count),
                    json!(min),
                ));
            }
        }
        if let (Some(min), true) = (pr.min_fraction, rows > 0) {
            let frac = f.count as f64 / rows as f64;
            if frac < min {
                out.push(anomaly(
                    name,
                    "FEATURE_TYPE_LOW_FRACTION_PRESENT",
                    "Column dropped",
                    format!(
                        "The feature was present in fewer examples than expected: minimum fraction = {min}, actual = {frac:.6} ({} of {rows}).",
                        f.count
                    ),
                    json!(frac),
                    json!(min),
                ));
            }
        }
    }
    if let (Some(b), Some(v)) = (&fs.values_per_row, &f.values_per_row) {
        if let (Some(max), Some(got)) = (b.max, v.max) {
            if got > max {
                out.push(anomaly(
                    name,
                    "FEATURE_TYPE_HIGH_NUMBER_VALUES",
                    "Superfluous values",
                    format!("Some examples have more values than expected: maximum = {max}, actual = {got}."),
                    json!(got),
                    json!(max),
                ));
            }
        }
        if let (Some(min), Some(got)) = (b.min, v.min) {
            if got < min {
                out.push(anomaly(
                    name,
                    "FEATURE_TYPE_LOW_NUMBER_VALUES",
                    "Missing values",
                    format!("Some examples have fewer values than expected: minimum = {min}, actual = {got}."),
                    json!(got),
                    json!(min),
                ));
            }
        }
    }
    if let (Some(domain), Some(c)) = (&fs.domain, &f.categorical) {
        let allowed: BTreeSet<&str> = domain.iter().map(String::as_str).collect();
        let present: u64 = c.value_counts.iter().map(|v| v.count).sum::<u64>() + c.other_count;
        let share = |n: u64| {
            if present == 0 {
                0.0
            } else {
                n as f64 / present as f64
            }
        };
        let bad: Vec<UnexpectedValue> = c
            .value_counts
            .iter()
            .filter(|v| !allowed.contains(v.label().as_str()))
            .map(|v| UnexpectedValue {
                value: v.label(),
                count: v.count,
                share: share(v.count),
            })
            .collect();
        let bad_count: u64 = bad.iter().map(|v| v.count).sum::<u64>() + c.other_count;
        if bad_count > 0 {
            let mut listed: Vec<String> = bad
                .iter()
                .take(10)
                .map(|v| {
                    let shown = match v.value.as_str() {
                        "" => crate::report::value::value_label(""),
                        s => format!("{s:?}"),
                    };
                    format!("{shown} ({} values, {:.4}%)", v.count, 100.0 * v.share)
                })
                .collect();
            if bad.len() > 10 {
                listed.push(format!("and {} more", bad.len() - 10));
            }
            if c.other_count > 0 {
                listed.push(format!(
                    "{} values beyond the profile's distinct-value cap (not listed)",
                    c.other_count
                ));
            }
            let mut a = anomaly(
                name,
                "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
                "Unexpected string values",
                format!(
                    "Examples contain values missing from the schema ({:.4}% of present values): {}.",
                    100.0 * share(bad_count),
                    listed.join(", ")
                ),
                json!(share(bad_count)),
                json!(0.0),
            );
            a.values = bad;
            out.push(a);
        }
    }
    if let Some(n) = &f.numeric {
        // Bounds of a date or timestamp column read as dates.
        let time = crate::profile::time::Time::of(&f.type_name);
        let show = |v: Num| match (time, v) {
            (Some(t), Num::Int(x)) => t.show_ticks(x),
            _ => show(v),
        };
        let present = n.finite + n.nan + n.pos_inf + n.neg_inf;
        if fs.disallow_nan && n.nan > 0 {
            out.push(anomaly(
                name,
                "FLOAT_TYPE_HAS_NAN",
                "Invalid values",
                format!("Float feature has NaN values: {} of {present}.", n.nan),
                json!(n.nan),
                json!(0),
            ));
        }
        let inf = n.pos_inf + n.neg_inf;
        if fs.disallow_inf && inf > 0 {
            out.push(anomaly(
                name,
                "FLOAT_TYPE_HAS_INF",
                "Invalid values",
                format!(
                    "Float feature has infinite values: {} of {present} (+inf {}, -inf {}).",
                    inf, n.pos_inf, n.neg_inf
                ),
                json!(inf),
                json!(0),
            ));
        }
        for (bounds, small, big, what) in [
            (
                &fs.int_bounds,
                "INT_TYPE_SMALL_INT",
                "INT_TYPE_BIG_INT",
                "Int",
            ),
            (
                &fs.float_bounds,
                "FLOAT_TYPE_SMALL_FLOAT",
                "FLOAT_TYPE_BIG_FLOAT",
                "Float",
            ),
        ] {
            let Some(b) = bounds else { continue };
            if let (Some(lim), Some(got)) = (b.min, n.min) {
                if cmp_num(got, lim) == Some(Ordering::Less) {
                    out.push(anomaly(
                        name,
                        small,
                        "Out-of-range values",
                        format!(
                            "{what} feature has values below the minimum {}: smallest value {}.",
                            show(lim),
                            show(got)
                        ),
                        num_json(got),
                        num_json(lim),
                    ));
                }
            }
            if let (Some(lim), Some(got)) = (b.max, n.max) {
                if cmp_num(got, lim) == Some(Ordering::Greater) {
                    out.push(anomaly(
                        name,
                        big,
                        "Out-of-range values",
                        format!(
                            "{what} feature has values above the maximum {}: largest value {}.",
                            show(lim),
                            show(got)
                        ),
                        num_json(got),
                        num_json(lim),
                    ));
                }
            }
        }
    }
}

/// The comparisons one side's comparators judge (the previous span's drift
/// comparators, or the training data's skew comparators), refined
/// together.
struct SideComparisons<'s> {
    items: Vec<Compared>,
    at: BTreeMap<&'s str, usize>,
}

/// Each feature with a comparator compared with the same feature of the
/// previous span (`[0]`) and of the training data (`[1]`), refined where a
/// comparator's decision needs it and the data is at hand.
fn comparisons<'s>(
    schema: &'s Schema,
    data: &BTreeMap<&str, &FeatureProfile>,
    checks: &Checks,
) -> Result<[SideComparisons<'s>; 2]> {
    let mut sides = [(); 2].map(|()| SideComparisons {
        items: Vec::new(),
        at: BTreeMap::new(),
    });
    let others = [checks.previous, checks.training];
    let mut thresholds: [BTreeMap<&str, Vec<(&Metric, f64)>>; 2] = Default::default();
    for fs in &schema.features {
        let Some(f) = data
            .get(fs.name.as_str())
            .filter(|f| f.type_name == fs.type_name)
        else {
            continue;
        };
        for (s, cmp) in [&fs.drift_comparator, &fs.skew_comparator]
            .into_iter()
            .enumerate()
        {
            let base = others[s].and_then(|q| q.features.iter().find(|g| g.name == fs.name));
            let (Some(c), Some(base)) = (cmp, base) else {
                continue;
            };
            if base.type_name != f.type_name {
                continue;
            }
            let opts = CompareOptions {
                threshold: 0.0,
                alpha: c.alpha,
                bins: checks.bins,
            };
            let t: Vec<(&Metric, f64)> = c.thresholds().collect();
            let deciders: Vec<&Metric> = t.iter().map(|&(m, _)| m).collect();
            let item = compare_feature(base, f, &opts, checks.backend, &deciders)?;
            sides[s].at.insert(fs.name.as_str(), sides[s].items.len());
            sides[s].items.push(item);
            thresholds[s].insert(fs.name.as_str(), t);
        }
    }
    if let Some(d) = &checks.data {
        for (s, other) in [d.previous, d.training].into_iter().enumerate() {
            let Some(other) = other else { continue };
            let data = crate::compare::Data {
                base: other,
                current: d.current,
                options: d.options,
            };
            let t = &thresholds[s];
            refine(&mut sides[s].items, &data, checks.backend, &|fc| {
                wanted(
                    fc,
                    t.get(fc.name.as_str()).map_or(&[], Vec::as_slice),
                    d.options.refine,
                )
            })?;
        }
    }
    Ok(sides)
}

/// A comparator whose decision the profiles cannot make: the metric's
/// error bound straddles its threshold (or critical value), and the data
/// was not at hand to refine it.
fn undecided(
    name: &str,
    m: &Metric,
    t: f64,
    fc: &FeatureComparison,
    (low, high): (f64, f64),
    between: &str,
) -> Anomaly {
    let what = m.words;
    anomaly(
        Some(name),
        "COMPARATOR_UNDECIDED",
        &format!("Undecided {what} between {between}"),
        format!(
            "The {what} between {between} is between {low:.6} and {high:.6}, across {}, so it cannot be decided: {}.",
            crate::compare::metric::straddled(t, m.critical_of(fc)),
            m.remedy()
        ),
        json!([low, high]),
        json!(t),
    )
}

/// The anomalies of one comparator: each metric with a threshold, by the
/// rule of `compare` ([`judge`]), in the order of the metric table.
fn comparator(
    out: &mut Vec<Anomaly>,
    name: &str,
    c: &Comparator,
    fc: &FeatureComparison,
    drift: bool,
) {
    let between = if drift {
        "current and previous"
    } else {
        "training and serving"
    };
    for (m, t) in c.thresholds() {
        let (Some(v), Some(verdict)) = (m.value_of(fc), judge_metric(m, fc, t)) else {
            continue;
        };
        let critical = match verdict {
            Verdict::High { critical } => critical,
            Verdict::Undecided { low, high } => {
                out.push(undecided(name, m, t, fc, (low, high), between));
                continue;
            }
            // Below the threshold, or large but within what sampling noise
            // gives at these sizes: nothing to report.
            Verdict::Below | Verdict::NotSignificant { .. } => continue,
        };
        let what = m.words;
        let mut long =
            format!("The {what} between {between} is {v:.6}, at or above the threshold {t}.");
        if let Some(crit) = critical {
            long.push_str(&format!(
                " It is significant at alpha {} for {} and {} values (critical value {crit:.6}).",
                c.alpha, fc.base_count, fc.current_count
            ));
        }
        if m.name == LINF.name {
            if let Some(at) = &fc.linf_at {
                long.push_str(&format!(" The largest difference is at {at:?}."));
            }
        }
        out.push(anomaly(
            Some(name),
            m.anomaly,
            &format!("High {what} between {between}"),
            long,
            json!(v),
            json!(t),
        ));
    }
}
