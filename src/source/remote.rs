//! Inputs on object stores: `s3://`, `gs://`, `az://` (and `abfs://`,
//! `azure://`), `http://` and `https://` URLs, read through the
//! `object_store` crate with ranged GETs.
//!
//! A [`RemoteFile`] is one object, opened with a HEAD (its size, ETag and
//! version; an object that [`list`] found is not asked again). It is read
//! the way the local readers read a file: `Read + Seek` for CSV and Arrow
//! IPC, parquet's `ChunkReader` for Parquet, and positional reads for the
//! footer checks. Bytes arrive in blocks of at most [`BLOCK`] bytes fetched
//! with one ranged GET each (a larger read takes several), and a handle
//! keeps at most [`MAX_BLOCKS`] of them: memory is bounded by the handle,
//! never by the object. Every GET names the ETag and version the object
//! had when opened: an object changed since is [`Error::DataChanged`]. A
//! read past the object's end is an end-of-file error, as a local file's.
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
//! once per bucket (or server) and settings in a process,
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

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{
    ClientOptions, GetOptions, ObjectStore, ObjectStoreExt, ObjectStoreScheme, RetryConfig,
};

use crate::error::{Error, Result};

/// The most bytes one ranged GET asks for: a larger read (one large
/// Parquet page) is fetched in pieces of this size.
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
    /// The object is not the one opened (its ETag or version changed):
    /// [`Error::DataChanged`], not a store failure.
    pub changed: bool,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.url, self.problem)
    }
}

impl std::error::Error for Failure {}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        if f.changed {
            return Error::DataChanged {
                path: f.url.into(),
                detail: f.problem,
            };
        }
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
            changed: false,
        };
        LAST.with(|l| *l.borrow_mut() = Some(f.clone()));
        f
    }

    /// The object changed since it was opened.
    fn changed(url: &str, detail: impl Into<String>) -> Failure {
        let f = Failure {
            changed: true,
            ..Failure::new(url, detail)
        };
        LAST.with(|l| *l.borrow_mut() = Some(f.clone()));
        f
    }

    /// A store's error in words.
    fn of(url: &str, e: &object_store::Error) -> Failure {
        use object_store::Error as E;
        let cause = root_cause(e);
        if let E::Precondition { .. } | E::NotModified { .. } = e {
            return Failure::changed(
                url,
                format!("the object changed while skewer read it (its ETag or version is not the one it had when opened): {cause}"),
            );
        }
        let problem = match e {
            E::NotFound { .. } => "the object does not exist (the store answered 404 Not Found)".into(),
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => format!(
                "access denied (the store answered {}); check the credentials and the object's permissions (docs/object-stores.md)",
                status_of(e).unwrap_or_else(|| cause.clone())
            ),
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
    // object_store keeps only the path: a presigned URL's signature or
    // `?id=3` would be dropped silently and another resource read.
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Failure::new(
            url,
            "URLs with a query (`?…`) or a fragment (`#…`) are not supported (presigned URLs neither); a `?`, `#` or `%` in an object's key is written %3F, %23, %25",
        ));
    }
    let (scheme, path) = ObjectStoreScheme::parse(&parsed).map_err(|e| {
        Failure::new(
            url,
            format!(
                "not an object-store URL this build reads (s3://, gs://, az://, http(s)://): {}",
                root_cause(&e)
            ),
        )
    })?;
    // One store per (scheme, bucket or server, settings): its connections
    // and credentials serve every object in it. A store named by an
    // http(s) URL of the cloud (its bucket or container in the path) is
    // not shared.
    let key = match (&scheme, parsed.scheme()) {
        (ObjectStoreScheme::Http, _) => Some(parsed[..url::Position::BeforePath].to_string()),
        (_, "http" | "https") => None,
        _ => Some(parsed[..url::Position::AfterPort].to_string()),
    }
    .map(|k| format!("{k}\n{extra:?}"));
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let stores = STORES.get_or_init(Mutex::default);
    if let Some(store) = key.as_ref().and_then(|k| {
        stores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(k)
            .cloned()
    }) {
        return Ok((store, path));
    }
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
    if let Some(k) = key {
        stores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(k)
            .or_insert_with(|| store.clone());
    }
    Ok((store, path))
}

/// What every handle on one object shares.
#[derive(Debug)]
struct Object {
    url: String,
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    size: u64,
    /// The ETag and version the object had when opened: every GET asks for
    /// them (`If-Match`, `versionId`), so that a changed object is an
    /// error, never a mix of two objects' bytes.
    e_tag: Option<String>,
    version: Option<String>,
    /// The most bytes one GET asks for ([`BLOCK`]).
    block: u64,
    /// Column chunk boundaries no block crosses, sorted.
    fences: Arc<[u64]>,
}

impl Object {
    /// Fetch `range` (one ranged GET, retried by the store's policy).
    fn fetch(&self, range: Range<u64>) -> std::result::Result<Bytes, Failure> {
        let want = range.end - range.start;
        let options = GetOptions {
            range: Some(range.clone().into()),
            if_match: self.e_tag.clone(),
            version: self.version.clone(),
            ..Default::default()
        };
        let got = block_on(async {
            self.store
                .get_opts(&self.path, options)
                .await?
                .bytes()
                .await
        })
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

/// What a listing said of an object (a `HEAD`'s answer).
#[derive(Debug, Clone)]
struct Listed {
    size: u64,
    e_tag: Option<String>,
    version: Option<String>,
}

/// The objects listed in this process, by URL: [`RemoteFile::open`] takes
/// their size, ETag and version from here instead of a second `HEAD`.
fn listed() -> &'static Mutex<HashMap<String, Listed>> {
    static LISTED: OnceLock<Mutex<HashMap<String, Listed>>> = OnceLock::new();
    LISTED.get_or_init(Mutex::default)
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
    /// Open the object at `url` (a HEAD request: it exists, its size, its
    /// ETag and version).
    /// An object listed by [`list`] is not asked again: its size, ETag
    /// and version are the listing's.
    pub fn open(url: &str) -> Result<RemoteFile> {
        let (store, path) = store_for(url, &[])?;
        let listed = listed()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .cloned();
        match listed {
            Some(meta) => Ok(RemoteFile::with_meta(url, store, path, meta, BLOCK)),
            None => RemoteFile::open_in(url, store, path, BLOCK),
        }
    }

    /// Open the object at `path` in `store`, named `url` in messages, read
    /// in GETs of at most `block` bytes.
    pub(crate) fn open_in(
        url: &str,
        store: Arc<dyn ObjectStore>,
        path: StorePath,
        block: u64,
    ) -> Result<RemoteFile> {
        let meta = block_on(store.head(&path))?.map_err(|e| Failure::of(url, &e))?;
        super::progress();
        let meta = Listed {
            size: meta.size,
            e_tag: meta.e_tag,
            version: meta.version,
        };
        Ok(RemoteFile::with_meta(url, store, path, meta, block))
    }

    fn with_meta(
        url: &str,
        store: Arc<dyn ObjectStore>,
        path: StorePath,
        meta: Listed,
        block: u64,
    ) -> RemoteFile {
        RemoteFile {
            object: Arc::new(Object {
                url: url.to_string(),
                store,
                path,
                size: meta.size,
                e_tag: meta.e_tag,
                version: meta.version,
                block: block.max(1),
                fences: Arc::from(Vec::new()),
            }),
            blocks: Arc::default(),
            pos: 0,
        }
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
            e_tag: self.object.e_tag.clone(),
            version: self.object.version.clone(),
            block: self.object.block,
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

    /// Why `length` bytes at `start` cannot be read, if they go past the
    /// object's end (a corrupt offset, as a local file's would be: an
    /// end-of-file error, not a store failure).
    pub(crate) fn past_end(&self, start: u64, length: usize) -> Option<String> {
        let size = self.object.size;
        let end = start.checked_add(length as u64);
        end.is_none_or(|end| end > size).then(|| {
            format!("Expected to read {length} bytes at offset {start}, past the end of the object ({size} bytes)")
        })
    }

    /// `length` bytes at `start`, from a cached block or new ones (never
    /// more than a block per GET). Callers check [`RemoteFile::past_end`]
    /// first; a read past the end is a failure here.
    pub fn bytes_at(&self, start: u64, length: usize) -> std::result::Result<Bytes, Failure> {
        let o = &self.object;
        let end = start.saturating_add(length as u64);
        if let Some(why) = self.past_end(start, length) {
            return Err(Failure::new(&o.url, why));
        }
        if length == 0 {
            return Ok(Bytes::new());
        }
        if length as u64 > o.block {
            // One large read (a large Parquet page): block-sized GETs.
            let mut out = BytesMut::with_capacity(length);
            let mut at = start;
            while at < end {
                let n = (end - at).min(o.block);
                out.extend_from_slice(&self.bytes_at(at, n as usize)?);
                at += n;
            }
            return Ok(out.freeze());
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
            o.size.saturating_sub(TAIL.min(o.block).max(length as u64))..o.size
        } else {
            let ahead = (start + o.block).min(o.fence_after(start)).min(o.size);
            start..ahead.max(end)
        };
        let data = o.fetch(range.clone())?;
        let at = (start - range.start) as usize;
        let out = data.slice(at..at + length);
        if data.len() as u64 <= o.block {
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
        // At most a block: a short read, never one GET of the caller's
        // whole buffer.
        let left = self.object.size.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left).min(self.object.block) as usize;
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
        if let Some(why) = self.past_end(start, length) {
            return Err(parquet::errors::ParquetError::EOF(why));
        }
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
    let mut out: Vec<(String, Listed)> = found
        .into_iter()
        .filter_map(|m| {
            let rest = m
                .location
                .prefix_match(&prefix)?
                .map(|p| encode_segment(p.as_ref()))
                .collect::<Vec<_>>();
            let meta = Listed {
                size: m.size,
                e_tag: m.e_tag,
                version: m.version,
            };
            (!rest.is_empty()).then(|| (format!("{base}/{}", rest.join("/")), meta))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let mut known = listed().lock().unwrap_or_else(|p| p.into_inner());
    Ok(out
        .into_iter()
        .map(|(url, meta)| {
            known.insert(url.clone(), meta);
            url
        })
        .collect())
}

/// One segment of an object's key as it is written in a URL: percent-
/// encoded but for the characters that a URL's path keeps as they are, so
/// that [`RemoteFile::open`] (which decodes the path) names the same key.
/// `ts=2024-01-01 10%3A00` becomes `ts=2024-01-01%2010%253A00`.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

    use object_store::memory::InMemory;
    use object_store::PutPayload;
    use parquet::file::reader::ChunkReader;

    /// An object of `n` bytes (`i % 251`) in a store in memory.
    fn in_memory(n: usize) -> (Arc<InMemory>, StorePath) {
        let store = Arc::new(InMemory::new());
        let path = StorePath::from("dir/obj.bin");
        let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        block_on(store.put(&path, PutPayload::from(data)))
            .unwrap()
            .unwrap();
        (store, path)
    }

    fn open_mem(store: &Arc<InMemory>, path: &StorePath, block: u64) -> RemoteFile {
        RemoteFile::open_in("mem://obj.bin", store.clone(), path.clone(), block).unwrap()
    }

    #[test]
    fn a_changed_object_is_data_changed() {
        let (store, path) = in_memory(1000);
        let f = open_mem(&store, &path, 100);
        assert_eq!(f.bytes_at(0, 10).unwrap()[5], 5);
        // Overwritten by another writer: same size, other bytes.
        block_on(store.put(&path, PutPayload::from(vec![7u8; 1000])))
            .unwrap()
            .unwrap();
        let e = f.bytes_at(500, 10).unwrap_err();
        assert!(e.changed, "{e}");
        assert!(e.problem.contains("changed while skewer read it"), "{e}");
        let err: Error = e.into();
        assert!(
            matches!(&err, Error::DataChanged { path, .. } if path.to_str() == Some("mem://obj.bin")),
            "{err:?}"
        );
    }

    #[test]
    fn a_query_or_fragment_is_refused() {
        for u in [
            "https://example.org/x.csv?X-Amz-Signature=abc",
            "http://127.0.0.1:9/data?id=3",
            "https://example.org/x.csv#part",
            "s3://bucket/key.csv?versionId=1",
        ] {
            let f = store_for(u, &[]).unwrap_err();
            assert_eq!(f.url, u);
            assert!(f.problem.contains("query"), "{f}");
        }
        assert!(store_for("https://example.org/a%3Fb.csv", &[]).is_ok());
    }

    #[test]
    fn no_get_asks_for_more_than_a_block() {
        let (store, path) = in_memory(1000);
        let mut f = open_mem(&store, &path, 64);
        // A read asks for at most a block (a short read).
        let mut buf = vec![0u8; 500];
        assert_eq!(f.read(&mut buf).unwrap(), 64);
        assert_eq!(buf[63], 63);
        // A large read is fetched in block-sized pieces, each cached.
        let g = f.reopen();
        let b = g.get_bytes(100, 300).unwrap();
        let want: Vec<u8> = (100..400).map(|i| (i % 251) as u8).collect();
        assert_eq!(&b[..], &want[..]);
        let blocks = g.blocks.lock().unwrap();
        assert!(blocks.0.len() >= 5, "{}", blocks.0.len());
        assert!(blocks.0.iter().all(|b| b.data.len() as u64 <= 64));
        // The whole object through `Read`, in short reads.
        let mut all = Vec::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 1000);
        assert_eq!(all[999], (999 % 251) as u8);
    }

    #[test]
    fn a_read_past_the_end_is_end_of_file_not_a_store_failure() {
        let (store, path) = in_memory(100);
        let f = open_mem(&store, &path, 64);
        match f.get_bytes(90, 20) {
            Err(parquet::errors::ParquetError::EOF(why)) => {
                assert!(why.contains("past the end"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            f.get_bytes(u64::MAX - 1, 20),
            Err(parquet::errors::ParquetError::EOF(_))
        ));
        let blob = super::super::blob::Blob::Remote(f.clone());
        let mut buf = [0u8; 20];
        let e = super::super::blob::ReadAt::read_exact_at(&blob, &mut buf, 95).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(failure_in_io(&e).is_none());
        assert_eq!(f.get_bytes(80, 20).unwrap()[0], 80);
    }

    #[test]
    fn listed_keys_are_escaped_as_open_decodes_them() {
        for key in [
            "ts=2024-01-01 10%3A00",
            "a#b?c",
            "plain-name_1.parquet",
            "é",
        ] {
            let url = format!("s3://b/{}/part.parquet", encode_segment(key));
            let (_, path) = store_for(&url, &[("AWS_REGION", "us-east-1")]).unwrap();
            assert_eq!(path.as_ref(), format!("{key}/part.parquet"), "{url}");
        }
        assert_eq!(
            encode_segment("ts=2024-01-01 10%3A00"),
            "ts=2024-01-01%2010%253A00"
        );
    }

    #[test]
    fn one_store_serves_a_bucket() {
        let s = [("AWS_REGION", "us-east-1")];
        let (a, _) = store_for("s3://shared-bucket/a.csv", &s).unwrap();
        let (b, _) = store_for("s3://shared-bucket/dir/b.csv", &s).unwrap();
        let (c, _) = store_for("s3://other-bucket/a.csv", &s).unwrap();
        let (d, _) = store_for("s3://shared-bucket/a.csv", &[("AWS_REGION", "eu-west-1")]).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(!Arc::ptr_eq(&a, &d));
    }
}
