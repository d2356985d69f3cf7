//! `validate`'s anomalies as TFDV's `Anomalies` (`validate
//! --anomalies-out`).
//!
//! The baseline is the schema as [`super::schema::export`] writes it; each
//! feature with anomalies gets one `AnomalyInfo` (severity ERROR) with one
//! reason per anomaly, and the dataset-level anomalies go to
//! `dataset_anomaly_info`; `anomaly_info` is keyed by the feature's path
//! serialized as TFDV does ([`serialized_path`]). An anomaly's type is
//! TFDV's `AnomalyInfo.Type` of the same name where TFDV has one (skewer
//! names its anomalies after TFDV's, so the enum itself is the table);
//! skewer's own kinds
//! (Kolmogorov-Smirnov, PSI, Wasserstein, Hellinger, undecided
//! comparators) are `UNKNOWN_TYPE`, with skewer's name leading the
//! description.

use std::collections::BTreeMap;

use super::pb::{self, anomaly_info};
use super::Unmapped;
use crate::schema::{Anomaly, Schema};

/// TFDV's type of a skewer anomaly, and whether it had one.
pub fn anomaly_type(kind: &str) -> (anomaly_info::Type, bool) {
    match anomaly_info::Type::from_str_name(kind) {
        Some(t) => (t, true),
        None => (anomaly_info::Type::UnknownType, false),
    }
}

fn reason(a: &Anomaly) -> anomaly_info::Reason {
    let (t, known) = anomaly_type(&a.kind);
    let description = if known {
        a.long.clone()
    } else {
        format!("{}: {}", a.kind, a.long)
    };
    anomaly_info::Reason {
        r#type: Some(t as i32),
        short_description: Some(a.short.clone()),
        description: Some(description),
    }
}

/// One AnomalyInfo from its reasons, as TFDV joins them: one reason keeps
/// its descriptions; several are "Multiple errors" with the descriptions
/// joined.
fn info(feature: Option<&str>, reasons: Vec<anomaly_info::Reason>) -> pb::AnomalyInfo {
    let (short, long) = match reasons.as_slice() {
        [one] => (one.short_description.clone(), one.description.clone()),
        many => (
            Some("Multiple errors".to_string()),
            Some(
                many.iter()
                    .filter_map(|r| r.description.as_deref())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ),
    };
    pb::AnomalyInfo {
        path: feature.map(|f| pb::Path {
            step: vec![f.to_string()],
        }),
        severity: Some(anomaly_info::Severity::Error as i32),
        description: long,
        short_description: short,
        diff_regions: Vec::new(),
        reason: reasons,
    }
}

/// A path as TFDV serializes it (`Path::Serialize`, the keys of
/// `anomaly_info` under `SERIALIZED_PATH`): the steps joined by `.`, a
/// step kept as it is when it is non-empty with no `.`, `(`, `)` or `'`,
/// or is `(…)` with no parenthesis inside; any other step in single
/// quotes, its own single quotes doubled (`a.b` → `'a.b'`).
pub fn serialized_path(steps: &[&str]) -> String {
    let standard = |s: &str| {
        let plain = !s.is_empty() && !s.contains(['.', '(', ')', '\'']);
        let wrapped = s.len() >= 2
            && s.starts_with('(')
            && s.ends_with(')')
            && !s[1..s.len() - 1].contains(['(', ')']);
        plain || wrapped
    };
    steps
        .iter()
        .map(|s| {
            if standard(s) {
                s.to_string()
            } else {
                format!("'{}'", s.replace('\'', "''"))
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The anomalies as TFDV's message, with what the baseline schema lost.
pub fn export(schema: &Schema, anomalies: &[Anomaly]) -> (pb::Anomalies, Vec<Unmapped>) {
    let (baseline, notes) = super::schema::export(schema);
    let mut by_feature: BTreeMap<&str, Vec<anomaly_info::Reason>> = BTreeMap::new();
    let mut dataset = Vec::new();
    for a in anomalies {
        match &a.feature {
            Some(f) => by_feature.entry(f).or_default().push(reason(a)),
            None => dataset.push(reason(a)),
        }
    }
    let out = pb::Anomalies {
        baseline_schema: Some(pb::anomalies::BaselineSchema::Baseline(baseline)),
        anomaly_name_format: Some(pb::anomalies::AnomalyNameFormat::SerializedPath as i32),
        anomaly_info: by_feature
            .into_iter()
            .map(|(f, r)| (serialized_path(&[f]), info(Some(f), r)))
            .collect(),
        dataset_anomaly_info: (!dataset.is_empty()).then(|| info(None, dataset)),
        data_missing: None,
        drift_skew_info: Vec::new(),
    };
    (out, notes)
}
