//! Merging stored profiles of shards into the profile of their union.
//!
//! Counts, min, max, moments, the sketch, distinct counts and value counts
//! merge exactly (value counts while the union stays under `unique_cap`).
//! Exact quantiles and histograms cannot survive a merge: they are re-derived
//! from the merged sketch, marked `quantiles_exact: false` /
//! `histograms_exact: false`, with the largest rank error stated in
//! `quantile_rank_error`. Merging a single profile returns it unchanged.

use crate::compare::target::of_numbers;
use std::path::{Path, PathBuf};

use super::categorical::CatAcc;
use super::model::*;
use super::model::{values_per_row, ListLens};
use super::numeric::NumericAcc;
use crate::error::{Error, Result};

/// Merge profiles (each with the path it was read from, for messages).
pub fn merge_profiles(mut profiles: Vec<(PathBuf, DatasetProfile)>) -> Result<DatasetProfile> {
    if profiles.is_empty() {
        return Err(Error::InvalidOption("no profiles to merge".into()));
    }
    for (p, d) in &profiles {
        d.check_readable().map_err(|detail| Error::BadProfile {
            path: p.clone(),
            detail,
        })?;
    }
    if profiles.len() == 1 {
        return Ok(profiles.remove(0).1);
    }
    let (_, first) = &profiles[0];
    let opts = first.options.clone();
    for (p, d) in &profiles[1..] {
        if d.label != first.label {
            return Err(Error::Incompatible {
                path: p.clone(),
                detail: format!(
                    "{} where the first is {}; profile every part with the same --label",
                    labelled(&d.label),
                    labelled(&first.label)
                ),
            });
        }
        if d.label.is_some() && of_numbers(d) != of_numbers(first) {
            return Err(Error::Incompatible {
                path: p.clone(),
                detail: format!(
                    "labelled by the numbers of {:?} where the first is by its classes, or the \
                     other way round; profile every part with the same type of label",
                    d.label.as_deref().unwrap_or_default()
                ),
            });
        }
        if d.options != opts {
            return Err(Error::Incompatible {
                path: p.clone(),
                detail: format!(
                    "computed with other options ({} vs {})",
                    serde_json::to_string(&d.options).unwrap_or_default(),
                    serde_json::to_string(&opts).unwrap_or_default()
                ),
            });
        }
        let names = |d: &DatasetProfile| -> Vec<(String, String)> {
            d.features
                .iter()
                .map(|f| (f.name.clone(), f.type_name.clone()))
                .collect()
        };
        let (a, b) = (names(first), names(d));
        if a != b {
            let diff = a
                .iter()
                .zip(b.iter().map(Some).chain(std::iter::repeat(None)))
                .find(|(x, y)| Some(*x) != *y)
                .map(|(x, y)| match y {
                    Some(y) => format!(
                        "column {:?} ({}) where the first has {:?} ({})",
                        y.0, y.1, x.0, x.1
                    ),
                    None => format!("no column {:?}", x.0),
                })
                .unwrap_or_else(|| "more columns than the first".into());
            return Err(Error::Incompatible {
                path: p.clone(),
                detail: diff,
            });
        }
    }
    let mut out = first.clone();
    out.num_rows = profiles.iter().map(|(_, d)| d.num_rows).sum();
    out.sources = profiles
        .iter()
        .flat_map(|(_, d)| d.sources.clone())
        .collect();
    out.passes = profiles.iter().map(|(_, d)| d.passes).max().unwrap_or(1);
    let mut warnings: Vec<String> = profiles
        .iter()
        .flat_map(|(_, d)| d.warnings.clone())
        .collect();
    warnings.sort();
    warnings.dedup();
    out.warnings = warnings;
    if profiles
        .iter()
        .any(|(_, d)| d.backend.kind != first.backend.kind)
    {
        out.backend.kind = "mixed".into();
        out.backend.device = "several".into();
    }
    for (i, feat) in out.features.iter_mut().enumerate() {
        let parts: Vec<(&PathBuf, &FeatureProfile)> =
            profiles.iter().map(|(p, d)| (p, &d.features[i])).collect();
        merge_feature(feat, &parts, &opts)?;
    }
    out.slices = merge_slices(&profiles)?;
    if of_numbers(&out) {
        for (i, feat) in out.features.iter_mut().enumerate() {
            for (p, d) in &profiles[1..] {
                match (feat.label_means.as_mut(), &d.features[i].label_means) {
                    (Some(a), Some(b)) => a.merge(b),
                    (None, None) => {}
                    _ => {
                        return Err(Error::Incompatible {
                            path: p.clone(),
                            detail: format!(
                                "feature {:?} has label means in one part and not the other",
                                feat.name
                            ),
                        })
                    }
                }
            }
        }
        crate::compare::target::attach_bins(&mut out);
    } else if out.label.is_some() {
        crate::compare::concept::attach_tables(&mut out);
    }
    // Profiles of several windows are of none.
    if profiles.iter().any(|(_, d)| d.window != first.window) {
        out.window = None;
    }
    Ok(out)
}

fn labelled(label: &Option<String>) -> String {
    match label {
        Some(l) => format!("labelled by {l}"),
        None => "not labelled".into(),
    }
}

/// Each slice merged across the profiles. Where none folded slices into
/// "other", a slice is the rows of its value in every profile that has
/// it (a part without a rare class merges with one that has it). Where
/// any folded, they must hold the same slices: a value kept apart in one
/// may be inside another's "other".
fn merge_slices(profiles: &[(PathBuf, DatasetProfile)]) -> Result<Vec<SliceProfile>> {
    let key = |s: &SliceProfile| (s.slice.clone(), s.other);
    let folded = profiles
        .iter()
        .any(|(_, d)| d.slices.iter().any(|s| s.other));
    // A part without rows has no slices to match.
    let mut parts = profiles
        .iter()
        .filter(|(_, d)| d.num_rows > 0 || !d.slices.is_empty());
    let Some((_, first)) = parts.next() else {
        return Ok(Vec::new());
    };
    let mut keys: Vec<_> = first.slices.iter().map(key).collect();
    keys.sort();
    for (p, d) in parts {
        let mut k: Vec<_> = d.slices.iter().map(key).collect();
        k.sort();
        let same_columns = match (k.first(), keys.first()) {
            (Some(a), Some(b)) => a.0.keys().eq(b.0.keys()),
            _ => k.is_empty() == keys.is_empty(),
        };
        if !same_columns {
            return Err(Error::Incompatible {
                path: p.clone(),
                detail: "its slices are not by the first's columns; profile every part with \
                         the same --slice-by"
                    .into(),
            });
        }
        if k != keys && folded {
            return Err(Error::Incompatible {
                path: p.clone(),
                detail: match &d.label {
                    Some(l) => format!(
                        "its classes of {l} differ from the first's and some were folded into \
                         \"__other__\"; profile every part with --label {l} and a --max-classes \
                         that keeps every class apart"
                    ),
                    None => "its slices differ from the first's and some were folded into \
                             \"__other__\"; profile every part with the same --slice-by and a \
                             --max-slices that keeps every slice apart"
                        .into(),
                },
            });
        }
    }
    // Every slice, in the order the profiles first hold them.
    let mut seen = std::collections::BTreeSet::new();
    let all: Vec<&SliceProfile> = profiles
        .iter()
        .flat_map(|(_, d)| &d.slices)
        .filter(|s| seen.insert(key(s)))
        .collect();
    let mut merged = all
        .into_iter()
        .map(|s| {
            let parts: Vec<_> = profiles
                .iter()
                .filter_map(|(p, d)| d.find_slice(s).map(|t| (p.clone(), d.slice(t))))
                .collect();
            let merged = merge_profiles(parts)?;
            Ok(SliceProfile {
                slice: s.slice.clone(),
                other: s.other,
                num_rows: merged.num_rows,
                features: merged.features,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // As a profile orders them: largest first, the folded ones last.
    merged.sort_by(|a, b| {
        (a.other, std::cmp::Reverse(a.num_rows), &a.slice).cmp(&(
            b.other,
            std::cmp::Reverse(b.num_rows),
            &b.slice,
        ))
    });
    Ok(merged)
}

fn bad(path: &Path, feature: &str, detail: impl std::fmt::Display) -> Error {
    Error::BadProfile {
        path: path.to_path_buf(),
        detail: format!("feature {feature:?}: {detail}"),
    }
}

fn merge_feature(
    out: &mut FeatureProfile,
    parts: &[(&PathBuf, &FeatureProfile)],
    opts: &StatsOptions,
) -> Result<()> {
    out.count = parts.iter().map(|(_, f)| f.count).sum();
    out.missing = parts.iter().map(|(_, f)| f.missing).sum();
    if parts.iter().any(|(_, f)| f.computed_on != out.computed_on) {
        out.computed_on = "mixed".into();
    }
    if out.values_per_row.is_some() {
        let mut l = ListLens {
            min: u64::MAX,
            ..Default::default()
        };
        for (p, f) in parts {
            let v = f
                .values_per_row
                .as_ref()
                .ok_or_else(|| bad(p, &f.name, "values_per_row missing"))?;
            if let (Some(a), Some(b)) = (v.min, v.max) {
                l.min = l.min.min(a);
                l.max = l.max.max(b);
            }
            l.total += v.total;
            l.null_values += v.null_values;
        }
        out.values_per_row = Some(values_per_row(&l, out.count));
    }
    let elem_present = |f: &FeatureProfile| -> u64 {
        match &f.values_per_row {
            Some(v) => v.total - v.null_values,
            None => f.count,
        }
    };
    match out.kind {
        Kind::Numeric => {
            let mut acc: Option<NumericAcc> = None;
            for (p, f) in parts {
                let s = f
                    .numeric
                    .as_ref()
                    .ok_or_else(|| bad(p, &f.name, "numeric statistics missing"))?;
                let a = NumericAcc::from_stats(s).map_err(|e| bad(p, &f.name, e))?;
                match acc.as_mut() {
                    None => acc = Some(a),
                    Some(m) => m.merge(&a),
                }
            }
            if let Some(a) = acc {
                out.numeric = Some(a.finish_from_sketch(opts)?);
            }
        }
        Kind::Categorical => {
            let mut acc: Option<CatAcc> = None;
            for (p, f) in parts {
                let s = f
                    .categorical
                    .as_ref()
                    .ok_or_else(|| bad(p, &f.name, "categorical statistics missing"))?;
                // Booleans and integers marked categorical have no byte lengths.
                let elem = f
                    .type_name
                    .trim_start_matches("large_list<")
                    .trim_start_matches("list<")
                    .trim_end_matches('>');
                let no_lengths = elem == "bool"
                    || [
                        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    ]
                    .contains(&elem);
                let a = CatAcc::from_stats(no_lengths, elem_present(f), s, opts.unique_cap)
                    .map_err(|e| bad(p, &f.name, e))?;
                match acc.as_mut() {
                    None => acc = Some(a),
                    Some(m) => m.merge(&a),
                }
            }
            if let Some(a) = acc {
                out.categorical = Some(a.finish(opts.top_k));
            }
        }
    }
    Ok(())
}
