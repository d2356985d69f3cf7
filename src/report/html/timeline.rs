//! `skewer timeline --html`: one self-contained page of a timeline, a
//! chart per feature of its distance from the reference and from the
//! window before, window by window, against the threshold. No script, no
//! external file; the same timeline gives the same bytes.
//!
//! The DOM contract: each feature's `<section>` carries `data-feature`
//! (its name) and `data-drift` (`fast`, `slow` or `none`), and holds one
//! `<svg>`.

use maud::{html, Markup, DOCTYPE};

use super::chart::c;
use crate::compare::timeline::{Drift, FeatureTimeline, Point, Step, Timeline};

/// The chart's view box, and its plot area inside it.
const W: f64 = 490.0;
const H: f64 = 180.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 30.0;

fn distance(s: &Option<Step>) -> Option<f64> {
    s.as_ref().and_then(Step::distance)
}

pub fn render(t: &Timeline) -> String {
    let count = |d: Drift| t.features.iter().filter(|f| f.drift == d).count();
    let span = match (t.windows.first(), t.windows.last()) {
        (Some(a), Some(b)) => format!("{} windows, {a} … {b}", t.windows.len()),
        _ => "no windows".into(),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
                        (super::head("skewer timeline"))
            body {
                header {
                    h1 { "skewer timeline" }
                    dl.overview {
                        dt { "windows" } dd { (span) }
                        dt { "reference" } dd { (t.reference) }
                        dt { "drift" } dd {
                            (count(Drift::Fast)) " fast, " (count(Drift::Slow)) " slow, "
                            (count(Drift::None)) " steady (threshold " (t.options.threshold)
                            ", alpha " (t.options.alpha) "; distance: KS, or L∞ for categorical features)"
                        }
                    }
                }
                main {
                    @for f in &t.features { (section(f, t.options.threshold)) }
                }
            }
        }
    };
    page.into_string()
}

fn section(f: &FeatureTimeline, threshold: f64) -> Markup {
    let (badge, word) = match f.drift {
        Drift::Fast => ("drift", "fast drift"),
        Drift::Slow => ("undecided", "slow drift"),
        Drift::None => ("ok", "steady"),
    };
    html! {
        section.feature data-feature=(f.name) data-drift=(f.drift.word()) {
            h2 {
                (f.name) " " span class={ "badge " (badge) } { (word) }
                @if let Some(s) = &f.since { " " small { "since " (s) } }
            }
            figure {
                (chart(&f.series, threshold))
                figcaption {
                    "solid: against the reference; dashed: against the window before; "
                    "dotted: the threshold; a ring: drifted"
                }
            }
        }
    }
}

/// The polyline through the windows that have a distance; the rings where
/// the step drifted.
fn line(
    series: &[Point],
    pick: fn(&Point) -> &Option<Step>,
    x: &dyn Fn(usize) -> f64,
    y: &dyn Fn(f64) -> f64,
) -> (String, Vec<(f64, f64)>) {
    let mut path = String::new();
    let mut rings = Vec::new();
    for (i, p) in series.iter().enumerate() {
        let Some(d) = distance(pick(p)) else { continue };
        path += &format!(
            "{}{},{}",
            if path.is_empty() { "M" } else { " L" },
            c(x(i)),
            c(y(d))
        );
        if pick(p).as_ref().is_some_and(|s| s.drifted) {
            rings.push((x(i), y(d)));
        }
    }
    (path, rings)
}

fn chart(series: &[Point], threshold: f64) -> Markup {
    let top = series
        .iter()
        .flat_map(|p| [distance(&p.vs_reference), distance(&p.vs_previous)])
        .flatten()
        .fold(threshold * 1.5, f64::max)
        .max(1e-9);
    let n = series.len().max(2) - 1;
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * i as f64 / n as f64;
    let y = |d: f64| H - BOTTOM - (H - TOP - BOTTOM) * (d / top).clamp(0.0, 1.0);
    let (reference, ref_rings) = line(series, |p| &p.vs_reference, &x, &y);
    let (previous, prev_rings) = line(series, |p| &p.vs_previous, &x, &y);
    // Window labels: the first, the middle and the last (their dates).
    let label = |i: usize| {
        let w = &series[i].window;
        w.strip_suffix("T00:00:00Z").unwrap_or(w).to_string()
    };
    let ticks: Vec<usize> = match series.len() {
        0 => Vec::new(),
        1 => vec![0],
        2 => vec![0, 1],
        len => vec![0, len / 2, len - 1],
    };
    html! {
        svg.chart.wide viewBox={ "0 0 " (c(W)) " " (c(H)) } role="img"
            aria-label="distance per window against the reference and the window before" {
            path.axis d={ "M" (c(LEFT)) "," (c(TOP)) " V" (c(H - BOTTOM)) " H" (c(W - RIGHT)) } {}
            line.mark x1=(c(LEFT)) x2=(c(W - RIGHT)) y1=(c(y(threshold))) y2=(c(y(threshold))) {}
            text.tick x=(c(LEFT - 4.0)) y=(c(y(threshold) + 3.0)) text-anchor="end" { (threshold) }
            text.tick x=(c(LEFT - 4.0)) y=(c(H - BOTTOM + 3.0)) text-anchor="end" { "0" }
            text.tick x=(c(LEFT - 4.0)) y=(c(TOP + 3.0)) text-anchor="end" { (format!("{top:.3}")) }
                        @for &i in &ticks {
                @let anchor = match i { 0 => "start", i if i + 1 == series.len() => "end", _ => "middle" };
                text.tick x=(c(x(i))) y=(c(H - BOTTOM + 14.0)) text-anchor=(anchor) { (label(i)) }
            }
            @if !reference.is_empty() { path.cur-line d=(reference) {} }
            @if !previous.is_empty() { path.base-line d=(previous) {} }
            @for (cx, cy) in ref_rings.iter().chain(&prev_rings) {
                circle cx=(c(*cx)) cy=(c(*cy)) r="4" fill="none" stroke="#9b2c2c" stroke-width="2" {}
            }
        }
    }
}
