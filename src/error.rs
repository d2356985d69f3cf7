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
    #[error("{path}: cannot read Parquet: {}", plain(&source.to_string()))]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Arrow (CSV, IPC or a kernel) rejected the data.
    #[error("{path}: {context}: {}", plain(&source.to_string()))]
    Arrow {
        path: PathBuf,
        context: String,
        #[source]
        source: arrow::error::ArrowError,
    },

    /// A column asked to be profiled as categorical is not of integers.
    #[error("column {column:?} cannot be profiled as categorical: only integer columns (or lists of integers) can; it is {type_name}")]
    NotCategorical { column: String, type_name: String },

    /// An object store (s3://, gs://, az://, http(s)://) failed: the object
    /// does not exist, access was denied, the connection failed or was lost,
    /// or the URL or the store's configuration is bad.
    #[error("{url}: {problem}")]
    Remote { url: String, problem: String },

    /// The input's format could not be determined from its name.
    #[error("{path}: cannot tell the format from the file name; name it (parquet, csv, arrow, arrow-stream)")]
    UnknownFormat { path: PathBuf },

    /// A requested column does not exist in the input.
    #[error("{path}: no column named {column:?} (columns: {available})")]
    UnknownColumn {
        path: PathBuf,
        column: String,
        available: String,
    },

    /// Two columns share a name (features are matched by name).
    #[error("{path}: two columns are named {column:?}; rename one (features are matched by name)")]
    DuplicateColumn { path: PathBuf, column: String },

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

    /// A folder or glob does not make a dataset: no data files in it, or
    /// files under different partition keys.
    #[error("{path}: {detail}")]
    BadDataset { path: PathBuf, detail: String },

    /// A user-supplied option is invalid.
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// A profile JSON could not be read or is not a skewer profile.
    #[error("{path}: not a skewer profile: {detail}")]
    BadProfile { path: PathBuf, detail: String },

    /// A schema JSON could not be read or is invalid.
    #[error("{path}: invalid schema: {detail}")]
    BadSchema { path: PathBuf, detail: String },

    /// A TFDV protocol buffer file (binary or text format) could not be
    /// read as the message it should hold.
    #[error("{path}: not a valid {message}: {detail}")]
    BadProto {
        path: PathBuf,
        message: String,
        detail: String,
    },

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

    /// The input decoded to something impossible, or decoding it panicked
    /// (in skewer or a dependency): on a file that other readers accept, a
    /// bug to report; otherwise the file is corrupt in a way the decoder
    /// did not check.
    #[error("{path}{location}: cannot decode ({detail}); the file is probably corrupt")]
    Corrupt {
        path: PathBuf,
        /// ", row group N, column C" or empty.
        location: String,
        detail: String,
    },

    /// A partial profile state (docs/partial-states.md) that is not one, of
    /// another version, of the wrong kind, or of other columns or options.
    #[error("partial profile state: {0}")]
    InvalidPartial(String),

    /// A file read twice in one run (a second pass, a refinement) gave
    /// other values the second time.
    #[error("{path}: the data changed while skewer read it: {detail}")]
    DataChanged { path: PathBuf, detail: String },

    /// The system gave no worker thread (no memory for its stack, or a
    /// process limit); the message carries the way out.
    #[error("out of memory: cannot start a worker thread ({0})")]
    NoThread(String),

    /// A broken invariant inside skewer: a bug, please report it.
    #[error("internal error (a bug in skewer, please report it): {0}")]
    Internal(String),
}

/// A dependency's message for people: the Rust `Debug` dumps some of them
/// embed (arrow-ipc writes flatbuffers' errors as `RangeOutOfBounds { range:
/// 0..8, error_trace: ErrorTrace([…]) }`) become the words of their name
/// ("range out of bounds"); the rest is kept as it is.
pub fn plain(msg: &str) -> String {
    let b = msg.as_bytes();
    let mut out = String::with_capacity(msg.len());
    let mut i = 0;
    while i < b.len() {
        // A CamelCase name at a word start, then " {" or "(" opening a group
        // that closes: a Debug dump of a struct or tuple variant.
        let at_word = i == 0 || !(b[i - 1] as char).is_ascii_alphanumeric();
        if at_word && b[i].is_ascii_uppercase() {
            let end = i + msg[i..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(msg.len() - i);
            let name = &msg[i..end];
            // Tuple variants only when CamelCase, so that "Expected(…)"-like
            // prose is kept.
            let camel = name.chars().skip(1).any(|c| c.is_ascii_uppercase());
            let open = if msg[end..].starts_with(" {") {
                Some(end + 1)
            } else if camel && msg[end..].starts_with('(') {
                Some(end)
            } else {
                None
            };
            if let Some(close) = open.and_then(|o| closing(b, o)) {
                for (k, c) in name.chars().enumerate() {
                    if c.is_ascii_uppercase() && k > 0 {
                        out.push(' ');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                i = close + 1;
                continue;
            }
        }
        let c = msg[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out.trim_end().to_string()
}

/// The index of the bracket closing the one at `open`.
fn closing(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Run `f`, turning a panic inside it (on this thread, or re-thrown here by
/// rayon from a worker) into `Err` with the panic's message. Nothing the
/// panic left half-done is used afterwards: the caller fails the run.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        match LAST_PANIC_AT.with(|l| l.borrow_mut().take()) {
            Some(at) => format!("{msg}, at {at}"),
            None => msg,
        }
    })
}

thread_local! {
    /// Where this thread last panicked, recorded by [`quiet_panic_hook`].
    static LAST_PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A panic hook for programs that turn panics into errors with
/// [`catch_panic`]: it records where the panic happened (for the error
/// message) instead of printing to stderr, unless `RUST_BACKTRACE` is set.
pub fn quiet_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(l) = info.location() {
            // A dependency's path from its crate's folder on: "parquet-60.1.0/src/...".
            let file = l.file();
            let file = file
                .find("/registry/src/")
                .and_then(|i| file[i + 14..].split_once('/'))
                .map_or(file, |(_, rest)| rest);
            let at = format!("{file}:{}", l.line());
            LAST_PANIC_AT.with(|p| *p.borrow_mut() = Some(at));
        }
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default(info);
        }
    }));
}

impl Error {
    pub(crate) fn arrow(
        path: impl Into<PathBuf>,
        context: impl Into<String>,
        source: arrow::error::ArrowError,
    ) -> Self {
        // A store's failure that the decoder kept as text is the store's.
        if let Some(f) = crate::source::remote::recover(&source.to_string()) {
            return f.into();
        }
        Error::Arrow {
            path: path.into(),
            context: context.into(),
            source,
        }
    }

    /// The Parquet reader's error (a store's failure under it is the store's).
    pub(crate) fn parquet(path: impl Into<PathBuf>, source: parquet::errors::ParquetError) -> Self {
        let failure = match &source {
            parquet::errors::ParquetError::External(e) => {
                e.downcast_ref::<crate::source::remote::Failure>().cloned()
            }
            _ => None,
        };
        if let Some(f) = failure.or_else(|| crate::source::remote::recover(&source.to_string())) {
            return f.into();
        }
        Error::Parquet {
            path: path.into(),
            source,
        }
    }

    /// Corrupt data found where the file is not known; [`crate::source::Dataset::read`]
    /// names it.
    pub(crate) fn corrupt(detail: impl Into<String>) -> Self {
        Error::corrupt_at(PathBuf::new(), "", detail)
    }

    /// Corrupt data in `path` at `location` (", row group N, column C" or "").
    pub(crate) fn corrupt_at(
        path: impl Into<PathBuf>,
        location: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Error::Corrupt {
            path: path.into(),
            location: location.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        if let Some(f) = crate::source::remote::failure_in_io(&source) {
            return f.into();
        }
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn debug_dumps_become_words() {
        assert_eq!(
            plain("Unable to get root as footer: RangeOutOfBounds { range: 0..8, error_trace: ErrorTrace([TableField { field_name: \"schema\", position: 4 }]) }"),
            "Unable to get root as footer: range out of bounds"
        );
        assert_eq!(
            plain("Unable to get root as message: TooManyTables"),
            "Unable to get root as message: TooManyTables"
        );
        assert_eq!(
            plain("EOF: Parquet file too small (size 3). Expected at least 8 bytes"),
            "EOF: Parquet file too small (size 3). Expected at least 8 bytes"
        );
        assert_eq!(
            plain("Type Int32 { x: 1 } and (a) [b]"),
            "Type int32 and (a) [b]"
        );
    }
}
