//! Numeric kernels: pass one (`reduce`, `range`, `sketch`, one submission
//! per chunk, folded into the column's [`NumericAcc`] exactly as the CPU
//! folds batches) and pass two (`collect`, over chunks kept on the device or
//! uploaded again).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::buffer::NullBuffer;

use super::context::{gpu_err, map_read, pod_vec, GpuContext, GpuTimes, Pass1Slot, ValueBindings};
use super::layout::*;
use super::Gpu;
use crate::backend::budget::{Budget, Kept};
use crate::error::{Error, Result};
use crate::profile::keys::Domain;
use crate::profile::moments::Moments;
use crate::profile::numeric::{domain_of, visit_floats, FloatVisitor, NumericAcc};
use crate::profile::quantile::{Pass2Plan, Pass2State, NO_SLOT};
use crate::profile::sketch::{KeyMap, KeySketch};

/// A stage of pass one, for [`Gpu::bench_stage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchStage {
    Upload,
    Compute,
    Readback,
}

/// A chunk of a numeric leaf kept on the device for pass two (its bind
/// groups hold the buffer).
pub struct DeviceChunk {
    n: usize,
    bindings: ValueBindings,
}

impl std::fmt::Debug for DeviceChunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceChunk({} values)", self.n)
    }
}

/// Where pass one keeps a leaf's chunks: the store, the run's budget and
/// the leaf.
pub type Keep<'a> = (&'a Kept<DeviceChunk>, &'a Budget, usize);

/// A pass-one chunk submitted to the device: complete it (no lock on the
/// context needed) to fold its results into the column's state, then give
/// its slot back to the pool.
struct Pass1Ticket {
    slot: Pass1Slot,
    n: usize,
    groups: usize,
    submission: wgpu::SubmissionIndex,
    device: wgpu::Device,
    times: Arc<GpuTimes>,
    /// Nanoseconds per timestamp tick (0 without timestamp queries).
    period: f64,
}

/// The present values of a numeric array as raw 64-bit words of its domain
/// (f64 bits, i64 or u64), nulls dropped: what the kernels read. Float64,
/// Int64 and UInt64 without nulls are borrowed as they are.
fn raw_values(a: &dyn Array) -> Result<Cow<'_, [u64]>> {
    use arrow::datatypes::*;
    if a.null_count() == 0 {
        let words: Option<&[u64]> = match a.data_type() {
            DataType::Float64 => Some(bytemuck::cast_slice(
                a.as_primitive::<Float64Type>().values(),
            )),
            DataType::Int64 => Some(bytemuck::cast_slice(a.as_primitive::<Int64Type>().values())),
            DataType::UInt64 => Some(a.as_primitive::<UInt64Type>().values()),
            _ => None,
        };
        if let Some(w) = words {
            return Ok(Cow::Borrowed(w));
        }
    }
    // Floats through the statistics' own conversion to f64, so that both
    // backends see the same f64 for f16, f32 and decimals.
    if let Some(bits) = visit_floats(a, FloatBits) {
        return Ok(Cow::Owned(bits));
    }
    let cast = |target: &DataType| {
        arrow::compute::cast(a, target)
            .map_err(|e| Error::Internal(format!("widening {}: {e}", a.data_type())))
    };
    Ok(Cow::Owned(match domain_of(a.data_type()) {
        Some(Domain::Int) => cast(&DataType::Int64)?
            .as_primitive::<Int64Type>()
            .iter()
            .flatten()
            .map(|v| v as u64)
            .collect(),
        Some(Domain::UInt) => cast(&DataType::UInt64)?
            .as_primitive::<UInt64Type>()
            .iter()
            .flatten()
            .collect(),
        _ => return Err(Error::Internal(format!("raw values of {}", a.data_type()))),
    }))
}

/// The f64 bits of a float array's present values.
struct FloatBits;

impl FloatVisitor for FloatBits {
    type Out = Vec<u64>;
    fn visit<T: Copy>(
        self,
        vals: &[T],
        nulls: Option<&NullBuffer>,
        conv: impl Fn(T) -> f64,
    ) -> Vec<u64> {
        match nulls.filter(|n| n.null_count() > 0) {
            None => vals.iter().map(|&v| conv(v).to_bits()).collect(),
            Some(n) => vals
                .iter()
                .zip(n.iter())
                .filter(|(_, valid)| *valid)
                .map(|(&v, _)| conv(v).to_bits())
                .collect(),
        }
    }
}

impl Gpu {
    /// Pass one over a numeric array, folded into `acc` exactly as the CPU
    /// would; with `keep`, the chunks stay on the device for pass two while
    /// they fit the budget.
    pub fn numeric_pass1(
        &self,
        acc: &mut NumericAcc,
        values: &dyn Array,
        keep: Option<Keep<'_>>,
    ) -> Result<()> {
        let raw = raw_values(values)?;
        self.numeric_pass1_raw(acc, &raw, keep)
    }

    /// Pass one over raw values (f64 bits, i64 or u64 of the column's
    /// domain; no nulls). Two chunks of the column are in flight, and the
    /// lock on the context is held only to submit a chunk and to give back
    /// its slot, not while the device computes: one chunk uploads and runs
    /// while another (of this column or another thread's) waits for its
    /// results.
    pub fn numeric_pass1_raw(
        &self,
        acc: &mut NumericAcc,
        raw: &[u64],
        keep: Option<Keep<'_>>,
    ) -> Result<()> {
        let mut inflight: VecDeque<Pass1Ticket> = VecDeque::new();
        for part in raw.chunks(self.chunk) {
            if inflight.len() == 2 {
                if let Some(t) = inflight.pop_front() {
                    let slot = t.complete(acc)?;
                    self.lock()?.pass1_pool.push(slot);
                }
            }
            let t = self.lock()?.pass1_submit(part, acc.domain, keep)?;
            inflight.push_back(t);
        }
        while let Some(t) = inflight.pop_front() {
            let slot = t.complete(acc)?;
            self.lock()?.pass1_pool.push(slot);
        }
        Ok(())
    }

    /// Pass two over a numeric array read again: collect the keys of the
    /// planned buckets.
    pub fn collect(
        &self,
        plan: &Pass2Plan,
        state: &mut Pass2State,
        values: &dyn Array,
    ) -> Result<()> {
        let raw = raw_values(values)?;
        let ctx = self.lock()?;
        ctx.write_slots(plan);
        for chunk in raw.chunks(ctx.chunk) {
            ctx.upload(&ctx.buffers.values, bytemuck::cast_slice(chunk));
            ctx.collect_chunk(plan, state, &ctx.numeric()?.shared, chunk.len())?;
        }
        Ok(())
    }

    /// Pass two over the chunks pass one kept on the device.
    pub fn collect_kept(
        &self,
        plan: &Pass2Plan,
        state: &mut Pass2State,
        chunks: &[DeviceChunk],
    ) -> Result<()> {
        if chunks.is_empty() {
            return Ok(());
        }
        let ctx = self.lock()?;
        ctx.write_slots(plan);
        for c in chunks {
            ctx.collect_chunk(plan, state, &c.bindings, c.n)?;
        }
        Ok(())
    }

    /// One stage of pass one on one chunk (at most one dispatch's
    /// values), waited for, so that benches time upload, compute and
    /// readback apart: `Upload` copies `raw` to the device, `Compute` runs
    /// reduce, range and sketch over what was uploaded last, `Readback`
    /// copies their results back and maps them.
    pub fn bench_stage(&self, stage: BenchStage, raw: &[u64], domain: Domain) -> Result<()> {
        self.lock()?.bench_stage(stage, raw, domain)
    }
}

impl GpuContext {
    /// A free pass-one slot (a new one when all are in flight).
    fn take_pass1_slot(&mut self) -> Pass1Slot {
        if let Some(s) = self.pass1_pool.pop() {
            return s;
        }
        let groups = self.chunk.div_ceil(PER_WORKGROUP);
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pass-one readback"),
            size: pass1_readback_bytes(groups),
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

    /// Upload `chunk` for its kernels: to a buffer of its own, kept for
    /// pass two (returned), when `keep` allows; else to the shared values
    /// buffer (None; the leaf, if any, spills).
    fn stage(&self, chunk: &[u64], keep: Option<Keep<'_>>) -> Result<Option<DeviceChunk>> {
        let bytes = chunk.len() as u64 * 8;
        if let Some((kept, budget, leaf)) = keep {
            if !kept.is_spilled(leaf) {
                if budget.fits(bytes) {
                    if let Some(c) = self.device_chunk(chunk)? {
                        return Ok(Some(c));
                    }
                    // The device is fuller than the budget assumed (other
                    // programs, or a budget above its memory): keep no more;
                    // this leaf is read again in pass two.
                    budget.shrink_to_used();
                }
                kept.spill(budget, leaf);
            }
        }
        self.upload(&self.buffers.values, bytemuck::cast_slice(chunk));
        Ok(None)
    }

    /// `chunk` in a device buffer of its own, with its bind groups (None
    /// when the device is out of memory).
    fn device_chunk(&self, chunk: &[u64]) -> Result<Option<DeviceChunk>> {
        let bytes = chunk.len() as u64 * 8;
        // Written through a mapping at creation: no extra staging copy
        // where the device shares host memory, wgpu's own staging elsewhere.
        let t0 = std::time::Instant::now();
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let b = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kept chunk"),
            size: bytes.max(16).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: true,
        });
        if pollster::block_on(oom.pop()).is_some() {
            return Ok(None);
        }
        b.slice(..bytes)
            .get_mapped_range_mut()
            .map_err(|e| gpu_err("writing a chunk to the device", e))?
            .copy_from_slice(bytemuck::cast_slice(chunk));
        b.unmap();
        GpuTimes::add(&self.times.upload_ns, t0.elapsed().as_nanos() as u64);
        GpuTimes::add(&self.times.upload_bytes, bytes);
        let bindings = self.numeric()?.bindings(&self.device, &self.buffers, &b);
        Ok(Some(DeviceChunk {
            n: chunk.len(),
            bindings,
        }))
    }

    /// Upload one chunk (at most `self.chunk` values) and submit its pass
    /// one: reduce, range, sketch and the copies of their results.
    fn pass1_submit(
        &mut self,
        chunk: &[u64],
        domain: Domain,
        keep: Option<Keep<'_>>,
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
        let staged = self.stage(chunk, keep)?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        let ts = slot.queries.as_ref().map(|(set, _)| (set, 0));
        let bindings = match &staged {
            Some(c) => &c.bindings,
            None => &self.numeric()?.shared,
        };
        let groups = self.record_pass1(&mut enc, ts, bindings, n, domain)?;
        self.record_pass1_readback(&mut enc, &slot, groups);
        let submission = self.queue.submit([enc.finish()]);
        GpuTimes::add(&self.times.pass1_bytes, n as u64 * 8);
        if let (Some(c), Some((kept, budget, leaf))) = (staged, keep) {
            kept.keep(budget, leaf, n as u64 * 8, c);
        }
        Ok(Pass1Ticket {
            slot,
            n,
            groups,
            submission,
            device: self.device.clone(),
            times: self.times.clone(),
            period: self.period(),
        })
    }

    fn bench_stage(&self, stage: BenchStage, raw: &[u64], domain: Domain) -> Result<()> {
        let n = raw.len().min(self.chunk);
        let groups = n.div_ceil(PER_WORKGROUP);
        let np = self.numeric()?;
        let b = &self.buffers;
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
                self.upload(&b.values, bytemuck::cast_slice(&raw[..n]));
                wait_for(enc)
            }
            BenchStage::Compute => {
                self.record_pass1(&mut enc, self.slot_queries(slot), &np.shared, n, domain)?;
                wait_for(enc)
            }
            BenchStage::Readback => {
                let rb = &self.readback[slot];
                let counts = (BUCKETS * 4) as u64;
                enc.copy_buffer_to_buffer(&b.range, 0, rb, RB_RANGE, 32);
                enc.copy_buffer_to_buffer(&b.counts, 0, rb, RB_COUNTS, counts);
                let pbytes = (groups * std::mem::size_of::<Partial>()) as u64;
                enc.copy_buffer_to_buffer(&b.partials, 0, rb, RB_COUNTS + counts, pbytes);
                self.queue.submit([enc.finish()]);
                self.read(slot, pass1_readback_bytes(groups), None)
                    .map(|_| ())
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
            buckets: BUCKETS as u32,
            groups: groups as u32,
            ..Default::default()
        });
        enc.clear_buffer(&self.buffers.counts, 0, None);
        self.pass(
            enc,
            ts,
            &[
                (&np.reduce, &values.reduce, groups as u32),
                (&np.range, &np.bg_range, 1),
                (&np.sketch, &values.sketch, groups as u32),
            ],
        );
        Ok(groups)
    }

    /// Record the copies of pass one's results into `slot`'s readback
    /// buffer, in the layout of [`pass1_readback_bytes`].
    fn record_pass1_readback(
        &self,
        enc: &mut wgpu::CommandEncoder,
        slot: &Pass1Slot,
        groups: usize,
    ) {
        let counts = (BUCKETS * 4) as u64;
        let (b, rb) = (&self.buffers, &slot.readback);
        enc.copy_buffer_to_buffer(&b.range, 0, rb, RB_RANGE, 32);
        if let Some((set, resolve)) = &slot.queries {
            enc.resolve_query_set(set, 0..2, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, rb, RB_TS, 16);
        }
        enc.copy_buffer_to_buffer(&b.counts, 0, rb, RB_COUNTS, counts);
        let pbytes = (groups * std::mem::size_of::<Partial>()) as u64;
        enc.copy_buffer_to_buffer(&b.partials, 0, rb, RB_COUNTS + counts, pbytes);
    }

    fn write_slots(&self, plan: &Pass2Plan) {
        let slots: Vec<u32> = plan
            .slot_of_bucket
            .iter()
            .map(|&s| if s == NO_SLOT { u32::MAX } else { s as u32 })
            .collect();
        self.queue
            .write_buffer(&self.buffers.slots, 0, bytemuck::cast_slice(&slots));
    }

    fn collect_chunk(
        &self,
        plan: &Pass2Plan,
        state: &mut Pass2State,
        values: &ValueBindings,
        n: usize,
    ) -> Result<()> {
        self.write_params(Params {
            n: n as u32,
            domain: domain_code(plan.domain),
            shift: plan.shift,
            squash: (plan.map == KeyMap::FloatSquash) as u32,
            origin_lo: plan.origin as u32,
            origin_hi: (plan.origin >> 32) as u32,
            buckets: plan.slot_of_bucket.len() as u32,
            groups: 0,
        });
        let slot = self.take_slot();
        let np = self.numeric()?;
        let b = &self.buffers;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&b.collected_len, 0, None);
        self.pass(
            &mut enc,
            self.slot_queries(slot),
            &[(
                &np.collect,
                &values.collect,
                n.div_ceil(PER_WORKGROUP) as u32,
            )],
        );
        enc.copy_buffer_to_buffer(&b.collected_len, 0, &self.readback[slot], 0, 8);
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
        enc.copy_buffer_to_buffer(&b.collected, 0, &self.readback[slot], 0, (len * 8) as u64);
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
}

impl Pass1Ticket {
    /// Wait for the chunk, read its results back and fold them into `acc`
    /// (in submission order, as the CPU folds batches); returns the slot.
    fn complete(self, acc: &mut NumericAcc) -> Result<Pass1Slot> {
        let p = &self;
        let data = map_read(
            &p.device,
            &p.slot.readback,
            pass1_readback_bytes(p.groups),
            Some(p.submission.clone()),
            &p.times,
        )?;
        let ns = super::context::kernel_ns(&data, RB_TS as usize, p.period);
        GpuTimes::add(&p.times.compute_ns, ns);
        GpuTimes::add(&p.times.pass1_compute_ns, ns);
        let range: ChunkRange = bytemuck::pod_read_unaligned(&data[..32]);
        let at = RB_COUNTS as usize;
        let counts: Vec<u32> = pod_vec(&data[at..at + BUCKETS * 4]);
        let parts: Vec<Partial> = pod_vec(&data[at + BUCKETS * 4..]);
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
