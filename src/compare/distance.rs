//! Distances between two count vectors over the same categories, and the
//! significance thresholds of the drift test.
//!
//! Inputs are integer counts `a[i]`, `b[i]` with totals `P = Σa + a_other`
//! and `Q = Σb + b_other` (the other mass is what the vectors do not hold,
//! e.g. values beyond a profile's distinct-value cap). Probabilities are
//! `p = a/P`, `q = b/Q`.
//!
//! The L-infinity argmax is decided on exact integers: `|p_i − q_i|` orders
//! like `|a_i·Q − b_i·P|`, computed in 128 bits, and ties go to the lowest
//! index. The GPU kernel (`shaders/distance.wgsl`) makes the same decision
//! with the same integers, so both backends report the same category and,
//! computing the value from it with [`linf_value`], the same bits.

// The argmax is a backend kernel (the CPU's reference is here re-exported;
// the GPU's is `shaders/distance.wgsl`).
pub use crate::backend::cpu::{linf_argmax, scaled_gap};

/// `|a/P − b/Q|` as f64 (0 for an empty side's share).
pub fn linf_value(a: u64, b: u64, p_total: u64, q_total: u64) -> f64 {
    (share(a, p_total) - share(b, q_total)).abs()
}

#[inline]
pub fn share(c: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        c as f64 / total as f64
    }
}

/// Jensen-Shannon divergence in bits (log base 2), in [0, 1]:
/// `½ Σ p log2(p/m) + ½ Σ q log2(q/m)` with `m = (p + q)/2`. Terms with a
/// zero probability contribute 0. `a_other`/`b_other` enter as one more
/// category each side (the coarsening can only lower the divergence).
pub fn jsd(a: &[u64], b: &[u64], p_total: u64, q_total: u64) -> f64 {
    let mut s = 0.0;
    for (&x, &y) in a.iter().zip(b) {
        s += jsd_term(share(x, p_total), share(y, q_total));
    }
    let (ra, rb) = (
        p_total.saturating_sub(a.iter().sum()),
        q_total.saturating_sub(b.iter().sum()),
    );
    if ra > 0 || rb > 0 {
        s += jsd_term(share(ra, p_total), share(rb, q_total));
    }
    s.clamp(0.0, 1.0)
}

#[inline]
fn jsd_term(p: f64, q: f64) -> f64 {
    let m = 0.5 * (p + q);
    let mut t = 0.0;
    if p > 0.0 {
        t += 0.5 * p * (p / m).log2();
    }
    if q > 0.0 {
        t += 0.5 * q * (q / m).log2();
    }
    t
}

/// Hellinger distance in [0, 1]: `√(1 − Σ √(p·q))`, computed as
/// `√(½ Σ (√p − √q)²)` (the same number without the cancellation of
/// `1 − Σ √(p·q)`, so equal shares give exactly 0). `a_other`/`b_other`
/// enter as one more category each side, as in [`jsd`].
pub fn hellinger(a: &[u64], b: &[u64], p_total: u64, q_total: u64) -> f64 {
    let term = |x: u64, y: u64| {
        let d = share(x, p_total).sqrt() - share(y, q_total).sqrt();
        d * d
    };
    let mut s: f64 = a.iter().zip(b).map(|(&x, &y)| term(x, y)).sum();
    let (ra, rb) = (
        p_total.saturating_sub(a.iter().sum()),
        q_total.saturating_sub(b.iter().sum()),
    );
    if ra > 0 || rb > 0 {
        s += term(ra, rb);
    }
    (0.5 * s).sqrt().clamp(0.0, 1.0)
}

/// How far [`hellinger`] can be from the distance between the true
/// distributions when the sides' "other" masses (shares `oa` and `ob`) are
/// each one category: `√(oa + ob − √(oa·ob))`.
///
/// With `u = √p`, `v = √q` over all values (the true distributions) and
/// `ũ`, `ṽ` as computed (each side's other mass moved onto one shared
/// category ω), `H = ‖u − v‖/√2` and `H̃ = ‖ũ − ṽ‖/√2`, so
/// `|H − H̃| ≤ ‖(u − ũ) − (v − ṽ)‖/√2`. `u − ũ` is `√p` on the values a's
/// table does not list (squared mass `oa`) and `−√oa` on ω; likewise for
/// `v − ṽ`. The squared norm of the difference is `(√oa − √ob)²` on ω plus
/// `oa + ob` less twice the (non-negative) `Σ √(p·q)` over the values
/// neither table lists: at most `2(oa + ob − √(oa·ob))`. The bound is
/// reached when both tables list the same values and the two other masses
/// are disjoint and equal.
pub fn hellinger_other_bound(oa: f64, ob: f64) -> f64 {
    (oa + ob - (oa * ob).sqrt()).max(0.0).sqrt()
}

/// Population stability index `Σ (p − q)·ln(p/q)` with Jeffreys smoothing
/// (`p = (a + ½)/(P + K/2)`, K categories) so that empty bins stay finite.
pub fn psi(a: &[u64], b: &[u64]) -> f64 {
    let k = a.len() as f64;
    let (ta, tb) = (
        a.iter().sum::<u64>() as f64 + 0.5 * k,
        b.iter().sum::<u64>() as f64 + 0.5 * k,
    );
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let p = (x as f64 + 0.5) / ta;
            let q = (y as f64 + 0.5) / tb;
            (p - q) * (p / q).ln()
        })
        .sum()
}

/// `erfc(x)`, fractional error below 1.2e-7 everywhere (Numerical Recipes'
/// Chebyshev fit), enough for a significance threshold.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The z with `P(|Z| ≥ z) = p` for a standard normal Z (bisection on erfc).
pub fn z_two_sided(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if erfc(mid / std::f64::consts::SQRT_2) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The two-sample Kolmogorov-Smirnov critical value at level `alpha` for
/// sample sizes `n` and `m` (the asymptotic Kolmogorov distribution's tail
/// `2·exp(−2c²)`, which bounds the exact tail from above for every n, m
/// large enough to matter here): `c(α)·√((n + m)/(n·m))`.
pub fn ks_critical(alpha: f64, n: u64, m: u64) -> f64 {
    if n == 0 || m == 0 {
        return f64::INFINITY;
    }
    let c = (-(alpha / 2.0).ln() / 2.0).sqrt();
    c * ((n + m) as f64 / (n as f64 * m as f64)).sqrt()
}

/// The L-infinity critical value at level `alpha` for a category whose
/// pooled share is `pooled`, among `k` categories: a two-proportion z-test
/// (`|p − q| / √(π(1−π)(1/P + 1/Q))`) with a Bonferroni correction for the
/// `k` categories that could have reached the maximum.
pub fn linf_critical(alpha: f64, pooled: f64, k: usize, p_total: u64, q_total: u64) -> f64 {
    if p_total == 0 || q_total == 0 {
        return f64::INFINITY;
    }
    let z = z_two_sided(alpha / k.max(1) as f64);
    let var = pooled * (1.0 - pooled) * (1.0 / p_total as f64 + 1.0 / q_total as f64);
    z * var.max(0.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // p = (0.5, 0.5), q = (0.25, 0.75): L∞ 0.25 at index 0 (the first of the two).
        let (a, b) = ([2u64, 2], [1u64, 3]);
        let (i, _) = linf_argmax(&a, &b, 4, 4).unwrap();
        assert_eq!(i, 0);
        assert_eq!(linf_value(2, 1, 4, 4), 0.25);
        // JSD of (1, 0) vs (0, 1) is exactly 1 bit; of equal vectors 0.
        assert_eq!(jsd(&[1, 0], &[0, 1], 1, 1), 1.0);
        assert_eq!(jsd(&[3, 5], &[6, 10], 8, 16), 0.0);
        // JSD((.5,.5),(.25,.75)) = H(m) − (H(p)+H(q))/2 with m = (.375,.625).
        let h = |v: &[f64]| -v.iter().map(|x| x * x.log2()).sum::<f64>();
        let want = h(&[0.375, 0.625]) - 0.5 * (h(&[0.5, 0.5]) + h(&[0.25, 0.75]));
        assert!((jsd(&a, &b, 4, 4) - want).abs() < 1e-15);
        // PSI of identical vectors is 0, and symmetric.
        assert_eq!(psi(&[5, 5], &[5, 5]), 0.0);
        assert_eq!(psi(&[1, 9], &[7, 3]), psi(&[7, 3], &[1, 9]));
    }

    #[test]
    fn hellinger_hand_computed() {
        // The textbook form on p = (.5, .5), q = (.25, .75).
        let want = (1.0 - (0.5f64 * 0.25).sqrt() - (0.5f64 * 0.75).sqrt()).sqrt();
        assert!((hellinger(&[2, 2], &[1, 3], 4, 4) - want).abs() < 1e-15);
        // Equal shares: exactly 0; disjoint supports: 1.
        assert_eq!(hellinger(&[3, 5], &[6, 10], 8, 16), 0.0);
        assert!((hellinger(&[1, 0], &[0, 1], 1, 1) - 1.0).abs() < 1e-15);
        // Symmetric, and the other mass is one more category.
        assert_eq!(
            hellinger(&[1, 9, 4], &[7, 3, 2], 20, 12),
            hellinger(&[7, 3, 2], &[1, 9, 4], 12, 20)
        );
        assert_eq!(
            hellinger(&[1, 9], &[7, 3], 20, 12),
            hellinger(&[1, 9, 10], &[7, 3, 2], 20, 12)
        );
        // The bound: √o for one side's other mass o, and for equal ones.
        assert_eq!(hellinger_other_bound(0.0, 0.0), 0.0);
        assert!((hellinger_other_bound(0.01, 0.0) - 0.1).abs() < 1e-15);
        assert!((hellinger_other_bound(0.04, 0.04) - 0.2).abs() < 1e-15);
        assert!(hellinger_other_bound(1.0, 1.0) <= 1.0);
    }

    #[test]
    fn normal_quantiles() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((z_two_sided(0.05) - 1.959964).abs() < 1e-4);
        assert!((z_two_sided(1e-4) - 3.890592).abs() < 1e-3);
        assert!((z_two_sided(1e-9) - 6.109410).abs() < 1e-2);
        // c(0.05) = 1.358 for the KS test.
        assert!((ks_critical(0.05, 1, u64::MAX / 2) - 1.358).abs() < 1e-3);
    }

    #[test]
    fn gap_orders_like_shares() {
        // 1/3 vs 2/7 and 2/6 vs 2/7: equal gaps on integers, however they round.
        assert_eq!(scaled_gap(1, 2, 3, 7), scaled_gap(2, 2, 6, 7) / 2);
        let m = u64::MAX as u128;
        assert_eq!(scaled_gap(u64::MAX, 0, u64::MAX, u64::MAX), m * m);
    }
}
