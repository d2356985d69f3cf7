//! Comparisons (drift and skew) as a terminal table and as Markdown.

use super::table;
use super::terminal::{ellipsize, float};
use crate::compare::{Comparison, FeatureComparison};

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
                f.linf_at
                    .as_deref()
                    .map(|s| cut(s, 24))
                    .unwrap_or_else(|| "-".into()),
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
