//! Numeric features: both sketches on one grid of buckets, KS and
//! Wasserstein with their error bounds, the metric bins, and refinement
//! (the values of the few cells that could change a decision, collected
//! from the data).
//!
//! A sketch counts values in buckets whose edges are aligned powers of two
//! in key space, so two sketches are re-expressed exactly on the coarser of
//! their two grids: every count on the common grid is exact for both
//! sides, and so is `F_base − F_cur` at every cell edge. Inside a cell
//! nothing is known until its values are collected; then `F_base − F_cur`
//! is known after every value, as `scipy.stats.ks_2samp` evaluates it.

use std::collections::BTreeMap;

use super::distance::share;
use super::{Aligned, Scale};
use crate::error::{Error, Result};
use crate::profile::keys::Domain;
use crate::profile::quantile::{rank_index, Pass2Plan, Pass2State, NO_SLOT};
use crate::profile::sketch::{KeyMap, KeySketch, PROFILE_BITS};
use crate::profile::NumericStats;

/// One non-empty cell of the common grid.
#[derive(Debug, Clone)]
pub(super) struct Cell {
    /// Sketch keys `s` with `s >> shift == j` (the grid's shift).
    j: u64,
    /// The smallest and largest value key the cell can hold, clipped to the
    /// data's range.
    klo: u64,
    khi: u64,
    /// Values of the base and of the current side in it.
    a: u64,
    b: u64,
}

/// A numeric feature's two sides on one grid.
#[derive(Debug, Clone)]
pub(super) struct Pair {
    domain: Domain,
    map: KeyMap,
    shift: u32,
    cells: Vec<Cell>,
    /// Finite values of the base and of the current side.
    pub n: u64,
    pub m: u64,
    sides: [KeySketch; 2],
    /// Values of each side in the cells before each cell.
    before: Vec<(u64, u64)>,
    /// What refinement found in a cell, by cell position.
    exact: BTreeMap<usize, Exact>,
}

/// A refined cell: the largest `|F_base − F_cur|` inside it (at its
/// values) and `∫|F_base − F_cur| dx` over its span, both exact.
#[derive(Debug, Clone, Copy)]
struct Exact {
    top: f64,
    w: f64,
}

/// KS and the unnormalised Wasserstein-1 distance over the grid.
pub(super) struct GridMetrics {
    /// The largest `|F_base − F_cur|` where both are known (every cell
    /// edge, every value of a refined cell): KS itself when `ks_hi == ks`,
    /// else a lower bound.
    pub ks: f64,
    /// The largest value KS can have.
    pub ks_hi: f64,
    /// `∫|F_base − F_cur| dx`: exact between cells and in refined cells, a
    /// trapezoid in the others, off by at most `w_err`.
    pub w: f64,
    pub w_err: f64,
    /// Per cell: the largest `|F_base − F_cur|` it can hold, and its share
    /// of `w_err`.
    per_cell: Vec<(f64, f64)>,
}

/// Which metrics a refinement round should make certain.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Want {
    /// Refine the cells where KS could reach this value (and exceeds what
    /// is known): the decision's boundary, to decide; 0, to make KS exact.
    pub ks: Option<f64>,
    /// Refine every cell with a Wasserstein error.
    pub wasserstein: bool,
}

impl Want {
    pub fn any(self) -> bool {
        self.ks.is_some() || self.wasserstein
    }
}

impl Pair {
    pub fn new(name: &str, a: &NumericStats, b: &NumericStats) -> Result<Pair> {
        let bad = |side: &str, e: String| {
            Error::Internal(format!("{name}: the {side} profile's sketch: {e}"))
        };
        let sa = KeySketch::from_stored(&a.sketch).map_err(|e| bad("base", e))?;
        let sb = KeySketch::from_stored(&b.sketch).map_err(|e| bad("current", e))?;
        let g = Grid::new(&[&sa, &sb]).map_err(|(a, b)| {
            Error::Internal(format!(
                "{name}: the sketches map keys differently ({a:?}, {b:?})"
            ))
        })?;
        let shift = g.shift;
        let map = sa.map();
        let cells: Vec<Cell> = g
            .cells
            .into_iter()
            .map(|c| Cell {
                j: c.j,
                klo: c.klo,
                khi: c.khi,
                a: c.counts[0],
                b: c.counts[1],
            })
            .collect();
        let before = cells
            .iter()
            .scan((0, 0), |acc, c| {
                let at = *acc;
                *acc = (acc.0 + c.a, acc.1 + c.b);
                Some(at)
            })
            .collect();
        Ok(Pair {
            before,
            domain: a.domain,
            map,
            shift,
            cells,
            n: sa.total(),
            m: sb.total(),
            sides: [sa, sb],
            exact: BTreeMap::new(),
        })
    }

    /// KS and Wasserstein with their bounds, from the grid and the refined
    /// cells.
    pub fn metrics(&self) -> GridMetrics {
        let (n, m) = (self.n, self.m);
        let val = |k: u64| self.domain.to_f64(k);
        let gap = |ca: u64, cb: u64| share(ca, n) - share(cb, m);
        let (mut ca, mut cb) = (0u64, 0u64);
        let mut gm = GridMetrics {
            ks: 0.0,
            ks_hi: 0.0,
            w: 0.0,
            w_err: 0.0,
            per_cell: Vec::with_capacity(self.cells.len()),
        };
        for (idx, c) in self.cells.iter().enumerate() {
            let d_lo = gap(ca, cb);
            ca += c.a;
            cb += c.b;
            let d_hi = gap(ca, cb);
            let (upper, err) = match self.exact.get(&idx) {
                Some(e) => {
                    gm.w += e.w;
                    gm.ks = gm.ks.max(e.top);
                    (e.top, 0.0)
                }
                None => {
                    gm.ks = gm.ks.max(d_hi.abs());
                    let (p, q) = (share(c.a, n), share(c.b, m));
                    // Inside the cell, F_base − F_cur lies in
                    // [d_lo − q, d_lo + p].
                    let (lo_d, hi_d) = if c.klo == c.khi {
                        (d_lo.min(d_hi), d_lo.max(d_hi))
                    } else {
                        (d_lo - q, d_lo + p)
                    };
                    let upper = lo_d.abs().max(hi_d.abs());
                    // |D| over the cell's span is unknown in [lower, upper]:
                    // estimate the trapezoid of its ends.
                    let width = val(c.khi) - val(c.klo);
                    let mut err = 0.0;
                    if width > 0.0 {
                        let lower = if lo_d <= 0.0 && hi_d >= 0.0 {
                            0.0
                        } else {
                            lo_d.abs().min(hi_d.abs())
                        };
                        let est = 0.5 * (d_lo.abs() + d_hi.abs());
                        gm.w += width * est;
                        err = width * (upper - est).max(est - lower);
                    }
                    (upper, err)
                }
            };
            gm.ks_hi = gm.ks_hi.max(upper);
            gm.w_err += err;
            gm.per_cell.push((upper, err));
            // From the cell's end to the next cell: D is exactly d_hi.
            if let Some(next) = self.cells.get(idx + 1) {
                gm.w += (val(next.klo) - val(c.khi)) * d_hi.abs();
            }
        }
        gm.ks_hi = gm.ks_hi.max(gm.ks);
        gm
    }

    /// The cells not yet refined whose values could change what `want`
    /// names, most uncertain first: for KS, those where `|F_base − F_cur|`
    /// could exceed the known lower bound; for Wasserstein, those with an
    /// error.
    pub fn open_cells(&self, want: Want, gm: &GridMetrics) -> Vec<(usize, u64)> {
        // KS cells first (they decide the supremum), by their bound; then
        // Wasserstein cells by their error.
        let mut open: Vec<(bool, f64, usize)> = gm
            .per_cell
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.exact.contains_key(i))
            .filter_map(|(i, &(upper, err))| {
                let ks = want.ks.is_some_and(|floor| upper >= floor && upper > gm.ks);
                let w = want.wasserstein && err > 0.0;
                (ks || w).then_some((ks, if ks { upper } else { err }, i))
            })
            .collect();
        open.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.total_cmp(&x.1)).then(x.2.cmp(&y.2)));
        open.into_iter()
            .map(|(_, _, i)| (i, self.cells[i].a + self.cells[i].b))
            .collect()
    }

    /// The plan that collects side `side`'s values of `cells` (positions in
    /// the grid), or `None` when that side has no values there.
    pub fn plan(&self, side: usize, cells: &[usize]) -> Option<Pass2Plan> {
        let s = &self.sides[side];
        let (kmin, kmax) = (s.min_key()?, s.max_key()?);
        let (lo, hi) = (
            self.map.fwd(kmin) >> self.shift,
            self.map.fwd(kmax) >> self.shift,
        );
        // Buckets of 2^up cells, so that the side's range fits the slot
        // table of a profile's pass two (the GPU's too).
        let mut up = 0;
        while (hi >> up) - (lo >> up) >= 1 << PROFILE_BITS {
            up += 1;
        }
        let origin = lo >> up;
        let mut slot_of = vec![NO_SLOT; ((hi >> up) - origin + 1) as usize];
        let mut slot_count: Vec<u64> = Vec::new();
        for &i in cells {
            let j = self.cells[i].j;
            if (lo..=hi).contains(&j) {
                let b = ((j >> up) - origin) as usize;
                if slot_of[b] == NO_SLOT {
                    slot_of[b] = slot_count.len() as u16;
                    slot_count.push(0);
                }
            }
        }
        // What the side's sketch counted in each slot's buckets (a slot
        // of 2^up cells holds all of them).
        let d = self.shift - s.shift();
        for (i, &c) in s.counts().iter().enumerate() {
            let b = (((s.origin() + i as u64) >> d >> up) - origin) as usize;
            if let Some(&slot) = slot_of.get(b).filter(|&&x| x != NO_SLOT) {
                slot_count[slot as usize] += c;
            }
        }
        (!slot_count.is_empty()).then(|| {
            Pass2Plan::collect_only(
                self.domain,
                self.map,
                self.shift + up,
                origin,
                slot_of,
                slot_count,
            )
        })
    }

    /// Take in the values collected for `cells` (`got[side]` from
    /// [`Pair::plan`]'s plan for that side, checked against the sketch's
    /// counts by the engine).
    pub fn absorb(&mut self, cells: &[usize], got: [Option<&Pass2State>; 2]) {
        let at: std::collections::HashMap<u64, usize> =
            cells.iter().map(|&i| (self.cells[i].j, i)).collect();
        // Each side's collected runs in key order (each slot's runs are
        // sorted already), then both merged: (key, base count, current
        // count) per value, split by cell.
        let sorted = |st: Option<&Pass2State>| {
            let mut runs: Vec<(u64, u64)> = st
                .iter()
                .flat_map(|s| &s.cands)
                .flat_map(|c| c.runs().iter().copied())
                .collect();
            runs.sort_unstable_by_key(|r| r.0);
            runs
        };
        let (xs, ys) = (sorted(got[0]), sorted(got[1]));
        let mut values: BTreeMap<usize, Vec<(u64, u64, u64)>> = BTreeMap::new();
        let (mut i, mut j) = (0, 0);
        while i < xs.len() || j < ys.len() {
            let k = match (xs.get(i), ys.get(j)) {
                (Some(x), Some(y)) => x.0.min(y.0),
                (Some(x), None) => x.0,
                (None, Some(y)) => y.0,
                (None, None) => break,
            };
            let (mut p, mut q) = (0, 0);
            while xs.get(i).is_some_and(|x| x.0 == k) {
                p += xs[i].1;
                i += 1;
            }
            while ys.get(j).is_some_and(|y| y.0 == k) {
                q += ys[j].1;
                j += 1;
            }
            if let Some(&cell) = at.get(&(self.map.fwd(k) >> self.shift)) {
                values.entry(cell).or_default().push((k, p, q));
            }
        }
        drop((xs, ys));
        for &i in cells {
            let v = values.remove(&i).unwrap_or_default();
            let e = self.exact_cell(i, &v);
            self.exact.insert(i, e);
        }
    }

    /// A cell's KS and Wasserstein from its values `(key, base count,
    /// current count)`, ascending: `F_base − F_cur` after each value,
    /// constant in between.
    fn exact_cell(&self, i: usize, values: &[(u64, u64, u64)]) -> Exact {
        let (n, m) = (self.n, self.m);
        let val = |k: u64| self.domain.to_f64(k);
        let gap = |ca: u64, cb: u64| share(ca, n) - share(cb, m);
        let c = &self.cells[i];
        let (mut x, mut y) = self.before[i];
        let mut d = gap(x, y);
        let (mut at, mut top, mut w) = (val(c.klo), d.abs(), 0.0);
        for &(k, p, q) in values {
            let v = val(k);
            w += d.abs() * (v - at);
            x += p;
            y += q;
            d = gap(x, y);
            top = top.max(d.abs());
            at = v;
        }
        w += d.abs() * (val(c.khi) - at);
        Exact { top, w }
    }

    /// What Wasserstein is divided by (see [`Scale`]).
    pub fn scale(&self) -> Option<Scale> {
        let at = |s: &KeySketch, p: f64| {
            let n = (s.total() > 0).then_some(s.total())?;
            let (k, _) = s.approx_key_at(rank_index(p, n))?;
            Some(self.domain.to_f64(k))
        };
        let span = |s: &KeySketch, lo: f64, hi: f64| Some(at(s, hi)? - at(s, lo)?);
        let [a, b] = &self.sides;
        let candidates = [
            ("base_iqr", span(a, 0.25, 0.75)),
            ("base_p05_p95", span(a, 0.05, 0.95)),
            ("base_range", span(a, 0.0, 1.0)),
            ("current_iqr", span(b, 0.25, 0.75)),
            ("current_p05_p95", span(b, 0.05, 0.95)),
            ("current_range", span(b, 0.0, 1.0)),
        ];
        candidates.into_iter().find_map(|(by, v)| {
            v.filter(|&v| v > 0.0 && v.is_finite()).map(|value| Scale {
                by: by.into(),
                value,
            })
        })
    }

    /// Values collected so far (refined cells' values on both sides).
    pub fn refined_values(&self) -> u64 {
        self.exact
            .keys()
            .map(|&i| self.cells[i].a + self.cells[i].b)
            .sum()
    }

    /// The metric bins: whole cells grouped into at most `bins` bins of
    /// about equal pooled mass (the deciles of the two distributions mixed
    /// with equal weight), labelled by the shortest decimals that name them.
    pub fn metric_bins(&self, bins: usize) -> Aligned {
        let (n, m) = (self.n, self.m);
        let mut al = Aligned::default();
        let pooled = |ca: u64, cb: u64| match (n, m) {
            (0, _) => share(cb, m),
            (_, 0) => share(ca, n),
            _ => 0.5 * (share(ca, n) + share(cb, m)),
        };
        let cum: Vec<f64> = self
            .before
            .iter()
            .zip(&self.cells)
            .map(|(&(ba, bb), c)| pooled(ba + c.a, bb + c.b))
            .collect();
        let spans = equal_mass(&cum, bins);
        for &(first, last) in &spans {
            al.a.push(self.cells[first..=last].iter().map(|c| c.a).sum());
            al.b.push(self.cells[first..=last].iter().map(|c| c.b).sum());
        }
        let spans: Vec<(u64, u64)> = spans
            .iter()
            .map(|&(first, last)| (self.cells[first].klo, self.cells[last].khi))
            .collect();
        al.labels = super::label::bins(self.domain, &spans);
        al
    }
}

/// Sketches of one domain re-expressed on the coarsest of their grids:
/// each non-empty cell, with the value keys it can hold and each sketch's
/// count in it. Every count is exact, because the buckets of a finer grid
/// are parts of the coarser grid's buckets.
pub(crate) struct Grid {
    pub shift: u32,
    pub cells: Vec<GridCell>,
}

pub(crate) struct GridCell {
    /// Sketch keys `s` with `s >> shift == j`.
    pub j: u64,
    /// The smallest and largest value key the cell can hold, clipped to
    /// the sketches' range.
    pub klo: u64,
    pub khi: u64,
    /// Each sketch's values in the cell, in the order given.
    pub counts: Vec<u64>,
}

impl Grid {
    /// The grid of `sketches`; the error holds two maps that differ.
    pub fn new(sketches: &[&KeySketch]) -> std::result::Result<Grid, (KeyMap, KeyMap)> {
        let Some(first) = sketches.first() else {
            return Ok(Grid {
                shift: 0,
                cells: Vec::new(),
            });
        };
        let map = first.map();
        if let Some(s) = sketches.iter().find(|s| s.map() != map) {
            return Err((map, s.map()));
        }
        let shift = sketches.iter().map(|s| s.shift()).max().unwrap_or(0);
        let mut counts: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for (k, s) in sketches.iter().enumerate() {
            let d = shift - s.shift();
            for (i, &c) in s.counts().iter().enumerate() {
                if c > 0 {
                    let e = counts
                        .entry((s.origin() + i as u64) >> d)
                        .or_insert_with(|| vec![0; sketches.len()]);
                    e[k] += c;
                }
            }
        }
        let kmin = sketches.iter().filter_map(|s| s.min_key()).min();
        let kmax = sketches.iter().filter_map(|s| s.max_key()).max();
        let cells = counts
            .into_iter()
            .map(|(j, counts)| {
                let lo = j << shift;
                let hi = lo | ((1u64 << shift) - 1);
                GridCell {
                    j,
                    klo: map.inv(lo).0.max(kmin.unwrap_or(0)),
                    khi: map.inv(hi).1.min(kmax.unwrap_or(u64::MAX)),
                    counts,
                }
            })
            .collect();
        Ok(Grid { shift, cells })
    }
}

/// Consecutive cells grouped into at most `bins` spans (first and last
/// cell) of about equal mass, where `cum[i]` is the share of cells `0..=i`:
/// a span ends where the share reaches the next multiple of `1 / bins`,
/// and at the last cell.
pub(crate) fn equal_mass(cum: &[f64], bins: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut first = 0usize;
    let mut next = 1usize;
    let last = cum.len().saturating_sub(1);
    for (i, &c) in cum.iter().enumerate() {
        if i == last || c >= next as f64 / bins as f64 {
            spans.push((first, i));
            first = i + 1;
            while next < bins && c >= next as f64 / bins as f64 {
                next += 1;
            }
        }
    }
    spans
}
