//! The profile as written to JSON (format_version 1).
//!
//! These types are the public contract documented in `docs/profile-format.md`.
//! Field order is fixed by the struct order, floats are written by serde_json
//! with shortest round-trip formatting, and every list is sorted, so the same
//! input gives byte-identical JSON. NaN and ±inf are written as null.

use serde::{Deserialize, Serialize};

use super::keys::{Domain, Num};
use super::moments::Moments;
use super::sketch::StoredSketch;

pub const FORMAT_VERSION: u32 = 1;

/// Reads a float that JSON wrote as null (NaN or ±inf) back as NaN.
pub fn f64_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetProfile {
    pub format_version: u32,
    pub skewer_version: String,
    pub num_rows: u64,
    pub sources: Vec<String>,
    pub backend: BackendInfo,
    pub options: StatsOptions,
    /// Passes made over the source: 1, or 2 where numeric columns needed
    /// their exact quantiles and histograms; one more for a label of
    /// numbers (its means).
    pub passes: u32,
    pub features: Vec<FeatureProfile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `--slice-by`: the profile of each slice of the rows, largest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<SliceProfile>,
    /// `--window`: the window of time whose rows this profile holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// `--label`: the label column. `slices` are then its classes (by
    /// this column alone), and each feature has its `label_table`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The rows of a dataset with one value of the slice columns (or, for
/// `other`, those of every slice beyond `--max-slices`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceProfile {
    /// Slice column → its value (null for missing values; `"__other__"`
    /// for the slices folded together).
    pub slice: std::collections::BTreeMap<String, Option<String>>,
    /// Whether this is the fold of the smaller slices.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    pub num_rows: u64,
    pub features: Vec<FeatureProfile>,
}

/// A window of time: the rows whose `column` is in `[start, end)`, in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub column: String,
    /// `1h`, `1d`, `7d`, …
    pub width: String,
    pub start: String,
    pub end: String,
}

impl DatasetProfile {
    /// The profile of one of this profile's slices, as `skewer profile`
    /// would make it of the slice's rows alone.
    pub fn slice(&self, s: &SliceProfile) -> DatasetProfile {
        DatasetProfile {
            format_version: self.format_version,
            skewer_version: self.skewer_version.clone(),
            num_rows: s.num_rows,
            sources: self.sources.clone(),
            backend: self.backend.clone(),
            options: self.options.clone(),
            passes: self.passes,
            features: s.features.clone(),
            warnings: self.warnings.clone(),
            slices: Vec::new(),
            window: self.window.clone(),
            label: None,
        }
    }

    /// This profile's slice that is `s` (the same values; "other" only
    /// for "other").
    pub fn find_slice(&self, s: &SliceProfile) -> Option<&SliceProfile> {
        self.slices
            .iter()
            .find(|t| t.slice == s.slice && t.other == s.other)
    }

    /// Whether this skewer can use a profile read from outside: its format
    /// version, its options, unique feature names, every numeric feature's
    /// sketch, and every value's `value_hex`.
    pub fn check_readable(&self) -> std::result::Result<(), String> {
        if self.format_version != FORMAT_VERSION {
            return Err(format!(
                "format_version {} (this skewer reads {FORMAT_VERSION})",
                self.format_version
            ));
        }
        self.options.check().map_err(|e| format!("options: {e}"))?;
        if let Some(e) = big("num_rows", self.num_rows) {
            return Err(e);
        }
        check_features(&self.features)?;
        self.check_slices()
    }

    /// Each slice's features as the whole's; slices of one set of columns
    /// (for a labelled profile, its label alone), each once, at most one
    /// "other", and rows that add up to the whole's.
    fn check_slices(&self) -> std::result::Result<(), String> {
        let Some(first) = self.slices.first() else {
            return Ok(());
        };
        let keys = |s: &SliceProfile| s.slice.keys().cloned().collect::<Vec<_>>();
        if let Some(l) = &self.label {
            if keys(first) != [l.clone()] {
                return Err(format!(
                    "labelled by {l:?} but its slices are not by {l:?} alone"
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut folds = 0;
        let mut rows = 0u64;
        for s in &self.slices {
            let name = s
                .slice
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null")))
                .collect::<Vec<_>>()
                .join(", ");
            if keys(s) != keys(first) {
                return Err(format!(
                    "slice {name} is not by the same columns as the first"
                ));
            }
            folds += usize::from(s.other);
            if !seen.insert((&s.slice, s.other)) || folds > 1 {
                return Err(format!("slice {name} is listed twice"));
            }
            if let Some(e) = big("num_rows", s.num_rows) {
                return Err(format!("slice {name}: {e}"));
            }
            rows = rows
                .checked_add(s.num_rows)
                .ok_or("its slices' rows add up beyond any dataset")?;
            check_features(&s.features).map_err(|e| format!("slice {name}: {e}"))?;
        }
        if rows != self.num_rows {
            return Err(format!(
                "its slices hold {rows} rows, the whole {}",
                self.num_rows
            ));
        }
        Ok(())
    }
}

/// Counts beyond 2^56 (no dataset has 7·10^16 rows) are corrupt; below
/// it, adding two profiles' counts (merge), or a thousand slices' rows,
/// cannot overflow.
const MAX_COUNT: u64 = 1 << 56;

fn big(what: &str, x: u64) -> Option<String> {
    (x > MAX_COUNT).then(|| format!("{what} {x} is beyond any dataset"))
}

/// Unique names, counts within any dataset, every numeric feature's
/// sketch, and every value's `value_hex`.
fn check_features(features: &[FeatureProfile]) -> std::result::Result<(), String> {
    let mut names = std::collections::HashSet::new();
    if let Some(f) = features.iter().find(|f| !names.insert(&f.name)) {
        return Err(format!("feature {:?} is listed twice", f.name));
    }
    for f in features {
        let at = |e: String| format!("feature {:?}: {e}", f.name);
        let mut counts = vec![("count", f.count), ("missing", f.missing)];
        if let Some(v) = &f.values_per_row {
            counts.extend([("values", v.total), ("null values", v.null_values)]);
        }
        if let Some(n) = &f.numeric {
            counts.extend([
                ("nan", n.nan),
                ("pos_inf", n.pos_inf),
                ("neg_inf", n.neg_inf),
                ("zeros", n.zeros),
                ("finite", n.finite),
            ]);
        }
        if let Some(c) = &f.categorical {
            counts.extend([("unique", c.unique), ("other_count", c.other_count)]);
            counts.extend(c.value_counts.iter().map(|v| ("a value's count", v.count)));
        }
        if let Some(e) = counts.iter().find_map(|&(what, x)| big(what, x)) {
            return Err(at(e));
        }
        if let Some(n) = &f.numeric {
            // The sketch, and that it agrees with the counts and moments.
            super::numeric::NumericAcc::from_stats(n).map_err(at)?;
        }
        if let Some(m) = &f.label_means {
            m.check(f.numeric.as_ref().map(|n| &n.sketch))
                .map_err(|e| at(format!("label_means: {e}")))?;
        }
        let Some(c) = &f.categorical else { continue };
        for v in c.value_counts.iter().chain(&c.top_values) {
            v.bytes().map_err(at)?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    pub kind: String,
    pub device: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
}

/// The statistics options that shape a profile; two profiles merge only
/// when these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsOptions {
    pub bins: usize,
    pub quantile_bins: usize,
    pub top_k: usize,
    pub quantile_ranks: Vec<f64>,
    pub unique_cap: usize,
    pub sketch_bits: u32,
}

impl StatsOptions {
    /// The options make sense: 1 to 1,000,000 bins, quantile ranks in
    /// [0, 1], sketch bits within 1..=16.
    pub fn check(&self) -> std::result::Result<(), String> {
        // (A profile read from outside sizes its buffers by these.)
        const MAX_BINS: usize = 1_000_000;
        if !(1..=MAX_BINS).contains(&self.bins) || !(1..=MAX_BINS).contains(&self.quantile_bins) {
            return Err(format!("bins must be within 1..={MAX_BINS}"));
        }
        if let Some(p) = self
            .quantile_ranks
            .iter()
            .find(|p| !(0.0..=1.0).contains(*p))
        {
            return Err(format!("quantile rank {p} is outside [0, 1]"));
        }
        if !(1..=16).contains(&self.sketch_bits) {
            return Err("sketch bits must be within 1..=16".into());
        }
        Ok(())
    }
}

impl Default for StatsOptions {
    fn default() -> Self {
        StatsOptions {
            bins: 10,
            quantile_bins: 10,
            top_k: 20,
            quantile_ranks: vec![0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99],
            unique_cap: 1_000_000,
            sketch_bits: super::sketch::STORED_BITS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Numeric,
    Categorical,
}

impl Kind {
    /// As written in profiles.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureProfile {
    pub name: String,
    /// Arrow type, e.g. `float64`, `timestamp[ns, tz=UTC]`, `list<int64>`.
    #[serde(rename = "type")]
    pub type_name: String,
    pub kind: Kind,
    /// Rows where the column is present (not null).
    pub count: u64,
    /// Rows where the column is null.
    pub missing: u64,
    /// Where the statistics were computed: "cpu", "gpu", or "gpu+cpu" when
    /// some batches ran on each (row groups of different encodings).
    pub computed_on: String,
    /// For list columns: values per present row; the numeric or categorical
    /// statistics then describe the element values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_per_row: Option<ValuesPerRow>,
    pub numeric: Option<NumericStats>,
    pub categorical: Option<CategoricalStats>,
    /// `--label`: the label's classes in each bin of this feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_table: Option<LabelTable>,
    /// `--label` of numbers: the label's count and mean in each bin of
    /// this feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_means: Option<LabelMeans>,
}

/// A numeric label's count, mean and sum of squared deviations from the
/// mean over some rows (Welford's; merged by Chan's rule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelMoments {
    pub count: u64,
    pub mean: f64,
    pub m2: f64,
}

impl LabelMoments {
    pub fn add(&mut self, y: f64) {
        self.count += 1;
        let d = y - self.mean;
        self.mean += d / self.count as f64;
        self.m2 = (self.m2 + d * (y - self.mean)).min(f64::MAX);
    }

    /// (A sum of squares beyond the largest float, of labels beyond
    /// 1e154, is held at it: JSON holds no infinity.)
    pub fn merge(&mut self, o: &LabelMoments) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        let n = self.count.saturating_add(o.count);
        let d = o.mean - self.mean;
        let w = o.count as f64 / n as f64;
        self.m2 = (self.m2 + o.m2 + d * (d * (self.count as f64 * w))).min(f64::MAX);
        self.mean += d * w;
        self.count = n;
    }

    /// The sample variance (None below two rows).
    pub fn variance(&self) -> Option<f64> {
        (self.count > 1).then(|| self.m2 / (self.count - 1) as f64)
    }
}

/// A feature's label-conditional means, for a label of numbers: the
/// label's [`LabelMoments`] over the rows of each part of the feature's
/// range (numeric features: the cells of its sketch; categorical ones:
/// each value its counts list, and the rest), and over the rows where the
/// feature is missing. Rows whose label is missing, NaN or infinite, and
/// rows whose feature is NaN or infinite, are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelMeans {
    /// Numeric features: cell `j` holds the values whose sketch key `s`
    /// (`map(key)`, as in the sketch) has `s >> shift == j`: the stored
    /// sketch's buckets, or finer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<MeanCell>,
    /// Categorical features: each value of the feature's `value_counts`
    /// that has rows with a label, and the rest of the values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValueMean>,
    #[serde(default)]
    pub other: LabelMoments,
    /// The rows where the feature is missing.
    pub missing: LabelMoments,
    /// For readers: the label's count, mean and standard deviation in
    /// the feature's `quantile_bins` bins, as [`LabelTable`]'s (derived
    /// from the above; never read back).
    #[serde(default)]
    pub bins: Vec<MeanBin>,
}

impl LabelMeans {
    /// Every part's moments: each part's `[count, mean, m2]` (the cells,
    /// the values, the rest, the missing rows).
    pub fn parts(&self) -> impl Iterator<Item = &LabelMoments> {
        let cells = self.cells.iter().map(|c| &c.label);
        let values = self.values.iter().map(|v| &v.label);
        cells.chain(values).chain([&self.other, &self.missing])
    }

    /// Fold another part's means (of the same feature) into these: cells
    /// on the coarser of the two grids, values by their text and
    /// `value_hex`. `bins` are left to be derived again.
    pub fn merge(&mut self, o: &LabelMeans) {
        if let (Some(a), Some(b)) = (self.shift, o.shift) {
            let shift = a.max(b);
            let mut cells: std::collections::BTreeMap<u64, LabelMoments> = Default::default();
            for (c, s) in self
                .cells
                .iter()
                .map(|c| (c, a))
                .chain(o.cells.iter().map(|c| (c, b)))
            {
                cells
                    .entry(c.cell >> (shift - s))
                    .or_default()
                    .merge(&c.label);
            }
            self.shift = Some(shift);
            self.cells = cells
                .into_iter()
                .map(|(cell, label)| MeanCell { cell, label })
                .collect();
        }
        let mut at: std::collections::HashMap<(String, Option<String>), usize> = self
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| ((v.value.clone(), v.value_hex.clone()), i))
            .collect();
        for v in &o.values {
            let n = self.values.len();
            match at.entry((v.value.clone(), v.value_hex.clone())) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    self.values[*e.get()].label.merge(&v.label)
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(n);
                    self.values.push(v.clone());
                }
            }
        }
        self.other.merge(&o.other);
        self.missing.merge(&o.missing);
        self.bins.clear();
    }

    /// Counts within any dataset, finite means, sums of squares at least
    /// zero, every value's `value_hex`, and for a numeric feature (of
    /// `sketch`) cells no finer than its buckets and inside its range.
    fn check(
        &self,
        sketch: Option<&super::sketch::StoredSketch>,
    ) -> std::result::Result<(), String> {
        if let Some(sk) = sketch {
            let Some(shift) = self.shift.filter(|&s| s <= sk.shift) else {
                return Err(format!(
                    "shift {:?}: a numeric feature's cells are its sketch's buckets or finer \
                     (at most {})",
                    self.shift, sk.shift
                ));
            };
            let d = sk.shift - shift;
            let buckets = 1u64.checked_shl(sk.bits).unwrap_or(u64::MAX);
            if let Some(c) = self.cells.iter().find(|c| {
                (c.cell >> d)
                    .checked_sub(sk.origin)
                    .is_none_or(|i| i >= buckets)
            }) {
                return Err(format!("cell {} is outside the sketch's range", c.cell));
            }
        }
        for m in self.parts() {
            if let Some(e) = big("count", m.count) {
                return Err(e);
            }
            if !(m.mean.is_finite() && m.m2 >= 0.0 && m.m2.is_finite()) {
                return Err(format!(
                    "mean {} and m2 {} must be finite, m2 ≥ 0",
                    m.mean, m.m2
                ));
            }
        }
        for v in &self.values {
            v.value_count().bytes()?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanCell {
    pub cell: u64,
    #[serde(flatten)]
    pub label: LabelMoments,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueMean {
    /// As [`ValueCount`]'s `value` and `value_hex`.
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_hex: Option<String>,
    #[serde(flatten)]
    pub label: LabelMoments,
}

impl ValueMean {
    /// The value with its label's count.
    pub fn value_count(&self) -> ValueCount {
        ValueCount {
            value: self.value.clone(),
            count: self.label.count,
            value_hex: self.value_hex.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanBin {
    pub bin: String,
    pub count: u64,
    pub mean: Option<f64>,
    pub std_dev: Option<f64>,
}

/// A feature's label-conditional table: for each bin of the feature, how
/// many of its values are of each class of the label. Derived from the
/// profile's slices by class (written for readers; never read back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelTable {
    /// The label's classes (null: the label is missing), in the order of
    /// the profile's slices, "__other__" last.
    pub classes: Vec<Option<String>>,
    pub bins: Vec<LabelBin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelBin {
    /// `[low, high]` for numeric features (whole sketch buckets, about
    /// equal in mass), a value or "__other__" for categorical ones, and
    /// "__missing__" for the rows where the feature is missing.
    pub bin: String,
    pub count: u64,
    /// The count of each class, in the order of `classes`.
    pub classes: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValuesPerRow {
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub mean: Option<f64>,
    pub total: u64,
    /// Null elements inside present lists.
    pub null_values: u64,
}

/// Pass-one state of a list column's lengths.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ListLens {
    pub(crate) min: u64,
    pub(crate) max: u64,
    pub(crate) total: u64,
    pub(crate) null_values: u64,
}

/// The profile's list statistics from merged [`ListLens`].
pub(crate) fn values_per_row(l: &ListLens, present: u64) -> ValuesPerRow {
    ValuesPerRow {
        min: (present > 0).then_some(l.min),
        max: (present > 0).then_some(l.max),
        mean: (present > 0).then(|| l.total as f64 / present as f64),
        total: l.total,
        null_values: l.null_values,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    pub domain: Domain,
    pub nan: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    pub zeros: u64,
    /// Finite values: the population of min, max, moments and quantiles.
    pub finite: u64,
    pub min: Option<Num>,
    pub max: Option<Num>,
    pub mean: Option<f64>,
    pub variance: Option<f64>,
    pub std_dev: Option<f64>,
    pub skewness: Option<f64>,
    pub kurtosis: Option<f64>,
    pub quantiles: Vec<Quantile>,
    /// True when quantiles are exact; false after a merge of profiles, where
    /// they come from the sketch and are off by at most `quantile_rank_error`
    /// positions in sorted order.
    pub quantiles_exact: bool,
    pub quantile_rank_error: u64,
    pub histogram: Vec<Bucket>,
    pub quantile_histogram: Vec<QuantileBucket>,
    /// False after a merge of profiles (bins re-derived from the sketch).
    pub histograms_exact: bool,
    /// Mergeable state: count, mean and central sums M2..M4.
    pub moments: Moments,
    pub sketch: StoredSketch,
}

impl NumericStats {
    /// The quantile at `rank`, if the profile has it.
    pub fn quantile(&self, rank: f64) -> Option<Num> {
        self.quantiles
            .iter()
            .find(|q| q.rank == rank)
            .map(|q| q.value)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    pub rank: f64,
    pub value: Num,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    #[serde(deserialize_with = "f64_or_null")]
    pub low: f64,
    #[serde(deserialize_with = "f64_or_null")]
    pub high: f64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileBucket {
    pub low: Num,
    pub high: Num,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalStats {
    /// Distinct present values.
    pub unique: u64,
    pub unique_exact: bool,
    /// When not exact: relative standard error of the HyperLogLog estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_rel_std_error: Option<f64>,
    /// The `top_k` most frequent values, ties broken by value (bytewise).
    pub top_values: Vec<ValueCount>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub mean_length: Option<f64>,
    /// Binary columns: values that are not valid UTF-8 (shown lossily).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_utf8: Option<u64>,
    /// Every value with its count (up to `unique_cap` values), sorted like
    /// `top_values`. Used by merge and by the drift metrics.
    pub value_counts: Vec<ValueCount>,
    /// Mass of values not in `value_counts` (beyond the cap).
    pub other_count: u64,
    /// HyperLogLog registers (hex) of the values beyond the cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_hll: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueCount {
    /// The value; for bytes that are not UTF-8, a display form with U+FFFD
    /// in place of the invalid sequences (the exact bytes are `value_hex`).
    pub value: String,
    pub count: u64,
    /// The value's exact bytes in lowercase hex, present only when they are
    /// not valid UTF-8 (binary columns), so that they survive JSON and merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_hex: Option<String>,
}

impl ValueCount {
    /// The count of a value given by its bytes.
    pub fn of_bytes(bytes: &[u8], count: u64) -> ValueCount {
        match std::str::from_utf8(bytes) {
            Ok(s) => ValueCount {
                value: s.to_string(),
                count,
                value_hex: None,
            },
            Err(_) => ValueCount {
                value: String::from_utf8_lossy(bytes).into_owned(),
                count,
                value_hex: Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
            },
        }
    }

    /// The value's exact bytes (an error names a malformed `value_hex`).
    pub fn bytes(&self) -> std::result::Result<std::borrow::Cow<'_, [u8]>, String> {
        let Some(h) = &self.value_hex else {
            return Ok(std::borrow::Cow::Borrowed(self.value.as_bytes()));
        };
        if h.len() % 2 != 0 || !h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "value_hex {h:?} is not an even number of lowercase hexadecimal digits"
            ));
        }
        (0..h.len())
            .step_by(2)
            .map(|i| {
                h.get(i..i + 2)
                    .and_then(|d| u8::from_str_radix(d, 16).ok())
                    .ok_or_else(|| format!("value_hex {h:?} is not hexadecimal"))
            })
            .collect::<std::result::Result<Vec<u8>, String>>()
            .map(std::borrow::Cow::Owned)
    }

    /// How the value is shown in tables: itself, or `0x…` for bytes that are
    /// not UTF-8.
    pub fn label(&self) -> String {
        match &self.value_hex {
            Some(h) => format!("0x{h}"),
            None => self.value.clone(),
        }
    }
}
