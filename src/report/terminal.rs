//! The terminal summary: one row per column, like `polars describe`
//! transposed, so that wide tables stay readable.

use super::table::{fitted, Layout};
use crate::profile::keys::Num;
pub(crate) use crate::profile::time::Time;
use crate::profile::{DatasetProfile, FeatureProfile};

/// A column's value as text: dates and timestamps as dates, numbers as
/// [`float`] or exactly (integers).
pub(crate) fn num_text(type_name: &str, v: Option<Num>) -> String {
    match (v, Time::of(type_name)) {
        (Some(Num::Int(x)), Some(t)) => t.show_ticks(x),
        (Some(Num::Int(x)), None) => x.to_string(),
        (Some(Num::UInt(x)), _) => x.to_string(),
        (Some(Num::Float(x)), _) => float_text(type_name, x),
        (None, _) => "-".into(),
    }
}

/// A number in a column's units (a mean, an axis tick): dates and
/// timestamps as dates.
pub(crate) fn float_text(type_name: &str, x: f64) -> String {
    Time::of(type_name)
        .and_then(|t| t.show(x))
        .unwrap_or_else(|| float(Some(x)))
}

/// A spread (standard deviation) in a column's units: a duration for
/// dates and timestamps.
pub(crate) fn spread_text(time: Option<Time>, v: Option<f64>) -> String {
    match (time, v) {
        (Some(t), Some(x)) if x.is_finite() => Time::duration(x / t.per_second()),
        _ => float(v),
    }
}

pub(crate) use super::value::value_label;

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
    let ty = f.type_name.as_str();
    let mut r = vec![f.name.clone(), ty.to_string(), f.count.to_string(), missing];
    if let Some(n) = &f.numeric {
        let mut notes = Vec::new();
        if n.zeros > 0 {
            notes.push(format!("zeros {}", n.zeros));
        }
        if n.nan > 0 {
            notes.push(format!("nan {}", n.nan));
        }
        if n.pos_inf + n.neg_inf > 0 {
            notes.push(format!("inf {}", n.pos_inf + n.neg_inf));
        }
        r.extend([
            n.mean.map_or_else(|| "-".into(), |m| float_text(ty, m)),
            spread_text(Time::of(ty), n.std_dev),
            num_text(ty, n.min),
            num_text(ty, n.quantile(0.5)),
            num_text(ty, n.max),
            notes.join(", "),
        ]);
    } else if let Some(c) = &f.categorical {
        let top = c
            .top_values
            .first()
            .map(|v| format!("{} ({})", ellipsize(&value_label(&v.label()), 18), v.count))
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

/// The per-column summary printed when no `-o` is given (and by `skewer
/// show`): a table, or one block per column where the table is wider than
/// `width` (the terminal's).
pub fn summary_table(p: &DatasetProfile, width: Option<usize>) -> String {
    let header = [
        "column", "type", "count", "missing", "mean", "std", "min", "median", "max", "notes",
    ];
    let rows: Vec<Vec<String>> = p.features.iter().map(|f| row(f, p.num_rows)).collect();
    let head = format!(
        "{} rows, {} columns, from {} ({} backend, {} pass{})",
        p.num_rows,
        p.features.len(),
        super::sources_label(&p.sources),
        p.backend.kind,
        p.passes,
        if p.passes == 1 { "" } else { "es" }
    );
    let mut out = super::table::paragraph(&head, width);
    out.push('\n');
    // Text left (name, type, notes), numbers right; in blocks, the name and
    // type head each.
    out.push_str(&fitted(
        &Layout {
            header: &header,
            left: &[0, 1, 9],
            caps: &[(0, 28), (1, 22)],
            title: 2,
        },
        &rows,
        width,
    ));
    for warn in &p.warnings {
        out.push_str(&format!("warning: {warn}\n"));
    }
    out
}

/// The width the tables are fitted to: `COLUMNS` when set, else the
/// terminal's when standard output is one; None (no limit) for a pipe or a
/// file.
pub fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    // SAFETY: TIOCGWINSZ writes a winsize into the struct given; a failure
    // (not a terminal) leaves it zeroed and returns -1.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_print_as_dates() {
        assert_eq!(Time::of("date32[day]"), Some(Time::Days));
        assert_eq!(num_text("date32[day]", Some(Num::Int(0))), "1970-01-01");
        assert_eq!(
            num_text("date32[day]", Some(Num::Int(19_783))),
            "2024-03-01"
        );
        assert_eq!(num_text("date32[day]", Some(Num::Int(-1))), "1969-12-31");
        assert_eq!(
            num_text("date64[ms]", Some(Num::Int(86_400_000))),
            "1970-01-02"
        );
        // 2023-11-14T22:13:30 UTC, as Arrow shows it (see value.rs).
        assert_eq!(
            num_text("timestamp[s, tz=UTC]", Some(Num::Int(1_700_000_010))),
            "2023-11-14T22:13:30Z"
        );
        assert_eq!(
            num_text("timestamp[ms]", Some(Num::Int(1_700_000_010_250))),
            "2023-11-14T22:13:30.250"
        );
        assert_eq!(
            num_text("list<timestamp[ns]>", Some(Num::Int(-1))),
            "1969-12-31T23:59:59.999999999"
        );
        // Leap day in a leap century.
        assert_eq!(
            num_text("date32[day]", Some(Num::Int(11_016))),
            "2000-02-29"
        );
        assert_eq!(num_text("int64", Some(Num::Int(5))), "5");
        assert_eq!(spread_text(Some(Time::Days), Some(3.5)), "3.5 days");
        // compare's bin labels of a date column.
        assert_eq!(
            Time::Days.bin_label("[19723, 19783]"),
            "[2024-01-01, 2024-03-01]"
        );
        assert_eq!(Time::Days.bin_label("false"), "false");
        assert_eq!(
            spread_text(Time::of("timestamp[ms]"), Some(1500.0)),
            "1.5 s"
        );
        assert_eq!(
            spread_text(Time::of("timestamp[s]"), Some(22_502.625)),
            "6.2507 h"
        );
        // A timestamp at midnight keeps its time; a date64 does not.
        assert_eq!(
            num_text("timestamp[s]", Some(Num::Int(86_400))),
            "1970-01-02T00:00:00"
        );
        assert_eq!(
            num_text("timestamp[us]", Some(Num::Int(1_500))),
            "1970-01-01T00:00:00.001500"
        );
    }

    #[test]
    fn empty_strings_are_named() {
        assert_eq!(value_label(""), "(empty string)");
        assert_eq!(value_label("a"), "a");
    }
}
