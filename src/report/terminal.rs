//! The terminal summary: one row per column, like `polars describe`
//! transposed, so that wide tables stay readable.

use super::table::{fitted, Layout};
use crate::profile::keys::Num;
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
    match Time::of(type_name) {
        Some(t) if x.is_finite() => t.show(x),
        _ => float(Some(x)),
    }
}

/// A spread (standard deviation) in a column's units: a duration for
/// dates and timestamps.
pub(crate) fn spread_text(time: Option<Time>, v: Option<f64>) -> String {
    match (time, v) {
        (Some(t), Some(x)) if x.is_finite() => {
            let secs = x / t.per_second();
            if secs >= 2.0 * 86_400.0 {
                format!("{} days", float(Some(secs / 86_400.0)))
            } else {
                format!("{} s", float(Some(secs)))
            }
        }
        _ => float(v),
    }
}

/// A value of a string column as shown: the empty string in words.
pub(crate) fn value_label(s: &str) -> String {
    if s.is_empty() {
        "(empty string)".into()
    } else {
        s.to_string()
    }
}

/// The time unit of a date or timestamp column (also of a list of them),
/// read from its profile type name (`engine::type_name`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Time {
    /// date32: days since 1970-01-01.
    Days,
    /// date64 (ms) and timestamps: ticks per second, and whether the
    /// column has a time zone (its values are UTC instants, shown with Z).
    Ticks { per_second: f64, zone: bool },
}

impl Time {
    pub(crate) fn of(type_name: &str) -> Option<Time> {
        let t = type_name
            .strip_prefix("list<")
            .or_else(|| type_name.strip_prefix("large_list<"))
            .unwrap_or(type_name);
        let per = |u: &str| match u {
            "s" => Some(1.0),
            "ms" => Some(1e3),
            "us" => Some(1e6),
            "ns" => Some(1e9),
            _ => None,
        };
        if t.starts_with("date32") {
            Some(Time::Days)
        } else if t.starts_with("date64") {
            Some(Time::Ticks {
                per_second: 1e3,
                zone: false,
            })
        } else if let Some(rest) = t.strip_prefix("timestamp[") {
            let unit = rest.split([',', ']']).next().unwrap_or("");
            Some(Time::Ticks {
                per_second: per(unit)?,
                zone: rest.contains("tz="),
            })
        } else {
            None
        }
    }

    fn per_second(self) -> f64 {
        match self {
            Time::Days => 1.0 / 86_400.0,
            Time::Ticks { per_second, .. } => per_second,
        }
    }

    /// A number of ticks (a mean, an axis tick) as [`Time::show_ticks`],
    /// rounded to a whole tick.
    pub(crate) fn show(self, x: f64) -> String {
        if !x.is_finite() || x.abs() > 9e18 {
            return float(Some(x));
        }
        self.show_ticks(x.round() as i64)
    }

    /// `t` ticks as a date (`2024-03-01`), or a date and time
    /// (`2024-03-01 12:30:05.25`, with `Z` where the column has a zone).
    pub(crate) fn show_ticks(self, t: i64) -> String {
        let date = |days: i64| match civil_from_days(days) {
            Some((y, m, d)) => format!("{y:04}-{m:02}-{d:02}"),
            None => t.to_string(),
        };
        let Time::Ticks { per_second, zone } = self else {
            return date(t);
        };
        let per = per_second as i64;
        let per_day = per * 86_400;
        let (days, in_day) = (t.div_euclid(per_day), t.rem_euclid(per_day));
        let (s, frac) = (in_day / per, in_day % per);
        if s == 0 && frac == 0 && !zone {
            return date(days);
        }
        let mut out = format!(
            "{} {:02}:{:02}:{:02}",
            date(days),
            s / 3600,
            s / 60 % 60,
            s % 60
        );
        if frac > 0 {
            let digits = per.ilog10() as usize;
            let f = format!("{frac:0digits$}");
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
        if zone {
            out.push('Z');
        }
        out
    }
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01),
/// after Howard Hinnant's `civil_from_days`.
/// None beyond a billion years either way.
fn civil_from_days(z: i64) -> Option<(i64, u32, u32)> {
    if z.abs() > 365_000_000_000 {
        return None;
    }
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some((y, m, d))
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
    let ty = f.type_name.as_str();
    let mut r = vec![f.name.clone(), ty.to_string(), f.count.to_string(), missing];
    if let Some(n) = &f.numeric {
        let q = |p: f64| n.quantiles.iter().find(|q| q.rank == p).map(|q| q.value);
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
            num_text(ty, q(0.5)),
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
    let mut out = format!(
        "{} rows, {} columns, from {} ({} backend, {} pass{})\n\n",
        p.num_rows,
        p.features.len(),
        p.sources.join(", "),
        p.backend.kind,
        p.passes,
        if p.passes == 1 { "" } else { "es" }
    );
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
            "2023-11-14 22:13:30Z"
        );
        assert_eq!(
            num_text("timestamp[ms]", Some(Num::Int(1_700_000_010_250))),
            "2023-11-14 22:13:30.25"
        );
        assert_eq!(
            num_text("list<timestamp[ns]>", Some(Num::Int(-1))),
            "1969-12-31 23:59:59.999999999"
        );
        // Leap day in a leap century.
        assert_eq!(
            num_text("date32[day]", Some(Num::Int(11_016))),
            "2000-02-29"
        );
        assert_eq!(num_text("int64", Some(Num::Int(5))), "5");
        assert_eq!(spread_text(Some(Time::Days), Some(3.5)), "3.5 days");
        assert_eq!(
            spread_text(Time::of("timestamp[ms]"), Some(1500.0)),
            "1.5 s"
        );
    }

    #[test]
    fn empty_strings_are_named() {
        assert_eq!(value_label(""), "(empty string)");
        assert_eq!(value_label("a"), "a");
    }
}
