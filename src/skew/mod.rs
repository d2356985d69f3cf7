//! Feature skew: join two datasets on a key and count, per feature, the
//! examples whose values differ (TFDV's `FeatureSkew`).
//!
//! TFDV's skew detector joins training and serving examples on identifier
//! features and compares each feature's value in the pair; this is that on
//! columnar data. The counts follow TFDV's definitions (docs/skew.md): all
//! are over the joined examples (keys found once on each side), a null is a
//! missing feature, `diff_count = base_only + test_only + mismatch_count`.
//!
//! How it runs: both sides are read once (Parquet row groups in parallel),
//! each batch cast to the types the two sides are compared as, rows with a
//! null key counted and dropped, and each key encoded with `arrow-row` (one
//! byte string per key, composite keys included, ordered as the key
//! columns sort). The [`store`] holds the batches while they fit the memory
//! budget, else spills them to disk partitioned by a hash of the key. Each
//! partition is then joined in memory: a hash table from key to its rows on
//! each side, which makes the pairs; every feature's two aligned columns are
//! gathered with Arrow's `interleave` and compared with [`equal`] (features
//! in parallel). Keys seen more than once on a side are not joined (which
//! pair would it be?) but counted. The samples are the differing pairs
//! with the smallest keys, so the output does not depend on threads,
//! partitions or the order of the files.

pub mod equal;
mod store;

use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};
use hashbrown::HashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::Progress;
use crate::error::{Error, Result};
use crate::report::value::value_text;
use crate::source::{Dataset, SourceOptions};
pub use equal::Tolerance;

/// The version of the skew JSON.
pub const FORMAT_VERSION: u32 = 1;

/// What `skew` compares and how.
#[derive(Debug, Clone)]
pub struct SkewOptions {
    /// The key columns (one or more), present on both sides.
    pub key: Vec<String>,
    /// A feature is skewed when its `diff_share` is above this (0: any
    /// difference).
    pub threshold: f64,
    /// Floats within this are equal (default: bitwise, NaN equal to NaN).
    pub tolerance: Option<Tolerance>,
    /// Differing pairs kept per feature, those with the smallest keys.
    pub max_samples: usize,
    /// Bytes of rows held in memory before spilling to disk.
    pub memory_budget: u64,
}

impl Default for SkewOptions {
    fn default() -> Self {
        SkewOptions {
            key: Vec::new(),
            threshold: 0.0,
            tolerance: None,
            max_samples: 10,
            memory_budget: 1 << 30,
        }
    }
}

/// The result: `skewer skew --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkewReport {
    pub format_version: u32,
    pub key: Vec<String>,
    pub threshold: f64,
    pub tolerance: Option<Tolerance>,
    pub max_samples: usize,
    pub base: Side,
    pub test: Side,
    /// Examples joined: keys found exactly once on each side.
    pub joined: u64,
    /// Per feature present on both sides and compared, by name.
    pub features: Vec<FeatureSkew>,
    /// Columns only in the base, only in the test (by name).
    pub base_only_columns: Vec<String>,
    pub test_only_columns: Vec<String>,
    /// Columns on both sides that are not compared: their types differ
    /// (skew in itself) or cannot be compared.
    pub not_compared: Vec<NotCompared>,
    /// How the join ran (partitions 1: in memory).
    pub partitions: usize,
    pub spilled_bytes: u64,
}

/// One side's rows, by what happened to them:
/// `rows = joined + unmatched_rows + null_key_rows + excluded_rows`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Side {
    pub path: String,
    pub rows: u64,
    /// Rows with a null in a key column (never joined).
    pub null_key_rows: u64,
    /// Keys found more than once on this side, and the rows they hold.
    pub duplicate_keys: u64,
    pub duplicate_key_rows: u64,
    /// Rows not joined because their key is duplicated on this side or the
    /// other.
    pub excluded_rows: u64,
    /// Rows whose key (once on this side) is not on the other side.
    pub unmatched_rows: u64,
}

/// TFDV's `FeatureSkew` for one feature, over the joined examples.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FeatureSkew {
    pub name: String,
    /// The type compared (both sides cast to it).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Joined examples where the feature is present (not null) in the base,
    /// in the test.
    pub base_count: u64,
    pub test_count: u64,
    /// Present on both sides, values equal.
    pub match_count: u64,
    /// Present in the base only, in the test only.
    pub base_only: u64,
    pub test_only: u64,
    /// Present on both sides, values differ.
    pub mismatch_count: u64,
    /// `base_only + test_only + mismatch_count`.
    pub diff_count: u64,
    /// Missing on both sides (not in TFDV's counts; completes the joined
    /// examples: `match + mismatch + base_only + test_only + both_missing`).
    pub both_missing: u64,
    /// `diff_count / joined` (0 when nothing is joined).
    pub diff_share: f64,
    /// `diff_share > threshold`.
    pub skewed: bool,
    /// Differing pairs with the smallest keys, in key order.
    pub samples: Vec<Sample>,
}

/// A differing pair: the key's values and the two values, as text (null:
/// missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub key: Vec<String>,
    pub base: Option<String>,
    pub test: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotCompared {
    pub name: String,
    pub base_type: String,
    pub test_type: String,
    pub reason: String,
}

impl SkewReport {
    /// Whether any feature is skewed or differs in type (`skewer skew`
    /// exits 1).
    pub fn has_skew(&self) -> bool {
        self.features.iter().any(|f| f.skewed) || self.not_compared.iter().any(|n| n.types_differ())
    }
}

impl NotCompared {
    const TYPES_DIFFER: &'static str = "the types differ";

    pub fn types_differ(&self) -> bool {
        self.reason == Self::TYPES_DIFFER
    }
}

impl SkewOptions {
    pub fn validate(&self) -> Result<()> {
        if self.key.is_empty() || self.key.iter().any(|k| k.is_empty()) {
            return Err(Error::InvalidOption(
                "--key needs at least one column name".into(),
            ));
        }
        for (i, k) in self.key.iter().enumerate() {
            if self.key[..i].contains(k) {
                return Err(Error::InvalidOption(format!("--key names {k:?} twice")));
            }
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::InvalidOption(format!(
                "--threshold {} must be in [0, 1] (a share of the joined examples)",
                self.threshold
            )));
        }
        Ok(())
    }
}

/// One column of the join: its name, its place in each file's schema and
/// the type it is compared as.
struct Column {
    name: String,
    base: usize,
    test: usize,
    data_type: DataType,
}

/// Join `base` and `test` on `opts.key` and count the skew per feature.
pub fn skew(
    base: &Path,
    test: &Path,
    src: &SourceOptions,
    opts: &SkewOptions,
    progress: &dyn Progress,
) -> Result<SkewReport> {
    opts.validate()?;
    let src = SourceOptions {
        columns: None,
        ..src.clone()
    };
    let ds = [
        Dataset::open(&[base.to_path_buf()], &src)?,
        Dataset::open(&[test.to_path_buf()], &src)?,
    ];
    let paths = [base, test];
    let (s0, s1) = (ds[0].schema().clone(), ds[1].schema().clone());
    let index = |s: &Schema, path: &Path, name: &str| -> Result<usize> {
        s.index_of(name).map_err(|_| Error::UnknownColumn {
            path: path.into(),
            column: name.into(),
            available: names(s).join(", "),
        })
    };
    // The key columns: on both sides, of one comparable type.
    let mut keys = Vec::new();
    for k in &opts.key {
        let (b, t) = (index(&s0, base, k)?, index(&s1, test, k)?);
        let (tb, tt) = (s0.field(b).data_type(), s1.field(t).data_type());
        let data_type = crate::source::types::common_type(tb, tt)
            .filter(|dt| RowConverter::supports_fields(&[SortField::new(dt.clone())]))
            .ok_or_else(|| Error::SchemaMismatch {
                first: base.into(),
                path: test.into(),
                column: k.clone(),
                detail: format!("the key is {tb} in the first and {tt} here; a key must have one type on both sides"),
            })?;
        keys.push(Column {
            name: k.clone(),
            base: b,
            test: t,
            data_type,
        });
    }
    // The features: every other column of both sides.
    let mut features = Vec::new();
    let mut not_compared = Vec::new();
    let mut base_only_columns = Vec::new();
    for (b, f) in s0.fields().iter().enumerate() {
        let name = f.name();
        if opts.key.contains(name) {
            continue;
        }
        let Ok(t) = s1.index_of(name) else {
            base_only_columns.push(name.clone());
            continue;
        };
        let (tb, tt) = (f.data_type(), s1.field(t).data_type());
        let why = match crate::source::types::common_type(tb, tt) {
            Some(dt) if equal::supported(&dt) => {
                features.push(Column {
                    name: name.clone(),
                    base: b,
                    test: t,
                    data_type: dt,
                });
                continue;
            }
            Some(dt) => format!("{dt} values cannot be compared"),
            None => NotCompared::TYPES_DIFFER.to_string(),
        };
        not_compared.push(NotCompared {
            name: name.clone(),
            base_type: tb.to_string(),
            test_type: tt.to_string(),
            reason: why,
        });
    }
    let mut test_only_columns: Vec<String> = s1
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !opts.key.contains(n) && s0.index_of(n).is_err())
        .collect();
    base_only_columns.sort();
    test_only_columns.sort();
    not_compared.sort_by(|a, b| a.name.cmp(&b.name));

    // Both sides are read into one layout: the keys, then the features.
    let columns: Vec<&Column> = keys.iter().chain(&features).collect();
    let schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, c.data_type.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let converter = RowConverter::new(
        keys.iter()
            .map(|k| SortField::new(k.data_type.clone()))
            .collect(),
    )
    .map_err(|e| Error::arrow(base, "encoding the key", e))?;
    let expected_rows = ds[0]
        .total_rows()
        .zip(ds[1].total_rows())
        .map(|(a, b)| a + b);
    let store = Mutex::new(store::Store::new(
        schema.clone(),
        opts.memory_budget,
        expected_rows,
    ));
    let mut sides = [Side::default(), Side::default()];
    for side in 0..2 {
        let d = &ds[side];
        let proj: Vec<usize> = columns
            .iter()
            .map(|c| if side == 0 { c.base } else { c.test })
            .collect();
        progress.start(side as u32 + 1, d.total_rows(), d.total_bytes());
        let counts = Mutex::new((0u64, 0u64));
        let read = |part: &crate::source::Partition| {
            d.read(part, &proj, |batch, bytes| {
                let rows = batch.num_rows() as u64;
                let (batch, nulls) = prepare(&batch, &schema, keys.len())
                    .map_err(|e| Error::arrow(paths[side], "reading the columns to join", e))?;
                let enc = converter
                    .convert_columns(&batch.columns()[..keys.len()])
                    .map_err(|e| Error::arrow(paths[side], "encoding the key", e))?;
                let hashes: Vec<u64> = enc.iter().map(|r| hash(r.data())).collect();
                let key_bytes = enc.size() as u64;
                drop(enc);
                {
                    let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
                    c.0 += rows;
                    c.1 += nulls;
                }
                store
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(side, batch, hashes, key_bytes)?;
                progress.advance(rows, bytes);
                Ok(())
            })
        };
        d.partitions().par_iter().try_for_each(read)?;
        let (rows, nulls) = counts.into_inner().unwrap_or_else(|p| p.into_inner());
        sides[side].path = paths[side].display().to_string();
        sides[side].rows = rows;
        sides[side].null_key_rows = nulls;
        store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .finish_side(side)?;
    }
    progress.finish();

    let mut store = store.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut acc: Vec<FeatureAcc> = features.iter().map(|_| FeatureAcc::default()).collect();
    let mut joined = 0u64;
    let ctx = JoinContext {
        converter: &converter,
        keys: keys.len(),
        tolerance: opts.tolerance,
        max_samples: opts.max_samples,
    };
    for k in 0..store.partitions() {
        let [b, t] = store.take(k)?;
        joined += ctx.join(&b, &t, &mut sides, &mut acc)?;
    }
    let features = features
        .iter()
        .zip(acc)
        .map(|(c, a)| a.finish(c, joined, opts.threshold))
        .collect::<Vec<_>>();
    let mut report = SkewReport {
        format_version: FORMAT_VERSION,
        key: opts.key.clone(),
        threshold: opts.threshold,
        tolerance: opts.tolerance,
        max_samples: opts.max_samples,
        base: sides[0].clone(),
        test: sides[1].clone(),
        joined,
        features,
        base_only_columns,
        test_only_columns,
        not_compared,
        partitions: store.partitions(),
        spilled_bytes: store.spilled_bytes,
    };
    report.features.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(report)
}

fn names(s: &Schema) -> Vec<String> {
    s.fields().iter().map(|f| f.name().clone()).collect()
}

/// Take the batch's columns in `schema`'s order (a reader gives them in the
/// file's order), cast to its types, and drop the rows with a null in one
/// of the first `keys` columns; returns the batch and the number of rows
/// dropped.
fn prepare(
    batch: &RecordBatch,
    schema: &SchemaRef,
    keys: usize,
) -> std::result::Result<(RecordBatch, u64), arrow::error::ArrowError> {
    let cols = schema
        .fields()
        .iter()
        .map(|f| {
            let c = batch.column(batch.schema().index_of(f.name())?);
            crate::source::types::to_type(c, f.data_type())
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let batch = RecordBatch::try_new(schema.clone(), cols)?;
    let mut valid: Option<arrow::buffer::NullBuffer> = None;
    for c in &batch.columns()[..keys] {
        valid = arrow::buffer::NullBuffer::union(valid.as_ref(), c.logical_nulls().as_ref());
    }
    match valid {
        Some(v) if v.null_count() > 0 => {
            let nulls = v.null_count() as u64;
            let mask = BooleanArray::new(v.into_inner(), None);
            Ok((arrow::compute::filter_record_batch(&batch, &mask)?, nulls))
        }
        _ => Ok((batch, 0)),
    }
}

/// A fixed hash of a key's bytes (the partition of a row must not depend
/// on the run): 8 bytes at a time, multiplied and folded.
fn hash(bytes: &[u8]) -> u64 {
    const M: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (bytes.len() as u64).wrapping_mul(M);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        h = (h ^ w).wrapping_mul(M).rotate_left(29);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h ^ u64::from_le_bytes(last)).wrapping_mul(M);
    // A final avalanche (SplitMix64's), so the high bits (the partition)
    // depend on every byte.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Where a key was seen on one side: how often, and its first row (batch,
/// row).
#[derive(Clone, Copy, Default)]
struct Seen {
    n: u32,
    at: (u32, u32),
}

/// The join's table entry: a key (borrowed from its encoding) and where it
/// was seen on each side.
type Entry<'a> = (&'a [u8], [Seen; 2]);

/// Bytes of the join's table per row of either side, at most: a table
/// holds at most one entry per row, and hashbrown keeps a power of two of
/// buckets at most 7/8 full, each an entry and one control byte, so
/// `buckets <= 16/7 entries` (a unit test measures it).
const TABLE_BYTES_PER_ROW: u64 = (std::mem::size_of::<Entry<'static>>() as u64 + 1) * 16 / 7 + 1;

/// Bytes of the joined pairs per row of either side, at most: a pair (its
/// key and its row on each side) per row of the smaller side, which holds
/// at most half the rows.
const PAIR_BYTES_PER_ROW: u64 = (std::mem::size_of::<&[u8]>() as u64
    + 2 * std::mem::size_of::<(usize, usize)>() as u64)
    .div_ceil(2);

/// Bytes per row set aside for the join of a partition, on top of the
/// batch, its key hashes and its encoded keys (which the join encodes
/// again): the table and the pairs (118 bytes on 64-bit targets).
pub(crate) const JOIN_BYTES_PER_ROW: u64 = TABLE_BYTES_PER_ROW + PAIR_BYTES_PER_ROW;

struct JoinContext<'a> {
    converter: &'a RowConverter,
    keys: usize,
    tolerance: Option<Tolerance>,
    max_samples: usize,
}

impl JoinContext<'_> {
    /// Join one partition of both sides; adds to the sides' and features'
    /// counts and returns the number of examples joined.
    fn join(
        &self,
        base: &[RecordBatch],
        test: &[RecordBatch],
        sides: &mut [Side; 2],
        acc: &mut [FeatureAcc],
    ) -> Result<u64> {
        let encode = |batches: &[RecordBatch]| -> Result<Vec<Rows>> {
            batches
                .par_iter()
                .map(|b| {
                    self.converter
                        .convert_columns(&b.columns()[..self.keys])
                        .map_err(|e| Error::Internal(format!("encoding the key: {e}")))
                })
                .collect()
        };
        let rows = [encode(base)?, encode(test)?];
        let n = rows
            .each_ref()
            .map(|r| r.iter().map(|r| r.num_rows()).sum::<usize>());
        // Sized for the larger side (keys mostly on both sides); it grows
        // when they are not. JOIN_BYTES_PER_ROW covers either.
        let mut table: HashMap<&[u8], [Seen; 2]> = HashMap::with_capacity(n[0].max(n[1]));
        for (side, batches) in rows.iter().enumerate() {
            for (b, r) in batches.iter().enumerate() {
                for (i, row) in r.iter().enumerate() {
                    let e = table.entry(row.data()).or_default();
                    let s = &mut e[side];
                    if s.n == 0 {
                        s.at = (b as u32, i as u32);
                    }
                    s.n += 1;
                }
            }
        }
        // The joined pairs: the key, its row in the base, its row in the test.
        let most = n[0].min(n[1]);
        let mut pair_keys: Vec<&[u8]> = Vec::with_capacity(most);
        let mut b_at: Vec<(usize, usize)> = Vec::with_capacity(most);
        let mut t_at: Vec<(usize, usize)> = Vec::with_capacity(most);
        for (key, [b, t]) in &table {
            for (side, s, other) in [(0, b, t), (1, t, b)] {
                let side = &mut sides[side];
                if s.n > 1 {
                    side.duplicate_keys += 1;
                    side.duplicate_key_rows += s.n as u64;
                }
                if s.n > 1 || other.n > 1 {
                    side.excluded_rows += s.n as u64;
                } else if s.n == 1 && other.n == 0 {
                    side.unmatched_rows += 1;
                }
            }
            if b.n == 1 && t.n == 1 {
                let at = |s: &Seen| (s.at.0 as usize, s.at.1 as usize);
                pair_keys.push(key);
                b_at.push(at(b));
                t_at.push(at(t));
            }
        }
        drop(table);
        let joined = pair_keys.len() as u64;
        if pair_keys.is_empty() {
            return Ok(0);
        }
        let key_text = |j: usize| -> Result<Vec<String>> {
            let (b, r) = b_at[j];
            (0..self.keys)
                .map(|c| value_text(base[b].column(c), r))
                .collect()
        };
        acc.par_iter_mut().enumerate().try_for_each(|(f, acc)| {
            let col = self.keys + f;
            let gather = |batches: &[RecordBatch], at: &[(usize, usize)]| {
                let arrays: Vec<&dyn Array> =
                    batches.iter().map(|b| b.column(col).as_ref()).collect();
                arrow::compute::interleave(&arrays, at)
                    .map_err(|e| Error::Internal(format!("gathering joined values: {e}")))
            };
            let (a, b) = (gather(base, &b_at)?, gather(test, &t_at)?);
            let eq = equal::equal(&a, &b, self.tolerance)?;
            let (na, nb) = (a.logical_nulls(), b.logical_nulls());
            let present = |n: &Option<arrow::buffer::NullBuffer>, i: usize| {
                n.as_ref().is_none_or(|n| n.is_valid(i))
            };
            for (j, &key) in pair_keys.iter().enumerate() {
                let differs = match (present(&na, j), present(&nb, j)) {
                    (true, true) if eq.value(j) => {
                        acc.match_count += 1;
                        false
                    }
                    (true, true) => {
                        acc.mismatch_count += 1;
                        true
                    }
                    (true, false) => {
                        acc.base_only += 1;
                        true
                    }
                    (false, true) => {
                        acc.test_only += 1;
                        true
                    }
                    (false, false) => {
                        acc.both_missing += 1;
                        false
                    }
                };
                if differs && acc.wants(key, self.max_samples) {
                    let sample = Sample {
                        key: key_text(j)?,
                        base: present(&na, j).then(|| value_text(&a, j)).transpose()?,
                        test: present(&nb, j).then(|| value_text(&b, j)).transpose()?,
                    };
                    acc.offer(key, sample, self.max_samples);
                }
            }
            Ok::<(), Error>(())
        })?;
        Ok(joined)
    }
}

/// A candidate sample, ordered by its key's encoding.
struct Candidate(Box<[u8]>, Sample);

impl PartialEq for Candidate {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.cmp(&o.0)
    }
}

/// One feature's counts so far, and its samples (a max-heap of the
/// smallest keys).
#[derive(Default)]
struct FeatureAcc {
    match_count: u64,
    mismatch_count: u64,
    base_only: u64,
    test_only: u64,
    both_missing: u64,
    samples: BinaryHeap<Candidate>,
}

impl FeatureAcc {
    fn wants(&self, key: &[u8], max: usize) -> bool {
        max > 0 && (self.samples.len() < max || self.samples.peek().is_some_and(|c| key < &c.0[..]))
    }

    fn offer(&mut self, key: &[u8], s: Sample, max: usize) {
        self.samples.push(Candidate(key.into(), s));
        if self.samples.len() > max {
            self.samples.pop();
        }
    }

    fn finish(self, c: &Column, joined: u64, threshold: f64) -> FeatureSkew {
        let diff_count = self.base_only + self.test_only + self.mismatch_count;
        let diff_share = if joined == 0 {
            0.0
        } else {
            diff_count as f64 / joined as f64
        };
        FeatureSkew {
            name: c.name.clone(),
            data_type: c.data_type.to_string(),
            base_count: self.match_count + self.mismatch_count + self.base_only,
            test_count: self.match_count + self.mismatch_count + self.test_only,
            match_count: self.match_count,
            base_only: self.base_only,
            test_only: self.test_only,
            mismatch_count: self.mismatch_count,
            diff_count,
            both_missing: self.both_missing,
            diff_share,
            skewed: diff_share > threshold,
            samples: self
                .samples
                .into_sorted_vec()
                .into_iter()
                .map(|c| c.1)
                .collect(),
        }
    }
}

/// Write a skew report as pretty JSON, atomically.
pub fn write_report(path: &Path, r: &SkewReport) -> Result<()> {
    crate::files::write_atomic(path, crate::to_json(r)?.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The join's table, measured: sized for the larger side, with every
    /// key on both sides (entries: the larger side's rows) or on one side
    /// only (entries: all rows, the table grows), it takes at most
    /// TABLE_BYTES_PER_ROW per row of both sides.
    #[test]
    fn the_join_table_fits_its_allowance_per_row() {
        for n in [1usize, 7, 100, 1000, 4096, 30_000, 100_000] {
            let keys: Vec<[u8; 8]> = (0..2 * n as u64).map(|i| i.to_be_bytes()).collect();
            for shared in [true, false] {
                let mut t: HashMap<&[u8], [Seen; 2]> = HashMap::with_capacity(n);
                for side in 0..2 {
                    for i in 0..n {
                        let k = if shared { i } else { side * n + i };
                        t.entry(&keys[k][..]).or_default()[side].n += 1;
                    }
                }
                let allowed = TABLE_BYTES_PER_ROW * 2 * n as u64 + 64;
                assert!(
                    (t.allocation_size() as u64) <= allowed,
                    "{n} rows a side, shared {shared}: {} > {allowed}",
                    t.allocation_size()
                );
            }
        }
        assert_eq!(std::mem::size_of::<Entry<'static>>(), 40);
        assert_eq!(JOIN_BYTES_PER_ROW, 118);
    }

    #[test]
    fn the_key_hash_spreads_the_high_bits() {
        // Consecutive integer keys (arrow-row: a byte then 8 big-endian
        // bytes) fall evenly into 16 partitions.
        let mut counts = [0u32; 16];
        for i in 0..16_000u64 {
            let mut k = vec![1u8];
            k.extend((i as i64 ^ i64::MIN).to_be_bytes());
            counts[(hash(&k) >> 60) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        assert_ne!(hash(b"a"), hash(b"a\0"));
    }
}
