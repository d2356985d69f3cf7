//! Compute backends: the one seam between the statistics and the hardware.
//!
//! The engine ([`crate::engine`]) and [`crate::compare`] call a [`Backend`]
//! for every kernel: numeric pass one, pass two's key collection,
//! categorical counting and the L-infinity argmax. The CPU backend
//! ([`cpu`]) runs the statistics' own reference kernels; the GPU backend
//! ([`gpu`]) runs WGSL kernels through wgpu and folds their results into the
//! same mergeable states, in the same order, so that profiles do not depend
//! on the backend. Dependencies run one way: backends feed the statistics'
//! states ([`crate::profile`]); the statistics know nothing of backends.
//!
//! A profile run opens a [`Session`]: it holds the [`Budget`] of what pass
//! one keeps for pass two (host keys on the CPU, device buffers on the GPU)
//! and frees it when the run ends.

pub mod budget;
pub mod cpu;
pub mod gpu;

use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::DataType;

pub use budget::{Budget, Kept};

use crate::error::{Error, Result};
use crate::profile::categorical::CatAcc;
use crate::profile::numeric::{NumericAcc, Scratch};
use crate::profile::quantile::{Pass2Plan, Pass2State};
use crate::profile::BackendInfo;

/// Where statistics are computed.
#[derive(Debug, Default)]
pub enum Backend {
    #[default]
    Cpu,
    Gpu(Box<gpu::Gpu>),
}

/// Which backend a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Choice {
    /// A hardware GPU if there is one (never a software adapter), else the CPU.
    #[default]
    Auto,
    /// The CPU; no GPU is touched.
    Cpu,
    /// The best GPU adapter, a software one if that is all there is.
    Gpu,
}

/// How to open a backend.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub choice: Choice,
    /// Only adapters whose name contains this (case-insensitive).
    pub adapter: Option<String>,
    /// GPU options (values per dispatch, simulated missing features).
    pub gpu: gpu::GpuOptions,
}

/// An opened backend and what the user should be told about the choice.
#[derive(Debug)]
pub struct Opened {
    pub backend: Backend,
    pub notes: Vec<String>,
}

/// Open the backend `r` asks for: the policy of `--backend`.
pub fn open(r: &Request) -> Result<Opened> {
    let name = r.adapter.as_deref();
    let mut notes = Vec::new();
    let backend = match r.choice {
        Choice::Cpu => Backend::Cpu,
        Choice::Auto => match gpu::Gpu::open(gpu::Want::HardwareOnly, name, &r.gpu) {
            Ok(Some(g)) => g.into(),
            Ok(None) => Backend::Cpu,
            Err(e) => {
                notes.push(format!("{e}; using the CPU backend"));
                Backend::Cpu
            }
        },
        Choice::Gpu => {
            let g = gpu::Gpu::open(gpu::Want::Any, name, &r.gpu)?.ok_or_else(|| {
                Error::Gpu(format!(
                    "no GPU adapter{} found: install a Vulkan driver (Debian: mesa-vulkan-drivers) or use the CPU backend",
                    name.map(|a| format!(" matching {a:?}")).unwrap_or_default()
                ))
            })?;
            if g.desc.software {
                notes.push(format!(
                    "{} is a software adapter (the GPU backend runs on the CPU, slower than the CPU backend)",
                    g.desc.name
                ));
            }
            g.into()
        }
    };
    Ok(Opened { backend, notes })
}

/// Where one batch of a column was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Cpu,
    Gpu,
}

impl Placement {
    pub fn label(self) -> &'static str {
        match self {
            Placement::Cpu => "cpu",
            Placement::Gpu => "gpu",
        }
    }
}

/// How many batches of a column ran where: the profile's `computed_on`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Placements {
    pub cpu: u64,
    pub gpu: u64,
}

impl Placements {
    pub fn add(&mut self, p: Placement) {
        match p {
            Placement::Cpu => self.cpu += 1,
            Placement::Gpu => self.gpu += 1,
        }
    }

    pub fn merge(&mut self, o: &Placements) {
        self.cpu += o.cpu;
        self.gpu += o.gpu;
    }

    /// "cpu", "gpu" or "gpu+cpu" (row groups differed); `none` where no
    /// batch had values.
    pub fn label(&self, none: Placement) -> &'static str {
        match (self.gpu, self.cpu) {
            (0, 0) => none.label(),
            (0, _) => "cpu",
            (_, 0) => "gpu",
            _ => "gpu+cpu",
        }
    }
}

impl From<gpu::Gpu> for Backend {
    fn from(g: gpu::Gpu) -> Backend {
        Backend::Gpu(Box::new(g))
    }
}

impl Backend {
    /// The CPU backend, ready to share between option structs (their
    /// default).
    pub fn cpu() -> Arc<Backend> {
        Arc::new(Backend::Cpu)
    }

    /// "cpu" or "gpu".
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Gpu(_) => "gpu",
        }
    }

    /// The GPU, when this is the GPU backend.
    pub fn gpu(&self) -> Option<&gpu::Gpu> {
        match self {
            Backend::Gpu(g) => Some(g),
            Backend::Cpu => None,
        }
    }

    /// What the profile records about the backend.
    pub fn info(&self) -> BackendInfo {
        match self {
            Backend::Cpu => BackendInfo {
                kind: self.kind().into(),
                device: cpu::device_name(),
                driver: None,
            },
            Backend::Gpu(g) => BackendInfo {
                kind: self.kind().into(),
                device: g.desc.name.clone(),
                driver: Some(
                    format!("{} {}", g.desc.driver, g.desc.driver_info)
                        .trim()
                        .to_string(),
                ),
            },
        }
    }

    /// Whether numeric kernels (and the L-infinity argmax) run on the device:
    /// a GPU with SHADER_F64 and SHADER_INT64.
    fn numeric_on_device(&self) -> Option<&gpu::Gpu> {
        self.gpu().filter(|g| g.numeric_supported())
    }

    /// Where a column's values would be computed: `computed_on` of a column
    /// without values. `dt` is the column's (or a list's element) type.
    pub fn placement_of(&self, dt: &DataType, numeric: bool) -> Placement {
        let Backend::Gpu(g) = self else {
            return Placement::Cpu;
        };
        let on_device = if numeric {
            g.numeric_supported()
        } else {
            matches!(dt, DataType::Boolean | DataType::Dictionary(_, _))
        };
        if on_device {
            Placement::Gpu
        } else {
            Placement::Cpu
        }
    }

    /// Pass two over values read again.
    pub fn collect(
        &self,
        plan: &Pass2Plan,
        state: &mut Pass2State,
        values: &dyn Array,
        scratch: &mut Scratch,
    ) -> Result<()> {
        match self.numeric_on_device() {
            Some(g) => g.collect(plan, state, values),
            None => cpu::collect(plan, state, values, scratch),
        }
    }

    /// Count a categorical batch: dictionaries and booleans (and integers
    /// marked categorical whose range is small) on the GPU, the rest on the
    /// CPU.
    pub fn count_categorical(&self, acc: &mut CatAcc, values: &dyn Array) -> Result<Placement> {
        if let Backend::Gpu(g) = self {
            if g.count_categorical(acc, values)? {
                return Ok(Placement::Gpu);
            }
        }
        cpu::count_categorical(acc, values).map(|()| Placement::Cpu)
    }

    /// Index of the largest `|a_i·Q − b_i·P|`, the lowest among equals.
    pub fn linf_argmax(&self, a: &[u64], b: &[u64], p: u64, q: u64) -> Result<Option<usize>> {
        match self.numeric_on_device() {
            Some(g) => g.linf_argmax(a, b, p, q),
            None => Ok(cpu::linf_argmax(a, b, p, q).map(|(i, _)| i)),
        }
    }

    /// Where [`Self::linf_argmax`] runs.
    pub fn linf_placement(&self) -> Placement {
        match self.numeric_on_device() {
            Some(_) => Placement::Gpu,
            None => Placement::Cpu,
        }
    }

    /// Start a profile run, keeping up to `keep` bytes of its numeric
    /// leaves' values for pass two.
    pub fn session(&self, keep: u64) -> Session<'_> {
        Session {
            backend: self,
            budget: Budget::new(keep),
            host: Kept::default(),
            device: Kept::default(),
        }
    }
}

/// One profile run on a backend: the kernels, with pass one's values kept
/// for pass two within one budget (on the device when numeric kernels run
/// there, else in host memory). Dropping it frees what is kept. Every
/// numeric batch of a run goes through [`Session::numeric_pass1`]: a leaf
/// that did not spill then holds all its values.
pub struct Session<'a> {
    backend: &'a Backend,
    budget: Budget,
    host: Kept<cpu::HostChunk>,
    device: Kept<gpu::DeviceChunk>,
}

impl Session<'_> {
    pub fn backend(&self) -> &Backend {
        self.backend
    }

    /// Numeric pass one over a batch of `leaf`, keeping its values for pass
    /// two while they fit the budget.
    pub fn numeric_pass1(
        &self,
        leaf: usize,
        acc: &mut NumericAcc,
        values: &dyn Array,
        scratch: &mut Scratch,
    ) -> Result<Placement> {
        match self.backend.numeric_on_device() {
            Some(g) => g
                .numeric_pass1(acc, values, Some((&self.device, &self.budget, leaf)))
                .map(|()| Placement::Gpu),
            None => {
                cpu::numeric_pass1(acc, values, scratch, Some((&self.host, &self.budget, leaf)))
                    .map(|()| Placement::Cpu)
            }
        }
    }

    /// Pass two over what pass one kept of `leaf`, for each (plan, state)
    /// of `into` (the leaf's values may count for several profiles: a
    /// slice's and the whole's); false when the leaf spilled (its column
    /// must be read again). Frees what was kept.
    pub fn collect_kept(
        &self,
        leaf: usize,
        into: &mut [(&Pass2Plan, &mut Pass2State)],
    ) -> Result<bool> {
        match self.backend.numeric_on_device() {
            Some(g) => match self.device.take(&self.budget, leaf) {
                Some(chunks) => {
                    for (plan, state) in into.iter_mut() {
                        g.collect_kept(plan, state, &chunks)?;
                    }
                    Ok(true)
                }
                None => Ok(false),
            },
            None => match self.host.take(&self.budget, leaf) {
                Some(chunks) => {
                    // Chunk by chunk, so that each is read from memory once.
                    for c in &chunks {
                        for (plan, state) in into.iter_mut() {
                            cpu::collect_kept(plan, state, std::slice::from_ref(c));
                        }
                    }
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }

    /// Drop everything kept (a one-pass run).
    pub fn release_kept(&self) {
        self.host.clear(&self.budget);
        self.device.clear(&self.budget);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_on_names_where_batches_ran() {
        let mut p = Placements::default();
        assert_eq!(
            p.label(Placement::Gpu),
            "gpu",
            "no values: where it would run"
        );
        assert_eq!(p.label(Placement::Cpu), "cpu");
        p.add(Placement::Cpu);
        assert_eq!(p.label(Placement::Gpu), "cpu");
        let mut q = Placements::default();
        q.add(Placement::Gpu);
        assert_eq!(q.label(Placement::Cpu), "gpu");
        q.merge(&p);
        assert_eq!(q.label(Placement::Cpu), "gpu+cpu");
    }

    #[test]
    fn the_cpu_backend_touches_no_gpu() {
        let b = open(&Request {
            choice: Choice::Cpu,
            adapter: Some("no-such-adapter".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(b.backend.gpu().is_none() && b.notes.is_empty());
        assert_eq!(b.backend.info().kind, "cpu");
        assert_eq!(b.backend.linf_placement(), Placement::Cpu);
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(b.backend.placement_of(&dict, false), Placement::Cpu);
    }
}
