//! `skewer bench`: the same data profiled on every available backend, with
//! the time split into decode, host compute, upload and GPU wait.
//!
//! Wall times are whole profiles (both passes). The split comes from
//! [`Timings`] and [`GpuTimes`](crate::backend::gpu::GpuTimes): decode and
//! host compute are summed over threads (so they can exceed the wall time on
//! several cores); upload is the time to queue column data for the device;
//! GPU wait is submit-to-mapped-results. Where the adapter has timestamp
//! queries, every compute pass is bracketed by them: `compute_s` is kernel
//! time and `readback_s` the rest of the wait (transfers, mapping, idle);
//! `pass1_gb_per_s` is column bytes over the fused pass-one kernels' time,
//! to set against the card's memory bandwidth.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float32Array, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use serde::Serialize;

use crate::backend::Backend;
use crate::engine::{self, NoProgress, ProfileOptions, Timings};
use crate::error::{Error, Result};
use crate::source::{Dataset, SourceOptions};

/// One backend's result.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub backend: String,
    pub device: String,
    pub software: bool,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_s: f64,
    /// Decoded Arrow column data per second of wall time.
    pub column_gb_per_s: f64,
    pub decode_s: f64,
    pub host_compute_s: f64,
    pub upload_s: f64,
    pub upload_gb_per_s: Option<f64>,
    pub gpu_wait_s: f64,
    /// Kernel time from timestamp queries (None without them).
    pub compute_s: Option<f64>,
    /// GPU wait less kernel time (None without timestamp queries).
    pub readback_s: Option<f64>,
    /// Column bytes per second of the pass-one kernels (reduce, range,
    /// sketch), from timestamp queries.
    pub pass1_gb_per_s: Option<f64>,
    /// CPU wall time over this backend's.
    pub speedup_vs_cpu: f64,
}

/// Write a seeded synthetic Parquet file of `rows` rows: float64 normal,
/// float64 with a large offset, int64 ids, float32 and a low-cardinality
/// string, in row groups of 1Mi rows, built 64Ki rows at a time.
pub fn write_synthetic(path: &Path, rows: u64) -> Result<()> {
    let f = std::fs::File::create(path).map_err(|e| Error::Write {
        path: path.into(),
        source: e,
    })?;
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(1 << 20))
        .build();
    let mut w = None;
    let mut done = 0u64;
    while done < rows {
        let n = (rows - done).min(1 << 16) as usize;
        let normal: Float64Array = (0..n).map(|_| Some(10.0 + 3.0 * rng.normal())).collect();
        let offset: Float64Array = (0..n).map(|_| Some(1.7e9 + rng.normal())).collect();
        let ids: Int64Array = (0..n).map(|_| Some((rng.next() >> 2) as i64)).collect();
        let f32s: Float32Array = (0..n).map(|_| Some(rng.normal() as f32)).collect();
        let cats: StringArray = (0..n)
            .map(|_| Some(format!("cat_{}", rng.next() % 10)))
            .collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("f_normal", Arc::new(normal) as ArrayRef),
            ("f_big_offset", Arc::new(offset) as ArrayRef),
            ("i_id", Arc::new(ids) as ArrayRef),
            ("f32", Arc::new(f32s) as ArrayRef),
            ("s_low", Arc::new(cats) as ArrayRef),
        ])
        .map_err(|e| Error::arrow(path, "building synthetic data", e))?;
        if w.is_none() {
            let f = f.try_clone().map_err(|e| Error::io(path, e))?;
            w = Some(
                parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props.clone()))
                    .map_err(|e| Error::Parquet {
                        path: path.into(),
                        source: e,
                    })?,
            );
        }
        if let Some(w) = w.as_mut() {
            w.write(&batch).map_err(|e| Error::Parquet {
                path: path.into(),
                source: e,
            })?;
        }
        done += n as u64;
    }
    if let Some(w) = w {
        w.close().map_err(|e| Error::Parquet {
            path: path.into(),
            source: e,
        })?;
    }
    Ok(())
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Profile `files` once per backend and report each.
pub fn run(
    files: &[PathBuf],
    src: &SourceOptions,
    base: &ProfileOptions,
    backends: Vec<Arc<Backend>>,
) -> Result<Vec<BenchRow>> {
    let ds = Dataset::open(files, src)?;
    let mut rows = Vec::new();
    for backend in backends {
        let timings = Arc::new(Timings::default());
        let opts = ProfileOptions {
            backend: backend.clone(),
            timings: Some(timings.clone()),
            ..base.clone()
        };
        let t0 = Instant::now();
        let p = engine::profile(&ds, &opts, &NoProgress)?;
        let secs = t0.elapsed().as_secs_f64();
        let ns = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e9;
        let (upload_s, upload_bytes, wait_s, software, compute) = match backend.gpu() {
            Some(g) => {
                let t = &g.times;
                let compute = g.desc.timestamp_query.then(|| {
                    (
                        ns(&t.compute_ns),
                        ns(&t.pass1_compute_ns),
                        t.pass1_bytes.load(Ordering::Relaxed) as f64,
                    )
                });
                (
                    ns(&t.upload_ns),
                    t.upload_bytes.load(Ordering::Relaxed) as f64,
                    ns(&t.wait_ns),
                    g.desc.software,
                    compute,
                )
            }
            None => (0.0, 0.0, 0.0, false, None),
        };
        rows.push(BenchRow {
            backend: p.backend.kind.clone(),
            device: p.backend.device.clone(),
            software,
            rows: p.num_rows,
            seconds: secs,
            rows_per_s: p.num_rows as f64 / secs,
            column_gb_per_s: timings.column_bytes.load(Ordering::Relaxed) as f64 / secs / 1e9,
            decode_s: ns(&timings.decode_ns),
            // The batch callbacks include the GPU calls: count those apart.
            host_compute_s: (ns(&timings.compute_ns) - upload_s - wait_s).max(0.0),
            upload_s,
            upload_gb_per_s: (upload_s > 0.0).then(|| upload_bytes / upload_s / 1e9),
            gpu_wait_s: wait_s,
            compute_s: compute.map(|c| c.0),
            readback_s: compute.map(|c| (wait_s - c.0).max(0.0)),
            pass1_gb_per_s: compute.and_then(|(_, s, b)| (s > 0.0).then(|| b / s / 1e9)),
            speedup_vs_cpu: 1.0,
        });
    }
    if let Some(cpu) = rows.iter().find(|r| r.backend == "cpu").map(|r| r.seconds) {
        for r in rows.iter_mut() {
            r.speedup_vs_cpu = cpu / r.seconds;
        }
    }
    Ok(rows)
}

/// The rows as an aligned text table, with a note on what the times mean.
pub fn table(rows: &[BenchRow]) -> String {
    let opt =
        |v: Option<f64>, p: usize| v.map(|x| format!("{x:.p$}")).unwrap_or_else(|| "-".into());
    let header = [
        "kind",
        "device",
        "rows/s",
        "wall s",
        "col GB/s",
        "decode s",
        "host s",
        "upload s",
        "upload GB/s",
        "compute s",
        "readback s",
        "pass1 GB/s",
        "speedup",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.backend.clone(),
                format!(
                    "{}{}",
                    r.device.chars().take(30).collect::<String>(),
                    if r.software { " (software)" } else { "" }
                ),
                format!("{:.0}", r.rows_per_s),
                format!("{:.3}", r.seconds),
                format!("{:.2}", r.column_gb_per_s),
                format!("{:.3}", r.decode_s),
                format!("{:.3}", r.host_compute_s),
                format!("{:.3}", r.upload_s),
                opt(r.upload_gb_per_s, 2),
                if r.backend == "gpu" {
                    opt(r.compute_s, 3)
                } else {
                    "-".into()
                },
                opt(r.readback_s, 3),
                opt(r.pass1_gb_per_s, 2),
                format!("{:.2}x", r.speedup_vs_cpu),
            ]
        })
        .collect();
    let mut s = crate::report::text_table(&header, &cells, &[0, 1]);
    s.push_str("(decode and host times are summed over threads; compute is kernel time from timestamp queries, readback the rest of the GPU wait)\n");
    s
}
