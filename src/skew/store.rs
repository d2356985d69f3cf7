//! Where the two sides' rows wait for the join: in memory while they fit
//! the budget, else partitioned by key hash into temporary files.
//!
//! Batches are held as they were read until the bytes held (the batches,
//! their key hashes and an allowance per row for the join's table) pass the
//! budget. Then the store picks a number of partitions `P` (a power of two,
//! so that one partition of both sides, estimated from the rows still to
//! come, takes at most half the budget), writes what it holds to one Arrow
//! IPC stream file per side and partition, and sends every later batch
//! there: each batch is reordered by partition (a counting sort and one
//! `take`) and its slices appended to the files. The join then loads one
//! partition of both sides at a time. The files are [`TempFile`]s: removed
//! when read, on every error (drop) and by the interrupt handler.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use crate::error::{Error, Result};
use crate::files::TempFile;

/// Bytes per row set aside for the join of a partition (the hash table's
/// entry and the joined pair), on top of the batch and its key bytes.
pub const JOIN_BYTES_PER_ROW: u64 = 64;

/// The most partitions (two open files each while writing).
const MAX_PARTITIONS: usize = 256;

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
    /// Bytes written to the partition files (counted when a side is done).
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
        let rows = batch.num_rows() as u64;
        self.held_bytes +=
            batch.get_array_memory_size() as u64 + 8 * rows + key_bytes + JOIN_BYTES_PER_ROW * rows;
        self.held_rows += rows;
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
                *slot = Some(Part::create(&self.schema)?);
            }
            if let Some(part) = slot {
                part.append(&sorted.slice(lo, hi - lo))?;
            }
        }
        Ok(())
    }

    /// A side is read: its files are flushed and closed.
    pub fn finish_side(&mut self, side: usize) -> Result<()> {
        if let Some(parts) = &mut self.parts {
            for part in parts[side].iter_mut().flatten() {
                part.finish()?;
                self.spilled_bytes += std::fs::metadata(part.tmp.path())
                    .map_err(|e| Error::io(part.tmp.path(), e))?
                    .len();
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
                        out[side] = part.read()?;
                    }
                }
                Ok(out)
            }
        }
    }
}

impl Part {
    fn create(schema: &SchemaRef) -> Result<Part> {
        let (tmp, file) = TempFile::create_in_temp_dir("skewer-skew", "arrows")
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let writer = StreamWriter::try_new(BufWriter::with_capacity(1 << 18, file), schema)
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

    /// Read the partition back; the file is removed.
    fn read(mut self) -> Result<Vec<RecordBatch>> {
        self.finish()?;
        let path = self.path();
        let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = StreamReader::try_new(BufReader::with_capacity(1 << 18, f), None)
            .map_err(|e| Error::arrow(&path, "reading a spill file", e))?;
        reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::arrow(&path, "reading a spill file", e))
    }
}
