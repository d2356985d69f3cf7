//! Drift and skew: how far each feature's distribution moved between two
//! profiles (a base and a current one).
//!
//! Categorical features compare their value-count tables over the union of
//! values. Numeric features compare their mergeable sketches: both are
//! re-expressed on a common grid of sketch buckets, which is exact for both
//! sides because bucket edges are aligned powers of two (the coarser side's
//! buckets are unions of the finer side's). Nothing is assumed about how
//! values spread inside a bucket; where a metric depends on it, the result
//! comes with the largest error that spread could cause.
//!
//! The metrics are the rows of [`metric::METRICS`] (all in `metrics`, `null`
//! where undefined):
//! - `linf`: max |p − q| over categories (numeric: over the metric bins below
//!   plus NaN, −inf and +inf), with the category where it is reached;
//! - `jsd`: Jensen-Shannon divergence, log base 2, in [0, 1], over the same
//!   categories;
//! - `ks` (numeric): the Kolmogorov-Smirnov statistic sup |F_base − F_cur| over
//!   finite values, evaluated at every common bucket edge; `bounds.ks` is how
//!   much larger the true supremum can be inside the buckets;
//! - `psi` (numeric): population stability index over the metric bins;
//! - `wasserstein` (numeric): ∫|F_base − F_cur| dx over finite values, divided
//!   by the base's standard deviation (the current's when the base is
//!   constant); `bounds.wasserstein` is its error bound;
//! - `hellinger`: Hellinger distance √(1 − Σ √(p·q)), in [0, 1], over the
//!   categories of `linf`.
//!
//! The numeric *metric bins* are `bins` (default 10) groups of whole common
//! buckets of about equal pooled mass (the deciles of the two distributions
//! mixed with equal weight), so they are symmetric in the two sides and
//! their counts are exact.
//!
//! A feature is `drifted` when `ks` (numeric) or `linf` (both kinds) is at
//! least `threshold` (default 0.03: 3% of the probability mass moved) *and*
//! above the critical value of a test at level `alpha` (default 1e-4) for
//! the two sample sizes, so that two samples of one distribution are not
//! flagged however small they are ([`metric::judge`], the rule the schema's
//! comparators apply too). docs/compare.md explains the defaults.

pub mod distance;
pub mod metric;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::backend::{Backend, Placement};
use crate::error::{Error, Result};
use crate::profile::keys::Domain;
use crate::profile::sketch::KeySketch;
use crate::profile::{CategoricalStats, DatasetProfile, FeatureProfile, NumericStats, ValueCount};
use distance::{ks_critical, linf_critical, linf_value, share};
use metric::{judge, Bound, Compute, Verdict, METRICS};

/// Drift-test settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Least KS or L-infinity distance that counts as drift.
    pub threshold: f64,
    /// Significance level of the test that guards against sampling noise.
    pub alpha: f64,
    /// Metric bins of numeric features.
    pub bins: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            threshold: 0.03,
            alpha: 1e-4,
            bins: 10,
        }
    }
}

impl CompareOptions {
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold >= 0.0 && self.threshold <= 1.0) {
            return Err(Error::InvalidOption(format!(
                "threshold must be in [0, 1], got {}",
                self.threshold
            )));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::InvalidOption(format!(
                "alpha must be in (0, 1), got {}",
                self.alpha
            )));
        }
        if self.bins == 0 {
            return Err(Error::InvalidOption(
                "metric bins must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// The comparison of two datasets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub base: Side,
    pub current: Side,
    pub options: CompareOptions,
    /// Sorted by how far each feature moved, most first.
    pub features: Vec<FeatureComparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub sources: Vec<String>,
    pub num_rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureComparison {
    pub name: String,
    /// "numeric" or "categorical"; "type_changed", "only_in_base",
    /// "only_in_current" when the two sides cannot be compared.
    pub kind: String,
    /// Present values (list elements for list columns) on each side.
    pub base_count: u64,
    pub current_count: u64,
    pub metrics: Metrics,
    /// Largest error of a metric where the sketch limits it.
    pub bounds: Bounds,
    /// Where `linf` is reached: the value (categorical) or the bin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linf_at: Option<String>,
    /// The critical values of the significance test for these sample sizes.
    pub critical: Critical,
    pub drifted: bool,
    /// Why it is (or is not) drifted, in words.
    pub reason: String,
    /// Where the L-infinity argmax ran: "cpu" or "gpu".
    pub computed_on: String,
}

/// The value of each metric of [`metric::METRICS`] (which says which field
/// is whose).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub linf: Option<f64>,
    pub jsd: Option<f64>,
    pub ks: Option<f64>,
    pub psi: Option<f64>,
    pub wasserstein: Option<f64>,
    pub hellinger: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linf: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jsd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ks: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hellinger: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Critical {
    pub linf: Option<f64>,
    pub ks: Option<f64>,
}

impl FeatureComparison {
    /// No metrics yet, not drifted; `computed_on` is set by
    /// [`compare_feature`].
    fn new(name: &str, kind: &str, counts: (u64, u64)) -> Self {
        FeatureComparison {
            name: name.into(),
            kind: kind.into(),
            base_count: counts.0,
            current_count: counts.1,
            metrics: Metrics::default(),
            bounds: Bounds::default(),
            linf_at: None,
            critical: Critical::default(),
            drifted: false,
            reason: String::new(),
            computed_on: String::new(),
        }
    }

    /// Two sides that cannot be compared: drifted, with the reason.
    fn incomparable(name: &str, kind: &str, counts: (u64, u64), reason: String) -> Self {
        FeatureComparison {
            drifted: true,
            reason,
            computed_on: Placement::Cpu.label().into(),
            ..FeatureComparison::new(name, kind, counts)
        }
    }

    /// How far the feature moved, for sorting: the largest of the metrics
    /// that decide `drifted` (ks, linf), with features that cannot be
    /// compared first.
    pub fn movement(&self) -> f64 {
        if !matches!(self.kind.as_str(), "numeric" | "categorical") {
            return f64::INFINITY;
        }
        METRICS
            .iter()
            .filter(|m| m.drift.is_some())
            .fold(0.0, |x, m| x.max(m.value_of(self).unwrap_or(0.0)))
    }
}

/// Compare every feature of `base` with the same-named feature of `cur`.
pub fn compare(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<Comparison> {
    opts.validate()?;
    let by_name: BTreeMap<&str, &FeatureProfile> =
        cur.features.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut out = Vec::new();
    for fb in &base.features {
        let fc = by_name.get(fb.name.as_str());
        out.push(match fc {
            Some(fc) => compare_feature(fb, fc, opts, backend)?,
            None => unpaired(fb, "only_in_base", "missing from the current data"),
        });
    }
    let in_base: std::collections::BTreeSet<&str> =
        base.features.iter().map(|f| f.name.as_str()).collect();
    for fc in &cur.features {
        if !in_base.contains(fc.name.as_str()) {
            out.push(unpaired(fc, "only_in_current", "not in the base data"));
        }
    }
    out.sort_by(|a, b| {
        b.movement()
            .total_cmp(&a.movement())
            .then_with(|| a.name.cmp(&b.name))
    });
    let side = |p: &DatasetProfile| Side {
        sources: p.sources.clone(),
        num_rows: p.num_rows,
    };
    Ok(Comparison {
        base: side(base),
        current: side(cur),
        options: opts.clone(),
        features: out,
    })
}

fn unpaired(f: &FeatureProfile, kind: &str, why: &str) -> FeatureComparison {
    FeatureComparison {
        name: f.name.clone(),
        kind: kind.into(),
        base_count: if kind == "only_in_base" { f.count } else { 0 },
        current_count: if kind == "only_in_current" {
            f.count
        } else {
            0
        },
        metrics: Metrics::default(),
        bounds: Bounds::default(),
        linf_at: None,
        critical: Critical::default(),
        drifted: true,
        reason: format!("the column is {why}"),
        computed_on: Placement::Cpu.label().into(),
    }
}

/// Compare one feature of the base with the same feature of the current data.
pub fn compare_feature(
    fb: &FeatureProfile,
    fc: &FeatureProfile,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<FeatureComparison> {
    let changed = |detail: String| {
        FeatureComparison::incomparable(&fb.name, "type_changed", (fb.count, fc.count), detail)
    };
    let mut out = match (&fb.numeric, &fc.numeric, &fb.categorical, &fc.categorical) {
        (Some(a), Some(b), _, _) if a.domain == b.domain => numeric(&fb.name, a, b, opts, backend)?,
        (Some(a), Some(b), _, _) => {
            return Ok(changed(format!(
                "the type changed from {} ({:?}) to {} ({:?}): distributions are not compared",
                fb.type_name, a.domain, fc.type_name, b.domain
            )))
        }
        (_, _, Some(a), Some(b)) => categorical(&fb.name, a, b, opts, backend)?,
        _ => {
            return Ok(changed(format!(
                "the kind changed from {} ({:?}) to {} ({:?})",
                fb.type_name, fb.kind, fc.type_name, fc.kind
            )))
        }
    };
    out.computed_on = backend.linf_placement().label().into();
    Ok(out)
}

/// Counts of a union of categories, in a fixed order, with totals.
struct Aligned {
    labels: Vec<String>,
    a: Vec<u64>,
    b: Vec<u64>,
    p_total: u64,
    q_total: u64,
}

/// The metrics of the aligned counts ([`Compute::Argmax`] and
/// [`Compute::Counts`]): none when a side is empty.
fn count_metrics(
    fc: &mut FeatureComparison,
    al: &Aligned,
    numeric: bool,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<()> {
    if al.p_total == 0 || al.q_total == 0 {
        return Ok(());
    }
    let Some(i) = backend.linf_argmax(&al.a, &al.b, al.p_total, al.q_total)? else {
        return Ok(());
    };
    fc.metrics.linf = Some(linf_value(al.a[i], al.b[i], al.p_total, al.q_total));
    fc.linf_at = Some(al.labels[i].clone());
    let pooled = (al.a[i] + al.b[i]) as f64 / (al.p_total + al.q_total) as f64;
    fc.critical.linf = Some(linf_critical(
        opts.alpha,
        pooled,
        al.a.len(),
        al.p_total,
        al.q_total,
    ));
    for m in METRICS.iter().filter(|m| m.applies(numeric)) {
        if let Compute::Counts(f) = m.compute {
            *(m.value.slot)(&mut fc.metrics) = Some(f(&al.a, &al.b, al.p_total, al.q_total));
        }
    }
    Ok(())
}

fn categorical(
    name: &str,
    a: &CategoricalStats,
    b: &CategoricalStats,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<FeatureComparison> {
    // The union of values by their exact bytes, in byte order (the
    // tie-break of the argmax), each with its label for the report.
    let mut union: BTreeMap<Cow<[u8]>, (&ValueCount, u64, u64)> = BTreeMap::new();
    for (side, counts) in [(0, &a.value_counts), (1, &b.value_counts)] {
        for v in counts {
            // read_profile checked every value_hex.
            let bytes = v
                .bytes()
                .map_err(|e| Error::Internal(format!("feature {name:?}: {e}")))?;
            let e = union.entry(bytes).or_insert((v, 0, 0));
            if side == 0 {
                e.1 += v.count;
            } else {
                e.2 += v.count;
            }
        }
    }
    let mut al = Aligned {
        labels: Vec::with_capacity(union.len()),
        a: Vec::with_capacity(union.len()),
        b: Vec::with_capacity(union.len()),
        p_total: 0,
        q_total: 0,
    };
    for (v, x, y) in union.into_values() {
        al.labels.push(v.label());
        al.a.push(x);
        al.b.push(y);
    }
    al.p_total = al.a.iter().sum::<u64>() + a.other_count;
    al.q_total = al.b.iter().sum::<u64>() + b.other_count;
    let (oa, ob) = (
        share(a.other_count, al.p_total),
        share(b.other_count, al.q_total),
    );
    let mut fc = FeatureComparison::new(name, "categorical", (al.p_total, al.q_total));
    if oa > 0.0 || ob > 0.0 {
        // A value counted on one side may hide in the other's "other" mass.
        for m in METRICS.iter().filter(|m| m.categorical) {
            if let Bound::Other(field, f) = m.bound {
                *(field.slot)(&mut fc.bounds) = Some(f(oa, ob));
            }
        }
    }
    count_metrics(&mut fc, &al, false, opts, backend)?;
    decide(&mut fc, opts);
    Ok(fc)
}

/// Both sketches on one grid of buckets, ascending, only non-empty ones.
struct Grid {
    domain: Domain,
    /// (first value key, last value key, base count, current count).
    cells: Vec<(u64, u64, u64, u64)>,
}

fn grid(domain: Domain, sa: &KeySketch, sb: &KeySketch) -> Grid {
    let shift = sa.shift().max(sb.shift());
    let mut cells: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for (side, s) in [(0, sa), (1, sb)] {
        let d = shift - s.shift();
        for (i, &c) in s.counts().iter().enumerate() {
            if c > 0 {
                let e = cells.entry((s.origin() + i as u64) >> d).or_default();
                if side == 0 {
                    e.0 += c;
                } else {
                    e.1 += c;
                }
            }
        }
    }
    let kmin = [sa.min_key(), sb.min_key()].into_iter().flatten().min();
    let kmax = [sa.max_key(), sb.max_key()].into_iter().flatten().max();
    let map = sa.map();
    let cells = cells
        .into_iter()
        .map(|(j, (x, y))| {
            let lo = j << shift;
            let hi = lo | ((1u64 << shift) - 1);
            let (klo, khi) = (map.inv(lo).0, map.inv(hi).1);
            (
                klo.max(kmin.unwrap_or(0)),
                khi.min(kmax.unwrap_or(u64::MAX)),
                x,
                y,
            )
        })
        .collect();
    Grid { domain, cells }
}

fn numeric(
    name: &str,
    a: &NumericStats,
    b: &NumericStats,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<FeatureComparison> {
    let bad = |side: &str, e: String| {
        Error::Internal(format!("{name}: the {side} profile's sketch: {e}"))
    };
    let sa = KeySketch::from_stored(&a.sketch).map_err(|e| bad("base", e))?;
    let sb = KeySketch::from_stored(&b.sketch).map_err(|e| bad("current", e))?;
    let g = grid(a.domain, &sa, &sb);
    let (n, m) = (sa.total(), sb.total());
    let present = |s: &NumericStats| s.finite + s.nan + s.pos_inf + s.neg_inf;
    let mut fc = FeatureComparison::new(name, "numeric", (present(a), present(b)));
    if n > 0 && m > 0 {
        let (ks, ks_bound, w, w_bound) = ks_wasserstein(&g, n, m);
        fc.metrics.ks = Some(ks);
        fc.bounds.ks = Some(ks_bound);
        fc.critical.ks = Some(ks_critical(opts.alpha, n, m));
        let sd = [a.std_dev, b.std_dev]
            .into_iter()
            .flatten()
            .find(|&s| s > 0.0);
        match sd {
            Some(sd) => {
                fc.metrics.wasserstein = Some(w / sd);
                fc.bounds.wasserstein = Some(w_bound / sd);
            }
            None if w == 0.0 => {
                fc.metrics.wasserstein = Some(0.0);
                fc.bounds.wasserstein = Some(0.0);
            }
            None => {}
        }
    }
    // Metric bins (finite values) plus NaN, -inf and +inf.
    let mut al = metric_bins(&g, n, m, opts.bins);
    for (label, x, y) in [
        ("NaN", a.nan, b.nan),
        ("-inf", a.neg_inf, b.neg_inf),
        ("+inf", a.pos_inf, b.pos_inf),
    ] {
        if x > 0 || y > 0 {
            al.labels.push(label.into());
            al.a.push(x);
            al.b.push(y);
        }
    }
    al.p_total = al.a.iter().sum();
    al.q_total = al.b.iter().sum();
    count_metrics(&mut fc, &al, true, opts, backend)?;
    decide(&mut fc, opts);
    Ok(fc)
}

/// KS and unnormalized Wasserstein-1 over the grid, each with its bound.
fn ks_wasserstein(g: &Grid, n: u64, m: u64) -> (f64, f64, f64, f64) {
    let (mut ca, mut cb) = (0u64, 0u64);
    let (mut ks, mut ks_hi) = (0.0f64, 0.0f64);
    let (mut w, mut w_err) = (0.0f64, 0.0f64);
    let val = |k: u64| g.domain.to_f64(k);
    for (idx, &(klo, khi, x, y)) in g.cells.iter().enumerate() {
        let d_lo = share(ca, n) - share(cb, m);
        ca += x;
        cb += y;
        let d_hi = share(ca, n) - share(cb, m);
        let (p, q) = (share(x, n), share(y, m));
        ks = ks.max(d_hi.abs());
        // Inside the bucket, F_base − F_cur lies in [d_lo − q, d_lo + p].
        let (lo_d, hi_d) = if klo == khi {
            (d_lo.min(d_hi), d_lo.max(d_hi))
        } else {
            (d_lo - q, d_lo + p)
        };
        let upper = lo_d.abs().max(hi_d.abs());
        ks_hi = ks_hi.max(upper);
        // The bucket's own span: |D| unknown in [lower, upper]; estimate the
        // trapezoid of its ends.
        let width = val(khi) - val(klo);
        if width > 0.0 {
            let lower = if lo_d <= 0.0 && hi_d >= 0.0 {
                0.0
            } else {
                lo_d.abs().min(hi_d.abs())
            };
            let est = 0.5 * (d_lo.abs() + d_hi.abs());
            w += width * est;
            w_err += width * (upper - est).max(est - lower);
        }
        // From the bucket's end to the next bucket: D is exactly d_hi.
        if let Some(&(next_lo, ..)) = g.cells.get(idx + 1) {
            w += (val(next_lo) - val(khi)) * d_hi.abs();
        }
    }
    (ks, (ks_hi - ks).max(0.0), w, w_err)
}

/// Group grid cells into at most `bins` bins of about equal pooled mass.
fn metric_bins(g: &Grid, n: u64, m: u64, bins: usize) -> Aligned {
    let mut al = Aligned {
        labels: Vec::new(),
        a: Vec::new(),
        b: Vec::new(),
        p_total: 0,
        q_total: 0,
    };
    if g.cells.is_empty() {
        return al;
    }
    let pooled = |ca: u64, cb: u64| match (n, m) {
        (0, _) => share(cb, m),
        (_, 0) => share(ca, n),
        _ => 0.5 * (share(ca, n) + share(cb, m)),
    };
    let (mut ca, mut cb) = (0u64, 0u64);
    let (mut xa, mut xb, mut start) = (0u64, 0u64, g.cells[0].0);
    let mut next = 1usize;
    let last = g.cells.len() - 1;
    for (i, &(klo, khi, x, y)) in g.cells.iter().enumerate() {
        if xa == 0 && xb == 0 {
            start = klo;
        }
        xa += x;
        xb += y;
        ca += x;
        cb += y;
        let cum = pooled(ca, cb);
        if i == last || cum >= next as f64 / bins as f64 {
            al.labels.push(format!(
                "[{}, {}]",
                fmt_num(g.domain, start),
                fmt_num(g.domain, khi)
            ));
            al.a.push(xa);
            al.b.push(xb);
            xa = 0;
            xb = 0;
            while next < bins && cum >= next as f64 / bins as f64 {
                next += 1;
            }
        }
    }
    al
}

fn fmt_num(d: Domain, k: u64) -> String {
    match d.value(k) {
        crate::profile::keys::Num::Int(x) => x.to_string(),
        crate::profile::keys::Num::UInt(x) => x.to_string(),
        crate::profile::keys::Num::Float(x) => format!("{x}"),
    }
}

/// Set `drifted` and `reason` from the metrics that decide it
/// ([`metric::Metric::drift`]) and their critical values.
fn decide(fc: &mut FeatureComparison, opts: &CompareOptions) {
    let t = opts.threshold;
    let mut hits = Vec::new();
    let mut misses = Vec::new();
    let drivers = metric::drift_metrics();
    for m in &drivers {
        let Some(v) = m.value_of(fc) else {
            continue;
        };
        let name = m.name;
        match judge(v, t, m.critical_of(fc)) {
            Verdict::High {
                critical: Some(crit),
            } => hits.push(format!(
                "{name} {v:.4} ≥ threshold {t} and ≥ the critical value {crit:.4} at alpha {}",
                opts.alpha
            )),
            Verdict::High { critical: None } => {
                hits.push(format!("{name} {v:.4} ≥ threshold {t}"))
            }
            Verdict::NotSignificant { critical: crit } => misses.push(format!(
                "{name} {v:.4} ≥ {t} but below the critical value {crit:.4} for these sample sizes (not significant)"
            )),
            Verdict::Below => {}
        }
    }
    fc.drifted = !hits.is_empty();
    fc.reason = if fc.drifted {
        hits.join("; ")
    } else if !misses.is_empty() {
        misses.join("; ")
    } else if drivers.iter().all(|m| m.value_of(fc).is_none()) {
        if fc.base_count == 0 && fc.current_count == 0 {
            "no values on either side".into()
        } else {
            fc.drifted = true;
            format!(
                "no values on the {} side",
                if fc.base_count == 0 {
                    "base"
                } else {
                    "current"
                }
            )
        }
    } else {
        format!("below the threshold {t}")
    };
}
