//! The fuzz targets (skewer::fuzz), bounded: every seed of `fuzz/corpus`
//! and every reproducer of `fuzz/regressions` once, then seeded mutations of
//! the seeds (byte flips, interesting values, truncations, insertions,
//! duplicated and deleted ranges), each under a deadline. A panic that
//! escapes skewer, an invariant the target checks, or an input that runs
//! past the deadline fails the test and leaves the input in the temp folder.
//!
//! The seeds are written by the ignored test `write_seed_corpus`
//! (`cargo test --test it write_seed_corpus -- --ignored`); the coverage-guided
//! long runs are in docs/fuzzing.md.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use skewer::fuzz::{run, Target};

use crate::common::{all_types_batch, write_csv, write_ipc_file, write_ipc_stream, Rng};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Mutations per seed in the bounded run (SKEWER_FUZZ_MUTATIONS overrides).
fn mutations() -> usize {
    std::env::var("SKEWER_FUZZ_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// The longest one input may take (a hang is an input that runs past it).
const DEADLINE: Duration = Duration::from_secs(20);

/// Run one input on its own thread: Ok when accepted, the error the
/// command line would print when rejected. A panic that escapes, or no
/// answer by the deadline, fails the test with the input saved.
fn check(target: Target, data: Vec<u8>, what: &str) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let input = data.clone();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| run(target, &input).map_err(|e| e.to_string()));
        let _ = tx.send(r);
    });
    let save = |why: &str| -> ! {
        let p = std::env::temp_dir().join(format!(
            "skewer-fuzz-failure-{}-{}.bin",
            target.name(),
            std::process::id()
        ));
        std::fs::write(&p, &data).unwrap();
        panic!(
            "{}: {what}: {why}; input saved to {}",
            target.name(),
            p.display()
        );
    };
    match rx.recv_timeout(DEADLINE) {
        Ok(Ok(accepted)) => accepted,
        Ok(Err(_)) => save("a panic escaped skewer (or an invariant broke)"),
        Err(_) => save(&format!("no answer in {DEADLINE:?} (a hang)")),
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_file());
    v.sort();
    v
}

/// One seeded mutation of `data`, in the spirit of libFuzzer's mutators.
fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = d.len().max(1) as u64;
        let at = rng.below(len) as usize;
        match rng.below(7) {
            0 if !d.is_empty() => d[at] ^= 1 << rng.below(8),
            1 if !d.is_empty() => {
                const INTERESTING: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x10];
                d[at] = INTERESTING[rng.below(8) as usize];
            }
            2 if d.len() >= 4 => {
                // A 32-bit length or offset set to an extreme.
                let at = at.min(d.len() - 4);
                let v: u32 = [0, 1, u32::MAX, i32::MAX as u32, 0x8000_0000][rng.below(5) as usize];
                d[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            3 => d.truncate(at),
            4 => {
                let n = 1 + rng.below(16) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
                d.splice(at..at, bytes);
            }
            5 if !d.is_empty() => {
                let end = (at + 1 + rng.below(64) as usize).min(d.len());
                d.drain(at..end);
            }
            _ if !d.is_empty() => {
                let end = (at + 1 + rng.below(64) as usize).min(d.len());
                let chunk = d[at..end].to_vec();
                let to = rng.below(d.len() as u64) as usize;
                d.splice(to..to, chunk);
            }
            _ => d.push(rng.below(256) as u8),
        }
    }
    d
}

/// For the JSON targets: leaves of the document replaced by extreme or
/// ill-typed values (byte mutations of JSON mostly break its syntax).
fn mutate_json(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    use serde_json::{json, Value};
    let Ok(mut v) = serde_json::from_slice::<Value>(data) else {
        return mutate(rng, data);
    };
    fn count(v: &Value) -> u64 {
        match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(o) => o.values().map(count).sum(),
            _ => 1,
        }
    }
    /// Replace the `n`-th leaf (depth first); false when there are fewer.
    fn replace(v: &mut Value, n: &mut u64, new: &Value) -> bool {
        match v {
            Value::Array(a) => a.iter_mut().any(|x| replace(x, n, new)),
            Value::Object(o) => o.values_mut().any(|x| replace(x, n, new)),
            _ if *n == 0 => {
                *v = new.clone();
                true
            }
            _ => {
                *n -= 1;
                false
            }
        }
    }
    let extremes = [
        json!(0),
        json!(-1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(-5e-324),
        Value::Null,
        json!(""),
        json!([]),
        json!(0.5),
    ];
    for _ in 0..1 + rng.below(3) {
        let leaves = count(&v);
        let mut n = rng.below(leaves.max(1));
        let new = &extremes[rng.below(extremes.len() as u64) as usize];
        replace(&mut v, &mut n, new);
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

#[test]
fn fuzz_targets_survive_seeds_reproducers_and_mutations() {
    let per_seed = mutations();
    let mut total = 0usize;
    for target in Target::ALL {
        let seeds = files_in(&fuzz_dir().join("corpus").join(target.name()));
        let seeds: Vec<PathBuf> = seeds
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
            })
            .collect();
        assert!(
            seeds.len() >= 3,
            "{}: the seed corpus is missing (run write_seed_corpus)",
            target.name()
        );
        // Every seed is a valid input: the target must accept it.
        for s in &seeds {
            let data = std::fs::read(s).unwrap();
            if let Err(e) = check(target, data, &s.display().to_string()) {
                panic!(
                    "{}: the seed {} was rejected: {e}",
                    target.name(),
                    s.display()
                );
            }
        }
        for r in files_in(&fuzz_dir().join("regressions").join(target.name())) {
            let _ = check(target, std::fs::read(&r).unwrap(), &r.display().to_string());
            total += 1;
        }
        let mut rng = Rng::new(0x5eed ^ target as u64);
        let mut accepted = 0;
        for s in &seeds {
            let data = std::fs::read(s).unwrap();
            let json = matches!(target, Target::ProfileJson | Target::SchemaJson);
            for i in 0..per_seed {
                let m = if json && i % 2 == 0 {
                    mutate_json(&mut rng, &data)
                } else {
                    mutate(&mut rng, &data)
                };
                accepted +=
                    check(target, m, &format!("mutation {i} of {}", s.display())).is_ok() as usize;
                total += 1;
            }
        }
        // Some mutations must get past the formats' first checks (else
        // this exercised nothing but them).
        assert!(accepted > 0, "{}: no mutation was accepted", target.name());
        eprintln!(
            "{}: {} seeds, {} mutations, {accepted} accepted",
            target.name(),
            seeds.len(),
            seeds.len() * per_seed
        );
    }
    eprintln!("{total} inputs in all");
}

/// Every regression reproducer (a corrupt file that made a dependency
/// panic, or skewer misbehave) is an error for people: the file named, no
/// Debug dump, never a profile.
#[test]
fn regression_reproducers_are_clear_errors() {
    let mut n = 0;
    for target in Target::ALL {
        for r in files_in(&fuzz_dir().join("regressions").join(target.name())) {
            let data = std::fs::read(&r).unwrap();
            let e = match std::panic::catch_unwind(|| run(target, &data)) {
                Ok(Err(e)) => e.to_string(),
                Ok(Ok(())) => panic!("{}: accepted", r.display()),
                Err(_) => panic!("{}: a panic escaped", r.display()),
            };
            let name = match target {
                Target::ProfileJson => "fuzz.json",
                Target::SchemaJson => "fuzz-schema.json",
                _ => "skewer-fuzz-",
            };
            assert!(
                e.contains(name),
                "{}: the file is not named: {e}",
                r.display()
            );
            assert!(!e.contains(" { "), "{}: a Debug dump: {e}", r.display());
            n += 1;
        }
    }
    assert!(n >= 8, "only {n} reproducers");
}

// ---- the seed corpus ----

fn parquet_bytes(batches: &[RecordBatch], props: WriterProperties) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(&mut out, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
    out
}

/// The bytes a file writer of the test helpers writes.
fn bytes_of(write: impl FnOnce(&Path)) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    write(&p);
    std::fs::read(&p).unwrap()
}

fn ipc_file_bytes(batches: &[RecordBatch]) -> Vec<u8> {
    bytes_of(|p| write_ipc_file(p, batches))
}

fn ipc_stream_bytes(batches: &[RecordBatch]) -> Vec<u8> {
    bytes_of(|p| write_ipc_stream(p, batches))
}

fn csv_bytes(batch: &RecordBatch) -> Vec<u8> {
    bytes_of(|p| write_csv(p, std::slice::from_ref(batch)))
}

/// The all-types batch without its struct column (which skewer skips).
fn small_batch(seed: u64, n: usize) -> RecordBatch {
    let b = all_types_batch(seed, n);
    let keep: Vec<usize> = (0..b.num_columns())
        .filter(|&i| !matches!(b.schema().field(i).data_type(), DataType::Struct(_)))
        .collect();
    b.project(&keep).unwrap()
}

/// Columns for the encodings a Parquet writer picks by itself only for
/// some data: delta binary packed, delta byte arrays, byte stream split.
fn encoding_batch(n: usize) -> RecordBatch {
    let mut rng = Rng::new(11);
    let ints: Int64Array = (0..n)
        .map(|i| Some(i as i64 * 3 - (rng.below(5) as i64)))
        .collect();
    let strs: StringArray = (0..n)
        .map(|i| Some(format!("prefix-{:04}", i * 7 % 50)))
        .collect();
    let floats: Float64Array = (0..n).map(|_| Some(rng.normal())).collect();
    let bin: BinaryArray = (0..n)
        .map(|i| Some(vec![0xffu8, (i % 7) as u8, 0xc3][..1 + i % 3].to_vec()))
        .collect::<Vec<Option<Vec<u8>>>>()
        .iter()
        .map(|v| v.as_deref())
        .collect();
    RecordBatch::try_from_iter(vec![
        ("delta_int", std::sync::Arc::new(ints) as ArrayRef),
        ("delta_str", std::sync::Arc::new(strs) as ArrayRef),
        ("split_float", std::sync::Arc::new(floats) as ArrayRef),
        ("non_utf8", std::sync::Arc::new(bin) as ArrayRef),
    ])
    .unwrap()
}

fn seeds() -> Vec<(Target, String, Vec<u8>)> {
    let mut out = Vec::new();
    let a = small_batch(1, 60);
    let b = small_batch(2, 45);
    let base = || {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(40))
            .set_data_page_row_count_limit(16)
            .set_write_batch_size(16)
    };
    for (name, c) in [
        ("uncompressed", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(Default::default())),
        ("brotli", Compression::BROTLI(Default::default())),
        ("lz4", Compression::LZ4),
        ("lz4raw", Compression::LZ4_RAW),
        ("zstd", Compression::ZSTD(Default::default())),
    ] {
        out.push((
            Target::Parquet,
            format!("seed-{name}.parquet"),
            parquet_bytes(&[a.clone(), b.clone()], base().set_compression(c).build()),
        ));
    }
    out.push((
        Target::Parquet,
        "seed-v2-pages-no-dictionary.parquet".into(),
        parquet_bytes(
            std::slice::from_ref(&a),
            base()
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_dictionary_enabled(false)
                .set_statistics_enabled(EnabledStatistics::Page)
                .build(),
        ),
    ));
    let e = encoding_batch(50);
    out.push((
        Target::Parquet,
        "seed-delta-and-split.parquet".into(),
        parquet_bytes(
            std::slice::from_ref(&e),
            base()
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_dictionary_enabled(false)
                .set_column_encoding("delta_int".into(), Encoding::DELTA_BINARY_PACKED)
                .set_column_encoding("delta_str".into(), Encoding::DELTA_BYTE_ARRAY)
                .set_column_encoding("split_float".into(), Encoding::BYTE_STREAM_SPLIT)
                .set_column_encoding("non_utf8".into(), Encoding::DELTA_LENGTH_BYTE_ARRAY)
                .build(),
        ),
    ));
    out.push((
        Target::ArrowFile,
        "seed-all-types.arrow".into(),
        ipc_file_bytes(&[a.slice(0, 30), a.slice(30, 30)]),
    ));
    out.push((
        Target::ArrowFile,
        "seed-encodings.arrow".into(),
        ipc_file_bytes(std::slice::from_ref(&e)),
    ));
    out.push((
        Target::ArrowFile,
        "seed-one-row.arrow".into(),
        ipc_file_bytes(&[a.slice(0, 1)]),
    ));
    out.push((
        Target::ArrowStream,
        "seed-all-types.arrows".into(),
        ipc_stream_bytes(&[a.clone(), b.clone()]),
    ));
    out.push((
        Target::ArrowStream,
        "seed-encodings.arrows".into(),
        ipc_stream_bytes(std::slice::from_ref(&e)),
    ));
    out.push((
        Target::ArrowStream,
        "seed-one-row.arrows".into(),
        ipc_stream_bytes(&[a.slice(0, 1)]),
    ));
    // CSV: only flat columns.
    let flat: Vec<usize> = (0..a.num_columns())
        .filter(|&i| {
            !matches!(
                a.schema().field(i).data_type(),
                DataType::List(_)
                    | DataType::LargeList(_)
                    | DataType::Dictionary(_, _)
                    | DataType::Binary
                    | DataType::LargeBinary
                    | DataType::Timestamp(_, Some(_))
            )
        })
        .collect();
    out.push((
        Target::Csv,
        "seed-all-types.csv".into(),
        csv_bytes(&a.project(&flat).unwrap()),
    ));
    out.push((
        Target::Csv,
        "seed-quoted.csv".into(),
        b"id,name,score,when\n1,\"a, b\",0.5,2024-01-01\n2,\"say \"\"hi\"\"\",,2024-01-02\n3,,-1e300,\n4,\xc3\xa9t\xc3\xa9,NaN,2024-02-29\n".to_vec(),
    ));
    out.push((
        Target::Csv,
        "seed-ints.csv".into(),
        b"a,b\n9223372036854775807,-9223372036854775808\n0,1\n,\n".to_vec(),
    ));
    // Profiles: of a Parquet seed (every kind of feature), of binaries that
    // are not UTF-8, and a merge (estimated quantiles).
    let dir = tempfile::tempdir().unwrap();
    let prof = |name: &str, bytes: &[u8]| -> skewer::profile::DatasetProfile {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        // A coarse sketch keeps the seeds small (the fuzzer mutates every byte).
        let mut o = skewer::engine::ProfileOptions::default();
        o.stats.sketch_bits = 5;
        let mut prof = crate::common::profile_files(&[p], &Default::default(), &o).unwrap();
        // The same seeds on every machine.
        prof.sources = vec![name.into()];
        prof.backend.device = "cpu".into();
        prof
    };
    let pa = prof("a.parquet", &out[0].2);
    let pe = prof("e.arrow", &ipc_file_bytes(std::slice::from_ref(&e)));
    let merged = skewer::profile::merge::merge_profiles(vec![
        ("1".into(), pa.clone()),
        ("2".into(), pa.clone()),
    ])
    .unwrap();
    for (name, p) in [("all-types", &pa), ("non-utf8", &pe), ("merged", &merged)] {
        out.push((
            Target::ProfileJson,
            format!("seed-{name}.json"),
            skewer::to_json(p).unwrap().into_bytes(),
        ));
    }
    // Schemas inferred from the profile the schema target validates against,
    // with and without bounds and domains.
    for (name, o) in [
        ("default", skewer::schema::InferOptions::default()),
        (
            "bounds",
            skewer::schema::InferOptions {
                bounds: true,
                num_examples: true,
                ..Default::default()
            },
        ),
        (
            "no-domains",
            skewer::schema::InferOptions {
                max_domain_size: 0,
                ..Default::default()
            },
        ),
    ] {
        let s = skewer::schema::infer(skewer::fuzz::reference_profile(), &o);
        out.push((
            Target::SchemaJson,
            format!("seed-{name}.json"),
            skewer::to_json(&s).unwrap().into_bytes(),
        ));
    }
    out
}

/// Write the seed corpus under fuzz/corpus (run by hand when the seeds change).
#[test]
#[ignore]
fn write_seed_corpus() {
    for (target, name, bytes) in seeds() {
        let dir = fuzz_dir().join("corpus").join(target.name());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
