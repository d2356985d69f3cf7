//! The CPU backend: the statistics' own reference kernels
//! ([`NumericAcc::update`], [`pass2_update`], [`CatAcc::update`]) and the
//! reference L-infinity argmax of compare ([`linf_argmax`]), run in parallel
//! across partitions and columns by the engine. Pass one keeps each numeric
//! batch's finite keys in host memory for pass two while the budget allows.

use arrow::array::Array;

use super::budget::{Budget, Kept};
use crate::error::Result;
use crate::profile::categorical::CatAcc;
use crate::profile::numeric::{extract, pass2_update, ClassCounts, NumericAcc, Scratch};
use crate::profile::quantile::{Pass2Plan, Pass2State};

/// Finite keys of one batch kept for pass two.
pub type HostChunk = Box<[u64]>;

/// Numeric pass one over `values`; with `keep`, the batch's finite keys go
/// to the store (the scratch buffer is handed over, not copied).
pub fn numeric_pass1(
    acc: &mut NumericAcc,
    values: &dyn Array,
    scratch: &mut Scratch,
    keep: Option<(&Kept<HostChunk>, &Budget, usize)>,
) -> Result<()> {
    acc.update(values, scratch)?;
    if let Some((kept, budget, leaf)) = keep {
        if kept.is_spilled(leaf) {
            return Ok(());
        }
        let len = scratch.keys.len();
        if !budget.fits(len as u64 * 8) {
            kept.spill(budget, leaf);
            return Ok(());
        }
        let keys = std::mem::take(&mut scratch.keys);
        let chunk: HostChunk = if keys.capacity() == len {
            keys.into_boxed_slice()
        } else {
            keys.as_slice().into()
        };
        kept.keep(budget, leaf, len as u64 * 8, chunk);
    }
    Ok(())
}

/// Pass two over values read again: collect the keys of the planned buckets.
pub fn collect(
    plan: &Pass2Plan,
    state: &mut Pass2State,
    values: &dyn Array,
    scratch: &mut Scratch,
) -> Result<()> {
    extract(values, scratch, &mut ClassCounts::default())?;
    pass2_update(plan, state, &scratch.keys);
    Ok(())
}

/// Pass two over the keys kept in pass one.
pub fn collect_kept(plan: &Pass2Plan, state: &mut Pass2State, chunks: &[HostChunk]) {
    for c in chunks {
        pass2_update(plan, state, c);
    }
}

/// Categorical counting.
pub fn count_categorical(acc: &mut CatAcc, values: &dyn Array) -> Result<()> {
    acc.update(values)
}

/// `|a·Q − b·P|` in 128 bits: `|p − q|` scaled by `P·Q`.
#[inline]
pub fn scaled_gap(a: u64, b: u64, p_total: u64, q_total: u64) -> u128 {
    let x = a as u128 * q_total as u128;
    let y = b as u128 * p_total as u128;
    x.abs_diff(y)
}

/// Index of the largest `|p_i − q_i|` (the lowest index among equals), and
/// its scaled gap. `None` for empty vectors.
pub fn linf_argmax(a: &[u64], b: &[u64], p_total: u64, q_total: u64) -> Option<(usize, u128)> {
    assert_eq!(a.len(), b.len(), "count vectors of different lengths");
    let mut best: Option<(usize, u128)> = None;
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let g = scaled_gap(x, y, p_total, q_total);
        if best.is_none_or(|(_, bg)| g > bg) {
            best = Some((i, g));
        }
    }
    best
}

/// A description of the CPU for the profile's backend field (no thread
/// count: the profile is the same whatever the number of threads).
pub fn device_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}
