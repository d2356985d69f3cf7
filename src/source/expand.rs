//! A dataset as named on the command line: files, folders (read
//! recursively, Hive-style `key=value/` folders becoming columns) and globs,
//! expanded by skewer itself so that a quoted glob works.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::Format;
use crate::error::{Error, Result};

/// One file of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: PathBuf,
    /// The `key=value` folders between the folder (or the glob's fixed
    /// part) that was named and the file, outermost first; a value of
    /// `__HIVE_DEFAULT_PARTITION__` is null.
    pub partition: Vec<(String, Option<String>)>,
}

/// Hive's (and Spark's) name for a null partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// The files that `specs` name, in a fixed order: each spec in turn, the
/// files of a folder or a glob sorted by path. Standard input ("-") and
/// paths that do not exist are passed on as they are (opening them says
/// what is wrong). A folder takes the files in a format skewer reads
/// (every file with `--format`), leaving out hidden ones (`.name`) and
/// those that mark rather than hold data (`_SUCCESS`, `_metadata`). On an
/// object store (see [`remote`]) a prefix is a folder.
pub(crate) fn expand(specs: &[PathBuf], format: Option<Format>) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for spec in specs {
        let text = spec.to_string_lossy();
        let plain = |name: &Path| Entry {
            name: name.to_path_buf(),
            partition: Vec::new(),
        };
        if super::remote::is_url(&text) {
            out.extend(remote(&text, format)?);
        } else if text == "-" || spec.is_file() {
            out.push(plain(spec));
        } else if spec.is_dir() {
            let files = walk(spec, format)?;
            if files.is_empty() {
                return Err(no_data(spec, format));
            }
            out.extend(files.iter().map(|f| entry(spec, f, false)));
        } else if is_glob(&text) {
            let options = glob::MatchOptions {
                require_literal_leading_dot: true,
                ..Default::default()
            };
            let pattern = glob::glob_with(&text, options).map_err(|e| {
                Error::InvalidOption(format!("{text}: not a valid glob pattern: {}", e.msg))
            })?;
            let root = fixed_part(spec);
            let mut files = Vec::new();
            for hit in pattern {
                let hit = hit.map_err(|e| Error::io(e.path().to_path_buf(), e.into()))?;
                // `_temporary/`, `.staging/`: matched by `*` but not data.
                if hidden(hit.strip_prefix(&root).unwrap_or(&hit)) {
                    continue;
                }
                if hit.is_dir() {
                    files.extend(walk(&hit, format)?);
                } else if wanted(&hit, format) {
                    files.push(hit);
                }
            }
            if files.is_empty() {
                return Err(no_match(spec));
            }
            files.sort();
            files.dedup();
            out.extend(files.iter().map(|f| entry(&root, f, false)));
        } else {
            out.push(plain(spec));
        }
    }
    // A file named twice (a folder and a glob in it) is read once.
    let mut seen = HashSet::new();
    out.retain(|e| seen.insert(e.name.clone()));
    check_partitions(&out)?;
    Ok(out)
}

/// The objects a URL names: a folder where it ends in `/` (or names no
/// format and `--format` is not given), a glob where it has a pattern
/// (not on HTTP, where `?` starts a query and nothing can be listed),
/// else the one object.
fn remote(url: &str, format: Option<Format>) -> Result<Vec<Entry>> {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let glob = !http && is_glob(url);
    let folder = !http
        && !glob
        && (url.ends_with('/')
            || (format.is_none() && Format::from_path(Path::new(url)).is_none()));
    if !glob && !folder {
        return Ok(vec![Entry {
            name: url.into(),
            partition: Vec::new(),
        }]);
    }
    // Where listing starts: the folder, or the glob's part before its
    // first pattern, back to a `/`.
    let root = match url.find(['*', '?', '[']) {
        Some(i) if glob => &url[..url[..i].rfind('/').map_or(0, |j| j + 1)],
        _ => url,
    };
    // The bucket (or container) itself is named, not matched.
    if root.len() <= scheme.len() + 3 || !root[scheme.len() + 3..].contains('/') {
        return Err(Error::InvalidOption(format!(
            "{url}: a pattern in the bucket's name; name the bucket and put the pattern after it"
        )));
    }
    let root = format!("{}/", root.trim_end_matches('/'));
    let pattern = glob
        .then(|| glob::Pattern::new(url))
        .transpose()
        .map_err(|e| Error::InvalidOption(format!("{url}: not a valid glob pattern: {}", e.msg)))?;
    let matching = glob::MatchOptions {
        require_literal_separator: true,
        ..Default::default()
    };
    let mut out = Vec::new();
    for object in super::remote::list(&root)? {
        let rel = Path::new(&object[root.len().min(object.len())..]);
        // A glob's match may be a folder: its objects are taken too.
        let matched = pattern.as_ref().is_none_or(|p| {
            rel.ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| {
                    let a = unescape(&a.to_string_lossy());
                    p.matches_with(&format!("{root}{a}"), matching)
                })
        });
        if matched && !hidden(rel) && wanted(rel, format) {
            out.push(entry(Path::new(&root), Path::new(&object), true));
        }
    }
    if out.is_empty() {
        return Err(if glob {
            no_match(Path::new(url))
        } else {
            no_data(Path::new(url), format)
        });
    }
    // In path order, as a local folder's files are.
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The leading components of a glob without a pattern in them: where its
/// matches' partition folders start.
fn fixed_part(pattern: &Path) -> PathBuf {
    pattern
        .components()
        .take_while(|c| !is_glob(&c.as_os_str().to_string_lossy()))
        .collect()
}

fn no_match(pattern: &Path) -> Error {
    Error::BadDataset {
        path: pattern.to_path_buf(),
        detail: "no data files match this pattern".into(),
    }
}

fn no_data(dir: &Path, format: Option<Format>) -> Error {
    let detail = if format.is_some() {
        "the folder holds no files".to_string()
    } else {
        "the folder holds no files in a format skewer reads (.parquet, .csv, .tsv, .arrow, .feather, .arrows); name the format with --format to read files of other names".to_string()
    };
    Error::BadDataset {
        path: dir.to_path_buf(),
        detail,
    }
}

/// Whether a path (under the folder or glob that found it) is hidden
/// (`.name`) or a marker rather than data (`_SUCCESS`, `_temporary/`) in
/// any of its parts.
fn hidden(rel: &Path) -> bool {
    rel.components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with(['.', '_']))
}

/// Whether a file found in a folder or by a glob is data to read.
fn wanted(path: &Path, format: Option<Format>) -> bool {
    let name = path.file_name().map(Path::new);
    !name.is_none_or(hidden) && (format.is_some() || Format::from_path(path).is_some())
}

/// The data files under `dir`, recursively, sorted by path. Folders reached
/// twice (through links) are read once, so a link loop ends.
fn walk(dir: &Path, format: Option<Format>) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let real = std::fs::canonicalize(&d).map_err(|e| Error::io(&d, e))?;
        if !seen.insert(real) {
            continue;
        }
        let mut items = std::fs::read_dir(&d)
            .and_then(|it| {
                it.map(|i| i.map(|i| i.path()))
                    .collect::<std::io::Result<Vec<_>>>()
            })
            .map_err(|e| Error::io(&d, e))?;
        // In order, so that of two links to one folder the same is kept
        // on every machine. (Popped from the end: the stack gets them
        // reversed.)
        items.sort_unstable_by(|a, b| b.cmp(a));
        for path in items {
            if path.is_dir() {
                if !path.file_name().map(Path::new).is_none_or(hidden) {
                    todo.push(path);
                }
            } else if wanted(&path, format) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A file found under `root`, with the `key=value` folders between them.
/// In a URL (`in_url`), each part is percent-encoded once more than the
/// folder's name.
fn entry(root: &Path, file: &Path, in_url: bool) -> Entry {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let folders = rel.parent().map(|p| p.components()).into_iter().flatten();
    let partition = folders
        .filter_map(|c| {
            let c = c.as_os_str().to_string_lossy();
            let c = if in_url { unescape(&c) } else { c.into_owned() };
            let (k, v) = c.split_once('=')?;
            let v = unescape(v);
            (!k.is_empty()).then(|| (unescape(k), (v != HIVE_NULL).then_some(v)))
        })
        .collect();
    Entry {
        name: file.to_path_buf(),
        partition,
    }
}

/// A partition folder's key or value as Hive writes it: `%XX` escapes
/// (of `/`, `=`, `%`, `:` …) decoded.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every file of a dataset must sit under the same partition keys, in the
/// same order: otherwise a column would exist for some rows only.
fn check_partitions(entries: &[Entry]) -> Result<()> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    let keys = |e: &Entry| {
        e.partition
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    };
    let want = keys(first);
    let mut seen = HashSet::new();
    if let Some(dup) = want.iter().find(|k| !seen.insert(*k)) {
        return Err(Error::BadDataset {
            path: first.name.clone(),
            detail: format!("the partition key {dup:?} appears in two of its folders"),
        });
    }
    for e in entries {
        let got = keys(e);
        if got != want {
            let list = |k: &[String]| {
                if k.is_empty() {
                    "none".to_string()
                } else {
                    k.join(", ")
                }
            };
            return Err(Error::BadDataset {
                path: e.name.clone(),
                detail: format!(
                    "its partition folders give the keys {} where {} gives {}; every file of a dataset needs the same keys",
                    list(&got),
                    first.name.display(),
                    list(&want)
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn folders_recurse_sorted_with_hive_keys_and_without_markers() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("day=2024-01-02/part-1.parquet"));
        touch(&d.join("day=2024-01-01/part-0.parquet"));
        touch(&d.join("day=2024-01-01/_SUCCESS"));
        touch(&d.join("day=2024-01-01/.part-0.parquet.crc"));
        touch(&d.join("day=__HIVE_DEFAULT_PARTITION__/part-2.parquet"));
        touch(&d.join("day=2024-01-01/notes.md"));
        let got = expand(&[d.to_path_buf()], None).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|e| {
                e.name
                    .strip_prefix(d)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "day=2024-01-01/part-0.parquet",
                "day=2024-01-02/part-1.parquet",
                "day=__HIVE_DEFAULT_PARTITION__/part-2.parquet"
            ]
        );
        let days: Vec<_> = got.iter().map(|e| e.partition[0].1.clone()).collect();
        assert_eq!(
            days,
            [Some("2024-01-01".into()), Some("2024-01-02".into()), None]
        );
        // With --format, files of any name (still not the hidden ones).
        assert_eq!(
            expand(&[d.to_path_buf()], Some(Format::Parquet))
                .unwrap()
                .len(),
            4
        );
    }

    #[test]
    fn globs_are_expanded_with_keys_below_their_fixed_part() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("k=a/x=1/f.csv"));
        touch(&d.join("k=b/x=2/f.csv"));
        touch(&d.join("k=b/x=2/g.parquet"));
        let got = expand(&[d.join("k=*/x=*/*.csv")], None).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].partition,
            [
                ("k".into(), Some("b".into())),
                ("x".into(), Some("2".into()))
            ]
        );
        // Spark's staging folders match `*` but are not data.
        touch(&d.join("k=a/_temporary/f.csv"));
        touch(&d.join("k=a/.staging/f.csv"));
        assert_eq!(expand(&[d.join("k=a/*/*.csv")], None).unwrap().len(), 1);
        // A file named twice is read once.
        let twice = expand(&[d.join("k=b"), d.join("k=b/x=2/*.csv")], None).unwrap();
        assert_eq!(twice.len(), 2, "{twice:?}");
        let none = expand(&[d.join("*.json")], None).unwrap_err().to_string();
        assert!(none.contains("no data files match"), "{none}");
    }

    #[test]
    fn mixed_partition_keys_and_empty_folders_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join("a/k=1/f.csv"));
        touch(&d.join("a/g.csv"));
        let e = expand(&[d.join("a")], None).unwrap_err().to_string();
        assert!(
            e.contains("gives none; every file of a dataset needs the same keys"),
            "{e}"
        );
        std::fs::create_dir_all(d.join("empty")).unwrap();
        let e = expand(&[d.join("empty")], None).unwrap_err().to_string();
        assert!(e.contains("no files in a format skewer reads"), "{e}");
    }

    #[test]
    fn a_pattern_in_a_bucket_name_is_refused_before_any_request() {
        let e = expand(&["s3://logs-*/x.parquet".into()], None).unwrap_err();
        assert!(
            e.to_string().contains("a pattern in the bucket's name"),
            "{e}"
        );
    }

    #[test]
    fn hive_escapes_are_decoded() {
        assert_eq!(unescape("a%2Fb%3Dc%25"), "a/b=c%");
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("%zz"), "%zz");
    }
}
