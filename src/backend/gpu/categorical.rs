//! Categorical counting on the device (`categorical.wgsl`, no optional
//! feature needed): dictionary codes of dictionaries up to
//! [`MAX_DEVICE_DICTIONARY`] values (zero-copy for int32/uint32 keys),
//! booleans (popcount over the bitmaps), and integers marked categorical
//! whose range fits a device dictionary (counted as codes v − min). Nulls
//! come from Arrow's validity bitmap, re-aligned for sliced arrays. Other
//! arrays (plain strings) are left to the CPU.

use std::borrow::Cow;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;

use super::context::{pod_vec, GpuContext, GpuTimes};
use super::layout::*;
use super::Gpu;
use crate::error::{Error, Result};
use crate::profile::categorical::CatAcc;

impl Gpu {
    /// Count a dictionary, boolean or small-range integer array into `c`;
    /// false when it is another kind (left to the CPU).
    pub fn count_categorical(&self, c: &mut CatAcc, a: &dyn Array) -> Result<bool> {
        self.lock()?.count_categorical(c, a)
    }
}

impl GpuContext {
    /// Count dictionary codes `< k` of the present rows (`validity`: Arrow's
    /// bitmap re-aligned to row 0, as u32 words; None when all are present).
    fn count_codes(&self, codes: &[u32], validity: Option<&[u32]>, k: usize) -> Result<Vec<u64>> {
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
            self.upload(&self.buffers.values, bytemuck::cast_slice(chunk));
            if let Some(v) = validity {
                let w0 = ci * per / 32;
                let words = v
                    .get(w0..w0 + n.div_ceil(32))
                    .ok_or_else(|| Error::Internal("short validity bitmap".into()))?;
                self.upload(&self.buffers.validity, bytemuck::cast_slice(words));
            }
            let got = self.count_dispatch(
                (&self.count.codes.0, &self.count.codes.1),
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
    fn count_bools(&self, bits: &[u32], validity: Option<&[u32]>, n: usize) -> Result<u64> {
        // As many words a dispatch as the validity buffer holds.
        let per_words = self.chunk / 16;
        let mut trues = 0u64;
        for (ci, words) in bits.chunks(per_words).enumerate() {
            let w0 = ci * per_words;
            let rows = (n - w0 * 32).min(words.len() * 32);
            self.upload(&self.buffers.values, bytemuck::cast_slice(words));
            if let Some(v) = validity {
                let vw = v
                    .get(w0..w0 + words.len())
                    .ok_or_else(|| Error::Internal("short validity bitmap".into()))?;
                self.upload(&self.buffers.validity, bytemuck::cast_slice(vw));
            }
            let groups = words.len().div_ceil(PER_WORKGROUP);
            let got = self.count_dispatch(
                (&self.count.bools.0, &self.count.bools.1),
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
    fn count_categorical(&self, c: &mut CatAcc, a: &dyn Array) -> Result<bool> {
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
            .write_buffer(&self.buffers.count_params, 0, bytemuck::bytes_of(&cp));
        let slot = self.take_slot();
        let bytes = ((k + 1) * 4) as u64;
        let ts_at = bytes.div_ceil(8) * 8;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.buffers.counts, 0, Some(bytes.div_ceil(4) * 4));
        self.pass(&mut enc, self.slot_queries(slot), &[(p, bg, groups as u32)]);
        enc.copy_buffer_to_buffer(
            &self.buffers.counts,
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
