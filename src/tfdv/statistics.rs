//! A profile as TFDV's `DatasetFeatureStatisticsList`: what
//! `skewer export --to tfdv` writes.
//!
//! One dataset, one `FeatureNameStatistics` per profiled feature, in the
//! profile's order. Numeric features get `num_stats` (the profile's exact
//! mean, population standard deviation, zeros, min, median, max, and both
//! histograms: STANDARD from the equal-width histogram, QUANTILES from the
//! equal-count one); categorical features get `string_stats` (distinct
//! count, top values, mean length, the rank histogram of the top values),
//! or `bytes_stats` for binary columns holding bytes that are not UTF-8
//! (TFDV's own split). Which TFDV type each Arrow type becomes is
//! [`super::schema::class_of`], the one table of it, which
//! [`feature_type`] refines for binary columns. Columns skewer does not
//! profile (struct, map, union, nested lists: no statistics) are left
//! out, with a note.

use super::pb::{
    self, feature_name_statistics::Type as StatsType, histogram::HistogramType,
    FeatureNameStatistics,
};
use super::Unmapped;
use crate::profile::{CategoricalStats, DatasetProfile, FeatureProfile, NumericStats};

/// The TFDV type of a feature: TFDV's statistics type and its schema type
/// (`FeatureType`), which differ only in how they spell strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TfdvType {
    Int,
    Float,
    /// Text (statistics STRING, schema BYTES).
    String,
    /// Bytes that are not text (statistics BYTES, schema BYTES).
    Bytes,
}

impl TfdvType {
    pub fn stats_type(self) -> StatsType {
        match self {
            TfdvType::Int => StatsType::Int,
            TfdvType::Float => StatsType::Float,
            TfdvType::String => StatsType::String,
            TfdvType::Bytes => StatsType::Bytes,
        }
    }

    pub fn schema_type(self) -> pb::FeatureType {
        match self {
            TfdvType::Int => pb::FeatureType::Int,
            TfdvType::Float => pb::FeatureType::Float,
            TfdvType::String | TfdvType::Bytes => pb::FeatureType::Bytes,
        }
    }
}

/// The element type of a list type name (`list<int64>` → `int64`), or the
/// name itself.
pub fn element_type(type_name: &str) -> &str {
    for p in ["list<", "large_list<", "fixed_size_list<"] {
        if let Some(rest) = type_name.strip_prefix(p) {
            return rest.strip_suffix('>').unwrap_or(rest);
        }
    }
    type_name
}

/// TFDV's type for a feature: [`super::schema::class_of`] of its Arrow
/// type (the one table of it), refined where only the data can tell:
/// a binary column is STRING when every value is UTF-8 (TFDV's own split)
/// and BYTES otherwise. Integer columns profiled as categorical stay INT
/// (`int_domain.is_categorical` in a schema); booleans are STRING (TFDV's
/// `bool_domain` on a BYTES feature, with values "true" and "false").
pub fn feature_type(f: &FeatureProfile) -> TfdvType {
    match super::schema::class_of(&f.type_name) {
        TfdvType::Bytes => {
            let invalid = f
                .categorical
                .as_ref()
                .and_then(|c| c.invalid_utf8)
                .unwrap_or(0);
            if invalid > 0 {
                TfdvType::Bytes
            } else {
                TfdvType::String
            }
        }
        t => t,
    }
}

/// The profile as TFDV statistics, with what could not be said.
pub fn export(p: &DatasetProfile) -> (pb::DatasetFeatureStatisticsList, Vec<Unmapped>) {
    let mut notes = Vec::new();
    let mut features = Vec::new();
    for f in &p.features {
        if f.numeric.is_none() && f.categorical.is_none() {
            // A column skewer does not profile (struct, map, union, nested
            // list, null): no statistics to give, and TFDV's STRUCT would
            // need its fields'.
            notes.push(Unmapped {
                feature: Some(f.name.clone()),
                field: "features".into(),
                detail: format!(
                    "a {} column, which skewer does not profile (no statistics); left out",
                    f.type_name
                ),
            });
            continue;
        }
        features.push(feature(f, &mut notes));
    }
    let list = pb::DatasetFeatureStatisticsList {
        datasets: vec![pb::DatasetFeatureStatistics {
            num_examples: p.num_rows,
            features,
            ..Default::default()
        }],
    };
    (list, notes)
}

fn common(f: &FeatureProfile) -> pb::CommonStatistics {
    let (min, max, avg, total) = match &f.values_per_row {
        Some(v) => (
            v.min.unwrap_or(0),
            v.max.unwrap_or(0),
            v.mean.unwrap_or(0.0),
            v.total,
        ),
        // A scalar column: one value per present row.
        None if f.count > 0 => (1, 1, 1.0, f.count),
        None => (0, 0, 0.0, 0),
    };
    pb::CommonStatistics {
        num_non_missing: f.count,
        num_missing: f.missing,
        min_num_values: min,
        max_num_values: max,
        avg_num_values: avg as f32,
        tot_num_values: total,
        ..Default::default()
    }
}

fn feature(f: &FeatureProfile, notes: &mut Vec<Unmapped>) -> FeatureNameStatistics {
    let t = feature_type(f);
    let mut note = |field: &str, detail: String| {
        notes.push(Unmapped {
            feature: Some(f.name.clone()),
            field: field.into(),
            detail,
        })
    };
    let stats = match (&f.numeric, &f.categorical) {
        (Some(n), _) => Some(pb::feature_name_statistics::Stats::NumStats(numeric(
            f, n, &mut note,
        ))),
        (_, Some(c)) if t == TfdvType::Bytes => {
            Some(pb::feature_name_statistics::Stats::BytesStats(bytes(f, c)))
        }
        (_, Some(c)) => Some(pb::feature_name_statistics::Stats::StringStats(strings(
            f, c, &mut note,
        ))),
        // Left out by export.
        (None, None) => None,
    };
    FeatureNameStatistics {
        field_id: Some(pb::feature_name_statistics::FieldId::Name(f.name.clone())),
        r#type: t.stats_type() as i32,
        stats,
    }
}

fn numeric(
    f: &FeatureProfile,
    n: &NumericStats,
    note: &mut dyn FnMut(&str, String),
) -> pb::NumericStatistics {
    let median = n.quantile(0.5).map(|v| v.as_f64()).or_else(|| {
        // The quantile histogram's bound at rank 1/2, when it has one.
        let b = n.quantile_histogram.len();
        (b % 2 == 0 && b > 0).then(|| n.quantile_histogram[b / 2].low.as_f64())
    });
    if median.is_none() && n.finite > 0 {
        note(
            "num_stats.median",
            "the profile has no quantile at rank 0.5 (add 0.5 to --quantiles, or use an even --quantile-bins); left out".into(),
        );
    }
    if n.pos_inf + n.neg_inf > 0 {
        note(
            "num_stats.histograms",
            format!(
                "{} infinite values are counted in no bucket (skewer's histograms span the finite values)",
                n.pos_inf + n.neg_inf
            ),
        );
    }
    if !n.quantiles_exact || !n.histograms_exact {
        note(
            "num_stats",
            "quantiles and histograms come from a merged profile's sketch (estimates); TFDV's fields cannot say so".into(),
        );
    }
    let standard = pb::Histogram {
        num_nan: n.nan,
        buckets: n
            .histogram
            .iter()
            .map(|b| pb::histogram::Bucket {
                low_value: b.low,
                high_value: b.high,
                sample_count: b.count as f64,
            })
            .collect(),
        r#type: HistogramType::Standard as i32,
        ..Default::default()
    };
    let quantiles = pb::Histogram {
        num_nan: n.nan,
        buckets: n
            .quantile_histogram
            .iter()
            .map(|b| pb::histogram::Bucket {
                low_value: b.low.as_f64(),
                high_value: b.high.as_f64(),
                sample_count: b.count as f64,
            })
            .collect(),
        r#type: HistogramType::Quantiles as i32,
        ..Default::default()
    };
    pb::NumericStatistics {
        common_stats: Some(common(f)),
        mean: n.mean.unwrap_or(0.0),
        std_dev: n.std_dev.unwrap_or(0.0),
        num_zeros: n.zeros,
        min: n.min.map_or(0.0, |v| v.as_f64()),
        median: median.unwrap_or(0.0),
        max: n.max.map_or(0.0, |v| v.as_f64()),
        histograms: vec![standard, quantiles],
        weighted_numeric_stats: None,
    }
}

/// The rank histogram TFDV draws: one bucket per top value, by rank.
fn rank_histogram(c: &CategoricalStats) -> pb::RankHistogram {
    pb::RankHistogram {
        buckets: c
            .top_values
            .iter()
            .enumerate()
            .map(|(i, v)| pb::rank_histogram::Bucket {
                low_rank: i as u64,
                high_rank: i as u64,
                label: v.label(),
                sample_count: v.count as f64,
            })
            .collect(),
        name: String::new(),
    }
}

fn strings(
    f: &FeatureProfile,
    c: &CategoricalStats,
    note: &mut dyn FnMut(&str, String),
) -> pb::StringStatistics {
    if !c.unique_exact {
        note(
            "string_stats.unique",
            format!(
                "an estimate (HyperLogLog, relative standard error {}); TFDV's field cannot say so",
                c.unique_rel_std_error.unwrap_or(0.0)
            ),
        );
    }
    pb::StringStatistics {
        common_stats: Some(common(f)),
        unique: c.unique,
        top_values: c
            .top_values
            .iter()
            .map(|v| pb::string_statistics::FreqAndValue {
                value: v.label(),
                frequency: v.count as f64,
            })
            .collect(),
        avg_length: c.mean_length.unwrap_or(0.0) as f32,
        rank_histogram: Some(rank_histogram(c)),
        invalid_utf8_count: c.invalid_utf8.unwrap_or(0),
        ..Default::default()
    }
}

fn bytes(f: &FeatureProfile, c: &CategoricalStats) -> pb::BytesStatistics {
    pb::BytesStatistics {
        common_stats: Some(common(f)),
        unique: c.unique,
        avg_num_bytes: c.mean_length.unwrap_or(0.0) as f32,
        min_num_bytes: c.min_length.unwrap_or(0) as f32,
        max_num_bytes: c.max_length.unwrap_or(0) as f32,
        max_num_bytes_int: c.max_length.unwrap_or(0) as i64,
    }
}
