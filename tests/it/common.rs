//! Seeded data, file writers and profile helpers shared by the tests.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use skewer::backend::gpu::{Gpu, GpuOptions, Want};
use skewer::backend::Backend;
use skewer::engine::{self, NoProgress, ProfileOptions};
use skewer::profile::{DatasetProfile, FeatureProfile};
use skewer::source::{Dataset, SourceOptions};

/// SplitMix64: a tiny seeded generator, so tests need no RNG crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d)
    }
    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.u64() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.f64().max(1e-300);
        let v = self.f64();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Floats with every awkward value mixed in: NaN, ±inf, -0.0, subnormals,
/// extremes, a large offset, ties; nulls at rate `null_rate`.
pub fn awkward_f64(rng: &mut Rng, n: usize, null_rate: f64) -> Float64Array {
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        5e-324,
        -2.2e-310,
        f64::MIN_POSITIVE,
        1.0,
    ];
    (0..n)
        .map(|_| {
            if rng.chance(null_rate) {
                None
            } else if rng.chance(0.05) {
                Some(specials[rng.below(specials.len() as u64) as usize])
            } else if rng.chance(0.3) {
                Some(1.7e9 + rng.normal())
            } else if rng.chance(0.2) {
                Some((rng.below(7) as f64) * 0.5) // ties
            } else {
                Some(rng.normal() * 100.0)
            }
        })
        .collect()
}

pub fn awkward_i64(rng: &mut Rng, n: usize, null_rate: f64) -> Int64Array {
    let specials = [i64::MIN, i64::MAX, 0, -1, 1, (1 << 62) + 1, -(1 << 53) - 1];
    (0..n)
        .map(|_| {
            if rng.chance(null_rate) {
                None
            } else if rng.chance(0.05) {
                Some(specials[rng.below(specials.len() as u64) as usize])
            } else if rng.chance(0.5) {
                Some(rng.below(20) as i64 - 10)
            } else {
                Some(rng.u64() as i64 >> rng.below(64))
            }
        })
        .collect()
}

pub fn awkward_u64(rng: &mut Rng, n: usize, null_rate: f64) -> UInt64Array {
    (0..n)
        .map(|_| {
            if rng.chance(null_rate) {
                None
            } else if rng.chance(0.05) {
                Some([0, u64::MAX, u64::MAX - 1, 1 << 63][rng.below(4) as usize])
            } else {
                Some(rng.u64() >> rng.below(64))
            }
        })
        .collect()
}

pub fn strings(rng: &mut Rng, n: usize, distinct: u64, null_rate: f64) -> StringArray {
    (0..n)
        .map(|_| {
            if rng.chance(null_rate) {
                None
            } else {
                // Zipf-ish: small ids far more often.
                let k = rng.below(distinct.max(1));
                let k = k * rng.below(distinct.max(1)) / distinct.max(1);
                Some(format!("v{k}{}", "x".repeat((k % 5) as usize)))
            }
        })
        .collect()
}

/// A batch holding every supported type, plus a struct column to be skipped.
pub fn all_types_batch(seed: u64, n: usize) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let f = awkward_f64(&mut rng, n, 0.1);
    let i = awkward_i64(&mut rng, n, 0.1);
    let u = awkward_u64(&mut rng, n, 0.1);
    let small: Vec<Option<i64>> = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| rng.below(100) as i64 - 50))
        .collect();
    let s = strings(&mut rng, n, 50, 0.1);
    let bools: BooleanArray = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| rng.chance(0.3)))
        .collect();
    let ts: Vec<Option<i64>> = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| 1_700_000_000_000_000_000 + rng.below(1 << 40) as i64))
        .collect();
    let days: Vec<Option<i32>> = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| 19000 + rng.below(400) as i32))
        .collect();
    let dict: DictionaryArray<Int32Type> = (0..n)
        .map(|_| {
            (!rng.chance(0.1)).then(|| ["red", "green", "blue", "teal"][rng.below(4) as usize])
        })
        .collect();
    let f32s: Float32Array = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| rng.normal() as f32))
        .collect();
    let f16s: Float16Array = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| half::f16::from_f64(rng.normal())))
        .collect();
    let dec: Decimal128Array = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| rng.below(1_000_000) as i128 - 500_000))
        .collect::<Decimal128Array>()
        .with_precision_and_scale(12, 2)
        .unwrap();
    let bin: BinaryArray = (0..n)
        .map(|_| {
            (!rng.chance(0.1)).then(|| {
                if rng.chance(0.1) {
                    vec![0xff, 0xfe, rng.below(3) as u8]
                } else {
                    format!("b{}", rng.below(9)).into_bytes()
                }
            })
        })
        .collect::<Vec<_>>()
        .iter()
        .map(|o| o.as_deref())
        .collect();
    let mut lb = ListBuilder::new(Int64Builder::new());
    for _ in 0..n {
        if rng.chance(0.1) {
            lb.append(false);
        } else {
            for _ in 0..rng.below(4) {
                if rng.chance(0.05) {
                    lb.values().append_null();
                } else {
                    lb.values().append_value(rng.below(1000) as i64);
                }
            }
            lb.append(true);
        }
    }
    let list = lb.finish();
    let mut sl = LargeListBuilder::new(StringBuilder::new());
    for _ in 0..n {
        for _ in 0..rng.below(3) {
            sl.values()
                .append_value(["a", "b", "c"][rng.below(3) as usize]);
        }
        sl.append(true);
    }
    let slist = sl.finish();
    let structs = StructArray::from(vec![(
        Arc::new(Field::new("a", DataType::Int32, true)),
        Arc::new(Int32Array::from((0..n as i32).collect::<Vec<_>>())) as ArrayRef,
    )]);
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("f64", Arc::new(f)),
        ("i64", Arc::new(i)),
        ("u64", Arc::new(u)),
        (
            "i8",
            Arc::new(Int8Array::from_iter(
                small.iter().map(|v| v.map(|x| x as i8)),
            )),
        ),
        (
            "i16",
            Arc::new(Int16Array::from_iter(
                small.iter().map(|v| v.map(|x| x as i16 * 300)),
            )),
        ),
        (
            "i32",
            Arc::new(Int32Array::from_iter(
                small.iter().map(|v| v.map(|x| x as i32 * 70000)),
            )),
        ),
        (
            "u8",
            Arc::new(UInt8Array::from_iter(
                small.iter().map(|v| v.map(|x| (x + 50) as u8)),
            )),
        ),
        (
            "u16",
            Arc::new(UInt16Array::from_iter(
                small.iter().map(|v| v.map(|x| (x + 50) as u16 * 600)),
            )),
        ),
        (
            "u32",
            Arc::new(UInt32Array::from_iter(
                small
                    .iter()
                    .map(|v| v.map(|x| (x + 50) as u32 * 40_000_000)),
            )),
        ),
        ("f32", Arc::new(f32s)),
        ("f16", Arc::new(f16s)),
        ("dec", Arc::new(dec)),
        ("flag", Arc::new(bools)),
        ("s", Arc::new(s.clone())),
        ("ls", Arc::new(LargeStringArray::from_iter(s.iter()))),
        ("sv", Arc::new(StringViewArray::from_iter(s.iter()))),
        ("bin", Arc::new(bin)),
        ("dict", Arc::new(dict)),
        ("d32", Arc::new(Date32Array::from(days.clone()))),
        (
            "d64",
            Arc::new(Date64Array::from_iter(
                days.iter().map(|d| d.map(|x| x as i64 * 86_400_000)),
            )),
        ),
        (
            "ts_s",
            Arc::new(TimestampSecondArray::from_iter(
                ts.iter().map(|t| t.map(|x| x / 1_000_000_000)),
            )),
        ),
        (
            "ts_ms",
            Arc::new(
                TimestampMillisecondArray::from_iter(ts.iter().map(|t| t.map(|x| x / 1_000_000)))
                    .with_timezone("UTC"),
            ),
        ),
        (
            "ts_us",
            Arc::new(TimestampMicrosecondArray::from_iter(
                ts.iter().map(|t| t.map(|x| x / 1000)),
            )),
        ),
        (
            "ts_ns",
            Arc::new(TimestampNanosecondArray::from(ts.clone())),
        ),
        ("list_i64", Arc::new(list)),
        ("llist_s", Arc::new(slist)),
        (
            "constant",
            Arc::new(Float64Array::from(vec![Some(42.5); n])),
        ),
        (
            "f_ext",
            Arc::new(Float64Array::from_iter((0..n).map(|i| match i % 5 {
                0 => Some(f64::MAX),
                1 => Some(f64::MIN),
                2 => None,
                3 => Some(-0.0),
                _ => Some(i as f64),
            }))),
        ),
        (
            "all_null",
            Arc::new(Float64Array::from(vec![None::<f64>; n])),
        ),
        ("st", Arc::new(structs)),
    ];
    RecordBatch::try_from_iter(cols).unwrap()
}

/// Write batches as Parquet with the given compression and row-group size.
pub fn write_parquet(
    path: &Path,
    batches: &[RecordBatch],
    compression: parquet::basic::Compression,
    rg_rows: usize,
) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(rg_rows))
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

pub fn write_ipc_file(path: &Path, batches: &[RecordBatch]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = arrow::ipc::writer::FileWriter::try_new(f, &batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
}

pub fn write_ipc_stream(path: &Path, batches: &[RecordBatch]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = arrow::ipc::writer::StreamWriter::try_new(f, &batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
}

pub fn write_csv(path: &Path, batches: &[RecordBatch]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(f);
    for b in batches {
        w.write(b).unwrap();
    }
}

/// Values per GPU dispatch in the tests: small, so that test data spans
/// many chunks and workgroups.
pub const GPU_CHUNK: usize = 4096;

/// The GPU backend the tests share (chunks of [`GPU_CHUNK`]), or None
/// without an adapter: the tests that need it skip with a notice, unless
/// SKEWER_REQUIRE_GPU=1 (as in CI, on Mesa's lavapipe), where they fail.
pub fn gpu_backend() -> Option<Arc<Backend>> {
    static GPU: OnceLock<Option<Arc<Backend>>> = OnceLock::new();
    GPU.get_or_init(|| {
        // As the binary does: keeps libwayland's probe quiet.
        skewer::backend::gpu::quiet_display_probe();
        let o = GpuOptions {
            chunk: Some(GPU_CHUNK),
            ..Default::default()
        };
        match Gpu::open(Want::Any, None, &o).expect("opening the GPU adapter failed") {
            Some(g) => {
                eprintln!("GPU tests on {} ({})", g.desc.name, g.desc.driver);
                Some(Arc::new(Backend::from(g)))
            }
            None if std::env::var("SKEWER_REQUIRE_GPU").as_deref() == Ok("1") => {
                panic!("SKEWER_REQUIRE_GPU=1 but no GPU adapter was found (install mesa-vulkan-drivers)")
            }
            None => {
                eprintln!("NOTICE: no GPU adapter; GPU tests skipped (set SKEWER_REQUIRE_GPU=1 to fail instead)");
                None
            }
        }
    })
    .clone()
}

/// Every backend this machine has: the CPU, and the GPU where an adapter
/// exists. Suites that must hold on every backend loop over these.
pub fn backends() -> Vec<Arc<Backend>> {
    std::iter::once(Backend::cpu())
        .chain(gpu_backend())
        .collect()
}

/// Small batches and a small memory budget make tests cross every merge.
pub fn opts(batch_size: usize, budget: u64) -> (SourceOptions, ProfileOptions) {
    let src = SourceOptions {
        batch_size,
        ..Default::default()
    };
    let p = ProfileOptions {
        memory_budget: budget,
        ..Default::default()
    };
    (src, p)
}

pub fn profile_files(
    paths: &[PathBuf],
    src: &SourceOptions,
    p: &ProfileOptions,
) -> skewer::Result<DatasetProfile> {
    let ds = Dataset::open(paths, src)?;
    engine::profile(&ds, p, &NoProgress)
}

pub fn feature<'a>(p: &'a DatasetProfile, name: &str) -> &'a FeatureProfile {
    p.features
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Run the `skewer` binary built for these tests.
pub fn skewer(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_skewer"))
        .args(args)
        .output()
        .expect("run skewer")
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `skewer ARGS` exits 2 with a message containing every one of `needles`,
/// and no panic.
pub fn fails_with(args: &[&str], needles: &[&str]) {
    let o = skewer(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {err:?} should mention {n:?}");
    }
}

/// A Python that imports `modules` (comma separated): $SKEWER_PYTHON, else
/// python3. None (`test` skips with a notice) unless
/// SKEWER_REQUIRE_PYTHON=1 (as in CI), where it fails.
pub fn python_with(modules: &str, test: &str) -> Option<String> {
    python_required(modules, test, "SKEWER_REQUIRE_PYTHON")
}

/// [`python_with`], failing instead of skipping when `require` is 1.
pub fn python_required(modules: &str, test: &str, require: &str) -> Option<String> {
    let py = std::env::var("SKEWER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    if std::env::var(require).as_deref() == Ok("1") {
        panic!("{require}=1 but {py} cannot import {modules}");
    }
    // Straight to the process's stderr: the harness captures eprintln! of
    // passing tests, and a skip must be seen in every run.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "NOTICE: {test} skipped: no Python that imports {modules} ({py}; set SKEWER_PYTHON, or {require}=1 to fail)"
    );
    None
}

const MOMENTS: [&str; 5] = ["mean", "variance", "std_dev", "skewness", "kurtosis"];

/// The profile as JSON with its moments taken out (name, statistic,
/// value; compared apart, to their bound), and the sources and backend
/// dropped.
type Moments = Vec<(String, &'static str, Option<f64>, f64)>;

pub fn without_moments(p: &DatasetProfile) -> (Value, Moments) {
    let mut v = serde_json::to_value(p).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("sources");
    o.remove("backend");
    let mut moments = Vec::new();
    // The whole's features, then each slice's (named "slice N: name").
    let mut slices = o.remove("slices");
    let mut lists: Vec<(String, &mut Value)> =
        vec![(String::new(), o.get_mut("features").unwrap())];
    if let Some(Value::Array(sl)) = slices.as_mut() {
        for (i, s) in sl.iter_mut().enumerate() {
            lists.push((format!("slice {i}: "), s.get_mut("features").unwrap()));
        }
    }
    for (at, f) in lists.into_iter().flat_map(|(at, l)| {
        l.as_array_mut()
            .unwrap()
            .iter_mut()
            .map(move |f| (at.clone(), f))
    }) {
        let name = format!("{at}{}", f["name"].as_str().unwrap());
        // Where a column ran depends on its Arrow form (a Parquet reader may
        // give dictionaries where the batches had strings): compared apart.
        f.as_object_mut().unwrap().remove("computed_on");
        let Some(n) = f.get_mut("numeric").and_then(Value::as_object_mut) else {
            continue;
        };
        let sd = n["std_dev"].as_f64().unwrap_or(0.0);
        for k in MOMENTS {
            moments.push((name.clone(), k, n.remove(k).unwrap().as_f64(), sd));
        }
        let m = n.remove("moments").unwrap();
        assert_eq!(m["n"], n["finite"]);
    }
    if let Some(sl) = slices {
        v.as_object_mut().unwrap().insert("slices".into(), sl);
    }
    (v, moments)
}

/// Where two JSON values first differ, with both sides.
pub fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            x.iter().find_map(|(k, v)| match y.get(k) {
                Some(w) => first_difference(v, w, format!("{at}.{k}")),
                None => Some(format!("{at}.{k}: only on the left")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => {
            let cut = |v: &Value| v.to_string().chars().take(300).collect::<String>();
            Some(format!("{at}: {} vs {}", cut(a), cut(b)))
        }
    }
}

/// Equal number for number but the moments, which agree within the bound
/// of docs/partial-states.md.
pub fn assert_same(a: &DatasetProfile, b: &DatasetProfile) {
    let (va, ma) = without_moments(a);
    let (vb, mb) = without_moments(b);
    if let Some(d) = first_difference(&va, &vb, String::new()) {
        panic!("the profiles differ at {d}");
    }
    assert_eq!(ma.len(), mb.len());
    for ((name, k, x, sd), (_, _, y, _)) in ma.iter().zip(&mb) {
        let (Some(x), Some(y)) = (x, y) else {
            assert_eq!(x, y, "{name}.{k}");
            continue;
        };
        let bound = match *k {
            "mean" => 1e-12 * x.abs().max(*sd),
            "variance" | "std_dev" => 1e-12 * x.abs(),
            _ => 1e-9,
        };
        assert!(
            (x - y).abs() <= bound || (x.is_nan() && y.is_nan()),
            "{name}.{k}: {x} vs {y}"
        );
    }
}

/// `b` with a column `ts` (timestamps in seconds, UTC) at random times of
/// the day starting at `day` (seconds since the epoch), drawn from `seed`.
pub fn on_day(b: &RecordBatch, day: i64, seed: u64) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let ts: TimestampSecondArray = (0..b.num_rows())
        .map(|_| Some(day + rng.below(86_400) as i64))
        .collect();
    let ts = ts.with_timezone("UTC");
    let mut fields: Vec<Arc<Field>> = b.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new("ts", ts.data_type().clone(), false)));
    let mut cols = b.columns().to_vec();
    cols.push(Arc::new(ts));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}
