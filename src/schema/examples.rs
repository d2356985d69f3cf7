//! Per-example validation: the rows of the data that break a per-row rule
//! of the schema, written to a Parquet or CSV file
//! (`skewer validate DATA --schema S --examples OUT`).
//!
//! [`validate`](super::validate()) judges a profile: it says that 312 values
//! of `s_low` are outside the domain. This module reads the data once more
//! and says which rows they are. The rules are the schema's checks that a
//! single row can break, applied exactly as `validate` applies them to the
//! profile, so that a rule has rows here exactly when `validate` reports its
//! anomaly (see [`RULES`] and docs/schema.md for those that are aggregate
//! only):
//!
//! | rule | a row breaks it when |
//! | --- | --- |
//! | `presence.min_fraction` = 1 | the feature is null (`FEATURE_TYPE_LOW_FRACTION_PRESENT`, or `FEATURE_TYPE_NOT_PRESENT` when no row has it) |
//! | `values_per_row` | a present list has more / fewer values |
//! | `domain` | a value is not in it |
//! | `disallow_nan`, `disallow_inf` | a value is NaN / ±inf |
//! | `int_bounds`, `float_bounds` | a finite value is below `min` / above `max` |
//!
//! Why it is shaped so: the partitions (Parquet row groups, whole CSV and
//! Arrow files) are read in parallel, but their results are consumed in
//! partition order by the engine's ordered runner, so "the first N rows of a
//! rule" means the first N in file order whatever the threads do. A worker
//! keeps at most N examples per rule of its partition and counts the rest;
//! the consumer writes the examples it still needs and adds up the counts,
//! so the counts are complete and memory is bounded by the batch size and
//! N times the number of rules, never by the rows. The output goes to a
//! temporary file beside the target, renamed into place only when complete
//! ([`crate::files::AtomicOutput`]): an error leaves no partial file.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder, UInt64Builder};
use arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use arrow::record_batch::RecordBatch;
use serde::Serialize;

use super::validate::cmp_num;
use super::{FeatureSchema, Schema};
use crate::engine::schedule::run_ordered;
use crate::engine::Progress;
use crate::error::{Error, Result};
use crate::files::AtomicOutput;
use crate::profile::keys::{Domain, Num};
use crate::profile::{DatasetProfile, FeatureProfile, ValueCount};
use crate::report::value::{bytes_at, ValueText};
use crate::source::{Dataset, Partition};

/// The anomaly types that single rows can have, in the order `validate`
/// checks them (a row's examples come out in this order).
pub const RULES: [&str; 11] = [
    "FEATURE_TYPE_NOT_PRESENT",
    "FEATURE_TYPE_LOW_FRACTION_PRESENT",
    "FEATURE_TYPE_HIGH_NUMBER_VALUES",
    "FEATURE_TYPE_LOW_NUMBER_VALUES",
    "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
    "FLOAT_TYPE_HAS_NAN",
    "FLOAT_TYPE_HAS_INF",
    "INT_TYPE_SMALL_INT",
    "INT_TYPE_BIG_INT",
    "FLOAT_TYPE_SMALL_FLOAT",
    "FLOAT_TYPE_BIG_FLOAT",
];

/// The file format of the examples, from the output's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExamplesFormat {
    Parquet,
    Csv,
}

impl ExamplesFormat {
    /// `.parquet` or `.csv` (any case), CSV for standard output (`-`);
    /// anything else is an error naming the path.
    pub fn of_path(path: &Path) -> Result<ExamplesFormat> {
        if crate::files::is_stdout(path) {
            return Ok(ExamplesFormat::Csv);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("parquet") => Ok(ExamplesFormat::Parquet),
            Some("csv") => Ok(ExamplesFormat::Csv),
            _ => Err(Error::InvalidOption(format!(
                "{}: the examples file must end in .parquet or .csv (or be -, CSV on standard output)",
                path.display()
            ))),
        }
    }
}

/// Options of [`write_examples`].
#[derive(Debug, Clone)]
pub struct ExamplesOptions {
    /// Examples written per rule (feature and anomaly type): the first ones
    /// in file order.
    pub max_per_rule: usize,
}

impl Default for ExamplesOptions {
    fn default() -> Self {
        ExamplesOptions { max_per_rule: 100 }
    }
}

/// One rule that rows broke: how many rows did, and how many were written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub feature: String,
    pub anomaly: String,
    /// Rows that break the rule (all of them, not only those written).
    pub rows: u64,
    /// Rows written to the examples file: min(rows, max_per_rule).
    pub written: u64,
}

/// What [`write_examples`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExamplesSummary {
    /// The examples file.
    pub path: String,
    pub max_per_rule: usize,
    /// Rows written in all.
    pub written: u64,
    /// The rules that some row broke, in the order of the anomalies
    /// (schema features, then [`RULES`]).
    pub rules: Vec<RuleCount>,
}

/// Write the rows of `ds` that break a per-row rule of `schema` to `out`
/// (Parquet or CSV by its extension), at most `o.max_per_rule` per rule,
/// and count every such row. `profile` is `ds`'s profile, the one
/// `validate` judged: it says which features the checks apply to (a
/// feature missing from the data or of another type is skipped, as
/// `validate` skips it).
pub fn write_examples(
    ds: &Dataset,
    schema: &Schema,
    profile: &DatasetProfile,
    out: &Path,
    o: &ExamplesOptions,
    progress: &dyn Progress,
) -> Result<ExamplesSummary> {
    let format = ExamplesFormat::of_path(out)?;
    let checks = plan(ds, schema, profile);
    let nrules = checks.iter().map(|c| c.rules.len()).sum::<usize>();
    let mut columns: Vec<usize> = checks.iter().map(|c| c.col).collect();
    columns.sort_unstable();

    // First row of each partition in its file.
    let parts = ds.partitions();
    let mut starts = Vec::with_capacity(parts.len());
    let mut next_file = usize::MAX;
    let mut row = 0u64;
    for p in &parts {
        if p.file != next_file {
            next_file = p.file;
            row = 0;
        }
        starts.push(row);
        if p.row_group.is_some() {
            row += ds.partition_rows(p).unwrap_or(0);
        }
    }
    let sources = ds.sources();

    let (guard, file) = AtomicOutput::create(out)?;
    let mut writer = Writer::new(format, file, out)?;
    let mut rows = vec![0u64; nrules];
    let mut written = vec![0u64; nrules];
    let max = o.max_per_rule;
    let threads = rayon::current_num_threads();
    if !columns.is_empty() {
        // The data's second reading (validate's profile was the first).
        progress.start(2, ds.total_rows(), ds.total_bytes());
        let scan = Scan {
            ds,
            columns: &columns,
            checks: &checks,
            nrules,
            max,
            progress,
        };
        run_ordered(
            parts.len(),
            threads,
            2 * threads,
            |i| scan.partition(&parts[i], starts[i]),
            |i, found: Found| {
                for (r, n) in found.rows.iter().enumerate() {
                    rows[r] += n;
                }
                for e in found.examples {
                    if (written[e.rule] as usize) < max {
                        written[e.rule] += 1;
                        let c = &checks[e.check];
                        writer.push(
                            &sources[parts[i].file],
                            e.row,
                            &c.name,
                            c.rules[e.rule - c.first_rule],
                            e.value.as_deref(),
                        )?;
                    }
                }
                Ok(())
            },
        )?;
        progress.finish();
    }
    let file = writer.finish()?;
    guard.commit(file)?;

    let mut rules = Vec::new();
    for c in &checks {
        for (k, anomaly) in c.rules.iter().enumerate() {
            let r = c.first_rule + k;
            if rows[r] > 0 {
                rules.push(RuleCount {
                    feature: c.name.clone(),
                    anomaly: anomaly.to_string(),
                    rows: rows[r],
                    written: written[r],
                });
            }
        }
    }
    Ok(ExamplesSummary {
        path: out.display().to_string(),
        max_per_rule: max,
        written: written.iter().sum(),
        rules,
    })
}

/// The per-row checks of one feature, from its schema and its profile.
struct Check {
    /// Index into the dataset's columns.
    col: usize,
    name: String,
    /// Global index of this feature's first rule.
    first_rule: usize,
    /// The anomaly of each rule of the feature (local index = position).
    rules: Vec<&'static str>,
    /// Local rule of a null row, if the feature is required.
    missing: Option<usize>,
    /// Local rules and bounds of list lengths.
    too_many: Option<(usize, u64)>,
    too_few: Option<(usize, u64)>,
    values: Values,
}

/// What is checked of each value (or list element).
enum Values {
    None,
    Categorical {
        /// Local rule, and the allowed labels.
        domain: (usize, HashSet<String>),
    },
    Numeric {
        domain: Domain,
        nan: Option<usize>,
        inf: Option<usize>,
        /// (local rule, limit, breaks when the value compares so to it).
        bounds: Vec<(usize, Num, std::cmp::Ordering)>,
    },
}

fn plan(ds: &Dataset, schema: &Schema, p: &DatasetProfile) -> Vec<Check> {
    let mut out = Vec::new();
    let mut first_rule = 0;
    for fs in &schema.features {
        let Some(f) = p.features.iter().find(|f| f.name == fs.name) else {
            continue;
        };
        // Validate's other checks assume the schema's type; so do these.
        if f.type_name != fs.type_name {
            continue;
        }
        let Some(col) = ds
            .schema()
            .fields()
            .iter()
            .position(|x| x.name() == &f.name)
        else {
            continue;
        };
        if let Some(c) = check_of(fs, f, col, first_rule) {
            first_rule += c.rules.len();
            out.push(c);
        }
    }
    out
}

fn check_of(
    fs: &FeatureSchema,
    f: &FeatureProfile,
    col: usize,
    first_rule: usize,
) -> Option<Check> {
    let mut c = Check {
        col,
        name: fs.name.clone(),
        first_rule,
        rules: Vec::new(),
        missing: None,
        too_many: None,
        too_few: None,
        values: Values::None,
    };
    fn rule(c: &mut Check, name: &'static str) -> usize {
        c.rules.push(name);
        c.rules.len() - 1
    }
    // A column that was not profiled (a struct) has no counts to judge.
    let profiled = f.numeric.is_some() || f.categorical.is_some();
    // Every row must have it: each null row breaks the rule.
    if profiled && fs.presence.min_fraction.is_some_and(|m| m >= 1.0) {
        let name = if f.count == 0 {
            "FEATURE_TYPE_NOT_PRESENT"
        } else {
            "FEATURE_TYPE_LOW_FRACTION_PRESENT"
        };
        c.missing = Some(rule(&mut c, name));
    }
    if let (Some(b), Some(_)) = (&fs.values_per_row, &f.values_per_row) {
        if let Some(max) = b.max {
            c.too_many = Some((rule(&mut c, "FEATURE_TYPE_HIGH_NUMBER_VALUES"), max));
        }
        if let Some(min) = b.min {
            c.too_few = Some((rule(&mut c, "FEATURE_TYPE_LOW_NUMBER_VALUES"), min));
        }
    }
    if let (Some(domain), Some(_)) = (&fs.domain, &f.categorical) {
        let r = rule(&mut c, "ENUM_TYPE_UNEXPECTED_STRING_VALUES");
        c.values = Values::Categorical {
            domain: (r, domain.iter().cloned().collect()),
        };
    }
    if let Some(n) = &f.numeric {
        let nan = fs.disallow_nan.then(|| rule(&mut c, "FLOAT_TYPE_HAS_NAN"));
        let inf = fs.disallow_inf.then(|| rule(&mut c, "FLOAT_TYPE_HAS_INF"));
        let mut bounds = Vec::new();
        for (b, small, big) in [
            (&fs.int_bounds, "INT_TYPE_SMALL_INT", "INT_TYPE_BIG_INT"),
            (
                &fs.float_bounds,
                "FLOAT_TYPE_SMALL_FLOAT",
                "FLOAT_TYPE_BIG_FLOAT",
            ),
        ] {
            let Some(b) = b else { continue };
            if let Some(lim) = b.min {
                bounds.push((rule(&mut c, small), lim, std::cmp::Ordering::Less));
            }
            if let Some(lim) = b.max {
                bounds.push((rule(&mut c, big), lim, std::cmp::Ordering::Greater));
            }
        }
        if nan.is_some() || inf.is_some() || !bounds.is_empty() {
            c.values = Values::Numeric {
                domain: n.domain,
                nan,
                inf,
                bounds,
            };
        }
    }
    (!c.rules.is_empty()).then_some(c)
}

/// One example row found by a worker.
struct Example {
    /// Row in its file.
    row: u64,
    /// Index of the check (feature) and global index of the rule.
    check: usize,
    rule: usize,
    /// The value as text; None for a null.
    value: Option<String>,
}

/// What a worker found in one partition.
struct Found {
    /// Rows that break each rule (global index).
    rows: Vec<u64>,
    /// At most `max` per rule, sorted by row, then rule.
    examples: Vec<Example>,
}

/// What every worker reads and checks.
struct Scan<'a> {
    ds: &'a Dataset,
    /// The columns read (those with rules), in the dataset's order.
    columns: &'a [usize],
    checks: &'a [Check],
    nrules: usize,
    /// Examples kept per rule.
    max: usize,
    progress: &'a dyn Progress,
}

impl Scan<'_> {
    /// Read and check one partition whose first row is row `start` of its
    /// file.
    fn partition(&self, part: &Partition, start: u64) -> Result<Found> {
        let mut found = Found {
            rows: vec![0; self.nrules],
            examples: Vec::new(),
        };
        let mut base = start;
        self.ds.read(part, self.columns, |batch, bytes| {
            for (k, c) in self.checks.iter().enumerate() {
                // Readers give the columns in file order: found by name.
                let a = batch.column_by_name(&c.name).ok_or_else(|| {
                    Error::Internal(format!("column {:?} missing from a batch", c.name))
                })?;
                scan_column(a, c, k, base, self.max, &mut found)?;
            }
            base += batch.num_rows() as u64;
            self.progress.advance(batch.num_rows() as u64, bytes);
            Ok(())
        })?;
        found.examples.sort_by_key(|e| (e.row, e.rule));
        Ok(found)
    }
}

/// Check one column of one batch, rows `base..`.
fn scan_column(
    a: &ArrayRef,
    c: &Check,
    k: usize,
    base: u64,
    max: usize,
    found: &mut Found,
) -> Result<()> {
    let mut shown: Option<ValueText> = None;
    let mut hit = |found: &mut Found, row: usize, local: usize, null: bool| -> Result<()> {
        let rule = c.first_rule + local;
        found.rows[rule] += 1;
        if found.rows[rule] as usize <= max {
            let value = if null {
                None
            } else {
                if shown.is_none() {
                    shown = Some(ValueText::try_new(a)?);
                }
                shown.as_ref().map(|t| t.show(row))
            };
            found.examples.push(Example {
                row: base + row as u64,
                check: k,
                rule,
                value,
            });
        }
        Ok(())
    };
    let nulls = a.logical_nulls();
    let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
    if let Some(r) = c.missing {
        if let Some(n) = &nulls {
            for i in 0..a.len() {
                if n.is_null(i) {
                    hit(found, i, r, true)?;
                }
            }
        }
    }
    // The values, and for a list which row each belongs to.
    let (values, offsets): (ArrayRef, Option<Vec<usize>>) = match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            let o = l.value_offsets().iter().map(|&x| x as usize).collect();
            (l.values().clone(), Some(o))
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            let o = l.value_offsets().iter().map(|&x| x as usize).collect();
            (l.values().clone(), Some(o))
        }
        _ => (a.clone(), None),
    };
    if let Some(o) = &offsets {
        if o.windows(2).any(|w| w[1] < w[0]) || o.last().is_some_and(|&e| e > values.len()) {
            return Err(Error::corrupt(
                "list offsets out of order or beyond the values",
            ));
        }
        for i in (0..a.len()).filter(|&i| valid(i)) {
            let len = (o[i + 1] - o[i]) as u64;
            if let Some((r, _)) = c.too_many.filter(|&(_, m)| len > m) {
                hit(found, i, r, false)?;
            }
            if let Some((r, _)) = c.too_few.filter(|&(_, m)| len < m) {
                hit(found, i, r, false)?;
            }
        }
    }
    // Rules broken by each value, as a bit set of local rules.
    let broken = match &c.values {
        Values::None => return Ok(()),
        Values::Categorical { domain } => categorical_broken(&values, domain)?,
        Values::Numeric {
            domain,
            nan,
            inf,
            bounds,
        } => numeric_broken(&values, *domain, *nan, *inf, bounds)?,
    };
    let mut report = |found: &mut Found, row: usize, bits: u32| -> Result<()> {
        let mut b = bits;
        while b != 0 {
            let r = b.trailing_zeros() as usize;
            b &= b - 1;
            hit(found, row, r, false)?;
        }
        Ok(())
    };
    match &offsets {
        None => {
            for (i, &bits) in broken.iter().enumerate() {
                if bits != 0 {
                    report(found, i, bits)?;
                }
            }
        }
        Some(o) => {
            for i in (0..a.len()).filter(|&i| valid(i)) {
                let bits = broken[o[i]..o[i + 1]].iter().fold(0, |x, &y| x | y);
                if bits != 0 {
                    report(found, i, bits)?;
                }
            }
        }
    }
    Ok(())
}

/// Whether a label is allowed (without allocating for UTF-8 values).
fn allowed(domain: &HashSet<String>, bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => domain.contains(s),
        Err(_) => domain.contains(&ValueCount::of_bytes(bytes, 1).label()),
    }
}

/// For each value: the bit of the domain rule when it is present and not
/// in the domain, labelled as the profile labels it.
fn categorical_broken(v: &ArrayRef, (rule, domain): &(usize, HashSet<String>)) -> Result<Vec<u32>> {
    let bit = 1u32 << rule;
    let nulls = v.logical_nulls();
    let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
    let mut out = vec![0u32; v.len()];
    match v.data_type() {
        DataType::Dictionary(_, _) => {
            let d = v.as_any_dictionary();
            let values = d.values();
            let mut bad_code = Vec::with_capacity(values.len());
            for j in 0..values.len() {
                let ok = match bytes_at(values.as_ref(), j) {
                    Some(b) => allowed(domain, b),
                    None => {
                        return Err(Error::Internal(format!(
                            "dictionary of {}",
                            values.data_type()
                        )))
                    }
                };
                bad_code.push(!ok);
            }
            for (i, &k) in d.normalized_keys().iter().enumerate() {
                if !valid(i) {
                    continue;
                }
                // Readers may build dictionaries unchecked: a key beyond
                // the values is corrupt data, not a panic.
                let bad = bad_code
                    .get(k)
                    .ok_or_else(|| Error::corrupt("dictionary key beyond the values"))?;
                if *bad {
                    out[i] = bit;
                }
            }
        }
        DataType::Boolean => {
            let b = v.as_boolean();
            let (t, f) = (domain.contains("true"), domain.contains("false"));
            for (i, o) in out.iter_mut().enumerate() {
                if valid(i) && !(if b.value(i) { t } else { f }) {
                    *o = bit;
                }
            }
        }
        t if t.is_integer() => {
            // Integers profiled as categorical: labelled by their decimal form.
            let wide = if matches!(t, DataType::UInt64) {
                DataType::UInt64
            } else {
                DataType::Int64
            };
            let w = arrow::compute::cast(v, &wide)
                .map_err(|e| Error::Internal(format!("widening integers: {e}")))?;
            for (i, o) in out.iter_mut().enumerate() {
                if !valid(i) {
                    continue;
                }
                let label = match &wide {
                    DataType::UInt64 => w
                        .as_primitive::<arrow::datatypes::UInt64Type>()
                        .value(i)
                        .to_string(),
                    _ => w
                        .as_primitive::<arrow::datatypes::Int64Type>()
                        .value(i)
                        .to_string(),
                };
                if !domain.contains(&label) {
                    *o = bit;
                }
            }
        }
        _ => {
            for (i, o) in out.iter_mut().enumerate() {
                if !valid(i) {
                    continue;
                }
                let b = bytes_at(v.as_ref(), i)
                    .ok_or_else(|| Error::Internal(format!("domain check of {}", v.data_type())))?;
                if !allowed(domain, b) {
                    *o = bit;
                }
            }
        }
    }
    Ok(out)
}

/// For each value: the bits of the numeric rules it breaks. Bounds apply to
/// finite values only, as the profile's min and max do.
fn numeric_broken(
    v: &ArrayRef,
    domain: Domain,
    nan: Option<usize>,
    inf: Option<usize>,
    bounds: &[(usize, Num, std::cmp::Ordering)],
) -> Result<Vec<u32>> {
    let nums = crate::profile::numeric::numbers(v, domain)?;
    Ok(nums
        .iter()
        .map(|x| {
            let Some(x) = *x else { return 0 };
            let mut bits = 0u32;
            if let Num::Float(f) = x {
                if f.is_nan() {
                    return nan.map_or(0, |r| 1 << r);
                }
                if f.is_infinite() {
                    return inf.map_or(0, |r| 1 << r);
                }
            }
            for &(r, lim, ord) in bounds {
                if breaks(x, lim, ord) {
                    bits |= 1 << r;
                }
            }
            bits
        })
        .collect())
}

/// Whether `x` compares to the limit as `ord` ([`cmp_num`], with the
/// same-domain cases inline: this runs for every value).
#[inline(always)]
fn breaks(x: Num, lim: Num, ord: std::cmp::Ordering) -> bool {
    match (x, lim) {
        (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b) == Some(ord),
        (Num::Int(a), Num::Int(b)) => a.cmp(&b) == ord,
        (Num::UInt(a), Num::UInt(b)) => a.cmp(&b) == ord,
        _ => cmp_num(x, lim) == Some(ord),
    }
}

/// The examples file being written: rows are buffered and flushed in
/// batches to a Parquet or CSV writer.
struct Writer {
    out: Out,
    schema: SchemaRef,
    path: PathBuf,
    file: StringBuilder,
    row: UInt64Builder,
    feature: StringBuilder,
    anomaly: StringBuilder,
    value: StringBuilder,
    buffered: usize,
    /// Batches written so far.
    batches: usize,
}

enum Out {
    Parquet(Box<parquet::arrow::ArrowWriter<File>>),
    Csv(Box<arrow::csv::Writer<BufWriter<File>>>),
}

/// Rows buffered before they are written.
const FLUSH_ROWS: usize = 8192;

impl Writer {
    fn new(format: ExamplesFormat, f: File, path: &Path) -> Result<Writer> {
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("file", DataType::Utf8, false),
            Field::new("row", DataType::UInt64, false),
            Field::new("feature", DataType::Utf8, false),
            Field::new("anomaly", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ]));
        let out = match format {
            ExamplesFormat::Parquet => {
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .build();
                Out::Parquet(Box::new(
                    parquet::arrow::ArrowWriter::try_new(f, schema.clone(), Some(props)).map_err(
                        |e| Error::Parquet {
                            path: path.into(),
                            source: e,
                        },
                    )?,
                ))
            }
            ExamplesFormat::Csv => Out::Csv(Box::new(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(BufWriter::new(f)),
            )),
        };
        Ok(Writer {
            out,
            schema,
            path: path.into(),
            file: StringBuilder::new(),
            row: UInt64Builder::new(),
            feature: StringBuilder::new(),
            anomaly: StringBuilder::new(),
            value: StringBuilder::new(),
            buffered: 0,
            batches: 0,
        })
    }

    fn push(
        &mut self,
        file: &str,
        row: u64,
        feature: &str,
        anomaly: &str,
        value: Option<&str>,
    ) -> Result<()> {
        self.file.append_value(file);
        self.row.append_value(row);
        self.feature.append_value(feature);
        self.anomaly.append_value(anomaly);
        self.value.append_option(value);
        self.buffered += 1;
        if self.buffered >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        self.buffered = 0;
        self.batches += 1;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.file.finish()),
            Arc::new(self.row.finish()),
            Arc::new(self.feature.finish()),
            Arc::new(self.anomaly.finish()),
            Arc::new(self.value.finish()),
        ];
        let batch = RecordBatch::try_new(self.schema.clone(), cols)
            .map_err(|e| Error::Internal(format!("examples batch: {e}")))?;
        let path = self.path.clone();
        match &mut self.out {
            Out::Parquet(w) => w
                .write(&batch)
                .map_err(|e| Error::Parquet { path, source: e }),
            Out::Csv(w) => w.write(&batch).map_err(|e| Error::Arrow {
                path,
                context: "cannot write CSV".into(),
                source: e,
            }),
        }
    }

    /// Write what is buffered and the file's end; the file, to be synced
    /// and renamed into place.
    fn finish(mut self) -> Result<File> {
        self.flush()?;
        let path = self.path.clone();
        match self.out {
            Out::Parquet(w) => w
                .into_inner()
                .map_err(|e| Error::Parquet { path, source: e }),
            Out::Csv(w) => {
                // A CSV with no rows still has its header.
                let mut w = *w;
                if self.batches == 0 {
                    let empty = RecordBatch::new_empty(self.schema.clone());
                    w.write(&empty).map_err(|e| Error::Arrow {
                        path: path.clone(),
                        context: "cannot write CSV".into(),
                        source: e,
                    })?;
                }
                w.into_inner().into_inner().map_err(|e| Error::Write {
                    path,
                    source: e.into_error(),
                })
            }
        }
    }
}
