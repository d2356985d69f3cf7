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

use super::{values_of, Progress};
use crate::error::{Error, Result};
use crate::profile::numeric::{extract, visit_floats, FloatVisitor, Scratch};
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
    /// A numeric feature's values go to cell `map(key) >> shift`.
    Numeric { map: KeyMap, shift: u32 },
    /// A categorical feature's values go to their index among the listed
    /// ones, or to the rest.
    Categorical { listed: HashMap<Vec<u8>, usize> },
}

/// One feature's sums so far.
#[derive(Default)]
struct Sums {
    cells: HashMap<u64, LabelMoments>,
    values: Vec<LabelMoments>,
    other: LabelMoments,
    missing: LabelMoments,
}

impl Sums {
    fn merge(&mut self, o: Sums) {
        for (j, m) in o.cells {
            self.cells.entry(j).or_default().merge(&m);
        }
        self.values.resize(
            self.values.len().max(o.values.len()),
            LabelMoments::default(),
        );
        for (a, b) in self.values.iter_mut().zip(&o.values) {
            a.merge(b);
        }
        self.other.merge(&o.other);
        self.missing.merge(&o.missing);
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
            map: n.sketch.map,
            shift: n.sketch.shift,
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
    let mut sums = fresh();
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
                        .try_for_each(|((s, plan), a)| match plan {
                            Some(plan) => add(s, plan, a, &ys),
                            None => Ok(()),
                        })?;
                }
                progress.advance(batch.num_rows() as u64, bytes);
                Ok(())
            })?;
            Ok(got)
        },
        |_, got| {
            for (ps, gs) in sums.iter_mut().zip(got) {
                for (s, g) in ps.iter_mut().zip(gs) {
                    s.merge(g);
                }
            }
            Ok(())
        },
    )?;
    progress.finish();
    for ((p, plans), sums) in profiles.iter_mut().zip(&plans).zip(sums) {
        for ((&(i, _), plan), s) in feats.iter().zip(plans).zip(sums) {
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
fn finish(f: &FeatureProfile, plan: &Plan, s: Sums) -> LabelMeans {
    let mut m = LabelMeans {
        other: s.other,
        missing: s.missing,
        ..LabelMeans::default()
    };
    match plan {
        Plan::Numeric { shift, .. } => {
            m.shift = Some(*shift);
            let mut cells: Vec<MeanCell> = s
                .cells
                .into_iter()
                .map(|(cell, label)| MeanCell { cell, label })
                .collect();
            cells.sort_unstable_by_key(|c| c.cell);
            m.cells = cells;
        }
        Plan::Categorical { .. } => {
            let listed = f.categorical.as_ref().map_or(&[][..], |c| &c.value_counts);
            let none = LabelMoments::default();
            m.values = listed
                .iter()
                .zip(s.values.iter().chain(std::iter::repeat(&none)))
                .filter(|(_, l)| l.count > 0)
                .map(|(v, l)| ValueMean {
                    value: v.value.clone(),
                    value_hex: v.value_hex.clone(),
                    label: *l,
                })
                .collect();
        }
    }
    m
}

/// The label's value in each row: None where it is missing, NaN or
/// infinite.
fn label_values(a: &ArrayRef) -> Result<Vec<Option<f64>>> {
    struct Rows;
    impl FloatVisitor for Rows {
        type Out = Vec<Option<f64>>;
        fn visit<T: Copy>(
            self,
            vals: &[T],
            nulls: Option<&arrow::buffer::NullBuffer>,
            conv: impl Fn(T) -> f64,
        ) -> Self::Out {
            vals.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let y = conv(v);
                    (nulls.is_none_or(|n| n.is_valid(i)) && y.is_finite()).then_some(y)
                })
                .collect()
        }
    }
    visit_floats(a.as_ref(), Rows)
        .ok_or_else(|| Error::Internal(format!("a label of numbers of type {}", a.data_type())))
}

/// Add one batch of a feature (`a`) with the label's values `ys`.
fn add(s: &mut Sums, plan: &Plan, a: &ArrayRef, ys: &[Option<f64>]) -> Result<()> {
    match plan {
        Plan::Numeric { map, shift } => {
            let a = values_of(a, None)?;
            // Rows with a label and a finite value: their keys, one each.
            let finite = finite_rows(a.as_ref());
            let mut keep = Vec::with_capacity(a.len());
            let mut y_kept = Vec::with_capacity(a.len());
            for (i, y) in ys.iter().enumerate() {
                let Some(y) = *y else {
                    keep.push(false);
                    continue;
                };
                if a.is_null(i) {
                    s.missing.add(y);
                    keep.push(false);
                } else {
                    let ok = finite.as_ref().is_none_or(|f| f[i]);
                    keep.push(ok);
                    if ok {
                        y_kept.push(y);
                    }
                }
            }
            let kept = arrow::compute::filter(&a, &keep.into())
                .map_err(|e| Error::Internal(format!("filtering rows with a label: {e}")))?;
            let mut scratch = Scratch::default();
            extract(kept.as_ref(), &mut scratch, &mut Default::default())?;
            if scratch.keys.len() != y_kept.len() {
                return Err(Error::Internal(format!(
                    "{} keys for {} labelled values",
                    scratch.keys.len(),
                    y_kept.len()
                )));
            }
            for (&k, &y) in scratch.keys.iter().zip(&y_kept) {
                s.cells.entry(map.fwd(k) >> shift).or_default().add(y);
            }
        }
        Plan::Categorical { listed } => {
            s.values.resize(listed.len(), LabelMoments::default());
            let bytes = Bytes::of(a)?;
            for (i, y) in ys.iter().enumerate() {
                let Some(y) = *y else { continue };
                match bytes.at(i) {
                    None => s.missing.add(y),
                    Some(b) => match listed.get(b) {
                        Some(&at) => s.values[at].add(y),
                        None => s.other.add(y),
                    },
                }
            }
        }
    }
    Ok(())
}

/// For floats, whether each row's value is finite (None: every value of
/// the type is).
fn finite_rows(a: &dyn Array) -> Option<Vec<bool>> {
    struct Finite;
    impl FloatVisitor for Finite {
        type Out = Vec<bool>;
        fn visit<T: Copy>(
            self,
            vals: &[T],
            _: Option<&arrow::buffer::NullBuffer>,
            conv: impl Fn(T) -> f64,
        ) -> Self::Out {
            vals.iter().map(|&v| conv(v).is_finite()).collect()
        }
    }
    match a.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => visit_floats(a, Finite),
        _ => None,
    }
}

/// Values as the bytes a categorical profile counts them by: text for
/// integers and booleans (as their counts list them), strings as UTF-8,
/// binary values as they are.
enum Bytes {
    Text(ArrayRef),
    Binary(ArrayRef),
}

impl Bytes {
    fn of(a: &ArrayRef) -> Result<Bytes> {
        let cast = |a: &ArrayRef, to: &DataType| {
            arrow::compute::cast(a, to)
                .map_err(|e| Error::Internal(format!("reading {} as values: {e}", a.data_type())))
        };
        let a = match a.data_type() {
            DataType::Dictionary(_, v) => cast(a, v)?,
            _ => a.clone(),
        };
        Ok(match a.data_type() {
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => Bytes::Binary(cast(&a, &DataType::LargeBinary)?),
            _ => Bytes::Text(cast(&a, &DataType::LargeUtf8)?),
        })
    }

    /// Row `i`'s bytes; None where it is missing.
    fn at(&self, i: usize) -> Option<&[u8]> {
        match self {
            Bytes::Text(a) => a
                .is_valid(i)
                .then(|| a.as_string::<i64>().value(i).as_bytes()),
            Bytes::Binary(a) => a.is_valid(i).then(|| a.as_binary::<i64>().value(i)),
        }
    }
}
