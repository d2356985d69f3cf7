//! The mergeable sketch of a numeric column: a radix histogram of keys.
//!
//! Values are first mapped to order-preserving `u64` keys (see
//! [`super::keys`]). The sketch counts keys in `2^bits` buckets of equal width
//! *in key space*: bucket `i` holds keys `k` with `(k >> shift) - origin == i`.
//! The range adapts to the data: when a key falls outside, `shift` grows
//! until `[min, max]` fits again and old buckets fold into new ones, which is
//! exact because bucket edges are aligned powers of two. For floats, equal
//! widths in key space are equal *relative* widths in value space (a fixed
//! number of buckets per binade, like DDSketch), so data with a large offset
//! (1.7e9 + noise) or heavy tails still spreads over many buckets.
//!
//! What it guarantees: the number of values below any bucket edge is exact, so
//! the rank of any value is known to within the count of its bucket, and a
//! quantile to within its bucket's key range. The profile's exact quantiles
//! use this in a second pass: the bucket holding each target rank is known
//! after pass one, and pass two collects only the values in those buckets.
//!
//! Merging two sketches is exact (no error beyond that of coarser buckets),
//! associative and commutative.

use serde::{Deserialize, Serialize};

/// Bits of bucket index while profiling (65,536 buckets).
pub const PROFILE_BITS: u32 = 16;
/// Bits of bucket index kept in a profile JSON by default (4,096 buckets).
pub const STORED_BITS: u32 = 12;

/// The order-preserving map from value keys to the keys the sketch counts.
///
/// For floats, equal widths in key space give every binade the same number
/// of buckets, and a column that crosses zero (normal data around 0.5, say)
/// spans all 2,000 binades between its negative and positive values, most of
/// them empty (1e-300 … 1e-10). `FloatSquash` compresses the keys of values
/// below 2^-40 in magnitude 4096-fold, so such data gets ~25× finer buckets.
/// Any monotonic map keeps the sketch exact; only resolution changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyMap {
    Identity,
    FloatSquash,
}

const ZERO: u64 = 1 << 63;
/// Bits of |x| = 2^-40: magnitudes below it are squashed.
const TINY: u64 = (1023 - 40) << 52;
const SQUASH: u32 = 12;

impl KeyMap {
    pub fn for_domain(d: super::keys::Domain) -> KeyMap {
        match d {
            super::keys::Domain::Float => KeyMap::FloatSquash,
            _ => KeyMap::Identity,
        }
    }

    #[inline(always)]
    fn h(a: u64) -> u64 {
        if a < TINY {
            a >> SQUASH
        } else {
            a - TINY + (TINY >> SQUASH)
        }
    }

    /// The range of magnitudes `a` with `h(a) == t` (clamped to the
    /// magnitudes that exist, below 2^63, where `t` is beyond h's image: a
    /// coarse bucket's edge can be).
    fn h_inv(t: u64) -> (u64, u64) {
        if t < TINY >> SQUASH {
            let lo = t << SQUASH;
            (lo, (lo | ((1 << SQUASH) - 1)).min(TINY - 1))
        } else {
            let a = (t - (TINY >> SQUASH)).saturating_add(TINY).min(ZERO - 1);
            (a, a)
        }
    }

    /// The sketch key of a value key (monotonic, not injective).
    #[inline(always)]
    pub fn fwd(self, k: u64) -> u64 {
        match self {
            KeyMap::Identity => k,
            KeyMap::FloatSquash => {
                // Branch-free: m is all ones below ZERO (negative floats),
                // where the magnitude is ZERO - 1 - k and the result mirrors.
                let m = ((!k) as i64 >> 63) as u64;
                let a = (k ^ m) & !ZERO;
                ZERO.wrapping_add(Self::h(a) ^ m)
            }
        }
    }

    /// All value keys whose sketch key is `s`, as an inclusive range.
    pub fn inv(self, s: u64) -> (u64, u64) {
        match self {
            KeyMap::Identity => (s, s),
            KeyMap::FloatSquash => {
                if s >= ZERO {
                    let (lo, hi) = Self::h_inv(s - ZERO);
                    (ZERO + lo, ZERO + hi)
                } else {
                    let (lo, hi) = Self::h_inv(ZERO - 1 - s);
                    (ZERO - 1 - hi, ZERO - 1 - lo)
                }
            }
        }
    }
}

/// `n` zero counts, written rather than allocated zeroed: counts are
/// read before they are written (`+=`), and a read of fresh zeroed memory
/// maps the shared zero page, which the first write then copies, flushing
/// every core's TLB. A run with many sketches (slices, windows) spent a
/// fifth of its time there.
#[allow(clippy::slow_vector_initialization)] // deliberately not calloc
fn zeroed(n: u64) -> Vec<u64> {
    let mut v = Vec::with_capacity(n as usize);
    v.resize(n as usize, 0);
    v
}

/// A radix histogram of order-preserving keys.
/// Travels (in partial states) as its stored form, which rebuilds it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "StoredSketch", try_from = "StoredSketch")]
pub struct KeySketch {
    map: KeyMap,
    bits: u32,
    shift: u32,
    origin: u64,
    /// Dense counts, `1 << bits` long once the first key arrived, else empty.
    counts: Vec<u64>,
    /// Smallest and largest *sketch* key seen.
    min: u64,
    max: u64,
    /// Smallest and largest value key seen.
    kmin: u64,
    kmax: u64,
    total: u64,
}

/// The stored, sparse form of a [`KeySketch`], as written in profile JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSketch {
    /// Always "key_histogram".
    pub kind: String,
    /// The map from value keys to sketch keys.
    pub map: KeyMap,
    /// Number of index bits: at most `2^bits` buckets.
    pub bits: u32,
    /// Bucket `i` holds keys `k` with `(map(k) >> shift) - origin == i`.
    pub shift: u32,
    pub origin: u64,
    /// Smallest and largest value key seen.
    pub min_key: u64,
    pub max_key: u64,
    /// Non-empty buckets as `[index, count]`, ascending.
    pub buckets: Vec<(u32, u64)>,
}

impl KeySketch {
    pub fn new(bits: u32, map: KeyMap) -> Self {
        assert!((1..=24).contains(&bits), "sketch bits out of range");
        KeySketch {
            map,
            kmin: u64::MAX,
            kmax: 0,
            bits,
            shift: 0,
            origin: 0,
            counts: Vec::new(),
            min: u64::MAX,
            max: 0,
            total: 0,
        }
    }

    pub fn total(&self) -> u64 {
        self.total
    }
    pub fn shift(&self) -> u32 {
        self.shift
    }
    pub fn origin(&self) -> u64 {
        self.origin
    }
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }
    pub fn map(&self) -> KeyMap {
        self.map
    }
    pub fn min_key(&self) -> Option<u64> {
        (self.total > 0).then_some(self.kmin)
    }
    pub fn max_key(&self) -> Option<u64> {
        (self.total > 0).then_some(self.kmax)
    }

    fn nb(&self) -> u64 {
        1u64 << self.bits
    }

    /// Smallest shift ≥ `from` at which `[lo, hi]` fits in the buckets.
    fn shift_for(&self, lo: u64, hi: u64, from: u32) -> u32 {
        let mut s = from;
        while s < 64 && (hi >> s) - (lo >> s) >= self.nb() {
            s += 1;
        }
        s
    }

    /// Widen the range so that sketch keys `[lo, hi]` fit, folding buckets.
    fn ensure_range(&mut self, lo: u64, hi: u64) {
        if self.total == 0 && self.counts.is_empty() {
            self.shift = self.shift_for(lo, hi, 0);
            self.origin = lo >> self.shift;
            self.counts = zeroed(self.nb());
            self.min = lo;
            self.max = hi;
            return;
        }
        if self.counts.is_empty() {
            self.counts = zeroed(self.nb());
        }
        let new_lo = lo.min(self.min_or(lo));
        let new_hi = hi.max(self.max_or(hi));
        let cur_lo = self.origin << self.shift;
        let fits = new_lo >= cur_lo && (new_hi >> self.shift) - self.origin < self.nb();
        if !fits {
            let s = self.shift_for(new_lo, new_hi, self.shift);
            let origin = new_lo >> s;
            let mut folded = zeroed(self.nb());
            let d = s - self.shift;
            for (i, &c) in self.counts.iter().enumerate() {
                if c != 0 {
                    let j = ((self.origin + i as u64) >> d) - origin;
                    folded[j as usize] += c;
                }
            }
            self.counts = folded;
            self.shift = s;
            self.origin = origin;
        }
        if self.total == 0 {
            self.min = lo;
            self.max = hi;
        }
    }

    fn min_or(&self, d: u64) -> u64 {
        if self.total > 0 {
            self.min
        } else {
            d
        }
    }
    fn max_or(&self, d: u64) -> u64 {
        if self.total > 0 {
            self.max
        } else {
            d
        }
    }

    /// Count a batch of value keys whose min and max are `lo` and `hi`.
    pub fn add_keys(&mut self, keys: &[u64], lo: u64, hi: u64) {
        if keys.is_empty() {
            return;
        }
        let (slo, shi) = (self.map.fwd(lo), self.map.fwd(hi));
        self.ensure_range(slo, shi);
        let shift = self.shift;
        let origin = self.origin;
        let counts = &mut self.counts[..];
        match self.map {
            KeyMap::Identity => {
                for &k in keys {
                    counts[((k >> shift) - origin) as usize] += 1;
                }
            }
            map => {
                for &k in keys {
                    counts[((map.fwd(k) >> shift) - origin) as usize] += 1;
                }
            }
        }
        self.min = self.min.min(slo);
        self.max = self.max.max(shi);
        self.kmin = self.kmin.min(lo);
        self.kmax = self.kmax.max(hi);
        self.total += keys.len() as u64;
    }

    /// A sketch of `n` value keys in `[lo, hi]` from dense bucket counts made
    /// (on a device) at `(shift, origin)`, which must be those of
    /// [`Self::add_keys`] for the range `[lo, hi]` alone (the smallest shift
    /// that fits it, from 0). Merging such chunk sketches in any order gives
    /// the sketch of all the keys, exactly.
    pub fn from_dense(
        bits: u32,
        map: KeyMap,
        (shift, origin): (u32, u64),
        counts: &[u32],
        (lo, hi): (u64, u64),
        n: u64,
    ) -> Result<KeySketch, String> {
        let mut s = KeySketch::new(bits, map);
        if n == 0 {
            return Ok(s);
        }
        let (slo, shi) = (map.fwd(lo), map.fwd(hi));
        if s.shift_for(slo, shi, 0) != shift || slo >> shift != origin {
            return Err(format!(
                "device sketch range (shift {shift}, origin {origin}) does not match its keys [{lo}, {hi}]"
            ));
        }
        if counts.len() != s.nb() as usize {
            return Err(format!(
                "{} device buckets, expected {}",
                counts.len(),
                s.nb()
            ));
        }
        s.ensure_range(slo, shi);
        for (a, &c) in s.counts.iter_mut().zip(counts) {
            *a = c as u64;
        }
        s.kmin = lo;
        s.kmax = hi;
        s.total = n;
        Ok(s)
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Bucket index of a value key (which must lie inside the range).
    #[inline(always)]
    pub fn bucket_of(&self, k: u64) -> usize {
        ((self.map.fwd(k) >> self.shift) - self.origin) as usize
    }

    /// The value keys a bucket covers, clipped to the observed [min, max].
    pub fn bucket_keys(&self, i: usize) -> (u64, u64) {
        let lo = (self.origin + i as u64) << self.shift;
        let hi = lo | ((1u64 << self.shift) - 1);
        let (klo, khi) = (self.map.inv(lo).0, self.map.inv(hi).1);
        (klo.max(self.kmin), khi.min(self.kmax))
    }

    /// Fold another sketch (with the same map) into this one.
    pub fn merge(&mut self, o: &KeySketch) {
        if o.total == 0 {
            return;
        }
        debug_assert_eq!(self.map, o.map, "sketches of different domains");
        self.kmin = self.kmin.min(o.kmin);
        self.kmax = self.kmax.max(o.kmax);
        self.ensure_range(o.min, o.max);
        if o.shift > self.shift {
            // Re-express self at the other's coarser resolution first.
            let (lo, hi) = (self.min.min(o.min), self.max.max(o.max));
            self.ensure_range(lo, hi);
            self.coarsen_to(o.shift);
        }
        let d = self.shift - o.shift;
        for (i, &c) in o.counts.iter().enumerate() {
            if c != 0 {
                let j = ((o.origin + i as u64) >> d) - self.origin;
                self.counts[j as usize] += c;
            }
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.total += o.total;
    }

    /// Coarsen to at least shift `s` (no-op if already coarser).
    fn coarsen_to(&mut self, s: u32) {
        if s <= self.shift {
            return;
        }
        let d = s - self.shift;
        let origin = self.origin >> d;
        let mut folded = zeroed(self.nb());
        for (i, &c) in self.counts.iter().enumerate() {
            if c != 0 {
                let j = ((self.origin + i as u64) >> d) - origin;
                folded[j as usize] += c;
            }
        }
        self.counts = folded;
        self.shift = s;
        self.origin = origin;
    }

    /// Number of keys in buckets strictly before bucket `i`, for every `i`
    /// (length `nb + 1`).
    pub fn prefix_counts(&self) -> Vec<u64> {
        let mut p = Vec::with_capacity(self.counts.len() + 1);
        let mut acc = 0;
        p.push(0);
        for &c in &self.counts {
            acc += c;
            p.push(acc);
        }
        p
    }

    /// The sparse form with at most `2^bits` buckets (coarsened if needed).
    pub fn to_stored(&self, bits: u32) -> StoredSketch {
        let mut s = self.clone();
        if bits < s.bits && s.total > 0 {
            // Re-bucket into a sketch of fewer bits covering the same range.
            let mut t = KeySketch::new(bits, s.map);
            t.ensure_range(s.min, s.max);
            t.coarsen_to(s.shift);
            let d = t.shift - s.shift;
            for (i, &c) in s.counts.iter().enumerate() {
                if c != 0 {
                    let j = ((s.origin + i as u64) >> d) - t.origin;
                    t.counts[j as usize] += c;
                }
            }
            t.min = s.min;
            t.max = s.max;
            t.kmin = s.kmin;
            t.kmax = s.kmax;
            t.total = s.total;
            s = t;
        }
        StoredSketch {
            kind: "key_histogram".into(),
            map: s.map,
            bits: s.bits,
            shift: s.shift,
            origin: s.origin,
            min_key: if s.total > 0 { s.kmin } else { 0 },
            max_key: if s.total > 0 { s.kmax } else { 0 },
            buckets: s
                .counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c != 0)
                .map(|(i, &c)| (i as u32, c))
                .collect(),
        }
    }

    /// Rebuild from the stored form, checking that it is consistent.
    pub fn from_stored(st: &StoredSketch) -> Result<KeySketch, String> {
        if st.kind != "key_histogram" {
            return Err(format!("unknown sketch kind {:?}", st.kind));
        }
        if !(1..=24).contains(&st.bits) || st.shift >= 64 {
            return Err("sketch bits or shift out of range".into());
        }
        let mut s = KeySketch::new(st.bits, st.map);
        if st.buckets.is_empty() {
            return Ok(s);
        }
        s.counts = vec![0; s.nb() as usize];
        s.shift = st.shift;
        s.origin = st.origin;
        for &(i, c) in &st.buckets {
            if i as u64 >= s.nb() {
                return Err(format!("sketch bucket {i} out of range"));
            }
            // Counts from outside: a sum that overflows is not a profile.
            let add = |x: u64| x.checked_add(c).ok_or("sketch counts overflow");
            s.counts[i as usize] = add(s.counts[i as usize])?;
            s.total = add(s.total)?;
        }
        s.kmin = st.min_key;
        s.kmax = st.max_key;
        s.min = s.map.fwd(st.min_key);
        s.max = s.map.fwd(st.max_key);
        let inside = |k: u64| {
            (k >> s.shift)
                .checked_sub(s.origin)
                .is_some_and(|i| i < s.nb())
        };
        if s.min > s.max || !inside(s.min) || !inside(s.max) {
            return Err("sketch min/max keys outside its buckets".into());
        }
        // The smallest and largest keys lie in the first and last non-empty
        // buckets (re-bucketing relies on it).
        let (first, last) = ((s.min >> s.shift) - s.origin, (s.max >> s.shift) - s.origin);
        let lo = s.counts.iter().position(|&c| c > 0).map(|i| i as u64);
        let hi = s.counts.iter().rposition(|&c| c > 0).map(|i| i as u64);
        if lo != Some(first) || hi != Some(last) {
            return Err("sketch buckets do not start at its min key and end at its max key".into());
        }
        Ok(s)
    }

    /// An estimate of the key at 0-based sorted index `k` and the largest
    /// possible error in rank (the count of the bucket it lies in): the
    /// smallest key of the bucket holding index `k`, clipped to [min, max].
    pub fn approx_key_at(&self, k: u64) -> Option<(u64, u64)> {
        if k >= self.total {
            return None;
        }
        if k == 0 {
            return Some((self.kmin, 0));
        }
        if k == self.total - 1 {
            return Some((self.kmax, 0));
        }
        let mut acc = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            if acc + c > k {
                return Some((self.bucket_keys(i).0, c));
            }
            acc += c;
        }
        None
    }
}

impl From<KeySketch> for StoredSketch {
    fn from(s: KeySketch) -> StoredSketch {
        s.to_stored(s.bits)
    }
}

impl TryFrom<StoredSketch> for KeySketch {
    type Error = String;
    fn try_from(st: StoredSketch) -> Result<KeySketch, String> {
        KeySketch::from_stored(&st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_squash_is_monotonic_and_inverts() {
        use crate::profile::keys::key_f64;
        let m = KeyMap::FloatSquash;
        let xs = [
            -1e300, -3.0, -1e-9, -1e-13, -1e-300, -0.0, 0.0, 5e-324, 1e-13, 1e-12, 1e-9, 0.5, 1e300,
        ];
        let keys: Vec<u64> = xs.iter().map(|&x| key_f64(x)).collect();
        for w in keys.windows(2) {
            assert!(m.fwd(w[0]) <= m.fwd(w[1]));
        }
        for &k in &keys {
            let (lo, hi) = m.inv(m.fwd(k));
            assert!(lo <= k && k <= hi, "{k:x} not in [{lo:x}, {hi:x}]");
            assert_eq!(m.fwd(lo), m.fwd(k));
            assert_eq!(m.fwd(hi), m.fwd(k));
        }
        // Large magnitudes map one to one.
        let k = key_f64(0.5);
        assert_eq!(m.inv(m.fwd(k)), (k, k));
        // Sketch keys beyond h's image (a coarse bucket's far edge) invert
        // to the extreme keys instead of overflowing.
        assert_eq!(m.inv(0).0, 0);
        assert_eq!(m.inv(u64::MAX).1, u64::MAX);
        let (lo, hi) = m.inv(ZERO - 1 - (ZERO - 1));
        assert!(lo <= hi);
    }

    #[test]
    fn fold_and_merge_keep_counts() {
        let keys_a: Vec<u64> = (0..1000u64).map(|i| i * 3).collect();
        let keys_b: Vec<u64> = (0..1000u64).map(|i| (1 << 40) | (i * 7919)).collect();
        let mut a = KeySketch::new(8, KeyMap::Identity);
        a.add_keys(&keys_a, 0, 2997);
        let mut b = KeySketch::new(8, KeyMap::Identity);
        b.add_keys(
            &keys_b,
            *keys_b.iter().min().unwrap(),
            *keys_b.iter().max().unwrap(),
        );
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.total(), 2000);
        assert_eq!(ab.counts().iter().sum::<u64>(), 2000);
        // Every key falls in the bucket the sketch claims.
        let mut whole = KeySketch::new(8, KeyMap::Identity);
        let mut all = keys_a.clone();
        all.extend(&keys_b);
        whole.add_keys(&all, 0, *keys_b.iter().max().unwrap());
        assert_eq!(whole, ab);
        let st = ab.to_stored(4);
        let back = KeySketch::from_stored(&st).unwrap();
        assert_eq!(back.total(), 2000);
        assert!(back.counts().len() == 16);
    }
}
