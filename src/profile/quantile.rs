//! Exact quantiles and histograms from the sketch plus a second pass.
//!
//! Rank definition (the same on every backend, numpy's
//! `method="inverted_cdf"`): for n finite values sorted x₀ ≤ … ≤ xₙ₋₁ the
//! quantile at rank p is x_k with k = max(0, ⌈p·n⌉ − 1), clamped to n − 1.
//! It is always a value of the data.
//!
//! After pass one the [`KeySketch`] says exactly how many values lie below
//! each bucket, so the bucket that holds each target index k is known. Pass
//! two collects only the keys that fall in those buckets ([`Candidates`]),
//! and the target is picked from them by its offset inside the bucket. A
//! bucket that covers a single key needs no collecting at all. Ties are
//! stored run-length encoded once a candidate list grows, so a column that is
//! 30% zeros costs one run, not millions of keys.
//!
//! The equal-width histogram follows numpy.histogram exactly: edges
//! eᵢ = min + i·((max − min)/B) with e_B = max, bin index ⌊(v − min)·B/(max −
//! min)⌋ then corrected by comparing with the edges, the last bin closed.

use super::sketch::KeySketch;

/// Rank index of quantile `p` among `n` sorted values (inverted CDF).
pub fn rank_index(p: f64, n: u64) -> u64 {
    debug_assert!(n > 0);
    let c = (p * n as f64).ceil();
    let k = if c >= 1.0 { c as u64 - 1 } else { 0 };
    k.min(n - 1)
}

/// Keys collected from one target bucket; ties are run-length encoded.
#[derive(Debug, Default, Clone)]
pub struct Candidates {
    raw: Vec<u64>,
    runs: Vec<(u64, u64)>,
}

const COMPACT_AT: usize = 1 << 16;

impl Candidates {
    #[inline]
    pub fn push(&mut self, k: u64) {
        self.raw.push(k);
        if self.raw.len() >= COMPACT_AT.max(self.runs.len()) {
            self.compact();
        }
    }

    /// Sort the raw keys into the run list.
    pub fn compact(&mut self) {
        if self.raw.is_empty() {
            return;
        }
        self.raw.sort_unstable();
        let mut new_runs: Vec<(u64, u64)> = Vec::new();
        for &k in &self.raw {
            match new_runs.last_mut() {
                Some((v, c)) if *v == k => *c += 1,
                _ => new_runs.push((k, 1)),
            }
        }
        self.raw.clear();
        self.runs = merge_runs(&self.runs, &new_runs);
    }

    pub fn absorb(&mut self, mut o: Candidates) {
        o.compact();
        self.compact();
        self.runs = merge_runs(&self.runs, &o.runs);
    }

    /// The key at 0-based index `i` in sorted order (after `compact`).
    pub fn select(&self, i: u64) -> Option<u64> {
        let mut acc = 0;
        for &(k, c) in &self.runs {
            if i < acc + c {
                return Some(k);
            }
            acc += c;
        }
        None
    }

    /// How many collected keys are < `k` (after `compact`).
    pub fn count_below(&self, k: u64) -> u64 {
        let end = self.runs.partition_point(|&(v, _)| v < k);
        self.runs[..end].iter().map(|&(_, c)| c).sum()
    }

    pub fn len(&self) -> u64 {
        self.raw.len() as u64 + self.runs.iter().map(|&(_, c)| c).sum::<u64>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn merge_runs(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = j >= b.len() || (i < a.len() && a[i].0 <= b[j].0);
        let r = if take_a {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        match out.last_mut() {
            Some((v, c)) if *v == r.0 => *c += r.1,
            _ => out.push(r),
        }
    }
    out
}

/// The equal-width histogram rule of numpy.histogram for a fixed [min, max].
#[derive(Debug, Clone)]
pub struct EqualWidth {
    first: f64,
    norm: f64,
    pub edges: Vec<f64>,
    /// max − min overflowed f64: bins are found by binary search instead.
    overflow: bool,
}

impl EqualWidth {
    /// `bins` ≥ 1 and `min < max`, both finite.
    pub fn new(min: f64, max: f64, bins: usize) -> Self {
        let delta = max - min;
        let b = bins as f64;
        let overflow = !delta.is_finite();
        let step = if overflow {
            max / b - min / b
        } else {
            delta / b
        };
        let mut edges: Vec<f64> = if overflow {
            // Halved so that no intermediate overflows.
            (0..=bins)
                .map(|i| 2.0 * (i as f64 * (step * 0.5) + min * 0.5))
                .collect()
        } else {
            (0..=bins).map(|i| i as f64 * step + min).collect()
        };
        edges[bins] = max;
        EqualWidth {
            first: min,
            norm: b / delta,
            edges,
            overflow,
        }
    }

    pub fn bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// The bin of a value inside [min, max].
    #[inline(always)]
    pub fn bin(&self, v: f64) -> usize {
        let nb = self.edges.len() - 1;
        if self.overflow {
            let i = self.edges.partition_point(|&e| e <= v);
            return i.saturating_sub(1).min(nb - 1);
        }
        let mut i = ((v - self.first) * self.norm) as usize;
        if i >= nb {
            i = nb - 1;
        }
        if v < self.edges[i] {
            i = i.saturating_sub(1);
        } else if i != nb - 1 && v >= self.edges[i + 1] {
            i += 1;
        }
        i
    }
}

/// Everything pass two needs for one numeric column.
#[derive(Debug, Clone)]
pub struct Pass2Plan {
    pub histogram: Option<EqualWidth>,
    /// Slot of each sketch bucket that holds a target, or `NO_SLOT`.
    pub slot_of_bucket: Vec<u16>,
    /// The sketch bucket of each slot.
    pub slot_bucket: Vec<usize>,
    pub shift: u32,
    pub origin: u64,
}

pub const NO_SLOT: u16 = u16::MAX;

/// Per-partition results of pass two for one column.
#[derive(Debug, Clone, Default)]
pub struct Pass2State {
    pub hist: Vec<u64>,
    pub cands: Vec<Candidates>,
}

impl Pass2Plan {
    /// Plan pass two: which buckets to collect for the target indices.
    pub fn new(
        sketch: &KeySketch,
        hist: Option<EqualWidth>,
        targets: &[u64],
    ) -> Result<Pass2Plan, crate::Error> {
        let prefix = sketch.prefix_counts();
        let mut slot_of_bucket = vec![NO_SLOT; sketch.counts().len()];
        let mut slot_bucket = Vec::new();
        for &k in targets {
            let j = bucket_holding(&prefix, k);
            let (lo, hi) = sketch.bucket_keys(j);
            if lo == hi || slot_of_bucket[j] != NO_SLOT {
                continue;
            }
            if slot_bucket.len() >= NO_SLOT as usize {
                return Err(crate::Error::InvalidOption(
                    "too many quantile targets (at most 65,534)".into(),
                ));
            }
            slot_of_bucket[j] = slot_bucket.len() as u16;
            slot_bucket.push(j);
        }
        Ok(Pass2Plan {
            histogram: hist,
            slot_of_bucket,
            slot_bucket,
            shift: sketch.shift(),
            origin: sketch.origin(),
        })
    }

    pub fn needs_pass(&self) -> bool {
        self.histogram.is_some() || !self.slot_bucket.is_empty()
    }

    pub fn new_state(&self) -> Pass2State {
        Pass2State {
            hist: vec![0; self.histogram.as_ref().map_or(0, |h| h.bins())],
            cands: vec![Candidates::default(); self.slot_bucket.len()],
        }
    }
}

/// The bucket j with prefix[j] ≤ k < prefix[j + 1].
pub fn bucket_holding(prefix: &[u64], k: u64) -> usize {
    prefix.partition_point(|&p| p <= k) - 1
}

impl Pass2State {
    pub fn merge(&mut self, o: Pass2State) {
        for (a, b) in self.hist.iter_mut().zip(o.hist) {
            *a += b;
        }
        for (a, b) in self.cands.iter_mut().zip(o.cands) {
            a.absorb(b);
        }
    }
}

/// The exact results of one column after both passes.
pub struct Resolved<'a> {
    pub sketch: &'a KeySketch,
    pub prefix: Vec<u64>,
    pub plan: &'a Pass2Plan,
    pub state: &'a Pass2State,
}

impl Resolved<'_> {
    /// The key at sorted index `k`.
    pub fn key_at(&self, k: u64) -> Result<u64, crate::Error> {
        let j = bucket_holding(&self.prefix, k);
        let (lo, hi) = self.sketch.bucket_keys(j);
        if lo == hi {
            return Ok(lo);
        }
        let slot = self.plan.slot_of_bucket[j];
        let c = self.state.cands.get(slot as usize).ok_or_else(|| {
            crate::Error::Internal(format!("quantile bucket {j} was not collected"))
        })?;
        c.select(k - self.prefix[j]).ok_or_else(|| {
            crate::Error::Internal(format!(
                "pass two collected {} values in bucket {j}, the sketch counted {}",
                c.len(),
                self.prefix[j + 1] - self.prefix[j]
            ))
        })
    }

    /// Number of keys < `key`, where `key` is a key returned by `key_at`.
    pub fn count_below(&self, key: u64) -> u64 {
        let j = self.sketch.bucket_of(key);
        let (lo, hi) = self.sketch.bucket_keys(j);
        if lo == hi {
            return self.prefix[j];
        }
        let slot = self.plan.slot_of_bucket[j];
        let below = self
            .state
            .cands
            .get(slot as usize)
            .map_or(0, |c| c.count_below(key));
        self.prefix[j] + below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_index_is_inverted_cdf() {
        assert_eq!(rank_index(0.0, 10), 0);
        assert_eq!(rank_index(0.1, 10), 0);
        assert_eq!(rank_index(0.11, 10), 1);
        assert_eq!(rank_index(0.5, 10), 4);
        assert_eq!(rank_index(1.0, 10), 9);
        assert_eq!(rank_index(0.5, 1), 0);
    }

    #[test]
    fn numpy_edges_and_bins() {
        let h = EqualWidth::new(0.0, 1.0, 10);
        assert_eq!(h.bin(0.0), 0);
        assert_eq!(h.bin(1.0), 9);
        // e₃ = 3·0.1 = 0.30000000000000004 > 0.3, so numpy puts 0.3 in bin 2.
        assert_eq!(h.bin(0.3), 2);
        let wide = EqualWidth::new(-f64::MAX, f64::MAX, 4);
        assert_eq!(wide.bin(-f64::MAX), 0);
        assert_eq!(wide.bin(f64::MAX), 3);
        assert_eq!(wide.bin(0.0), 2);
    }

    #[test]
    fn candidates_runs() {
        let mut c = Candidates::default();
        for k in [5, 3, 3, 9, 3] {
            c.push(k);
        }
        c.compact();
        assert_eq!(c.select(0), Some(3));
        assert_eq!(c.select(2), Some(3));
        assert_eq!(c.select(3), Some(5));
        assert_eq!(c.count_below(5), 3);
        assert_eq!(c.count_below(10), 5);
    }
}
