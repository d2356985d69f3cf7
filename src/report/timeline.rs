//! `skewer timeline` as a table or Markdown: one row per feature, its
//! verdict, where it started, and its distance from the reference in each
//! window drawn as a sparkline.

use super::table;
use crate::compare::timeline::{Drift, Point, Step, Timeline};

/// The sparkline's levels, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn largest(series: &[Point], pick: fn(&Point) -> &Option<Step>) -> Option<f64> {
    series
        .iter()
        .filter_map(|p| pick(p).as_ref().and_then(Step::distance))
        .reduce(f64::max)
}

/// Each window's distance from the reference, a full bar at `top` (one
/// scale for every feature); a space where there is none.
fn sparkline(series: &[Point], top: f64) -> String {
    series
        .iter()
        .map(|p| match p.vs_reference.as_ref().and_then(Step::distance) {
            None => ' ',
            Some(d) => {
                let level = (d / top * (BARS.len() - 1) as f64).round();
                BARS[(level.max(0.0) as usize).min(BARS.len() - 1)]
            }
        })
        .collect()
}

/// The sparklines' full bar: the largest distance from the reference of
/// any feature, and at least the threshold.
fn top(t: &Timeline) -> f64 {
    t.features
        .iter()
        .filter_map(|f| largest(&f.series, |p| &p.vs_reference))
        .fold(t.options.threshold, f64::max)
        .max(f64::MIN_POSITIVE)
}

/// Each feature's row; with the concept verdict (`fast since W`) where
/// the profiles are labelled.
fn rows(t: &Timeline) -> Vec<Vec<String>> {
    let top = top(t);
    let num = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.4}"));
    let labelled = labelled(t);
    t.features
        .iter()
        .map(|f| {
            let mut row = vec![
                f.name.clone(),
                f.drift.word().into(),
                f.since.clone().unwrap_or_else(|| "-".into()),
                num(largest(&f.series, |p| &p.vs_reference)),
                num(largest(&f.series, |p| &p.vs_previous)),
                sparkline(&f.series, top),
            ];
            if labelled {
                row.push(match &f.concept {
                    Some(c) => match &c.since {
                        Some(s) => format!("{} since {s}", c.drift.word()),
                        None => c.drift.word().into(),
                    },
                    None => "-".into(),
                });
            }
            row
        })
        .collect()
}

fn labelled(t: &Timeline) -> bool {
    t.features.iter().any(|f| f.concept.is_some())
}

fn header(t: &Timeline) -> Vec<&'static str> {
    let mut h = vec![
        "feature",
        "drift",
        "since",
        "max vs reference",
        "max step",
        "vs reference",
    ];
    if labelled(t) {
        h.push("concept");
    }
    h
}

fn headline(t: &Timeline) -> String {
    let count = |d: Drift| t.features.iter().filter(|f| f.drift == d).count();
    let span = match (t.windows.first(), t.windows.last()) {
        (Some(a), Some(b)) => format!("{} windows, {a} … {b}", t.windows.len()),
        _ => "no windows".into(),
    };
    format!(
        "{span}, against {}: {} fast, {} slow, {} steady (threshold {}; distance: KS, or L∞ \
         for categorical; a full bar: {:.4})",
        t.reference,
        count(Drift::Fast),
        count(Drift::Slow),
        count(Drift::None),
        t.options.threshold,
        top(t)
    ) + &concept_counts(t)
}

/// `; concept shift: 1 fast, 0 slow` where the profiles are labelled.
fn concept_counts(t: &Timeline) -> String {
    if !labelled(t) {
        return String::new();
    }
    let count = |d: Drift| {
        t.features
            .iter()
            .filter(|f| f.concept.as_ref().is_some_and(|c| c.drift == d))
            .count()
    };
    format!(
        "; concept shift: {} fast, {} slow",
        count(Drift::Fast),
        count(Drift::Slow)
    )
}

pub fn timeline_table(t: &Timeline) -> String {
    format!(
        "{}\n\n{}",
        headline(t),
        table::text(&header(t), &rows(t), &[0, 1, 2, 5, 6])
    )
}

pub fn timeline_markdown(t: &Timeline) -> String {
    let rows: Vec<Vec<String>> = rows(t)
        .into_iter()
        .map(|r| r.iter().map(|c| table::md_cell(c)).collect())
        .collect();
    format!(
        "## skewer timeline\n\n{}\n\n{}",
        table::md_cell(&headline(t)),
        table::markdown(&header(t), &rows, &[3, 4])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(d: Option<f64>) -> Point {
        Point {
            window: "w".into(),
            vs_reference: d.map(|d| Step {
                linf: Some(d),
                ks: None,
                drifted: false,
                undecided: false,
                concept: None,
                concept_drifted: None,
            }),
            vs_previous: None,
        }
    }

    #[test]
    fn the_sparkline_is_scaled_to_the_top() {
        let s: Vec<Point> = [None, Some(0.0), Some(0.015), Some(0.03), Some(0.5)]
            .into_iter()
            .map(point)
            .collect();
        assert_eq!(sparkline(&s, 0.03), " ▁▅██");
        assert_eq!(sparkline(&s, 0.5), " ▁▁▁█");
    }
}
