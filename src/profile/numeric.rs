//! Numeric columns: pass-one accumulator, extraction from Arrow arrays, and
//! the finishing step that turns merged states into [`NumericStats`].
//!
//! Pass one counts null/NaN/±inf/zero values, and for finite values tracks
//! min/max (as keys, so int64 stays exact), moments and the key sketch. Pass
//! two (see [`super::quantile`]) only exists for what needs the global
//! [min, max] or the global ranks: the equal-width histogram and the exact
//! quantiles.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::*;

use super::keys::{key_f64, key_i64, key_u64, Domain, Num};
use super::model::{Bucket, NumericStats, Quantile, QuantileBucket, StatsOptions};
use super::moments::Moments;
use super::quantile::{rank_index, EqualWidth, Pass2Plan, Pass2State, Resolved, NO_SLOT};
use super::sketch::{KeyMap, KeySketch, PROFILE_BITS};
use crate::error::{Error, Result};

/// Reusable buffers for one column's batch: finite keys and their f64
/// values (for integers, the values less the batch's smallest).
#[derive(Debug, Default)]
pub struct Scratch {
    pub keys: Vec<u64>,
    pub vals: Vec<f64>,
}

/// Counts that classify non-null values.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassCounts {
    pub present: u64,
    pub nan: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    pub zeros: u64,
}

impl ClassCounts {
    pub fn merge(&mut self, o: &ClassCounts) {
        self.present += o.present;
        self.nan += o.nan;
        self.pos_inf += o.pos_inf;
        self.neg_inf += o.neg_inf;
        self.zeros += o.zeros;
    }
}

/// The domain a numeric Arrow type is profiled in, or None if not numeric.
pub fn domain_of(dt: &DataType) -> Option<Domain> {
    use DataType::*;
    Some(match dt {
        Int8 | Int16 | Int32 | Int64 => Domain::Int,
        Date32 | Date64 | Timestamp(_, _) | Time32(_) | Time64(_) | Duration(_) => Domain::Int,
        UInt8 | UInt16 | UInt32 | UInt64 => Domain::UInt,
        Float16 | Float32 | Float64 | Decimal128(_, _) => Domain::Float,
        _ => return None,
    })
}

/// Smallest and largest key of a non-empty slice.
#[inline]
pub fn min_max(keys: &[u64]) -> (u64, u64) {
    // Eight independent lanes so the compiler emits vector min/max.
    const L: usize = 8;
    let mut lo = [u64::MAX; L];
    let mut hi = [0u64; L];
    let chunks = keys.chunks_exact(L);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..L {
            lo[i] = lo[i].min(c[i]);
            hi[i] = hi[i].max(c[i]);
        }
    }
    let mut a = lo.iter().copied().min().unwrap_or(u64::MAX);
    let mut b = hi.iter().copied().max().unwrap_or(0);
    for &k in rest {
        a = a.min(k);
        b = b.max(k);
    }
    (a, b)
}

/// Pass-one state of a numeric column.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NumericAcc {
    pub domain: Domain,
    pub class: ClassCounts,
    pub moments: Moments,
    pub sketch: KeySketch,
}

impl NumericAcc {
    pub fn new(domain: Domain) -> Self {
        NumericAcc {
            domain,
            class: ClassCounts::default(),
            moments: Moments::default(),
            sketch: KeySketch::new(PROFILE_BITS, KeyMap::for_domain(domain)),
        }
    }

    /// Pass one over one array. Leaves the finite keys in `scratch.keys`.
    pub fn update(&mut self, array: &dyn Array, scratch: &mut Scratch) -> Result<()> {
        extract(array, scratch, &mut self.class)?;
        self.update_extracted(scratch);
        Ok(())
    }

    /// The numeric kernel proper: min/max, moments and sketch of the finite
    /// values that [`extract`] left in `s` (for integers, `s.vals` is
    /// overwritten: their moments are taken from the keys, exactly).
    pub fn update_extracted(&mut self, s: &mut Scratch) {
        if s.keys.is_empty() {
            return;
        }
        let (lo, hi) = min_max(&s.keys);
        self.sketch.add_keys(&s.keys, lo, hi);
        let m = match self.domain {
            Domain::Float => Moments::of_slice(&s.vals),
            d => Moments::of_int_keys(&s.keys, lo, d, &mut s.vals),
        };
        self.moments.merge(&m);
    }

    pub fn merge(&mut self, o: &NumericAcc) {
        self.class.merge(&o.class);
        self.moments.merge(&o.moments);
        self.sketch.merge(&o.sketch);
    }

    /// The target sorted indices pass two must resolve.
    pub fn targets(&self, opts: &StatsOptions) -> Vec<u64> {
        let n = self.sketch.total();
        if n == 0 {
            return Vec::new();
        }
        let mut t: Vec<u64> = opts
            .quantile_ranks
            .iter()
            .map(|&p| rank_index(p, n))
            .collect();
        t.extend(quantile_bin_ranks(opts.quantile_bins).map(|p| rank_index(p, n)));
        t.sort_unstable();
        t.dedup();
        t
    }

    /// Plan pass two: the histogram over [min, max] and the buckets to collect.
    pub fn plan_pass2(&self, opts: &StatsOptions) -> Result<Pass2Plan> {
        let hist = match (self.sketch.min_key(), self.sketch.max_key()) {
            (Some(lo), Some(hi)) if lo != hi => {
                let (a, b) = (self.domain.to_f64(lo), self.domain.to_f64(hi));
                (a < b).then(|| EqualWidth::new(a, b, opts.bins))
            }
            _ => None,
        };
        Pass2Plan::new(&self.sketch, self.domain, hist, &self.targets(opts))
    }

    /// Finish with exact quantiles and histograms from pass two.
    pub fn finish_exact(
        &self,
        opts: &StatsOptions,
        plan: &Pass2Plan,
        state: &Pass2State,
    ) -> Result<NumericStats> {
        let r = Resolved {
            sketch: &self.sketch,
            prefix: self.sketch.prefix_counts(),
            plan,
            state,
        };
        let histogram = match &plan.histogram {
            Some(h) => buckets_of(h, &plan.histogram_counts(state)),
            None => self.constant_histogram(),
        };
        self.finish_with(
            opts,
            |k| Ok((r.key_at(k)?, 0)),
            |key| r.count_below(key),
            histogram,
            true,
        )
    }

    /// Finish from the sketch alone (after a merge of stored profiles):
    /// quantiles and histograms become estimates with a stated rank error.
    pub fn finish_from_sketch(&self, opts: &StatsOptions) -> Result<NumericStats> {
        let prefix = self.sketch.prefix_counts();
        let histogram = match (self.sketch.min_key(), self.sketch.max_key()) {
            (Some(lo), Some(hi)) if lo != hi => {
                let (a, b) = (self.domain.to_f64(lo), self.domain.to_f64(hi));
                let h = EqualWidth::new(a, b, opts.bins);
                let mut counts = vec![0u64; opts.bins];
                for (i, &c) in self.sketch.counts().iter().enumerate() {
                    if c != 0 {
                        let low = self.sketch.bucket_keys(i).0;
                        counts[h.bin(self.domain.to_f64(low))] += c;
                    }
                }
                buckets_of(&h, &counts)
            }
            _ => self.constant_histogram(),
        };
        let sk = &self.sketch;
        self.finish_with(
            opts,
            |k| {
                sk.approx_key_at(k)
                    .ok_or_else(|| Error::Internal(format!("rank {k} beyond the sketch")))
            },
            |key| prefix[sk.bucket_of(key)],
            histogram,
            false,
        )
    }

    fn constant_histogram(&self) -> Vec<Bucket> {
        match self.sketch.min_key() {
            Some(k) => {
                let v = self.domain.to_f64(k);
                vec![Bucket {
                    low: v,
                    high: v,
                    count: self.sketch.total(),
                }]
            }
            None => Vec::new(),
        }
    }

    fn finish_with(
        &self,
        opts: &StatsOptions,
        key_at: impl Fn(u64) -> Result<(u64, u64)>,
        count_below: impl Fn(u64) -> u64,
        histogram: Vec<Bucket>,
        exact: bool,
    ) -> Result<NumericStats> {
        let n = self.sketch.total();
        let d = self.domain;
        let mut rank_error = 0;
        let mut quantiles = Vec::new();
        let mut quantile_histogram = Vec::new();
        if n > 0 {
            for &p in &opts.quantile_ranks {
                let (k, e) = key_at(rank_index(p, n))?;
                rank_error = rank_error.max(e);
                quantiles.push(Quantile {
                    rank: p,
                    value: d.value(k),
                });
            }
            let mut bounds = Vec::new();
            for p in quantile_bin_ranks(opts.quantile_bins) {
                let (k, e) = key_at(rank_index(p, n))?;
                rank_error = rank_error.max(e);
                bounds.push(k);
            }
            let below: Vec<u64> = bounds.iter().map(|&k| count_below(k)).collect();
            let b = opts.quantile_bins;
            for i in 0..b {
                let hi_count = if i + 1 == b { n } else { below[i + 1] };
                quantile_histogram.push(QuantileBucket {
                    low: d.value(bounds[i]),
                    high: d.value(bounds[i + 1]),
                    count: hi_count.saturating_sub(below[i]),
                });
            }
        }
        let m = &self.moments;
        let stored = self.sketch.to_stored(opts.sketch_bits);
        Ok(NumericStats {
            domain: d,
            nan: self.class.nan,
            pos_inf: self.class.pos_inf,
            neg_inf: self.class.neg_inf,
            zeros: self.class.zeros,
            finite: n,
            min: self.sketch.min_key().map(|k| d.value(k)),
            max: self.sketch.max_key().map(|k| d.value(k)),
            mean: m.mean(),
            variance: m.variance(),
            std_dev: m.std_dev(),
            skewness: m.skewness(),
            kurtosis: m.kurtosis(),
            quantiles,
            quantiles_exact: exact,
            quantile_rank_error: rank_error,
            histogram,
            quantile_histogram,
            histograms_exact: exact,
            moments: *m,
            sketch: stored,
        })
    }

    /// Rebuild pass-one state from a stored profile (for merging).
    pub fn from_stats(s: &NumericStats) -> std::result::Result<NumericAcc, String> {
        let sketch = KeySketch::from_stored(&s.sketch)?;
        if sketch.total() != s.finite || s.moments.n != s.finite {
            return Err(format!(
                "finite count {} disagrees with its sketch ({}) or moments ({})",
                s.finite,
                sketch.total(),
                s.moments.n
            ));
        }
        Ok(NumericAcc {
            domain: s.domain,
            class: ClassCounts {
                present: 0,
                nan: s.nan,
                pos_inf: s.pos_inf,
                neg_inf: s.neg_inf,
                zeros: s.zeros,
            },
            moments: s.moments,
            sketch,
        })
    }
}

/// Ranks i/B for i = 0..=B: the quantile histogram's boundaries.
pub fn quantile_bin_ranks(b: usize) -> impl Iterator<Item = f64> {
    (0..=b).map(move |i| i as f64 / b as f64)
}

fn buckets_of(h: &EqualWidth, counts: &[u64]) -> Vec<Bucket> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Bucket {
            low: h.edges[i],
            high: h.edges[i + 1],
            count: c,
        })
        .collect()
}

/// Pass two over the finite keys of one batch: collect the keys of the
/// buckets the plan names.
pub fn pass2_update(plan: &Pass2Plan, state: &mut Pass2State, keys: &[u64]) {
    match plan.map {
        KeyMap::Identity => pass2_kernel(plan, state, keys, |k| k),
        map => pass2_kernel(plan, state, keys, |k| map.fwd(k)),
    }
}

#[inline(always)]
fn pass2_kernel(plan: &Pass2Plan, state: &mut Pass2State, keys: &[u64], fwd: impl Fn(u64) -> u64) {
    let (shift, origin) = (plan.shift, plan.origin);
    let slots = &plan.slot_of_bucket[..];
    let cands = &mut state.cands;
    for &k in keys {
        // A key outside the planned buckets (the data changed since the
        // plan was made) is not collected; the counts then disagree with
        // the sketch's, which the caller reports.
        let b = (fwd(k) >> shift).wrapping_sub(origin) as usize;
        if let Some(&slot) = slots.get(b) {
            if slot != NO_SLOT {
                cands[slot as usize].push(k);
            }
        }
    }
}

/// Calls `block` for runs of 64 present values and `one` for the others,
/// walking the validity bitmap a word at a time: columns with a few nulls
/// still go through the vectorised block path.
#[inline(always)]
fn for_present<S>(
    len: usize,
    nulls: Option<&NullBuffer>,
    state: &mut S,
    block: impl Fn(std::ops::Range<usize>, &mut S),
    one: impl Fn(usize, &mut S),
) {
    let Some(n) = nulls.filter(|n| n.null_count() > 0) else {
        return block(0..len, state);
    };
    let chunks = n.inner().inner().bit_chunks(n.offset(), n.len());
    let bits = |base: usize, mut w: u64, state: &mut S| {
        while w != 0 {
            one(base + w.trailing_zeros() as usize, state);
            w &= w - 1;
        }
    };
    for (ci, w) in chunks.iter().enumerate() {
        if w == u64::MAX {
            block(ci * 64..ci * 64 + 64, state);
        } else {
            bits(ci * 64, w, state);
        }
    }
    bits(chunks.chunk_len() * 64, chunks.remainder_bits(), state);
}

fn extract_ints<T: Copy>(
    vals: &[T],
    nulls: Option<&NullBuffer>,
    key: impl Fn(T) -> u64,
    is_zero: impl Fn(T) -> bool,
    st: &mut (&mut Scratch, &mut ClassCounts),
) {
    for_present(
        vals.len(),
        nulls,
        st,
        |r, (s, c)| {
            let xs = &vals[r];
            s.keys.extend(xs.iter().map(|&v| key(v)));
            c.zeros += xs.iter().map(|&v| is_zero(v) as u64).sum::<u64>();
        },
        |i, (s, c)| {
            let v = vals[i];
            c.zeros += is_zero(v) as u64;
            s.keys.push(key(v));
        },
    );
}

fn extract_floats<T: Copy>(
    vals: &[T],
    nulls: Option<&NullBuffer>,
    conv: impl Fn(T) -> f64,
    st: &mut (&mut Scratch, &mut ClassCounts),
) {
    for_present(
        vals.len(),
        nulls,
        st,
        |r, (s, c)| {
            let xs = &vals[r];
            if xs.iter().all(|&v| conv(v).is_finite()) {
                let start = s.vals.len();
                s.vals.extend(xs.iter().map(|&v| conv(v)));
                let new = &s.vals[start..];
                s.keys.extend(new.iter().map(|&v| key_f64(v)));
                c.zeros += new.iter().map(|&v| (v == 0.0) as u64).sum::<u64>();
            } else {
                xs.iter().for_each(|&v| push_float(conv(v), s, c));
            }
        },
        |i, (s, c)| push_float(conv(vals[i]), s, c),
    );
}

macro_rules! push_ints {
    ($a:expr, $scratch:expr, $class:expr, $key:expr, $wide:ty) => {{
        let a = $a;
        extract_ints(
            a.values(),
            a.nulls(),
            |v| $key(v as $wide),
            |v| v as $wide == 0,
            &mut ($scratch, $class),
        )
    }};
}

#[inline(always)]
fn push_float(v: f64, scratch: &mut Scratch, class: &mut ClassCounts) {
    if v.is_finite() {
        class.zeros += (v == 0.0) as u64;
        scratch.keys.push(key_f64(v));
        scratch.vals.push(v);
    } else if v.is_nan() {
        class.nan += 1;
    } else if v > 0.0 {
        class.pos_inf += 1;
    } else {
        class.neg_inf += 1;
    }
}

/// Pass one's extraction as a [`FloatVisitor`].
struct ExtractFloats<'a, 'b>(&'a mut (&'b mut Scratch, &'b mut ClassCounts));

impl FloatVisitor for ExtractFloats<'_, '_> {
    type Out = ();
    fn visit<T: Copy>(self, vals: &[T], nulls: Option<&NullBuffer>, conv: impl Fn(T) -> f64) {
        extract_floats(vals, nulls, conv, self.0)
    }
}

/// Something done with the values of a floating-point or decimal array,
/// given its native values, their validity and their conversion to f64.
pub trait FloatVisitor {
    type Out;
    fn visit<T: Copy>(
        self,
        vals: &[T],
        nulls: Option<&NullBuffer>,
        conv: impl Fn(T) -> f64,
    ) -> Self::Out;
}

/// Visit a Float16, Float32, Float64 or Decimal128 array with its
/// conversion to f64 (None for other types). This is the one place that
/// says how each is widened; both backends read floats through it.
pub fn visit_floats<V: FloatVisitor>(a: &dyn Array, v: V) -> Option<V::Out> {
    Some(match a.data_type() {
        DataType::Float16 => {
            let p = a.as_primitive::<Float16Type>();
            v.visit(p.values(), p.nulls(), f64::from)
        }
        DataType::Float32 => {
            let p = a.as_primitive::<Float32Type>();
            v.visit(p.values(), p.nulls(), f64::from)
        }
        DataType::Float64 => {
            let p = a.as_primitive::<Float64Type>();
            v.visit(p.values(), p.nulls(), |x: f64| x)
        }
        DataType::Decimal128(_, scale) => {
            let div = 10f64.powi(*scale as i32);
            let p = a.as_primitive::<Decimal128Type>();
            v.visit(p.values(), p.nulls(), move |x: i128| x as f64 / div)
        }
        _ => return None,
    })
}

/// Finite keys of a numeric array, and for floats their f64 values (nulls
/// skipped; integers' moments come from the keys), counting
/// present, NaN, ±inf and zero values into `class`.
pub fn extract(array: &dyn Array, scratch: &mut Scratch, class: &mut ClassCounts) -> Result<()> {
    use DataType::*;
    scratch.keys.clear();
    scratch.vals.clear();
    scratch.keys.reserve(array.len());
    scratch.vals.reserve(array.len());
    class.present += (array.len() - array.null_count()) as u64;
    let s = scratch;
    match array.data_type() {
        Int8 => push_ints!(array.as_primitive::<Int8Type>(), s, class, key_i64, i64),
        Int16 => push_ints!(array.as_primitive::<Int16Type>(), s, class, key_i64, i64),
        Int32 => push_ints!(array.as_primitive::<Int32Type>(), s, class, key_i64, i64),
        Int64 => push_ints!(array.as_primitive::<Int64Type>(), s, class, key_i64, i64),
        UInt8 => push_ints!(array.as_primitive::<UInt8Type>(), s, class, key_u64, u64),
        UInt16 => push_ints!(array.as_primitive::<UInt16Type>(), s, class, key_u64, u64),
        UInt32 => push_ints!(array.as_primitive::<UInt32Type>(), s, class, key_u64, u64),
        UInt64 => push_ints!(array.as_primitive::<UInt64Type>(), s, class, key_u64, u64),
        Date32 => push_ints!(array.as_primitive::<Date32Type>(), s, class, key_i64, i64),
        Date64 => push_ints!(array.as_primitive::<Date64Type>(), s, class, key_i64, i64),
        Time32(TimeUnit::Second) => {
            push_ints!(
                array.as_primitive::<Time32SecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Time32(_) => push_ints!(
            array.as_primitive::<Time32MillisecondType>(),
            s,
            class,
            key_i64,
            i64
        ),
        Time64(TimeUnit::Microsecond) => {
            push_ints!(
                array.as_primitive::<Time64MicrosecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Time64(_) => push_ints!(
            array.as_primitive::<Time64NanosecondType>(),
            s,
            class,
            key_i64,
            i64
        ),
        Timestamp(TimeUnit::Second, _) => {
            push_ints!(
                array.as_primitive::<TimestampSecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Timestamp(TimeUnit::Millisecond, _) => {
            push_ints!(
                array.as_primitive::<TimestampMillisecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Timestamp(TimeUnit::Microsecond, _) => {
            push_ints!(
                array.as_primitive::<TimestampMicrosecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Timestamp(TimeUnit::Nanosecond, _) => {
            push_ints!(
                array.as_primitive::<TimestampNanosecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Duration(TimeUnit::Second) => {
            push_ints!(
                array.as_primitive::<DurationSecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Duration(TimeUnit::Millisecond) => {
            push_ints!(
                array.as_primitive::<DurationMillisecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Duration(TimeUnit::Microsecond) => {
            push_ints!(
                array.as_primitive::<DurationMicrosecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Duration(TimeUnit::Nanosecond) => {
            push_ints!(
                array.as_primitive::<DurationNanosecondType>(),
                s,
                class,
                key_i64,
                i64
            )
        }
        Float16 | Float32 | Float64 | Decimal128(_, _) => {
            visit_floats(array, ExtractFloats(&mut (s, class)));
        }
        other => {
            return Err(Error::Internal(format!(
                "numeric extraction called on {other}"
            )))
        }
    }
    Ok(())
}

/// The values of a numeric array in their domain, position by position
/// (nulls as None): floats and decimals widened as the profile widens them,
/// dates, times, timestamps and durations as their integer ticks.
pub fn numbers(v: &ArrayRef, domain: Domain) -> Result<Vec<Option<Num>>> {
    let v = match v.data_type() {
        DataType::Dictionary(_, inner) => arrow::compute::cast(v, inner)
            .map_err(|e| Error::Internal(format!("unpacking a dictionary: {e}")))?,
        _ => v.clone(),
    };
    let cast = |a: &ArrayRef, to: &DataType| {
        arrow::compute::cast(a, to)
            .map_err(|e| Error::Internal(format!("widening {}: {e}", a.data_type())))
    };
    Ok(match domain {
        Domain::Float => {
            struct Collect;
            impl FloatVisitor for Collect {
                type Out = Vec<Option<Num>>;
                fn visit<T: Copy>(
                    self,
                    vals: &[T],
                    nulls: Option<&arrow::buffer::NullBuffer>,
                    conv: impl Fn(T) -> f64,
                ) -> Self::Out {
                    vals.iter()
                        .enumerate()
                        .map(|(i, &x)| {
                            nulls
                                .is_none_or(|n| n.is_valid(i))
                                .then(|| Num::Float(conv(x)))
                        })
                        .collect()
                }
            }
            visit_floats(v.as_ref(), Collect)
                .ok_or_else(|| Error::Internal(format!("float values of {}", v.data_type())))?
        }
        Domain::UInt => cast(&v, &DataType::UInt64)?
            .as_primitive::<arrow::datatypes::UInt64Type>()
            .iter()
            .map(|x| x.map(Num::UInt))
            .collect(),
        Domain::Int => {
            // Dates, times, timestamps and durations: their ticks, by
            // reinterpreting the buffers as the integers of their width.
            let ticks = match v.data_type() {
                DataType::Date32 | DataType::Time32(_) => Some(DataType::Int32),
                DataType::Date64
                | DataType::Time64(_)
                | DataType::Timestamp(_, _)
                | DataType::Duration(_) => Some(DataType::Int64),
                _ => None,
            };
            let ints = match ticks {
                Some(t) => {
                    let data = v
                        .to_data()
                        .into_builder()
                        .data_type(t)
                        .build()
                        .map_err(|e| Error::Internal(format!("ticks of {}: {e}", v.data_type())))?;
                    arrow::array::make_array(data)
                }
                None => v.clone(),
            };
            cast(&ints, &DataType::Int64)?
                .as_primitive::<arrow::datatypes::Int64Type>()
                .iter()
                .map(|x| x.map(Num::Int))
                .collect()
        }
    })
}
