//! Compute backends.
//!
//! The CPU backend ([`cpu`]) is the reference: straightforward loops the
//! compiler vectorises, run in parallel across partitions and columns. The
//! GPU backend ([`gpu`]) runs the numeric kernels in WGSL. Every statistic is
//! a mergeable partial state (see [`crate::profile`]), so a backend only
//! produces partials; merging and finishing are shared.

pub mod cpu;
pub mod gpu;
