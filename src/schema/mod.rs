//! Schemas: what a dataset is expected to look like, inferred from a profile
//! and edited by hand, and the validation of new data against it.
//!
//! The format (documented in docs/schema.md) is JSON with a fixed field order
//! and no unknown fields allowed, so that a typo in a hand edit is an error
//! and not a silently ignored constraint.

pub mod examples;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::compare::metric::{self, Metric, METRICS};
use crate::compare::CompareOptions;
use crate::error::{Error, Result};
use crate::profile::keys::{Domain, Num};
use crate::profile::{DatasetProfile, FeatureProfile, Kind};

pub use validate::{validate, validate_slices, Anomaly, CheckData, Checks, SliceAnomalies};

pub const SCHEMA_FORMAT: &str = "skewer-schema";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Always "skewer-schema".
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub dataset: DatasetConstraints,
    pub features: Vec<FeatureSchema>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConstraints {
    /// DATASET_LOW_NUM_EXAMPLES below this many rows.
    #[serde(default)]
    pub min_num_examples: Option<u64>,
    /// DATASET_HIGH_NUM_EXAMPLES above this many rows.
    #[serde(default)]
    pub max_num_examples: Option<u64>,
    /// Rows of the current data relative to `--previous`.
    #[serde(default)]
    pub num_examples_drift_comparator: Option<NumExamplesComparator>,
    /// Rows of the current data relative to `--training`.
    #[serde(default)]
    pub num_examples_skew_comparator: Option<NumExamplesComparator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumExamplesComparator {
    /// COMPARATOR_LOW_NUM_EXAMPLES when current/other rows is below this.
    #[serde(default)]
    pub min_fraction_threshold: Option<f64>,
    /// COMPARATOR_HIGH_NUM_EXAMPLES when current/other rows is above this.
    #[serde(default)]
    pub max_fraction_threshold: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSchema {
    pub name: String,
    /// The Arrow type, as the profile writes it (`float64`, `list<int64>`).
    #[serde(rename = "type")]
    pub type_name: String,
    pub kind: Kind,
    pub presence: Presence,
    /// List columns: values per present row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_per_row: Option<ValueCountBounds>,
    /// String columns: every allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Vec<String>>,
    /// Float columns: FLOAT_TYPE_HAS_NAN when a NaN appears.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disallow_nan: bool,
    /// Float columns: FLOAT_TYPE_HAS_INF when ±inf appears.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disallow_inf: bool,
    /// Integer columns: INT_TYPE_SMALL_INT / INT_TYPE_BIG_INT outside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int_bounds: Option<Bounds>,
    /// Float columns: FLOAT_TYPE_SMALL_FLOAT / FLOAT_TYPE_BIG_FLOAT outside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub float_bounds: Option<Bounds>,
    /// Applied with `--previous`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_comparator: Option<Comparator>,
    /// Applied with `--training`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew_comparator: Option<Comparator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presence {
    /// FEATURE_TYPE_LOW_FRACTION_PRESENT below this share of rows.
    #[serde(default)]
    pub min_fraction: Option<f64>,
    /// FEATURE_TYPE_LOW_NUMBER_PRESENT below this many present rows.
    #[serde(default)]
    pub min_count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueCountBounds {
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Exact JSON numbers: integer bounds stay integers.
    #[serde(default)]
    pub min: Option<Num>,
    #[serde(default)]
    pub max: Option<Num>,
}

/// Thresholds of one comparator (drift or skew), keyed by the names of
/// [`METRICS`]; a metric without a threshold is not checked. Its anomaly
/// ([`Metric::anomaly`]) is raised at or above the threshold, and, for the
/// metrics with a critical value (`linf`, `ks`), when significant at
/// `alpha`: the rule of `compare` ([`metric::judge`]).
///
/// In JSON, one number per threshold, in the table's order, then `alpha`:
/// `{"linf": 0.03, "ks": 0.03, "alpha": 0.0001}`. A key that names no
/// metric is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparator {
    /// By [`Metric::name`] (the table's own `&'static str`s).
    thresholds: BTreeMap<&'static str, f64>,
    /// Significance level guarding the metrics with a critical value
    /// against sampling noise.
    pub alpha: f64,
}

fn default_alpha() -> f64 {
    CompareOptions::default().alpha
}

impl Comparator {
    /// No thresholds, the default alpha.
    pub fn new() -> Comparator {
        Comparator {
            thresholds: BTreeMap::new(),
            alpha: default_alpha(),
        }
    }

    /// The defaults: the metrics that decide `compare`'s `drifted` flag
    /// (L-infinity, and KS for numeric features) at 0.03.
    pub fn default_for(kind: Kind) -> Comparator {
        let d = CompareOptions::default();
        let mut c = Comparator::new();
        for m in METRICS.iter().filter(|m| m.drift.is_some()) {
            if m.applies(kind == Kind::Numeric) {
                c.thresholds.insert(m.name, d.threshold);
            }
        }
        c.alpha = d.alpha;
        c
    }

    /// The threshold of the metric named `metric`, if set.
    pub fn threshold(&self, metric: &str) -> Option<f64> {
        self.thresholds.get(metric).copied()
    }

    /// Set (or with `None` clear) the threshold of the metric named
    /// `metric`; an error if no metric has that name.
    pub fn set_threshold(&mut self, metric: &str, t: Option<f64>) -> Result<()> {
        let m = metric::by_name(metric).ok_or_else(|| {
            Error::InvalidOption(format!(
                "no metric named {metric:?} (the metrics: {})",
                metric_names()
            ))
        })?;
        match t {
            Some(t) => self.thresholds.insert(m.name, t),
            None => self.thresholds.remove(m.name),
        };
        Ok(())
    }

    /// The thresholds that are set, in the table's order.
    pub fn thresholds(&self) -> impl Iterator<Item = (&'static Metric, f64)> + '_ {
        METRICS
            .iter()
            .filter_map(|m| self.threshold(m.name).map(|t| (m, t)))
    }
}

impl Default for Comparator {
    fn default() -> Self {
        Comparator::new()
    }
}

/// "`linf`, `ks`, …" for error messages.
fn metric_names() -> String {
    let v: Vec<String> = METRICS.iter().map(|m| format!("`{}`", m.name)).collect();
    v.join(", ")
}

impl Serialize for Comparator {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.thresholds.len() + 1))?;
        for (m, t) in self.thresholds() {
            map.serialize_entry(m.name, &t)?;
        }
        map.serialize_entry("alpha", &self.alpha)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Comparator {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Comparator;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a comparator: thresholds of {} and `alpha`",
                    metric_names()
                )
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Comparator, A::Error> {
                let mut c = Comparator::new();
                let mut alpha = None;
                let mut seen = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "alpha" {
                        if alpha.is_some() {
                            return Err(de::Error::duplicate_field("alpha"));
                        }
                        alpha = Some(map.next_value::<f64>()?);
                        continue;
                    }
                    let Some(m) = metric::by_name(&key) else {
                        return Err(de::Error::custom(format!(
                            "unknown field `{key}`, expected one of {}, `alpha`",
                            metric_names()
                        )));
                    };
                    if seen.contains(&m.name) {
                        return Err(de::Error::duplicate_field(m.name));
                    }
                    seen.push(m.name);
                    // `null`: not checked, as when the key is absent.
                    if let Some(t) = map.next_value::<Option<f64>>()? {
                        c.thresholds.insert(m.name, t);
                    }
                }
                c.alpha = alpha.unwrap_or_else(default_alpha);
                Ok(c)
            }
        }
        d.deserialize_map(V)
    }
}

/// What `schema infer` adds beyond the always-inferred constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct InferOptions {
    /// String domains for columns with at most this many distinct values
    /// (0: none).
    pub max_domain_size: usize,
    /// Int and float bounds at the observed min and max.
    pub bounds: bool,
    /// Dataset bounds on the number of rows (half to twice the profile's)
    /// and the matching drift and skew comparators.
    pub num_examples: bool,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            max_domain_size: 100,
            bounds: false,
            num_examples: false,
        }
    }
}

/// Infer a schema from a profile. Presence: `min_fraction` 1 for columns
/// never missing, else the observed fraction less 0.05 (rounded down to a
/// hundredth, so sampling noise does not trip it), `min_count` 1.
pub fn infer(p: &DatasetProfile, o: &InferOptions) -> Schema {
    let features = p.features.iter().map(|f| feature(p, f, o)).collect();
    let mut dataset = DatasetConstraints::default();
    if o.num_examples {
        dataset.min_num_examples = Some(p.num_rows / 2);
        dataset.max_num_examples = Some(p.num_rows.saturating_mul(2));
        let c = NumExamplesComparator {
            min_fraction_threshold: Some(0.5),
            max_fraction_threshold: Some(2.0),
        };
        dataset.num_examples_drift_comparator = Some(c.clone());
        dataset.num_examples_skew_comparator = Some(c);
    }
    Schema {
        format: SCHEMA_FORMAT.into(),
        version: SCHEMA_VERSION,
        dataset,
        features,
    }
}

fn feature(p: &DatasetProfile, f: &FeatureProfile, o: &InferOptions) -> FeatureSchema {
    let min_fraction = if f.missing == 0 || p.num_rows == 0 {
        1.0
    } else {
        let hundredths = (f.count as f64 / p.num_rows as f64 * 100.0).floor();
        (hundredths - 5.0).max(0.0) / 100.0
    };
    let mut s = FeatureSchema {
        name: f.name.clone(),
        type_name: f.type_name.clone(),
        kind: f.kind,
        presence: Presence {
            min_fraction: Some(min_fraction),
            min_count: Some(1),
        },
        values_per_row: f.values_per_row.as_ref().map(|v| ValueCountBounds {
            min: v.min,
            max: v.max,
        }),
        domain: None,
        disallow_nan: false,
        disallow_inf: false,
        int_bounds: None,
        float_bounds: None,
        drift_comparator: Some(Comparator::default_for(f.kind)),
        skew_comparator: Some(Comparator::default_for(f.kind)),
    };
    if let Some(n) = &f.numeric {
        if n.domain == Domain::Float {
            s.disallow_nan = n.nan == 0;
            s.disallow_inf = n.pos_inf == 0 && n.neg_inf == 0;
        }
        if o.bounds && n.min.is_some() {
            let b = Bounds {
                min: n.min,
                max: n.max,
            };
            match n.domain {
                Domain::Float => s.float_bounds = Some(b),
                _ => s.int_bounds = Some(b),
            }
        }
    }
    if let Some(c) = &f.categorical {
        let is_bool = f.type_name == "bool" || f.type_name == "list<bool>";
        if !is_bool && c.unique_exact && c.unique as usize <= o.max_domain_size && c.unique > 0 {
            // Values that are not UTF-8 by their exact bytes ("0x…").
            let mut d: Vec<String> = c.value_counts.iter().map(|v| v.label()).collect();
            d.sort();
            s.domain = Some(d);
        }
    }
    s
}

/// Read and check a schema file.
pub fn read_schema(path: &std::path::Path) -> Result<Schema> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_schema(path, &text)
}

/// Parse and check a schema's JSON text (`path` names it in errors).
pub fn parse_schema(path: &std::path::Path, text: &str) -> Result<Schema> {
    let bad = |detail: String| Error::BadSchema {
        path: path.into(),
        detail,
    };
    let s: Schema = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if s.format != SCHEMA_FORMAT {
        return Err(bad(format!(
            "\"format\" is {:?}, expected {SCHEMA_FORMAT:?}",
            s.format
        )));
    }
    if s.version != SCHEMA_VERSION {
        return Err(bad(format!(
            "version {} (this skewer reads version {SCHEMA_VERSION})",
            s.version
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in &s.features {
        if !seen.insert(&f.name) {
            return Err(bad(format!("feature {:?} is listed twice", f.name)));
        }
        for (what, c) in [
            ("drift_comparator", &f.drift_comparator),
            ("skew_comparator", &f.skew_comparator),
        ] {
            if let Some(c) = c {
                if !(c.alpha > 0.0 && c.alpha < 1.0) {
                    return Err(bad(format!(
                        "feature {:?}: {what}.alpha must be in (0, 1), got {}",
                        f.name, c.alpha
                    )));
                }
                for (m, v) in c.thresholds() {
                    if v.is_nan() || v < 0.0 {
                        return Err(bad(format!(
                            "feature {:?}: {what}.{} must be a number ≥ 0",
                            f.name, m.name
                        )));
                    }
                }
            }
        }
        if let Some(fr) = f.presence.min_fraction {
            if !(0.0..=1.0).contains(&fr) {
                return Err(bad(format!(
                    "feature {:?}: presence.min_fraction must be in [0, 1], got {fr}",
                    f.name
                )));
            }
        }
    }
    Ok(s)
}

/// Write a schema as pretty JSON, atomically.
pub fn write_schema(path: &std::path::Path, s: &Schema) -> Result<()> {
    crate::files::write_atomic(path, crate::to_json(s)?.as_bytes())
}
