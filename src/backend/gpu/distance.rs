//! The L-infinity argmax of `compare` on the device (`distance.wgsl`; needs
//! SHADER_INT64 for the 128-bit products).

use super::context::{pod_vec, GpuTimes};
use super::layout::*;
use super::Gpu;
use crate::error::{Error, Result};

impl Gpu {
    /// The L-infinity argmax of two count vectors on the device: the index
    /// with the largest `|a_i·Q − b_i·P|`, the lowest among equals (exactly
    /// [`crate::backend::cpu::linf_argmax`]).
    pub fn linf_argmax(&self, a: &[u64], b: &[u64], p: u64, q: u64) -> Result<Option<usize>> {
        if a.len() != b.len() {
            return Err(Error::Internal("count vectors of different lengths".into()));
        }
        let ctx = self.lock()?;
        let mut best: Option<(u128, usize)> = None;
        for (ci, (ca, cb)) in a.chunks(ctx.chunk).zip(b.chunks(ctx.chunk)).enumerate() {
            let n = ca.len();
            let bufs = &ctx.buffers;
            ctx.upload(&bufs.values, bytemuck::cast_slice(ca));
            ctx.upload(&bufs.collected, bytemuck::cast_slice(cb));
            let lp = LinfParams {
                n: n as u32,
                _pad: 0,
                p_total: p,
                q_total: q,
            };
            ctx.queue
                .write_buffer(&bufs.linf_params, 0, bytemuck::bytes_of(&lp));
            let groups = n.div_ceil(PER_WORKGROUP);
            let bytes = (groups * std::mem::size_of::<LinfPartial>()) as u64;
            let slot = ctx.take_slot();
            let np = ctx.numeric()?;
            let mut enc = ctx.device.create_command_encoder(&Default::default());
            ctx.pass(
                &mut enc,
                ctx.slot_queries(slot),
                &[(&np.linf, &np.bg_linf, groups as u32)],
            );
            enc.copy_buffer_to_buffer(&bufs.partials, 0, &ctx.readback[slot], 0, bytes);
            ctx.copy_timestamps(&mut enc, slot, bytes);
            ctx.queue.submit([enc.finish()]);
            let data = ctx.read(slot, bytes + 16, None)?;
            GpuTimes::add(&ctx.times.compute_ns, ctx.kernel_ns(&data, bytes as usize));
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
                let i = ci * ctx.chunk + w.index as usize;
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
