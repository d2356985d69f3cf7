//! The one error type of the library.
//!
//! Every variant that concerns input names the file (and the column where one
//! is involved) so that a nightly job's log says what to fix without a
//! debugger. `main.rs` turns any of these into exit code 2.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading, profiling or writing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read at the OS level.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The Parquet reader rejected the file (corrupt, truncated, not Parquet).
    #[error("{path}: cannot read Parquet: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Arrow (CSV, IPC or a kernel) rejected the data.
    #[error("{path}: {context}: {source}")]
    Arrow {
        path: PathBuf,
        context: String,
        #[source]
        source: arrow::error::ArrowError,
    },

    /// The input's format could not be determined from its name.
    #[error("{path}: cannot tell the format from the file name; pass --format (parquet, csv, arrow, arrow-stream)")]
    UnknownFormat { path: PathBuf },

    /// The format cannot be read from standard input.
    #[error("-: {format} cannot be read from standard input (only csv and arrow-stream can)")]
    NotStreamable { format: String },

    /// A requested column does not exist in the input.
    #[error("{path}: no column named {column:?} (columns: {available})")]
    UnknownColumn {
        path: PathBuf,
        column: String,
        available: String,
    },

    /// The input has no columns at all (or none left after projection).
    #[error("{path}: the file has no columns")]
    NoColumns { path: PathBuf },

    /// Two files of one dataset disagree on a column.
    #[error("{path}: column {column:?} differs from {first}: {detail}")]
    SchemaMismatch {
        first: PathBuf,
        path: PathBuf,
        column: String,
        detail: String,
    },

    /// A user-supplied option is invalid.
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// A profile JSON could not be read or is not a skewer profile.
    #[error("{path}: not a skewer profile: {detail}")]
    BadProfile { path: PathBuf, detail: String },

    /// A schema JSON could not be read or is invalid.
    #[error("{path}: invalid schema: {detail}")]
    BadSchema { path: PathBuf, detail: String },

    /// Profiles to be merged were computed with different options or columns.
    #[error("cannot merge {path}: {detail}")]
    Incompatible { path: PathBuf, detail: String },

    /// Writing output failed.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The GPU backend failed: no adapter, shader validation, device loss,
    /// out of memory.
    #[error("GPU: {0}")]
    Gpu(String),

    /// A broken invariant inside skewer: a bug, please report it.
    #[error("internal error (a bug in skewer, please report it): {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn arrow(
        path: impl Into<PathBuf>,
        context: impl Into<String>,
        source: arrow::error::ArrowError,
    ) -> Self {
        Error::Arrow {
            path: path.into(),
            context: context.into(),
            source,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
