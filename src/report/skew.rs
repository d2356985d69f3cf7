//! A feature-skew report as a terminal table.

use super::table;
use super::terminal::{ellipsize, value_label};
use crate::skew::{Side, SkewReport};

fn side_line(name: &str, s: &Side, width: Option<usize>) -> String {
    table::paragraph(&format!(
        "{name}: {} ({} rows: {} unmatched, {} with a null key, {} excluded; {} duplicated keys holding {} rows)",
        s.path, s.rows, s.unmatched_rows, s.null_key_rows, s.excluded_rows, s.duplicate_keys, s.duplicate_key_rows
    ), width)
}

/// The joined examples, one row per feature (counts as TFDV names them),
/// then the samples of the skewed features and what was not compared; the
/// table becomes blocks per feature where it is wider than `width`.
pub fn skew_table(r: &SkewReport, width: Option<usize>) -> String {
    let mut out = side_line("base", &r.base, width);
    out += &side_line("test", &r.test, width);
    out += &format!("joined on {}: {} examples\n\n", r.key.join(", "), r.joined);
    let header = [
        "",
        "feature",
        "type",
        "base",
        "test",
        "match",
        "mismatch",
        "base_only",
        "test_only",
        "diff share",
    ];
    let rows: Vec<Vec<String>> = r
        .features
        .iter()
        .map(|f| {
            vec![
                if f.skewed { "SKEW" } else { "ok" }.to_string(),
                f.name.clone(),
                f.data_type.clone(),
                f.base_count.to_string(),
                f.test_count.to_string(),
                f.match_count.to_string(),
                f.mismatch_count.to_string(),
                f.base_only.to_string(),
                f.test_only.to_string(),
                format!("{:.6}", f.diff_share),
            ]
        })
        .collect();
    out += &table::fitted(
        &table::Layout {
            header: &header,
            left: &[0, 1, 2],
            caps: &[(1, 40), (2, 20)],
            title: 3,
        },
        &rows,
        width,
    );
    let shown = |v: &Option<String>| {
        v.as_deref()
            .map_or("(missing)".to_string(), |s| ellipsize(&value_label(s), 40))
    };
    for f in r
        .features
        .iter()
        .filter(|f| f.skewed && !f.samples.is_empty())
    {
        let line = |s: String| table::paragraph(&s, width);
        out += "\n";
        out += &line(format!(
            "{}: {} of {} differ, e.g.",
            f.name, f.diff_count, r.joined
        ));
        for s in &f.samples {
            out += "  ";
            out += &line(format!(
                "{} = {}: base {}, test {}",
                r.key.join(", "),
                ellipsize(&s.key.join(", "), 40),
                shown(&s.base),
                shown(&s.test)
            ));
        }
    }
    let mut para = |s: String| {
        out += "\n";
        out += &table::paragraph(&s, width);
    };
    for n in &r.not_compared {
        para(format!(
            "not compared: {} ({} in the base, {} in the test): {}",
            n.name, n.base_type, n.test_type, n.reason
        ));
    }
    if !r.base_only_columns.is_empty() {
        para(format!(
            "only in the base: {}",
            r.base_only_columns.join(", ")
        ));
    }
    if !r.test_only_columns.is_empty() {
        para(format!(
            "only in the test: {}",
            r.test_only_columns.join(", ")
        ));
    }
    out
}
