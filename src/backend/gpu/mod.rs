//! The GPU backend: wgpu compute with the WGSL kernels of `shaders/`.
//!
//! A [`Gpu`] holds (behind one lock) the device, queue, compiled pipelines and
//! fixed-size buffers; each call writes, dispatches, copies and maps. A
//! column is cut into chunks of at most `chunk` values (bounded by the
//! adapter's storage-binding, buffer and workgroup limits).
//!
//! Numeric pass one is one submission per chunk: `reduce` writes one
//! `Partial` per workgroup (class counts by bits, min/max key, moment power
//! sums), `range` finds the chunk's key range and the sketch shift for it,
//! `sketch` counts the chunk into its buckets with atomics; one copy brings
//! everything back. The host folds the partials in workgroup order with the
//! CPU's own merge code and merges the chunk's sketch into the column's
//! (exact: bucket edges are aligned powers of two). Each submitted chunk
//! holds a pooled readback slot until its results are folded; a column keeps two
//! chunks in flight, and threads sharing the context hold its lock only to
//! submit, never while waiting, so the upload and compute of one chunk
//! overlap the wait for another (wgpu has one queue: copies and kernels
//! still run in submission order on the device).
//!
//! Uploaded chunks stay on the device for pass two while they fit the memory
//! budget (see [`crate::backend::budget`]); pass two's `collect` kernel then
//! gathers the keys of the buckets holding quantile targets or straddling
//! histogram edges without reading the source again. Columns that do not fit
//! are read again and uploaded again.
//!
//! Categorical columns: dictionary codes (dictionaries of up to 65,535
//! values) and booleans are counted by `shaders/categorical.wgsl`; strings
//! are hashed on the CPU. The L-infinity argmax of `compare` runs in
//! `shaders/distance.wgsl`.
//!
//! The numeric and distance kernels need SHADER_F64 and SHADER_INT64 (exact
//! int64 keys and f64 moments). On an adapter without them, numeric columns
//! are profiled on the CPU and their `computed_on` says so; precision is
//! never lowered. The categorical kernels need nothing optional.
//!
//! Files by concern: [`adapter`] (which adapter, `skewer devices`),
//! `context` (device, pipelines, buffers, readback), `layout` (the WGSL
//! struct mirrors and readback layout), `numeric`, `categorical`,
//! `distance` (the kernels' host sides).

pub mod adapter;
mod categorical;
mod context;
mod distance;
mod layout;
mod numeric;

use std::sync::{Arc, Mutex, MutexGuard};

pub use adapter::{list_adapters, quiet_display_probe, AdapterDesc, GpuOptions, Want};
pub use context::{GpuTimes, SHADERS};
pub use layout::{ITEMS_PER_THREAD, MAX_DEVICE_DICTIONARY, WORKGROUP_SIZE};
pub use numeric::{BenchStage, DeviceChunk, Keep};

use crate::error::{Error, Result};
use context::GpuContext;

/// The GPU backend: one device, shared by the threads of a run. Its
/// context is locked only to record and submit work and to read results
/// of the calls that wait for them; pass one's chunks wait unlocked.
pub struct Gpu {
    ctx: Mutex<GpuContext>,
    /// The adapter (its SHADER_F64 and SHADER_INT64 as used).
    pub desc: AdapterDesc,
    /// Device time, for `skewer bench`.
    pub times: Arc<GpuTimes>,
    /// Values per dispatch.
    chunk: usize,
    numeric_ok: bool,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gpu({}, chunk {})", self.desc.name, self.chunk)
    }
}

impl Gpu {
    /// Open an adapter (by `want`, and by name substring when `name` is
    /// given) and build everything once. `Ok(None)`: no adapter matched.
    pub fn open(want: Want, name: Option<&str>, o: &GpuOptions) -> Result<Option<Gpu>> {
        Ok(GpuContext::open(want, name, o)?.map(|c| Gpu {
            desc: c.desc.clone(),
            times: c.times.clone(),
            chunk: c.chunk,
            numeric_ok: c.numeric.is_some(),
            ctx: Mutex::new(c),
        }))
    }

    /// Whether numeric columns (and distances) run here: the adapter has
    /// SHADER_F64 and SHADER_INT64.
    pub fn numeric_supported(&self) -> bool {
        self.numeric_ok
    }

    fn lock(&self) -> Result<MutexGuard<'_, GpuContext>> {
        self.ctx
            .lock()
            .map_err(|_| Error::Internal("a thread panicked while using the GPU".into()))
    }
}
