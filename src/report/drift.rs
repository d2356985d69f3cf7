//! Comparisons (drift and skew) and validation anomalies as terminal tables
//! and as Markdown.

use super::table;
use super::terminal::{ellipsize, float};
use crate::compare::{Comparison, FeatureComparison};
use crate::schema::Anomaly;

fn metric(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => "-".into(),
    }
}

fn rows(c: &Comparison, width: Option<usize>) -> Vec<Vec<String>> {
    let cut = |s: &str, w: usize| match width {
        Some(_) => ellipsize(s, w),
        None => s.to_string(),
    };
    c.features
        .iter()
        .map(|f: &FeatureComparison| {
            let m = &f.metrics;
            vec![
                if f.drifted { "DRIFT" } else { "ok" }.to_string(),
                cut(&f.name, 28),
                f.kind.clone(),
                metric(m.ks),
                metric(m.linf),
                match f.linf_at.as_deref() {
                    None => "-".into(),
                    Some("") => "(empty string)".into(),
                    Some(s) => cut(s, 24),
                },
                metric(m.jsd),
                metric(m.psi),
                metric(m.wasserstein),
                format!("{} / {}", f.base_count, f.current_count),
                cut(&f.reason, width.unwrap_or(usize::MAX)),
            ]
        })
        .collect()
}

const HEADER: [&str; 11] = [
    "",
    "feature",
    "kind",
    "ks",
    "linf",
    "linf at",
    "jsd",
    "psi",
    "wasserstein",
    "n base / current",
    "why",
];

fn headline(c: &Comparison) -> (usize, String) {
    let drifted = c.features.iter().filter(|f| f.drifted).count();
    (
        drifted,
        format!(
            "{} of {} features drifted (base: {}, {} rows; current: {}, {} rows; threshold {}, alpha {})",
            drifted,
            c.features.len(),
            c.base.sources.join(", "),
            c.base.num_rows,
            c.current.sources.join(", "),
            c.current.num_rows,
            float(Some(c.options.threshold)),
            c.options.alpha
        ),
    )
}

/// One row per feature, most moved first.
pub fn comparison_table(c: &Comparison) -> String {
    let (_, head) = headline(c);
    let mut out = format!("{head}\n\n");
    out.push_str(&table::text(&HEADER, &rows(c, Some(60)), &[0, 1, 2, 5, 10]));
    out
}

/// The same as a Markdown section for CI logs and pull-request comments.
pub fn comparison_markdown(c: &Comparison) -> String {
    let (drifted, head) = headline(c);
    let mut out = format!(
        "## skewer compare: {}\n\n{}\n\n",
        if drifted == 0 {
            "no drift"
        } else {
            "drift found"
        },
        table::md_cell(&head)
    );
    let mut h = HEADER;
    h[0] = "status";
    out.push_str(&table::markdown(&h, &rows(c, None), &[3, 4, 6, 7, 8]));
    out
}

fn value_cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(x)) => float(Some(x)),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn anomaly_rows(list: &[Anomaly]) -> Vec<Vec<String>> {
    list.iter()
        .map(|a| {
            vec![
                a.feature.clone().unwrap_or_else(|| "(dataset)".into()),
                a.kind.clone(),
                value_cell(&a.value),
                value_cell(&a.threshold),
                a.short.clone(),
            ]
        })
        .collect()
}

const ANOMALY_HEADER: [&str; 5] = ["feature", "anomaly", "value", "threshold", "short"];

/// The anomalies as a terminal table, then each one's long description.
pub fn anomalies_table(source: &str, list: &[Anomaly]) -> String {
    if list.is_empty() {
        return format!("no anomalies in {source}\n");
    }
    let mut out = format!(
        "{} anomal{} in {source}\n\n",
        list.len(),
        if list.len() == 1 { "y" } else { "ies" }
    );
    out.push_str(&table::text(
        &ANOMALY_HEADER,
        &anomaly_rows(list),
        &[0, 1, 4],
    ));
    out.push('\n');
    for a in list {
        out.push_str(&format!(
            "{} {}: {}\n",
            a.feature.as_deref().unwrap_or("(dataset)"),
            a.kind,
            a.long
        ));
    }
    out
}

/// The anomalies as Markdown.
pub fn anomalies_markdown(source: &str, list: &[Anomaly]) -> String {
    let mut out = format!(
        "## skewer validate: {}\n\n",
        if list.is_empty() {
            "no anomalies".to_string()
        } else {
            format!("{} anomalies", list.len())
        }
    );
    out.push_str(&format!("Data: {}\n\n", table::md_cell(source)));
    if list.is_empty() {
        return out;
    }
    let mut h = ANOMALY_HEADER.to_vec();
    h.push("description");
    let rows: Vec<Vec<String>> = anomaly_rows(list)
        .into_iter()
        .zip(list)
        .map(|(mut r, a)| {
            r.push(a.long.clone());
            r
        })
        .collect();
    out.push_str(&table::markdown(&h, &rows, &[2, 3]));
    out
}
