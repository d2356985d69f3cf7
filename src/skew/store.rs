//! Where the two sides' rows wait for the join: in memory while they fit
//! the budget, else partitioned by key hash into temporary files.
//!
//! Batches are held as they were read until the bytes held (the batches,
//! their key hashes and encoded keys, and [`JOIN_BYTES_PER_ROW`] for the
//! join's table and pairs) pass the budget. Then the store picks a number
//! of partitions `P` (a power of two, so that one partition of both sides,
//! estimated from the rows still to come, takes at most half the budget),
//! writes what it holds to one Arrow IPC stream file per side and
//! partition, and sends every later batch there: each batch is reordered
//! by partition (a counting sort and one `take`) and its slices appended to
//! the files. The files' write buffers share an eighth of the budget; they
//! are freed when a side is read, before the join. Spilling can start
//! while either side is read, so a file's size is counted when the join
//! takes it, not when its side is done. The join then loads one partition
//! of both sides at a time. The files are [`TempFile`]s: removed when read,
//! on every error (drop) and by the interrupt handler.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use crate::error::{Error, Result};
use crate::files::TempFile;

use super::JOIN_BYTES_PER_ROW;

/// The most partitions (two open files each while writing).
const MAX_PARTITIONS: usize = 256;

/// The share of the budget for the spill files' write buffers (one per
/// side and partition, while the sides are read; freed before the join,
/// which gets the rest), and the bounds of one buffer.
const WRITE_BUFFERS_SHARE: u64 = 8;
const MIN_WRITE_BUFFER: usize = 8 << 10;
const MAX_WRITE_BUFFER: usize = 256 << 10;

/// One side's rows of one partition on disk.
struct Part {
    tmp: TempFile,
    writer: Option<StreamWriter<BufWriter<File>>>,
}

pub struct Store {
    schema: SchemaRef,
    budget: u64,
    /// Rows both sides will have in all, when the files' metadata says.
    expected_rows: Option<u64>,
    /// Per side: the batches held in memory, with their key hashes.
    held: [Vec<(RecordBatch, Vec<u64>)>; 2],
    held_bytes: u64,
    held_rows: u64,
    /// Per side and partition, once spilling.
    parts: Option<[Vec<Option<Part>>; 2]>,
    /// The capacity of each spill file's write buffer.
    write_buffer: usize,
    /// Bytes written to the partition files (each counted when taken).
    pub spilled_bytes: u64,
}

impl Store {
    pub fn new(schema: SchemaRef, budget: u64, expected_rows: Option<u64>) -> Store {
        Store {
            schema,
            budget,
            expected_rows,
            held: [Vec::new(), Vec::new()],
            held_bytes: 0,
            held_rows: 0,
            parts: None,
            write_buffer: MAX_WRITE_BUFFER,
            spilled_bytes: 0,
        }
    }

    /// The number of partitions the join goes through.
    pub fn partitions(&self) -> usize {
        self.parts.as_ref().map_or(1, |p| p[0].len())
    }

    /// Add a batch of side `side` (0 base, 1 test) whose rows' key hashes
    /// are `hashes`; `key_bytes` is the size of its encoded keys.
    pub fn push(
        &mut self,
        side: usize,
        batch: RecordBatch,
        hashes: Vec<u64>,
        key_bytes: u64,
    ) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if self.parts.is_some() {
            return self.write(side, &batch, &hashes);
        }
        self.held_bytes += held_size(&batch, key_bytes);
        self.held_rows += batch.num_rows() as u64;
        self.held[side].push((batch, hashes));
        if self.held_bytes > self.budget {
            self.start_spilling()?;
        }
        Ok(())
    }

    fn start_spilling(&mut self) -> Result<()> {
        let per_row = self.held_bytes as f64 / self.held_rows.max(1) as f64;
        let per_partition = (self.budget / 2).max(1) as f64;
        let p = match self.expected_rows {
            Some(rows) => ((rows as f64 * per_row / per_partition).ceil() as usize)
                .next_power_of_two()
                .clamp(2, MAX_PARTITIONS),
            // A CSV or a stream: the total is not known.
            None => 64,
        };
        self.write_buffer = usize::try_from(self.budget / WRITE_BUFFERS_SHARE / (2 * p as u64))
            .unwrap_or(usize::MAX)
            .clamp(MIN_WRITE_BUFFER, MAX_WRITE_BUFFER);
        self.parts = Some([
            (0..p).map(|_| None).collect(),
            (0..p).map(|_| None).collect(),
        ]);
        for side in 0..2 {
            for (batch, hashes) in std::mem::take(&mut self.held[side]) {
                self.write(side, &batch, &hashes)?;
            }
        }
        self.held_bytes = 0;
        self.held_rows = 0;
        Ok(())
    }

    /// Append a batch's rows to its side's partition files.
    fn write(&mut self, side: usize, batch: &RecordBatch, hashes: &[u64]) -> Result<()> {
        let parts = self
            .parts
            .as_mut()
            .ok_or_else(|| Error::Internal("writing a partition before spilling".into()))?;
        let files = &mut parts[side];
        let p = files.len();
        let shift = 64 - p.trailing_zeros();
        let part_of = |h: u64| (h >> shift) as usize;
        // Counting sort of the rows by partition.
        let mut start = vec![0u32; p + 1];
        for &h in hashes {
            start[part_of(h) + 1] += 1;
        }
        for i in 0..p {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut order = vec![0u32; hashes.len()];
        for (row, &h) in hashes.iter().enumerate() {
            let k = part_of(h);
            order[next[k] as usize] = row as u32;
            next[k] += 1;
        }
        let sorted = arrow::compute::take_record_batch(batch, &UInt32Array::from(order))
            .map_err(|e| Error::Internal(format!("partitioning a batch: {e}")))?;
        for (k, slot) in files.iter_mut().enumerate() {
            let (lo, hi) = (start[k] as usize, start[k + 1] as usize);
            if lo == hi {
                continue;
            }
            if slot.is_none() {
                *slot = Some(Part::create(&self.schema, self.write_buffer)?);
            }
            if let Some(part) = slot {
                part.append(&sorted.slice(lo, hi - lo))?;
            }
        }
        Ok(())
    }

    /// A side is read: its files are flushed and closed (their write
    /// buffers freed). Spilling may start later, while the other side is
    /// read: the files this side gets then are closed when taken.
    pub fn finish_side(&mut self, side: usize) -> Result<()> {
        if let Some(parts) = &mut self.parts {
            for part in parts[side].iter_mut().flatten() {
                part.finish()?;
            }
        }
        Ok(())
    }

    /// Both sides' batches of partition `k` (each removed from the store).
    pub fn take(&mut self, k: usize) -> Result<[Vec<RecordBatch>; 2]> {
        match &mut self.parts {
            None => Ok(std::array::from_fn(|side| {
                std::mem::take(&mut self.held[side])
                    .into_iter()
                    .map(|(b, _)| b)
                    .collect()
            })),
            Some(parts) => {
                let mut out: [Vec<RecordBatch>; 2] = [Vec::new(), Vec::new()];
                for side in 0..2 {
                    if let Some(part) = parts[side][k].take() {
                        let (batches, bytes) = part.read()?;
                        out[side] = batches;
                        self.spilled_bytes += bytes;
                    }
                }
                Ok(out)
            }
        }
    }
}

/// The bytes a batch takes until the join, and during it: its arrays, its
/// key hashes, its keys encoded (`key_bytes`) and the join's table and pairs.
fn held_size(batch: &RecordBatch, key_bytes: u64) -> u64 {
    let rows = batch.num_rows() as u64;
    batch.get_array_memory_size() as u64 + 8 * rows + key_bytes + JOIN_BYTES_PER_ROW * rows
}

impl Part {
    fn create(schema: &SchemaRef, buffer: usize) -> Result<Part> {
        let (tmp, file) = TempFile::create_in_temp_dir("skewer-skew", "arrows")
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let writer = StreamWriter::try_new(BufWriter::with_capacity(buffer, file), schema)
            .map_err(|e| Error::arrow(tmp.path(), "writing a spill file", e))?;
        Ok(Part {
            tmp,
            writer: Some(writer),
        })
    }

    fn path(&self) -> PathBuf {
        self.tmp.path().to_path_buf()
    }

    fn append(&mut self, batch: &RecordBatch) -> Result<()> {
        let path = self.path();
        match &mut self.writer {
            Some(w) => w
                .write(batch)
                .map_err(|e| Error::arrow(path, "writing a spill file", e)),
            None => Err(Error::Internal(
                "a spill file written after it was closed".into(),
            )),
        }
    }

    fn finish(&mut self) -> Result<()> {
        let path = self.path();
        if let Some(mut w) = self.writer.take() {
            w.finish()
                .map_err(|e| Error::arrow(&path, "writing a spill file", e))?;
            let buf = w
                .into_inner()
                .map_err(|e| Error::arrow(&path, "writing a spill file", e))?;
            buf.into_inner().map_err(|e| Error::Write {
                path: path.clone(),
                source: e.into_error(),
            })?;
        }
        Ok(())
    }

    /// Read the partition back, with the file's size; the file is removed.
    fn read(mut self) -> Result<(Vec<RecordBatch>, u64)> {
        self.finish()?;
        let path = self.path();
        let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let bytes = f.metadata().map_err(|e| Error::io(&path, e))?.len();
        let reader = StreamReader::try_new(BufReader::with_capacity(1 << 18, f), None)
            .map_err(|e| Error::arrow(&path, "reading a spill file", e))?;
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::arrow(&path, "reading a spill file", e))?;
        Ok((batches, bytes))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    /// The base fits the budget, base and test do not: spilling starts while
    /// the test is read, and the base's files (written then, closed only
    /// when taken) count in `spilled_bytes` as the test's do.
    #[test]
    fn spilled_bytes_count_both_sides_when_the_test_side_starts_the_spill() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, true)]));
        let batch = |lo: i64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from_iter_values(lo..lo + 1000))],
            )
            .unwrap()
        };
        let hashes = |lo: u64| -> Vec<u64> {
            (lo..lo + 1000)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .collect()
        };
        let one = held_size(&batch(0), 9000);
        let mut store = Store::new(schema.clone(), 2 * one, Some(4000));
        store.push(0, batch(0), hashes(0), 9000).unwrap();
        store.finish_side(0).unwrap();
        assert!(store.parts.is_none(), "the base alone fits");
        for b in 1..4 {
            store
                .push(1, batch(b * 1000), hashes(b as u64 * 1000), 9000)
                .unwrap();
        }
        store.finish_side(1).unwrap();
        assert!(store.partitions() > 1, "base and test spilled");
        // Every file complete on disk, then its size.
        let mut on_disk = [0u64; 2];
        for (side, parts) in store.parts.as_mut().unwrap().iter_mut().enumerate() {
            for part in parts.iter_mut().flatten() {
                part.finish().unwrap();
                on_disk[side] += std::fs::metadata(part.tmp.path()).unwrap().len();
            }
        }
        assert!(on_disk[0] > 0 && on_disk[1] > 0, "{on_disk:?}");
        let mut rows = [0usize; 2];
        for k in 0..store.partitions() {
            let taken = store.take(k).unwrap();
            for side in 0..2 {
                rows[side] += taken[side].iter().map(|b| b.num_rows()).sum::<usize>();
            }
        }
        assert_eq!(rows, [1000, 3000]);
        assert_eq!(store.spilled_bytes, on_disk[0] + on_disk[1]);
    }
}
