//! The GPU backend: wgpu compute with the WGSL kernels of `shaders/`.
//!
//! One [`GpuContext`] per run holds the device, queue, compiled pipelines and
//! fixed-size buffers; each call writes, dispatches, copies and maps. A
//! column is cut into chunks of at most `chunk` values (bounded by the
//! adapter's storage-binding, buffer and workgroup limits).
//!
//! Numeric pass one is one submission per chunk: `reduce` writes one
//! [`Partial`] per workgroup (class counts by bits, min/max key, moment power
//! sums), `range` finds the chunk's key range and the sketch shift for it,
//! `sketch` counts the chunk into its buckets with atomics; one copy brings
//! everything back. The host folds the partials in workgroup order with the
//! CPU's own merge code and merges the chunk's sketch into the column's
//! (exact: bucket edges are aligned powers of two). Each submitted chunk
//! holds a pooled readback slot (a [`Pass1Ticket`]); a column keeps two
//! chunks in flight, and threads sharing the context hold its lock only to
//! submit, never while waiting, so the upload and compute of one chunk
//! overlap the wait for another (wgpu has one queue: copies and kernels
//! still run in submission order on the device).
//!
//! Uploaded chunks stay on the device for pass two while they fit the memory
//! budget ([`GpuContext::start_run`]); pass two's `collect` kernel then
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

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use std::borrow::Cow;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::profile::categorical::CatAcc;
use crate::profile::keys::Domain;
use crate::profile::moments::Moments;
use crate::profile::numeric::NumericAcc;
use crate::profile::quantile::{Pass2Plan, Pass2State, NO_SLOT};
use crate::profile::sketch::{KeyMap, KeySketch, PROFILE_BITS};

/// Threads per workgroup, mirrored from the shaders (`WG`).
pub const WORKGROUP_SIZE: u32 = 256;
/// Values per thread, mirrored from the shaders (`ITEMS`).
pub const ITEMS_PER_THREAD: u32 = 8;
const PER_WORKGROUP: usize = (WORKGROUP_SIZE * ITEMS_PER_THREAD) as usize;
/// Largest dictionary counted on the device (its counts buffer holds the
/// sketch's 2^16 buckets; one slot flags out-of-range codes).
pub const MAX_DEVICE_DICTIONARY: usize = (1 << PROFILE_BITS) - 1;

/// Every shader, by file name: loaded here and nowhere else.
pub const SHADERS: &[(&str, &str)] = &[
    (
        "numeric.wgsl",
        include_str!("../../../shaders/numeric.wgsl"),
    ),
    (
        "distance.wgsl",
        include_str!("../../../shaders/distance.wgsl"),
    ),
    (
        "categorical.wgsl",
        include_str!("../../../shaders/categorical.wgsl"),
    ),
];

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct Params {
    n: u32,
    domain: u32,
    shift: u32,
    squash: u32,
    origin_lo: u32,
    origin_hi: u32,
    buckets: u32,
    groups: u32,
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
struct ChunkRange {
    lo: u64,
    hi: u64,
    origin: u64,
    shift: u32,
    finite: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct LinfParams {
    n: u32,
    _pad: u32,
    p_total: u64,
    q_total: u64,
}

/// One workgroup's L-infinity winner, as the `linf` kernel writes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct LinfPartial {
    hi: u64,
    lo: u64,
    index: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct CountParams {
    n: u32,
    k: u32,
    has_validity: u32,
    _pad: u32,
}

/// What `skewer devices` prints about an adapter.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterDesc {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub software: bool,
    pub driver: String,
    pub driver_info: String,
    pub shader_f64: bool,
    pub shader_int64: bool,
    pub timestamp_query: bool,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
}

fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let n = info.name.to_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || ["llvmpipe", "lavapipe", "swiftshader", "warp", "software"]
            .iter()
            .any(|s| n.contains(s) || info.driver.to_lowercase().contains(s))
}

fn describe(a: &wgpu::Adapter) -> AdapterDesc {
    let info = a.get_info();
    let f = a.features();
    let l = a.limits();
    AdapterDesc {
        software: is_software(&info),
        name: info.name.clone(),
        backend: format!("{:?}", info.backend).to_lowercase(),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        shader_f64: f.contains(wgpu::Features::SHADER_F64),
        shader_int64: f.contains(wgpu::Features::SHADER_INT64),
        timestamp_query: f.contains(wgpu::Features::TIMESTAMP_QUERY),
        max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
        max_buffer_size: l.max_buffer_size,
        max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
    }
}

fn adapters() -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc);
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
}

/// Every adapter wgpu can see.
pub fn list_adapters() -> Vec<AdapterDesc> {
    adapters().iter().map(describe).collect()
}

/// Which device a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A hardware GPU if there is one (never a software adapter), else None.
    HardwareOnly,
    /// The best adapter, a software one if that is all there is.
    Any,
}

/// How to open the device.
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Values per dispatch (default 4Mi, capped by the adapter's limits).
    pub chunk: Option<usize>,
    /// Behave as an adapter without SHADER_F64 and SHADER_INT64 (tests the
    /// per-column CPU fallback on adapters that have them).
    pub without_f64_int64: bool,
}

/// A stage of pass one, for [`GpuContext::bench_stage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchStage {
    Upload,
    Compute,
    Readback,
}

/// Time spent on the device side, for `skewer bench` (nanoseconds).
#[derive(Debug, Default)]
pub struct GpuTimes {
    /// Queueing uploads of column data.
    pub upload_ns: AtomicU64,
    pub upload_bytes: AtomicU64,
    /// Waiting for submitted work to finish and its results to map: compute
    /// and readback together.
    pub wait_ns: AtomicU64,
    /// Kernel time measured by timestamp queries around every compute pass
    /// (0 where the adapter has no TIMESTAMP_QUERY).
    pub compute_ns: AtomicU64,
    /// Of which numeric pass one (reduce, range, sketch), and the bytes of
    /// column data it read: its GB/s against the card's bandwidth.
    pub pass1_compute_ns: AtomicU64,
    pub pass1_bytes: AtomicU64,
}

impl GpuTimes {
    fn add(a: &AtomicU64, v: u64) {
        a.fetch_add(v, Ordering::Relaxed);
    }
}

/// A readback buffer, with its timestamp queries, for one pass-one chunk in
/// flight. Slots are pooled: each chunk submitted holds one until its
/// results are read.
pub struct Pass1Slot {
    readback: wgpu::Buffer,
    queries: Option<(wgpu::QuerySet, wgpu::Buffer)>,
}

/// A pass-one chunk submitted to the device: complete it (no lock on the
/// context needed) to fold its results into the column's state, then give
/// its slot back with [`GpuContext::recycle`].
pub struct Pass1Ticket {
    slot: Pass1Slot,
    n: usize,
    groups: usize,
    submission: wgpu::SubmissionIndex,
    device: wgpu::Device,
    times: std::sync::Arc<GpuTimes>,
    /// Nanoseconds per timestamp tick (0 without timestamp queries).
    period: f64,
}

/// Longest wait for one submission before the device is declared hung.
const GPU_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Readback layout of a pass-one chunk: range, timestamps, counts, partials.
const RB_RANGE: u64 = 0;
const RB_TS: u64 = 32;
const RB_COUNTS: u64 = 48;

/// The GPU state of one run.
pub struct GpuContext {
    pub times: std::sync::Arc<GpuTimes>,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pub desc: AdapterDesc,
    /// The numeric and distance kernels are available (SHADER_F64 and
    /// SHADER_INT64).
    numeric_ok: bool,
    /// Values per dispatch.
    chunk: usize,
    numeric: Option<NumericPipelines>,
    count_codes: wgpu::ComputePipeline,
    count_bools: wgpu::ComputePipeline,
    /// Bind groups built once: the numeric kernels over the shared values
    /// buffer, `range`, `linf`, and the two counting kernels.
    shared: Option<ValueBindings>,
    bg_range: Option<wgpu::BindGroup>,
    bg_linf: Option<wgpu::BindGroup>,
    bg_count_codes: wgpu::BindGroup,
    bg_count_bools: wgpu::BindGroup,
    params: wgpu::Buffer,
    linf_params: wgpu::Buffer,
    count_params: wgpu::Buffer,
    values: wgpu::Buffer,
    validity: wgpu::Buffer,
    partials: wgpu::Buffer,
    counts: wgpu::Buffer,
    range: wgpu::Buffer,
    slots: wgpu::Buffer,
    collected: wgpu::Buffer,
    collected_len: wgpu::Buffer,
    readback: [wgpu::Buffer; 2],
    /// Two timestamps per readback slot, and where they resolve.
    queries: Option<(wgpu::QuerySet, wgpu::Buffer, f64)>,
    next_slot: std::cell::Cell<usize>,
    resident: Resident,
    /// Free pass-one readback slots.
    pass1_pool: Vec<Pass1Slot>,
}

struct NumericPipelines {
    reduce: wgpu::ComputePipeline,
    range: wgpu::ComputePipeline,
    sketch: wgpu::ComputePipeline,
    collect: wgpu::ComputePipeline,
    linf: wgpu::ComputePipeline,
}

/// The bind groups of the numeric kernels that read one values buffer:
/// built once per buffer (the shared one, and each chunk kept resident).
struct ValueBindings {
    reduce: wgpu::BindGroup,
    sketch: wgpu::BindGroup,
    collect: wgpu::BindGroup,
}

/// A chunk kept on the device for pass two (its bind groups hold the
/// buffer).
struct ResidentChunk {
    n: usize,
    bindings: ValueBindings,
}

/// The fixed buffers the bind groups refer to.
struct Fixed<'a> {
    params: &'a wgpu::Buffer,
    partials: &'a wgpu::Buffer,
    counts: &'a wgpu::Buffer,
    range: &'a wgpu::Buffer,
    slots: &'a wgpu::Buffer,
    collected: &'a wgpu::Buffer,
    collected_len: &'a wgpu::Buffer,
}

fn bind_group(
    device: &wgpu::Device,
    p: &wgpu::ComputePipeline,
    entries: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &p.get_bind_group_layout(0),
        entries: &entries
            .iter()
            .map(|(b, buf)| wgpu::BindGroupEntry {
                binding: *b,
                resource: buf.as_entire_binding(),
            })
            .collect::<Vec<_>>(),
    })
}

impl ValueBindings {
    fn new(device: &wgpu::Device, np: &NumericPipelines, f: &Fixed, values: &wgpu::Buffer) -> Self {
        ValueBindings {
            reduce: bind_group(
                device,
                &np.reduce,
                &[(0, f.params), (1, values), (2, f.partials)],
            ),
            sketch: bind_group(
                device,
                &np.sketch,
                &[(0, f.params), (1, values), (3, f.counts), (7, f.range)],
            ),
            collect: bind_group(
                device,
                &np.collect,
                &[
                    (0, f.params),
                    (1, values),
                    (4, f.slots),
                    (5, f.collected),
                    (6, f.collected_len),
                ],
            ),
        }
    }
}

/// Chunks kept on the device between the passes, per numeric leaf.
#[derive(Default)]
struct Resident {
    limit: u64,
    bytes: u64,
    chunks: HashMap<usize, Vec<ResidentChunk>>,
    /// Leaves with a chunk that did not fit: pass two reads them again.
    evicted: HashSet<usize>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuContext({}, chunk {})", self.desc.name, self.chunk)
    }
}

fn gpu_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Gpu(format!("{what}: {e}"))
}

fn pod_vec<T: Pod>(bytes: &[u8]) -> Vec<T> {
    bytemuck::pod_collect_to_vec(bytes)
}

impl GpuContext {
    /// Open an adapter (by `want`, and by name substring when `name` is
    /// given) and build everything once. `Ok(None)`: no adapter matched.
    pub fn try_new(
        want: Want,
        name: Option<&str>,
        chunk: Option<usize>,
    ) -> Result<Option<GpuContext>> {
        Self::open(
            want,
            name,
            &GpuOptions {
                chunk,
                ..Default::default()
            },
        )
    }

    /// [`Self::try_new`] with every option.
    pub fn open(want: Want, name: Option<&str>, o: &GpuOptions) -> Result<Option<GpuContext>> {
        let mut found: Vec<wgpu::Adapter> = adapters()
            .into_iter()
            .filter(|a| {
                name.is_none_or(|n| a.get_info().name.to_lowercase().contains(&n.to_lowercase()))
            })
            .filter(|a| want == Want::Any || !is_software(&a.get_info()))
            .collect();
        // Best first: adapters with the features the numeric kernels need;
        // hardware before software; discrete, integrated, others.
        found.sort_by_key(|a| {
            let i = a.get_info();
            let rank = match i.device_type {
                wgpu::DeviceType::DiscreteGpu => 0,
                wgpu::DeviceType::IntegratedGpu => 1,
                wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => 2,
                wgpu::DeviceType::Cpu => 3,
            };
            let need = wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64;
            (!a.features().contains(need), is_software(&i), rank)
        });
        let Some(adapter) = found.into_iter().next() else {
            return Ok(None);
        };
        let mut desc = describe(&adapter);
        let numeric_ok = desc.shader_f64 && desc.shader_int64 && !o.without_f64_int64;
        if o.without_f64_int64 {
            desc.shader_f64 = false;
            desc.shader_int64 = false;
        }
        let mut features = wgpu::Features::empty();
        if numeric_ok {
            features |= wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64;
        }
        if desc.timestamp_query {
            features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("skewer"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| gpu_err("cannot open the device", e))?;
        device.on_uncaptured_error(std::sync::Arc::new(|e: wgpu::Error| {
            eprintln!("skewer: GPU error: {e}");
        }));
        let max_bind = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let max_wgs = limits.max_compute_workgroups_per_dimension as u64 * PER_WORKGROUP as u64;
        let want_chunk = o.chunk.unwrap_or(1 << 22) as u64;
        // A multiple of 64 values so that validity words split evenly.
        let chunk = (want_chunk.min(max_bind / 8).min(max_wgs) / 64 * 64).max(PER_WORKGROUP as u64)
            as usize;
        let period = queue.get_timestamp_period() as f64;
        let build = |chunk| {
            Self::build(
                device.clone(),
                queue.clone(),
                desc.clone(),
                chunk,
                numeric_ok,
                period,
            )
        };
        match build(chunk) {
            Err(Error::Gpu(m)) if m.contains("out of memory") && chunk > PER_WORKGROUP => {
                // Retry once with smaller chunks before giving up.
                build((chunk / 4 / 64 * 64).max(PER_WORKGROUP)).map(Some)
            }
            r => r.map(Some),
        }
    }

    fn build(
        device: wgpu::Device,
        queue: wgpu::Queue,
        desc: AdapterDesc,
        chunk: usize,
        numeric_ok: bool,
        ts_period: f64,
    ) -> Result<GpuContext> {
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let valid = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = |i: usize| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(SHADERS[i].0),
                source: wgpu::ShaderSource::Wgsl(SHADERS[i].1.into()),
            })
        };
        let pipeline = |m: &wgpu::ShaderModule, entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: m,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let numeric = numeric_ok.then(|| {
            let (num, dist) = (module(0), module(1));
            NumericPipelines {
                reduce: pipeline(&num, "reduce"),
                range: pipeline(&num, "range"),
                sketch: pipeline(&num, "sketch"),
                collect: pipeline(&num, "collect"),
                linf: pipeline(&dist, "linf"),
            }
        });
        let cat = module(2);
        let (count_codes, count_bools) =
            (pipeline(&cat, "count_codes"), pipeline(&cat, "count_bools"));
        let buf = |label: &str, size: usize, usage: wgpu::BufferUsages| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16) as u64,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        let groups = chunk.div_ceil(PER_WORKGROUP);
        let nb = 1usize << PROFILE_BITS;
        let params = buf(
            "params",
            std::mem::size_of::<Params>(),
            U::UNIFORM | U::COPY_DST,
        );
        let linf_params = buf("linf params", 32, U::UNIFORM | U::COPY_DST);
        let count_params = buf("count params", 16, U::UNIFORM | U::COPY_DST);
        let values = buf("values", chunk * 8, U::STORAGE | U::COPY_DST);
        // Validity of 2·chunk codes (they are 4 bytes: twice as many fit).
        let validity = buf("validity", chunk / 4, U::STORAGE | U::COPY_DST);
        let partials = buf(
            "partials",
            groups * std::mem::size_of::<Partial>(),
            U::STORAGE | U::COPY_SRC,
        );
        let counts = buf(
            "bucket counts",
            nb * 4,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        );
        let range = buf("chunk range", 32, U::STORAGE | U::COPY_SRC);
        let slots = buf("slots", nb * 4, U::STORAGE | U::COPY_DST);
        let collected = buf(
            "collected",
            chunk * 8,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        );
        let collected_len = buf("collected len", 8, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let readback_size =
            (chunk * 8).max(RB_COUNTS as usize + nb * 4 + groups * std::mem::size_of::<Partial>());
        let readback = [
            buf("readback 0", readback_size, U::MAP_READ | U::COPY_DST),
            buf("readback 1", readback_size, U::MAP_READ | U::COPY_DST),
        ];
        let queries = desc.timestamp_query.then(|| {
            let set = device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("pass timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 4,
            });
            let resolve = buf("timestamps", 512, U::QUERY_RESOLVE | U::COPY_SRC);
            (set, resolve, ts_period)
        });
        let fixed = Fixed {
            params: &params,
            partials: &partials,
            counts: &counts,
            range: &range,
            slots: &slots,
            collected: &collected,
            collected_len: &collected_len,
        };
        let shared = numeric
            .as_ref()
            .map(|np| ValueBindings::new(&device, np, &fixed, &values));
        let bg_range = numeric.as_ref().map(|np| {
            bind_group(
                &device,
                &np.range,
                &[(0, &params), (2, &partials), (7, &range)],
            )
        });
        let bg_linf = numeric.as_ref().map(|np| {
            bind_group(
                &device,
                &np.linf,
                &[
                    (0, &linf_params),
                    (1, &values),
                    (2, &collected),
                    (3, &partials),
                ],
            )
        });
        let count_entries = [
            (0, &count_params),
            (1, &values),
            (2, &validity),
            (3, &counts),
        ];
        let bg_count_codes = bind_group(&device, &count_codes, &count_entries);
        let bg_count_bools = bind_group(&device, &count_bools, &count_entries);
        if let Some(e) = pollster::block_on(valid.pop()) {
            return Err(gpu_err("shader or pipeline validation failed", e));
        }
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(gpu_err("out of memory allocating GPU buffers", e));
        }
        Ok(GpuContext {
            times: Default::default(),
            device,
            queue,
            desc,
            numeric_ok,
            chunk,
            numeric,
            count_codes,
            count_bools,
            shared,
            bg_range,
            bg_linf,
            bg_count_codes,
            bg_count_bools,
            params,
            linf_params,
            count_params,
            values,
            validity,
            partials,
            counts,
            range,
            slots,
            collected,
            collected_len,
            readback,
            queries,
            next_slot: std::cell::Cell::new(0),
            resident: Resident::default(),
            pass1_pool: Vec::new(),
        })
    }

    pub fn chunk_len(&self) -> usize {
        self.chunk
    }

    /// Whether numeric columns (and distances) run here: the adapter has
    /// SHADER_F64 and SHADER_INT64.
    pub fn numeric_supported(&self) -> bool {
        self.numeric_ok
    }

    fn numeric(&self) -> Result<&NumericPipelines> {
        self.numeric.as_ref().ok_or_else(|| {
            Error::Internal(format!(
                "numeric kernels used on {}, which lacks SHADER_F64 or SHADER_INT64",
                self.desc.name
            ))
        })
    }

    /// `slot`'s timestamp queries (of the two general readback slots).
    fn slot_queries(&self, slot: usize) -> Option<(&wgpu::QuerySet, u32)> {
        self.queries
            .as_ref()
            .map(|(set, _, _)| (set, 2 * slot as u32))
    }

    /// Record one compute pass of `steps` (pipeline, bind group, workgroups),
    /// with timestamps at its ends into `ts` (a query set and the first of
    /// two indices) where the adapter has them.
    fn pass(
        &self,
        enc: &mut wgpu::CommandEncoder,
        ts: Option<(&wgpu::QuerySet, u32)>,
        steps: &[(&wgpu::ComputePipeline, &wgpu::BindGroup, u32)],
    ) {
        let timestamp_writes = ts.map(|(set, q)| wgpu::ComputePassTimestampWrites {
            query_set: set,
            beginning_of_pass_write_index: Some(q),
            end_of_pass_write_index: Some(q + 1),
        });
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("skewer"),
            timestamp_writes,
        });
        for (p, g, groups) in steps {
            pass.set_pipeline(p);
            pass.set_bind_group(0, *g, &[]);
            pass.dispatch_workgroups((*groups).max(1), 1, 1);
        }
    }

    /// Copy `slot`'s timestamps into its readback buffer at `at`.
    fn copy_timestamps(&self, enc: &mut wgpu::CommandEncoder, slot: usize, at: u64) {
        if let Some((set, resolve, _)) = &self.queries {
            let q = 2 * slot as u32;
            enc.resolve_query_set(set, q..q + 2, resolve, 256 * slot as u64);
            enc.copy_buffer_to_buffer(resolve, 256 * slot as u64, &self.readback[slot], at, 16);
        }
    }

    /// A free pass-one slot (a new one when all are in flight).
    fn take_pass1_slot(&mut self) -> Pass1Slot {
        if let Some(s) = self.pass1_pool.pop() {
            return s;
        }
        let groups = self.chunk.div_ceil(PER_WORKGROUP);
        let size = RB_COUNTS as usize
            + (1usize << PROFILE_BITS) * 4
            + groups * std::mem::size_of::<Partial>();
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pass-one readback"),
            size: size as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let queries = self.queries.is_some().then(|| {
            let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("pass-one timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            });
            let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("pass-one timestamps"),
                size: 256,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolve)
        });
        Pass1Slot { readback, queries }
    }

    /// Give back the slot of a completed [`Pass1Ticket`].
    pub fn recycle(&mut self, slot: Pass1Slot) {
        self.pass1_pool.push(slot);
    }

    /// Map `slot`'s readback buffer and copy out its first `bytes`, once
    /// `submission` (by default the latest) has finished.
    fn read(
        &self,
        slot: usize,
        bytes: u64,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> Result<Vec<u8>> {
        map_read(
            &self.device,
            &self.readback[slot],
            bytes,
            submission,
            &self.times,
        )
    }

    /// Kernel nanoseconds from the timestamps at `at` of a readback.
    fn kernel_ns(&self, data: &[u8], at: usize) -> u64 {
        kernel_ns(data, at, self.queries.as_ref().map_or(0.0, |q| q.2))
    }

    fn upload(&self, dst: &wgpu::Buffer, bytes: &[u8]) {
        let t0 = Instant::now();
        self.queue.write_buffer(dst, 0, bytes);
        GpuTimes::add(&self.times.upload_ns, t0.elapsed().as_nanos() as u64);
        GpuTimes::add(&self.times.upload_bytes, bytes.len() as u64);
    }

    fn write_params(&self, p: Params) {
        self.queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(&p));
    }

    fn take_slot(&self) -> usize {
        let s = self.next_slot.get();
        self.next_slot.set(s ^ 1);
        s
    }

    /// Start a profile: keep up to `limit` bytes of numeric chunks on the
    /// device for pass two.
    pub fn start_run(&mut self, limit: u64) {
        self.resident = Resident {
            limit,
            ..Default::default()
        };
    }

    /// Whether every chunk of a leaf is on the device (pass two can run
    /// there without reading the source again).
    pub fn is_resident(&self, leaf: usize) -> bool {
        !self.resident.evicted.contains(&leaf) && self.resident.chunks.contains_key(&leaf)
    }

    /// Free the chunks kept for pass two.
    pub fn end_run(&mut self) {
        self.resident = Resident::default();
    }

    /// A device buffer holding `chunk`, kept for pass two when `leaf` is
    /// given and the budget allows; else the shared values buffer.
    /// Upload `chunk`: to a new buffer kept for pass two (the last of
    /// `leaf`'s resident chunks; returns the leaf) when `leaf` is given and
    /// the budget allows, else to the shared values buffer (returns None).
    fn stage_values(&mut self, chunk: &[u64], leaf: Option<usize>) -> Result<Option<usize>> {
        let bytes = chunk.len() as u64 * 8;
        let keep = leaf.filter(|l| {
            !self.resident.evicted.contains(l) && self.resident.bytes + bytes <= self.resident.limit
        });
        if let (None, Some(l)) = (keep, leaf) {
            if self.resident.evicted.insert(l) {
                if let Some(v) = self.resident.chunks.remove(&l) {
                    self.resident.bytes -= v.iter().map(|c| c.n as u64 * 8).sum::<u64>();
                }
            }
        }
        let Some(l) = keep else {
            self.upload(&self.values, bytemuck::cast_slice(chunk));
            return Ok(None);
        };
        // Written through a mapping at creation: no extra staging copy
        // where the device shares host memory, wgpu's own staging elsewhere.
        let t0 = Instant::now();
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let b = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("resident chunk"),
            size: bytes.max(16).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: true,
        });
        if pollster::block_on(oom.pop()).is_some() {
            // The device is fuller than the budget assumed (other programs,
            // or a budget above its memory): this leaf is read again in pass
            // two instead, as when it is over the budget.
            self.resident.limit = self.resident.bytes;
            return self.stage_values(chunk, leaf);
        }
        b.slice(..bytes)
            .get_mapped_range_mut()
            .map_err(|e| gpu_err("writing a chunk to the device", e))?
            .copy_from_slice(bytemuck::cast_slice(chunk));
        b.unmap();
        GpuTimes::add(&self.times.upload_ns, t0.elapsed().as_nanos() as u64);
        GpuTimes::add(&self.times.upload_bytes, bytes);
        let np = self.numeric()?;
        let fixed = Fixed {
            params: &self.params,
            partials: &self.partials,
            counts: &self.counts,
            range: &self.range,
            slots: &self.slots,
            collected: &self.collected,
            collected_len: &self.collected_len,
        };
        let bindings = ValueBindings::new(&self.device, np, &fixed, &b);
        self.resident.bytes += bytes;
        self.resident
            .chunks
            .entry(l)
            .or_default()
            .push(ResidentChunk {
                n: chunk.len(),
                bindings,
            });
        Ok(Some(l))
    }

    /// The bindings of the values just staged by [`Self::stage_values`].
    fn staged(&self, resident: Option<usize>) -> Result<&ValueBindings> {
        match resident {
            Some(l) => self
                .resident
                .chunks
                .get(&l)
                .and_then(|v| v.last())
                .map(|c| &c.bindings)
                .ok_or_else(|| Error::Internal("a resident chunk vanished".into())),
            None => self.shared.as_ref().ok_or_else(|| {
                Error::Internal("numeric bindings on an adapter without them".into())
            }),
        }
    }

    /// Pass one over raw values (f64 bits, i64 or u64 of the column's
    /// domain; no nulls), folded into `acc` exactly as the CPU would. With
    /// `leaf`, the chunks stay on the device for pass two if they fit. Two
    /// chunks of the column are in flight, and the lock on the shared
    /// context is held only to submit a chunk and to give back its slot, not
    /// while the device computes: one chunk uploads and runs while another
    /// (of this column or another thread's) waits for its results.
    pub fn numeric_pass1_shared(
        ctx: &std::sync::Mutex<GpuContext>,
        acc: &mut NumericAcc,
        raw: &[u64],
        leaf: Option<usize>,
    ) -> Result<()> {
        let lock = || {
            ctx.lock()
                .map_err(|_| Error::Internal("a thread panicked while using the GPU".into()))
        };
        let chunk = lock()?.chunk;
        let mut inflight: VecDeque<Pass1Ticket> = VecDeque::new();
        for part in raw.chunks(chunk) {
            if inflight.len() == 2 {
                if let Some(t) = inflight.pop_front() {
                    let slot = t.complete(acc)?;
                    lock()?.recycle(slot);
                }
            }
            let t = lock()?.pass1_submit(part, acc.domain, leaf)?;
            inflight.push_back(t);
        }
        while let Some(t) = inflight.pop_front() {
            let slot = t.complete(acc)?;
            lock()?.recycle(slot);
        }
        Ok(())
    }

    /// Upload one chunk (at most [`Self::chunk_len`] values) and submit its
    /// pass one: reduce, range, sketch and the copies of their results.
    pub fn pass1_submit(
        &mut self,
        chunk: &[u64],
        domain: Domain,
        leaf: Option<usize>,
    ) -> Result<Pass1Ticket> {
        self.numeric()?;
        let n = chunk.len();
        if n > self.chunk {
            return Err(Error::Internal(format!(
                "a pass-one chunk of {n} values (at most {})",
                self.chunk
            )));
        }
        let slot = self.take_pass1_slot();
        let resident = self.stage_values(chunk, leaf)?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        let ts = slot.queries.as_ref().map(|(set, _)| (set, 0));
        let groups = self.record_pass1(&mut enc, ts, self.staged(resident)?, n, domain)?;
        self.record_pass1_readback(&mut enc, &slot, groups);
        let submission = self.queue.submit([enc.finish()]);
        GpuTimes::add(&self.times.pass1_bytes, n as u64 * 8);
        Ok(Pass1Ticket {
            slot,
            n,
            groups,
            submission,
            device: self.device.clone(),
            times: self.times.clone(),
            period: self.queries.as_ref().map_or(0.0, |q| q.2),
        })
    }

    /// One stage of pass one on one chunk (at most [`Self::chunk_len`]
    /// values), waited for, so that benches time upload, compute and
    /// readback apart: `Upload` copies `raw` to the device, `Compute` runs
    /// reduce, range and sketch over what was uploaded last, `Readback`
    /// copies their results back and maps them.
    pub fn bench_stage(&self, stage: BenchStage, raw: &[u64], domain: Domain) -> Result<()> {
        let n = raw.len().min(self.chunk);
        let groups = n.div_ceil(PER_WORKGROUP);
        let nb = 1usize << PROFILE_BITS;
        self.numeric()?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        let slot = self.take_slot();
        let wait_for = |enc: wgpu::CommandEncoder| -> Result<()> {
            let idx = self.queue.submit([enc.finish()]);
            self.device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(idx),
                    timeout: Some(GPU_TIMEOUT),
                })
                .map(|_| ())
                .map_err(|e| gpu_err("waiting for the GPU", e))
        };
        match stage {
            BenchStage::Upload => {
                self.upload(&self.values, bytemuck::cast_slice(&raw[..n]));
                wait_for(enc)
            }
            BenchStage::Compute => {
                self.record_pass1(
                    &mut enc,
                    self.slot_queries(slot),
                    self.staged(None)?,
                    n,
                    domain,
                )?;
                wait_for(enc)
            }
            BenchStage::Readback => {
                let rb = &self.readback[slot];
                enc.copy_buffer_to_buffer(&self.range, 0, rb, RB_RANGE, 32);
                enc.copy_buffer_to_buffer(&self.counts, 0, rb, RB_COUNTS, (nb * 4) as u64);
                let pbytes = (groups * std::mem::size_of::<Partial>()) as u64;
                let at = RB_COUNTS + (nb * 4) as u64;
                enc.copy_buffer_to_buffer(&self.partials, 0, rb, at, pbytes);
                self.queue.submit([enc.finish()]);
                self.read(slot, at + pbytes, None).map(|_| ())
            }
        }
    }

    /// Write pass one's parameters for `n` values of `domain` in `values` and
    /// record reduce, range and sketch into `enc`; returns the workgroups.
    fn record_pass1(
        &self,
        enc: &mut wgpu::CommandEncoder,
        ts: Option<(&wgpu::QuerySet, u32)>,
        values: &ValueBindings,
        n: usize,
        domain: Domain,
    ) -> Result<usize> {
        let groups = n.div_ceil(PER_WORKGROUP);
        let np = self.numeric()?;
        self.write_params(Params {
            n: n as u32,
            domain: domain_code(domain),
            squash: (KeyMap::for_domain(domain) == KeyMap::FloatSquash) as u32,
            buckets: 1 << PROFILE_BITS,
            groups: groups as u32,
            ..Default::default()
        });
        let bg_range = self
            .bg_range
            .as_ref()
            .ok_or_else(|| Error::Internal("no range bindings".into()))?;
        enc.clear_buffer(&self.counts, 0, None);
        self.pass(
            enc,
            ts,
            &[
                (&np.reduce, &values.reduce, groups as u32),
                (&np.range, bg_range, 1),
                (&np.sketch, &values.sketch, groups as u32),
            ],
        );
        Ok(groups)
    }

    /// Record the copies of pass one's results into `slot`'s readback
    /// buffer: range, timestamps, bucket counts, partials.
    fn record_pass1_readback(
        &self,
        enc: &mut wgpu::CommandEncoder,
        slot: &Pass1Slot,
        groups: usize,
    ) {
        let nb = 1u64 << PROFILE_BITS;
        let rb = &slot.readback;
        enc.copy_buffer_to_buffer(&self.range, 0, rb, RB_RANGE, 32);
        if let Some((set, resolve)) = &slot.queries {
            enc.resolve_query_set(set, 0..2, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, rb, RB_TS, 16);
        }
        enc.copy_buffer_to_buffer(&self.counts, 0, rb, RB_COUNTS, nb * 4);
        let pbytes = (groups * std::mem::size_of::<Partial>()) as u64;
        enc.copy_buffer_to_buffer(&self.partials, 0, rb, RB_COUNTS + nb * 4, pbytes);
    }

    /// Pass two over raw values read again: collect the keys of the planned
    /// buckets.
    pub fn collect(
        &self,
        plan: &Pass2Plan,
        domain: Domain,
        state: &mut Pass2State,
        raw: &[u64],
    ) -> Result<()> {
        self.write_slots(plan);
        for chunk in raw.chunks(self.chunk) {
            self.upload(&self.values, bytemuck::cast_slice(chunk));
            self.collect_chunk(plan, domain, state, self.staged(None)?, chunk.len())?;
        }
        Ok(())
    }

    /// Pass two over the chunks of `leaf` kept on the device in pass one.
    pub fn collect_resident(
        &self,
        plan: &Pass2Plan,
        domain: Domain,
        state: &mut Pass2State,
        leaf: usize,
    ) -> Result<()> {
        if !self.is_resident(leaf) {
            return Err(Error::Internal(format!("leaf {leaf} is not on the device")));
        }
        self.write_slots(plan);
        for c in self.resident.chunks.get(&leaf).into_iter().flatten() {
            self.collect_chunk(plan, domain, state, &c.bindings, c.n)?;
        }
        Ok(())
    }

    fn write_slots(&self, plan: &Pass2Plan) {
        let slots: Vec<u32> = plan
            .slot_of_bucket
            .iter()
            .map(|&s| if s == NO_SLOT { u32::MAX } else { s as u32 })
            .collect();
        self.queue
            .write_buffer(&self.slots, 0, bytemuck::cast_slice(&slots));
    }

    fn collect_chunk(
        &self,
        plan: &Pass2Plan,
        domain: Domain,
        state: &mut Pass2State,
        values: &ValueBindings,
        n: usize,
    ) -> Result<()> {
        self.write_params(Params {
            n: n as u32,
            domain: domain_code(domain),
            shift: plan.shift,
            squash: (plan.map == KeyMap::FloatSquash) as u32,
            origin_lo: plan.origin as u32,
            origin_hi: (plan.origin >> 32) as u32,
            buckets: plan.slot_of_bucket.len() as u32,
            groups: 0,
        });
        let slot = self.take_slot();
        let np = self.numeric()?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.collected_len, 0, None);
        self.pass(
            &mut enc,
            self.slot_queries(slot),
            &[(
                &np.collect,
                &values.collect,
                n.div_ceil(PER_WORKGROUP) as u32,
            )],
        );
        enc.copy_buffer_to_buffer(&self.collected_len, 0, &self.readback[slot], 0, 8);
        self.copy_timestamps(&mut enc, slot, 16);
        self.queue.submit([enc.finish()]);
        let data = self.read(slot, 32, None)?;
        GpuTimes::add(&self.times.compute_ns, self.kernel_ns(&data, 16));
        let len = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if len > n {
            return Err(Error::Gpu(format!(
                "the collect kernel reported {len} keys from {n} values"
            )));
        }
        if len == 0 {
            return Ok(());
        }
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(
            &self.collected,
            0,
            &self.readback[slot],
            0,
            (len * 8) as u64,
        );
        self.queue.submit([enc.finish()]);
        let keys: Vec<u64> = pod_vec(&self.read(slot, (len * 8) as u64, None)?);
        let nbk = plan.slot_of_bucket.len() as u64;
        for k in keys {
            let b = (plan.map.fwd(k) >> plan.shift).wrapping_sub(plan.origin);
            let s = (b < nbk)
                .then(|| plan.slot_of_bucket[b as usize])
                .filter(|&s| s != NO_SLOT)
                .ok_or_else(|| {
                    Error::Gpu(format!(
                        "the collect kernel returned key {k} outside the planned buckets"
                    ))
                })?;
            state.cands[s as usize].push(k);
        }
        Ok(())
    }

    /// Count dictionary codes `< k` of the present rows (`validity`: Arrow's
    /// bitmap re-aligned to row 0, as u32 words; None when all are present).
    pub fn count_codes(
        &self,
        codes: &[u32],
        validity: Option<&[u32]>,
        k: usize,
    ) -> Result<Vec<u64>> {
        if k > MAX_DEVICE_DICTIONARY {
            return Err(Error::Internal(format!(
                "a dictionary of {k} values on the device"
            )));
        }
        let mut total = vec![0u64; k];
        // Codes are 4 bytes: the values buffer holds twice the chunk.
        let per = 2 * self.chunk;
        for (ci, chunk) in codes.chunks(per).enumerate() {
            let n = chunk.len();
            self.upload(&self.values, bytemuck::cast_slice(chunk));
            if let Some(v) = validity {
                let w0 = ci * per / 32;
                let words = v
                    .get(w0..w0 + n.div_ceil(32))
                    .ok_or_else(|| Error::Internal("short validity bitmap".into()))?;
                self.upload(&self.validity, bytemuck::cast_slice(words));
            }
            let got = self.count_dispatch(
                (&self.count_codes, &self.bg_count_codes),
                n,
                k,
                validity.is_some(),
                n.div_ceil(PER_WORKGROUP),
            )?;
            if got[k] != 0 {
                return Err(Error::Gpu(format!(
                    "{} dictionary keys out of range 0..{k} (a corrupt file?)",
                    got[k]
                )));
            }
            for (t, &g) in total.iter_mut().zip(&got) {
                *t += g as u64;
            }
        }
        Ok(total)
    }

    /// Count the true values among `n` present rows: `bits` and `validity`
    /// are Arrow's bitmaps re-aligned to row 0, as u32 words.
    pub fn count_bools(&self, bits: &[u32], validity: Option<&[u32]>, n: usize) -> Result<u64> {
        // As many words a dispatch as the validity buffer holds.
        let per_words = self.chunk / 16;
        let mut trues = 0u64;
        for (ci, words) in bits.chunks(per_words).enumerate() {
            let w0 = ci * per_words;
            let rows = (n - w0 * 32).min(words.len() * 32);
            self.upload(&self.values, bytemuck::cast_slice(words));
            if let Some(v) = validity {
                let vw = v
                    .get(w0..w0 + words.len())
                    .ok_or_else(|| Error::Internal("short validity bitmap".into()))?;
                self.upload(&self.validity, bytemuck::cast_slice(vw));
            }
            let groups = words.len().div_ceil(PER_WORKGROUP);
            let got = self.count_dispatch(
                (&self.count_bools, &self.bg_count_bools),
                rows,
                0,
                validity.is_some(),
                groups,
            )?;
            trues += got[0] as u64;
        }
        Ok(trues)
    }

    /// Count a dictionary (of at most [`MAX_DEVICE_DICTIONARY`] values) or a
    /// boolean array here, into `c`; false when it is another kind (left to
    /// the CPU).
    pub fn count_categorical(&self, c: &mut CatAcc, a: &dyn Array) -> Result<bool> {
        let present = (a.len() - a.logical_null_count()) as u64;
        let validity: Option<Vec<u32>> = a
            .logical_nulls()
            .filter(|n| n.null_count() > 0)
            .map(|n| aligned_words(n.inner()));
        match a.data_type() {
            DataType::Boolean => {
                let b = a.as_boolean();
                let bits = aligned_words(b.values());
                let trues = self.count_bools(&bits, validity.as_deref(), a.len())?;
                c.update_bool_counts(trues, present);
                Ok(true)
            }
            DataType::Dictionary(_, _) => {
                let d = a.as_any_dictionary();
                let k = d.values().len();
                if k > MAX_DEVICE_DICTIONARY {
                    return Ok(false);
                }
                let keys = d.keys();
                let codes: Cow<'_, [u32]> = match keys.data_type() {
                    // Zero-copy for the usual Parquet/Arrow key type; negative
                    // keys come out ≥ k and are rejected by the kernel.
                    DataType::Int32 => Cow::Borrowed(bytemuck::cast_slice(
                        keys.as_primitive::<arrow::datatypes::Int32Type>().values(),
                    )),
                    DataType::UInt32 => {
                        Cow::Borrowed(keys.as_primitive::<arrow::datatypes::UInt32Type>().values())
                    }
                    _ => Cow::Owned(d.normalized_keys().iter().map(|&k| k as u32).collect()),
                };
                let per_code = self.count_codes(&codes, validity.as_deref(), k)?;
                c.update_dictionary_counts(d.values().as_ref(), &per_code, present)?;
                Ok(true)
            }
            t if t.is_integer() => {
                // Integers marked categorical: counted as codes v − min when
                // their range fits a device dictionary, else on the CPU.
                let Some((lo, hi)) = int_range(a) else {
                    c.update_integer_counts(0, &[], present);
                    return Ok(true);
                };
                if hi - lo >= MAX_DEVICE_DICTIONARY as i128 {
                    return Ok(false);
                }
                use arrow::datatypes::*;
                // Zero-copy when the values are already codes.
                let (base, codes): (i128, Cow<'_, [u32]>) = match t {
                    DataType::Int32 if lo >= 0 && hi < MAX_DEVICE_DICTIONARY as i128 => (
                        0,
                        Cow::Borrowed(bytemuck::cast_slice(a.as_primitive::<Int32Type>().values())),
                    ),
                    DataType::UInt32 if hi < MAX_DEVICE_DICTIONARY as i128 => {
                        (0, Cow::Borrowed(a.as_primitive::<UInt32Type>().values()))
                    }
                    _ => (lo, Cow::Owned(int_codes(a, lo)?)),
                };
                let k = (hi - base + 1) as usize;
                let per_code = self.count_codes(&codes, validity.as_deref(), k)?;
                c.update_integer_counts(base, &per_code, present);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// One counting dispatch; returns counts[0..=k].
    fn count_dispatch(
        &self,
        (p, bg): (&wgpu::ComputePipeline, &wgpu::BindGroup),
        n: usize,
        k: usize,
        has_validity: bool,
        groups: usize,
    ) -> Result<Vec<u32>> {
        let cp = CountParams {
            n: n as u32,
            k: k as u32,
            has_validity: has_validity as u32,
            _pad: 0,
        };
        self.queue
            .write_buffer(&self.count_params, 0, bytemuck::bytes_of(&cp));
        let slot = self.take_slot();
        let bytes = ((k + 1) * 4) as u64;
        let ts_at = bytes.div_ceil(8) * 8;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.counts, 0, Some(bytes.div_ceil(4) * 4));
        self.pass(&mut enc, self.slot_queries(slot), &[(p, bg, groups as u32)]);
        enc.copy_buffer_to_buffer(
            &self.counts,
            0,
            &self.readback[slot],
            0,
            bytes.div_ceil(4) * 4,
        );
        self.copy_timestamps(&mut enc, slot, ts_at);
        self.queue.submit([enc.finish()]);
        let data = self.read(slot, ts_at + 16, None)?;
        GpuTimes::add(
            &self.times.compute_ns,
            self.kernel_ns(&data, ts_at as usize),
        );
        Ok(pod_vec(&data[..(k + 1) * 4]))
    }

    /// The L-infinity argmax of two count vectors on the device: the index
    /// with the largest `|a_i·Q − b_i·P|`, the lowest among equals (exactly
    /// [`crate::compare::distance::linf_argmax`]).
    pub fn linf_argmax(&self, a: &[u64], b: &[u64], p: u64, q: u64) -> Result<Option<usize>> {
        if a.len() != b.len() {
            return Err(Error::Internal("count vectors of different lengths".into()));
        }
        let mut best: Option<(u128, usize)> = None;
        for (ci, (ca, cb)) in a.chunks(self.chunk).zip(b.chunks(self.chunk)).enumerate() {
            let n = ca.len();
            self.upload(&self.values, bytemuck::cast_slice(ca));
            self.upload(&self.collected, bytemuck::cast_slice(cb));
            let lp = LinfParams {
                n: n as u32,
                _pad: 0,
                p_total: p,
                q_total: q,
            };
            self.queue
                .write_buffer(&self.linf_params, 0, bytemuck::bytes_of(&lp));
            let groups = n.div_ceil(PER_WORKGROUP);
            let bytes = (groups * std::mem::size_of::<LinfPartial>()) as u64;
            let slot = self.take_slot();
            let np = self.numeric()?;
            let bg = self
                .bg_linf
                .as_ref()
                .ok_or_else(|| Error::Internal("no linf bindings".into()))?;
            let mut enc = self.device.create_command_encoder(&Default::default());
            self.pass(
                &mut enc,
                self.slot_queries(slot),
                &[(&np.linf, bg, groups as u32)],
            );
            enc.copy_buffer_to_buffer(&self.partials, 0, &self.readback[slot], 0, bytes);
            self.copy_timestamps(&mut enc, slot, bytes);
            self.queue.submit([enc.finish()]);
            let data = self.read(slot, bytes + 16, None)?;
            GpuTimes::add(
                &self.times.compute_ns,
                self.kernel_ns(&data, bytes as usize),
            );
            let parts: Vec<LinfPartial> = pod_vec(&data[..bytes as usize]);
            for w in parts {
                if w.index == u32::MAX {
                    continue;
                }
                if w.index as usize >= n {
                    return Err(Error::Gpu(format!(
                        "the linf kernel returned index {} of a chunk of {n}",
                        w.index
                    )));
                }
                let g = ((w.hi as u128) << 64) | w.lo as u128;
                let i = ci * self.chunk + w.index as usize;
                // Chunks and workgroups come in index order: only a strictly
                // larger gap replaces the winner.
                if best.is_none_or(|(bg, _)| g > bg) {
                    best = Some((g, i));
                }
            }
        }
        Ok(best.map(|(_, i)| i))
    }
}

/// A bitmap's bits from its offset on, as little-endian u32 words from bit 0.
fn aligned_words(b: &arrow::buffer::BooleanBuffer) -> Vec<u32> {
    let chunks = b.bit_chunks();
    let mut out = Vec::with_capacity(b.len().div_ceil(32) + 1);
    for w in chunks.iter_padded() {
        out.push(w as u32);
        out.push((w >> 32) as u32);
    }
    out.truncate(b.len().div_ceil(32));
    out
}

/// Min and max of an integer array's present values (None when all null).
fn int_range(a: &dyn Array) -> Option<(i128, i128)> {
    use arrow::compute::{max, min};
    use arrow::datatypes::*;
    macro_rules! mm {
        ($t:ty) => {{
            let p = a.as_primitive::<$t>();
            Some((min(p)? as i128, max(p)? as i128))
        }};
    }
    match a.data_type() {
        DataType::Int8 => mm!(Int8Type),
        DataType::Int16 => mm!(Int16Type),
        DataType::Int32 => mm!(Int32Type),
        DataType::Int64 => mm!(Int64Type),
        DataType::UInt8 => mm!(UInt8Type),
        DataType::UInt16 => mm!(UInt16Type),
        DataType::UInt32 => mm!(UInt32Type),
        DataType::UInt64 => mm!(UInt64Type),
        _ => None,
    }
}

/// `v − lo` of every slot (null slots hold anything; the kernel skips them).
fn int_codes(a: &dyn Array, lo: i128) -> Result<Vec<u32>> {
    use arrow::datatypes::*;
    macro_rules! codes {
        ($t:ty) => {
            a.as_primitive::<$t>()
                .values()
                .iter()
                .map(|&v| (v as i128 - lo) as u32)
                .collect()
        };
    }
    Ok(match a.data_type() {
        DataType::Int8 => codes!(Int8Type),
        DataType::Int16 => codes!(Int16Type),
        DataType::Int32 => codes!(Int32Type),
        DataType::Int64 => codes!(Int64Type),
        DataType::UInt8 => codes!(UInt8Type),
        DataType::UInt16 => codes!(UInt16Type),
        DataType::UInt32 => codes!(UInt32Type),
        DataType::UInt64 => codes!(UInt64Type),
        other => return Err(Error::Internal(format!("integer codes of {other}"))),
    })
}

impl Pass1Ticket {
    /// Wait for the chunk, read its results back and fold them into `acc`
    /// (in submission order, as the CPU folds batches); returns the slot.
    pub fn complete(self, acc: &mut NumericAcc) -> Result<Pass1Slot> {
        let p = &self;
        let nb = 1usize << PROFILE_BITS;
        let pbytes = p.groups * std::mem::size_of::<Partial>();
        let data = map_read(
            &p.device,
            &p.slot.readback,
            RB_COUNTS + (nb * 4 + pbytes) as u64,
            Some(p.submission.clone()),
            &p.times,
        )?;
        let ns = kernel_ns(&data, RB_TS as usize, p.period);
        GpuTimes::add(&p.times.compute_ns, ns);
        GpuTimes::add(&p.times.pass1_compute_ns, ns);
        let range: ChunkRange = bytemuck::pod_read_unaligned(&data[..32]);
        let counts: Vec<u32> = pod_vec(&data[RB_COUNTS as usize..RB_COUNTS as usize + nb * 4]);
        let parts: Vec<Partial> = pod_vec(&data[RB_COUNTS as usize + nb * 4..]);
        let (mut lo, mut hi, mut fin) = (u64::MAX, 0u64, 0u64);
        acc.class.present += p.n as u64;
        for w in &parts {
            acc.class.nan += w.nan as u64;
            acc.class.pos_inf += w.pos_inf as u64;
            acc.class.neg_inf += w.neg_inf as u64;
            acc.class.zeros += w.zeros as u64;
            if w.finite > 0 {
                lo = lo.min(w.min_key);
                hi = hi.max(w.max_key);
                fin += w.finite as u64;
                let m = Moments::from_power_sums(w.finite as u64, w.m0, w.s1, w.s2, w.s3, w.s4);
                // Integers' sums are of value − min (see numeric.wgsl's reduce).
                acc.moments.merge(&match acc.domain {
                    Domain::Float => m,
                    d => m.shifted(d.exact_f64(w.min_key)),
                });
            }
        }
        if fin == 0 {
            return Ok(self.slot);
        }
        let got: u64 = counts.iter().map(|&c| c as u64).sum();
        if got != fin || range.finite as u64 != fin || range.lo != lo || range.hi != hi {
            return Err(Error::Gpu(format!(
                "the sketch kernels counted {got} values in [{}, {}] where the reduce kernel found {fin} in [{lo}, {hi}] (a driver fault?)",
                range.lo, range.hi
            )));
        }
        let chunk = KeySketch::from_dense(
            acc.sketch.bits(),
            acc.sketch.map(),
            (range.shift, range.origin),
            &counts,
            (lo, hi),
            fin,
        )
        .map_err(|e| Error::Gpu(format!("the range kernel: {e}")))?;
        acc.sketch.merge(&chunk);
        Ok(self.slot)
    }
}

/// Map `buffer`, once `submission` (by default the latest) has finished, and
/// copy out its first `bytes`.
fn map_read(
    device: &wgpu::Device,
    buffer: &wgpu::Buffer,
    bytes: u64,
    submission: Option<wgpu::SubmissionIndex>,
    times: &GpuTimes,
) -> Result<Vec<u8>> {
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let t0 = Instant::now();
    let slice = buffer.slice(..bytes);
    let (tx, rx) = mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::Wait {
            submission_index: submission,
            timeout: Some(GPU_TIMEOUT),
        })
        .map_err(|e| {
            gpu_err(
                &format!(
                    "waiting for the GPU (device lost, or no result within {} s?)",
                    GPU_TIMEOUT.as_secs()
                ),
                e,
            )
        })?;
    rx.recv()
        .map_err(|e| gpu_err("reading results back", e))?
        .map_err(|e| gpu_err("reading results back", e))?;
    let out = slice
        .get_mapped_range()
        .map_err(|e| gpu_err("reading results back", e))?
        .to_vec();
    buffer.unmap();
    GpuTimes::add(&times.wait_ns, t0.elapsed().as_nanos() as u64);
    Ok(out)
}

/// Kernel nanoseconds from two timestamps at `at` (0 without them).
fn kernel_ns(data: &[u8], at: usize, period: f64) -> u64 {
    if period <= 0.0 || data.len() < at + 16 {
        return 0;
    }
    let t: Vec<u64> = pod_vec(&data[at..at + 16]);
    (t[1].saturating_sub(t[0]) as f64 * period) as u64
}

fn domain_code(d: Domain) -> u32 {
    match d {
        Domain::Int => 0,
        Domain::UInt => 1,
        Domain::Float => 2,
    }
}

/// The L-infinity argmax for `compare`: on the device when it has the
/// numeric features (SHADER_INT64), else the CPU's.
impl crate::compare::LinfKernel for GpuContext {
    fn argmax(&self, a: &[u64], b: &[u64], p: u64, q: u64) -> Result<Option<usize>> {
        if self.numeric_supported() {
            self.linf_argmax(a, b, p, q)
        } else {
            Ok(crate::compare::distance::linf_argmax(a, b, p, q).map(|(i, _)| i))
        }
    }
    fn name(&self) -> &'static str {
        if self.numeric_supported() {
            "gpu"
        } else {
            "cpu"
        }
    }
}
