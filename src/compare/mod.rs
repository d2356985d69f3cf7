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
//!   by a robust scale (the base's interquartile range, see [`Scale`]);
//!   `bounds.wasserstein` is its error bound, `wasserstein_raw` the
//!   undivided value;
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
//! above the critical value of a test for the two sample sizes, so that two
//! samples of one distribution are not flagged however small they are
//! ([`metric::judge`], the rule the schema's comparators apply too). The
//! tests that decide a feature share its level `alpha` (default 1e-4)
//! equally (Bonferroni), so a feature is flagged by noise with probability
//! at most `alpha`.
//!
//! No decision rests on an uncertain number: where a value's error bound
//! straddles the threshold or the critical value, [`refine`] reads the data
//! again and collects the values of the few grid cells that matter
//! ([`numeric`]); where the data cannot be read again (stored profiles,
//! `--refine never`, a categorical "other" mass) the feature is
//! `undecided`, with the interval. docs/compare.md explains the defaults.

pub mod concept;
pub mod distance;
pub mod label;
pub mod metric;
pub mod numeric;
pub mod target;
pub mod timeline;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::backend::{Backend, Placement};
use crate::engine::Progress;
use crate::error::{Error, Result};
use crate::profile::quantile::{Pass2Plan, Pass2State, NO_SLOT};
use crate::profile::{CategoricalStats, DatasetProfile, FeatureProfile, NumericStats, ValueCount};
use crate::source::Dataset;
use distance::{ks_critical, linf_critical, linf_value, share, Null};
use metric::{judge_metric, Bound, Compute, Metric, Verdict, KS, METRICS};
use numeric::{Pair, Want};

/// Drift-test settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Least KS or L-infinity distance that counts as drift.
    pub threshold: f64,
    /// Significance level of a feature's test against sampling noise,
    /// shared by the tests that decide it.
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

/// When compare reads the data again to make a metric certain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Refine {
    /// Where a decision depends on it: KS (or Wasserstein, for a schema's
    /// threshold) whose bound straddles the threshold or critical value,
    /// refined until exact.
    #[default]
    Auto,
    /// Every numeric feature's KS made exact (the same value as scipy's
    /// `ks_2samp`).
    Always,
    /// Never: uncertain decisions are reported as undecided.
    Never,
}

/// How refinement reads data again.
#[derive(Clone, Copy)]
pub struct RefineOptions<'a> {
    pub refine: Refine,
    /// Bytes one refinement pass may use for the values it collects (64
    /// per value); more passes if the cells to refine hold more.
    pub memory_budget: u64,
    pub progress: &'a dyn Progress,
}

/// The data behind the two profiles of a comparison, read again where a
/// decision needs the values inside sketch buckets.
pub struct Data<'a> {
    pub base: &'a Dataset,
    pub current: &'a Dataset,
    pub options: RefineOptions<'a>,
}

/// The comparison of two datasets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub base: Side,
    pub current: Side,
    pub options: CompareOptions,
    /// Sorted by how far each feature moved, most first.
    pub features: Vec<FeatureComparison>,
    /// Each slice against the same slice (where both profiles have slices
    /// by the same columns): the base's slices in their order, then those
    /// only in the current.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<SliceComparison>,
    /// Where both profiles are labelled by the same column (`--label`):
    /// how the label's distribution moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_shift: Option<concept::LabelShift>,
}

/// One slice's comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceComparison {
    pub slice: BTreeMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    /// The slice's rows on each side (null: the side has no such slice).
    pub base_rows: Option<u64>,
    pub current_rows: Option<u64>,
    /// As [`Comparison::features`]; empty where one side lacks the slice.
    pub features: Vec<FeatureComparison>,
}

impl Comparison {
    /// Whether a feature drifted (or its concept shifted), in the whole or
    /// in a slice, or the label shifted.
    pub fn drifted(&self) -> bool {
        self.all_features()
            .any(|f| f.drifted || f.concept.as_ref().is_some_and(|c| c.drifted))
            || self.label_shift.as_ref().is_some_and(|l| l.drifted)
    }

    /// Whether a decision was left open, in the whole or in a slice.
    pub fn undecided(&self) -> bool {
        self.all_features().any(|f| !f.undecided.is_empty())
    }

    fn all_features(&self) -> impl Iterator<Item = &FeatureComparison> {
        self.features
            .iter()
            .chain(self.slices.iter().flat_map(|s| &s.features))
    }
}

/// Each slice of `base` against the same slice of `cur`, from the
/// profiles alone (no slice is read again). Empty unless both have slices
/// by the same columns.
pub fn compare_slices(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<Vec<SliceComparison>> {
    let (Some(b0), Some(c0)) = (base.slices.first(), cur.slices.first()) else {
        return Ok(Vec::new());
    };
    let keys = |s: &crate::profile::SliceProfile| s.slice.keys().cloned().collect::<Vec<_>>();
    if keys(b0) != keys(c0) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for b in &base.slices {
        let c = cur.find_slice(b);
        let features = match c {
            Some(c) => compare(&base.slice(b), &cur.slice(c), opts, backend)?.features,
            None => Vec::new(),
        };
        out.push(SliceComparison {
            slice: b.slice.clone(),
            other: b.other,
            base_rows: Some(b.num_rows),
            current_rows: c.map(|c| c.num_rows),
            features,
        });
    }
    for c in cur.slices.iter().filter(|c| base.find_slice(c).is_none()) {
        out.push(SliceComparison {
            slice: c.slice.clone(),
            other: c.other,
            base_rows: None,
            current_rows: Some(c.num_rows),
            features: Vec::new(),
        });
    }
    Ok(out)
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
    /// The critical values of the significance tests for these sample
    /// sizes, each at the feature's level shared by its deciding tests.
    pub critical: Critical,
    /// The Wasserstein distance before division by the scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasserstein_raw: Option<f64>,
    /// What `wasserstein` is divided by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasserstein_scale: Option<Scale>,
    /// Values read again from the data to refine the metrics (both sides).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refined_values: u64,
    pub drifted: bool,
    /// The deciding metrics whose decision the error bounds leave open
    /// where the data could not be read again (stored profiles, `--refine
    /// never`, a categorical "other" mass): metric → the interval of its
    /// true value. Empty when `drifted`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub undecided: BTreeMap<String, [f64; 2]>,
    /// Why it is (or is not) drifted, in words.
    pub reason: String,
    /// Where both profiles are labelled by the same column: how P(label |
    /// this feature) moved (concept shift), apart from `drifted` (how the
    /// feature's own distribution moved: covariate shift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<concept::Concept>,
    /// Where the L-infinity argmax ran: "cpu" or "gpu".
    pub computed_on: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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
    #[serde(default)]
    pub jsd: Option<f64>,
    #[serde(default)]
    pub psi: Option<f64>,
    #[serde(default)]
    pub hellinger: Option<f64>,
}

/// The scale Wasserstein is divided by: a robust spread, so that a few
/// outliers on both sides cannot inflate it (dividing by the standard
/// deviation, five values of 1e12 among 20,000 made a clear shift of the
/// bulk 8e-13). The first of these that is positive: the base's
/// interquartile range (`base_iqr`), its 5th–95th percentile span
/// (`base_p05_p95`), its range (`base_range`), then the same three of the
/// current side. Read from the sketches (the quantile estimates of a
/// one-pass profile, within a sketch bucket of the exact ones), so a
/// comparison of data files and one of their stored profiles divide by
/// the same number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub by: String,
    pub value: f64,
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
            wasserstein_raw: None,
            wasserstein_scale: None,
            refined_values: 0,
            drifted: false,
            undecided: BTreeMap::new(),
            reason: String::new(),
            concept: None,
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

    /// Numeric or categorical: the two sides were compared.
    pub fn compared(&self) -> bool {
        matches!(self.kind.as_str(), "numeric" | "categorical")
    }

    /// How far the feature moved, for sorting: the largest of the metrics
    /// that decide `drifted` (ks, linf), with features that cannot be
    /// compared first.
    pub fn movement(&self) -> f64 {
        if !self.compared() {
            return f64::INFINITY;
        }
        METRICS
            .iter()
            .filter(|m| m.drift.is_some())
            .fold(0.0, |x, m| x.max(m.value_of(self).unwrap_or(0.0)))
    }
}

/// One feature's comparison before its decision, with what refining it
/// needs.
pub struct Compared {
    pub fc: FeatureComparison,
    pair: Option<Pair>,
}

/// Compare every feature of `base` with the same-named feature of `cur`,
/// from the profiles alone: decisions their bounds leave open are
/// `undecided`.
pub fn compare(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<Comparison> {
    compare_data(base, cur, opts, backend, None)
}

/// [`compare`], reading `data` (the data the two profiles were made of)
/// again where a decision needs it.
pub fn compare_data(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    opts: &CompareOptions,
    backend: &Backend,
    data: Option<&Data>,
) -> Result<Comparison> {
    opts.validate()?;
    let deciders = metric::drift_metrics();
    let by_name: BTreeMap<&str, &FeatureProfile> =
        cur.features.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut items = Vec::new();
    for fb in &base.features {
        items.push(match by_name.get(fb.name.as_str()) {
            Some(fc) => compare_feature(fb, fc, opts, backend, &deciders)?,
            None => unpaired(fb, "only_in_base", "missing from the current data"),
        });
    }
    let in_base: std::collections::BTreeSet<&str> =
        base.features.iter().map(|f| f.name.as_str()).collect();
    for fc in &cur.features {
        if !in_base.contains(fc.name.as_str()) {
            items.push(unpaired(fc, "only_in_current", "not in the base data"));
        }
    }
    if let Some(d) = data {
        let decide_by: Vec<(&Metric, f64)> =
            deciders.iter().map(|&m| (m, opts.threshold)).collect();
        refine(&mut items, d, backend, &|fc| {
            // A feature another test flags is decided: reading it again
            // would not change that (unless every KS is to be exact).
            let flagged = decide_by.iter().any(|&(m, t)| {
                m.name != KS.name && judge_metric(m, fc, t).is_some_and(Verdict::drifted)
            });
            match d.options.refine {
                Refine::Auto if flagged => Want::default(),
                policy => wanted(fc, &decide_by, policy),
            }
        })?;
    }
    let mut out: Vec<FeatureComparison> = items
        .into_iter()
        .map(|mut c| {
            if c.fc.compared() {
                decide(&mut c.fc, opts);
            }
            c.fc
        })
        .collect();
    out.sort_by(|a, b| {
        b.movement()
            .total_cmp(&a.movement())
            .then_with(|| a.name.cmp(&b.name))
    });
    let side = |p: &DatasetProfile| Side {
        sources: p.sources.clone(),
        num_rows: p.num_rows,
    };
    // A labelled profile's slices are the label's classes: they give each
    // feature's concept shift, and are not compared as slices.
    let label = concept::shared_label(base, cur);
    let numbers = label.is_some() && target::of_numbers(base) && target::of_numbers(cur);
    for f in out.iter_mut().filter(|_| label.is_some()) {
        f.concept = match numbers {
            true => target::concept(base, cur, &f.name, opts),
            false => concept::concept(base, cur, &f.name, opts),
        };
    }
    let label_shift = match numbers {
        true => out
            .iter()
            .find(|f| Some(f.name.as_str()) == label && f.kind == "numeric")
            .and_then(|f| target::label_shift(base, cur, f, opts)),
        false => concept::label_shift(base, cur, opts),
    };
    let labelled = label.is_some();
    Ok(Comparison {
        base: side(base),
        current: side(cur),
        options: opts.clone(),
        features: out,
        slices: match labelled {
            true => Vec::new(),
            false => compare_slices(base, cur, opts, backend)?,
        },
        label_shift,
    })
}

fn unpaired(f: &FeatureProfile, kind: &str, why: &str) -> Compared {
    let base = kind == "only_in_base";
    let counts = if base { (f.count, 0) } else { (0, f.count) };
    Compared {
        fc: FeatureComparison::incomparable(&f.name, kind, counts, format!("the column is {why}")),
        pair: None,
    }
}

/// Compare one feature of the base with the same feature of the current
/// data, before any decision. `deciders` are the metrics whose tests decide
/// (for `compare`, KS and L-infinity; for a schema comparator, those it has
/// thresholds for): every critical value is at `alpha` divided by how many
/// of them apply to the feature's kind.
pub fn compare_feature(
    fb: &FeatureProfile,
    fc: &FeatureProfile,
    opts: &CompareOptions,
    backend: &Backend,
    deciders: &[&Metric],
) -> Result<Compared> {
    let changed = |detail: String| Compared {
        fc: FeatureComparison::incomparable(&fb.name, "type_changed", (fb.count, fc.count), detail),
        pair: None,
    };
    let tests = |numeric: bool| {
        deciders
            .iter()
            .filter(|m| m.applies(numeric) && m.critical.is_some())
            .count()
            .max(1)
    };
    let mut out = match (&fb.numeric, &fc.numeric, &fb.categorical, &fc.categorical) {
        (Some(a), Some(b), _, _) if a.domain == b.domain => numeric(
            &fb.name,
            a,
            b,
            opts.alpha / tests(true) as f64,
            opts.bins,
            backend,
        )?,
        (Some(a), Some(b), _, _) => {
            return Ok(changed(format!(
                "the type changed from {} ({:?}) to {} ({:?}): distributions are not compared",
                fb.type_name, a.domain, fc.type_name, b.domain
            )))
        }
        (_, _, Some(a), Some(b)) => Compared {
            fc: categorical(&fb.name, a, b, opts.alpha / tests(false) as f64, backend)?,
            pair: None,
        },
        _ => {
            return Ok(changed(format!(
                "the kind changed from {} ({:?}) to {} ({:?})",
                fb.type_name, fb.kind, fc.type_name, fc.kind
            )))
        }
    };
    out.fc.computed_on = backend.linf_placement().label().into();
    // A date or timestamp column's bins are named by dates.
    if let (Some(t), Some(at)) = (
        crate::profile::time::Time::of(&fc.type_name),
        &out.fc.linf_at,
    ) {
        out.fc.linf_at = Some(t.bin_label(at));
    }
    Ok(out)
}

/// Counts of a union of categories, in a fixed order, with totals.
#[derive(Default)]
pub(crate) struct Aligned {
    labels: Vec<String>,
    a: Vec<u64>,
    b: Vec<u64>,
    p_total: u64,
    q_total: u64,
}

/// The metrics of the aligned counts ([`Compute::Argmax`] and
/// [`Compute::Counts`]) with their critical values at level `alpha`: none
/// when a side is empty.
fn count_metrics(
    fc: &mut FeatureComparison,
    al: &Aligned,
    numeric: bool,
    alpha: f64,
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
        alpha,
        pooled,
        al.a.len(),
        al.p_total,
        al.q_total,
    ));
    let null = Null::new(&al.a, &al.b, al.p_total, al.q_total);
    for m in METRICS.iter().filter(|m| m.applies(numeric)) {
        if let Compute::Counts(f) = m.compute {
            *(m.value.slot)(&mut fc.metrics) = Some(f.of(&al.a, &al.b, al.p_total, al.q_total));
            if let (Some(c), Some(null)) = (m.critical, &null) {
                *(c.slot)(&mut fc.critical) = Some(null.critical(&f, alpha));
            }
        }
    }
    Ok(())
}

fn categorical(
    name: &str,
    a: &CategoricalStats,
    b: &CategoricalStats,
    alpha: f64,
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
    let mut al = Aligned::default();
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
    count_metrics(&mut fc, &al, false, alpha, backend)?;
    Ok(fc)
}

fn numeric(
    name: &str,
    a: &NumericStats,
    b: &NumericStats,
    alpha: f64,
    bins: usize,
    backend: &Backend,
) -> Result<Compared> {
    let pair = Pair::new(name, a, b)?;
    let present = |s: &NumericStats| s.finite + s.nan + s.pos_inf + s.neg_inf;
    let mut fc = FeatureComparison::new(name, "numeric", (present(a), present(b)));
    if pair.n > 0 && pair.m > 0 {
        fc.critical.ks = Some(ks_critical(alpha, pair.n, pair.m));
        fc.wasserstein_scale = pair.scale();
        grid_metrics(&mut fc, &pair);
    }
    // Metric bins (finite values) plus NaN, -inf and +inf.
    let mut al = pair.metric_bins(bins);
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
    count_metrics(&mut fc, &al, true, alpha, backend)?;
    Ok(Compared {
        fc,
        pair: Some(pair),
    })
}

/// KS and Wasserstein (divided by the scale) with their bounds, from the
/// grid and what refinement collected.
fn grid_metrics(fc: &mut FeatureComparison, pair: &Pair) {
    let gm = pair.metrics();
    fc.metrics.ks = Some(gm.ks);
    fc.bounds.ks = Some(gm.ks_hi - gm.ks);
    fc.wasserstein_raw = Some(gm.w);
    match &fc.wasserstein_scale {
        Some(s) => {
            fc.metrics.wasserstein = Some(gm.w / s.value);
            fc.bounds.wasserstein = Some(gm.w_err / s.value);
        }
        // Both sides constant: only equal constants have a defined 0.
        None if gm.w == 0.0 && gm.w_err == 0.0 => {
            fc.metrics.wasserstein = Some(0.0);
            fc.bounds.wasserstein = Some(0.0);
        }
        None => {}
    }
    fc.refined_values = pair.refined_values();
}

/// What refinement should make certain for a feature decided by
/// `thresholds` (metric, threshold): under [`Refine::Auto`] the metrics
/// whose verdict is undecided (for KS, the cells that could reach its
/// boundary: once they are all refined, a KS at or above the boundary is
/// exact, since no other cell can exceed it); under [`Refine::Always`] KS
/// wherever it is not exact.
pub fn wanted(fc: &FeatureComparison, thresholds: &[(&Metric, f64)], policy: Refine) -> Want {
    let verdict = |name: &str| {
        thresholds
            .iter()
            .find(|(m, _)| m.name == name)
            .and_then(|&(m, t)| judge_metric(m, fc, t))
    };
    let open = |name: &str| matches!(verdict(name), Some(Verdict::Undecided { .. }));
    let inexact = fc.bounds.ks.is_some_and(|b| b > 0.0);
    let wasserstein = open(metric::WASSERSTEIN.name);
    // Where KS's verdict turns: at its threshold and its critical value.
    let boundary = thresholds
        .iter()
        .find(|(m, _)| m.name == KS.name)
        .map(|&(m, t)| t.max(m.critical_of(fc).unwrap_or(t)));
    let exact = Some(0.0);
    let ks = match policy {
        Refine::Never => None,
        Refine::Always => exact.filter(|_| inexact),
        // Undecided; or at or above the boundary after a round that did not
        // reach every cell that could (a round is bounded by memory): the
        // rest, so that the KS that decides is exact.
        Refine::Auto => boundary.filter(|_| {
            open(KS.name)
                || (inexact
                    && fc.refined_values > 0
                    && verdict(KS.name).is_some_and(Verdict::drifted))
        }),
    };
    match policy {
        Refine::Never => Want::default(),
        _ => Want { ks, wasserstein },
    }
}

/// Read the data again for the features whose `want` names a metric to
/// make certain, collecting the values of the grid cells that could change
/// it, until `want` names none: each round reads each side once, for all
/// such features, within `data.memory_budget`.
pub fn refine(
    items: &mut [Compared],
    data: &Data,
    backend: &Backend,
    want: &dyn Fn(&FeatureComparison) -> Want,
) -> Result<()> {
    let how = data.options;
    if how.refine == Refine::Never {
        return Ok(());
    }
    // Each value collected costs up to about 64 bytes on the way (its run
    // in the collected keys, the merge of two work items' runs, the sorted
    // copy and the merged (key, base, current) list).
    let max_values = (how.memory_budget / 64).max(1);
    for pass in 2.. {
        // The cells of this round, per feature, most uncertain first.
        let mut round: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut taken = 0u64;
        for (i, item) in items.iter().enumerate() {
            let Some(pair) = &item.pair else { continue };
            let w = want(&item.fc);
            if !w.any() || taken >= max_values {
                continue;
            }
            let mut cells = Vec::new();
            for (cell, count) in pair.open_cells(w, &pair.metrics()) {
                let full = taken > 0 && taken + count > max_values;
                if full || cells.len() >= NO_SLOT as usize - 1 {
                    break;
                }
                taken += count;
                cells.push(cell);
            }
            if !cells.is_empty() {
                round.push((i, cells));
            }
        }
        if round.is_empty() {
            return Ok(());
        }
        let mut got: [Vec<Option<Pass2State>>; 2] = [Vec::new(), Vec::new()];
        for (side, ds) in [data.base, data.current].into_iter().enumerate() {
            let plans: Vec<Option<Pass2Plan>> = round
                .iter()
                .map(|(i, cells)| items[*i].pair.as_ref().and_then(|p| p.plan(side, cells)))
                .collect();
            let cols: Vec<(&str, &Pass2Plan)> = round
                .iter()
                .zip(&plans)
                .filter_map(|((i, _), p)| p.as_ref().map(|p| (items[*i].fc.name.as_str(), p)))
                .collect();
            let mut states = if cols.is_empty() {
                Vec::new()
            } else {
                crate::engine::collect_keys(ds, &cols, backend, how.progress, pass)?
            }
            .into_iter();
            got[side] = plans
                .iter()
                .map(|p| p.as_ref().and_then(|_| states.next()))
                .collect();
        }
        for (r, (i, cells)) in round.iter().enumerate() {
            let item = &mut items[*i];
            let Some(pair) = item.pair.as_mut() else {
                continue;
            };
            pair.absorb(cells, [got[0][r].as_ref(), got[1][r].as_ref()]);
            grid_metrics(&mut item.fc, pair);
        }
    }
    Ok(())
}

/// Set `drifted`, `undecided` and `reason` from the metrics that decide it
/// ([`metric::Metric::drift`]) and their critical values.
fn decide(fc: &mut FeatureComparison, opts: &CompareOptions) {
    let t = opts.threshold;
    let (mut hits, mut misses, mut open) = (Vec::new(), Vec::new(), Vec::new());
    let mut undecided = BTreeMap::new();
    let drivers = metric::drift_metrics();
    for m in &drivers {
        let Some(verdict) = judge_metric(m, fc, t) else {
            continue;
        };
        let name = m.name;
        let v = m.value_of(fc).unwrap_or(f64::NAN);
        match verdict {
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
            Verdict::Undecided { low, high } => {
                undecided.insert(name.to_string(), [low, high]);
                open.push(format!(
                    "{name} is between {low:.4} and {high:.4}, across {}: {}",
                    metric::straddled(t, m.critical_of(fc)),
                    m.remedy()
                ));
            }
            Verdict::Below => {}
        }
    }
    fc.drifted = !hits.is_empty();
    if !fc.drifted {
        fc.undecided = undecided;
    }
    fc.reason = if fc.drifted {
        hits.join("; ")
    } else if !open.is_empty() {
        format!("undecided: {}", open.join("; "))
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
