//! Profiles of groups of rows, made in the same passes as the whole:
//! slices (`--slice-by`: each value of some columns), windows
//! (`--window`: each hour, day or week of a time column), the label's
//! classes (`--label`, as slices by it), and with both `--window` and
//! `--label`, each window's classes (a group per window and class; the
//! window is the merge of its classes, as the whole of slices is).
//!
//! Each row belongs to at most one group, found per batch from the group
//! columns ([`Keys`]). Each group has its own pass-one states, and its
//! own slot among the values kept for pass two (slot g + 1 for group g).
//! The whole (for slices, where every row is in a group) is the merge of
//! the groups' states, and its pass two reads every group's slot: each
//! value is counted and kept once. Pass two therefore runs on what pass one kept,
//! as it does for one profile. A leaf that spilled is read again together
//! with the group columns. A group's profile is the profile of its rows,
//! because the same kernels (the CPU's or the GPU's) run over each
//! group's rows, taken out of the batch in their order.
//!
//! Some formats decode columns separately (Parquet). There, the group of
//! every row of a partition is computed once, from the group columns read
//! alone, and shared by the items of its columns. It is freed when the
//! partition's last item is done.

use std::collections::BTreeMap;

use hashbrown::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;

use arrow::array::UInt32Array;
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};

use super::*;
use crate::profile::{SliceProfile, Window};

/// Groups (slices or windows) at most: each holds states of every column.
pub const MAX_GROUPS: usize = 1000;

/// Bytes of the groups' sketches at most (apart from `--memory-budget`,
/// which bounds the values kept between the passes): each group holds a
/// dense sketch of 2^16 buckets per numeric column.
pub const MAX_SKETCH_BYTES: u64 = 4 << 30;

/// The group of a row that is in none (its window's time is null).
const NONE: u32 = u32::MAX;

/// Windows are counted from Monday 1970-01-05T00:00:00Z, so that 7d
/// windows are weeks from Monday. Widths that divide 96 hours (1h, 6h,
/// 1d, 2d) start where they would from the epoch; others (5h, 3d) at
/// whole widths from that Monday.
const ORIGIN: i64 = 4 * 86_400;

/// The window of `width` seconds that holds `secs`: its number and its
/// start. None for times so far from 1970 that the arithmetic overflows.
pub(crate) fn window_of(secs: i64, width: i64) -> Option<(i64, i64)> {
    let w = secs.checked_sub(ORIGIN)?.div_euclid(width);
    Some((w, w.checked_mul(width)?.checked_add(ORIGIN)?))
}

/// How rows are grouped.
#[derive(Debug, Clone)]
pub enum GroupBy {
    /// Each combination of the values of some columns.
    Slices(Slicing),
    /// Each window of `width` of a timestamp or date column, in UTC; with
    /// `classes` (`--label`), each window's rows sliced by the label too.
    Windows {
        column: String,
        width: Width,
        classes: Option<Slicing>,
    },
}

impl GroupBy {
    /// `--window COL=WIDTH` (such as `ts=1d`), with the label's
    /// `classes` in each window.
    pub fn windows(spec: &str, classes: Option<Slicing>) -> Result<GroupBy> {
        let (column, width) = spec.rsplit_once('=').ok_or_else(|| {
            Error::InvalidOption(format!(
                "--window takes COL=WIDTH (such as ts=1d), got {spec:?}"
            ))
        })?;
        Ok(GroupBy::Windows {
            column: column.to_string(),
            width: Width::parse(width)?,
            classes,
        })
    }

    /// The columns the groups are read from.
    pub fn columns(&self) -> Vec<String> {
        match self {
            GroupBy::Slices(s) => s.columns.clone(),
            GroupBy::Windows {
                column, classes, ..
            } => std::iter::once(column.clone())
                .chain(classes.iter().flat_map(|s| s.columns.clone()))
                .collect(),
        }
    }

    fn flag(&self) -> &'static str {
        match self {
            GroupBy::Slices(_) => "--slice-by",
            GroupBy::Windows { .. } => "--window",
        }
    }
}

/// The width of a window: whole hours or whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Width {
    seconds: i64,
}

impl Width {
    /// `1h`, `6h`, `1d`, `7d`: a count of hours (`h`) or days (`d`), up to
    /// ten years.
    pub fn parse(s: &str) -> Result<Width> {
        let bad = || {
            Error::InvalidOption(format!(
                "window width {s:?}: give hours or days, such as 1h, 1d or 7d"
            ))
        };
        let (n, unit) = match (s.strip_suffix('h'), s.strip_suffix('d')) {
            (Some(n), _) => (n, 3_600),
            (_, Some(n)) => (n, 86_400),
            _ => return Err(bad()),
        };
        let n: i64 = n.parse().map_err(|_| bad())?;
        if !(1..=3_650 * 86_400 / unit).contains(&n) {
            return Err(bad());
        }
        Ok(Width { seconds: n * unit })
    }

    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// As [`Width::parse`] reads it: days where whole.
    pub fn text(self) -> String {
        match self.seconds % 86_400 {
            0 => format!("{}d", self.seconds / 86_400),
            _ => format!("{}h", self.seconds / 3_600),
        }
    }
}

/// Which rows a group holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Label {
    /// The slice columns' values (None: null).
    Slice(Vec<Option<String>>),
    /// The slices beyond the largest `max`.
    Other,
    /// The window's start, in seconds since the epoch.
    Window(i64),
    /// A class of the label (its values) in the window that starts then.
    Class(i64, Vec<Option<String>>),
    /// The classes of that window beyond the largest `max`.
    ClassOther(i64),
}

impl Label {
    /// The start of the window the group is of.
    fn start(&self) -> Option<i64> {
        match self {
            Label::Window(t) | Label::Class(t, _) | Label::ClassOther(t) => Some(*t),
            Label::Slice(_) | Label::Other => None,
        }
    }

    /// The slice's (or class's) values.
    fn values(&self) -> Option<&Vec<Option<String>>> {
        match self {
            Label::Slice(v) | Label::Class(_, v) => Some(v),
            _ => None,
        }
    }
}

/// The profile of one group's rows.
#[derive(Debug)]
pub struct Group {
    pub label: Label,
    pub profile: DatasetProfile,
}

/// What [`profile_groups`] made.
#[derive(Debug)]
pub struct Grouped {
    pub by: GroupBy,
    /// The profile of every row (slices only).
    pub whole: Option<DatasetProfile>,
    /// Slices largest first (the "other" slice last); windows in time order.
    pub groups: Vec<Group>,
}

impl Grouped {
    /// The whole profile, with its slices (`--slice-by`).
    pub fn sliced(self) -> Result<DatasetProfile> {
        let (GroupBy::Slices(Slicing { columns, .. }), Some(mut whole)) = (self.by, self.whole)
        else {
            return Err(Error::Internal("slices without the whole profile".into()));
        };
        whole.slices = self
            .groups
            .into_iter()
            .map(|g| slice_of(&columns, g))
            .collect();
        Ok(whole)
    }

    /// One profile per window (`--window`), in time order; with classes
    /// (`--label`), each with its classes as slices and labelled.
    pub fn windows(self) -> Result<Vec<DatasetProfile>> {
        let GroupBy::Windows {
            column,
            width,
            classes,
        } = self.by
        else {
            return Err(Error::Internal("windows of slices".into()));
        };
        let mut out: Vec<DatasetProfile> = Vec::new();
        for g in self.groups {
            match (&g.label, &classes, out.last_mut()) {
                (Label::Window(start), _, _) => {
                    let mut p = g.profile;
                    p.window = Some(Window {
                        column: column.clone(),
                        width: width.text(),
                        start: instant(*start),
                        end: instant(start.saturating_add(width.seconds)),
                    });
                    p.label = classes.as_ref().map(|s| s.columns.join(","));
                    out.push(p);
                }
                (Label::Class(..) | Label::ClassOther(_), Some(s), Some(w)) => {
                    w.slices.push(slice_of(&s.columns, g));
                }
                _ => return Err(Error::Internal("a window's class before its window".into())),
            }
        }
        if classes.is_some() {
            out.iter_mut()
                .for_each(crate::compare::concept::attach_tables);
        }
        Ok(out)
    }
}

/// A group's profile as a slice of `columns`' values.
fn slice_of(columns: &[String], g: Group) -> SliceProfile {
    let other = matches!(g.label, Label::Other | Label::ClassOther(_));
    let values = match g.label {
        Label::Slice(v) | Label::Class(_, v) => v,
        _ => vec![Some(OTHER.into()); columns.len()],
    };
    SliceProfile {
        slice: columns.iter().cloned().zip(values).collect(),
        other,
        num_rows: g.profile.num_rows,
        features: g.profile.features,
    }
}

/// The value shown for the folded slices.
pub const OTHER: &str = "__other__";

/// Seconds since the epoch as `2026-01-05T00:00:00Z`.
pub fn instant(secs: i64) -> String {
    crate::profile::time::Time::Ticks {
        per_second: 1.0,
        zone: true,
    }
    .show_ticks(secs)
}

/// Which group each row is in: the group columns' values, each distinct
/// one numbered as it is first seen.
struct Keys {
    /// The group columns, as indices into the dataset's schema.
    cols: Vec<usize>,
    how: How,
    by: GroupBy,
    source: String,
    /// Groups at most: [`MAX_GROUPS`], or fewer where their states would
    /// not fit the memory budget.
    max: usize,
    /// `--label`: the label column (its classes are the slices, or each
    /// window's classes).
    label: Option<String>,
    registry: Mutex<Registry>,
}

enum How {
    /// The slice columns' types as keyed.
    Values(Vec<DataType>),
    Window {
        width: i64,
        /// With `--label`: the label column's type as keyed.
        class: Option<DataType>,
    },
}

#[derive(Default)]
struct Registry {
    ids: HashMap<Box<[u8]>, u32>,
    labels: Vec<Label>,
}

impl Keys {
    fn new(
        ds: &Dataset,
        by: &GroupBy,
        source: &str,
        max: usize,
        label: Option<String>,
    ) -> Result<Keys> {
        let schema = ds.schema();
        let mut cols = Vec::new();
        for name in by.columns() {
            let c = schema
                .index_of(&name)
                .map_err(|_| unknown_in(source, schema, &name))?;
            if cols.contains(&c) {
                return Err(Error::InvalidOption(format!(
                    "{}: column {name:?} is named twice",
                    by.flag()
                )));
            }
            cols.push(c);
        }
        let how = match by {
            GroupBy::Slices(_) => How::Values(
                cols.iter()
                    .map(|&c| plain_type(schema.field(c).data_type()))
                    .collect(),
            ),
            GroupBy::Windows { column, width, .. } => {
                let dt = schema.field(cols[0]).data_type();
                if !matches!(
                    dt,
                    DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
                ) {
                    return Err(Error::BadDataset {
                        path: source.into(),
                        detail: format!(
                            "--window: column {column:?} is {}, not a timestamp or a date{}",
                            type_name(dt),
                            match ds.has_csv() {
                                true => format!(
                                    " (a CSV column of ISO 8601 times, such as \
                                     2026-01-05T10:00:00, is read as one with --type \
                                     {column}=timestamp[s]; numbers of seconds are not)"
                                ),
                                false => String::new(),
                            }
                        ),
                    });
                }
                How::Window {
                    width: width.seconds(),
                    class: cols
                        .get(1)
                        .map(|&c| plain_type(schema.field(c).data_type())),
                }
            }
        };
        Ok(Keys {
            cols,
            how,
            by: by.clone(),
            source: source.into(),
            max,
            label,
            registry: Mutex::default(),
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of the group whose key is `key`, numbering it if new.
    fn id_of(&self, key: &[u8], label: impl FnOnce() -> Result<Label>) -> Result<u32> {
        let mut r = self.registry();
        if let Some(&id) = r.ids.get(key) {
            return Ok(id);
        }
        if r.labels.len() >= self.max {
            let max = self.max;
            let why = match max < MAX_GROUPS {
                true => format!(
                    " (each holds a 512 KiB sketch per numeric column, and {} GiB of them \
                     hold {max}: profile fewer columns)",
                    MAX_SKETCH_BYTES >> 30
                ),
                false => String::new(),
            };
            return Err(Error::BadDataset {
                path: self.source.as_str().into(),
                detail: match (&self.by, &self.label) {
                    (GroupBy::Slices(_), Some(l)) => format!(
                        "--label {l}: more than {max} distinct values{why}{}",
                        match max < MAX_GROUPS {
                            true => "",
                            false => "; an integer label is of classes (a label of numbers is a float or decimal column)",
                        }
                    ),
                    (GroupBy::Windows { column, width, .. }, Some(l)) => format!(
                        "--window {column}={} --label {l}: more than {max} groups of a window \
                         and a class{why}; choose wider windows",
                        width.text()
                    ),
                    (GroupBy::Slices(Slicing { columns, .. }), None) => format!(
                        "--slice-by {}: more than {max} distinct values{why}; \
                         slice by a column with fewer",
                        columns.join(",")
                    ),
                    (GroupBy::Windows { column, width, .. }, None) => format!(
                        "--window {column}={}: the data spans more than {max} windows{why}; \
                         choose wider ones",
                        width.text()
                    ),
                },
            });
        }
        let id = r.labels.len() as u32;
        r.labels.push(label()?);
        r.ids.insert(key.into(), id);
        Ok(id)
    }

    /// The group of each row, from the group columns of a batch (in the
    /// order of [`Keys::cols`]).
    fn ids(&self, cols: &[ArrayRef]) -> Result<Vec<u32>> {
        let n = cols.first().map_or(0, |a| a.len());
        let mut out = Vec::with_capacity(n);
        match &self.how {
            How::Values(types) => {
                let (cols, rows) = row_keys(cols, types)?;
                let cols = &cols[..];
                let mut local = HashMap::new();
                let mut prev = None;
                for i in 0..n {
                    let r = rows.row(i);
                    let id = match prev {
                        Some((p, id)) if p == r => id,
                        _ => match local.get(&r) {
                            Some(&id) => id,
                            None => {
                                let id = self.id_of(r.as_ref(), || slice_label(cols, i))?;
                                local.insert(r, id);
                                id
                            }
                        },
                    };
                    prev = Some((r, id));
                    out.push(id);
                }
            }
            How::Window { width, class } => {
                let a = cols[0].as_ref();
                let secs = seconds(a)?;
                // With a label, the key is the window's number and the
                // label's row key.
                let classes = match class {
                    Some(t) => Some(row_keys(&cols[1..2], std::slice::from_ref(t))?),
                    None => None,
                };
                let (label_cols, classes) = match &classes {
                    Some((c, r)) => (&c[..], Some(r)),
                    None => (&[][..], None),
                };
                let mut key = Vec::new();
                let mut prev: Option<(i64, Option<arrow::row::Row>, u32)> = None;
                for i in 0..n {
                    if a.is_null(i) {
                        out.push(NONE);
                        continue;
                    }
                    let (w, start) = window_of(secs(i), *width).ok_or_else(|| {
                        Error::corrupt(format!("a time {} seconds from 1970", secs(i)))
                    })?;
                    let c = classes.map(|r| r.row(i));
                    let id = match prev {
                        Some((pw, pc, id)) if pw == w && pc == c => id,
                        _ => {
                            key.clear();
                            key.extend_from_slice(&w.to_le_bytes());
                            key.extend_from_slice(c.as_ref().map_or(&[][..], |r| r.as_ref()));
                            self.id_of(&key, || match c {
                                None => Ok(Label::Window(start)),
                                Some(_) => match slice_label(label_cols, i)? {
                                    Label::Slice(v) => Ok(Label::Class(start, v)),
                                    _ => Err(Error::Internal("a class without values".into())),
                                },
                            })?
                        }
                    };
                    prev = Some((w, c, id));
                    out.push(id);
                }
            }
        }
        Ok(out)
    }

    fn labels(&self) -> Vec<Label> {
        self.registry().labels.clone()
    }
}

/// The row keys of `cols` keyed as `types` (a column may decode as
/// another type than the schema's, such as Parquet's strings as a
/// dictionary: one key per value).
fn row_keys(cols: &[ArrayRef], types: &[DataType]) -> Result<(Vec<ArrayRef>, arrow::row::Rows)> {
    let internal = |e: arrow::error::ArrowError| Error::Internal(format!("slice keys: {e}"));
    let cols: Vec<ArrayRef> = cols
        .iter()
        .zip(types)
        .map(|(a, t)| match a.data_type() == t {
            true => Ok(a.clone()),
            false => arrow::compute::cast(a, t).map_err(internal),
        })
        .collect::<Result<_>>()?;
    let fields = types.iter().map(|t| SortField::new(t.clone())).collect();
    let conv = RowConverter::new(fields).map_err(internal)?;
    let rows = conv.convert_columns(&cols).map_err(internal)?;
    Ok((cols, rows))
}

/// A slice column's values as keyed: a dictionary's as its values'.
fn plain_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Dictionary(_, v) => plain_type(v),
        other => other.clone(),
    }
}

/// The slice columns' values at row `i`.
fn slice_label(cols: &[ArrayRef], i: usize) -> Result<Label> {
    let values = cols
        .iter()
        .map(|a| match a.is_null(i) {
            true => Ok(None),
            false => crate::report::value::value_text(a, i).map(Some),
        })
        .collect::<Result<_>>()?;
    Ok(Label::Slice(values))
}

/// Row `i` of a timestamp or date column, in whole seconds since the epoch.
#[allow(clippy::type_complexity)]
pub(crate) fn seconds(a: &dyn Array) -> Result<Box<dyn Fn(usize) -> i64 + '_>> {
    use arrow::datatypes::*;
    Ok(match a.data_type() {
        DataType::Timestamp(unit, _) => {
            let per: i64 = match unit {
                TimeUnit::Second => 1,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            let v = match unit {
                TimeUnit::Second => a.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().values(),
            };
            Box::new(move |i| v[i].div_euclid(per))
        }
        DataType::Date32 => {
            let v = a.as_primitive::<Date32Type>().values();
            Box::new(move |i| i64::from(v[i]) * 86_400)
        }
        DataType::Date64 => {
            let v = a.as_primitive::<Date64Type>().values();
            Box::new(move |i| v[i].div_euclid(1_000))
        }
        other => return Err(Error::Internal(format!("window keys of a {other} column"))),
    })
}

/// The rows of one group in a batch.
#[derive(Debug, Clone)]
enum Rows {
    /// A run `start..start + len`.
    Run(usize, usize),
    Take(UInt32Array),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Run(_, n) => *n,
            Rows::Take(t) => t.len(),
        }
    }

    fn of(&self, a: &ArrayRef) -> Result<ArrayRef> {
        match self {
            Rows::Run(start, n) => Ok(a.slice(*start, *n)),
            Rows::Take(idx) => arrow::compute::take(a.as_ref(), idx, None)
                .map_err(|e| Error::Internal(format!("taking a group's rows: {e}"))),
        }
    }
}

/// A batch's rows by group.
#[derive(Debug, Default)]
struct Split {
    /// Each group's rows, in group order.
    groups: Vec<(u32, Rows)>,
    /// Rows in no group.
    outside: usize,
}

/// Split a batch's rows by their groups.
fn split(ids: &[u32]) -> Split {
    let outside = ids.iter().filter(|&&g| g == NONE).count();
    let Some(&first) = ids.first() else {
        return Split::default();
    };
    if ids.iter().all(|&g| g == first) {
        let groups = match first {
            NONE => Vec::new(),
            g => vec![(g, Rows::Run(0, ids.len()))],
        };
        return Split { groups, outside };
    }
    // Group numbers are below MAX_GROUPS: counted in a table.
    let top = ids
        .iter()
        .filter(|&&g| g != NONE)
        .max()
        .map_or(0, |&g| g as usize + 1);
    let mut counts = vec![0usize; top];
    for &g in ids.iter().filter(|&&g| g != NONE) {
        counts[g as usize] += 1;
    }
    let mut rows: Vec<Vec<u32>> = counts.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (i, &g) in ids.iter().enumerate() {
        if g != NONE {
            rows[g as usize].push(i as u32);
        }
    }
    let groups = rows
        .into_iter()
        .enumerate()
        .filter(|(_, idx)| !idx.is_empty())
        .map(|(g, idx)| {
            let run = (idx[idx.len() - 1] - idx[0]) as usize + 1 == idx.len();
            let r = match run {
                true => Rows::Run(idx[0] as usize, idx.len()),
                false => Rows::Take(UInt32Array::from(idx)),
            };
            (g as u32, r)
        })
        .collect();
    Split { groups, outside }
}

/// A partition's groups, computed once for the items of its columns: the
/// group of each row, and each batch's split (by its first row and length).
#[derive(Default)]
struct PartGroups {
    ids: Vec<u32>,
    splits: HashMap<(usize, usize), Arc<Split>>,
}

/// Rows of consecutive partitions one item reads (where the format reads
/// columns apart): each item holds a state per group and column, and a
/// numeric state costs its sketch's dense buckets however few rows it saw,
/// so items of a few rows per group would spend their time on those.
const RUN_ROWS: u64 = 4 << 20;
/// At most this many partitions in a run (their groups are held until the
/// run's last item is done).
const RUN_PARTS: usize = 8;

/// Some columns of a run of consecutive partitions.
struct Item {
    /// Indices into [`Items::parts`].
    parts: std::ops::Range<usize>,
    cols: Vec<usize>,
    /// Whether this item counts the run's rows (one item per run does).
    counts_rows: bool,
    /// Where the group columns are among `cols` (None: they are not all
    /// read with it).
    at: Option<Vec<usize>>,
}

/// One pass's items: each column of each run of partitions where the
/// format reads columns apart, else each partition whole.
struct Items {
    items: Vec<Item>,
    parts: Vec<Partition>,
    /// Each partition's groups while items of it are left.
    cache: Vec<Mutex<Option<PartGroups>>>,
    /// Items of each partition not done yet.
    left: Vec<AtomicUsize>,
}

impl Items {
    fn new(ds: &Dataset, cols: &[usize], keys: &Keys) -> Items {
        let parts = ds.partitions();
        let mut items = Vec::new();
        let mut item = |parts: std::ops::Range<usize>, cols: Vec<usize>, counts_rows| {
            let at = keys
                .cols
                .iter()
                .map(|k| cols.iter().position(|c| c == k))
                .collect();
            items.push(Item {
                parts,
                cols,
                counts_rows,
                at,
            });
        };
        let mut p = 0;
        while p < parts.len() {
            if !(ds.splits_by_column(&parts[p]) && cols.len() > 1) {
                // Read with its group columns: a whole file's groups are
                // not held apart.
                let mut all = cols.to_vec();
                all.extend(keys.cols.iter().filter(|k| !cols.contains(k)));
                item(p..p + 1, all, true);
                p += 1;
                continue;
            }
            let start = p;
            let mut rows = 0u64;
            while p < parts.len()
                && p - start < RUN_PARTS
                && ds.splits_by_column(&parts[p])
                && rows < RUN_ROWS
            {
                rows += ds.partition_rows(&parts[p]).unwrap_or(RUN_ROWS);
                p += 1;
            }
            for (j, &c) in cols.iter().enumerate() {
                item(start..p, vec![c], j == 0);
            }
        }
        let left: Vec<AtomicUsize> = (0..parts.len()).map(|_| AtomicUsize::new(0)).collect();
        for it in &items {
            for p in it.parts.clone() {
                left[p].fetch_add(1, Ordering::Relaxed);
            }
        }
        Items {
            cache: (0..parts.len()).map(|_| Mutex::new(None)).collect(),
            left,
            items,
            parts,
        }
    }

    /// Read item `i`, partition after partition, calling `f` with each
    /// batch, its rows by group, and its input bytes.
    fn read(
        &self,
        ds: &Dataset,
        keys: &Keys,
        i: usize,
        mut f: impl FnMut(RecordBatch, &Split, u64) -> Result<()>,
    ) -> Result<()> {
        let item = &self.items[i];
        for p in item.parts.clone() {
            let mut offset = 0usize;
            ds.read(&self.parts[p], &item.cols, |batch, bytes| {
                let split = self.split(ds, keys, i, p, &batch, offset)?;
                offset += batch.num_rows();
                f(batch, &split, bytes)
            })?;
        }
        Ok(())
    }

    /// The rows by group of `batch`, rows `offset..` of partition `p`,
    /// read by item `i`.
    fn split(
        &self,
        ds: &Dataset,
        keys: &Keys,
        i: usize,
        p: usize,
        batch: &RecordBatch,
        offset: usize,
    ) -> Result<Arc<Split>> {
        if let Some(at) = &self.items[i].at {
            let cols: Vec<ArrayRef> = at.iter().map(|&j| batch.column(j).clone()).collect();
            return Ok(Arc::new(split(&keys.ids(&cols)?)));
        }
        let mut cell = self.cache[p]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cell.is_none() {
            let mut all = Vec::new();
            ds.read(&self.parts[p], &keys.cols, |b, _| {
                all.extend(keys.ids(b.columns())?);
                Ok(())
            })?;
            *cell = Some(PartGroups {
                ids: all,
                splits: HashMap::new(),
            });
        }
        let Some(part) = cell.as_mut() else {
            return Err(Error::Internal("a partition's groups are gone".into()));
        };
        let n = batch.num_rows();
        if let Some(s) = part.splits.get(&(offset, n)) {
            return Ok(Arc::clone(s));
        }
        let ids = part
            .ids
            .get(offset..offset + n)
            .ok_or_else(|| Error::DataChanged {
                path: keys.source.as_str().into(),
                detail: "a partition has more rows than its group columns".into(),
            })?;
        let s = Arc::new(split(ids));
        part.splits.insert((offset, n), Arc::clone(&s));
        Ok(s)
    }

    /// Item `i` is done: free each of its partitions' groups after the
    /// partition's last item.
    fn done(&self, i: usize) {
        for p in self.items[i].parts.clone() {
            if self.left[p].fetch_sub(1, Ordering::AcqRel) == 1 {
                *self.cache[p]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            }
        }
    }

    /// Progress: rows once per run, bytes in proportion to the columns read.
    fn report(&self, ds: &Dataset, progress: &dyn Progress, i: usize, rows: usize, bytes: u64) {
        let item = &self.items[i];
        let share = item.cols.len() as f64 / ds.schema().fields().len().max(1) as f64;
        advance(progress, item.counts_rows, rows as u64, bytes, share);
    }
}

impl Layout {
    /// A state of `col` whose values are kept in `slot`.
    fn state_in(&self, col: usize, slot: usize) -> ColState {
        let mut s = self.new_state(col);
        s.leaf = s.leaf.map(|l| slot * self.leaves.len() + l);
        s
    }
}

/// Pass one's states of an item's columns, per group.
struct ItemOne {
    /// Rows in no group.
    outside: u64,
    groups: BTreeMap<u32, (u64, Vec<ColState>)>,
}

/// One target of pass two and the finish: the whole, a group, or the
/// fold of several (the "other" slice).
struct Target {
    label: Option<Label>,
    /// The kept-value slots of its rows.
    slots: Vec<usize>,
    rows: u64,
    states: Vec<ColState>,
}

/// Profile `ds` and each group of its rows, on `opts.backend`.
pub fn profile_groups(
    ds: &Dataset,
    opts: &ProfileOptions,
    by: &GroupBy,
    progress: &dyn Progress,
) -> Result<Grouped> {
    opts.validate()?;
    let flag = match opts.label {
        Some(_) => "--max-classes",
        None => "--max-slices",
    };
    match by {
        GroupBy::Slices(s)
        | GroupBy::Windows {
            classes: Some(s), ..
        } if s.max == 0 => {
            return Err(Error::InvalidOption(format!("{flag} must be at least 1")));
        }
        _ => {}
    }
    if let GroupBy::Windows {
        classes: Some(s), ..
    } = by
    {
        for c in &s.columns {
            check_label(ds, c)?;
        }
    }
    let source = ds.sources().first().cloned().unwrap_or_default();
    let (layout, warnings) = Layout::new(ds.schema(), opts, &source)?;
    // Each group's states hold a dense sketch per numeric leaf.
    let per_group = layout.leaves.len() as u64 * (8 << crate::profile::sketch::PROFILE_BITS);
    let max = match per_group {
        0 => MAX_GROUPS,
        n => (MAX_SKETCH_BYTES / n).clamp(1, MAX_GROUPS as u64) as usize,
    };
    let keys = Keys::new(ds, by, &source, max, opts.label.clone())?;
    let with_whole = matches!(by, GroupBy::Slices(_));
    let session = opts.backend.session(opts.keep());
    let ncols = ds.schema().fields().len();
    let all_cols: Vec<usize> = (0..ncols).collect();
    let threads = rayon::current_num_threads();

    // Pass one.
    progress.start(1, ds.total_rows(), ds.total_bytes());
    let items = Items::new(ds, &all_cols, &keys);
    let mut outside = 0u64;
    let mut global: BTreeMap<u32, (u64, Vec<ColState>)> = BTreeMap::new();
    run_ordered(
        items.items.len(),
        threads,
        4 * threads,
        |i| {
            let out = pass1_item(ds, &items, i, &layout, &session, &keys, progress);
            items.done(i);
            out
        },
        |i, one| {
            let cols = &items.items[i].cols;
            outside += one.outside;
            for (g, (n, states)) in one.groups {
                let (total, all) = global.entry(g).or_insert_with(|| {
                    let slot = g as usize + 1;
                    (0, (0..ncols).map(|c| layout.state_in(c, slot)).collect())
                });
                *total += n;
                for (&col, s) in cols.iter().zip(states) {
                    all[col].merge(&s);
                }
            }
            Ok(())
        },
    )?;

    let fresh = || (0..ncols).map(|c| layout.new_state(c)).collect();
    let targets = targets(by, keys.labels(), global, &fresh);
    let exact = if opts.single_pass {
        session.release_kept();
        None
    } else {
        Some(pass_two(
            ds, opts, progress, &layout, &session, &keys, &targets,
        )?)
    };
    progress.finish();

    let mut warnings = warnings;
    if outside > 0 {
        warnings.push(format!(
            "{outside} rows have no {} value and are in no window",
            by.columns()[0]
        ));
    }
    let mut profiles = targets
        .par_iter()
        .enumerate()
        .map(|(t, target)| {
            let exact = exact.as_ref().map(|(p, s)| (&p[t][..], &s[t][..]));
            let w = match target.label {
                None | Some(Label::Window(_)) => warnings.clone(),
                _ => Vec::new(),
            };
            let p = finish_profile(
                &layout,
                opts,
                session.backend(),
                &target.states,
                exact,
                target.rows,
                ds.sources(),
                w,
            )?;
            Ok((target.label.clone(), p))
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter();
    let whole = match with_whole {
        true => profiles.next().map(|(_, p)| p),
        false => None,
    };
    let groups = profiles
        .filter_map(|(label, profile)| label.map(|label| Group { label, profile }))
        .collect();
    Ok(Grouped {
        by: by.clone(),
        whole,
        groups,
    })
}

fn pass1_item(
    ds: &Dataset,
    items: &Items,
    i: usize,
    layout: &Layout,
    session: &Session,
    keys: &Keys,
    progress: &dyn Progress,
) -> Result<ItemOne> {
    let item = &items.items[i];
    let mut one = ItemOne {
        outside: 0,
        groups: BTreeMap::new(),
    };
    items.read(ds, keys, i, |batch, split, bytes| {
        if item.counts_rows {
            one.outside += split.outside as u64;
        }
        for (g, sel) in &split.groups {
            let (count, states) = one.groups.entry(*g).or_insert_with(|| {
                let slot = *g as usize + 1;
                let states = item.cols.iter().map(|&c| layout.state_in(c, slot));
                (0, states.collect())
            });
            if item.counts_rows {
                *count += sel.len() as u64;
            }
            states
                .par_iter_mut()
                .zip(batch.columns().par_iter())
                .try_for_each(|(s, a)| s.update(&sel.of(a)?, session))?;
        }
        items.report(ds, progress, i, batch.num_rows(), bytes);
        Ok(())
    })?;
    Ok(one)
}

/// The profiles to make: the whole (first, when given: `rows` and empty
/// states, filled here from every group's), then the groups (slices
/// largest first with the rest folded into "other"; windows in time
/// order).
fn targets(
    by: &GroupBy,
    labels: Vec<Label>,
    global: BTreeMap<u32, (u64, Vec<ColState>)>,
    fresh: &dyn Fn() -> Vec<ColState>,
) -> Vec<Target> {
    let mut groups: Vec<Part> = global
        .into_iter()
        .map(|(g, (rows, states))| (labels[g as usize].clone(), g as usize + 1, rows, states))
        .collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    match by {
        // In time order: sorted above.
        GroupBy::Windows { classes: None, .. } => groups
            .into_iter()
            .map(|(label, slot, rows, states)| Target {
                label: Some(label),
                slots: vec![slot],
                rows,
                states,
            })
            .collect(),
        GroupBy::Slices(s) => sliced(None, Label::Other, groups, s, fresh),
        // Each window (in time order) and its classes: the same classes
        // apart in every window, the largest over all of them.
        GroupBy::Windows {
            classes: Some(s), ..
        } => {
            let s = &Slicing {
                only: Some(apart(s, &groups)),
                ..s.clone()
            };
            let mut out = Vec::new();
            let mut groups = groups.into_iter().peekable();
            while let Some(first) = groups.next() {
                let start = first.0.start();
                let mut window = vec![first];
                while let Some(g) = groups.next_if(|g| g.0.start() == start) {
                    window.push(g);
                }
                let whole = Label::Window(start.unwrap_or_default());
                let other = Label::ClassOther(start.unwrap_or_default());
                out.extend(sliced(Some(whole), other, window, s, fresh));
            }
            out
        }
    }
}

/// A group's label, slot, rows and pass-one states.
type Part = (Label, usize, u64, Vec<ColState>);

/// The values profiled apart: `s.only`, else the `s.max` values (slices,
/// or classes over every window) with the most rows in `groups`, largest
/// first (ties in the order of their values).
fn apart(s: &Slicing, groups: &[Part]) -> Vec<Vec<Option<String>>> {
    if let Some(only) = &s.only {
        return only.clone();
    }
    let mut rows: BTreeMap<&Vec<Option<String>>, u64> = BTreeMap::new();
    for (label, _, n, _) in groups {
        if let Some(v) = label.values() {
            *rows.entry(v).or_default() += n;
        }
    }
    let mut rows: Vec<_> = rows.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    rows.into_iter()
        .take(s.max)
        .map(|(v, _)| v.clone())
        .collect()
}

/// The whole of `groups` (labelled `whole`), then each group apart (the
/// largest `s.max` of them, or `s.only`), then the fold of the rest (labelled
/// `other`). Every row is in a group: the whole is the merge of the
/// groups, in the order of their values (as `groups` come), and its pass
/// two reads every group's slot.
fn sliced(
    whole: Option<Label>,
    other: Label,
    mut groups: Vec<Part>,
    s: &Slicing,
    fresh: &dyn Fn() -> Vec<ColState>,
) -> Vec<Target> {
    let mut states = fresh();
    for (_, _, _, g) in &groups {
        for (a, b) in states.iter_mut().zip(g) {
            a.merge(b);
        }
    }
    let mut out = vec![Target {
        label: whole,
        slots: groups.iter().map(|g| g.1).collect(),
        rows: groups.iter().map(|g| g.2).sum(),
        states,
    }];
    // Those profiled apart come first, in the order of `only` (another
    // profile's slices, or the classes chosen over every window), else
    // largest first.
    let only = apart(s, &groups);
    // Each value at its first place (`rev`: that place is inserted last).
    let at: HashMap<&Vec<Option<String>>, usize> =
        only.iter().enumerate().rev().map(|(i, v)| (v, i)).collect();
    let at = |l: &Label| l.values().and_then(|v| at.get(v).copied());
    groups.sort_by_cached_key(|g| (at(&g.0).unwrap_or(usize::MAX), g.0.clone()));
    let apart = groups.iter().filter(|g| at(&g.0).is_some()).count();
    let mut rest = groups.split_off(apart);
    out.extend(
        groups
            .into_iter()
            .map(|(label, slot, rows, states)| Target {
                label: Some(label),
                slots: vec![slot],
                rows,
                states,
            }),
    );
    // The smaller slices, folded in the order of their values.
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest = rest.into_iter();
    if let Some((_, slot, rows, states)) = rest.next() {
        let mut folded = Target {
            label: Some(other),
            slots: vec![slot],
            rows,
            states,
        };
        for (_, slot, rows, states) in rest {
            folded.slots.push(slot);
            folded.rows += rows;
            for (a, b) in folded.states.iter_mut().zip(&states) {
                a.merge(b);
            }
        }
        out.push(folded);
    }
    out
}

/// Pass two's plans and merged states, per target and leaf.
type Exact = (Vec<Vec<Pass2Plan>>, Vec<Vec<Pass2State>>);

/// Pass two of every target: from what pass one kept in its slots, else
/// by reading the leaf's column again with the group columns.
fn pass_two(
    ds: &Dataset,
    opts: &ProfileOptions,
    progress: &dyn Progress,
    layout: &Layout,
    session: &Session,
    keys: &Keys,
    targets: &[Target],
) -> Result<Exact> {
    let nleaves = layout.leaves.len();
    let plans: Vec<Vec<Pass2Plan>> = targets
        .par_iter()
        .map(|t| layout.plans_pass2(&t.states, &opts.stats))
        .collect::<Result<_>>()?;
    // From what pass one kept, leaf by leaf: each slot's values go to
    // every target it is in (its group's, and the whole's). The (target,
    // leaf) pairs with a slot that spilled are read again.
    let mut in_slot: HashMap<usize, Vec<usize>> = HashMap::new();
    for (t, target) in targets.iter().enumerate() {
        for &slot in &target.slots {
            in_slot.entry(slot).or_default().push(t);
        }
    }
    let by_leaf: Vec<(Vec<Pass2State>, Vec<bool>)> = (0..nleaves)
        .into_par_iter()
        .map(|leaf| {
            let mut sts: Vec<Pass2State> = plans.iter().map(|p| p[leaf].new_state()).collect();
            let mut reread = vec![false; targets.len()];
            for (&slot, ts) in &in_slot {
                let needs: Vec<usize> = ts
                    .iter()
                    .copied()
                    .filter(|&t| plans[t][leaf].needs_pass())
                    .collect();
                let mut into: Vec<(&Pass2Plan, &mut Pass2State)> = sts
                    .iter_mut()
                    .enumerate()
                    .filter(|(t, _)| needs.contains(t))
                    .map(|(t, st)| (&plans[t][leaf], st))
                    .collect();
                if !into.is_empty() && !session.collect_kept(slot * nleaves + leaf, &mut into)? {
                    needs.iter().for_each(|&t| reread[t] = true);
                }
            }
            for (t, st) in sts.iter_mut().enumerate() {
                if reread[t] {
                    *st = plans[t][leaf].new_state();
                }
            }
            Ok((sts, reread))
        })
        .collect::<Result<_>>()?;
    let mut states: Vec<Vec<Pass2State>> = (0..targets.len()).map(|_| Vec::new()).collect();
    let mut reread: Vec<Vec<bool>> = vec![Vec::new(); targets.len()];
    for (sts, again) in by_leaf {
        for (t, (st, a)) in sts.into_iter().zip(again).enumerate() {
            states[t].push(st);
            reread[t].push(a);
        }
    }
    session.release_kept();
    let cols: Vec<usize> = (0..nleaves)
        .filter(|&l| reread.iter().any(|r| r[l]))
        .map(|l| layout.leaves[l])
        .collect();
    if !cols.is_empty() {
        // Each group's targets: the group's own or the fold it is in, and
        // its window's (a class's rows are in both). The whole of slices
        // takes every row.
        let mut targets_of: HashMap<usize, Vec<usize>> = HashMap::new();
        for (t, target) in targets.iter().enumerate() {
            if target.label.is_some() {
                for &slot in &target.slots {
                    targets_of.entry(slot - 1).or_default().push(t);
                }
            }
        }
        let whole = targets.first().filter(|t| t.label.is_none()).map(|_| 0);
        progress.start(2, ds.total_rows(), ds.total_bytes());
        let items = Items::new(ds, &cols, keys);
        let threads = rayon::current_num_threads();
        run_ordered(
            items.items.len(),
            threads,
            4 * threads,
            |i| {
                let item = &items.items[i];
                let mut got: BTreeMap<(usize, usize), (Pass2State, Scratch)> = BTreeMap::new();
                let backend = session.backend();
                let read = items.read(ds, keys, i, |batch, split, bytes| {
                    for (j, &col) in item.cols.iter().enumerate() {
                        let Some(leaf) = layout.leaf_of[col] else {
                            continue;
                        };
                        let a = batch.column(j);
                        let mut collect = |t: usize, values: &ArrayRef| -> Result<()> {
                            if !reread[t][leaf] {
                                return Ok(());
                            }
                            let plan = &plans[t][leaf];
                            let (st, scratch) = got
                                .entry((t, leaf))
                                .or_insert_with(|| (plan.new_state(), Scratch::default()));
                            backend.collect(plan, st, values_of(values, None)?.as_ref(), scratch)
                        };
                        if let Some(t) = whole {
                            collect(t, a)?;
                        }
                        for (g, sel) in &split.groups {
                            let ts = targets_of.get(&(*g as usize)).ok_or_else(|| {
                                Error::DataChanged {
                                    path: keys.source.as_str().into(),
                                    detail: "a group appeared on the second read".into(),
                                }
                            })?;
                            let wanted: Vec<usize> =
                                ts.iter().copied().filter(|&t| reread[t][leaf]).collect();
                            if !wanted.is_empty() {
                                let rows = sel.of(a)?;
                                for t in wanted {
                                    collect(t, &rows)?;
                                }
                            }
                        }
                    }
                    items.report(ds, progress, i, batch.num_rows(), bytes);
                    Ok(())
                });
                items.done(i);
                read.map(|()| got)
            },
            |_, got| {
                for ((t, leaf), (st, _)) in got {
                    states[t][leaf].merge(st);
                }
                Ok(())
            },
        )?;
    }
    let names = layout.leaf_names();
    let sources = ds.sources().join(", ");
    for (plans, sts) in plans.iter().zip(states.iter_mut()) {
        finish_pass2(&sources, &names, &plans.iter().collect::<Vec<_>>(), sts)?;
    }
    Ok((plans, states))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_read_and_print_back() {
        for (s, secs) in [
            ("1h", 3_600),
            ("6h", 21_600),
            ("1d", 86_400),
            ("7d", 604_800),
        ] {
            let w = Width::parse(s).unwrap();
            assert_eq!((w.seconds(), w.text().as_str()), (secs, s));
        }
        assert_eq!(Width::parse("24h").unwrap().text(), "1d");
        for bad in ["", "h", "0d", "-1d", "1w", "1.5d", "99999d"] {
            assert!(Width::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn split_groups_runs_and_scattered_rows() {
        let s = split(&[2, 2, 0, 2, NONE, 1, 1]);
        let got: Vec<(u32, Vec<u32>)> = s
            .groups
            .into_iter()
            .map(|(g, r)| {
                let idx = match r {
                    Rows::Run(s, n) => (s as u32..(s + n) as u32).collect(),
                    Rows::Take(t) => t.values().to_vec(),
                };
                (g, idx)
            })
            .collect();
        assert_eq!(got, vec![(0, vec![2]), (1, vec![5, 6]), (2, vec![0, 1, 3])]);
        assert_eq!(s.outside, 1);
        assert!(matches!(
            split(&[3, 3, 3]).groups[..],
            [(3, Rows::Run(0, 3))]
        ));
        let none = split(&[NONE, NONE]);
        assert!(none.groups.is_empty() && none.outside == 2);
        assert!(split(&[]).groups.is_empty());
    }

    #[test]
    fn windows_start_on_mondays_and_midnights() {
        // 2026-11-26 is a Thursday; its week began Monday 2026-11-23.
        let thu = 20_783 * 86_400 + 5 * 3_600;
        let w = |width: i64| window_of(thu, width).unwrap().1;
        assert_eq!(instant(w(7 * 86_400)), "2026-11-23T00:00:00Z");
        assert_eq!(instant(w(86_400)), "2026-11-26T00:00:00Z");
        assert_eq!(instant(w(3_600)), "2026-11-26T05:00:00Z");
        // Before 1970, and at the ends of time.
        assert_eq!(instant(w(86_400 * 7)).len(), 20);
        assert_eq!(window_of(-1, 86_400), Some((-5, -86_400)));
        assert_eq!(window_of(i64::MIN, 3_600), None);
        assert!(window_of(i64::MAX, 3_600).is_some());
    }
}
