//! `skewer timeline --html`: one self-contained page of a timeline, a
//! chart per feature of its distance from the reference and from the
//! window before, window by window, against the threshold. No script, no
//! external file; the same timeline gives the same bytes.
//!
//! The DOM contract: each feature's `<section>` carries `data-feature`
//! (its name) and `data-drift` (`fast`, `slow` or `none`), for labelled
//! profiles `data-concept` (the same words, for its concept shift), and
//! holds one `<svg>`.

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

/// A step's distance, where it is a number.
fn distance(s: &Option<Step>) -> Option<f64> {
    s.as_ref()
        .and_then(Step::distance)
        .filter(|d| d.is_finite())
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

/// A verdict's badge class and words.
fn badge(d: Drift, what: &str) -> (&'static str, String) {
    match d {
        Drift::Fast => ("drift", format!("fast {what}")),
        Drift::Slow => ("undecided", format!("slow {what}")),
        Drift::None => ("ok", format!("steady {what}")),
    }
}

fn section(f: &FeatureTimeline, threshold: f64) -> Markup {
    let (class, word) = badge(f.drift, "drift");
    html! {
        section.feature data-feature=(f.name) data-drift=(f.drift.word())
            data-concept=[f.concept.as_ref().map(|c| c.drift.word())] {
            h2 {
                (f.name) " " span class={ "badge " (class) } { (word) }
                @if let Some(s) = &f.since { " " small { "since " (s) } }
                @if let Some(c) = &f.concept {
                    @let (class, word) = badge(c.drift, "concept");
                    " " span class={ "badge " (class) } { (word) }
                    @if let Some(s) = &c.since { " " small { "since " (s) } }
                }
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

/// A line through the windows that have a distance (a gap where one has
/// none), each point a dot, and the rings where the step drifted.
struct Line {
    path: String,
    dots: Vec<(f64, f64)>,
    rings: Vec<(f64, f64)>,
}

fn line(
    series: &[Point],
    pick: fn(&Point) -> &Option<Step>,
    x: &dyn Fn(usize) -> f64,
    y: &dyn Fn(f64) -> f64,
) -> Line {
    let mut l = Line {
        path: String::new(),
        dots: Vec::new(),
        rings: Vec::new(),
    };
    let mut gap = true;
    for (i, p) in series.iter().enumerate() {
        let Some(d) = distance(pick(p)) else {
            gap = true;
            continue;
        };
        let (px, py) = (x(i), y(d));
        l.path += &format!("{}{},{} ", if gap { "M" } else { "L" }, c(px), c(py));
        gap = false;
        l.dots.push((px, py));
        if pick(p).as_ref().is_some_and(|s| s.drifted) {
            l.rings.push((px, py));
        }
    }
    l.path = l.path.trim_end().to_string();
    l
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
    let reference = line(series, |p| &p.vs_reference, &x, &y);
    let previous = line(series, |p| &p.vs_previous, &x, &y);
    // "0" only where it does not sit on the threshold's label.
    let zero = y(0.0) - y(threshold) >= 10.0;
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
                        @if zero { text.tick x=(c(LEFT - 4.0)) y=(c(H - BOTTOM + 3.0)) text-anchor="end" { "0" } }
            text.tick x=(c(LEFT - 4.0)) y=(c(TOP + 3.0)) text-anchor="end" { (format!("{top:.3}")) }
                        @for &i in &ticks {
                @let anchor = match i { 0 => "start", i if i + 1 == series.len() => "end", _ => "middle" };
                text.tick x=(c(x(i))) y=(c(H - BOTTOM + 14.0)) text-anchor=(anchor) { (label(i)) }
            }
                        @if !reference.path.is_empty() { path.cur-line d=(reference.path) {} }
            @if !previous.path.is_empty() { path.base-line d=(previous.path) {} }
            @for (cx, cy) in &reference.dots { circle.cur cx=(c(*cx)) cy=(c(*cy)) r="1.8" {} }
            @for (cx, cy) in &previous.dots {
                circle cx=(c(*cx)) cy=(c(*cy)) r="1.8" fill="var(--base)" {}
            }
            @for (cx, cy) in reference.rings.iter().chain(&previous.rings) {
                circle cx=(c(*cx)) cy=(c(*cy)) r="4" fill="none" stroke="#9b2c2c" stroke-width="2" {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::timeline::timeline;
    use crate::compare::CompareOptions;

    fn step(d: f64) -> Option<Step> {
        Some(Step {
            linf: Some(d),
            ks: None,
            drifted: d > 0.5,
            undecided: false,
            concept: None,
            concept_drifted: None,
        })
    }

    #[test]
    fn charts_of_one_window_gaps_and_nan() {
        let point = |w: &str, r: Option<Step>, p: Option<Step>| Point {
            window: w.into(),
            vs_reference: r,
            vs_previous: p,
        };
        // One window: a dot, no line, no division by zero.
        let one = chart(&[point("2026-01-01T00:00:00Z", step(0.01), None)], 0.03).into_string();
        assert!(one.contains("<circle") && !one.contains("NaN"), "{one}");
        // A NaN distance and a missing one are gaps, not zeros.
        let series = [
            point("a", step(0.01), None),
            point("b", step(f64::NAN), step(0.9)),
            point("c", None, step(0.02)),
            point("d", step(0.02), step(0.02)),
        ];
        let svg = chart(&series, 0.03).into_string();
        let solid = svg.split("class=\"cur-line\" d=\"").nth(1).unwrap();
        let solid = &solid[..solid.find('"').unwrap()];
        assert_eq!(solid.matches('M').count(), 2, "{solid}");
        assert!(!solid.contains('L'), "{solid}");
        // The drifted step is ringed.
        assert!(svg.contains(r#"r="4""#));
    }

    #[test]
    fn a_page_of_no_windows() {
        let t = timeline(
            &[],
            None,
            &CompareOptions::default(),
            &crate::backend::Backend::cpu(),
        );
        let page = render(&t.unwrap());
        assert!(page.contains("no windows"));
    }
}
