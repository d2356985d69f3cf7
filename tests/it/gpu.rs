//! CPU/GPU parity: one suite, run on both backends, over lengths around the
//! workgroup (W = 256 threads × 8 values = 2048 per workgroup) and chunk
//! sizes (C = 4096 values per dispatch here), with every awkward value.
//! Counts, min, max, quantiles, histograms, sketches and top-k must be
//! equal; moments within 1e-9 relative (the kernels use f64: the adapter
//! must have SHADER_F64). Without an adapter the tests skip with a notice,
//! unless SKEWER_REQUIRE_GPU=1 (as in CI, on Mesa's lavapipe), where they fail.

use std::sync::Arc;

use skewer::backend::gpu::{Gpu, GpuOptions, Want, ITEMS_PER_THREAD, WORKGROUP_SIZE};
use skewer::backend::Backend;
use skewer::engine::ProfileOptions;
use skewer::profile::keys::{key_f64, Domain};
use skewer::profile::numeric::{extract, ClassCounts, NumericAcc, Scratch};
use skewer::profile::DatasetProfile;

use crate::common::*;

/// A GPU backend of its own (not the shared one of [`gpu_backend`]).
fn open_gpu(o: GpuOptions) -> Arc<Backend> {
    let g = Gpu::open(Want::Any, None, &o).unwrap().unwrap();
    Arc::new(Backend::from(g))
}

fn lengths() -> Vec<usize> {
    let w = WORKGROUP_SIZE as usize;
    let g = w * ITEMS_PER_THREAD as usize;
    vec![
        0,
        1,
        w - 1,
        w,
        w + 1,
        g - 1,
        g,
        g + 1,
        GPU_CHUNK - 1,
        GPU_CHUNK,
        GPU_CHUNK + 1,
        3 * GPU_CHUNK + 5,
    ]
}

/// Where each feature must have been computed: numeric columns on the GPU
/// when it has the numeric features, dictionaries and booleans always,
/// other strings on the CPU.
fn expected_place(f: &skewer::profile::FeatureProfile, numeric_on_gpu: bool) -> &'static str {
    let t = f
        .type_name
        .trim_start_matches("list<")
        .trim_start_matches("large_list<");
    if f.numeric.is_some() {
        if numeric_on_gpu {
            "gpu"
        } else {
            "cpu"
        }
    } else if t.starts_with("bool") || t.starts_with("dictionary<") {
        "gpu"
    } else if ["utf8", "large_utf8", "binary", "large_binary"]
        .iter()
        .any(|p| t.starts_with(p))
    {
        // Dictionary-encoded in the Parquet file: read as codes, counted on
        // the GPU (see source::Dataset's dictionary hints); else the CPU.
        "either"
    } else {
        "cpu"
    }
}

fn assert_parity(cpu: &DatasetProfile, gpu: &DatasetProfile, what: &str) {
    assert_parity_on(cpu, gpu, what, true)
}

fn assert_parity_on(cpu: &DatasetProfile, gpu: &DatasetProfile, what: &str, numeric_on_gpu: bool) {
    assert_eq!(gpu.backend.kind, "gpu");
    let mut on_gpu = 0;
    for (c, g) in cpu.features.iter().zip(&gpu.features) {
        let want = match expected_place(g, numeric_on_gpu) {
            "either" => g.computed_on.as_str(),
            w => w,
        };
        assert_eq!(
            g.computed_on, want,
            "{what}: {} ({}) computed on {}",
            c.name, c.type_name, g.computed_on
        );
        on_gpu += (g.computed_on == "gpu") as usize;
    }
    assert!(on_gpu > 0, "{what}: no column ran on the GPU");
    let mut g = gpu.clone();
    for f in g.features.iter_mut() {
        f.computed_on = "cpu".into();
    }
    g.backend = cpu.backend.clone();
    crate::formats::assert_same_stats(cpu, &g, what);
}

/// Write `batch` as Parquet (row groups of 5,000 rows) under `dir` and
/// profile it with each of `backends` at `budget` bytes.
fn profile_batch(
    dir: &std::path::Path,
    batch: &arrow::record_batch::RecordBatch,
    budget: u64,
    backends: &[Arc<Backend>],
) -> Vec<DatasetProfile> {
    let path = dir.join(format!("b{}.parquet", batch.num_rows()));
    write_parquet(
        &path,
        std::slice::from_ref(batch),
        parquet::basic::Compression::SNAPPY,
        5000,
    );
    let (src, o) = opts(3000, budget);
    backends
        .iter()
        .map(|b| {
            let o = ProfileOptions {
                backend: b.clone(),
                ..o.clone()
            };
            profile_files(std::slice::from_ref(&path), &src, &o).unwrap()
        })
        .collect()
}

#[test]
fn kernels_match_the_cpu_at_awkward_lengths() {
    let Some(b) = gpu_backend() else { return };
    let gpu = b.gpu().unwrap();
    let mut rng = Rng::new(42);
    for n in lengths() {
        let arrays: Vec<(Domain, arrow::array::ArrayRef)> = vec![
            (Domain::Float, Arc::new(awkward_f64(&mut rng, n, 0.0))),
            (Domain::Int, Arc::new(awkward_i64(&mut rng, n, 0.0))),
            (Domain::UInt, Arc::new(awkward_u64(&mut rng, n, 0.0))),
        ];
        for (domain, a) in arrays {
            let mut cpu = NumericAcc::new(domain);
            cpu.update(a.as_ref(), &mut Scratch::default()).unwrap();
            let raw: Vec<u64> = match domain {
                Domain::Float => a
                    .as_any()
                    .downcast_ref::<arrow::array::Float64Array>()
                    .unwrap()
                    .values()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect(),
                Domain::Int => a
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .unwrap()
                    .values()
                    .iter()
                    .map(|&v| v as u64)
                    .collect(),
                Domain::UInt => a
                    .as_any()
                    .downcast_ref::<arrow::array::UInt64Array>()
                    .unwrap()
                    .values()
                    .to_vec(),
            };
            let mut g = NumericAcc::new(domain);
            gpu.numeric_pass1_raw(&mut g, &raw, None).unwrap();
            let what = format!("{domain:?} n={n}");
            assert_eq!(g.class, cpu.class, "{what}: class counts");
            assert_eq!(g.sketch, cpu.sketch, "{what}: sketch");
            assert_eq!(g.moments.n, cpu.moments.n, "{what}");
            if n > 0 {
                assert!(g.sketch.total() > 0, "{what}: the GPU counted nothing");
            }
            let (a, b) = (g.moments, cpu.moments);
            for (x, y) in [(a.mean + a.mean_lo, b.mean + b.mean_lo), (a.m2, b.m2)] {
                if y.is_finite() {
                    assert!(
                        (x - y).abs() <= 1e-9 * y.abs().max(b.m2.sqrt()).max(1e-300),
                        "{what}: {x} vs {y}"
                    );
                }
            }
        }
    }
}

#[test]
fn profiles_match_the_cpu() {
    let Some(gpu) = gpu_backend() else { return };
    let dir = tmp();
    for (i, n) in lengths().into_iter().enumerate() {
        let batch = all_types_batch(100 + i as u64, n);
        let p = profile_batch(dir.path(), &batch, 1 << 30, &[Backend::cpu(), gpu.clone()]);
        assert_parity(&p[0], &p[1], &format!("n={n}"));
        let g = &p[1];
        // And the GPU profile against the slow oracle directly.
        crate::oracle::check_profile(g, &batch);
    }
}

#[test]
fn classification_is_by_bits() {
    let Some(b) = gpu_backend() else { return };
    let gpu = b.gpu().unwrap();
    let vals = [
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        5e-324,
        -5e-324,
        1.0,
    ];
    let raw: Vec<u64> = vals.iter().map(|v| v.to_bits()).collect();
    let mut g = NumericAcc::new(Domain::Float);
    gpu.numeric_pass1_raw(&mut g, &raw, None).unwrap();
    let mut c = ClassCounts::default();
    let mut s = Scratch::default();
    extract(
        &arrow::array::Float64Array::from(vals.to_vec()),
        &mut s,
        &mut c,
    )
    .unwrap();
    assert_eq!(g.class, c);
    assert_eq!(
        (g.class.nan, g.class.pos_inf, g.class.neg_inf, g.class.zeros),
        (2, 1, 1, 2)
    );
    assert_eq!(g.sketch.min_key(), Some(key_f64(-5e-324)));
    assert_eq!(g.sketch.max_key(), Some(key_f64(1.0)));
}

/// The L-infinity kernel picks the same index as the CPU at every awkward
/// length: with ties (the lowest index wins), with counts whose products
/// need all 128 bits, and with the winner in the last chunk.
#[test]
fn linf_kernel_matches_cpu() {
    let Some(b) = gpu_backend() else { return };
    let g = b.gpu().unwrap();
    let mut rng = Rng::new(77);
    for n in lengths() {
        for case in 0..4 {
            let mut a: Vec<u64> = Vec::with_capacity(n);
            let mut b: Vec<u64> = Vec::with_capacity(n);
            for i in 0..n {
                let (x, y) = match case {
                    // Small counts: many exact ties.
                    0 => (rng.below(4), rng.below(4)),
                    // Equal shares everywhere but one place near the end.
                    1 => {
                        let v = if i + 3 == n { 9 } else { 5 };
                        (v, 5)
                    }
                    // Huge counts: a·Q needs 128 bits.
                    2 => (u64::MAX - rng.below(1000), rng.u64() >> 1),
                    _ => (rng.u64() >> rng.below(64), rng.u64() >> rng.below(64)),
                };
                a.push(x);
                b.push(y);
            }
            let (p, q) = match case {
                2 => (u64::MAX, u64::MAX - 7),
                _ => (
                    a.iter().fold(1u64, |s, &x| s.saturating_add(x)),
                    b.iter().fold(1u64, |s, &x| s.saturating_add(x)),
                ),
            };
            let want = skewer::compare::distance::linf_argmax(&a, &b, p, q).map(|(i, _)| i);
            let got = g.linf_argmax(&a, &b, p, q).unwrap();
            assert_eq!(got, want, "n = {n}, case {case}");
            if n > 0 {
                assert!(got.is_some(), "the kernel found nothing in {n} counts");
            }
        }
    }
}

/// `compare` with the GPU's L-infinity kernel gives the CPU's comparison,
/// bit for bit, and says where it ran.
#[test]
fn compare_on_gpu_equals_cpu() {
    let Some(gpu) = gpu_backend() else { return };
    use skewer::compare::{compare, CompareOptions};
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (src, o) = opts(512, 1 << 30);
    let a = profile_files(&[ex.join("train.parquet")], &src, &o).unwrap();
    let b = profile_files(&[ex.join("serve.parquet")], &src, &o).unwrap();
    let copts = CompareOptions::default();
    let on_cpu = compare(&a, &b, &copts, &Backend::Cpu).unwrap();
    let mut on_gpu = compare(&a, &b, &copts, &gpu).unwrap();
    assert!(on_gpu.features.iter().all(|f| f.computed_on == "gpu"));
    assert!(on_gpu
        .features
        .iter()
        .any(|f| f.metrics.linf.unwrap_or(0.0) > 0.0));
    for f in &mut on_gpu.features {
        f.computed_on = "cpu".into();
    }
    assert_eq!(on_gpu, on_cpu);
}

/// Dictionary codes and booleans counted on the GPU equal the CPU's counts:
/// lengths around the workgroup and chunk sizes, nulls, sliced arrays (a
/// bitmap offset that is not a multiple of 32), small and large dictionaries.
#[test]
fn categorical_counts_match_the_cpu() {
    use arrow::array::{Array, BooleanArray, DictionaryArray, Int32Array, StringArray};
    use skewer::profile::categorical::CatAcc;
    let Some(b) = gpu_backend() else { return };
    let g = b.gpu().unwrap();
    let mut rng = Rng::new(5);
    // A range wider than a device dictionary is left to the CPU.
    let wide = arrow::array::Int64Array::from(vec![0, 1 << 40]);
    let mut acc = CatAcc::new(wide.data_type(), 100);
    assert!(!g.count_categorical(&mut acc, &wide).unwrap());
    let mut lens = lengths();
    lens.extend([31, 32, 33, 2 * GPU_CHUNK + 7, 70_000]);
    for n in lens {
        for (k, nulls) in [(5usize, 0.0), (5000, 0.2), (1, 0.5)] {
            let dict_values: StringArray = (0..k).map(|i| Some(format!("v{i}"))).collect();
            let keys: Int32Array = (0..n + 5)
                .map(|_| (!rng.chance(nulls)).then(|| rng.below(k as u64) as i32))
                .collect();
            let whole = DictionaryArray::try_new(keys, Arc::new(dict_values)).unwrap();
            let bools: BooleanArray = (0..n + 5)
                .map(|_| (!rng.chance(nulls)).then(|| rng.chance(0.3)))
                .collect();
            // Integers marked categorical: codes when non-negative and
            // small (zero-copy), else v − min.
            let small: arrow::array::Int32Array = (0..n + 5)
                .map(|_| (!rng.chance(nulls)).then(|| rng.below(k as u64) as i32))
                .collect();
            let shifted: arrow::array::Int64Array = (0..n + 5)
                .map(|_| (!rng.chance(nulls)).then(|| rng.below(k as u64) as i64 - 1_000_000_007))
                .collect();
            for (off, len) in [(0usize, n), (3, n), (5, n)] {
                let d = whole.slice(off, len);
                let b = bools.slice(off, len);
                let si = small.slice(off, len);
                let sh = shifted.slice(off, len);
                for a in [
                    &d as &dyn Array,
                    &b as &dyn Array,
                    &si as &dyn Array,
                    &sh as &dyn Array,
                ] {
                    let mut cpu = CatAcc::new(a.data_type(), 1 << 20);
                    cpu.update(a).unwrap();
                    let mut dev = CatAcc::new(a.data_type(), 1 << 20);
                    assert!(
                        g.count_categorical(&mut dev, a).unwrap(),
                        "not counted on the GPU"
                    );
                    let what = format!("{} n={n} k={k} offset={off}", a.data_type());
                    assert_eq!(dev.present(), cpu.present(), "{what}");
                    assert_eq!(dev.finish(10), cpu.finish(10), "{what}");
                    if a.len() > a.null_count() {
                        assert!(
                            !dev.finish(1).value_counts.is_empty(),
                            "{what}: counted nothing"
                        );
                    }
                }
            }
        }
    }
}

/// An adapter without SHADER_F64/SHADER_INT64: numeric columns fall back to
/// the CPU, one column at a time, and say so; dictionaries and booleans
/// still count on the GPU; the statistics are the CPU's.
#[test]
fn numeric_columns_fall_back_to_the_cpu_without_f64() {
    if gpu_backend().is_none() {
        return;
    }
    let backend = open_gpu(GpuOptions {
        chunk: Some(GPU_CHUNK),
        without_f64_int64: true,
    });
    assert!(!backend.gpu().unwrap().numeric_supported());
    let dir = tmp();
    let batch = all_types_batch(7, 3 * GPU_CHUNK + 5);
    let p = profile_batch(
        dir.path(),
        &batch,
        1 << 30,
        &[Backend::cpu(), backend.clone()],
    );
    assert_parity_on(&p[0], &p[1], "without f64", false);
    // compare's L-infinity falls back too.
    assert_eq!(backend.linf_placement().label(), "cpu");
}

/// Pass two over chunks kept on the device, over re-read chunks, and with a
/// budget that keeps some leaves and spills others mid-run, gives the same
/// profile as the CPU (at the same budget); the kept path uploads each
/// value once.
#[test]
fn pass_two_on_the_device_and_by_rereading() {
    if gpu_backend().is_none() {
        return;
    }
    let dir = tmp();
    let batch = all_types_batch(9, 3 * GPU_CHUNK + 5);
    let mut uploaded = Vec::new();
    // 100 KB holds about three chunks of 4096 values: the first leaves stay
    // on the device, later ones spill part-way.
    for budget in [1u64 << 30, 0, 100_000] {
        let backend = open_gpu(GpuOptions {
            chunk: Some(GPU_CHUNK),
            ..Default::default()
        });
        let p = profile_batch(
            dir.path(),
            &batch,
            budget,
            &[Backend::cpu(), backend.clone()],
        );
        assert_eq!(p[1].passes, 2);
        assert_parity(&p[0], &p[1], &format!("budget {budget}"));
        let t = &backend.gpu().unwrap().times;
        uploaded.push(t.upload_bytes.load(std::sync::atomic::Ordering::Relaxed));
    }
    assert!(
        uploaded[0] < uploaded[1],
        "kept on the device: {} bytes uploaded, re-read: {}",
        uploaded[0],
        uploaded[1]
    );
}

/// Integer columns marked categorical count on the GPU (their ranges are
/// small) and give the CPU's profile.
#[test]
fn integer_categorical_profile_on_gpu() {
    let Some(gpu) = gpu_backend() else { return };
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/train.parquet");
    let (src, mut cpu_opts) = opts(512, 1 << 30);
    cpu_opts.categorical = vec!["i_small_cat".into(), "i_count".into()];
    let gpu_opts = ProfileOptions {
        backend: gpu.clone(),
        ..cpu_opts.clone()
    };
    let c = profile_files(std::slice::from_ref(&ex), &src, &cpu_opts).unwrap();
    let mut g = profile_files(std::slice::from_ref(&ex), &src, &gpu_opts).unwrap();
    for name in ["i_small_cat", "i_count"] {
        let f = g.features.iter().find(|f| f.name == name).unwrap();
        assert_eq!(f.computed_on, "gpu", "{name}");
        assert!(f.categorical.is_some(), "{name}");
    }
    for f in g.features.iter_mut() {
        f.computed_on = "cpu".into();
    }
    g.backend = c.backend.clone();
    crate::formats::assert_same_stats(&c, &g, "integer categorical");
}

/// Threads sharing one context submit their chunks while others wait for
/// results (the lock is not held across the device's work); each thread's
/// state still equals the CPU's, and does not depend on the interleaving.
#[test]
fn threads_share_the_device_without_mixing_results() {
    let Some(b) = gpu_backend() else { return };
    let gpu = b.gpu().unwrap();
    let mut rng = Rng::new(8);
    let inputs: Vec<Vec<u64>> = (0..6)
        .map(|t| {
            let a = awkward_f64(&mut rng, 3 * GPU_CHUNK + 5 + t * 77, 0.0);
            a.values().iter().map(|v| v.to_bits()).collect()
        })
        .collect();
    let results: Vec<NumericAcc> = std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|raw| {
                s.spawn(move || {
                    let mut acc = NumericAcc::new(Domain::Float);
                    gpu.numeric_pass1_raw(&mut acc, raw, None).unwrap();
                    acc
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (raw, g) in inputs.iter().zip(&results) {
        let arr = arrow::array::Float64Array::from(
            raw.iter().map(|&b| f64::from_bits(b)).collect::<Vec<_>>(),
        );
        let mut cpu = NumericAcc::new(Domain::Float);
        cpu.update(&arr, &mut Scratch::default()).unwrap();
        assert_eq!(g.class, cpu.class);
        assert_eq!(g.sketch, cpu.sketch);
        assert_eq!(g.moments.n, cpu.moments.n);
        assert!(g.sketch.total() > 0);
    }
}

/// Integers near ±2^63 and 2^64: the GPU's shifted moments are as exact as
/// the CPU's (before the shift, a variance of 83,333.25 came out 261,993).
#[test]
fn moments_of_64_bit_integers_near_their_ends_are_exact() {
    let Some(gpu) = gpu_backend() else { return };
    let (batch, want) = crate::reliability::int_extremes();
    let dir = tmp();
    let p = profile_batch(dir.path(), &batch, 1 << 30, &[Backend::cpu(), gpu]);
    assert_eq!(feature(&p[1], "top").computed_on, "gpu");
    for prof in &p {
        crate::reliability::assert_exact_int_moments(prof, &want);
    }
}
