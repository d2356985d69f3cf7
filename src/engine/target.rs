//! A label of numbers (`--label` of a float or decimal column): after the
//! profile, one more pass reads each feature with the label and adds up
//! the label's [`LabelMoments`] over the rows of each part of the
//! feature's range ([`LabelMeans`]): for a numeric feature, each cell of
//! its stored sketch (the same buckets, so that two profiles' cells line
//! up as their sketches do); for a categorical one, each value its counts
//! list and the rest; and the rows where the feature is missing.
//!
//! The pass runs on the CPU whatever the backend: it is a gather of a few
//! sums per row, which the profile's kernels do not have (docs/label.md).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use hashbrown::HashMap;
use rayon::prelude::*;

use super::Progress;
use crate::error::{Error, Result};
use crate::profile::keys::{Domain, Num};
use crate::profile::numeric::numbers;
use crate::profile::sketch::KeyMap;
use crate::profile::*;
use crate::source::Dataset;

/// Whether a label of type `dt` is of numbers (its mean per bin is
/// compared), not of classes.
pub fn numeric(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(..)
    )
}

/// What is added up for one feature.
enum Plan {
    /// A numeric feature's values (of `domain`) go to cell
    /// `map(key) >> shift`, at
    /// `cell - origin` of the stored sketch's `len` buckets.
    Numeric {
        domain: Domain,
        map: KeyMap,
        shift: u32,
        origin: u64,
        len: usize,
    },
    /// A categorical feature's values go to their index among the listed
    /// ones, or to the rest.
    Categorical { listed: HashMap<Vec<u8>, usize> },
}

impl Plan {
    /// How many parts (cells or listed values) the feature has.
    fn len(&self) -> usize {
        match self {
            Plan::Numeric { len, .. } => *len,
            Plan::Categorical { listed } => listed.len(),
        }
    }
}

/// A label's sums over some rows, shifted by the first value (`c`): one
/// addition per row and no division, and `Σd² − (Σd)²/n` stays accurate
/// where the label has a large offset.
#[derive(Debug, Clone, Copy, Default)]
struct Shifted {
    n: u64,
    c: f64,
    s1: f64,
    s2: f64,
}

impl Shifted {
    #[inline(always)]
    fn add(&mut self, y: f64) {
        if self.n == 0 {
            self.c = y;
        }
        let d = y - self.c;
        self.n += 1;
        self.s1 += d;
        self.s2 += d * d;
    }

    fn moments(&self) -> LabelMoments {
        if self.n == 0 {
            return LabelMoments::default();
        }
        let n = self.n as f64;
        LabelMoments {
            count: self.n,
            mean: self.c + self.s1 / n,
            m2: (self.s2 - self.s1 * (self.s1 / n)).clamp(0.0, f64::MAX),
        }
    }
}

/// One feature's sums over a partition: per part (cell or listed value;
/// allocated at the first row), the rest, and the rows where it is
/// missing.
#[derive(Default)]
struct Sums {
    parts: Vec<Shifted>,
    other: Shifted,
    missing: Shifted,
}

/// One feature's sums over every partition so far.
#[derive(Default)]
struct Totals {
    parts: Vec<LabelMoments>,
    other: LabelMoments,
    missing: LabelMoments,
}

impl Totals {
    fn merge(&mut self, o: &Sums) {
        if self.parts.len() < o.parts.len() {
            self.parts.resize(o.parts.len(), LabelMoments::default());
        }
        for (a, b) in self.parts.iter_mut().zip(&o.parts) {
            if b.n > 0 {
                a.merge(&b.moments());
            }
        }
        self.other.merge(&o.other.moments());
        self.missing.merge(&o.missing.moments());
    }
}

/// Give each feature of `p` (profiled from `ds`) its [`LabelMeans`] by
/// `label`, in one more pass over `ds`. List features get none (their
/// elements are not one per row).
pub fn attach(
    ds: &Dataset,
    p: &mut DatasetProfile,
    label: &str,
    progress: &dyn Progress,
) -> Result<()> {
    attach_all(ds, std::slice::from_mut(p), None, label, progress)
}

/// As [`attach`], for the profiles of `--window`'s windows (`profiles`,
/// made by `by`): each row's label goes to its window's features, in one
/// pass over `ds`.
pub fn attach_windows(
    ds: &Dataset,
    profiles: &mut [DatasetProfile],
    by: &super::groups::GroupBy,
    label: &str,
    progress: &dyn Progress,
) -> Result<()> {
    let super::groups::GroupBy::Windows { column, width, .. } = by else {
        return Err(Error::Internal("label means of slices".into()));
    };
    let col = ds
        .schema()
        .index_of(column)
        .map_err(|_| super::unknown_column(ds, column))?;
    attach_all(ds, profiles, Some((col, width.seconds())), label, progress)
}

/// What is added up for one feature (None: nothing, the label itself or
/// a list).
fn plan(f: &FeatureProfile, dt: &DataType) -> Result<Option<Plan>> {
    if matches!(dt, DataType::List(_) | DataType::LargeList(_)) {
        return Ok(None);
    }
    Ok(match (&f.numeric, &f.categorical) {
        (Some(n), _) => Some(Plan::Numeric {
            domain: n.domain,
            map: n.sketch.map,
            shift: n.sketch.shift,
            origin: n.sketch.origin,
            len: 1usize.checked_shl(n.sketch.bits).unwrap_or(0),
        }),
        (None, Some(c)) => {
            let mut listed = HashMap::new();
            for v in &c.value_counts {
                let at = listed.len();
                listed.insert(v.bytes().map_err(Error::Internal)?.into_owned(), at);
            }
            Some(Plan::Categorical { listed })
        }
        (None, None) => None,
    })
}

/// The rows of each profile's group in a batch: all of them (one profile,
/// no windows), or each window's (the profile whose window starts where
/// the row's does; rows of no window's left out).
struct Windows<'a> {
    /// The window column's place among the columns read, and the width.
    at: usize,
    width: i64,
    /// A window's start (seconds) → its profile, as found so far.
    starts: HashMap<i64, Option<usize>>,
    /// Each profile's window start, as written.
    names: &'a HashMap<String, usize>,
}

impl Windows<'_> {
    fn rows(&mut self, batch: &RecordBatch) -> Result<Vec<(usize, Vec<u32>)>> {
        let a = batch.column(self.at);
        let secs = super::groups::seconds(a.as_ref())?;
        let mut rows: std::collections::BTreeMap<usize, Vec<u32>> = Default::default();
        for i in (0..a.len()).filter(|&i| a.is_valid(i)) {
            let Some((_, start)) = super::groups::window_of(secs(i), self.width) else {
                continue;
            };
            let names = self.names;
            let g = *self
                .starts
                .entry(start)
                .or_insert_with(|| names.get(super::groups::instant(start).as_str()).copied());
            if let Some(g) = g {
                rows.entry(g).or_default().push(i as u32);
            }
        }
        Ok(rows.into_iter().collect())
    }
}

fn attach_all(
    ds: &Dataset,
    profiles: &mut [DatasetProfile],
    window: Option<(usize, i64)>,
    label: &str,
    progress: &dyn Progress,
) -> Result<()> {
    let schema = ds.schema().clone();
    let y_col = schema
        .index_of(label)
        .map_err(|_| super::unknown_column(ds, label))?;
    let Some(first) = profiles.first() else {
        return Ok(());
    };
    // The features' columns (every profile has the same features), then
    // the label's, then the window's where it is not a feature's.
    let mut feats: Vec<(usize, usize)> = Vec::new();
    for (i, f) in first.features.iter().enumerate() {
        match schema.index_of(&f.name) {
            Ok(c) if c != y_col => feats.push((i, c)),
            _ => {}
        }
    }
    // Per profile, per feature: its plan.
    let plans: Vec<Vec<Option<Plan>>> = profiles
        .iter()
        .map(|p| {
            feats
                .iter()
                .map(|&(i, c)| plan(&p.features[i], schema.field(c).data_type()))
                .collect()
        })
        .collect::<Result<_>>()?;
    let mut cols: Vec<usize> = feats.iter().map(|x| x.1).collect();
    cols.push(y_col);
    let window = window.map(|(c, width)| match cols.iter().position(|&k| k == c) {
        Some(at) => (at, width),
        None => {
            cols.push(c);
            (cols.len() - 1, width)
        }
    });
    let names: HashMap<String, usize> = profiles
        .iter()
        .enumerate()
        .filter_map(|(g, p)| Some((p.window.as_ref()?.start.clone(), g)))
        .collect();
    let fresh = || -> Vec<Vec<Sums>> {
        plans
            .iter()
            .map(|ps| ps.iter().map(|_| Sums::default()).collect())
            .collect()
    };
    let parts = ds.partitions();
    let mut totals: Vec<Vec<Totals>> = plans
        .iter()
        .map(|ps| ps.iter().map(|_| Totals::default()).collect())
        .collect();
    let sources = ds.sources().join(", ");
    let names_of: Vec<&str> = feats
        .iter()
        .map(|&(i, _)| first.features[i].name.as_str())
        .collect();
    let threads = rayon::current_num_threads();
    progress.start(first.passes + 1, ds.total_rows(), ds.total_bytes());
    super::run_ordered(
        parts.len(),
        threads,
        2 * threads,
        |i| {
            let mut got = fresh();
            let mut windows = window.map(|(at, width)| Windows {
                at,
                width,
                starts: HashMap::new(),
                names: &names,
            });
            ds.read(&parts[i], &cols, |batch, bytes| {
                let ys = label_values(batch.column(feats.len()))?;
                let groups = match windows.as_mut() {
                    None => vec![(0, None)],
                    Some(w) => w
                        .rows(&batch)?
                        .into_iter()
                        .map(|(g, r)| (g, Some(r)))
                        .collect(),
                };
                for (g, rows) in groups {
                    let (columns, ys) = match rows {
                        None => (batch.columns()[..feats.len()].to_vec(), ys.clone()),
                        Some(r) => {
                            let idx = arrow::array::UInt32Array::from(r);
                            let take = |a: &ArrayRef| {
                                arrow::compute::take(a.as_ref(), &idx, None).map_err(|e| {
                                    Error::Internal(format!("taking a window's rows: {e}"))
                                })
                            };
                            let columns = batch.columns()[..feats.len()]
                                .iter()
                                .map(take)
                                .collect::<Result<Vec<_>>>()?;
                            (
                                columns,
                                idx.values().iter().map(|&i| ys[i as usize]).collect(),
                            )
                        }
                    };
                    got[g]
                        .par_iter_mut()
                        .zip(&plans[g])
                        .zip(&columns)
                        .zip(&names_of)
                        .try_for_each(|(((s, plan), a), name)| match plan {
                            Some(plan) => {
                                add(s, plan, a, &ys).map_err(|detail| Error::DataChanged {
                                    path: sources.clone().into(),
                                    detail: format!("column {name:?}: {detail}"),
                                })
                            }
                            None => Ok(()),
                        })?;
                }
                progress.advance(batch.num_rows() as u64, bytes);
                Ok(())
            })?;
            Ok(got)
        },
        |_, got| {
            for (ts, gs) in totals.iter_mut().zip(got) {
                for (t, g) in ts.iter_mut().zip(gs) {
                    t.merge(&g);
                }
            }
            Ok(())
        },
    )?;
    progress.finish();
    for ((p, plans), totals) in profiles.iter_mut().zip(&plans).zip(totals) {
        for ((&(i, _), plan), s) in feats.iter().zip(plans).zip(totals) {
            if let Some(plan) = plan {
                let f = &mut p.features[i];
                f.label_means = Some(finish(f, plan, s));
            }
        }
        p.label = Some(label.into());
        p.passes += 1;
        crate::compare::target::attach_bins(p);
    }
    Ok(())
}

/// A feature's means from its sums.
fn finish(f: &FeatureProfile, plan: &Plan, s: Totals) -> LabelMeans {
    let mut m = LabelMeans {
        other: s.other,
        missing: s.missing,
        ..LabelMeans::default()
    };
    let counted = s.parts.into_iter().enumerate().filter(|(_, l)| l.count > 0);
    match plan {
        Plan::Numeric { shift, origin, .. } => {
            m.shift = Some(*shift);
            m.cells = counted
                .map(|(i, label)| MeanCell {
                    cell: origin + i as u64,
                    label,
                })
                .collect();
        }
        Plan::Categorical { .. } => {
            let listed = f.categorical.as_ref().map_or(&[][..], |c| &c.value_counts);
            m.values = counted
                .map(|(i, label)| ValueMean {
                    value: listed[i].value.clone(),
                    value_hex: listed[i].value_hex.clone(),
                    label,
                })
                .collect();
        }
    }
    m
}

/// The label's value in each row: None where it is missing, NaN or
/// infinite.
fn label_values(a: &ArrayRef) -> Result<Vec<Option<f64>>> {
    let ys = numbers(a, Domain::Float)?;
    Ok(ys
        .into_iter()
        .map(|y| match y {
            Some(Num::Float(y)) if y.is_finite() => Some(y),
            _ => None,
        })
        .collect())
}

/// Add one batch of a feature (`a`) with the label's values `ys`; the
/// error says what differs from the profile's pass (a file that changed
/// in between).
fn add(s: &mut Sums, plan: &Plan, a: &ArrayRef, ys: &[Option<f64>]) -> Result<(), String> {
    if s.parts.is_empty() {
        s.parts = vec![Shifted::default(); plan.len()];
    }
    match plan {
        Plan::Numeric {
            domain,
            map,
            shift,
            origin,
            ..
        } => {
            // Each row's value (None: missing) and key (None: NaN or ±inf).
            for (x, y) in numbers(a, *domain)
                .map_err(|e| e.to_string())?
                .into_iter()
                .zip(ys)
            {
                let (Some(x), Some(y)) = (x, *y) else {
                    if let (None, Some(y)) = (x, *y) {
                        s.missing.add(y);
                    }
                    continue;
                };
                let Some(k) = domain.key(x) else { continue };
                let j = (map.fwd(k) >> shift).wrapping_sub(*origin) as usize;
                match s.parts.get_mut(j) {
                    Some(cell) => cell.add(y),
                    None => return Err("a value outside the range the profile saw".into()),
                }
            }
        }
        Plan::Categorical { listed } => {
            for (slot, y) in slots(a, listed).map_err(|e| e.to_string())?.iter().zip(ys) {
                let Some(y) = *y else { continue };
                match *slot {
                    MISSING => s.missing.add(y),
                    OTHER => s.other.add(y),
                    at => s.parts[at as usize].add(y),
                }
            }
        }
    }
    Ok(())
}

/// A row's place among a categorical feature's listed values: its index,
/// or one of these.
const MISSING: u32 = u32::MAX;
const OTHER: u32 = u32::MAX - 1;

/// Each row's place among the `listed` values (by the bytes a categorical
/// profile counts a value by: text for integers and booleans, strings as
/// UTF-8, binary values as they are); a dictionary's values are looked up
/// once each.
fn slots(a: &ArrayRef, listed: &HashMap<Vec<u8>, usize>) -> Result<Vec<u32>> {
    let find = |b: &[u8]| listed.get(b).map_or(OTHER, |&i| i as u32);
    macro_rules! each {
        ($arr:expr) => {{
            let arr = $arr;
            (0..arr.len())
                .map(|i| match arr.is_null(i) {
                    true => MISSING,
                    false => find(arr.value(i).as_ref()),
                })
                .collect()
        }};
    }
    Ok(match a.data_type() {
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let of_value = slots(d.values(), listed)?;
            let keys = d.normalized_keys();
            let nulls = a.logical_nulls();
            (0..a.len())
                .map(|i| match nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                    true => MISSING,
                    false => of_value[keys[i]],
                })
                .collect()
        }
        DataType::Utf8 => each!(a.as_string::<i32>()),
        DataType::LargeUtf8 => each!(a.as_string::<i64>()),
        DataType::Utf8View => each!(a.as_string_view()),
        DataType::Binary => each!(a.as_binary::<i32>()),
        DataType::LargeBinary => each!(a.as_binary::<i64>()),
        DataType::BinaryView => each!(a.as_binary_view()),
        DataType::FixedSizeBinary(_) => each!(a.as_fixed_size_binary()),
        // Integers and booleans, as their text.
        _ => {
            let text = arrow::compute::cast(a, &DataType::LargeUtf8).map_err(|e| {
                Error::Internal(format!("reading {} as values: {e}", a.data_type()))
            })?;
            each!(text.as_string::<i64>())
        }
    })
}
