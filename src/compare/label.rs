//! Labels of numeric bins: the shortest decimals that name them.
//!
//! The metric bins of a numeric feature are runs of sketch buckets whose
//! edges are binary fractions (`11.580078125`) or, printed in full, up to
//! hundreds of characters (Rust prints `1e-300` as a plain decimal). A bin's
//! label gives each inner edge as the shortest decimal within a thousandth
//! of the narrower neighbouring bin's width (`11.58`), so labels stay short
//! and still tell the bins apart; the outer ends are the data's own
//! minimum and maximum, in their shortest round-trip form. Both bins that
//! share an edge print it the same way.

use crate::profile::keys::{Domain, Num};

/// The label of each bin, `"[low, high]"`, from its first and last value
/// keys, in order.
pub fn bins(domain: Domain, spans: &[(u64, u64)]) -> Vec<String> {
    let value = |k: u64| domain.to_f64(k);
    let width = |i: usize| value(spans[i].1) - value(spans[i].0);
    // The edge before bin i (i ≥ 1), for floats: the shortest decimal near
    // bin i's first value. Integers are their own short names.
    let edge = |i: usize| match domain.value(spans[i].0) {
        Num::Float(x) => {
            let tolerance = width(i - 1).min(width(i)).max(0.0) / 1000.0;
            Some(float(shortest(x, |d| (d - x).abs() <= tolerance)))
        }
        _ => None,
    };
    let edges: Vec<Option<String>> = (1..spans.len()).map(edge).collect();
    spans
        .iter()
        .enumerate()
        .map(|(i, &(lo, hi))| {
            let before = i.checked_sub(1).and_then(|e| edges[e].clone());
            let after = edges.get(i).cloned().flatten();
            let low = before.unwrap_or_else(|| num(domain.value(lo)));
            let high = after.unwrap_or_else(|| num(domain.value(hi)));
            format!("[{low}, {high}]")
        })
        .collect()
}

fn num(v: Num) -> String {
    match v {
        Num::Int(x) => x.to_string(),
        Num::UInt(x) => x.to_string(),
        Num::Float(x) => float(x),
    }
}

/// A float in its shortest round-trip digits: plain for magnitudes from
/// 1e-5 to 1e16, in scientific notation beyond.
pub fn float(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let exp = x.abs().log10().floor();
    if (-5.0..16.0).contains(&exp) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// `x` rounded to the fewest significant digits that `ok` accepts (at 17
/// digits, `x` itself).
fn shortest(x: f64, ok: impl Fn(f64) -> bool) -> f64 {
    (1..=17usize)
        .filter_map(|digits| format!("{:.*e}", digits - 1, x).parse::<f64>().ok())
        .find(|&d| ok(d))
        .unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::keys::{key_f64, key_i64};

    #[test]
    fn floats_print_short_and_in_scientific_notation_when_far_from_one() {
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(1e-300), "1e-300");
        assert_eq!(float(-2.5e20), "-2.5e20");
        assert_eq!(float(123456.5), "123456.5");
        assert_eq!(float(5e-324), "5e-324");
        assert_eq!(float(0.0), "0");
    }

    #[test]
    fn inner_edges_are_short_and_shared_outer_ends_exact() {
        let f = Domain::Float;
        let k = key_f64;
        let spans = [
            (k(1e-300), k(11.580078124999998)),
            (k(11.580078125), k(12.580078124999998)),
            (k(12.580078125), k(12.6953125)),
            (k(12.6953125f64.next_up()), k(123456.789)),
        ];
        let labels = bins(f, &spans);
        assert_eq!(
            labels,
            [
                "[1e-300, 11.58]",
                "[11.58, 12.58]",
                "[12.58, 12.6953]",
                "[12.6953, 123456.789]"
            ]
        );
        // Integers print as they are.
        let ints = bins(
            Domain::Int,
            &[(key_i64(-3), key_i64(5)), (key_i64(6), key_i64(9))],
        );
        assert_eq!(ints, ["[-3, 5]", "[6, 9]"]);
    }
}
