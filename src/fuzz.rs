//! Fuzz targets: each feeds untrusted bytes through a parser the way the
//! command line does, and checks what must hold whatever the bytes are.
//!
//! A target may return an error (that is the right answer for most mutated
//! files) but must never panic, hang or abort, and what it accepts must be
//! consistent: every top-level column counts each row once (present or
//! missing), a profile survives its JSON round trip and a merge with itself,
//! and a dataset compared with itself has not drifted. A violation panics,
//! which the fuzzer reports as a crash.
//!
//! The same functions serve the coverage-guided fuzzer (`fuzz/`, libFuzzer
//! through cargo-fuzz; see docs/fuzzing.md) and the bounded, seeded run in
//! the tests (tests/it/fuzz.rs), so CI exercises exactly what the long runs
//! do.

use std::path::Path;

use crate::engine::{self, NoProgress, ProfileOptions};
use crate::error::{Error, Result};
use crate::profile::DatasetProfile;
use crate::source::{Dataset, Format, SourceOptions};

/// What a fuzz target parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Parquet,
    Csv,
    ArrowFile,
    ArrowStream,
    /// A profile JSON, as read by merge, compare, validate and schema infer.
    ProfileJson,
    /// A schema JSON, as read by validate.
    SchemaJson,
}

impl Target {
    pub const ALL: [Target; 6] = [
        Target::Parquet,
        Target::Csv,
        Target::ArrowFile,
        Target::ArrowStream,
        Target::ProfileJson,
        Target::SchemaJson,
    ];

    /// The name of the target (and of its corpus folder under `fuzz/corpus`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Parquet => "parquet",
            Target::Csv => "csv",
            Target::ArrowFile => "ipc_file",
            Target::ArrowStream => "ipc_stream",
            Target::ProfileJson => "profile_json",
            Target::SchemaJson => "schema_json",
        }
    }

    fn format(self) -> Option<Format> {
        match self {
            Target::Parquet => Some(Format::Parquet),
            Target::Csv => Some(Format::Csv),
            Target::ArrowFile => Some(Format::ArrowFile),
            Target::ArrowStream => Some(Format::ArrowStream),
            Target::ProfileJson | Target::SchemaJson => None,
        }
    }
}

/// Set-up of a fuzzing process: the panics skewer turns into errors (a
/// dependency's, on corrupt input) stay quiet, as in the `skewer` binary.
/// With `SKEWER_FUZZ_PANICS=1` the fuzzer's own hook stays, which aborts on
/// every panic, caught or not: that is how the dependencies' panic sites are
/// found and reported upstream.
pub fn init() {
    if std::env::var_os("SKEWER_FUZZ_PANICS").is_none() {
        // Drop the fuzzer's aborting hook first, so that the quiet hook
        // (which prints through the previous one under RUST_BACKTRACE)
        // never chains to it.
        drop(std::panic::take_hook());
        crate::error::quiet_panic_hook();
    }
}

/// Run one input through a target. Returns the error the command line would
/// have reported, if any; panics only when an invariant is broken.
pub fn run(target: Target, data: &[u8]) -> Result<()> {
    match target.format() {
        Some(format) => data_file(format, data),
        None if target == Target::ProfileJson => profile_json(data),
        None => schema_json(data),
    }
}

/// A data file: open, decode, then profile in two passes (small batches, a
/// small memory budget so both of pass two's paths run), round-trip and merge.
fn data_file(format: Format, data: &[u8]) -> Result<()> {
    let (tmp, mut f) = crate::files::TempFile::create_in_temp_dir("skewer-fuzz", "bin")
        .map_err(|e| Error::io("the fuzz input", e))?;
    std::io::Write::write_all(&mut f, data).map_err(|e| Error::io(tmp.path(), e))?;
    drop(f);
    let src = SourceOptions {
        format: Some(format),
        batch_size: 97,
        csv: crate::source::CsvOptions {
            infer_rows: 64,
            ..Default::default()
        },
        ..Default::default()
    };
    let ds = Dataset::open(&[tmp.path().to_path_buf()], &src)?;
    // Decode everything first (cheap; most mutants fail here) and profile
    // only what decodes: the fuzzer then spends its time on the readers.
    let all: Vec<usize> = (0..ds.schema().fields().len()).collect();
    for part in ds.partitions() {
        ds.read(&part, &all, |_, _| Ok(()))?;
    }
    let opts = ProfileOptions {
        memory_budget: 4096,
        ..Default::default()
    };
    let p = engine::profile(&ds, &opts, &NoProgress)?;
    for f in &p.features {
        assert_eq!(
            f.count + f.missing,
            p.num_rows,
            "column {:?}: {} present + {} missing rows of {}",
            f.name,
            f.count,
            f.missing,
            p.num_rows
        );
    }
    profile_checks(&p)
}

/// What every command does with a profile it accepted: JSON round trip,
/// merge with itself, compare with itself, schema inference and validation,
/// and the reports.
fn profile_checks(p: &DatasetProfile) -> Result<()> {
    let json = crate::to_json(p)?;
    let back: DatasetProfile =
        serde_json::from_str(&json).map_err(|e| Error::Internal(format!("round trip: {e}")))?;
    assert_eq!(
        crate::to_json(&back)?,
        json,
        "a profile changed in its JSON round trip"
    );
    let twice = crate::profile::merge::merge_profiles(vec![
        ("a".into(), back.clone()),
        ("b".into(), back.clone()),
    ])?;
    for (f, g) in p.features.iter().zip(&twice.features) {
        assert_eq!(g.count, 2 * f.count, "merge: column {:?}", f.name);
        if let (Some(a), Some(b)) = (&f.categorical, &g.categorical) {
            if a.unique_exact && b.unique_exact {
                assert_eq!(a.unique, b.unique, "merge: distinct values of {:?}", f.name);
            }
        }
    }
    let cmp = crate::compare::compare(p, p, &Default::default(), &crate::backend::Backend::Cpu)?;
    assert!(
        cmp.features.iter().all(|f| !f.drifted),
        "a profile drifted from itself"
    );
    let schema = crate::schema::infer(p, &Default::default());
    let checks = crate::schema::Checks {
        previous: Some(p),
        training: None,
        backend: &crate::backend::Backend::Cpu,
        bins: 10,
        data: None,
    };
    let anomalies = crate::schema::validate(&schema, p, &checks)?;
    let _ = crate::report::summary_table(p, Some(40));
    let _ = crate::report::comparison_markdown(&cmp);
    let _ = crate::report::comparison_table(&cmp, Some(40));
    check_coordinates(&crate::report::html::render(&crate::report::html::Report {
        current: p,
        base: Some(p),
        comparison: Some(&cmp),
        schema: Some(&schema),
        anomalies: Some(&anomalies),
    }));
    Ok(())
}

fn profile_json(data: &[u8]) -> Result<()> {
    let p = crate::parse_profile(Path::new("fuzz.json"), data)?;
    // Merge (of two copies: one copy is returned as it is) and compare are
    // where a hand-edited or corrupt profile is used.
    let merged = crate::profile::merge::merge_profiles(vec![
        ("a.json".into(), p.clone()),
        ("b.json".into(), p.clone()),
    ])?;
    let cmp = crate::compare::compare(
        &p,
        &merged,
        &Default::default(),
        &crate::backend::Backend::Cpu,
    )?;
    let schema = crate::schema::infer(&p, &Default::default());
    let checks = crate::schema::Checks {
        previous: Some(&merged),
        training: Some(&p),
        backend: &crate::backend::Backend::Cpu,
        bins: 10,
        data: None,
    };
    let anomalies = crate::schema::validate(&schema, &p, &checks)?;
    let _ = crate::report::summary_table(&p, Some(40));
    // The report of a hand-edited profile: no panic and no coordinate that
    // is not a number, whatever it holds.
    let html = crate::report::html::render(&crate::report::html::Report {
        current: &p,
        base: Some(&merged),
        comparison: Some(&cmp),
        schema: Some(&schema),
        anomalies: Some(&anomalies),
    });
    check_coordinates(&html);
    Ok(())
}

/// Every SVG coordinate of a report is a finite number.
fn check_coordinates(html: &str) {
    for attr in [" d=\"", " x=\"", " y=\"", " width=\"", " height=\""] {
        for (i, _) in html.match_indices(attr) {
            let v = &html[i + attr.len()..];
            let v = &v[..v.find('"').unwrap_or(v.len())];
            assert!(
                !v.contains("NaN") && !v.contains("inf"),
                "a report coordinate is not a number: {attr}{v}"
            );
        }
    }
}

fn schema_json(data: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(data);
    let schema = crate::schema::parse_schema(Path::new("fuzz-schema.json"), &text)?;
    let p = reference_profile();
    let checks = crate::schema::Checks {
        previous: Some(p),
        training: Some(p),
        backend: &crate::backend::Backend::Cpu,
        bins: 10,
        data: None,
    };
    let anomalies = crate::schema::validate(&schema, p, &checks)?;
    let _ = crate::report::anomalies_markdown("fuzz", &anomalies);
    Ok(())
}

/// A small profile with every kind of feature: what the schema target
/// validates (its seeds are schemas inferred from it).
pub fn reference_profile() -> &'static DatasetProfile {
    static P: std::sync::OnceLock<DatasetProfile> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        use arrow::array::*;
        use std::sync::Arc;
        let n = 200;
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "f",
                Arc::new(Float64Array::from_iter(
                    (0..n).map(|i| (i % 7 != 0).then_some(i as f64 * 0.5)),
                )),
            ),
            (
                "i",
                Arc::new(Int64Array::from_iter_values((0..n).map(|i| i % 13))),
            ),
            (
                "s",
                Arc::new(StringArray::from_iter(
                    (0..n).map(|i| (i % 5 != 0).then(|| format!("v{}", i % 4))),
                )),
            ),
            (
                "b",
                Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 3 == 0)))),
            ),
        ];
        let batch = arrow::record_batch::RecordBatch::try_from_iter(cols)
            .unwrap_or_else(|e| panic!("the reference batch: {e}"));
        let (tmp, f) = crate::files::TempFile::create_in_temp_dir("skewer-fuzz-ref", "arrows")
            .unwrap_or_else(|e| panic!("the reference file: {e}"));
        let write = || -> std::result::Result<(), arrow::error::ArrowError> {
            let mut w = arrow::ipc::writer::StreamWriter::try_new(f, &batch.schema())?;
            w.write(&batch)?;
            w.finish()
        };
        write().unwrap_or_else(|e| panic!("the reference file: {e}"));
        let ds = Dataset::open(&[tmp.path().to_path_buf()], &SourceOptions::default())
            .unwrap_or_else(|e| panic!("the reference file: {e}"));
        engine::profile(&ds, &ProfileOptions::default(), &NoProgress)
            .unwrap_or_else(|e| panic!("the reference profile: {e}"))
    })
}
