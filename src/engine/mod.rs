//! The profile engine: drives a [`Backend`] over a [`Dataset`] in at most
//! two passes, with bounded memory.
//!
//! 1. every partition (Parquet row group or whole file) is read in parallel
//!    and folded into per-column partial states (counts, min/max, moments,
//!    key sketch, value counts); the partials are merged in partition order,
//!    so the result never depends on thread scheduling;
//! 2. numeric columns that need the global [min, max] or global ranks (the
//!    equal-width histogram and the exact quantiles) get a second pass, over
//!    their values kept during pass one (host keys on the CPU, device
//!    buffers on the GPU) while they fit the memory budget, else by reading
//!    only those columns again.
//!
//! The engine decides what each column is and in which order states merge;
//! the backend's [`Session`] runs every kernel.

pub mod groups;
pub mod partial;
pub(crate) mod schedule;
pub mod target;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, OffsetSizeTrait};
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::backend::{Backend, Placements, Session};
use crate::error::{Error, Result};
use crate::profile::categorical::{is_categorical, CatAcc};
use crate::profile::keys::Domain;
use crate::profile::numeric::{domain_of, NumericAcc, Scratch};
use crate::profile::quantile::{Candidates, Pass2Plan, Pass2State};
use crate::profile::*;
use crate::source::{Dataset, Partition};
use schedule::run_ordered;

/// Options of one profile run.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    pub stats: StatsOptions,
    /// Bytes of numeric values that may be kept between the passes (in
    /// memory, or on the GPU); columns beyond it are read again in pass two.
    pub memory_budget: u64,
    /// Where the statistics are computed.
    pub backend: Arc<Backend>,
    /// Collect where the time went (for `skewer bench`).
    pub timings: Option<Arc<Timings>>,
    /// Integer columns (or lists of integers) to profile as categorical:
    /// value counts, top-k and distinct values instead of moments and
    /// quantiles (TFDV's `int_domain { is_categorical: true }`).
    pub categorical: Vec<String>,
    /// One pass only: quantiles and histograms come from the sketch
    /// (`quantiles_exact: false`, as after a merge). For `compare`,
    /// `validate` and `schema infer`, which use counts, moments and
    /// sketches only, so a large dataset is not read twice.
    pub single_pass: bool,
    /// `--slice-by`: also profile each slice of the rows, in the same
    /// passes (the profile's `slices`).
    pub slices: Option<Slicing>,
    /// `--label`: the label column. A label of classes is profiled as
    /// slices (by `slices`, which must then slice by this column alone, or
    /// else by its [`DEFAULT_MAX_SLICES`] largest classes), and every
    /// feature gets its label-conditional table; a label of numbers (floats
    /// or decimals, [`target`]) gives every feature its label means, and
    /// `slices` are not used.
    pub label: Option<String>,
}

/// Slices profiled apart unless asked otherwise (`--max-slices`).
pub const DEFAULT_MAX_SLICES: usize = 20;

/// Which slices a profile holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Slicing {
    /// Each value (or combination of values) of these columns is a slice.
    pub columns: Vec<String>,
    /// The largest slices by rows profiled apart; the rest folded into
    /// one "other" slice.
    pub max: usize,
    /// Instead, exactly these slices (their values, in this order) apart,
    /// the rest folded: another profile's slices, so that two profiles
    /// that are compared fold the same values (and, inside the engine,
    /// the classes chosen over all windows).
    pub only: Option<Vec<Vec<Option<String>>>>,
}

impl Slicing {
    /// The slices of `--label COL`: its `max` largest classes apart.
    pub fn of_label(column: &str, max: usize) -> Slicing {
        Slicing {
            columns: vec![column.to_string()],
            max,
            only: None,
        }
    }
}

impl ProfileOptions {
    /// With `--label`, the slicing by its classes that each window holds.
    pub fn window_classes(&self) -> Option<Slicing> {
        self.label.as_ref().and(self.slices.clone())
    }

    /// These options without the label (nor its classes' slices).
    fn without_label(&self) -> ProfileOptions {
        ProfileOptions {
            label: None,
            slices: None,
            ..self.clone()
        }
    }
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            stats: StatsOptions::default(),
            memory_budget: 1 << 30,
            backend: Backend::cpu(),
            timings: None,
            categorical: Vec::new(),
            single_pass: false,
            slices: None,
            label: None,
        }
    }
}

impl ProfileOptions {
    /// Bytes of values kept between the passes: none for one pass.
    fn keep(&self) -> u64 {
        if self.single_pass {
            0
        } else {
            self.memory_budget
        }
    }

    pub fn validate(&self) -> Result<()> {
        self.stats.check().map_err(Error::InvalidOption)
    }
}

/// Where a run's time went (nanoseconds summed over threads), for `skewer bench`.
#[derive(Debug, Default)]
pub struct Timings {
    /// Reading and decoding the source into Arrow batches.
    pub decode_ns: AtomicU64,
    /// Computing statistics (the batch callbacks, GPU calls included).
    pub compute_ns: AtomicU64,
    /// Bytes of Arrow column data decoded.
    pub column_bytes: AtomicU64,
}

impl Timings {
    fn add(c: &AtomicU64, since: std::time::Instant) {
        c.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

/// Progress of a long run, reported by the engine (the CLI draws a bar).
pub trait Progress: Send + Sync {
    /// A pass begins over `total_rows` rows (when known) and `total_bytes`.
    fn start(&self, _pass: u32, _total_rows: Option<u64>, _total_bytes: u64) {}
    /// Rows and input bytes just processed.
    fn advance(&self, _rows: u64, _bytes: u64) {}
    /// The run is over.
    fn finish(&self) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a column is profiled as.
#[derive(Debug, Clone)]
enum Plan {
    Numeric(Domain),
    Categorical,
    /// A list of numeric or categorical values.
    List(Box<Plan>),
    Skip,
}

fn plan_of(dt: &DataType) -> Plan {
    if let Some(d) = domain_of(dt) {
        return Plan::Numeric(d);
    }
    if is_categorical(dt) {
        return Plan::Categorical;
    }
    match dt {
        DataType::Dictionary(_, v) if domain_of(v).is_some() => {
            Plan::Numeric(domain_of(v).unwrap_or(Domain::Float))
        }
        DataType::List(f) | DataType::LargeList(f) => match plan_of(f.data_type()) {
            p @ (Plan::Numeric(_) | Plan::Categorical) => Plan::List(Box::new(p)),
            _ => Plan::Skip,
        },
        _ => Plan::Skip,
    }
}

/// Pass-one state of the values of a column (or of a list's elements).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum ValuesAcc {
    Numeric(NumericAcc),
    Categorical(CatAcc),
}

/// Pass-one state of one column in one partition.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ColState {
    present: u64,
    missing: u64,
    list: Option<ListLens>,
    values: Option<ValuesAcc>,
    /// Numeric columns: index of the leaf (for the budget and pass two).
    leaf: Option<usize>,
    #[serde(skip)]
    scratch: Scratch,
    /// Batches whose values were computed on each backend.
    placed: Placements,
}

/// The column layout shared by all partitions.
struct Layout {
    plans: Vec<Plan>,
    fields: Vec<Field>,
    /// Leaf index of each numeric column (top level or list element).
    leaf_of: Vec<Option<usize>>,
    leaves: Vec<usize>,
    cap: usize,
    timings: Option<Arc<Timings>>,
}

impl Layout {
    /// Pass two's plan of each numeric leaf, from the merged pass-one
    /// states of every column.
    fn plans_pass2(&self, global: &[ColState], stats: &StatsOptions) -> Result<Vec<Pass2Plan>> {
        self.leaves
            .iter()
            .map(|&col| match &global[col].values {
                Some(ValuesAcc::Numeric(n)) => n.plan_pass2(stats),
                _ => Err(Error::Internal(format!("leaf column {col} is not numeric"))),
            })
            .collect()
    }

    /// The names of the numeric leaves' columns, in leaf order.
    fn leaf_names(&self) -> Vec<&str> {
        self.leaves
            .iter()
            .map(|&c| self.fields[c].name().as_str())
            .collect()
    }

    fn new_state(&self, col: usize) -> ColState {
        let (values, list) = match &self.plans[col] {
            Plan::Numeric(d) => (Some(ValuesAcc::Numeric(NumericAcc::new(*d))), None),
            Plan::Categorical => (
                Some(ValuesAcc::Categorical(CatAcc::new(
                    self.fields[col].data_type(),
                    self.cap,
                ))),
                None,
            ),
            Plan::List(inner) => {
                let elem_type = match self.fields[col].data_type() {
                    DataType::List(f) | DataType::LargeList(f) => f.data_type().clone(),
                    other => other.clone(),
                };
                let v = match inner.as_ref() {
                    Plan::Numeric(d) => ValuesAcc::Numeric(NumericAcc::new(*d)),
                    _ => ValuesAcc::Categorical(CatAcc::new(&elem_type, self.cap)),
                };
                (
                    Some(v),
                    Some(ListLens {
                        min: u64::MAX,
                        ..Default::default()
                    }),
                )
            }
            Plan::Skip => (None, None),
        };
        ColState {
            present: 0,
            missing: 0,
            list,
            values,
            leaf: self.leaf_of[col],
            scratch: Scratch::default(),
            placed: Placements::default(),
        }
    }
}

/// The element values of the present rows of a list array.
fn list_values<O: OffsetSizeTrait>(
    a: &arrow::array::GenericListArray<O>,
    lens: &mut ListLens,
) -> Result<ArrayRef> {
    let offs = a.value_offsets();
    // A corrupt file can decode to offsets that run backwards or past the
    // values (readers build lists unchecked): that is an error, not data.
    let n_values = a.values().len();
    if offs[0].as_usize() > n_values
        || offs
            .windows(2)
            .any(|w| w[1] < w[0] || w[1].as_usize() > n_values)
    {
        return Err(Error::corrupt(
            "list offsets out of order or beyond the values",
        ));
    }
    let mut contiguous = true;
    for i in 0..a.len() {
        let l = (offs[i + 1] - offs[i]).as_usize() as u64;
        if a.is_valid(i) {
            lens.min = lens.min.min(l);
            lens.max = lens.max.max(l);
            lens.total += l;
        } else if l > 0 {
            contiguous = false;
        }
    }
    let start = offs[0].as_usize();
    let end = offs[a.len()].as_usize();
    if contiguous {
        return Ok(a.values().slice(start, end - start));
    }
    // Null rows that still span values: gather only the present rows' values.
    let mut idx: Vec<u64> = Vec::new();
    for i in 0..a.len() {
        if a.is_valid(i) {
            idx.extend(offs[i].as_usize() as u64..offs[i + 1].as_usize() as u64);
        }
    }
    arrow::compute::take(
        a.values().as_ref(),
        &arrow::array::UInt64Array::from(idx),
        None,
    )
    .map_err(|e| Error::Internal(format!("gathering list values: {e}")))
}

/// The values to profile for a column: itself, or its list elements.
fn values_of(array: &ArrayRef, lens: Option<&mut ListLens>) -> Result<ArrayRef> {
    let mut scratch = ListLens::default();
    let lens = lens.unwrap_or(&mut scratch);
    let v = match array.data_type() {
        DataType::List(_) => list_values(array.as_list::<i32>(), lens)?,
        DataType::LargeList(_) => list_values(array.as_list::<i64>(), lens)?,
        DataType::Dictionary(_, v) if domain_of(v).is_some() => arrow::compute::cast(array, v)
            .map_err(|e| Error::Internal(format!("unpacking a dictionary: {e}")))?,
        _ => return Ok(array.clone()),
    };
    if let DataType::Dictionary(_, inner) = v.data_type() {
        if domain_of(inner).is_some() {
            return arrow::compute::cast(&v, inner)
                .map_err(|e| Error::Internal(format!("unpacking a dictionary: {e}")));
        }
    }
    Ok(v)
}

impl ColState {
    fn update(&mut self, array: &ArrayRef, session: &Session) -> Result<()> {
        let Some(acc) = self.values.as_mut() else {
            return Ok(());
        };
        let nulls = array.logical_null_count() as u64;
        self.missing += nulls;
        self.present += array.len() as u64 - nulls;
        let values = values_of(array, self.list.as_mut())?;
        if let Some(l) = self.list.as_mut() {
            l.null_values += values.logical_null_count() as u64;
        }
        let placed = match acc {
            ValuesAcc::Categorical(c) => session.backend().count_categorical(c, values.as_ref())?,
            ValuesAcc::Numeric(n) => {
                let leaf = self.leaf.unwrap_or(0);
                session.numeric_pass1(leaf, n, values.as_ref(), &mut self.scratch)?
            }
        };
        self.placed.add(placed);
        Ok(())
    }

    fn merge(&mut self, o: &ColState) {
        self.placed.merge(&o.placed);
        self.present += o.present;
        self.missing += o.missing;
        if let (Some(a), Some(b)) = (self.list.as_mut(), o.list.as_ref()) {
            a.min = a.min.min(b.min);
            a.max = a.max.max(b.max);
            a.total += b.total;
            a.null_values += b.null_values;
        }
        match (self.values.as_mut(), o.values.as_ref()) {
            (Some(ValuesAcc::Numeric(a)), Some(ValuesAcc::Numeric(b))) => a.merge(b),
            (Some(ValuesAcc::Categorical(a)), Some(ValuesAcc::Categorical(b))) => a.merge(b),
            _ => {}
        }
    }
}

/// Where a column's values would have been computed (for columns without
/// values).
fn placement_of(layout: &Layout, backend: &Backend, col: usize) -> crate::backend::Placement {
    let dt = match layout.fields[col].data_type() {
        DataType::List(f) | DataType::LargeList(f) => f.data_type().clone(),
        other => other.clone(),
    };
    backend.placement_of(&dt, layout.leaf_of[col].is_some())
}

/// Profile a dataset on `opts.backend`.
pub fn profile(
    ds: &Dataset,
    opts: &ProfileOptions,
    progress: &dyn Progress,
) -> Result<DatasetProfile> {
    opts.validate()?;
    if let Some(label) = &opts.label {
        if label_of_numbers(ds, label) {
            if opts
                .slices
                .as_ref()
                .is_some_and(|s| s.columns != [label.as_str()])
            {
                return Err(Error::InvalidOption(
                    "--label and --slice-by together are not supported yet".into(),
                ));
            }
            let mut p = profile(ds, &opts.without_label(), progress)?;
            target::attach(ds, &mut p, label, progress)?;
            return Ok(p);
        }
        let s = label_slicing(ds, opts, label)?;
        let by = groups::GroupBy::Slices(s);
        let mut p = groups::profile_groups(ds, opts, &by, progress)?.sliced()?;
        p.label = Some(label.clone());
        crate::compare::concept::attach_tables(&mut p);
        return Ok(p);
    }
    if let Some(s) = &opts.slices {
        let by = groups::GroupBy::Slices(s.clone());
        return groups::profile_groups(ds, opts, &by, progress)?.sliced();
    }
    let source = ds.sources().first().cloned().unwrap_or_default();
    let (layout, warnings) = Layout::new(ds.schema(), opts, &source)?;
    let session = opts.backend.session(opts.keep());
    run_passes(ds, opts, progress, &layout, &session, warnings)
}

/// `--window COL=WIDTH` (`spec`): one profile per window, in time order;
/// with `--label`, each labelled (by classes: each window's rows sliced
/// by them too; by numbers: each window's label means, in one more pass).
pub fn profile_windows(
    ds: &Dataset,
    opts: &ProfileOptions,
    spec: &str,
    progress: &dyn Progress,
) -> Result<Vec<DatasetProfile>> {
    opts.validate()?;
    let numbers = opts.label.as_deref().filter(|l| label_of_numbers(ds, l));
    let Some(label) = numbers else {
        let by = groups::GroupBy::windows(spec, opts.window_classes())?;
        return groups::profile_groups(ds, opts, &by, progress)?.windows();
    };
    let by = groups::GroupBy::windows(spec, None)?;
    let mut profiles =
        groups::profile_groups(ds, &opts.without_label(), &by, progress)?.windows()?;
    target::attach_windows(ds, &mut profiles, &by, label, progress)?;
    Ok(profiles)
}

/// Whether `ds` has a column `label` of numbers ([`target::numeric`]).
fn label_of_numbers(ds: &Dataset, label: &str) -> bool {
    let fields = ds.schema().fields().clone();
    let f = fields.iter().find(|f| f.name() == label);
    f.is_some_and(|f| target::numeric(f.data_type()))
}

/// The slices of `--label`'s classes: a label of classes (not floats),
/// not combined with other slices.
fn label_slicing(ds: &Dataset, opts: &ProfileOptions, label: &str) -> Result<Slicing> {
    check_label(ds, label)?;
    match &opts.slices {
        None => Ok(Slicing::of_label(label, DEFAULT_MAX_SLICES)),
        Some(s) if s.columns == [label] => Ok(s.clone()),
        Some(_) => Err(Error::InvalidOption(
            "--label and --slice-by together are not supported yet".into(),
        )),
    }
}

/// `--label`'s column is in `ds` and of classes (a label of numbers takes
/// [`target`]'s way).
pub(crate) fn check_label(ds: &Dataset, label: &str) -> Result<()> {
    let source = ds.sources().first().cloned().unwrap_or_default();
    let schema = ds.schema();
    let Some(f) = schema.fields().iter().find(|f| f.name() == label) else {
        return Err(unknown_in(&source, schema, label));
    };
    fn of_classes(dt: &DataType) -> bool {
        match dt {
            DataType::Dictionary(_, v) => of_classes(v),
            dt => {
                dt.is_integer()
                    || matches!(
                        dt,
                        DataType::Boolean
                            | DataType::Utf8
                            | DataType::LargeUtf8
                            | DataType::Utf8View
                            | DataType::Binary
                            | DataType::LargeBinary
                            | DataType::BinaryView
                    )
            }
        }
    }
    if !of_classes(f.data_type()) {
        let dt = f.data_type();
        return Err(Error::InvalidOption(format!(
            "--label {label}: the column is {} in {source}; a label must be of classes \
             (integers, strings or booleans) or of numbers (floats or decimal128)",
            type_name(dt)
        )));
    }
    Ok(())
}

impl Layout {
    /// What each column of `schema` (read from `source`) is profiled as,
    /// and the warnings for those that are not.
    fn new(
        schema: &arrow::datatypes::Schema,
        opts: &ProfileOptions,
        source: &str,
    ) -> Result<(Layout, Vec<String>)> {
        let mut warnings = Vec::new();
        let mut plans = Vec::new();
        let mut leaf_of = Vec::new();
        let mut leaves = Vec::new();
        for c in &opts.categorical {
            let Some(f) = schema.fields().iter().find(|f| f.name() == c) else {
                return Err(unknown_in(source, schema, c));
            };
            let elem = match f.data_type() {
                DataType::List(e) | DataType::LargeList(e) => e.data_type().clone(),
                other => other.clone(),
            };
            if !elem.is_integer() {
                return Err(Error::NotCategorical {
                    column: c.clone(),
                    type_name: f.data_type().to_string(),
                });
            }
        }
        for (i, f) in schema.fields().iter().enumerate() {
            let p = if opts.categorical.contains(f.name()) {
                match f.data_type() {
                    DataType::List(_) | DataType::LargeList(_) => {
                        Plan::List(Box::new(Plan::Categorical))
                    }
                    _ => Plan::Categorical,
                }
            } else {
                plan_of(f.data_type())
            };
            if matches!(p, Plan::Skip) {
                warnings.push(format!(
                    "column {:?} ({}) skipped: {} columns are not profiled",
                    f.name(),
                    f.data_type(),
                    kind_word(f.data_type())
                ));
            }
            let numeric = matches!(&p, Plan::Numeric(_))
                || matches!(&p, Plan::List(inner) if matches!(inner.as_ref(), Plan::Numeric(_)));
            leaf_of.push(numeric.then(|| {
                leaves.push(i);
                leaves.len() - 1
            }));
            plans.push(p);
        }
        let layout = Layout {
            plans,
            fields: schema.fields().iter().map(|f| f.as_ref().clone()).collect(),
            leaf_of,
            leaves,
            cap: opts.stats.unique_cap,
            timings: opts.timings.clone(),
        };
        Ok((layout, warnings))
    }
}

/// Pass two: the exact quantiles and histograms of the numeric leaves that
/// need them, from the values pass one kept, or by reading those columns
/// again.
fn pass_two(
    ds: &Dataset,
    opts: &ProfileOptions,
    progress: &dyn Progress,
    layout: &Layout,
    session: &Session,
    global: &[ColState],
) -> Result<(Vec<Pass2Plan>, Vec<Pass2State>)> {
    let threads = rayon::current_num_threads();
    let window = 4 * threads;
    let plans2 = layout.plans_pass2(global, &opts.stats)?;
    let mut states2: Vec<Pass2State> = plans2.iter().map(Pass2Plan::new_state).collect();
    // From what pass one kept; the leaves it could not keep are read again.
    let kept: Vec<bool> = states2
        .par_iter_mut()
        .enumerate()
        .map(|(leaf, st)| match plans2[leaf].needs_pass() {
            true => session.collect_kept(leaf, &mut [(&plans2[leaf], st)]),
            false => Ok(true),
        })
        .collect::<Result<_>>()?;
    session.release_kept();
    let reread_cols: Vec<usize> = (0..layout.leaves.len())
        .filter(|&l| !kept[l])
        .map(|l| layout.leaves[l])
        .collect();
    if !reread_cols.is_empty() {
        progress.start(2, ds.total_rows(), ds.total_bytes());
        let items2 = work_items(ds, &reread_cols);
        run_ordered(
            items2.len(),
            threads,
            window,
            |i| {
                let plan_of = |c: usize| &plans2[layout.leaf_of[c].unwrap_or(0)];
                pass2_item(ds, &items2[i], &plan_of, session.backend(), progress)
            },
            |i, states| {
                for (&col, st) in items2[i].cols.iter().zip(states) {
                    let leaf = layout.leaf_of[col].unwrap_or(0);
                    states2[leaf].merge(st);
                }
                Ok(())
            },
        )?;
    }
    finish_pass2(
        &ds.sources().join(", "),
        &layout.leaf_names(),
        &plans2.iter().collect::<Vec<_>>(),
        &mut states2,
    )?;
    Ok((plans2, states2))
}

/// Both passes and the finish, for [`profile`].
fn run_passes(
    ds: &Dataset,
    opts: &ProfileOptions,
    progress: &dyn Progress,
    layout: &Layout,
    session: &Session,
    warnings: Vec<String>,
) -> Result<DatasetProfile> {
    let schema = ds.schema().clone();
    let ncols = schema.fields().len();
    let all_cols: Vec<usize> = (0..ncols).collect();
    let threads = rayon::current_num_threads();
    let window = 4 * threads;
    let items = work_items(ds, &all_cols);

    // Pass one.
    progress.start(1, ds.total_rows(), ds.total_bytes());
    let mut rows = 0u64;
    let mut global: Vec<ColState> = (0..ncols).map(|c| layout.new_state(c)).collect();
    run_ordered(
        items.len(),
        threads,
        window,
        |i| pass1_item(ds, &items[i], layout, session, progress),
        |i, (n, states)| {
            if items[i].first_of_partition {
                rows += n;
            }
            for (&col, s) in items[i].cols.iter().zip(states) {
                global[col].merge(&s);
            }
            Ok(())
        },
    )?;

    // Pass two, for the numeric leaves whose plan needs one.
    let exact = if opts.single_pass {
        session.release_kept();
        None
    } else {
        Some(pass_two(ds, opts, progress, layout, session, &global)?)
    };
    progress.finish();
    let exact = exact.as_ref().map(|(p, s)| (&p[..], &s[..]));
    finish_profile(
        layout,
        opts,
        session.backend(),
        &global,
        exact,
        rows,
        ds.sources(),
        warnings,
    )
}

/// The profile from the merged pass-one states and, unless one pass was
/// asked for, pass two's plans and merged states (one of each per leaf).
#[allow(clippy::too_many_arguments)]
fn finish_profile(
    layout: &Layout,
    opts: &ProfileOptions,
    backend: &Backend,
    global: &[ColState],
    exact: Option<(&[Pass2Plan], &[Pass2State])>,
    rows: u64,
    sources: Vec<String>,
    warnings: Vec<String>,
) -> Result<DatasetProfile> {
    let passes = match exact {
        Some((plans2, _)) if plans2.iter().any(Pass2Plan::needs_pass) => 2,
        _ => 1,
    };
    let mut features = Vec::with_capacity(global.len());
    for (col, st) in global.iter().enumerate() {
        let f = &layout.fields[col];
        let Some(values) = &st.values else { continue };
        let (kind, numeric, categorical) = match values {
            ValuesAcc::Numeric(n) => {
                let leaf = layout.leaf_of[col].unwrap_or(0);
                let stats = match exact {
                    Some((plans2, states2)) => {
                        n.finish_exact(&opts.stats, &plans2[leaf], &states2[leaf])?
                    }
                    None => n.finish_from_sketch(&opts.stats)?,
                };
                (Kind::Numeric, Some(stats), None)
            }
            ValuesAcc::Categorical(c) => {
                (Kind::Categorical, None, Some(c.finish(opts.stats.top_k)))
            }
        };
        features.push(FeatureProfile {
            name: f.name().clone(),
            type_name: type_name(f.data_type()),
            kind,
            count: st.present,
            missing: st.missing,
            computed_on: st.placed.label(placement_of(layout, backend, col)).into(),
            values_per_row: st.list.as_ref().map(|l| values_per_row(l, st.present)),
            numeric,
            categorical,
            label_table: None,
            label_means: None,
        });
    }
    Ok(DatasetProfile {
        format_version: FORMAT_VERSION,
        skewer_version: env!("CARGO_PKG_VERSION").into(),
        num_rows: rows,
        sources,
        backend: backend.info(),
        options: opts.stats.clone(),
        passes,
        features,
        warnings,
        slices: Vec::new(),
        window: None,
        label: None,
    })
}

/// One unit of parallel work: some columns of one partition.
struct WorkItem {
    part: Partition,
    cols: Vec<usize>,
    /// Whether this item counts the partition's rows (one item per partition does).
    first_of_partition: bool,
}

/// Cut the dataset into work items: one per column of each partition where
/// the format can read columns separately (so columns decode in parallel),
/// else one per partition.
fn work_items(ds: &Dataset, cols: &[usize]) -> Vec<WorkItem> {
    let mut items = Vec::new();
    for part in ds.partitions() {
        if ds.splits_by_column(&part) && cols.len() > 1 {
            for (j, &c) in cols.iter().enumerate() {
                items.push(WorkItem {
                    part: part.clone(),
                    cols: vec![c],
                    first_of_partition: j == 0,
                });
            }
        } else {
            items.push(WorkItem {
                part,
                cols: cols.to_vec(),
                first_of_partition: true,
            });
        }
    }
    items
}

fn pass1_item(
    ds: &Dataset,
    item: &WorkItem,
    layout: &Layout,
    session: &Session,
    progress: &dyn Progress,
) -> Result<(u64, Vec<ColState>)> {
    let mut states: Vec<ColState> = item.cols.iter().map(|&c| layout.new_state(c)).collect();
    let mut rows = 0u64;
    let share = item.cols.len() as f64 / ds.schema().fields().len().max(1) as f64;
    let mut mark = std::time::Instant::now();
    let t = layout.timings.as_deref();
    ds.read(&item.part, &item.cols, |batch: RecordBatch, bytes| {
        if let Some(t) = t {
            Timings::add(&t.decode_ns, mark);
            t.column_bytes
                .fetch_add(batch.get_array_memory_size() as u64, Ordering::Relaxed);
            mark = std::time::Instant::now();
        }
        rows += batch.num_rows() as u64;
        if states.len() == 1 {
            states[0].update(batch.column(0), session)?;
        } else {
            states
                .par_iter_mut()
                .zip(batch.columns().par_iter())
                .try_for_each(|(s, a)| s.update(a, session))?;
        }
        report(progress, item, batch.num_rows() as u64, bytes, share);
        if let Some(t) = t {
            Timings::add(&t.compute_ns, mark);
            mark = std::time::Instant::now();
        }
        Ok(())
    })?;
    Ok((rows, states))
}

/// Progress: rows once per partition, bytes in proportion to the columns read.
fn report(progress: &dyn Progress, item: &WorkItem, rows: u64, bytes: u64, share: f64) {
    advance(progress, item.first_of_partition, rows, bytes, share);
}

/// Progress of a read of some columns (`share` of them): its rows where
/// `counts_rows` (one item of those reading the same rows does), its
/// bytes in proportion.
fn advance(progress: &dyn Progress, counts_rows: bool, rows: u64, bytes: u64, share: f64) {
    let rows = if counts_rows { rows } else { 0 };
    progress.advance(rows, (bytes as f64 * share) as u64);
}

fn pass2_item<'p>(
    ds: &Dataset,
    item: &WorkItem,
    plan_of: &(dyn Fn(usize) -> &'p Pass2Plan + Sync),
    backend: &Backend,
    progress: &dyn Progress,
) -> Result<Vec<Pass2State>> {
    let plans: Vec<&Pass2Plan> = item.cols.iter().map(|&c| plan_of(c)).collect();
    let mut states: Vec<(Pass2State, Scratch)> = plans
        .iter()
        .map(|p| (p.new_state(), Scratch::default()))
        .collect();
    let share = item.cols.len() as f64 / ds.schema().fields().len().max(1) as f64;
    ds.read(&item.part, &item.cols, |batch, bytes| {
        states
            .par_iter_mut()
            .zip(batch.columns().par_iter())
            .zip(plans.par_iter())
            .try_for_each(|(((st, scratch), a), plan)| -> Result<()> {
                let values = values_of(a, None)?;
                backend.collect(plan, st, values.as_ref(), scratch)
            })?;
        report(progress, item, batch.num_rows() as u64, bytes, share);
        Ok(())
    })?;
    Ok(states.into_iter().map(|(s, _)| s).collect())
}

/// `ds` has no column `name`: the error lists those it has.
fn unknown_column(ds: &Dataset, name: &str) -> Error {
    unknown_in(
        &ds.sources().first().cloned().unwrap_or_default(),
        ds.schema(),
        name,
    )
}

/// `schema` (read from `source`) has no column `name`: the error lists
/// those it has.
pub fn unknown_in(source: &str, schema: &arrow::datatypes::Schema, name: &str) -> Error {
    Error::UnknownColumn {
        path: source.into(),
        column: name.to_string(),
        available: schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Read the named numeric columns of `ds` again and collect, for each, the
/// keys of the sketch buckets its plan names, on `backend`: a pass two
/// outside a profile run (compare's refinement). `pass` numbers the
/// progress bar.
pub fn collect_keys(
    ds: &Dataset,
    columns: &[(&str, &Pass2Plan)],
    backend: &Backend,
    progress: &dyn Progress,
    pass: u32,
) -> Result<Vec<Pass2State>> {
    let schema = ds.schema().clone();
    let mut at = std::collections::HashMap::new();
    for (i, (name, _)) in columns.iter().enumerate() {
        let col = schema
            .index_of(name)
            .map_err(|_| unknown_column(ds, name))?;
        if at.insert(col, i).is_some() {
            return Err(Error::Internal(format!("column {name:?} collected twice")));
        }
    }
    let mut cols: Vec<usize> = at.keys().copied().collect();
    cols.sort_unstable();
    let mut states: Vec<Pass2State> = columns.iter().map(|(_, p)| p.new_state()).collect();
    let threads = rayon::current_num_threads();
    let items = work_items(ds, &cols);
    let plan_of = |c: usize| columns[at[&c]].1;
    progress.start(pass, ds.total_rows(), ds.total_bytes());
    run_ordered(
        items.len(),
        threads,
        4 * threads,
        |i| pass2_item(ds, &items[i], &plan_of, backend, progress),
        |i, got| {
            for (c, st) in items[i].cols.iter().zip(got) {
                states[at[c]].merge(st);
            }
            Ok(())
        },
    )?;
    progress.finish();
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let plans: Vec<&Pass2Plan> = columns.iter().map(|(_, p)| *p).collect();
    finish_pass2(&ds.sources().join(", "), &names, &plans, &mut states)?;
    Ok(states)
}

/// Sort what pass two collected (column `names[i]` by `plans[i]`) and check
/// it against what pass one counted: a file read twice may have changed in
/// between, which is an error naming it, never wrong statistics.
fn finish_pass2(
    sources: &str,
    names: &[&str],
    plans: &[&Pass2Plan],
    states: &mut [Pass2State],
) -> Result<()> {
    states
        .par_iter_mut()
        .for_each(|s| s.cands.iter_mut().for_each(Candidates::compact));
    for ((name, plan), st) in names.iter().zip(plans).zip(states.iter()) {
        plan.check(st).map_err(|detail| Error::DataChanged {
            path: sources.into(),
            detail: format!("column {name:?}: {detail}"),
        })?;
    }
    Ok(())
}

fn kind_word(dt: &DataType) -> &'static str {
    match dt {
        DataType::Struct(_) => "struct",
        DataType::Map(_, _) => "map",
        DataType::Union(_, _) => "union",
        DataType::List(_) | DataType::LargeList(_) => "nested list",
        DataType::Null => "all-null (type null)",
        _ => "these",
    }
}

/// The type name written in profiles, e.g. "timestamp[ns, tz=UTC]".
pub fn type_name(dt: &DataType) -> String {
    use arrow::datatypes::TimeUnit;
    use DataType::*;
    let unit = |u: &TimeUnit| match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    };
    match dt {
        Boolean => "bool".into(),
        Int8 => "int8".into(),
        Int16 => "int16".into(),
        Int32 => "int32".into(),
        Int64 => "int64".into(),
        UInt8 => "uint8".into(),
        UInt16 => "uint16".into(),
        UInt32 => "uint32".into(),
        UInt64 => "uint64".into(),
        Float16 => "float16".into(),
        Float32 => "float32".into(),
        Float64 => "float64".into(),
        Utf8 => "utf8".into(),
        LargeUtf8 => "large_utf8".into(),
        Utf8View => "utf8view".into(),
        Binary => "binary".into(),
        LargeBinary => "large_binary".into(),
        BinaryView => "binary_view".into(),
        FixedSizeBinary(n) => format!("fixed_size_binary[{n}]"),
        Decimal128(p, s) => format!("decimal128({p}, {s})"),
        Date32 => "date32[day]".into(),
        Date64 => "date64[ms]".into(),
        Timestamp(u, None) => format!("timestamp[{}]", unit(u)),
        Timestamp(u, Some(tz)) => format!("timestamp[{}, tz={tz}]", unit(u)),
        Time32(u) => format!("time32[{}]", unit(u)),
        Time64(u) => format!("time64[{}]", unit(u)),
        Duration(u) => format!("duration[{}]", unit(u)),
        Dictionary(k, v) => format!("dictionary<{}, {}>", type_name(k), type_name(v)),
        List(f) => format!("list<{}>", type_name(f.data_type())),
        LargeList(f) => format!("large_list<{}>", type_name(f.data_type())),
        other => other.to_string().to_lowercase(),
    }
}
