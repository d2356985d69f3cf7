//! A label of numbers (`--label` of a float or decimal column): each
//! feature's label means per bin, and between two profiles how the mean
//! of the label in each bin of the feature moved (concept shift) and how
//! the label itself moved (label shift).
//!
//! A feature's bins are drawn as for a label of classes ([`super::concept`]):
//! whole cells of the sides' sketches on their common grid, grouped into
//! bins of about equal pooled mass (numeric features); the most shared
//! values and "__other__" (categorical ones); and "__missing__". Each
//! side's [`LabelMeans`] hold the label's count, mean and sum of squares
//! per cell, which add up exactly into any coarser cell.
//!
//! Concept shift in a bin is the difference of the label's means between
//! the two sides, standardized to one mix of the bin's cells (each cell's
//! difference of means, weighted by the smaller of the two sides' shares
//! of the bin in it), so that x moving inside a bin where E[y | x] slopes
//! does not pass for a concept shift. The value is the mass-weighted mean
//! of the bins' absolute differences divided by the label's standard
//! deviation (both sides pooled): a standardized mean difference. The
//! test: in each bin, the difference over its standard error (from the
//! pooled variance of y within the bin's cells) is normal under the null;
//! the squares add up over the bins into a χ² with one degree of freedom
//! per bin.

use hashbrown::HashMap;

use super::concept::{key, spans, top_values, weighed, Concept, Key, LabelShift, MISSING};
use super::numeric::Grid;
use super::{CompareOptions, FeatureComparison};
use crate::profile::sketch::KeySketch;
use crate::profile::{DatasetProfile, FeatureProfile, Kind, LabelMoments, MeanBin};

/// Whether `p` is labelled by a column of numbers (floats or decimals),
/// not of classes: its label is such a feature, or (where `--columns`
/// left the label out) a feature has label means.
pub fn of_numbers(p: &DatasetProfile) -> bool {
    let Some(l) = &p.label else { return false };
    let f = p.features.iter().find(|f| &f.name == l);
    f.and_then(|f| f.numeric.as_ref())
        .is_some_and(|n| n.domain == crate::profile::keys::Domain::Float)
        || p.features.iter().any(|f| f.label_means.is_some())
}

/// One feature's bins across some profiles (sides).
struct Joint {
    bins: Vec<String>,
    /// The finest parts of the bins, in bin order: the grid's cells
    /// (numeric features), else the bins themselves.
    cells: Vec<Cell>,
}

/// The label in a part of a bin, per side.
struct Cell {
    bin: usize,
    sides: Vec<LabelMoments>,
}

impl Joint {
    /// The label in each bin on one side.
    fn bin_moments(&self, side: usize) -> Vec<LabelMoments> {
        let mut out = vec![LabelMoments::default(); self.bins.len()];
        for c in &self.cells {
            out[c.bin].merge(&c.sides[side]);
        }
        out
    }
}

/// Feature `name`'s bins over `sides` (at most `bins` for its values),
/// or None where a side is not labelled by the same column of numbers,
/// the feature is the label, or a side has no means for it.
fn joint(name: &str, sides: &[&DatasetProfile], bins: usize) -> Option<Joint> {
    let col = sides.first()?.label.as_deref()?;
    if name == col
        || sides
            .iter()
            .any(|p| p.label.as_deref() != Some(col) || !of_numbers(p))
    {
        return None;
    }
    let feats: Vec<&FeatureProfile> = sides
        .iter()
        .map(|p| p.features.iter().find(|f| f.name == name))
        .collect::<Option<_>>()?;
    let kind = feats[0].kind;
    if feats
        .iter()
        .any(|f| f.kind != kind || f.label_means.is_none())
    {
        return None;
    }
    let n = sides.len();
    let (mut labels, mut cells) = match kind {
        Kind::Numeric => numeric_bins(&feats, bins)?,
        Kind::Categorical => categorical_bins(&feats, bins),
    };
    if let Some(t) = crate::profile::time::Time::of(&feats[0].type_name) {
        labels = labels.iter().map(|l| t.bin_label(l)).collect();
    }
    let missing: Vec<LabelMoments> = feats
        .iter()
        .filter_map(|f| f.label_means.as_ref().map(|m| m.missing))
        .collect();
    if missing.iter().any(|m| m.count > 0) {
        cells.push(Cell {
            bin: labels.len(),
            sides: missing,
        });
        labels.push(MISSING.into());
    }
    debug_assert!(cells.iter().all(|c| c.sides.len() == n));
    Some(Joint {
        bins: labels,
        cells,
    })
}

type Bins = (Vec<String>, Vec<Cell>);

/// Numeric bins: the sides' sketches on one grid, whole cells grouped into
/// `bins` bins of about equal mass, and each side's cells of the label
/// added into the grid's.
fn numeric_bins(feats: &[&FeatureProfile], bins: usize) -> Option<Bins> {
    let mut sketches = Vec::new();
    let domain = feats[0].numeric.as_ref()?.domain;
    for f in feats {
        let n = f.numeric.as_ref()?;
        if n.domain != domain {
            return None;
        }
        sketches.push(KeySketch::from_stored(&n.sketch).ok()?);
    }
    let grid = Grid::new(&sketches.iter().collect::<Vec<_>>()).ok()?;
    let nsides = feats.len();
    let side_of: Vec<usize> = (0..nsides).collect();
    let (spans, labels) = spans(&grid, &side_of, nsides, bins, Some(domain));
    let mut cells: Vec<Cell> = Vec::with_capacity(grid.cells.len());
    for (b, &(first, last)) in spans.iter().enumerate() {
        cells.extend((first..=last).map(|_| Cell {
            bin: b,
            sides: vec![LabelMoments::default(); nsides],
        }));
    }
    let at: HashMap<u64, usize> = grid
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| (c.j, i))
        .collect();
    for (side, f) in feats.iter().enumerate() {
        let m = f.label_means.as_ref()?;
        let d = grid.shift.checked_sub(m.shift?)?;
        for c in &m.cells {
            // A cell the sketch has no values in: the profile is not of
            // one dataset (its sketch and means disagree).
            let i = *at.get(&(c.cell >> d))?;
            cells[i].sides[side].merge(&c.label);
        }
    }
    Some((labels, cells))
}

/// Categorical bins: the most shared values, then "__other__" where any
/// side has rows with a label outside them.
fn categorical_bins(feats: &[&FeatureProfile], bins: usize) -> Bins {
    let top = top_values(feats, bins);
    let at: HashMap<Key, usize> = top.iter().enumerate().map(|(i, v)| (key(v), i)).collect();
    let mut labels: Vec<String> = top.iter().map(|v| v.label()).collect();
    let nsides = feats.len();
    let mut cells: Vec<Cell> = (0..=top.len())
        .map(|b| Cell {
            bin: b,
            sides: vec![LabelMoments::default(); nsides],
        })
        .collect();
    for (side, f) in feats.iter().enumerate() {
        let Some(m) = &f.label_means else { continue };
        for v in &m.values {
            let b = at
                .get(&(v.value.as_str(), v.value_hex.as_deref()))
                .copied()
                .unwrap_or(top.len());
            cells[b].sides[side].merge(&v.label);
        }
        cells[top.len()].sides[side].merge(&m.other);
    }
    if cells[top.len()].sides.iter().any(|m| m.count > 0) {
        labels.push(crate::engine::groups::OTHER.into());
    } else {
        cells.pop();
    }
    (labels, cells)
}

/// Give every feature of `p` (labelled by numbers, with its means) its
/// readers' bins: the label's count, mean and standard deviation in
/// `quantile_bins` bins.
pub fn attach_bins(p: &mut DatasetProfile) {
    let bins: Vec<Option<Vec<MeanBin>>> = p
        .features
        .iter()
        .map(|f| {
            let j = joint(&f.name, &[p], p.options.quantile_bins)?;
            let moments = j.bin_moments(0);
            Some(
                j.bins
                    .into_iter()
                    .zip(moments)
                    .map(|(bin, m)| MeanBin {
                        bin,
                        count: m.count,
                        mean: (m.count > 0).then_some(m.mean),
                        std_dev: m.variance().map(f64::sqrt),
                    })
                    .collect(),
            )
        })
        .collect();
    for (f, b) in p.features.iter_mut().zip(bins) {
        if let (Some(m), Some(b)) = (f.label_means.as_mut(), b) {
            m.bins = b;
        }
    }
}

/// What the report draws of a feature: its bins and the label's mean in
/// each, in the current profile and in the base (standardized as for
/// [`concept`] where a bin has rows on both sides; None where a side has
/// none).
pub struct Means {
    pub bins: Vec<String>,
    pub current: Vec<Option<f64>>,
    pub base: Vec<Option<f64>>,
}

/// [`Means`] of feature `name` in profile `cur` labelled by numbers (on
/// its `quantile_bins` bins), or against `base` (on `bins` bins, as
/// compare draws them).
pub fn means(
    cur: &DatasetProfile,
    base: Option<&DatasetProfile>,
    name: &str,
    bins: usize,
) -> Option<Means> {
    let raw = |m: &LabelMoments| (m.count > 0).then_some(m.mean);
    let Some(base) = base else {
        let j = joint(name, &[cur], cur.options.quantile_bins)?;
        let current = j.bin_moments(0).iter().map(raw).collect();
        return Some(Means {
            base: vec![None; j.bins.len()],
            current,
            bins: j.bins,
        });
    };
    let j = joint(name, &[base, cur], bins)?;
    let m = moved(&j);
    let (mut b, mut c) = (Vec::new(), Vec::new());
    for (i, (x, y)) in j.bin_moments(0).iter().zip(&j.bin_moments(1)).enumerate() {
        match m.mixes[i] {
            Some([sb, sc]) => {
                b.push(Some(sb));
                c.push(Some(sc));
            }
            None => {
                b.push(raw(x));
                c.push(raw(y));
            }
        }
    }
    Some(Means {
        bins: j.bins,
        current: c,
        base: b,
    })
}

/// How far the label's mean moved in each bin, standardized to one mix of
/// the bin's cells, and the test that it did not.
struct Moved {
    /// Per bin: the difference of means (current less base), where some
    /// cell of the bin has rows on both sides.
    diffs: Vec<Option<f64>>,
    /// Per bin, the two sides' means standardized to the same mix of
    /// cells (base, current), where `diffs` has one.
    mixes: Vec<Option<[f64; 2]>>,
    /// Per bin, the mass both sides have in it: over its cells, the
    /// smaller of the two sides' shares of their rows.
    shared: Vec<f64>,
    statistic: f64,
    dof: u64,
    /// The label's standard deviation within each side, pooled.
    sd: f64,
}

fn moved(j: &Joint) -> Moved {
    let bins = [j.bin_moments(0), j.bin_moments(1)];
    let total = |side: &[LabelMoments]| side.iter().map(|m| m.count as f64).sum::<f64>();
    let (na, nb) = (total(&bins[0]), total(&bins[1]));
    let nbins = j.bins.len();
    // Per bin: Σ w, Σ w ȳa, Σ w (ȳb − ȳa), per side Σ w² / n, and per
    // side within the cells Σ m2 and its degrees of freedom.
    let mut w = vec![0.0; nbins];
    let mut wa = vec![0.0; nbins];
    let mut wd = vec![0.0; nbins];
    let mut w2 = [vec![0.0; nbins], vec![0.0; nbins]];
    let mut m2 = [vec![0.0; nbins], vec![0.0; nbins]];
    let mut df = [vec![0.0; nbins], vec![0.0; nbins]];
    let mut shared = vec![0.0; nbins];
    let mut sides = [LabelMoments::default(); 2];
    for c in &j.cells {
        let b = c.bin;
        for (side, m) in c.sides.iter().enumerate() {
            sides[side].merge(m);
            if m.count > 0 {
                m2[side][b] += m.m2;
                df[side][b] += (m.count - 1) as f64;
            }
        }
        let (a, z) = (&c.sides[0], &c.sides[1]);
        if a.count == 0 || z.count == 0 {
            continue;
        }
        let (ca, cz) = (a.count as f64, z.count as f64);
        let wc = (ca / bins[0][b].count as f64).min(cz / bins[1][b].count as f64);
        w[b] += wc;
        wa[b] += wc * a.mean;
        wd[b] += wc * (z.mean - a.mean);
        w2[0][b] += wc * wc / ca;
        w2[1][b] += wc * wc / cz;
        shared[b] += (ca / na).min(cz / nb);
    }
    let (mut statistic, mut dof) = (0.0f64, 0u64);
    let mut diffs = vec![None; nbins];
    let mut mixes = vec![None; nbins];
    for b in 0..nbins {
        if w[b] == 0.0 {
            continue;
        }
        let d = wd[b] / w[b];
        diffs[b] = Some(d);
        mixes[b] = Some([wa[b] / w[b], wa[b] / w[b] + d]);
        // Each side's variance within the bin's cells (Welch's: the
        // sides' spreads may differ); a side without a cell of two rows
        // takes both sides' pooled. Neither: no estimate, no test.
        let pooled =
            (df[0][b] + df[1][b] > 0.0).then(|| (m2[0][b] + m2[1][b]) / (df[0][b] + df[1][b]));
        let Some(pooled) = pooled else { continue };
        let within = |side: usize| match df[side][b] > 0.0 {
            true => m2[side][b] / df[side][b],
            false => pooled,
        };
        let var = (w2[0][b] * within(0) + w2[1][b] * within(1)) / (w[b] * w[b]);
        if var > 0.0 {
            statistic += d * d / var;
            dof += 1;
        } else if d != 0.0 {
            // The label is constant within every cell, yet the means
            // differ: certain.
            statistic = f64::INFINITY;
            dof += 1;
        }
    }
    // The label's spread within each side, pooled (a label shift between
    // the sides does not widen it).
    let n = (sides[0].count + sides[1].count) as f64;
    let sd = match n > 2.0 {
        true => ((sides[0].m2 + sides[1].m2) / (n - 2.0)).sqrt(),
        false => 0.0,
    };
    Moved {
        diffs,
        mixes,
        shared,
        // The largest finite number where it overflows: JSON holds no
        // infinity.
        statistic: statistic.min(f64::MAX),
        dof,
        sd,
    }
}

/// Concept shift of feature `name` between two profiles labelled by the
/// same column of numbers, on `opts.bins` bins; None where [`joint`] has
/// none.
pub fn concept(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    name: &str,
    opts: &CompareOptions,
) -> Option<Concept> {
    let j = joint(name, &[base, cur], opts.bins)?;
    let m = moved(&j);
    let changes =
        (m.diffs.iter().enumerate()).filter_map(|(b, d)| Some((b, m.shared[b], d.as_ref()?.abs())));
    let (mean, top) = weighed(changes)?;
    // In standard deviations of the label (none where it is constant).
    let value = if m.sd > 0.0 { mean / m.sd } else { 0.0 };
    let bin = top.map(|b| j.bins[b].clone());
    Some(Concept::new(value, bin, m.statistic, m.dof, opts))
}

/// Label shift of a label of numbers between `base` and `cur`: the label
/// column's own comparison (`label`, a numeric feature's): its KS
/// distance, and the asymptotic
/// Kolmogorov test of it (the statistic is `D √(nm / (n + m))`, no
/// degrees of freedom).
pub fn label_shift(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    label: &FeatureComparison,
    opts: &CompareOptions,
) -> Option<LabelShift> {
    let d = label.metrics.ks?;
    // KS is over the finite values (not NaN nor ±inf).
    let finite = |p: &DatasetProfile| {
        let f = p.features.iter().find(|f| f.name == label.name)?;
        Some(f.numeric.as_ref()?.finite as f64)
    };
    let (n, m) = (finite(base)?, finite(cur)?);
    if n == 0.0 || m == 0.0 {
        return None;
    }
    let lambda = d * (n * m / (n + m)).sqrt();
    let p_value = kolmogorov_q(lambda);
    Some(LabelShift {
        column: label.name.clone(),
        linf: d,
        class: None,
        statistic: lambda,
        dof: 0,
        p_value,
        drifted: d >= opts.threshold && p_value < opts.alpha,
        numeric: true,
    })
}

/// The Kolmogorov distribution's survival function,
/// `Q(λ) = 2 Σ_{k ≥ 1} (−1)^{k−1} e^{−2 k² λ²}` (1 for small λ, where
/// the series converges slowly and the value is 1 to double precision).
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut q = 0.0;
    for k in 1..=100 {
        let t = (-2.0 * (k * k) as f64 * lambda * lambda).exp();
        q += if k % 2 == 1 { t } else { -t };
        if t < 1e-17 {
            break;
        }
    }
    (2.0 * q).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_matches_scipy() {
        // scipy.special.kolmogorov(x) at 0.5, 1.0, 1.36, 2.0.
        for (x, q) in [
            (0.5, 0.963_945_243_664_875_1),
            (1.0, 0.269_999_671_677_354_56),
            (1.36, 0.049_485_876_755_377_876),
            (2.0, 0.000_670_925_255_779_695_3),
        ] {
            assert!(
                (kolmogorov_q(x) - q).abs() < 1e-12,
                "{x}: {}",
                kolmogorov_q(x)
            );
        }
        assert_eq!(kolmogorov_q(0.1), 1.0);
    }

    #[test]
    fn means_merge_onto_the_coarser_cells() {
        use crate::profile::{LabelMeans, MeanCell};
        let of = |ys: &[f64]| {
            let mut m = LabelMoments::default();
            ys.iter().for_each(|&y| m.add(y));
            m
        };
        let cell = |cell: u64, ys: &[f64]| MeanCell {
            cell,
            label: of(ys),
        };
        let mut a = LabelMeans {
            shift: Some(0),
            cells: vec![cell(4, &[1.0]), cell(5, &[3.0]), cell(9, &[7.0])],
            ..LabelMeans::default()
        };
        let b = LabelMeans {
            shift: Some(2),
            cells: vec![cell(1, &[5.0, 6.0])],
            missing: of(&[2.0]),
            ..LabelMeans::default()
        };
        a.merge(&b);
        // Cells 4 and 5 at shift 0 are in cell 1 at shift 2; 9 in cell 2.
        assert_eq!(a.shift, Some(2));
        let want = [(1, of(&[1.0, 3.0, 5.0, 6.0])), (2, of(&[7.0]))];
        assert_eq!(a.cells.len(), 2);
        for (c, (j, m)) in a.cells.iter().zip(want) {
            assert_eq!((c.cell, c.label.count), (j, m.count));
            assert!((c.label.mean - m.mean).abs() < 1e-12);
            assert!((c.label.m2 - m.m2).abs() < 1e-12);
        }
        assert_eq!(a.missing, of(&[2.0]));
        // Labels beyond 1e154: the sum of squares held at the largest
        // float, never NaN or infinite.
        let mut big = of(&[1e200, -1e200]);
        big.merge(&of(&[1e200]));
        assert!(big.m2 == f64::MAX && big.mean.is_finite(), "{big:?}");
    }

    #[test]
    fn moments_merge_as_one_pass() {
        let ys = [3.0, -1.5, 2.25, 10.0, 0.0, 7.5, -4.0];
        let mut one = LabelMoments::default();
        ys.iter().for_each(|&y| one.add(y));
        let (mut a, mut b) = (LabelMoments::default(), LabelMoments::default());
        ys[..3].iter().for_each(|&y| a.add(y));
        ys[3..].iter().for_each(|&y| b.add(y));
        a.merge(&b);
        let mean = ys.iter().sum::<f64>() / 7.0;
        let var = ys.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / 6.0;
        for m in [one, a] {
            assert_eq!(m.count, 7);
            assert!((m.mean - mean).abs() < 1e-12);
            assert!((m.variance().unwrap() - var).abs() < 1e-12);
        }
    }
}
