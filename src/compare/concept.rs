//! The label (`--label`): each feature's label-conditional table, and,
//! between two profiles, how P(label) moved (label shift) and how
//! P(label | feature) moved (concept shift), apart from how P(feature)
//! moved (covariate shift: the comparison of the feature itself).
//!
//! A labelled profile's slices are its label's classes, so the rows of
//! each class have their own sketch (numeric features) and value counts
//! (categorical ones). A feature's bins are drawn once for every class and
//! both profiles:
//! - numeric: whole cells of the classes' sketches on their common grid
//!   ([`Grid`]), grouped into bins of about equal pooled mass;
//! - categorical: the most frequent values (by pooled share) and
//!   "__other__";
//! - and "__missing__" for the rows where the feature is missing.
//!
//! So every count of every class in every bin is exact (for categorical
//! features, while each class's value counts list every value: below
//! `--unique-cap`), and the two profiles' tables are on the same bins.
//!
//! Concept shift is the mass-weighted mean, over the bins both profiles
//! have values in, of the total variation distance between the label's
//! distributions in the bin, `½ Σ_c |p_bc − q_bc|` (for a binary label,
//! how far P(y = 1 | bin) moved). Each bin weighs the mass both sides
//! have in it (over its cells, the smaller of the two sides' shares), so
//! a change in a bin holding 30% of both sides' data counts six times one
//! in a bin of 5%, and a bin where the sides barely meet counts little.
//!
//! A bin's distributions are standardized to one mix of its cells: each
//! side's P(y | cell), averaged with weights the smaller of the two
//! sides' shares of the bin in the cell. Otherwise a covariate
//! shift inside a bin would pass for a concept shift: where P(y | x)
//! steps up inside a bin and x moves towards the step's high side, the
//! bin's raw P(y) rises though P(y | x) has not moved.
//!
//! Its test is stratified by the cells: in each bin, the generalized
//! Cochran–Mantel–Haenszel statistic (`Stratified`) of the classes
//! between the two profiles over the bin's cells, which sums each class's
//! departure from its expectation over the cells before squaring, so that
//! thousands of cells of a few values each keep its level; the bins'
//! statistics add up, as do their degrees of freedom. A concept shift is
//! flagged when the value reaches the threshold and the test rejects at
//! `alpha`.

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use super::distance::gamma_q;
use super::numeric::{equal_mass, Grid};
use super::target::of_numbers;
use super::CompareOptions;
use crate::profile::sketch::KeySketch;
use crate::profile::{
    DatasetProfile, FeatureProfile, Kind, LabelBin, LabelTable, SliceProfile, ValueCount,
};

/// The bin of the rows where the feature is missing.
pub const MISSING: &str = "__missing__";

/// A class: the label's value (None: missing) and whether it is the fold
/// of the smaller classes.
type Class = (Option<String>, bool);

/// How P(label | feature) moved between two labelled profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Concept {
    /// The mass-weighted mean, over the bins, of the total variation
    /// distance between the label's (standardized) distributions in the
    /// bin; for a label of numbers, of the absolute difference of its
    /// (standardized) means, over its standard deviation
    /// ([`super::target`]).
    pub value: f64,
    /// The bin where the change weighs most (mass times distance).
    pub bin: Option<String>,
    /// The χ² statistic of the stratified test (each bin's generalized
    /// Cochran–Mantel–Haenszel statistic over its cells, summed over the
    /// bins; for a label of numbers, each bin's squared z of the
    /// difference of means), and its degrees of freedom.
    pub statistic: f64,
    pub dof: u64,
    pub p_value: f64,
    /// `value` reached the threshold and `p_value` is below `alpha`.
    pub drifted: bool,
}

/// How P(label) moved between two labelled profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelShift {
    pub column: String,
    /// The largest change of a class's share (L-infinity), and the class
    /// where it is reached.
    pub linf: f64,
    pub class: Option<String>,
    /// The χ² test of homogeneity of the classes.
    pub statistic: f64,
    pub dof: u64,
    pub p_value: f64,
    /// `linf` reached the threshold and `p_value` is below `alpha`.
    pub drifted: bool,
    /// A label of numbers ([`super::target::label_shift`]): `linf` is the
    /// KS distance of its values, and the test Kolmogorov's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub numeric: bool,
}

/// The label column both profiles are labelled by.
pub fn shared_label<'a>(base: &'a DatasetProfile, cur: &DatasetProfile) -> Option<&'a str> {
    let col = base.label.as_deref()?;
    (cur.label.as_deref() == Some(col)).then_some(col)
}

/// Why two profiles get no label or concept shift though one is
/// labelled (named `a` and `b` in the message), or None where both are
/// labelled by the same column and have rows, or neither is labelled.
pub fn label_note(a: &str, base: &DatasetProfile, b: &str, cur: &DatasetProfile) -> Option<String> {
    match (&base.label, &cur.label) {
        (None, None) => None,
        (Some(x), Some(y)) if x == y && (base.num_rows == 0 || cur.num_rows == 0) => {
            let empty = if base.num_rows == 0 { a } else { b };
            Some(format!(
                "{empty} has no rows: no label or concept shift of {x}"
            ))
        }
        (Some(x), Some(y)) if x == y => (of_numbers(base) != of_numbers(cur)).then(|| {
            let kind = |p| match of_numbers(p) {
                true => "numbers",
                false => "classes",
            };
            format!(
                "{a} is labelled by {x} as {} and {b} as {}: no label or concept shift \
                 (a label of numbers is a float or decimal column)",
                kind(base),
                kind(cur)
            )
        }),
        (Some(x), None) | (None, Some(x)) => {
            let (with, without) = if base.label.is_some() { (a, b) } else { (b, a) };
            Some(format!(
                "{with} is labelled by {x} and {without} is not: no label or concept shift \
                 (profile both with --label {x})"
            ))
        }
        (Some(x), Some(y)) => Some(format!(
            "{a} is labelled by {x} and {b} by {y}: no label or concept shift"
        )),
    }
}

fn class_of(col: &str, s: &SliceProfile) -> Class {
    (s.slice.get(col).cloned().flatten(), s.other)
}

/// The label's classes across some labelled profiles (sides), each the
/// same rows on every side: a class that one side counts apart but
/// another folds into "__other__" (their `--max-classes` largest differ)
/// is folded on every side.
struct Classes {
    /// The fold last.
    list: Vec<Class>,
    /// Per side, each slice's class (an index into `list`).
    of: Vec<Vec<usize>>,
}

fn classes(col: &str, sides: &[&DatasetProfile]) -> Classes {
    let other: Class = (Some(crate::engine::groups::OTHER.into()), true);
    let apart = |v: &Option<String>| {
        sides.iter().all(|p| {
            !p.slices.iter().any(|s| s.other)
                || p.slices
                    .iter()
                    .any(|s| !s.other && s.slice.get(col).cloned().flatten() == *v)
        })
    };
    let effective = |s: &SliceProfile| match class_of(col, s) {
        (v, false) if apart(&v) => (v, false),
        _ => other.clone(),
    };
    let mut list: Vec<Class> = Vec::new();
    for s in sides.iter().flat_map(|p| &p.slices) {
        let c = effective(s);
        if !list.contains(&c) {
            list.push(c);
        }
    }
    list.sort_by_key(|c| c.1);
    let of = sides
        .iter()
        .map(|p| {
            let at = |c: Class| list.iter().position(|l| *l == c).unwrap_or(0);
            p.slices.iter().map(|s| at(effective(s))).collect()
        })
        .collect();
    Classes { list, of }
}

/// Feature `name` among `features`, looked up first at `at` (its index
/// in the whole profile, which every slice shares).
fn feature_at<'a>(
    features: &'a [FeatureProfile],
    at: Option<usize>,
    name: &str,
) -> Option<&'a FeatureProfile> {
    match at.and_then(|i| features.get(i)) {
        Some(f) if f.name == name => Some(f),
        _ => features.iter().find(|f| f.name == name),
    }
}

/// A sum that cannot overflow (a hand-edited profile's counts).
fn sum(xs: impl IntoIterator<Item = u64>) -> u64 {
    xs.into_iter().fold(0u64, u64::saturating_add)
}

/// One feature's bins across some labelled profiles (sides).
struct Joint {
    bins: Vec<String>,
    classes: Vec<Class>,
    /// The finest parts of the bins, in bin order: the grid's cells
    /// (numeric features), else the bins themselves.
    cells: Vec<Cell>,
}

/// Values of each class per side (`counts[side][class]`) in a part of a
/// bin.
struct Cell {
    bin: usize,
    counts: Vec<Vec<u64>>,
}

impl Joint {
    /// Values of each class in each bin on one side: `[bin][class]`.
    fn bin_counts(&self, side: usize) -> Vec<Vec<u64>> {
        let mut out = vec![vec![0u64; self.classes.len()]; self.bins.len()];
        for c in &self.cells {
            for (o, &n) in out[c.bin].iter_mut().zip(&c.counts[side]) {
                *o = o.saturating_add(n);
            }
        }
        out
    }
}

/// The bins of feature `name` over `sides` (at most `bins` of them for
/// its values, besides "__other__" and "__missing__"), or None where a
/// side is not labelled by the same column, the feature is the label, or
/// the sides profile it differently.
fn joint(name: &str, sides: &[&DatasetProfile], bins: usize) -> Option<Joint> {
    let col = sides.first()?.label.as_deref()?;
    let differs = |p: &&DatasetProfile| p.label.as_deref() != Some(col) || of_numbers(p);
    if name == col || sides.iter().any(differs) {
        return None;
    }
    let cl = classes(col, sides);
    let at: Vec<Option<usize>> = sides
        .iter()
        .map(|p| p.features.iter().position(|f| f.name == name))
        .collect();
    let kinds: Vec<Option<Kind>> = sides
        .iter()
        .zip(&at)
        .map(|(p, &i)| i.map(|i| p.features[i].kind))
        .collect();
    let kind = kinds[0]?;
    if kinds.iter().any(|&k| k != Some(kind)) {
        return None;
    }
    // Each class's profiles of the feature (its slices'), per side.
    let feats: Vec<Vec<Vec<&FeatureProfile>>> = sides
        .iter()
        .enumerate()
        .map(|(side, p)| {
            let mut per = vec![Vec::new(); cl.list.len()];
            for (s, &c) in p.slices.iter().zip(&cl.of[side]) {
                per[c].extend(feature_at(&s.features, at[side], name));
            }
            per
        })
        .collect();
    let classes = cl.list;
    let (mut labels, mut cells) = match kind {
        Kind::Numeric => numeric_bins(&feats, classes.len(), bins)?,
        Kind::Categorical => {
            let wholes: Vec<&FeatureProfile> = sides
                .iter()
                .zip(&at)
                .map(|(p, &i)| i.map(|i| &p.features[i]))
                .collect::<Option<_>>()?;
            categorical_bins(&wholes, &feats, classes.len(), bins)?
        }
    };
    // A date or timestamp feature's bins are named by dates, as compare's.
    let type_name = at[0].map(|i| sides[0].features[i].type_name.as_str());
    if let Some(t) = type_name.and_then(crate::profile::time::Time::of) {
        labels = labels.iter().map(|l| t.bin_label(l)).collect();
    }
    let missing: Vec<Vec<u64>> = feats
        .iter()
        .map(|fs| {
            fs.iter()
                .map(|parts| sum(parts.iter().map(|f| f.missing)))
                .collect()
        })
        .collect();
    if missing.iter().flatten().any(|&m| m > 0) {
        cells.push(Cell {
            bin: labels.len(),
            counts: missing,
        });
        labels.push(MISSING.into());
    }
    Some(Joint {
        bins: labels,
        classes,
        cells,
    })
}

type Bins = (Vec<String>, Vec<Cell>);

/// Numeric bins: the classes' sketches on one grid, whole cells grouped
/// into `bins` bins of about equal mass (each side's share, averaged over
/// the sides).
fn numeric_bins(feats: &[Vec<Vec<&FeatureProfile>>], nclasses: usize, bins: usize) -> Option<Bins> {
    let mut sketches = Vec::new();
    let mut owner = Vec::new();
    let mut domain = None;
    for (side, fs) in feats.iter().enumerate() {
        for (class, parts) in fs.iter().enumerate() {
            for n in parts.iter().filter_map(|f| f.numeric.as_ref()) {
                if domain.is_some_and(|d| d != n.domain) {
                    return None;
                }
                domain = Some(n.domain);
                sketches.push(KeySketch::from_stored(&n.sketch).ok()?);
                owner.push((side, class));
            }
        }
    }
    let grid = Grid::new(&sketches.iter().collect::<Vec<_>>()).ok()?;
    let nsides = feats.len();
    let sides: Vec<usize> = owner.iter().map(|o| o.0).collect();
    let (spans, labels) = spans(&grid, &sides, nsides, bins, domain);
    let mut cells = Vec::with_capacity(grid.cells.len());
    for (b, &(first, last)) in spans.iter().enumerate() {
        for c in &grid.cells[first..=last] {
            let mut counts = vec![vec![0u64; nclasses]; nsides];
            for (k, &n) in c.counts.iter().enumerate() {
                let (side, class) = owner[k];
                counts[side][class] += n;
            }
            cells.push(Cell { bin: b, counts });
        }
    }
    Some((labels, cells))
}

/// The cells of `grid` (whose sketch `k` is of side `side_of[k]`, of
/// `nsides`) grouped into at most `bins` spans of about equal mass (each
/// side's share, averaged over the sides), and their labels.
pub(super) fn spans(
    grid: &Grid,
    side_of: &[usize],
    nsides: usize,
    bins: usize,
    domain: Option<crate::profile::keys::Domain>,
) -> (Vec<(usize, usize)>, Vec<String>) {
    let mut totals = vec![0u64; nsides];
    for c in &grid.cells {
        for (k, &n) in c.counts.iter().enumerate() {
            totals[side_of[k]] += n;
        }
    }
    let mut acc = vec![0u64; nsides];
    let cum: Vec<f64> = grid
        .cells
        .iter()
        .map(|c| {
            for (k, &n) in c.counts.iter().enumerate() {
                acc[side_of[k]] += n;
            }
            pooled(&acc, &totals)
        })
        .collect();
    let spans = equal_mass(&cum, bins);
    let keys: Vec<(u64, u64)> = spans
        .iter()
        .map(|&(f, l)| (grid.cells[f].klo, grid.cells[l].khi))
        .collect();
    let labels = match domain {
        Some(d) => super::label::bins(d, &keys),
        None => Vec::new(),
    };
    (spans, labels)
}

/// The mean over the sides that have values of each side's share.
fn pooled(counts: &[u64], totals: &[u64]) -> f64 {
    let shares: Vec<f64> = counts
        .iter()
        .zip(totals)
        .filter(|(_, &t)| t > 0)
        .map(|(&c, &t)| c as f64 / t as f64)
        .collect();
    match shares.len() {
        0 => 0.0,
        n => shares.iter().sum::<f64>() / n as f64,
    }
}

/// A value as profiles tell values apart: its text and `value_hex`.
pub(super) type Key<'a> = (&'a str, Option<&'a str>);

pub(super) fn key(v: &ValueCount) -> Key<'_> {
    (v.value.as_str(), v.value_hex.as_deref())
}

/// The `bins` values of largest pooled share in the sides' whole profiles
/// of a categorical feature (`wholes`), most shared first, ties by the
/// values' bytes.
pub(super) fn top_values<'a>(wholes: &[&'a FeatureProfile], bins: usize) -> Vec<&'a ValueCount> {
    let lists: Vec<&[ValueCount]> = wholes
        .iter()
        .map(|f| {
            f.categorical
                .as_ref()
                .map_or(&[][..], |c| &c.value_counts[..])
        })
        .collect();
    let totals: Vec<u64> = wholes
        .iter()
        .zip(&lists)
        .map(|(f, l)| {
            let other = f.categorical.as_ref().map_or(0, |c| c.other_count);
            sum(l.iter().map(|v| v.count).chain([other]))
        })
        .collect();
    // Each value's count on each side, in the first side's order.
    let mut order: Vec<&ValueCount> = Vec::new();
    let mut by_side: HashMap<Key, Vec<u64>> = HashMap::new();
    for (s, list) in lists.iter().enumerate() {
        for v in list.iter() {
            let e = by_side.entry(key(v)).or_insert_with(|| {
                order.push(v);
                vec![0; lists.len()]
            });
            e[s] = e[s].saturating_add(v.count);
        }
    }
    let mut top: Vec<(f64, &ValueCount)> = order
        .iter()
        .map(|v| (pooled(&by_side[&key(v)], &totals), *v))
        .collect();
    // Most shared first, ties by the values' bytes (borrowed but for
    // `value_hex` ones): the first `bins`, then those in order.
    let by = |a: &(f64, &ValueCount), b: &(f64, &ValueCount)| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.bytes().ok().cmp(&b.1.bytes().ok()))
    };
    if top.len() > bins {
        top.select_nth_unstable_by(bins, by);
        top.truncate(bins);
    }
    top.sort_by(by);
    top.into_iter().map(|t| t.1).collect()
}

/// Categorical bins: the `bins` values of largest pooled share in the
/// sides' whole profiles ([`top_values`]), then "__other__" for the rest
/// where there is any. Only the top values are looked up in each class's
/// counts (a feature of 200,000 values is not hashed per class).
fn categorical_bins(
    wholes: &[&FeatureProfile],
    feats: &[Vec<Vec<&FeatureProfile>>],
    nclasses: usize,
    bins: usize,
) -> Option<Bins> {
    let top = top_values(wholes, bins);
    let at: HashMap<Key, usize> = top.iter().enumerate().map(|(i, v)| (key(v), i)).collect();
    let mut labels: Vec<String> = top.iter().map(|v| v.label()).collect();
    // Per side, bin (the top values, then the rest) and class: the count.
    let mut counts: Vec<Vec<Vec<u64>>> = feats
        .iter()
        .map(|fs| {
            let mut rows = vec![vec![0u64; nclasses]; top.len() + 1];
            for (class, parts) in fs.iter().enumerate() {
                for c in parts.iter().filter_map(|f| f.categorical.as_ref()) {
                    let mut listed = 0u64;
                    for v in &c.value_counts {
                        if let Some(&b) = at.get(&key(v)) {
                            rows[b][class] = rows[b][class].saturating_add(v.count);
                            listed = listed.saturating_add(v.count);
                        }
                    }
                    let all = sum(c
                        .value_counts
                        .iter()
                        .map(|v| v.count)
                        .chain([c.other_count]));
                    let rest = &mut rows[top.len()][class];
                    *rest = rest.saturating_add(all.saturating_sub(listed));
                }
            }
            rows
        })
        .collect();
    if counts
        .iter()
        .any(|side| side.last().is_some_and(|o| o.iter().any(|&n| n > 0)))
    {
        labels.push(crate::engine::groups::OTHER.into());
    } else {
        counts.iter_mut().for_each(|side| {
            side.pop();
        });
    }
    // One cell per bin: `counts` is `[side][bin][class]`.
    let cells = (0..labels.len())
        .map(|b| Cell {
            bin: b,
            counts: counts.iter().map(|side| side[b].clone()).collect(),
        })
        .collect();
    Some((labels, cells))
}

/// Feature `name`'s label-conditional table in labelled profile `p`, in
/// `quantile_bins` bins.
pub fn table(p: &DatasetProfile, name: &str) -> Option<LabelTable> {
    let j = joint(name, &[p], p.options.quantile_bins)?;
    let counts = j.bin_counts(0);
    Some(LabelTable {
        classes: j.classes.into_iter().map(|c| c.0).collect(),
        bins: j
            .bins
            .into_iter()
            .zip(counts)
            .map(|(bin, classes)| LabelBin {
                bin,
                count: classes.iter().sum(),
                classes,
            })
            .collect(),
    })
}

/// Give every feature of labelled profile `p` its label-conditional
/// table (after profiling, or a merge).
pub fn attach_tables(p: &mut DatasetProfile) {
    let tables: Vec<Option<LabelTable>> = p.features.iter().map(|f| table(p, &f.name)).collect();
    for (f, t) in p.features.iter_mut().zip(tables) {
        f.label_table = t;
    }
}

/// The χ² statistic of homogeneity of two rows of counts (categories
/// with no count on either side left out), and its degrees of freedom.
fn homogeneity(a: &[u64], b: &[u64]) -> (f64, u64) {
    let total = |v: &[u64]| v.iter().map(|&x| x as f64).sum::<f64>();
    let (na, nb) = (total(a), total(b));
    if na == 0.0 || nb == 0.0 {
        return (0.0, 0);
    }
    let n = na + nb;
    let mut stat = 0.0;
    let mut k = 0u64;
    for (&x, &y) in a.iter().zip(b) {
        let col = x as f64 + y as f64;
        if col == 0.0 {
            continue;
        }
        k += 1;
        for (o, row) in [(x as f64, na), (y as f64, nb)] {
            let e = row * col / n;
            stat += (o - e) * (o - e) / e;
        }
    }
    (stat, k.saturating_sub(1))
}

pub(super) fn p_value(stat: f64, dof: u64) -> f64 {
    match dof {
        0 => 1.0,
        d => gamma_q(0.5 * d as f64, 0.5 * stat),
    }
}

/// The generalized Cochran–Mantel–Haenszel test that the classes'
/// distribution is the same on two sides in every stratum (the cells of
/// a bin): per stratum, the current side's count of each class less its
/// expectation, and the covariance of those counts, under the null with
/// the stratum's margins fixed (multivariate hypergeometric), summed over
/// the strata; the statistic is `dᵀ V⁻ d`, χ² with the rank of `V` as its
/// degrees of freedom. Summing before squaring is what keeps its level
/// where the strata are many and each holds a few values (a reference of
/// a million rows against a batch of a thousand, split into thousands of
/// cells): a sum of one Pearson statistic per cell is then far from χ².
#[derive(Clone)]
struct Stratified {
    d: Vec<f64>,
    v: Vec<Vec<f64>>,
}

impl Stratified {
    fn new(nclasses: usize) -> Stratified {
        Stratified {
            d: vec![0.0; nclasses],
            v: vec![vec![0.0; nclasses]; nclasses],
        }
    }

    /// One stratum: each class's count on the base side and on the
    /// current side.
    fn add(&mut self, base: &[u64], cur: &[u64]) {
        let (a, b) = (
            sum(base.iter().copied()) as f64,
            sum(cur.iter().copied()) as f64,
        );
        let n = a + b;
        if a == 0.0 || b == 0.0 {
            return;
        }
        let m: Vec<f64> = base
            .iter()
            .zip(cur)
            .map(|(&x, &y)| x as f64 + y as f64)
            .collect();
        let f = a * b / (n * n * (n - 1.0));
        for (c, (&y, &mc)) in cur.iter().zip(&m).enumerate() {
            self.d[c] += y as f64 - b * mc / n;
            for (e, &me) in m.iter().enumerate() {
                let diag = if c == e { n * mc } else { 0.0 };
                self.v[c][e] += f * (diag - mc * me);
            }
        }
    }

    /// `dᵀ V⁻ d` and the rank of `V`, by symmetric elimination with the
    /// largest remaining pivot first; pivots below a relative tolerance
    /// end it (`V` is singular: its rows sum to zero).
    fn statistic(&self) -> (f64, u64) {
        let (mut v, mut d) = (self.v.clone(), self.d.clone());
        let tol = 1e-12 * v.iter().enumerate().map(|(i, r)| r[i]).fold(0.0, f64::max);
        let mut left: Vec<usize> = (0..d.len()).collect();
        let (mut q, mut rank) = (0.0, 0u64);
        while let Some((at, &p)) = left
            .iter()
            .enumerate()
            .max_by(|a, b| v[*a.1][*a.1].total_cmp(&v[*b.1][*b.1]))
        {
            let pivot = v[p][p];
            if pivot.is_nan() || pivot <= tol {
                break;
            }
            q += d[p] * d[p] / pivot;
            rank += 1;
            left.swap_remove(at);
            for &i in &left {
                let l = v[i][p] / pivot;
                d[i] -= l * d[p];
                for &j in &left {
                    v[i][j] -= l * v[p][j];
                }
            }
        }
        (q, rank)
    }
}

/// Two sides' class shares in each bin, standardized to one mix of the
/// bin's cells (their pooled shares of the bin, among the cells both
/// sides have values in), and the test that P(y | cell) is the same on
/// both sides: each bin's [`Stratified`] statistic over its cells,
/// summed over the bins.
struct Standardized {
    /// Values of each class in each bin, per side: `[side][bin][class]`.
    bins: [Vec<Vec<u64>>; 2],
    /// Per bin, both sides' shares; None where no cell of the bin has
    /// values on both sides.
    shares: Vec<Option<[Vec<f64>; 2]>>,
    /// Per bin, the mass both sides have in it: over its cells, the
    /// smaller of the two sides' shares of their data.
    shared: Vec<f64>,
    statistic: f64,
    dof: u64,
}

fn standardized(j: &Joint) -> Standardized {
    let bins = [j.bin_counts(0), j.bin_counts(1)];
    let sum = |v: &[u64]| sum(v.iter().copied());
    let nclasses = j.classes.len();
    let mut rates = vec![[vec![0.0; nclasses], vec![0.0; nclasses]]; j.bins.len()];
    let mut mix = vec![0.0; j.bins.len()];
    let mut shared = vec![0.0; j.bins.len()];
    let total = |side: &Vec<Vec<u64>>| side.iter().flatten().map(|&x| x as f64).sum::<f64>();
    let (n, m) = (total(&bins[0]), total(&bins[1]));
    let mut tests = vec![Stratified::new(nclasses); j.bins.len()];
    for cell in &j.cells {
        let (ca, cb) = (&cell.counts[0], &cell.counts[1]);
        let (na, nb) = (sum(ca), sum(cb));
        if na == 0 || nb == 0 {
            continue;
        }
        let b = cell.bin;
        // The mass both sides have in the cell (the smaller of their
        // shares): of the bin, for the mix; of all the data, for the
        // bin's weight. A cell one side has one value in weighs that one.
        let w = (na as f64 / sum(&bins[0][b]) as f64).min(nb as f64 / sum(&bins[1][b]) as f64);
        for c in 0..nclasses {
            rates[b][0][c] += w * ca[c] as f64 / na as f64;
            rates[b][1][c] += w * cb[c] as f64 / nb as f64;
        }
        mix[b] += w;
        shared[b] += (na as f64 / n).min(nb as f64 / m);
        tests[b].add(ca, cb);
    }
    let (mut statistic, mut dof) = (0.0, 0u64);
    for t in &tests {
        let (s, d) = t.statistic();
        statistic += s;
        dof += d;
    }
    let shares = rates
        .into_iter()
        .zip(&mix)
        .map(|(r, &w)| (w > 0.0).then(|| r.map(|side| side.iter().map(|x| x / w).collect())))
        .collect();
    Standardized {
        bins,
        shares,
        shared,
        statistic,
        dof,
    }
}

/// Concept shift of feature `name` between two profiles labelled by the
/// same column, on `opts.bins` bins; None where [`joint`] has no bins.
pub fn concept(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    name: &str,
    opts: &CompareOptions,
) -> Option<Concept> {
    let j = joint(name, &[base, cur], opts.bins)?;
    let st = standardized(&j);
    // Each bin weighs the pooled mass where both sides have values: a bin
    // the sides share a sliver of weighs that sliver.
    let changes = st.shares.iter().enumerate().filter_map(|(b, shares)| {
        let [ra, rb] = shares.as_ref()?;
        let tv = 0.5 * ra.iter().zip(rb).map(|(x, y)| (x - y).abs()).sum::<f64>();
        Some((b, st.shared[b], tv))
    });
    let (value, top) = weighed(changes)?;
    let bin = top.map(|b| j.bins[b].clone());
    Some(Concept::new(value, bin, st.statistic, st.dof, opts))
}

/// The mass-weighted mean of the bins' changes (`(bin, mass, change)`,
/// for the bins both sides have values in), and the bin where mass times
/// change is largest (None where nothing changed); None where no bin has
/// mass.
pub(super) fn weighed(
    changes: impl Iterator<Item = (usize, f64, f64)>,
) -> Option<(f64, Option<usize>)> {
    let (mut sum, mut mass) = (0.0, 0.0);
    let mut top: Option<(f64, usize)> = None;
    for (b, w, change) in changes {
        sum += w * change;
        mass += w;
        if top.is_none_or(|(t, _)| w * change > t) {
            top = Some((w * change, b));
        }
    }
    (mass > 0.0).then(|| (sum / mass, top.filter(|t| t.0 > 0.0).map(|t| t.1)))
}

impl Concept {
    /// A concept shift of `value` (largest at `bin`) with its test's
    /// statistic: drifted where the value reaches the threshold and the
    /// test rejects at alpha.
    pub(super) fn new(
        value: f64,
        bin: Option<String>,
        statistic: f64,
        dof: u64,
        opts: &CompareOptions,
    ) -> Concept {
        let p_value = p_value(statistic, dof);
        Concept {
            value,
            bin,
            statistic,
            dof,
            p_value,
            drifted: value >= opts.threshold && p_value < opts.alpha,
        }
    }
}

/// What the report draws of a feature: its bins, the label's classes,
/// and each bin's class shares in the current profile and in the base
/// (standardized as for [`concept`] where a bin has values on both sides;
/// None where a side has none).
pub struct Shares {
    pub bins: Vec<String>,
    pub classes: Vec<Option<String>>,
    pub current: Vec<Option<Vec<f64>>>,
    pub base: Vec<Option<Vec<f64>>>,
}

/// [`Shares`] of feature `name` in labelled profile `cur` (on its
/// `quantile_bins` bins), or against `base` (on `bins` bins, as compare
/// draws them).
pub fn shares(
    cur: &DatasetProfile,
    base: Option<&DatasetProfile>,
    name: &str,
    bins: usize,
) -> Option<Shares> {
    let raw = |counts: &[u64]| {
        let n: u64 = counts.iter().sum();
        (n > 0).then(|| counts.iter().map(|&c| c as f64 / n as f64).collect())
    };
    let Some(base) = base else {
        let j = joint(name, &[cur], cur.options.quantile_bins)?;
        let current = j.bin_counts(0).iter().map(|b| raw(b)).collect();
        return Some(Shares {
            base: vec![None; j.bins.len()],
            current,
            classes: j.classes.into_iter().map(|c| c.0).collect(),
            bins: j.bins,
        });
    };
    let j = joint(name, &[base, cur], bins)?;
    let st = standardized(&j);
    let (mut b, mut c) = (Vec::new(), Vec::new());
    for (i, sh) in st.shares.into_iter().enumerate() {
        match sh {
            Some([x, y]) => {
                b.push(Some(x));
                c.push(Some(y));
            }
            None => {
                b.push(raw(&st.bins[0][i]));
                c.push(raw(&st.bins[1][i]));
            }
        }
    }
    Some(Shares {
        bins: j.bins,
        classes: j.classes.into_iter().map(|c| c.0).collect(),
        current: c,
        base: b,
    })
}

/// Label shift between two profiles labelled by the same column: the
/// classes' shares (their slices' rows).
pub fn label_shift(
    base: &DatasetProfile,
    cur: &DatasetProfile,
    opts: &CompareOptions,
) -> Option<LabelShift> {
    let col = shared_label(base, cur)?;
    let cl = classes(col, &[base, cur]);
    let rows = |side: usize, p: &DatasetProfile| -> Vec<u64> {
        let mut out = vec![0u64; cl.list.len()];
        for (s, &c) in p.slices.iter().zip(&cl.of[side]) {
            out[c] = out[c].saturating_add(s.num_rows);
        }
        out
    };
    let (a, b) = (rows(0, base), rows(1, cur));
    let (na, nb) = (sum(a.iter().copied()), sum(b.iter().copied()));
    if na == 0 || nb == 0 {
        return None;
    }
    let (linf, at) = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| (x as f64 / na as f64 - y as f64 / nb as f64).abs())
        .zip(&cl.list)
        .fold((0.0, None), |best, (d, c)| match d > best.0 {
            true => (d, Some(c)),
            false => best,
        });
    let (statistic, dof) = homogeneity(&a, &b);
    let p_value = p_value(statistic, dof);
    Some(LabelShift {
        column: col.into(),
        linf,
        class: at.and_then(|c| c.0.clone()),
        statistic,
        dof,
        p_value,
        drifted: linf >= opts.threshold && p_value < opts.alpha,
        numeric: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homogeneity_matches_scipy_chi2_contingency() {
        // scipy.stats.chi2_contingency(t, correction=False) of
        // [[10, 20, 30], [20, 20, 20]]: 5.333333333333334, p
        // 0.0694834512228015, dof 2; of [[5, 7], [9, 2]]:
        // 3.884499759499758, p 0.04873377839000807, dof 1.
        let (stat, dof) = homogeneity(&[10, 20, 30], &[20, 20, 20]);
        assert!((stat - 16.0 / 3.0).abs() < 1e-12, "{stat}");
        assert_eq!(dof, 2);
        assert!((p_value(stat, dof) - 0.069_483_451_222_801_5).abs() < 1e-12);
        // A category empty on both sides adds nothing.
        assert_eq!(homogeneity(&[10, 0, 20, 30], &[20, 0, 20, 20]), (stat, 2));
        let (stat, dof) = homogeneity(&[5, 9], &[7, 2]);
        assert!((stat - 3.884_499_759_499_758).abs() < 1e-12, "{stat}");
        assert_eq!(dof, 1);
        assert!((p_value(stat, dof) - 0.048_733_778_390_008_07).abs() < 1e-12);
        // One empty side: nothing to test.
        assert_eq!(homogeneity(&[0, 0], &[3, 4]), (0.0, 0));
        assert_eq!(p_value(0.0, 0), 1.0);
    }

    #[test]
    fn one_stratum_is_pearson_scaled_by_its_values() {
        // With one stratum, the generalized CMH statistic is Pearson's
        // times (N − 1)/N.
        for (a, b) in [
            (&[10u64, 20, 30][..], &[20u64, 20, 20][..]),
            (&[5, 9][..], &[7, 2][..]),
            (&[1, 0, 40, 3][..], &[0, 2, 17, 9][..]),
        ] {
            let (pearson, dof) = homogeneity(a, b);
            let mut t = Stratified::new(a.len());
            t.add(a, b);
            let (q, rank) = t.statistic();
            let n = (a.iter().sum::<u64>() + b.iter().sum::<u64>()) as f64;
            assert!(
                (q - pearson * (n - 1.0) / n).abs() < 1e-9 * q,
                "{q} {pearson}"
            );
            assert_eq!(rank, dof);
        }
    }

    #[test]
    fn two_classes_are_the_textbook_mantel_haenszel_statistic() {
        // Strata of 2×2 tables (base a, b; current c, d), the textbook
        // statistic without continuity correction: (Σ c − E c)² / Σ Var c,
        // Var c = n1 n2 m1 m2 / (n² (n − 1)).
        let strata = [
            ([12u64, 5u64], [3u64, 9u64]),
            ([40, 2], [1, 1]),
            ([7, 7], [6, 0]),
            ([0, 9], [0, 4]),
        ];
        let (mut num, mut var) = (0.0, 0.0);
        let mut t = Stratified::new(2);
        for (base, cur) in strata {
            t.add(&base, &cur);
            let (n1, n2) = ((base[0] + base[1]) as f64, (cur[0] + cur[1]) as f64);
            let (m1, m2) = ((base[0] + cur[0]) as f64, (base[1] + cur[1]) as f64);
            let n = n1 + n2;
            num += cur[0] as f64 - n2 * m1 / n;
            var += n1 * n2 * m1 * m2 / (n * n * (n - 1.0));
        }
        let (q, rank) = t.statistic();
        assert!((q - num * num / var).abs() < 1e-12 * q, "{q}");
        assert_eq!(rank, 1);
        // The order of the classes does not matter; a class no stratum
        // has adds no degree of freedom; a stratum with one side empty
        // adds nothing.
        let mut u = Stratified::new(3);
        for (base, cur) in strata {
            u.add(&[0, base[1], base[0]], &[0, cur[1], cur[0]]);
        }
        u.add(&[0, 0, 0], &[0, 5, 1]);
        let (qu, ru) = u.statistic();
        assert!((qu - q).abs() < 1e-12 * q, "{qu} {q}");
        assert_eq!(ru, 1);
        // No stratum with both sides: nothing to test.
        assert_eq!(Stratified::new(2).statistic(), (0.0, 0));
    }
}
