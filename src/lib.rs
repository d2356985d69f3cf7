//! skewer: profile columnar ML data, exactly, on the CPU or the GPU.
//!
//! The library reads Parquet, CSV and Arrow IPC files as streams of Arrow
//! record batches ([`source`]), computes per-column statistics in at most two
//! passes with bounded memory ([`profile`]), and renders them ([`report`]).
//! The `skewer` binary is a thin command line over this API:
//!
//! ```no_run
//! use skewer::{profile, source};
//! let ds = source::Dataset::open(&["train.parquet".into()], &Default::default())?;
//! let p = profile::profile(&ds, &Default::default(), &profile::NoProgress)?;
//! println!("{}", serde_json::to_string_pretty(&p).unwrap());
//! # Ok::<(), skewer::Error>(())
//! ```

pub mod backend;
pub mod bench;
pub mod compare;
pub mod error;
pub mod profile;
pub mod report;
pub mod schema;
pub mod source;

pub use error::{Error, Result};

use std::path::Path;

/// Read a profile JSON written by skewer.
pub fn read_profile(path: &Path) -> Result<profile::DatasetProfile> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| Error::BadProfile {
        path: path.into(),
        detail: e.to_string(),
    })
}

/// Write a profile as pretty JSON (deterministic: same profile, same bytes).
pub fn write_profile(path: &Path, p: &profile::DatasetProfile) -> Result<()> {
    let mut s = serde_json::to_string_pretty(p).map_err(|e| Error::Internal(e.to_string()))?;
    s.push('\n');
    std::fs::write(path, s).map_err(|e| Error::Write {
        path: path.into(),
        source: e,
    })
}
