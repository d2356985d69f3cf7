//! TFDV interop: skewer's profiles, schemas and anomalies as
//! tensorflow-metadata's protocol buffers, and TFDV's schemas back.
//!
//! The messages are tensorflow-metadata's own (`proto/`, generated from the
//! published descriptors by `proto/gen.py`), compiled by `build.rs` with
//! protox and prost-build. Binary files are prost's encoding; the text
//! format goes through prost-reflect with the same descriptors, both ways,
//! so no parser or printer of ours is involved. The conversions are pure
//! functions from skewer's types to the messages and back; what has no
//! equivalent on the other side is returned as a list of [`Unmapped`]
//! notes, never dropped in silence.

pub mod anomalies;
pub mod schema;
pub mod statistics;

use std::path::Path;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};

use crate::error::{Error, Result};

/// The generated message types of `tensorflow.metadata.v0`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/tensorflow.metadata.v0.rs"));
}

/// The descriptor set of `proto/` (what build.rs compiled).
pub const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/tensorflow_metadata.bin"));

/// How a TFDV file is written or read: chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `.pb` (or any other name): the binary wire format.
    Binary,
    /// `.pbtxt`, `.textproto`, `.prototxt`, `.txt`: protobuf's text
    /// format.
    Text,
}

impl Encoding {
    /// Text for `.pbtxt`, `.textproto`, `.txt` and `.prototxt`; binary
    /// otherwise (`-`, standard output, is text: it is read by people).
    pub fn of_path(path: &Path) -> Encoding {
        if crate::files::is_stdout(path) {
            return Encoding::Text;
        }
        let text = path.extension().is_some_and(|e| {
            ["pbtxt", "textproto", "prototxt", "txt"]
                .iter()
                .any(|t| e.eq_ignore_ascii_case(t))
        });
        if text {
            Encoding::Text
        } else {
            Encoding::Binary
        }
    }
}

/// Something on one side that the other side cannot say: the feature
/// (None for the dataset or the whole file), the field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    pub feature: Option<String>,
    pub field: String,
    pub detail: String,
}

impl std::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.feature {
            Some(name) => write!(f, "feature {name:?}: {}: {}", self.field, self.detail),
            None => write!(f, "{}: {}", self.field, self.detail),
        }
    }
}

fn pool() -> Result<DescriptorPool> {
    DescriptorPool::decode(DESCRIPTOR_SET)
        .map_err(|e| Error::Internal(format!("the tensorflow-metadata descriptors: {e}")))
}

/// The descriptors with every map entry made an ordinary nested message,
/// so that a map field reads as the repeated field of entries it is on
/// the wire, in the wire's order. prost-reflect keeps a map in a
/// `HashMap` and prints it in that (per-process) order; prost writes maps
/// in key order (`btree_map` in build.rs), so through this pool the text
/// format lists the entries sorted by key, in the same syntax
/// (`anomaly_info: [{ key: … value { … } }, …]`).
fn ordered_pool() -> Result<DescriptorPool> {
    fn unmap(ms: &mut [prost_types::DescriptorProto]) {
        for m in ms {
            if let Some(o) = m.options.as_mut() {
                o.map_entry = None;
            }
            unmap(&mut m.nested_type);
        }
    }
    let mut set = prost_types::FileDescriptorSet::decode(DESCRIPTOR_SET)
        .map_err(|e| Error::Internal(format!("the tensorflow-metadata descriptors: {e}")))?;
    for f in &mut set.file {
        unmap(&mut f.message_type);
    }
    DescriptorPool::from_file_descriptor_set(set)
        .map_err(|e| Error::Internal(format!("the tensorflow-metadata descriptors: {e}")))
}

/// `m` encoded as `enc` (text: pretty, fields in number order, maps in
/// key order, defaults left out, as TFDV's own writers do): the same
/// message always gives the same bytes.
pub fn encode<M: Message + prost::Name>(m: &M, enc: Encoding) -> Result<Vec<u8>> {
    let bytes = m.encode_to_vec();
    if enc == Encoding::Binary {
        return Ok(bytes);
    }
    let desc = ordered_pool()?
        .get_message_by_name(&M::full_name())
        .ok_or_else(|| Error::Internal(format!("no descriptor of {}", M::full_name())))?;
    let dm = DynamicMessage::decode(desc, bytes.as_slice())
        .map_err(|e| Error::Internal(format!("re-reading {}: {e}", M::full_name())))?;
    let mut text = dm.to_text_format_with_options(
        &prost_reflect::text_format::FormatOptions::new().pretty(true),
    );
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text.into_bytes())
}

/// Read a message of type `M` from `path`, binary or text by its
/// extension; an error names the file and what is wrong.
pub fn read<M: Message + prost::Name + Default + 'static>(path: &Path) -> Result<M> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(path, &bytes, Encoding::of_path(path))
}

/// Decode `bytes` (from `path`, named in errors) as `enc`. A schema is
/// also checked for what its types cannot forbid and skewer cannot read
/// (negative counts: [`schema::check`]).
pub fn decode<M: Message + prost::Name + Default + 'static>(
    path: &Path,
    bytes: &[u8],
    enc: Encoding,
) -> Result<M> {
    let bad = |detail: String| Error::BadProto {
        path: path.into(),
        message: M::full_name(),
        detail,
    };
    let m = decode_unchecked::<M>(bytes, enc, &bad)?;
    if let Some(s) = (&m as &dyn std::any::Any).downcast_ref::<pb::Schema>() {
        schema::check(s).map_err(bad)?;
    }
    Ok(m)
}

fn decode_unchecked<M: Message + prost::Name + Default>(
    bytes: &[u8],
    enc: Encoding,
    bad: &dyn Fn(String) -> Error,
) -> Result<M> {
    match enc {
        Encoding::Binary => M::decode(bytes).map_err(|e| bad(e.to_string())),
        Encoding::Text => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| bad(format!("text format that is not UTF-8: {e}")))?;
            let desc = pool()?
                .get_message_by_name(&M::full_name())
                .ok_or_else(|| Error::Internal(format!("no descriptor of {}", M::full_name())))?;
            let dm = DynamicMessage::parse_text_format(desc, text).map_err(|e| {
                let line = line_of(text, &e);
                bad(format!("{line}{e}"))
            })?;
            M::decode(dm.encode_to_vec().as_slice()).map_err(|e| bad(e.to_string()))
        }
    }
}

/// "line N: " of a text-format error, where it has a position.
fn line_of(text: &str, e: &prost_reflect::text_format::ParseError) -> String {
    use miette::Diagnostic;
    let at = e.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    match at {
        Some(at) => {
            let before = text.get(..at).unwrap_or(text);
            format!("line {}: ", before.matches('\n').count() + 1)
        }
        None => String::new(),
    }
}

/// Write `m` to `path` as its extension says, atomically (`-`: standard
/// output, as text).
pub fn write<M: Message + prost::Name>(path: &Path, m: &M) -> Result<()> {
    crate::files::write_atomic(path, &encode(m, Encoding::of_path(path))?)
}

/// Notes grouped for people: one line per field and reason, naming every
/// feature it concerns (in order of first appearance).
pub fn summarize(notes: &[Unmapped]) -> Vec<String> {
    let mut groups: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for n in notes {
        let at = groups
            .iter()
            .position(|(f, d, _)| *f == n.field && *d == n.detail);
        let i = at.unwrap_or_else(|| {
            groups.push((&n.field, &n.detail, Vec::new()));
            groups.len() - 1
        });
        if let Some(name) = &n.feature {
            groups[i].2.push(name);
        }
    }
    groups
        .into_iter()
        .map(|(field, detail, features)| match features.as_slice() {
            [] => format!("{field}: {detail}"),
            fs => {
                let names: Vec<String> = fs.iter().map(|f| format!("{f:?}")).collect();
                let which = if fs.len() == 1 { "feature" } else { "features" };
                format!("{field}: {detail} ({which} {})", names.join(", "))
            }
        })
        .collect()
}
