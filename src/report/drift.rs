//! Comparisons (drift and skew) and validation anomalies as terminal tables
//! and as Markdown.

use super::table;
use super::terminal::{float, value_label};
use crate::compare::metric::{self, Metric, LINF, METRICS};
use crate::compare::{Comparison, FeatureComparison};
use crate::schema::Anomaly;

fn metric(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => "-".into(),
    }
}

/// A column of the comparison tables.
#[derive(Clone, Copy)]
enum Col {
    Status,
    Feature,
    Kind,
    Metric(&'static Metric),
    /// Where `linf` is reached, after the `linf` column.
    LinfAt,
    Counts,
    Why,
}

impl Col {
    /// The metrics that decide `drifted` (in their order), where `linf`
    /// is reached, the other metrics in the table's order.
    fn all() -> Vec<Col> {
        let mut cols = vec![Col::Status, Col::Feature, Col::Kind];
        let others = METRICS.iter().filter(|m| m.drift.is_none());
        for m in metric::drift_metrics().into_iter().chain(others) {
            cols.push(Col::Metric(m));
            if m.name == LINF.name {
                cols.push(Col::LinfAt);
            }
        }
        cols.extend([Col::Counts, Col::Why]);
        cols
    }

    /// The header; Markdown names the status column.
    fn header(self, markdown: bool) -> &'static str {
        match self {
            Col::Status if markdown => "status",
            Col::Status => "",
            Col::Feature => "feature",
            Col::Kind => "kind",
            Col::Metric(m) => m.name,
            Col::LinfAt => "linf at",
            Col::Counts => "n base / current",
            Col::Why => "why",
        }
    }

    /// Right-aligned in the terminal: the numbers.
    fn text_right(self) -> bool {
        matches!(self, Col::Metric(_) | Col::Counts)
    }

    /// Right-aligned in Markdown: the metrics.
    fn md_right(self) -> bool {
        matches!(self, Col::Metric(_))
    }

    /// Most characters in a terminal table (whole in blocks and Markdown).
    fn cap(self) -> Option<usize> {
        match self {
            Col::Feature => Some(28),
            Col::LinfAt => Some(24),
            Col::Why => Some(60),
            _ => None,
        }
    }

    /// The cell of `f`.
    fn cell(self, f: &FeatureComparison) -> String {
        match self {
            Col::Status => status(f).to_string(),
            Col::Feature => f.name.clone(),
            Col::Kind => f.kind.clone(),
            Col::Metric(m) => metric(m.value_of(f)),
            Col::LinfAt => f.linf_at.as_deref().map_or_else(|| "-".into(), value_label),
            Col::Counts => format!("{} / {}", f.base_count, f.current_count),
            Col::Why => f.reason.clone(),
        }
    }
}

/// A feature's verdict in one word.
pub(crate) fn status(f: &FeatureComparison) -> &'static str {
    if f.drifted {
        "DRIFT"
    } else if !f.undecided.is_empty() {
        "UNDECIDED"
    } else {
        "ok"
    }
}

/// Header, rows, and the indices of the left-aligned (terminal) or
/// right-aligned (Markdown) columns.
fn table_parts(
    c: &Comparison,
    markdown: bool,
) -> (Vec<&'static str>, Vec<Vec<String>>, Vec<usize>) {
    let cols = Col::all();
    let header = cols.iter().map(|col| col.header(markdown)).collect();
    let rows = c
        .features
        .iter()
        .map(|f| cols.iter().map(|col| col.cell(f)).collect())
        .collect();
    let align = (0..cols.len())
        .filter(|&i| {
            if markdown {
                cols[i].md_right()
            } else {
                !cols[i].text_right()
            }
        })
        .collect();
    (header, rows, align)
}

/// The verdict in a few words, and the headline.
fn headline(c: &Comparison) -> (&'static str, String) {
    let drifted = c.features.iter().filter(|f| f.drifted).count();
    let undecided = c
        .features
        .iter()
        .filter(|f| !f.undecided.is_empty())
        .count();
    let mut open = match undecided {
        0 => String::new(),
        n => format!(", {n} undecided"),
    };
    if !c.slices.is_empty() {
        let moved = |s: &&crate::compare::SliceComparison| s.features.iter().any(|f| f.drifted);
        let n = c.slices.iter().filter(moved).count();
        open += &format!("; drift in {n} of {} slices", c.slices.len());
    }
    if let Some(l) = &c.label_shift {
        let shifted = |f: &&FeatureComparison| f.concept.as_ref().is_some_and(|k| k.drifted);
        let n = c.features.iter().filter(shifted).count();
        open += &format!(
            "; concept shift in {n}; label {}",
            if l.drifted { "shifted" } else { "not shifted" }
        );
    }
    let verdict = match (c.drifted(), c.undecided()) {
        (false, false) => "no drift",
        (false, true) => "undecided",
        _ => "drift found",
    };
    (
        verdict,
        format!(
            "{} of {} features drifted{open} (base: {}, {} rows; current: {}, {} rows; threshold {}, alpha {})",
            drifted,
            c.features.len(),
            super::sources_label(&c.base.sources),
            c.base.num_rows,
            super::sources_label(&c.current.sources),
            c.current.num_rows,
            float(Some(c.options.threshold)),
            c.options.alpha
        ),
    )
}

/// One row per feature, most moved first: a table, or one block per
/// feature where the table is wider than `width` (the terminal's).
pub fn comparison_table(c: &Comparison, width: Option<usize>) -> String {
    let (_, head) = headline(c);
    let mut out = table::paragraph(&head, width);
    out.push('\n');
    let (header, rows, left) = table_parts(c, false);
    let caps: Vec<(usize, usize)> = Col::all()
        .iter()
        .enumerate()
        .filter_map(|(i, col)| Some((i, col.cap()?)))
        .collect();
    out.push_str(&table::fitted(
        &table::Layout {
            header: &header,
            left: &left,
            caps: &caps,
            title: 3,
        },
        &rows,
        width,
    ));
    if !c.slices.is_empty() {
        let (header, rows) = slice_parts(c);
        out.push('\n');
        out.push_str(&table::text(&header, &rows, &[0, 3]));
    }
    if let Some((line, header, rows)) = label_parts(c) {
        out.push('\n');
        out.push_str(&table::paragraph(&line, width));
        out.push('\n');
        out.push_str(&table::text(&header, &rows, &[0, 1, 3]));
    }
    out
}

/// The label's line, and the concept table's header and rows.
type LabelParts = (String, [&'static str; 5], Vec<Vec<String>>);

/// Where both sides are labelled: the label shift in a line, and one row
/// per feature with its concept shift, largest first.
fn label_parts(c: &Comparison) -> Option<LabelParts> {
    let l = c.label_shift.as_ref()?;
    // Where no class's share moved there is no class to name (a null
    // class is the rows without a label).
    let class = match (l.linf > 0.0 && !l.numeric, l.class.as_deref()) {
        (false, _) => String::new(),
        (true, c) => format!(" at class {}", c.map_or_else(|| "null".into(), value_label)),
    };
    let (distance, test) = match l.numeric {
        true => ("ks", "Kolmogorov"),
        false => ("linf", "chi2"),
    };
    let line = format!(
        "label {}: {} ({distance} {}{class}, {test} p {:.3e})",
        l.column,
        if l.drifted { "SHIFTED" } else { "no shift" },
        metric(Some(l.linf)),
        l.p_value
    );
    let mut with: Vec<(&FeatureComparison, &crate::compare::concept::Concept)> = c
        .features
        .iter()
        .filter_map(|f| Some((f, f.concept.as_ref()?)))
        .collect();
    with.sort_by(|a, b| {
        b.1.value
            .total_cmp(&a.1.value)
            .then_with(|| a.0.name.cmp(&b.0.name))
    });
    let rows = with
        .iter()
        .map(|(f, k)| {
            vec![
                if k.drifted { "CONCEPT" } else { "ok" }.to_string(),
                f.name.clone(),
                metric(Some(k.value)),
                k.bin.as_deref().map_or_else(|| "-".into(), value_label),
                format!("{:.3e}", k.p_value),
            ]
        })
        .collect();
    Some((line, ["concept", "feature", "shift", "bin", "p"], rows))
}

/// One row per slice: its rows on each side and its drifted features.
fn slice_parts(c: &Comparison) -> ([&'static str; 4], Vec<Vec<String>>) {
    let rows = c
        .slices
        .iter()
        .map(|s| {
            let count = |n: Option<u64>| n.map_or("-".into(), |n| n.to_string());
            let drifted: Vec<&str> = s
                .features
                .iter()
                .filter(|f| f.drifted)
                .map(|f| f.name.as_str())
                .collect();
            let what = match (s.base_rows, s.current_rows) {
                (None, _) => "only in the current".to_string(),
                (_, None) => "only in the base".to_string(),
                _ if drifted.is_empty() => "none".to_string(),
                _ => drifted.join(", "),
            };
            vec![
                super::slice_name(&s.slice),
                count(s.base_rows),
                count(s.current_rows),
                what,
            ]
        })
        .collect();
    (["slice", "base rows", "current rows", "drifted"], rows)
}

/// The same as a Markdown section for CI logs and pull-request comments.
pub fn comparison_markdown(c: &Comparison) -> String {
    let (verdict, head) = headline(c);
    let mut out = format!(
        "## skewer compare: {verdict}\n\n{}\n\n",
        table::md_cell(&head)
    );
    let (header, rows, right) = table_parts(c, true);
    out.push_str(&table::markdown(&header, &rows, &right));
    if !c.slices.is_empty() {
        let (header, rows) = slice_parts(c);
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|c| table::md_cell(c)).collect())
            .collect();
        out.push_str("\n### By slice\n\n");
        out.push_str(&table::markdown(&header, &rows, &[1, 2]));
    }
    if let Some((line, header, rows)) = label_parts(c) {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|c| table::md_cell(c)).collect())
            .collect();
        out.push_str(&format!(
            "\n### Label and concept shift\n\n{}\n\n",
            table::md_cell(&line)
        ));
        out.push_str(&table::markdown(&header, &rows, &[2, 4]));
    }
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
        serde_json::Value::String(s) => value_label(s),
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

/// The anomalies as a terminal table (blocks where it is wider than
/// `width`), then each one's long description, wrapped to `width`.
pub fn anomalies_table(source: &str, list: &[Anomaly], width: Option<usize>) -> String {
    if list.is_empty() {
        return format!("no anomalies in {source}\n");
    }
    let mut out = table::paragraph(
        &format!(
            "{} anomal{} in {source}",
            list.len(),
            if list.len() == 1 { "y" } else { "ies" }
        ),
        width,
    );
    out.push('\n');
    out.push_str(&table::fitted(
        &table::Layout {
            header: &ANOMALY_HEADER,
            left: &[0, 1, 4],
            caps: &[],
            title: 2,
        },
        &anomaly_rows(list),
        width,
    ));
    out.push('\n');
    for a in list {
        let line = format!(
            "{} {}: {}",
            a.feature.as_deref().unwrap_or("(dataset)"),
            a.kind,
            a.long
        );
        out.push_str(&table::paragraph(&line, width));
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
            format!(
                "{} {}",
                list.len(),
                if list.len() == 1 {
                    "anomaly"
                } else {
                    "anomalies"
                }
            )
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
