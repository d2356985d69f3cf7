//! Criterion benches of the profile kernels on fixed-seed data, with
//! `Throughput::Bytes` of column data so results read as GB/s.
//!
//! Run: `cargo bench --bench kernels`; CI runs each once with `-- --test`.
//! Where a GPU adapter exists (`SKEWER_BENCH_ADAPTER` picks one by name; a
//! software adapter counts), the GPU backend joins the `numeric` and
//! `value_counts` groups on the same inputs: end to end (`pass1_...`/gpu),
//! and pass one's upload, compute and readback apart.

use std::hint::black_box;
use std::sync::Arc;

use arrow::array::{ArrayRef, DictionaryArray, Float64Array, StringArray};
use arrow::datatypes::Int32Type;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use skewer::backend::gpu::{BenchStage, Gpu, GpuOptions, Want};
use skewer::profile::categorical::CatAcc;
use skewer::profile::keys::{key_f64, Domain};
use skewer::profile::moments::Moments;
use skewer::profile::numeric::{extract, pass2_update, ClassCounts, NumericAcc, Scratch};
use skewer::profile::StatsOptions;

/// The adapter the GPU benches run on, if any.
fn gpu() -> Option<Gpu> {
    skewer::backend::gpu::quiet_display_probe();
    let name = std::env::var("SKEWER_BENCH_ADAPTER").ok();
    match Gpu::open(Want::Any, name.as_deref(), &GpuOptions::default()) {
        Ok(Some(g)) if g.numeric_supported() => {
            eprintln!("GPU benches on {}", g.desc.name);
            Some(g)
        }
        Ok(_) => {
            eprintln!("no GPU adapter with SHADER_F64/INT64: CPU benches only");
            None
        }
        Err(e) => {
            eprintln!("no GPU benches: {e}");
            None
        }
    }
}

const N: usize = 1 << 20;

fn data(seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..N)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            1.7e9 + (u - 0.5) * 12.0
        })
        .collect()
}

fn numeric(c: &mut Criterion) {
    let vals = data(1);
    let keys: Vec<u64> = vals.iter().map(|&v| key_f64(v)).collect();
    let bytes = (N * 8) as u64;
    let mut g = c.benchmark_group("numeric");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(BenchmarkId::new("moments", "cpu"), |b| {
        b.iter(|| Moments::of_slice(black_box(&vals)))
    });
    let arr = Float64Array::from(vals.clone());
    g.bench_function(BenchmarkId::new("extract_f64", "cpu"), |b| {
        let mut s = Scratch::default();
        b.iter(|| {
            let mut cl = ClassCounts::default();
            extract(black_box(&arr), &mut s, &mut cl).unwrap();
            cl
        })
    });
    let mut scratch = Scratch {
        keys: keys.clone(),
        vals: vals.clone(),
    };
    g.bench_function(
        BenchmarkId::new("pass1_minmax_moments_sketch", "cpu"),
        |b| {
            b.iter(|| {
                let mut acc = NumericAcc::new(Domain::Float);
                acc.update_extracted(black_box(&mut scratch));
                acc.sketch.total()
            })
        },
    );
    if let Some(gpu) = gpu() {
        let raw: Vec<u64> = vals.iter().map(|v| v.to_bits()).collect();
        g.bench_function(
            BenchmarkId::new("pass1_minmax_moments_sketch", "gpu"),
            |b| {
                b.iter(|| {
                    let mut acc = NumericAcc::new(Domain::Float);
                    gpu.numeric_pass1_raw(&mut acc, black_box(&raw), None)
                        .unwrap();
                    acc.sketch.total()
                })
            },
        );
        for (name, stage) in [
            ("pass1_upload", BenchStage::Upload),
            ("pass1_compute", BenchStage::Compute),
            ("pass1_readback", BenchStage::Readback),
        ] {
            gpu.bench_stage(BenchStage::Upload, &raw, Domain::Float)
                .unwrap();
            g.bench_function(BenchmarkId::new(name, "gpu"), |b| {
                b.iter(|| {
                    gpu.bench_stage(stage, black_box(&raw), Domain::Float)
                        .unwrap()
                })
            });
        }
    }
    let mut acc = NumericAcc::new(Domain::Float);
    acc.update_extracted(&mut scratch);
    let opts = StatsOptions::default();
    g.bench_function(BenchmarkId::new("pass2_histogram_quantiles", "cpu"), |b| {
        b.iter(|| {
            let plan = acc.plan_pass2(&opts).unwrap();
            let mut st = plan.new_state();
            pass2_update(&plan, &mut st, black_box(&keys));
            st.cands.iter_mut().for_each(|c| c.compact());
            acc.finish_exact(&opts, &plan, &st).unwrap().quantiles.len()
        })
    });
    g.finish();
}

fn value_counts(c: &mut Criterion) {
    let mut s = 7u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 33
    };
    let strings: StringArray = (0..N)
        .map(|_| Some(format!("city_{:04}", next() % 1000)))
        .collect();
    let bytes: u64 = strings.value_data().len() as u64;
    let dict: DictionaryArray<Int32Type> = strings.iter().collect();
    let dict: ArrayRef = Arc::new(dict);
    let mut g = c.benchmark_group("value_counts");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(BenchmarkId::new("utf8", "cpu"), |b| {
        b.iter(|| {
            let mut acc = CatAcc::new(&arrow::datatypes::DataType::Utf8, 1_000_000);
            acc.update(black_box(&strings)).unwrap();
            acc.present()
        })
    });
    g.bench_function(BenchmarkId::new("dictionary", "cpu"), |b| {
        b.iter(|| {
            let mut acc = CatAcc::new(dict.data_type(), 1_000_000);
            acc.update(black_box(dict.as_ref())).unwrap();
            acc.present()
        })
    });
    if let Some(ctx) = gpu() {
        g.bench_function(BenchmarkId::new("dictionary", "gpu"), |b| {
            b.iter(|| {
                let mut acc = CatAcc::new(dict.data_type(), 1_000_000);
                assert!(ctx
                    .count_categorical(&mut acc, black_box(dict.as_ref()))
                    .unwrap());
                acc.present()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, numeric, value_counts);
criterion_main!(benches);
