//! The host's mirrors of the WGSL structs (field for field, `#[repr(C)]`,
//! checked against the shaders by `tests/it/shaders.rs`) and the layout of
//! what comes back from the device.

use bytemuck::{Pod, Zeroable};

use crate::profile::keys::Domain;
use crate::profile::sketch::PROFILE_BITS;

/// Threads per workgroup, mirrored from the shaders (`WG`).
pub const WORKGROUP_SIZE: u32 = 256;
/// Values per thread, mirrored from the shaders (`ITEMS`).
pub const ITEMS_PER_THREAD: u32 = 8;
pub(super) const PER_WORKGROUP: usize = (WORKGROUP_SIZE * ITEMS_PER_THREAD) as usize;
/// Largest dictionary counted on the device (its counts buffer holds the
/// sketch's 2^16 buckets; one slot flags out-of-range codes).
pub const MAX_DEVICE_DICTIONARY: usize = (1 << PROFILE_BITS) - 1;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(super) struct Params {
    pub(super) n: u32,
    pub(super) domain: u32,
    pub(super) shift: u32,
    pub(super) squash: u32,
    pub(super) origin_lo: u32,
    pub(super) origin_hi: u32,
    pub(super) buckets: u32,
    pub(super) groups: u32,
}

/// One workgroup's pass-one results, as the `reduce` kernel writes them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Partial {
    pub nan: u32,
    pub pos_inf: u32,
    pub neg_inf: u32,
    pub zeros: u32,
    pub finite: u32,
    pub _pad: u32,
    pub min_key: u64,
    pub max_key: u64,
    pub m0: f64,
    pub s1: f64,
    pub s2: f64,
    pub s3: f64,
    pub s4: f64,
}

/// A chunk's key range and sketch placement, as the `range` kernel writes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(super) struct ChunkRange {
    pub(super) lo: u64,
    pub(super) hi: u64,
    pub(super) origin: u64,
    pub(super) shift: u32,
    pub(super) finite: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(super) struct LinfParams {
    pub(super) n: u32,
    pub(super) _pad: u32,
    pub(super) p_total: u64,
    pub(super) q_total: u64,
}

/// One workgroup's L-infinity winner, as the `linf` kernel writes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(super) struct LinfPartial {
    pub(super) hi: u64,
    pub(super) lo: u64,
    pub(super) index: u32,
    pub(super) _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(super) struct CountParams {
    pub(super) n: u32,
    pub(super) k: u32,
    pub(super) has_validity: u32,
    pub(super) _pad: u32,
}

/// Longest wait for one submission before the device is declared hung.
pub(super) const GPU_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Readback layout of a pass-one chunk: the [`ChunkRange`] at `RB_RANGE`,
/// two timestamps at `RB_TS`, the 2^16 bucket counts (u32) at `RB_COUNTS`,
/// then one [`Partial`] per workgroup.
pub(super) const RB_RANGE: u64 = 0;
pub(super) const RB_TS: u64 = 32;
pub(super) const RB_COUNTS: u64 = 48;
/// Buckets of a chunk's sketch (the profile sketch's full resolution).
pub(super) const BUCKETS: usize = 1 << PROFILE_BITS;

/// Bytes of a pass-one readback for `groups` workgroups.
pub(super) fn pass1_readback_bytes(groups: usize) -> u64 {
    RB_COUNTS + (BUCKETS * 4 + groups * std::mem::size_of::<Partial>()) as u64
}

pub(super) fn domain_code(d: Domain) -> u32 {
    match d {
        Domain::Int => 0,
        Domain::UInt => 1,
        Domain::Float => 2,
    }
}
