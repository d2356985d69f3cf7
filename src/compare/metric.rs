//! The drift metrics, in one table.
//!
//! Every metric skewer reports is one row of [`METRICS`]: its name (in the
//! JSON of `compare`, and as a schema comparator's threshold key), the kinds
//! of feature it applies to, how it is computed, where its value, error
//! bound and critical value are kept, its anomaly type, its words for
//! reports, and whether it decides `compare`'s `drifted` flag. The
//! comparison, compare's `decide`, the schema's comparators and the reports
//! all read this table, so a new metric is a row here, a field in
//! [`Metrics`] (and in [`Bounds`] when it has a bound) and its formula.
//!
//! The table's order is the order of the schema's comparator thresholds and
//! of the comparator anomalies; the reports show the metrics that decide
//! `drifted` first (in [`Metric::drift`] order), then the others in table
//! order.

use super::distance;
use super::{Bounds, Critical, FeatureComparison, Metrics};

/// One `Option<f64>` field of [`Metrics`], [`Bounds`] or [`Critical`].
pub struct Field<T> {
    pub get: fn(&T) -> Option<f64>,
    pub slot: fn(&mut T) -> &mut Option<f64>,
}

// Not derived: a derive would ask `T: Copy`.
impl<T> Clone for Field<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Field<T> {}

/// `field!(linf)`: the field `linf` of the struct the context expects.
macro_rules! field {
    ($f:ident) => {
        Field {
            get: |s| s.$f,
            slot: |s| &mut s.$f,
        }
    };
}

/// How a metric's value is computed.
#[derive(Clone, Copy)]
pub enum Compute {
    /// The L-infinity argmax over the aligned counts, on the backend, with
    /// the category where it is reached and its critical value
    /// (`count_metrics` in compare/mod.rs).
    Argmax,
    /// From both sketches on their common grid of buckets, with an error
    /// bound (`ks_wasserstein` in compare/mod.rs).
    Grid,
    /// A sum of one term per category of the aligned counts: the
    /// categories with their "other" mass (categorical), or the metric bins
    /// plus NaN, −inf and +inf (numeric); its critical value is from the
    /// terms' null distribution ([`distance::additive_critical`]).
    Counts(distance::Additive),
}

/// A metric's error bound.
#[derive(Clone, Copy)]
pub enum Bound {
    /// Exact given the counts.
    None,
    /// Exact for numeric features; for categorical ones, off by at most
    /// `f(oa, ob)` when the sides' "other" masses (values beyond the
    /// profile's distinct-value cap) have shares `oa` and `ob`.
    Other(Field<Bounds>, fn(f64, f64) -> f64),
    /// Computed with the value on the grid ([`Compute::Grid`]): the true
    /// value is within the bound of it on either side.
    Grid(Field<Bounds>),
    /// Computed on the grid as a lower bound: the true value is between
    /// it and it plus the bound (KS: the supremum over the cell edges).
    Above(Field<Bounds>),
}

/// One drift metric.
#[derive(Clone, Copy)]
pub struct Metric {
    /// Its name in `metrics`, `bounds` and `critical`, and its threshold's
    /// key in a schema comparator.
    pub name: &'static str,
    /// Applies to numeric features.
    pub numeric: bool,
    /// Applies to categorical features.
    pub categorical: bool,
    pub compute: Compute,
    /// Where the value is kept.
    pub value: Field<Metrics>,
    pub bound: Bound,
    /// Where the critical value of its significance test is kept, for the
    /// metrics that have one: at or above the threshold counts only when
    /// at or above the critical value too.
    pub critical: Option<Field<Critical>>,
    /// The anomaly a schema comparator raises (TFDV's name where TFDV has
    /// the metric).
    pub anomaly: &'static str,
    /// What it is, in words, for anomaly descriptions.
    pub words: &'static str,
    /// `Some(rank)`: it decides `compare`'s `drifted` flag, with
    /// `--threshold` and its critical value; rank orders the reasons and
    /// the report's leading columns.
    pub drift: Option<u8>,
}

pub const LINF: Metric = Metric {
    name: "linf",
    numeric: true,
    categorical: true,
    compute: Compute::Argmax,
    value: field!(linf),
    // A value counted on one side may hide in the other's "other" mass.
    bound: Bound::Other(field!(linf), |oa, ob| oa.max(ob)),
    critical: Some(field!(linf)),
    anomaly: "COMPARATOR_L_INFTY_HIGH",
    words: "Linfty distance",
    drift: Some(1),
};

pub const KS: Metric = Metric {
    name: "ks",
    numeric: true,
    categorical: false,
    compute: Compute::Grid,
    value: field!(ks),
    bound: Bound::Above(field!(ks)),
    critical: Some(field!(ks)),
    anomaly: "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH",
    words: "Kolmogorov-Smirnov statistic",
    drift: Some(0),
};

pub const JSD: Metric = Metric {
    name: "jsd",
    numeric: true,
    categorical: true,
    compute: Compute::Counts(distance::JSD),
    value: field!(jsd),
    bound: Bound::Other(field!(jsd), |oa, ob| 0.5 * (oa + ob)),
    critical: Some(field!(jsd)),
    anomaly: "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH",
    words: "Jensen-Shannon divergence",
    drift: None,
};

pub const PSI: Metric = Metric {
    name: "psi",
    numeric: true,
    categorical: false,
    compute: Compute::Counts(distance::PSI),
    value: field!(psi),
    bound: Bound::None,
    critical: Some(field!(psi)),
    anomaly: "COMPARATOR_POPULATION_STABILITY_INDEX_HIGH",
    words: "population stability index",
    drift: None,
};

pub const WASSERSTEIN: Metric = Metric {
    name: "wasserstein",
    numeric: true,
    categorical: false,
    compute: Compute::Grid,
    value: field!(wasserstein),
    bound: Bound::Grid(field!(wasserstein)),
    critical: None,
    anomaly: "COMPARATOR_WASSERSTEIN_DISTANCE_HIGH",
    words: "normalized Wasserstein distance",
    drift: None,
};

pub const HELLINGER: Metric = Metric {
    name: "hellinger",
    numeric: true,
    categorical: true,
    compute: Compute::Counts(distance::HELLINGER),
    value: field!(hellinger),
    bound: Bound::Other(field!(hellinger), distance::hellinger_other_bound),
    critical: Some(field!(hellinger)),
    // TFDV has no Hellinger comparator: skewer's own name, in TFDV's style.
    anomaly: "COMPARATOR_HELLINGER_DISTANCE_HIGH",
    words: "Hellinger distance",
    drift: None,
};

/// Every metric, in the order of the schema's thresholds and anomalies.
pub const METRICS: &[Metric] = &[LINF, KS, JSD, PSI, WASSERSTEIN, HELLINGER];

impl Metric {
    /// Applies to numeric (`true`) or categorical (`false`) features.
    pub fn applies(&self, numeric: bool) -> bool {
        if numeric {
            self.numeric
        } else {
            self.categorical
        }
    }
    pub fn value_of(&self, fc: &FeatureComparison) -> Option<f64> {
        (self.value.get)(&fc.metrics)
    }
    pub fn bound_of(&self, fc: &FeatureComparison) -> Option<f64> {
        match self.bound {
            Bound::None => None,
            Bound::Other(f, _) | Bound::Grid(f) | Bound::Above(f) => (f.get)(&fc.bounds),
        }
    }
    /// The interval the true value lies in, from the value and its bound.
    pub fn interval_of(&self, fc: &FeatureComparison) -> Option<(f64, f64)> {
        let v = self.value_of(fc)?;
        let b = self.bound_of(fc).unwrap_or(0.0);
        Some(match self.bound {
            Bound::Above(_) => (v, v + b),
            _ => ((v - b).max(0.0), v + b),
        })
    }
    pub fn critical_of(&self, fc: &FeatureComparison) -> Option<f64> {
        self.critical.and_then(|f| (f.get)(&fc.critical))
    }
}

impl Metric {
    /// What settles an undecided verdict of this metric, in words.
    pub fn remedy(&self) -> &'static str {
        match self.bound {
            Bound::Other(..) => {
                "raise --unique-cap: the values beyond it were not counted, so no reading settles it"
            }
            _ => "give the data files rather than their profiles (skewer then reads the values it needs, unless --refine never), or profile with more --sketch-bits",
        }
    }
}

/// What an undecided interval straddles, in words: the larger of the
/// threshold and the critical value, where the verdict turns.
pub fn straddled(threshold: f64, critical: Option<f64>) -> String {
    match critical {
        Some(c) if c > threshold => format!("the critical value {c:.4}"),
        _ => format!("the threshold {threshold}"),
    }
}

/// The metric of this name.
pub fn by_name(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// The metrics that decide `compare`'s `drifted` flag, by rank.
pub fn drift_metrics() -> Vec<&'static Metric> {
    let mut v: Vec<&'static Metric> = METRICS.iter().filter(|m| m.drift.is_some()).collect();
    v.sort_by_key(|m| m.drift);
    v
}

/// The outcome of the drift rule for one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Below the threshold (or not a number).
    Below,
    /// At or above the threshold, but below the critical value: within what
    /// sampling noise gives at these sample sizes.
    NotSignificant { critical: f64 },
    /// At or above the threshold and, where the metric has a critical
    /// value, at or above it.
    High { critical: Option<f64> },
    /// The value's error bound straddles the threshold or the critical
    /// value: the true value is in `[low, high]`, and the rule gives
    /// different answers at the two ends.
    Undecided { low: f64, high: f64 },
}

impl Verdict {
    pub fn drifted(self) -> bool {
        matches!(self, Verdict::High { .. })
    }
}

/// The one drift rule, of `compare` and of the schema's comparators: a
/// value counts when it is at least the threshold and at least the critical
/// value, if there is one. The true value lies in `interval` (the value
/// itself where it is exact): the rule must give the same answer over all
/// of it, else the verdict is [`Verdict::Undecided`].
pub fn judge(value: f64, interval: (f64, f64), threshold: f64, critical: Option<f64>) -> Verdict {
    let (low, high) = interval;
    let at = |v: f64| judge_exact(v, threshold, critical);
    if at(low).drifted() != at(high).drifted() {
        return Verdict::Undecided { low, high };
    }
    at(value)
}

fn judge_exact(value: f64, threshold: f64, critical: Option<f64>) -> Verdict {
    // `value >= x`, false for NaN on either side.
    let at_least = |x: f64| value.partial_cmp(&x).is_some_and(|o| o.is_ge());
    if !at_least(threshold) {
        return Verdict::Below;
    }
    match critical {
        Some(c) if !at_least(c) => Verdict::NotSignificant { critical: c },
        _ => Verdict::High { critical },
    }
}

/// [`judge`] for one metric of a comparison.
pub fn judge_metric(m: &Metric, fc: &FeatureComparison, threshold: f64) -> Option<Verdict> {
    let v = m.value_of(fc)?;
    let interval = m.interval_of(fc).unwrap_or((v, v));
    Some(judge(v, interval, threshold, m.critical_of(fc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_consistent() {
        for (i, m) in METRICS.iter().enumerate() {
            assert!(m.numeric || m.categorical, "{}", m.name);
            for n in &METRICS[i + 1..] {
                assert_ne!(m.name, n.name);
                assert_ne!(m.anomaly, n.anomaly);
                assert!(m.drift.is_none() || m.drift != n.drift);
            }
            assert_eq!(by_name(m.name).map(|n| n.anomaly), Some(m.anomaly));
            assert!(m.anomaly.starts_with("COMPARATOR_") && m.anomaly.ends_with("_HIGH"));
            // Grid metrics are numeric only, and so are their bounds.
            if matches!(m.compute, Compute::Grid)
                || matches!(m.bound, Bound::Grid(_) | Bound::Above(_))
            {
                assert!(!m.categorical, "{}", m.name);
            }
            // Each field accessor reads and writes the same field.
            let mut fc = FeatureComparison::new("x", "numeric", (1, 1));
            *(m.value.slot)(&mut fc.metrics) = Some(0.25);
            assert_eq!(m.value_of(&fc), Some(0.25), "{}", m.name);
            if let Some(c) = m.critical {
                *(c.slot)(&mut fc.critical) = Some(0.5);
                assert_eq!(m.critical_of(&fc), Some(0.5), "{}", m.name);
            }
            if let Bound::Other(f, _) | Bound::Grid(f) | Bound::Above(f) = m.bound {
                *(f.slot)(&mut fc.bounds) = Some(0.125);
                assert_eq!(m.bound_of(&fc), Some(0.125), "{}", m.name);
            }
            let json = serde_json::to_value(&fc).unwrap();
            assert_eq!(json["metrics"][m.name], 0.25, "{}", m.name);
        }
        let names: Vec<&str> = drift_metrics().iter().map(|m| m.name).collect();
        assert_eq!(names, ["ks", "linf"]);
    }

    #[test]
    fn the_drift_rule() {
        use Verdict::*;
        let exact = |v: f64, t, c| judge(v, (v, v), t, c);
        assert_eq!(exact(0.02, 0.03, None), Below);
        assert_eq!(exact(0.03, 0.03, None), High { critical: None });
        assert_eq!(
            exact(0.05, 0.03, Some(0.06)),
            NotSignificant { critical: 0.06 }
        );
        assert_eq!(
            exact(0.06, 0.03, Some(0.06)),
            High {
                critical: Some(0.06)
            }
        );
        assert_eq!(exact(0.01, 0.03, Some(0.001)), Below);
        assert_eq!(exact(f64::NAN, 0.0, None), Below);
        // An interval across the threshold, or across the critical value,
        // is undecided; one on one side is decided.
        assert_eq!(
            judge(0.02, (0.02, 0.05), 0.03, None),
            Undecided {
                low: 0.02,
                high: 0.05
            }
        );
        assert_eq!(
            judge(0.04, (0.04, 0.07), 0.03, Some(0.06)),
            Undecided {
                low: 0.04,
                high: 0.07
            }
        );
        assert_eq!(judge(0.01, (0.01, 0.029), 0.03, None), Below);
        assert_eq!(
            judge(0.04, (0.035, 0.07), 0.03, Some(0.001)),
            High {
                critical: Some(0.001)
            }
        );
        // Below the threshold at one end, not significant at the other:
        // not drifted either way.
        assert_eq!(judge(0.02, (0.02, 0.04), 0.03, Some(0.05)), Below);
    }
}
