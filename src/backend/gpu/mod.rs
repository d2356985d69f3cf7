//! The GPU backend: wgpu compute with the WGSL kernels of `shaders/`.
//!
//! One [`GpuContext`] per run holds the device, queue, compiled pipelines,
//! bind groups and fixed-size buffers; each call only writes, dispatches,
//! copies and maps. A column is cut into chunks of at most `chunk` values
//! (bounded by the adapter's storage-binding and buffer limits). For each
//! chunk the `reduce` kernel writes one [`Partial`] per workgroup (class
//! counts, min/max key, moment power sums), which the host folds in
//! workgroup order with the CPU's own merge code; the `sketch` kernel then
//! counts the chunk into the sketch's buckets with atomics; pass two's
//! `collect` kernel gathers the keys of the buckets that hold quantile
//! targets or straddle histogram edges. The partial states are the CPU
//! backend's types, so merging and finishing are shared.
//!
//! The kernels need SHADER_F64 and SHADER_INT64 (exact int64 keys and f64
//! moments). An adapter without them profiles numeric columns on the CPU and
//! says so in each feature's `computed_on`; it never lowers the precision.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::profile::keys::Domain;
use crate::profile::moments::Moments;
use crate::profile::numeric::NumericAcc;
use crate::profile::quantile::{Pass2Plan, Pass2State, NO_SLOT};
use crate::profile::sketch::{KeyMap, PROFILE_BITS};

/// Threads per workgroup, mirrored from `shaders/numeric.wgsl` (`WG`).
pub const WORKGROUP_SIZE: u32 = 256;
/// Values per thread, mirrored from `shaders/numeric.wgsl` (`ITEMS`).
pub const ITEMS_PER_THREAD: u32 = 8;
const PER_WORKGROUP: usize = (WORKGROUP_SIZE * ITEMS_PER_THREAD) as usize;

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
];

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
struct Params {
    n: u32,
    domain: u32,
    shift: u32,
    squash: u32,
    origin_lo: u32,
    origin_hi: u32,
    buckets: u32,
    _pad: u32,
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

/// Time spent on the device side, for `skewer bench` (nanoseconds).
#[derive(Debug, Default)]
pub struct GpuTimes {
    /// Queueing uploads of column data.
    pub upload_ns: AtomicU64,
    pub upload_bytes: AtomicU64,
    /// Waiting for dispatches to finish and results to map (compute and
    /// readback together: this adapter path has no timestamp queries).
    pub wait_ns: AtomicU64,
}

/// The GPU state of one run.
pub struct GpuContext {
    pub times: GpuTimes,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pub desc: AdapterDesc,
    /// Values per dispatch.
    chunk: usize,
    reduce: wgpu::ComputePipeline,
    sketch: wgpu::ComputePipeline,
    collect: wgpu::ComputePipeline,
    linf: wgpu::ComputePipeline,
    bg_linf: wgpu::BindGroup,
    linf_params: wgpu::Buffer,
    bg_reduce: wgpu::BindGroup,
    bg_sketch: wgpu::BindGroup,
    bg_collect: wgpu::BindGroup,
    params: wgpu::Buffer,
    values: wgpu::Buffer,
    partials: wgpu::Buffer,
    counts: wgpu::Buffer,
    slots: wgpu::Buffer,
    collected: wgpu::Buffer,
    collected_len: wgpu::Buffer,
    readback: wgpu::Buffer,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuContext({}, chunk {})", self.desc.name, self.chunk)
    }
}

fn gpu_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Gpu(format!("{what}: {e}"))
}

impl GpuContext {
    /// Open an adapter (by `want`, and by name substring when `name` is
    /// given) and build everything once. `Ok(None)`: no adapter matched.
    pub fn try_new(
        want: Want,
        name: Option<&str>,
        chunk: Option<usize>,
    ) -> Result<Option<GpuContext>> {
        let mut found: Vec<wgpu::Adapter> = adapters()
            .into_iter()
            .filter(|a| {
                name.is_none_or(|n| a.get_info().name.to_lowercase().contains(&n.to_lowercase()))
            })
            .filter(|a| want == Want::Any || !is_software(&a.get_info()))
            .collect();
        // Best first: discrete, integrated, others; hardware before software;
        // adapters with the features the kernels need before those without.
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
        let desc = describe(&adapter);
        if !(desc.shader_f64 && desc.shader_int64) {
            return Err(Error::Gpu(format!(
                "adapter {} lacks SHADER_F64 or SHADER_INT64, which exact GPU statistics need; use --backend cpu",
                desc.name
            )));
        }
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("skewer"),
            required_features: wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64,
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
        let want_chunk = chunk.unwrap_or(1 << 22) as u64;
        let chunk = want_chunk
            .min(max_bind / 8)
            .min(max_wgs)
            .max(PER_WORKGROUP as u64) as usize;
        match Self::build(device.clone(), queue.clone(), desc.clone(), chunk) {
            Err(Error::Gpu(m)) if m.contains("out of memory") && chunk > PER_WORKGROUP => {
                // Retry once with smaller chunks before giving up.
                Self::build(device, queue, desc, (chunk / 4).max(PER_WORKGROUP)).map(Some)
            }
            r => r.map(Some),
        }
    }

    fn build(
        device: wgpu::Device,
        queue: wgpu::Queue,
        desc: AdapterDesc,
        chunk: usize,
    ) -> Result<GpuContext> {
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let valid = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("numeric.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADERS[0].1.into()),
        });
        let pipeline = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let (reduce, sketch, collect) =
            (pipeline("reduce"), pipeline("sketch"), pipeline("collect"));
        let distance = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("distance.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADERS[1].1.into()),
        });
        let linf = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("linf"),
            layout: None,
            module: &distance,
            entry_point: Some("linf"),
            compilation_options: Default::default(),
            cache: None,
        });
        let buf = |label: &str, size: usize, usage: wgpu::BufferUsages| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(8) as u64,
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
        let values = buf("values", chunk * 8, U::STORAGE | U::COPY_DST);
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
        let slots = buf("slots", nb * 4, U::STORAGE | U::COPY_DST);
        let collected = buf(
            "collected",
            chunk * 8,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        );
        let linf_params = buf("linf params", 32, U::UNIFORM | U::COPY_DST);
        let collected_len = buf("collected len", 8, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let readback_size = (chunk * 8)
            .max(nb * 4)
            .max(groups * std::mem::size_of::<Partial>());
        let readback = buf("readback", readback_size, U::MAP_READ | U::COPY_DST);
        let bind = |p: &wgpu::ComputePipeline, label: &str, entries: &[(u32, &wgpu::Buffer)]| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &p.get_bind_group_layout(0),
                entries: &entries
                    .iter()
                    .map(|(b, buf)| wgpu::BindGroupEntry {
                        binding: *b,
                        resource: buf.as_entire_binding(),
                    })
                    .collect::<Vec<_>>(),
            })
        };
        let bg_reduce = bind(
            &reduce,
            "reduce",
            &[(0, &params), (1, &values), (2, &partials)],
        );
        let bg_sketch = bind(
            &sketch,
            "sketch",
            &[(0, &params), (1, &values), (3, &counts)],
        );
        let bg_collect = bind(
            &collect,
            "collect",
            &[
                (0, &params),
                (1, &values),
                (4, &slots),
                (5, &collected),
                (6, &collected_len),
            ],
        );
        // The L-infinity kernel reuses the value buffers for its two count
        // vectors and the partials buffer (80 bytes per workgroup ≥ 24).
        let bg_linf = bind(
            &linf,
            "linf",
            &[
                (0, &linf_params),
                (1, &values),
                (2, &collected),
                (3, &partials),
            ],
        );
        if let Some(e) = pollster::block_on(valid.pop()) {
            return Err(gpu_err("shader or pipeline validation failed", e));
        }
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(gpu_err("out of memory allocating GPU buffers", e));
        }
        Ok(GpuContext {
            times: GpuTimes::default(),
            device,
            queue,
            desc,
            chunk,
            reduce,
            sketch,
            collect,
            linf,
            bg_linf,
            linf_params,
            bg_reduce,
            bg_sketch,
            bg_collect,
            params,
            values,
            partials,
            counts,
            slots,
            collected,
            collected_len,
            readback,
        })
    }

    pub fn chunk_len(&self) -> usize {
        self.chunk
    }

    fn dispatch(
        &self,
        pipeline: &wgpu::ComputePipeline,
        group: &wgpu::BindGroup,
        n: usize,
        copy: Option<(&wgpu::Buffer, u64)>,
        clear: &[&wgpu::Buffer],
    ) -> Result<()> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("skewer"),
            });
        for b in clear {
            enc.clear_buffer(b, 0, None);
        }
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("skewer"),
                timestamp_writes: None,
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, group, &[]);
            pass.dispatch_workgroups(n.div_ceil(PER_WORKGROUP).max(1) as u32, 1, 1);
        }
        if let Some((src, bytes)) = copy {
            enc.copy_buffer_to_buffer(src, 0, &self.readback, 0, bytes);
        }
        self.queue.submit([enc.finish()]);
        Ok(())
    }

    /// Map the readback buffer and copy out its first `bytes`.
    fn read(&self, bytes: u64) -> Result<Vec<u8>> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let t0 = Instant::now();
        let slice = self.readback.slice(..bytes);
        let (tx, rx) = mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| gpu_err("waiting for the GPU (device lost?)", e))?;
        rx.recv()
            .map_err(|e| gpu_err("reading results back", e))?
            .map_err(|e| gpu_err("reading results back", e))?;
        let out = slice
            .get_mapped_range()
            .map_err(|e| gpu_err("reading results back", e))?
            .to_vec();
        self.readback.unmap();
        self.times
            .wait_ns
            .fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Ok(out)
    }

    fn write_params(
        &self,
        n: usize,
        domain: Domain,
        map: KeyMap,
        shift: u32,
        origin: u64,
        buckets: usize,
    ) {
        let p = Params {
            n: n as u32,
            domain: match domain {
                Domain::Int => 0,
                Domain::UInt => 1,
                Domain::Float => 2,
            },
            shift,
            squash: (map == KeyMap::FloatSquash) as u32,
            origin_lo: origin as u32,
            origin_hi: (origin >> 32) as u32,
            buckets: buckets as u32,
            _pad: 0,
        };
        self.queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(&p));
    }

    fn upload(&self, chunk: &[u64]) {
        let t0 = Instant::now();
        self.queue
            .write_buffer(&self.values, 0, bytemuck::cast_slice(chunk));
        self.times
            .upload_ns
            .fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.times
            .upload_bytes
            .fetch_add(chunk.len() as u64 * 8, Ordering::Relaxed);
    }

    /// Pass one over raw values (f64 bits, i64 or u64 of the column's
    /// domain; no nulls), folded into `acc` exactly as the CPU would.
    pub fn numeric_pass1(&self, acc: &mut NumericAcc, raw: &[u64]) -> Result<()> {
        for chunk in raw.chunks(self.chunk) {
            let n = chunk.len();
            self.upload(chunk);
            self.write_params(n, acc.domain, acc.sketch.map(), 0, 0, 0);
            let groups = n.div_ceil(PER_WORKGROUP);
            let bytes = (groups * std::mem::size_of::<Partial>()) as u64;
            self.dispatch(
                &self.reduce,
                &self.bg_reduce,
                n,
                Some((&self.partials, bytes)),
                &[],
            )?;
            let data = self.read(bytes)?;
            let parts: &[Partial] = bytemuck::cast_slice(&data);
            let (mut lo, mut hi, mut fin) = (u64::MAX, 0u64, 0u64);
            acc.class.present += n as u64;
            for p in parts {
                acc.class.nan += p.nan as u64;
                acc.class.pos_inf += p.pos_inf as u64;
                acc.class.neg_inf += p.neg_inf as u64;
                acc.class.zeros += p.zeros as u64;
                if p.finite > 0 {
                    lo = lo.min(p.min_key);
                    hi = hi.max(p.max_key);
                    fin += p.finite as u64;
                    acc.moments.merge(&Moments::from_power_sums(
                        p.finite as u64,
                        p.m0,
                        p.s1,
                        p.s2,
                        p.s3,
                        p.s4,
                    ));
                }
            }
            if fin == 0 {
                continue;
            }
            let (shift, origin) = acc.sketch.prepare(lo, hi);
            let nb = acc.sketch.counts().len();
            self.write_params(n, acc.domain, acc.sketch.map(), shift, origin, nb);
            self.dispatch(
                &self.sketch,
                &self.bg_sketch,
                n,
                Some((&self.counts, (nb * 4) as u64)),
                &[&self.counts],
            )?;
            let data = self.read((nb * 4) as u64)?;
            let counts: &[u32] = bytemuck::cast_slice(&data);
            let got: u64 = counts.iter().map(|&c| c as u64).sum();
            if got != fin {
                return Err(Error::Gpu(format!(
                    "the sketch kernel counted {got} values where the reduce kernel found {fin} (a driver fault?)"
                )));
            }
            acc.sketch.add_dense(counts, lo, hi, fin);
        }
        Ok(())
    }

    /// Pass two over raw values: collect the keys of the planned buckets.
    pub fn collect(
        &self,
        plan: &Pass2Plan,
        domain: Domain,
        state: &mut Pass2State,
        raw: &[u64],
    ) -> Result<()> {
        let slots: Vec<u32> = plan
            .slot_of_bucket
            .iter()
            .map(|&s| if s == NO_SLOT { u32::MAX } else { s as u32 })
            .collect();
        self.queue
            .write_buffer(&self.slots, 0, bytemuck::cast_slice(&slots));
        for chunk in raw.chunks(self.chunk) {
            let n = chunk.len();
            self.upload(chunk);
            self.write_params(n, domain, plan.map, plan.shift, plan.origin, slots.len());
            self.dispatch(
                &self.collect,
                &self.bg_collect,
                n,
                Some((&self.collected_len, 4)),
                &[&self.collected_len],
            )?;
            let len = u32::from_le_bytes(
                self.read(4)?[..4]
                    .try_into()
                    .map_err(|_| Error::Internal("short read".into()))?,
            ) as usize;
            if len > n {
                return Err(Error::Gpu(format!(
                    "the collect kernel reported {len} keys from {n} values"
                )));
            }
            if len == 0 {
                continue;
            }
            let mut enc = self.device.create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(&self.collected, 0, &self.readback, 0, (len * 8) as u64);
            self.queue.submit([enc.finish()]);
            let data = self.read((len * 8) as u64)?;
            let keys: &[u64] = bytemuck::cast_slice(&data);
            for &k in keys {
                let b = ((plan.map.fwd(k) >> plan.shift) - plan.origin) as usize;
                state.cands[plan.slot_of_bucket[b] as usize].push(k);
            }
        }
        Ok(())
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
            self.queue
                .write_buffer(&self.values, 0, bytemuck::cast_slice(ca));
            self.queue
                .write_buffer(&self.collected, 0, bytemuck::cast_slice(cb));
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
            self.dispatch(
                &self.linf,
                &self.bg_linf,
                n,
                Some((&self.partials, bytes)),
                &[],
            )?;
            let data = self.read(bytes)?;
            let parts: &[LinfPartial] = bytemuck::cast_slice(&data);
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

impl crate::compare::LinfKernel for GpuContext {
    fn argmax(&self, a: &[u64], b: &[u64], p: u64, q: u64) -> Result<Option<usize>> {
        self.linf_argmax(a, b, p, q)
    }
    fn name(&self) -> &'static str {
        "gpu"
    }
}
