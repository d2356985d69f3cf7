//! skewer: profile columnar ML data, exactly, on the CPU or the GPU.
//!
//! The library reads Parquet, CSV and Arrow IPC files as streams of Arrow
//! record batches ([`source`]), computes per-column statistics ([`profile`])
//! in at most two passes with bounded memory ([`engine`]) on a CPU or GPU
//! [`backend`], and renders them ([`report`]).
//! The `skewer` binary is a thin command line over this API:
//!
//! ```no_run
//! use skewer::{engine, source};
//! let ds = source::Dataset::open(&["train.parquet".into()], &Default::default())?;
//! let p = engine::profile(&ds, &Default::default(), &engine::NoProgress)?;
//! println!("{}", serde_json::to_string_pretty(&p).unwrap());
//! # Ok::<(), skewer::Error>(())
//! ```

pub mod backend;
pub mod bench;
pub mod compare;
pub mod engine;
pub mod error;
pub mod files;
pub mod fuzz;
pub mod profile;
pub mod report;
pub mod schema;
pub mod skew;
pub mod source;
pub mod tfdv;
pub mod watchdog;

pub use error::{Error, Result};

use std::path::Path;

/// Read a profile JSON written by skewer, of the format version this
/// skewer reads.
pub fn read_profile(path: &Path) -> Result<profile::DatasetProfile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_profile(path, &bytes)
}

/// Parse and check a profile's JSON (`path` names it in errors).
pub fn parse_profile(path: &Path, json: &[u8]) -> Result<profile::DatasetProfile> {
    let bad = |detail: String| Error::BadProfile {
        path: path.into(),
        detail,
    };
    let p: profile::DatasetProfile =
        serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    p.check_readable().map_err(bad)?;
    Ok(p)
}

/// A value as pretty JSON with a final newline (deterministic: same value,
/// same bytes).
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v).map_err(|e| Error::Internal(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// Whether [`profile_or_read`] reads `path` as a stored profile (`*.json`)
/// rather than as data.
pub fn is_profile_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// What `compare`, `validate` and `schema infer` take for each side: a
/// profile JSON (`*.json`) as it is, restricted to `src.columns` when given,
/// or data profiled now with `opts`, with the dataset it was read from (to
/// read again: compare's refinement, validate's examples; standard input
/// is spooled, so it can be).
pub fn profile_or_read(
    path: &Path,
    src: &source::SourceOptions,
    opts: &engine::ProfileOptions,
    progress: &dyn engine::Progress,
) -> Result<(profile::DatasetProfile, Option<source::Dataset>)> {
    if !is_profile_path(path) {
        let ds = source::Dataset::open(&[path.to_path_buf()], src)?;
        return Ok((engine::profile(&ds, opts, progress)?, Some(ds)));
    }
    let mut p = read_profile(path)?;
    if let Some(cols) = &src.columns {
        for c in cols {
            if !p.features.iter().any(|f| &f.name == c) {
                return Err(Error::UnknownColumn {
                    path: path.into(),
                    column: c.clone(),
                    available: p
                        .features
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        p.features.retain(|f| cols.contains(&f.name));
    }
    Ok((p, None))
}

/// Write a profile as pretty JSON, atomically.
pub fn write_profile(path: &Path, p: &profile::DatasetProfile) -> Result<()> {
    files::write_atomic(path, to_json(p)?.as_bytes())
}
