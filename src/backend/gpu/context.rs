//! The device, its compiled pipelines and fixed buffers, and the plumbing
//! every kernel shares: uploads, compute passes with timestamps, readback
//! slots, mapping results back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use bytemuck::Pod;

use super::adapter::{self, AdapterDesc, GpuOptions, Want};
use super::layout::*;
use crate::error::{Error, Result};

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
    pub(super) fn add(a: &AtomicU64, v: u64) {
        a.fetch_add(v, Ordering::Relaxed);
    }
}

/// The numeric and distance kernels (they need SHADER_F64 and
/// SHADER_INT64), with the bind groups built once.
pub(super) struct NumericKernels {
    pub(super) reduce: wgpu::ComputePipeline,
    pub(super) range: wgpu::ComputePipeline,
    pub(super) sketch: wgpu::ComputePipeline,
    pub(super) collect: wgpu::ComputePipeline,
    pub(super) linf: wgpu::ComputePipeline,
    /// reduce, sketch and collect over the shared values buffer.
    pub(super) shared: ValueBindings,
    pub(super) bg_range: wgpu::BindGroup,
    pub(super) bg_linf: wgpu::BindGroup,
}

/// The counting kernels of `categorical.wgsl` (no optional feature).
pub(super) struct CountKernels {
    pub(super) codes: (wgpu::ComputePipeline, wgpu::BindGroup),
    pub(super) bools: (wgpu::ComputePipeline, wgpu::BindGroup),
}

/// The bind groups of the numeric kernels that read one values buffer:
/// built once per buffer (the shared one, and each chunk kept on the
/// device).
pub(super) struct ValueBindings {
    pub(super) reduce: wgpu::BindGroup,
    pub(super) sketch: wgpu::BindGroup,
    pub(super) collect: wgpu::BindGroup,
}

/// The fixed-size buffers the kernels bind.
pub(super) struct Buffers {
    pub(super) params: wgpu::Buffer,
    pub(super) linf_params: wgpu::Buffer,
    pub(super) count_params: wgpu::Buffer,
    /// One chunk of values (or twice as many 4-byte codes).
    pub(super) values: wgpu::Buffer,
    pub(super) validity: wgpu::Buffer,
    pub(super) partials: wgpu::Buffer,
    pub(super) counts: wgpu::Buffer,
    pub(super) range: wgpu::Buffer,
    pub(super) slots: wgpu::Buffer,
    pub(super) collected: wgpu::Buffer,
    pub(super) collected_len: wgpu::Buffer,
}

/// A readback buffer, with its timestamp queries, for one pass-one chunk in
/// flight. Slots are pooled: each chunk submitted holds one until its
/// results are read.
pub struct Pass1Slot {
    pub(super) readback: wgpu::Buffer,
    pub(super) queries: Option<(wgpu::QuerySet, wgpu::Buffer)>,
}

/// The device of a [`super::Gpu`] and everything built for it once.
pub(super) struct GpuContext {
    pub(super) times: Arc<GpuTimes>,
    pub(super) device: wgpu::Device,
    pub(super) queue: wgpu::Queue,
    pub(super) desc: AdapterDesc,
    /// Values per dispatch.
    pub(super) chunk: usize,
    /// None where the adapter lacks SHADER_F64 or SHADER_INT64.
    pub(super) numeric: Option<NumericKernels>,
    pub(super) count: CountKernels,
    pub(super) buffers: Buffers,
    /// Two readback slots for the calls that wait for their results.
    pub(super) readback: [wgpu::Buffer; 2],
    /// Two timestamps per readback slot, where they resolve, and
    /// nanoseconds per tick.
    pub(super) queries: Option<(wgpu::QuerySet, wgpu::Buffer, f64)>,
    pub(super) next_slot: std::cell::Cell<usize>,
    /// Free pass-one readback slots.
    pub(super) pass1_pool: Vec<Pass1Slot>,
}

pub(super) fn gpu_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Gpu(format!("{what}: {e}"))
}

pub(super) fn pod_vec<T: Pod>(bytes: &[u8]) -> Vec<T> {
    bytemuck::pod_collect_to_vec(bytes)
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
    pub(super) fn new(
        device: &wgpu::Device,
        reduce: &wgpu::ComputePipeline,
        sketch: &wgpu::ComputePipeline,
        collect: &wgpu::ComputePipeline,
        b: &Buffers,
        values: &wgpu::Buffer,
    ) -> Self {
        ValueBindings {
            reduce: bind_group(
                device,
                reduce,
                &[(0, &b.params), (1, values), (2, &b.partials)],
            ),
            sketch: bind_group(
                device,
                sketch,
                &[(0, &b.params), (1, values), (3, &b.counts), (7, &b.range)],
            ),
            collect: bind_group(
                device,
                collect,
                &[
                    (0, &b.params),
                    (1, values),
                    (4, &b.slots),
                    (5, &b.collected),
                    (6, &b.collected_len),
                ],
            ),
        }
    }
}

impl NumericKernels {
    /// The bind groups of the numeric kernels over another values buffer.
    pub(super) fn bindings(
        &self,
        device: &wgpu::Device,
        b: &Buffers,
        values: &wgpu::Buffer,
    ) -> ValueBindings {
        ValueBindings::new(device, &self.reduce, &self.sketch, &self.collect, b, values)
    }
}

impl GpuContext {
    /// Open an adapter (by `want`, and by name substring when `name` is
    /// given) and build everything once. `Ok(None)`: no adapter matched.
    pub(super) fn open(
        want: Want,
        name: Option<&str>,
        o: &GpuOptions,
    ) -> Result<Option<GpuContext>> {
        let Some(adapter) = adapter::choose(want, name) else {
            return Ok(None);
        };
        let mut desc = adapter::describe(&adapter);
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
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
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
        let module = |file: &str| {
            let src = SHADERS
                .iter()
                .find(|(name, _)| *name == file)
                .map_or("", |s| s.1);
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(file),
                source: wgpu::ShaderSource::Wgsl(src.into()),
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
        let b = Buffers {
            params: buf(
                "params",
                std::mem::size_of::<Params>(),
                U::UNIFORM | U::COPY_DST,
            ),
            linf_params: buf("linf params", 32, U::UNIFORM | U::COPY_DST),
            count_params: buf("count params", 16, U::UNIFORM | U::COPY_DST),
            values: buf("values", chunk * 8, U::STORAGE | U::COPY_DST),
            // Validity of 2·chunk codes (they are 4 bytes: twice as many fit).
            validity: buf("validity", chunk / 4, U::STORAGE | U::COPY_DST),
            partials: buf(
                "partials",
                groups * std::mem::size_of::<Partial>(),
                U::STORAGE | U::COPY_SRC,
            ),
            counts: buf(
                "bucket counts",
                BUCKETS * 4,
                U::STORAGE | U::COPY_SRC | U::COPY_DST,
            ),
            range: buf("chunk range", 32, U::STORAGE | U::COPY_SRC),
            slots: buf("slots", BUCKETS * 4, U::STORAGE | U::COPY_DST),
            collected: buf(
                "collected",
                chunk * 8,
                U::STORAGE | U::COPY_SRC | U::COPY_DST,
            ),
            collected_len: buf("collected len", 8, U::STORAGE | U::COPY_SRC | U::COPY_DST),
        };
        let numeric = numeric_ok.then(|| {
            let (num, dist) = (module("numeric.wgsl"), module("distance.wgsl"));
            let (reduce, range, sketch, collect, linf) = (
                pipeline(&num, "reduce"),
                pipeline(&num, "range"),
                pipeline(&num, "sketch"),
                pipeline(&num, "collect"),
                pipeline(&dist, "linf"),
            );
            NumericKernels {
                shared: ValueBindings::new(&device, &reduce, &sketch, &collect, &b, &b.values),
                bg_range: bind_group(
                    &device,
                    &range,
                    &[(0, &b.params), (2, &b.partials), (7, &b.range)],
                ),
                bg_linf: bind_group(
                    &device,
                    &linf,
                    &[
                        (0, &b.linf_params),
                        (1, &b.values),
                        (2, &b.collected),
                        (3, &b.partials),
                    ],
                ),
                reduce,
                range,
                sketch,
                collect,
                linf,
            }
        });
        let cat = module("categorical.wgsl");
        let counting = |entry: &str| {
            let p = pipeline(&cat, entry);
            let bg = bind_group(
                &device,
                &p,
                &[
                    (0, &b.count_params),
                    (1, &b.values),
                    (2, &b.validity),
                    (3, &b.counts),
                ],
            );
            (p, bg)
        };
        let count = CountKernels {
            codes: counting("count_codes"),
            bools: counting("count_bools"),
        };
        let readback_size = (chunk * 8).max(pass1_readback_bytes(groups) as usize);
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
            chunk,
            numeric,
            count,
            buffers: b,
            readback,
            queries,
            next_slot: std::cell::Cell::new(0),
            pass1_pool: Vec::new(),
        })
    }

    /// The numeric kernels (an internal error where the adapter lacks them:
    /// callers check [`super::Gpu::numeric_supported`] first).
    pub(super) fn numeric(&self) -> Result<&NumericKernels> {
        self.numeric.as_ref().ok_or_else(|| {
            Error::Internal(format!(
                "numeric kernels used on {}, which lacks SHADER_F64 or SHADER_INT64",
                self.desc.name
            ))
        })
    }

    /// `slot`'s timestamp queries (of the two general readback slots).
    pub(super) fn slot_queries(&self, slot: usize) -> Option<(&wgpu::QuerySet, u32)> {
        self.queries
            .as_ref()
            .map(|(set, _, _)| (set, 2 * slot as u32))
    }

    /// Record one compute pass of `steps` (pipeline, bind group, workgroups),
    /// with timestamps at its ends into `ts` (a query set and the first of
    /// two indices) where the adapter has them.
    pub(super) fn pass(
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
    pub(super) fn copy_timestamps(&self, enc: &mut wgpu::CommandEncoder, slot: usize, at: u64) {
        if let Some((set, resolve, _)) = &self.queries {
            let q = 2 * slot as u32;
            enc.resolve_query_set(set, q..q + 2, resolve, 256 * slot as u64);
            enc.copy_buffer_to_buffer(resolve, 256 * slot as u64, &self.readback[slot], at, 16);
        }
    }

    /// Map `slot`'s readback buffer and copy out its first `bytes`, once
    /// `submission` (by default the latest) has finished.
    pub(super) fn read(
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
    pub(super) fn kernel_ns(&self, data: &[u8], at: usize) -> u64 {
        kernel_ns(data, at, self.period())
    }

    /// Nanoseconds per timestamp tick (0 without timestamp queries).
    pub(super) fn period(&self) -> f64 {
        self.queries.as_ref().map_or(0.0, |q| q.2)
    }

    pub(super) fn upload(&self, dst: &wgpu::Buffer, bytes: &[u8]) {
        let t0 = Instant::now();
        self.queue.write_buffer(dst, 0, bytes);
        GpuTimes::add(&self.times.upload_ns, t0.elapsed().as_nanos() as u64);
        GpuTimes::add(&self.times.upload_bytes, bytes.len() as u64);
    }

    pub(super) fn write_params(&self, p: Params) {
        self.queue
            .write_buffer(&self.buffers.params, 0, bytemuck::bytes_of(&p));
    }

    /// One of the two general readback slots, in turn.
    pub(super) fn take_slot(&self) -> usize {
        let s = self.next_slot.get();
        self.next_slot.set(s ^ 1);
        s
    }
}

/// Map `buffer`, once `submission` (by default the latest) has finished, and
/// copy out its first `bytes`.
pub(super) fn map_read(
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
pub(super) fn kernel_ns(data: &[u8], at: usize, period: f64) -> u64 {
    if period <= 0.0 || data.len() < at + 16 {
        return 0;
    }
    let t: Vec<u64> = pod_vec(&data[at..at + 16]);
    (t[1].saturating_sub(t[0]) as f64 * period) as u64
}
