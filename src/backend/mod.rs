//! Compute backends.
//!
//! The CPU backend ([`cpu`]) is the reference: straightforward loops the
//! compiler vectorises, run in parallel across partitions and columns. Every
//! statistic is a mergeable partial state (see [`crate::profile`]) so a
//! backend only has to produce partials; the merge and finishing code is
//! shared.

pub mod cpu;
pub mod gpu;

/// Which backend computed a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Cpu,
    Gpu,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Gpu => "gpu",
        }
    }
}
