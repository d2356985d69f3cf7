//! Dates and timestamps: which columns hold them (from the profile's type
//! names, `engine::type_name`) and their ticks as text, for every place a
//! value is printed (tables, the report, compare's bin labels).

/// The time unit of a date or timestamp column (also of a list of them),
/// read from its profile type name (`engine::type_name`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Time {
    /// date32: days since 1970-01-01.
    Days,
    /// date64: milliseconds since 1970-01-01, shown as a date at midnight.
    Millis,
    /// Timestamps: ticks per second, and whether the column has a time
    /// zone (its values are UTC instants, shown with Z).
    Ticks { per_second: f64, zone: bool },
}

impl Time {
    /// A duration of `secs` seconds in the unit that reads best.
    pub fn duration(secs: f64) -> String {
        let (v, unit) = if secs.abs() >= 2.0 * 86_400.0 {
            (secs / 86_400.0, "days")
        } else if secs.abs() >= 2.0 * 3600.0 {
            (secs / 3600.0, "h")
        } else if secs.abs() >= 120.0 {
            (secs / 60.0, "min")
        } else {
            (secs, "s")
        };
        format!("{} {unit}", (v * 1e4).round() / 1e4)
    }

    pub fn of(type_name: &str) -> Option<Time> {
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
            Some(Time::Millis)
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

    pub fn per_second(self) -> f64 {
        match self {
            Time::Days => 1.0 / 86_400.0,
            Time::Millis => 1e3,
            Time::Ticks { per_second, .. } => per_second,
        }
    }

    /// A number of ticks (a mean, an axis tick) as [`Time::show_ticks`],
    /// rounded to a whole tick; None where it is no date (not finite, or
    /// beyond the ticks an i64 holds).
    pub fn show(self, x: f64) -> Option<String> {
        (x.is_finite() && x.abs() <= 9e18).then(|| self.show_ticks(x.round() as i64))
    }

    /// A numeric bin's label from `compare` (`"[19723, 19750]"`, in ticks)
    /// with its ends as dates; any other text as it is.
    pub fn bin_label(self, label: &str) -> String {
        let ends = label
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .and_then(|l| l.split_once(", "));
        match ends.map(|(a, b)| (a.parse::<i64>(), b.parse::<i64>())) {
            Some((Ok(a), Ok(b))) => format!("[{}, {}]", self.show_ticks(a), self.show_ticks(b)),
            _ => label.to_string(),
        }
    }

    /// `t` ticks as a date (`2024-03-01`: date32, and date64 at midnight),
    /// or a date and time as Arrow writes it (`2024-03-01T12:30:05.250`,
    /// with `Z` where the column has a zone: its values are UTC instants).
    pub fn show_ticks(self, t: i64) -> String {
        let date = |days: i64| match civil_from_days(days) {
            Some((y, m, d)) => format!("{y:04}-{m:02}-{d:02}"),
            None => t.to_string(),
        };
        let (per_second, zone) = match self {
            Time::Days => return date(t),
            Time::Millis => (1e3, false),
            Time::Ticks { per_second, zone } => (per_second, zone),
        };
        let per = per_second as i64;
        let per_day = per * 86_400;
        let (days, in_day) = (t.div_euclid(per_day), t.rem_euclid(per_day));
        let (s, frac) = (in_day / per, in_day % per);
        if self == Time::Millis && s == 0 && frac == 0 {
            return date(days);
        }
        let mut out = format!(
            "{}T{:02}:{:02}:{:02}",
            date(days),
            s / 3600,
            s / 60 % 60,
            s % 60
        );
        if frac > 0 {
            // Whole milli-, micro- or nanoseconds, as Arrow shows them.
            let digits = per.ilog10() as usize;
            let f = format!("{frac:0digits$}");
            let keep = f.trim_end_matches('0').len().div_ceil(3) * 3;
            out.push('.');
            out.push_str(&f[..keep]);
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
