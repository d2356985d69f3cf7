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

use super::keys::Domain;
use super::sketch::{KeyMap, KeySketch};

/// Rank index of quantile `p` among `n` sorted values (inverted CDF).
pub fn rank_index(p: f64, n: u64) -> u64 {
    debug_assert!(n > 0);
    let c = (p * n as f64).ceil();
    let k = if c >= 1.0 { c as u64 - 1 } else { 0 };
    k.min(n - 1)
}

/// Keys collected from one target bucket; ties are run-length encoded.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Candidates {
    /// Runs in arrival order: a repeat of the previous key only bumps its count.
    raw: Vec<(u64, u64)>,
    /// Sorted runs, one per distinct key.
    runs: Vec<(u64, u64)>,
}

const COMPACT_AT: usize = 1 << 16;

impl Candidates {
    #[inline]
    pub fn push(&mut self, k: u64) {
        match self.raw.last_mut() {
            Some((v, c)) if *v == k => *c += 1,
            _ => {
                self.raw.push((k, 1));
                if self.raw.len() >= COMPACT_AT.max(self.runs.len()) {
                    self.compact();
                }
            }
        }
    }

    /// Sort the raw runs into the run list.
    pub fn compact(&mut self) {
        if self.raw.is_empty() {
            return;
        }
        self.raw.sort_unstable_by_key(|r| r.0);
        let mut new_runs: Vec<(u64, u64)> = Vec::with_capacity(self.raw.len());
        for &(k, n) in &self.raw {
            match new_runs.last_mut() {
                Some((v, c)) if *v == k => *c += n,
                _ => new_runs.push((k, n)),
            }
        }
        self.raw.clear();
        self.runs = if self.runs.is_empty() {
            new_runs
        } else {
            merge_runs(&self.runs, &new_runs)
        };
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

    /// The distinct keys with their counts, ascending (after `compact`).
    pub fn runs(&self) -> &[(u64, u64)] {
        &self.runs
    }

    pub fn len(&self) -> u64 {
        self.raw
            .iter()
            .chain(&self.runs)
            .map(|&(_, c)| c)
            .sum::<u64>()
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

    #[cold]
    fn bin_by_search(&self, v: f64) -> usize {
        let i = self.edges.partition_point(|&e| e <= v);
        i.saturating_sub(1).min(self.edges.len() - 2)
    }

    pub fn bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// The bin of a value inside [min, max].
    #[inline(always)]
    pub fn bin(&self, v: f64) -> usize {
        let nb = self.edges.len() - 1;
        if self.overflow {
            return self.bin_by_search(v);
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
///
/// The equal-width histogram needs no per-value arithmetic either: a sketch
/// bucket whose lowest and highest keys fall in the same bin puts its whole
/// count there (the bin rule is monotonic), so only the few buckets that
/// straddle a bin edge (at most B − 1) have their keys collected and binned
/// one by one. Pass two is then, per value, one shift and one table lookup.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pass2Plan {
    pub domain: Domain,
    pub map: KeyMap,
    pub histogram: Option<EqualWidth>,
    /// Bin counts of the buckets that lie inside one bin.
    pub base_hist: Vec<u64>,
    /// Slots of the buckets that straddle a bin edge.
    pub straddling: Vec<u16>,
    /// Slot of each sketch bucket whose keys are collected, or `NO_SLOT`
    /// (travels as the `(bucket, slot)` pairs that are not).
    #[serde(with = "sparse_slots")]
    pub slot_of_bucket: Vec<u16>,
    /// The values pass one counted in each slot's buckets: what pass two
    /// must collect there.
    pub slot_count: Vec<u64>,
    pub shift: u32,
    pub origin: u64,
}

pub const NO_SLOT: u16 = u16::MAX;

/// A dense slot table as its length and the `(bucket, slot)` pairs that
/// hold a slot: a sketch has 2^16 buckets, a plan collects a few.
mod sparse_slots {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::NO_SLOT;

    pub fn serialize<S: Serializer>(v: &[u16], s: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(u32, u16)> = v
            .iter()
            .enumerate()
            .filter(|(_, &slot)| slot != NO_SLOT)
            .map(|(i, &slot)| (i as u32, slot))
            .collect();
        (v.len() as u32, pairs).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
        let (len, pairs): (u32, Vec<(u32, u16)>) = Deserialize::deserialize(d)?;
        if len > 1 << 24 {
            return Err(serde::de::Error::custom("slot table longer than a sketch"));
        }
        let mut v = vec![NO_SLOT; len as usize];
        for (i, slot) in pairs {
            *v.get_mut(i as usize)
                .ok_or_else(|| serde::de::Error::custom("slot of a bucket past the table"))? = slot;
        }
        Ok(v)
    }
}

/// Per-partition results of pass two for one column: the collected keys.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Pass2State {
    pub cands: Vec<Candidates>,
}

impl Pass2Plan {
    /// Plan pass two: which buckets to collect for the target indices and
    /// the histogram edges.
    pub fn new(
        sketch: &KeySketch,
        domain: Domain,
        hist: Option<EqualWidth>,
        targets: &[u64],
    ) -> Result<Pass2Plan, crate::Error> {
        let prefix = sketch.prefix_counts();
        let mut plan = Pass2Plan {
            domain,
            map: sketch.map(),
            base_hist: vec![0; hist.as_ref().map_or(0, |h| h.bins())],
            histogram: hist,
            straddling: Vec::new(),
            slot_of_bucket: vec![NO_SLOT; sketch.counts().len()],
            slot_count: Vec::new(),
            shift: sketch.shift(),
            origin: sketch.origin(),
        };
        for &k in targets {
            let j = bucket_holding(&prefix, k);
            let (lo, hi) = sketch.bucket_keys(j);
            if lo != hi {
                plan.slot(j, sketch.counts()[j])?;
            }
        }
        if let Some(h) = plan.histogram.clone() {
            for (j, &c) in sketch.counts().iter().enumerate() {
                if c == 0 {
                    continue;
                }
                let (lo, hi) = sketch.bucket_keys(j);
                let (a, b) = (h.bin(domain.to_f64(lo)), h.bin(domain.to_f64(hi)));
                if a == b {
                    plan.base_hist[a] += c;
                } else {
                    let s = plan.slot(j, c)?;
                    plan.straddling.push(s);
                }
            }
        }
        Ok(plan)
    }

    /// A plan that only collects keys: those whose bucket `b` (sketch key
    /// `>> shift`, less `origin`) has a slot in `slot_of_bucket`; slot `s`
    /// holds `slot_count[s]` values (compare's refinement). At most
    /// [`PROFILE_BITS`](super::sketch::PROFILE_BITS) bits of buckets, as
    /// for a profile's own pass two.
    pub fn collect_only(
        domain: Domain,
        map: KeyMap,
        shift: u32,
        origin: u64,
        slot_of_bucket: Vec<u16>,
        slot_count: Vec<u64>,
    ) -> Pass2Plan {
        debug_assert!(slot_of_bucket.len() <= 1 << super::sketch::PROFILE_BITS);
        debug_assert!(slot_count.len() < NO_SLOT as usize);
        Pass2Plan {
            domain,
            map,
            histogram: None,
            base_hist: Vec::new(),
            straddling: Vec::new(),
            slot_of_bucket,
            slot_count,
            shift,
            origin,
        }
    }

    fn slot(&mut self, bucket: usize, count: u64) -> Result<u16, crate::Error> {
        if self.slot_of_bucket[bucket] != NO_SLOT {
            return Ok(self.slot_of_bucket[bucket]);
        }
        if self.slot_count.len() >= NO_SLOT as usize {
            return Err(crate::Error::InvalidOption(
                "too many quantile targets and bins (at most 65,534)".into(),
            ));
        }
        let s = self.slot_count.len() as u16;
        self.slot_of_bucket[bucket] = s;
        self.slot_count.push(count);
        Ok(s)
    }

    /// Whether pass two collected every value pass one counted in the
    /// collected buckets (a file read twice may have changed in between):
    /// the first bucket that differs, in words.
    pub fn check(&self, state: &Pass2State) -> Result<(), String> {
        for (s, &want) in self.slot_count.iter().enumerate() {
            let got = state.cands.get(s).map_or(0, Candidates::len);
            if got != want {
                return Err(format!(
                    "{got} values in a range where the first reading counted {want}"
                ));
            }
        }
        Ok(())
    }

    /// The plan's tables agree with one another (a plan read from outside
    /// indexes with them).
    pub fn check_shape(&self) -> Result<(), String> {
        let slots = self.slot_count.len();
        let bins = self.histogram.as_ref().map_or(0, EqualWidth::bins);
        let ok = slots < NO_SLOT as usize
            && self.base_hist.len() == bins
            && self
                .slot_of_bucket
                .iter()
                .chain(&self.straddling)
                .all(|&s| s == NO_SLOT || (s as usize) < slots)
            && self.histogram.as_ref().is_none_or(|h| h.edges.len() >= 2);
        if ok {
            Ok(())
        } else {
            Err("a pass-two plan whose tables disagree".into())
        }
    }

    pub fn needs_pass(&self) -> bool {
        !self.slot_count.is_empty()
    }

    pub fn new_state(&self) -> Pass2State {
        Pass2State {
            cands: vec![Candidates::default(); self.slot_count.len()],
        }
    }

    /// The exact equal-width histogram counts once pass two is done.
    pub fn histogram_counts(&self, state: &Pass2State) -> Vec<u64> {
        let mut counts = self.base_hist.clone();
        if let Some(h) = &self.histogram {
            for &s in &self.straddling {
                for &(k, c) in &state.cands[s as usize].runs {
                    counts[h.bin(self.domain.to_f64(k))] += c;
                }
            }
        }
        counts
    }
}

/// The bucket `j` with `prefix[j] ≤ k < prefix[j + 1]`.
pub fn bucket_holding(prefix: &[u64], k: u64) -> usize {
    prefix.partition_point(|&p| p <= k) - 1
}

impl Pass2State {
    pub fn merge(&mut self, o: Pass2State) {
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
