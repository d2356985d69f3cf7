//! Inputs on object stores: `s3://`, `gs://`, `az://` (and `abfs://`,
//! `azure://`), `http://` and `https://` URLs, read through the
//! `object_store` crate with ranged GETs.
//!
//! A [`RemoteFile`] is one object, opened with a HEAD (its size). It is read
//! the way the local readers read a file: `Read + Seek` for CSV and Arrow
//! IPC, parquet's `ChunkReader` for Parquet, and positional reads for the
//! footer checks. Bytes arrive in blocks of at most [`BLOCK`] bytes fetched
//! with one ranged GET each, and a handle keeps at most [`MAX_BLOCKS`] of
//! them: memory is bounded by the handle, never by the object.
//!
//! Parquet is read as its own async reader would, in a synchronous shape:
//! the first read at the end of the object fetches its last [`TAIL`] bytes,
//! which usually hold the whole footer; once the footer is known, the
//! column chunks' boundaries become *fences* ([`RemoteFile::with_fences`])
//! that no block crosses, so reading a projected column fetches that
//! column's chunks and nothing of its neighbours.
//!
//! Stores are opened with their own builders and the usual environment
//! variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`; see docs/object-stores.md),
//! with a request timeout, a connect timeout and a bounded retry policy, so
//! that a dead or stalled server is an error in bounded time, never a hang.
//! The requests run on a small tokio runtime shared by the process; the
//! reading threads (rayon's) wait for them with `block_on`, which runs the
//! request's future on the waiting thread, so that every block received is
//! progress for the stall watchdog of that thread's read.
//!
//! Failures become [`Error::Remote`] naming the URL and the problem in
//! words: the object does not exist, access denied, the connection failed
//! or was lost, a bad URL or missing configuration. The decoders in
//! between (parquet, arrow) keep only the text of an error they did not
//! make; [`recover`] finds the failure again in that text.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, ObjectStoreScheme, RetryConfig};

use crate::error::{Error, Result};

/// The most bytes one ranged GET asks for (unless a single read asks for
/// more, e.g. one large Parquet page).
pub const BLOCK: u64 = 4 << 20;
/// Blocks kept per handle (columns read side by side each keep theirs).
pub const MAX_BLOCKS: usize = 8;
/// The first read that ends at the object's end fetches this many bytes
/// before it: Parquet's and Arrow's footers in one request.
pub const TAIL: u64 = 64 << 10;

/// A whole request (headers and body) may take this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Connecting may take this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Retries of one request (connection errors, 5xx, a body cut short).
pub const MAX_RETRIES: usize = 3;
/// No retry starts this long after the first attempt.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(30);

/// The URL schemes read as objects on a store.
const SCHEMES: [&str; 10] = [
    "s3", "s3a", "gs", "az", "abfs", "abfss", "azure", "adl", "http", "https",
];

/// Whether an input name is an object-store URL (`s3://…`, `gs://…`,
/// `az://…`, `http(s)://…`) rather than a local path.
pub fn is_url(name: &str) -> bool {
    name.split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)))
}

/// The runtime that drives the stores' requests: two workers for the
/// network I/O; the requests themselves are polled by the threads that wait.
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("skewer-net")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Error::NoThread(format!("cannot start the network runtime: {e}")))
}

/// Wait for `f` on this thread (one of skewer's readers, never a runtime
/// thread).
fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    Ok(runtime()?.block_on(f))
}

/// A store failure, named by URL, in words. Cloneable and an
/// `std::error::Error`, so that it can travel inside `io::Error` and
/// parquet's errors and come out as [`Error::Remote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub url: String,
    pub problem: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.url, self.problem)
    }
}

impl std::error::Error for Failure {}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        Error::Remote {
            url: f.url,
            problem: f.problem,
        }
    }
}

thread_local! {
    /// This thread's last failure, for [`recover`].
    static LAST: std::cell::RefCell<Option<Failure>> = const { std::cell::RefCell::new(None) };
}

impl Failure {
    fn new(url: &str, problem: impl Into<String>) -> Failure {
        let f = Failure {
            url: url.to_string(),
            problem: problem.into(),
        };
        LAST.with(|l| *l.borrow_mut() = Some(f.clone()));
        f
    }

    /// A store's error in words.
    fn of(url: &str, e: &object_store::Error) -> Failure {
        use object_store::Error as E;
        let cause = root_cause(e);
        let problem = match e {
            E::NotFound { .. } => "the object does not exist (the store answered 404 Not Found)".into(),
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => format!(
                "access denied (the store answered {}); check the credentials and the object's permissions (docs/object-stores.md)",
                status_of(e).unwrap_or_else(|| cause.clone())
            ),
            E::Precondition { .. } => {
                "the object changed while skewer read it (its ETag is not the one it had)".into()
            }
            E::InvalidPath { .. } => format!("not a valid object path: {cause}"),
            E::UnknownConfigurationKey { .. } | E::NotSupported { .. } => {
                format!("cannot open the store: {cause}")
            }
            _ => match status_of(e) {
                Some(status) => format!(
                    "the store answered {status} after {MAX_RETRIES} retries at most: {cause}"
                ),
                None => format!(
                    "the connection failed, was lost or timed out (after {MAX_RETRIES} retries at most, {} s): {cause}",
                    RETRY_TIMEOUT.as_secs()
                ),
            },
        };
        Failure::new(url, problem)
    }

    fn io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

/// The message of the innermost error of `e`'s chain, with the outer
/// messages' request line (method and URL) when one says it.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        last = s.to_string();
        cur = s.source();
    }
    crate::error::plain(&last)
}

/// The HTTP status a store's error carries, if the server answered.
fn status_of(e: &object_store::Error) -> Option<String> {
    let text = e.to_string();
    // object_store's messages say "… Server returned non-2xx status code:
    // 503 Service Unavailable: …" or "status: 500".
    let at = text
        .find("status code: ")
        .map(|i| i + "status code: ".len())?;
    let rest = &text[at..];
    let end = rest.find(':').unwrap_or(rest.len());
    Some(rest[..end].trim().to_string())
}

/// The store failure that an error's text repeats, if this thread had one:
/// parquet and arrow turn the errors of the readers they call into text
/// (`ArrowError::ParquetError(String)`), and this recovers the failure so
/// that the message is the store's, not the decoder's.
pub(crate) fn recover(text: &str) -> Option<Failure> {
    LAST.with(|l| {
        let l = l.borrow();
        let f = l.as_ref()?;
        text.contains(&f.to_string()).then(|| f.clone())
    })
}

/// The failure inside an I/O error made by a [`RemoteFile`].
pub(crate) fn failure_in_io(e: &std::io::Error) -> Option<Failure> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Failure>())
        .cloned()
        .or_else(|| recover(&e.to_string()))
}

/// Apply skewer's timeouts and retries, then the environment's settings
/// (which win), then the URL.
macro_rules! configure {
    ($builder:ty, $key:path, $prefix:literal, $url:expr, $extra:expr) => {{
        let mut b = <$builder>::new()
            .with_client_options(client_options())
            .with_retry(retry_config());
        let extra = $extra.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        for (k, v) in std::env::vars().chain(extra) {
            if let Some(rest) = k.strip_prefix($prefix) {
                let lower = format!(
                    "{}{}",
                    $prefix.to_ascii_lowercase(),
                    rest.to_ascii_lowercase()
                );
                if let Ok(key) = lower.parse::<$key>() {
                    b = b.with_config(key, v);
                }
            }
        }
        b.with_url($url)
    }};
}

fn client_options() -> ClientOptions {
    ClientOptions::new()
        .with_timeout(REQUEST_TIMEOUT)
        .with_connect_timeout(CONNECT_TIMEOUT)
}

fn retry_config() -> RetryConfig {
    RetryConfig {
        max_retries: MAX_RETRIES,
        retry_timeout: RETRY_TIMEOUT,
        ..Default::default()
    }
}

/// The store a URL names and the object's path in it, configured by the
/// environment and then by `extra` (pairs named as the environment's).
fn store_for(
    url: &str,
    extra: &[(&str, &str)],
) -> Result<(Arc<dyn ObjectStore>, StorePath), Failure> {
    let parsed =
        url::Url::parse(url).map_err(|e| Failure::new(url, format!("not a valid URL: {e}")))?;
    let (scheme, path) = ObjectStoreScheme::parse(&parsed).map_err(|e| {
        Failure::new(
            url,
            format!(
                "not an object-store URL this build reads (s3://, gs://, az://, http(s)://): {}",
                root_cause(&e)
            ),
        )
    })?;
    let built: object_store::Result<Arc<dyn ObjectStore>> = match scheme {
        ObjectStoreScheme::AmazonS3 => configure!(
            object_store::aws::AmazonS3Builder,
            object_store::aws::AmazonS3ConfigKey,
            "AWS_",
            url,
            extra
        )
        .build()
        .map(|s| Arc::new(s) as _),
        ObjectStoreScheme::GoogleCloudStorage => configure!(
            object_store::gcp::GoogleCloudStorageBuilder,
            object_store::gcp::GoogleConfigKey,
            "GOOGLE_",
            url,
            extra
        )
        .build()
        .map(|s| Arc::new(s) as _),
        ObjectStoreScheme::MicrosoftAzure => configure!(
            object_store::azure::MicrosoftAzureBuilder,
            object_store::azure::AzureConfigKey,
            "AZURE_",
            url,
            extra
        )
        .build()
        .map(|s| Arc::new(s) as _),
        ObjectStoreScheme::Http => {
            // The store is the server; the path is the object's.
            let base = &parsed[..url::Position::BeforePath];
            let mut opts = client_options();
            // http:// is plain HTTP by the user's own choice.
            if parsed.scheme() == "http" {
                opts = opts.with_allow_http(true);
            }
            object_store::http::HttpBuilder::new()
                .with_url(base)
                .with_client_options(opts)
                .with_retry(retry_config())
                .build()
                .map(|s| Arc::new(s) as _)
        }
        other => {
            return Err(Failure::new(
                url,
                format!("{other:?} URLs are not read as objects; give a local path instead"),
            ))
        }
    };
    let store = built.map_err(|e| {
        Failure::new(
            url,
            format!(
                "cannot open the store (a bad URL or missing configuration; see docs/object-stores.md): {}",
                root_cause(&e)
            ),
        )
    })?;
    Ok((store, path))
}

/// What every handle on one object shares.
#[derive(Debug)]
struct Object {
    url: String,
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    size: u64,
    /// Column chunk boundaries no block crosses, sorted.
    fences: Arc<[u64]>,
}

impl Object {
    /// Fetch `range` (one ranged GET, retried by the store's policy).
    fn fetch(&self, range: Range<u64>) -> std::result::Result<Bytes, Failure> {
        let want = range.end - range.start;
        let got = block_on(self.store.get_range(&self.path, range.clone()))
            .map_err(|e| Failure::new(&self.url, e.to_string()))?
            .map_err(|e| Failure::of(&self.url, &e))?;
        if got.len() as u64 != want {
            return Err(Failure::new(
                &self.url,
                format!(
                    "the store sent {} bytes for bytes {}..{} (the object changed or the server ignores ranges)",
                    got.len(),
                    range.start,
                    range.end
                ),
            ));
        }
        super::progress();
        Ok(got)
    }

    /// The first fence after `at`.
    fn fence_after(&self, at: u64) -> u64 {
        let i = self.fences.partition_point(|&f| f <= at);
        self.fences.get(i).copied().unwrap_or(self.size)
    }
}

/// One block of an object in memory.
#[derive(Debug)]
struct Block {
    start: u64,
    data: Bytes,
    used: u64,
}

/// One object on a store, read with ranged GETs. Clones share the object
/// and the cached blocks (as `File::try_clone` shares a file); each has its
/// own position.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    object: Arc<Object>,
    blocks: Arc<Mutex<(Vec<Block>, u64)>>,
    pos: u64,
}

impl RemoteFile {
    /// Open the object at `url` (a HEAD request: it exists, its size).
    pub fn open(url: &str) -> Result<RemoteFile> {
        let (store, path) = store_for(url, &[])?;
        let meta = block_on(store.head(&path))?.map_err(|e| Failure::of(url, &e))?;
        super::progress();
        Ok(RemoteFile {
            object: Arc::new(Object {
                url: url.to_string(),
                store,
                path,
                size: meta.size,
                fences: Arc::from(Vec::new()),
            }),
            blocks: Arc::default(),
            pos: 0,
        })
    }

    /// The object's URL.
    pub fn url(&self) -> &str {
        &self.object.url
    }

    /// The object's size in bytes.
    pub fn size(&self) -> u64 {
        self.object.size
    }

    /// The same object with these block boundaries (Parquet's column
    /// chunks) and a cache of its own.
    pub fn with_fences(&self, mut fences: Vec<u64>) -> RemoteFile {
        fences.sort_unstable();
        fences.dedup();
        let object = Object {
            url: self.object.url.clone(),
            store: self.object.store.clone(),
            path: self.object.path.clone(),
            size: self.object.size,
            fences: fences.into(),
        };
        RemoteFile {
            object: Arc::new(object),
            blocks: Arc::default(),
            pos: 0,
        }
    }

    /// A new handle on the same object, at 0, with a cache of its own (one
    /// per reading thread).
    pub fn reopen(&self) -> RemoteFile {
        RemoteFile {
            object: self.object.clone(),
            blocks: Arc::default(),
            pos: 0,
        }
    }

    /// `length` bytes at `start`, from a cached block or a new one.
    pub fn bytes_at(&self, start: u64, length: usize) -> std::result::Result<Bytes, Failure> {
        let o = &self.object;
        let end = start.saturating_add(length as u64);
        if end > o.size {
            return Err(Failure::new(
                &o.url,
                format!(
                    "a read of bytes {start}..{end} goes past the object's end ({} bytes)",
                    o.size
                ),
            ));
        }
        if length == 0 {
            return Ok(Bytes::new());
        }
        let mut guard = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        let (blocks, clock) = &mut *guard;
        *clock += 1;
        if let Some(b) = blocks
            .iter_mut()
            .find(|b| b.start <= start && end <= b.start + b.data.len() as u64)
        {
            b.used = *clock;
            let at = (start - b.start) as usize;
            return Ok(b.data.slice(at..at + length));
        }
        // A read that ends at the object's end: its footer, fetched with the
        // bytes before it that the next read of the footer needs.
        let range = if end == o.size {
            o.size.saturating_sub(TAIL.max(length as u64))..o.size
        } else {
            let ahead = (start + BLOCK).min(o.fence_after(start)).min(o.size);
            start..ahead.max(end)
        };
        let data = o.fetch(range.clone())?;
        let at = (start - range.start) as usize;
        let out = data.slice(at..at + length);
        if data.len() as u64 <= BLOCK.max(TAIL) {
            if blocks.len() >= MAX_BLOCKS {
                if let Some(oldest) = (0..blocks.len()).min_by_key(|&i| blocks[i].used) {
                    blocks.swap_remove(oldest);
                }
            }
            blocks.push(Block {
                start: range.start,
                data,
                used: *clock,
            });
        }
        Ok(out)
    }
}

impl Read for RemoteFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.object.size.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        let bytes = self.bytes_at(self.pos, n).map_err(Failure::io)?;
        buf[..n].copy_from_slice(&bytes);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RemoteFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let base = match to {
            SeekFrom::Start(n) => {
                self.pos = n;
                return Ok(n);
            }
            SeekFrom::End(d) => self.object.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = base.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the object",
            )
        })?;
        Ok(self.pos)
    }
}

impl parquet::file::reader::Length for RemoteFile {
    fn len(&self) -> u64 {
        self.object.size
    }
}

impl parquet::file::reader::ChunkReader for RemoteFile {
    type T = RemoteFile;

    fn get_read(&self, start: u64) -> parquet::errors::Result<RemoteFile> {
        let mut r = self.clone();
        r.pos = start;
        Ok(r)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.bytes_at(start, length)
            .map_err(|f| parquet::errors::ParquetError::External(Box::new(f)))
    }
}

/// The objects under a prefix (`s3://bucket/dir/`), as URLs, sorted.
pub fn list(url: &str) -> Result<Vec<String>> {
    list_with(url, &[])
}

/// [`list`] with settings besides the environment's, named as the
/// environment's (`("AWS_ENDPOINT_URL", "http://…")`); they win.
pub fn list_with(url: &str, settings: &[(&str, &str)]) -> Result<Vec<String>> {
    let (store, prefix) = store_for(url, settings)?;
    let found: Vec<object_store::ObjectMeta> = block_on(
        store
            .list((!prefix.as_ref().is_empty()).then_some(&prefix))
            .try_collect(),
    )?
    .map_err(|e| Failure::of(url, &e))?;
    let base = url.split(['?', '#']).next().unwrap_or(url);
    let base = base.trim_end_matches('/');
    let mut out: Vec<String> = found
        .iter()
        .filter_map(|m| {
            let rest = m
                .location
                .prefix_match(&prefix)?
                .map(|p| p.as_ref().to_string())
                .collect::<Vec<_>>();
            (!rest.is_empty()).then(|| format!("{base}/{}", rest.join("/")))
        })
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        for u in [
            "s3://b/k.parquet",
            "S3://b/k",
            "gs://b/k.csv",
            "az://c/k",
            "abfs://c@a.dfs.core.windows.net/k",
            "azure://c/k",
            "http://127.0.0.1:9/k.csv",
            "https://example.org/k.parquet",
        ] {
            assert!(is_url(u), "{u}");
        }
        for p in [
            "train.parquet",
            "/data/s3/x.csv",
            "-",
            "dir/http:/x",
            "file:///tmp/x",
            "ftp://h/x",
        ] {
            assert!(!is_url(p), "{p}");
        }
    }

    #[test]
    fn bad_urls_are_errors_in_words() {
        let f = store_for("s3:///no-bucket", &[]).unwrap_err();
        assert_eq!(f.url, "s3:///no-bucket");
        assert!(!f.problem.is_empty());
        let f = store_for("https://exa mple.org/x", &[]).unwrap_err();
        assert!(f.problem.contains("not a valid URL"), "{f}");
    }

    #[test]
    fn a_failure_is_recovered_from_a_decoder_text() {
        let f = Failure::new("s3://b/k", "the object does not exist");
        let text = format!("Parquet error: External: {f}");
        assert_eq!(recover(&text), Some(f.clone()));
        assert_eq!(recover("something else"), None);
        let io = f.clone().io();
        assert_eq!(failure_in_io(&io), Some(f));
    }
}
