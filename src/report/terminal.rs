//! The terminal summary: one row per column, like `polars describe`
//! transposed, so that wide tables stay readable.

use crate::profile::keys::Num;
use crate::profile::{DatasetProfile, FeatureProfile};

fn num(v: Option<Num>) -> String {
    match v {
        Some(Num::Int(x)) => x.to_string(),
        Some(Num::UInt(x)) => x.to_string(),
        Some(Num::Float(x)) => float(Some(x)),
        None => "-".into(),
    }
}

pub(crate) fn float(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if !x.is_finite() => "-".into(),
        Some(0.0) => "0".into(),
        Some(x) if x.abs() >= 1e15 || x.abs() < 1e-3 => format!("{x:.4e}"),
        Some(x) => {
            let s = format!("{x:.4}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            s.to_string()
        }
    }
}

pub(crate) fn ellipsize(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn row(f: &FeatureProfile, rows: u64) -> Vec<String> {
    let missing = if rows > 0 {
        format!(
            "{} ({:.1}%)",
            f.missing,
            100.0 * f.missing as f64 / rows as f64
        )
    } else {
        f.missing.to_string()
    };
    let mut r = vec![
        ellipsize(&f.name, 28),
        ellipsize(&f.type_name, 22),
        f.count.to_string(),
        missing,
    ];
    if let Some(n) = &f.numeric {
        let q = |p: f64| n.quantiles.iter().find(|q| q.rank == p).map(|q| q.value);
        let special = n.nan + n.pos_inf + n.neg_inf;
        r.extend([
            float(n.mean),
            float(n.std_dev),
            num(n.min),
            num(q(0.5)),
            num(n.max),
            if special > 0 {
                format!("nan {} inf {}", n.nan, n.pos_inf + n.neg_inf)
            } else {
                format!("zeros {}", n.zeros)
            },
        ]);
    } else if let Some(c) = &f.categorical {
        let top = c
            .top_values
            .first()
            .map(|v| format!("{} ({})", ellipsize(&v.value, 18), v.count))
            .unwrap_or_else(|| "-".into());
        let unique = if c.unique_exact {
            c.unique.to_string()
        } else {
            format!("~{}", c.unique)
        };
        r.extend([
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            format!("unique {unique}, top {top}"),
        ]);
    }
    r
}

/// The per-column summary printed when no `-o` is given.
pub fn summary_table(p: &DatasetProfile) -> String {
    let header = [
        "column", "type", "count", "missing", "mean", "std", "min", "median", "max", "notes",
    ];
    let rows: Vec<Vec<String>> = p.features.iter().map(|f| row(f, p.num_rows)).collect();
    let mut out = format!(
        "{} rows, {} columns, from {} ({} backend, {} pass{})\n\n",
        p.num_rows,
        p.features.len(),
        p.sources.join(", "),
        p.backend.kind,
        p.passes,
        if p.passes == 1 { "" } else { "es" }
    );
    // Text left (name, type, notes), numbers right.
    out.push_str(&super::table::text(&header, &rows, &[0, 1, 9]));
    for warn in &p.warnings {
        out.push_str(&format!("warning: {warn}\n"));
    }
    out
}
