//! Mean, variance, skewness and kurtosis as a mergeable state.
//!
//! Each batch is summarised with a corrected two-pass algorithm (mean, a
//! correction term Σ(x − m)/n, then central power sums around the corrected
//! mean), which is exact to a few ulps even for data such as 1.7e9 + N(0, 1)
//! where a raw sum of squares loses every significant digit. Batch states are
//! combined with the pairwise update of Chan, Golub and LeVeque (1979)
//! extended to third and fourth moments by Pébay, "Formulas for Robust,
//! One-Pass Parallel Computation of Covariances and Arbitrary-Order
//! Statistical Moments", Sandia report SAND2008-6212 (2008), eq. 3.1.
//!
//! 64-bit integers keep their precision the same way: each batch's values
//! are shifted by its smallest one in integer arithmetic before they become
//! f64 ([`Moments::of_int_keys`]), so the rounding is relative to the spread
//! of the values, not to their magnitude (2^63 − 1 − k keeps every digit of
//! k, where a plain conversion rounds to multiples of 1024), and the shift
//! is added back to the mean exactly, as a double-double ([`Moments::shifted`]).
//!
//! The finished statistics are the population ones (as TFDV reports):
//! variance = M2/n, skewness g1 = √n·M3/M2^1.5, excess kurtosis
//! g2 = n·M4/M2² − 3.

use serde::{Deserialize, Serialize};

use super::keys::Domain;

/// Count, mean and central power sums M2..M4 of a set of values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    pub n: u64,
    // Non-finite values (from sums that overflow f64) are written as null
    // and read back as NaN.
    /// The mean as an unevaluated sum `mean + mean_lo` (double-double), so
    /// that merges of data with a large offset keep the digits below the
    /// mean's last bit; the central sums below are about this exact mean.
    #[serde(deserialize_with = "crate::profile::model::f64_or_null")]
    pub mean: f64,
    #[serde(default, deserialize_with = "crate::profile::model::f64_or_null")]
    pub mean_lo: f64,
    #[serde(deserialize_with = "crate::profile::model::f64_or_null")]
    pub m2: f64,
    #[serde(deserialize_with = "crate::profile::model::f64_or_null")]
    pub m3: f64,
    #[serde(deserialize_with = "crate::profile::model::f64_or_null")]
    pub m4: f64,
}

const LANES: usize = 8;

/// Knuth's TwoSum: `a + b` as a rounded sum and its exact rounding error.
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// Sum with independent lanes so the compiler can vectorise; deterministic.
#[inline]
fn lane_sum(xs: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] += f(c[i]);
        }
    }
    let mut s = 0.0;
    for r in rest {
        s += f(*r);
    }
    // Pairwise fold of the lanes.
    let a = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    let b = (acc[4] + acc[5]) + (acc[6] + acc[7]);
    (a + b) + s
}

/// Sums of d², d³, d⁴ where d = x − mean, lane-parallel.
#[inline]
fn central_sums(xs: &[f64], mean: f64) -> (f64, f64, f64) {
    let mut s2 = [0.0f64; LANES];
    let mut s3 = [0.0f64; LANES];
    let mut s4 = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            let d = c[i] - mean;
            let d2 = d * d;
            s2[i] += d2;
            s3[i] += d2 * d;
            s4[i] += d2 * d2;
        }
    }
    let fold = |a: [f64; LANES]| ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    let (mut t2, mut t3, mut t4) = (fold(s2), fold(s3), fold(s4));
    for &x in rest {
        let d = x - mean;
        let d2 = d * d;
        t2 += d2;
        t3 += d2 * d;
        t4 += d2 * d2;
    }
    (t2, t3, t4)
}

impl Moments {
    /// The moments of one slice of finite values (corrected two-pass).
    pub fn of_slice(xs: &[f64]) -> Moments {
        if xs.is_empty() {
            return Moments::default();
        }
        let n = xs.len() as f64;
        // m0 is the rounded mean; the power sums are about m0.
        let m0 = lane_sum(xs, |x| x) / n;
        let s1 = lane_sum(xs, |x| x - m0);
        let (s2, s3, s4) = central_sums(xs, m0);
        Moments::from_power_sums(xs.len() as u64, m0, s1, s2, s3, s4)
    }

    /// The moments of integer values given by their order-preserving keys
    /// (see [`Domain`]), `origin` being the smallest: each value becomes
    /// the exact integer `key − origin` before it is converted to f64, so
    /// values near ±2^63 or 2^64 keep their low digits (a direct conversion
    /// rounds them to multiples of 2048). `shifted` is reused for the f64s.
    pub fn of_int_keys(
        keys: &[u64],
        origin: u64,
        domain: Domain,
        shifted: &mut Vec<f64>,
    ) -> Moments {
        debug_assert!(keys.iter().all(|&k| k >= origin), "origin above a key");
        shifted.clear();
        shifted.extend(keys.iter().map(|&k| (k - origin) as f64));
        Moments::of_slice(shifted).shifted(domain.exact_f64(origin))
    }

    /// These moments with every value moved by `by`, a double-double
    /// `hi + lo` (the central sums do not change).
    pub fn shifted(mut self, by: (f64, f64)) -> Moments {
        if self.n == 0 {
            return self;
        }
        let (s, e) = two_sum(by.0, self.mean);
        let (hi, lo) = two_sum(s, e + by.1 + self.mean_lo);
        self.mean = hi;
        self.mean_lo = lo;
        self
    }

    /// The moments of `n` values from their power sums s1..s4 about a
    /// point m0 near their mean (any m0 works; the closer, the more exact):
    /// the offset c = s1/n of the true mean from m0 shifts the sums to the
    /// mean m0 + c, kept as a double-double.
    pub fn from_power_sums(n: u64, m0: f64, s1: f64, s2: f64, s3: f64, s4: f64) -> Moments {
        if n == 0 {
            return Moments::default();
        }
        let nf = n as f64;
        let c = s1 / nf;
        let c2 = c * c;
        let (hi, lo) = two_sum(m0, c);
        Moments {
            n,
            mean: hi,
            mean_lo: lo,
            m2: s2 - nf * c2,
            m3: s3 - 3.0 * c * s2 + 2.0 * nf * c2 * c,
            m4: s4 - 4.0 * c * s3 + 6.0 * c2 * s2 - 3.0 * nf * c2 * c2,
        }
    }

    /// Pébay's pairwise combination: the moments of the union of both sets.
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let na = self.n as f64;
        let nb = o.n as f64;
        let n = na + nb;
        let d = (o.mean - self.mean) + (o.mean_lo - self.mean_lo);
        let dn = d / n;
        let dn2 = dn * dn;
        let t = d * dn * na * nb; // δ²·na·nb/n
        let m2 = self.m2 + o.m2 + t;
        let m3 = self.m3 + o.m3 + t * dn * (na - nb) + 3.0 * dn * (na * o.m2 - nb * self.m2);
        let m4 = self.m4
            + o.m4
            + t * dn2 * (na * na - na * nb + nb * nb)
            + 6.0 * dn2 * (na * na * o.m2 + nb * nb * self.m2)
            + 4.0 * dn * (na * o.m3 - nb * self.m3);
        let (hi, lo) = two_sum(self.mean, self.mean_lo + dn * nb);
        self.mean = hi;
        self.mean_lo = lo;
        self.m2 = m2;
        self.m3 = m3;
        self.m4 = m4;
        self.n += o.n;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean + self.mean_lo)
    }

    pub fn variance(&self) -> Option<f64> {
        (self.n > 0).then(|| self.m2 / self.n as f64)
    }

    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// Skewness g1; undefined (None) for fewer than two distinct values.
    pub fn skewness(&self) -> Option<f64> {
        (self.n > 0 && self.m2 > 0.0).then(|| (self.n as f64).sqrt() * self.m3 / self.m2.powf(1.5))
    }

    /// Excess kurtosis g2; undefined (None) for fewer than two distinct values.
    pub fn kurtosis(&self) -> Option<f64> {
        (self.n > 0 && self.m2 > 0.0).then(|| self.n as f64 * self.m4 / (self.m2 * self.m2) - 3.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(xs: &[f64]) -> (f64, f64, f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let m = |p: i32| xs.iter().map(|x| (x - mean).powi(p)).sum::<f64>();
        (mean, m(2), m(3), m(4))
    }

    /// Exact moments of integers from i128 sums (n·Σx² − (Σx)² has no
    /// rounding), for the values near 2^63 that f64 cannot hold.
    fn exact_variance(xs: &[i128]) -> f64 {
        let n = xs.len() as i128;
        let s2: i128 = xs.iter().map(|x| (x - xs[0]) * (x - xs[0])).sum();
        let s1: i128 = xs.iter().map(|x| x - xs[0]).sum();
        (n * s2 - s1 * s1) as f64 / (n * n) as f64
    }

    #[test]
    fn integers_near_the_ends_of_64_bits_keep_their_digits() {
        use crate::profile::keys::{key_i64, key_u64};
        let ks: Vec<i128> = (0..1000).collect();
        let cases: Vec<(Domain, Vec<u64>, Vec<i128>)> = vec![
            (
                Domain::Int,
                ks.iter().map(|&k| key_i64(i64::MAX - k as i64)).collect(),
                ks.iter().map(|&k| i64::MAX as i128 - k).collect(),
            ),
            (
                Domain::Int,
                ks.iter().map(|&k| key_i64(i64::MIN + k as i64)).collect(),
                ks.iter().map(|&k| i64::MIN as i128 + k).collect(),
            ),
            (
                Domain::UInt,
                ks.iter()
                    .map(|&k| key_u64((1u64 << 63) + k as u64))
                    .collect(),
                ks.iter().map(|&k| (1i128 << 63) + k).collect(),
            ),
            (
                Domain::UInt,
                ks.iter()
                    .map(|&k| key_u64(u64::MAX - 3 * k as u64))
                    .collect(),
                ks.iter().map(|&k| u64::MAX as i128 - 3 * k).collect(),
            ),
        ];
        for (domain, keys, exact) in cases {
            let origin = *keys.iter().min().unwrap();
            let mut buf = Vec::new();
            // In two halves merged, as batches are.
            let mut m = Moments::of_int_keys(
                &keys[..300],
                *keys[..300].iter().min().unwrap(),
                domain,
                &mut buf,
            );
            m.merge(&Moments::of_int_keys(
                &keys[300..],
                *keys[300..].iter().min().unwrap(),
                domain,
                &mut buf,
            ));
            let whole = Moments::of_int_keys(&keys, origin, domain, &mut buf);
            let want_var = exact_variance(&exact);
            let n = exact.len() as i128;
            let sum: i128 = exact.iter().sum();
            // The mean as the nearest f64 of the exact rational sum/n.
            let want_mean = (sum / n) as f64 + (sum % n) as f64 / n as f64;
            for got in [m, whole] {
                let var = got.variance().unwrap();
                assert!(
                    (var - want_var).abs() <= 1e-12 * want_var,
                    "{domain:?}: variance {var} vs {want_var}"
                );
                assert_eq!(got.mean().unwrap(), want_mean, "{domain:?}: mean");
                assert!(
                    got.skewness().unwrap().abs() < 1e-9,
                    "{domain:?}: symmetric data"
                );
            }
        }
        // The case: 2^63 − 1 − k, k < 1000, has variance 83,333.25.
        let keys: Vec<u64> = (0..1000).map(|k| key_i64(i64::MAX - k)).collect();
        let v = Moments::of_int_keys(
            &keys,
            *keys.iter().min().unwrap(),
            Domain::Int,
            &mut Vec::new(),
        )
        .variance()
        .unwrap();
        assert_eq!(v, 83_333.25);
    }

    #[test]
    fn merge_equals_whole() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.37 - 50.0)
            .collect();
        let whole = Moments::of_slice(&xs);
        for cut in [1, 3, 500, 999] {
            let mut a = Moments::of_slice(&xs[..cut]);
            a.merge(&Moments::of_slice(&xs[cut..]));
            for (x, y) in [
                (a.mean + a.mean_lo, whole.mean + whole.mean_lo),
                (a.m2, whole.m2),
                (a.m3, whole.m3),
                (a.m4, whole.m4),
            ] {
                assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{x} vs {y}");
            }
        }
        let (mean, m2, m3, m4) = naive(&xs);
        assert!((whole.mean - mean).abs() < 1e-12 * mean.abs().max(1.0));
        assert!((whole.m2 - m2).abs() < 1e-10 * m2);
        assert!((whole.m3 - m3).abs() < 1e-9 * m3.abs().max(m2));
        assert!((whole.m4 - m4).abs() < 1e-10 * m4);
    }
}
