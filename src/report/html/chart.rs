//! The report's charts: SVG built here, so that their geometry is
//! deterministic and tested without a browser.
//!
//! Every chart shows the current data filled and the base as a dashed
//! outline (numeric) or hatched bars (categorical), so that the two are told
//! apart without colour; each has its own legend. Coordinates are rounded
//! to 0.1 px: the same profile gives the same bytes.

use maud::{html, Markup, PreEscaped};

/// Width and height of the numeric charts' view box.
const W: f64 = 340.0;
const H: f64 = 170.0;
/// The plot area inside it: room for the legend above and the axis below.
const LEFT: f64 = 44.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 28.0;

/// A number as an SVG coordinate: one decimal, no trailing ".0"; a
/// coordinate that is not finite (from a corrupt profile) is 0.
pub(super) fn c(x: f64) -> String {
    let r = if x.is_finite() {
        (x * 10.0).round() / 10.0
    } else {
        0.0
    };
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// A linear map from data to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl Axis {
    /// `[lo, hi]` onto `[from, to]`; an empty range is widened around its
    /// value so that a constant column still has a place.
    pub fn new(lo: f64, hi: f64, from: f64, to: f64) -> Axis {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.01 };
            (lo - pad, lo + pad)
        };
        Axis { lo, hi, from, to }
    }

    pub fn px(&self, v: f64) -> f64 {
        // Halves: a range from -1e308 to 1e308 does not overflow.
        let t = (v / 2.0 - self.lo / 2.0) / (self.hi / 2.0 - self.lo / 2.0);
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        self.from + t * (self.to - self.from)
    }
}

/// One bar of a histogram: the values in `[lo, hi]` and the bar's height
/// (a share of rows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub lo: f64,
    pub hi: f64,
    pub height: f64,
}

/// A vertical line across the plot at a value, with its label: a schema's
/// bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub at: f64,
    pub label: String,
}

/// How heights map to pixels: linear, or log10 for heavy tails (shares
/// below `floor` sit on the axis).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum YScale {
    Linear { max: f64 },
    Log { floor: f64, max: f64 },
}

impl YScale {
    fn px(self, v: f64) -> f64 {
        let bottom = H - BOTTOM;
        let t = match self {
            YScale::Linear { max } if max > 0.0 => v / max,
            YScale::Linear { .. } => 0.0,
            YScale::Log { floor, max } => {
                if v <= floor {
                    0.0
                } else {
                    (v / floor).log10() / (max / floor).log10()
                }
            }
        };
        bottom - t.clamp(0.0, 1.0) * (bottom - TOP)
    }

    /// The scale for heights up to `max`: log10 from a floor a decade below
    /// the smallest positive height (at least 1e-6 of `max`, at most a
    /// tenth of it).
    fn log(heights: impl Iterator<Item = f64>, max: f64) -> YScale {
        let min = heights.filter(|&h| h > 0.0).fold(f64::INFINITY, f64::min);
        let floor = if min.is_finite() { min / 10.0 } else { max };
        YScale::Log {
            floor: floor.min(max / 10.0).max(max * 1e-6),
            max,
        }
    }
}

/// The bars as one stepped outline from the axis up and along their tops
/// (adjacent bars share their sides); `fill` closes it for filling. A bar
/// of no width (a constant column) is drawn 2 px wide.
pub fn step_path(bars: &[Bar], x: &Axis, y: YScale, fill: bool) -> String {
    let base = H - BOTTOM;
    let mut d = String::new();
    let mut last: Option<f64> = None;
    let end = |d: &mut String| {
        d.push_str(&format!("V{}", c(base)));
        if fill {
            d.push('Z');
        }
    };
    for b in bars {
        let (mut x0, mut x1) = (x.px(b.lo), x.px(b.hi));
        if x1 - x0 < 2.0 {
            let m = (x0 + x1) / 2.0;
            (x0, x1) = (m - 1.0, m + 1.0);
        }
        let top = y.px(b.height);
        match last {
            Some(lx) if (lx - x0).abs() < 0.05 => d.push_str(&format!("V{}", c(top))),
            Some(_) => {
                end(&mut d);
                d.push_str(&format!("M{} {}V{}", c(x0), c(base), c(top)));
            }
            None => d.push_str(&format!("M{} {}V{}", c(x0), c(base), c(top))),
        }
        d.push_str(&format!("H{}", c(x1)));
        last = Some(x1);
    }
    if last.is_some() {
        end(&mut d);
    }
    d
}

/// The cumulative share through `(value, share)` points, in order:
/// exact at each point, straight between them (a step where two points
/// share a value: ties).
pub fn cdf_path(points: &[(f64, f64)], x: &Axis) -> String {
    let y = YScale::Linear { max: 1.0 };
    let mut d = String::new();
    for (i, &(v, s)) in points.iter().enumerate() {
        let (px, py) = (c(x.px(v)), c(y.px(s)));
        let op = if i == 0 { 'M' } else { 'L' };
        d.push_str(&format!("{op}{px} {py}"));
    }
    d
}

/// The legend above a chart: a filled swatch for the current data and a
/// dashed one for the base.
fn legend(current: bool, base: bool) -> Markup {
    html! {
        g.legend {
            @if current {
                rect.cur x=(c(LEFT)) y="4" width="12" height="10" {}
                text x=(c(LEFT + 16.0)) y="13" { "current" }
            }
            @if base {
                path.base-line d=(format!("M{} 9h14", c(LEFT + 72.0))) {}
                text x=(c(LEFT + 90.0)) y="13" { "base" }
            }
        }
    }
}

/// The x axis with its ends and middle labelled.
fn axes(x: &Axis, lo: f64, hi: f64, label: &dyn Fn(f64) -> String) -> Markup {
    let base = H - BOTTOM;
    let mid = (lo + hi) / 2.0;
    // Three labels fit the axis when short; long ones (timestamps) only at
    // its ends.
    let (a, m, b) = (label(lo), label(mid), label(hi));
    let three = [&a, &m, &b].iter().all(|l| l.chars().count() <= 12);
    html! {
        path.axis d=(format!("M{} {}H{}M{} {}V{}", c(LEFT), c(base), c(W - RIGHT), c(LEFT), c(TOP), c(base))) {}
        text.tick x=(c(x.px(lo))) y=(c(base + 14.0)) text-anchor="start" { (a) }
        @if hi > lo {
            @if three {
                text.tick x=(c(x.px(mid))) y=(c(base + 14.0)) text-anchor="middle" { (m) }
            }
            text.tick x=(c(x.px(hi))) y=(c(base + 14.0)) text-anchor="end" { (b) }
        }
    }
}

/// Vertical marks (schema bounds), dashed and labelled.
fn marks(list: &[Mark], x: &Axis) -> Markup {
    html! {
        @for m in list {
            @let at = x.px(m.at);
            // The label on the side with room: left of a mark in the right half.
            @let (lx, anchor) = if at > (LEFT + W - RIGHT) / 2.0 { (at - 2.0, "end") } else { (at + 2.0, "start") };
            path.mark d=(format!("M{} {}V{}", c(at), c(TOP), c(H - BOTTOM))) {}
            text.mark-label x=(c(lx)) y=(c(TOP + 8.0)) text-anchor=(anchor) { (m.label) }
        }
    }
}

/// A share in per cent, with the digits that tell small shares apart.
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if !p.is_finite() {
        "?".into()
    } else if p == 0.0 {
        "0%".into()
    } else if p >= 10.0 {
        format!("{p:.0}%")
    } else if p >= 0.1 {
        format!("{p:.1}%")
    } else if p >= 0.01 {
        format!("{p:.2}%")
    } else {
        "<0.01%".into()
    }
}

/// The y axis' labels: its top and, on a linear scale, 0; on a log scale,
/// the floor.
fn y_labels(y: YScale, top: &str) -> Markup {
    let base = H - BOTTOM;
    html! {
        text.tick x=(c(LEFT - 4.0)) y=(c(TOP + 4.0)) text-anchor="end" { (top) }
        @match y {
            YScale::Linear { .. } => text.tick x=(c(LEFT - 4.0)) y=(c(base)) text-anchor="end" { "0" },
            YScale::Log { floor, .. } => text.tick x=(c(LEFT - 4.0)) y=(c(base)) text-anchor="end" { (percent(floor)) },
        }
    }
}

/// What a histogram chart is given.
pub struct Histogram<'a> {
    pub title: &'a str,
    pub current: &'a [Bar],
    pub base: Option<&'a [Bar]>,
    pub marks: &'a [Mark],
    /// A value as text (dates as dates).
    pub label: &'a dyn Fn(f64) -> String,
    /// The heights are densities (the base rescaled): no share on the y
    /// axis.
    pub density: bool,
}

/// The x range that holds every bar and mark.
fn x_range<'a>(bars: impl Iterator<Item = &'a Bar>, marks: &[Mark]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for b in bars {
        lo = lo.min(b.lo);
        hi = hi.max(b.hi);
    }
    for m in marks {
        lo = lo.min(m.at);
        hi = hi.max(m.at);
    }
    (lo, hi)
}

/// An equal-width histogram of shares, the base's outline over the current's
/// bars, drawn twice: linear (class `lin`) and log10 (class `log`); the
/// page's log-scale switch shows one.
pub fn histogram(h: &Histogram) -> Markup {
    let all = h.current.iter().chain(h.base.unwrap_or(&[]));
    let (lo, hi) = x_range(all.clone(), h.marks);
    if !lo.is_finite() {
        return html! {};
    }
    let x = Axis::new(lo, hi, LEFT, W - RIGHT);
    let max = all.clone().map(|b| b.height).fold(0.0, f64::max);
    let lin = YScale::Linear { max };
    let log = YScale::log(all.map(|b| b.height), max);
    let layer = |y: YScale, class: &str| {
        html! {
            g class=(class) {
                path.cur d=(step_path(h.current, &x, y, true)) {}
                @if let Some(b) = h.base {
                    path.base-line d=(step_path(b, &x, y, false)) {}
                }
                @if !h.density { (y_labels(y, &percent(max))) }
            }
        }
    };
    html! {
        svg.chart viewBox=(format!("0 0 {} {}", c(W), c(H))) role="img" {
            title { (h.title) }
            (legend(!h.current.is_empty(), h.base.is_some()))
            (layer(lin, "lin"))
            (layer(log, "log"))
            (axes(&x, lo, hi, h.label))
            (marks(h.marks, &x))
        }
    }
}

/// The quantile histogram drawn as what it measures: the cumulative share
/// of rows at each bucket bound (exact there, straight between), base
/// dashed over current solid.
pub fn cumulative(
    title: &str,
    current: &[(f64, f64)],
    base: Option<&[(f64, f64)]>,
    bounds: &[Mark],
    label: &dyn Fn(f64) -> String,
) -> Markup {
    let pts = current.iter().chain(base.unwrap_or(&[]));
    let lo = pts.clone().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = pts.map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = bounds
        .iter()
        .fold((lo, hi), |(l, h), m| (l.min(m.at), h.max(m.at)));
    if !lo.is_finite() {
        return html! {};
    }
    let x = Axis::new(lo, hi, LEFT, W - RIGHT);
    html! {
        svg.chart viewBox=(format!("0 0 {} {}", c(W), c(H))) role="img" {
            title { (title) }
            (legend(!current.is_empty(), base.is_some()))
            path.cur-line d=(cdf_path(current, &x)) {}
            @if let Some(b) = base {
                path.base-line d=(cdf_path(b, &x)) {}
            }
            (axes(&x, lo, hi, label))
            (y_labels(YScale::Linear { max: 1.0 }, "100%"))
            (marks(bounds, &x))
        }
    }
}

/// One row of the top-values chart.
pub struct ValueRow {
    /// The value as shown (ellipsized by the chart; whole in its tooltip).
    pub label: String,
    /// The current's share; None without current data (a feature only in
    /// the base) or where it cannot tell.
    pub current: Option<f64>,
    /// The base's share; None without a base, or when the base cannot tell
    /// (the value is among its uncounted "other" values).
    pub base: Option<f64>,
    /// A note after the shares, marked ◆: where L-infinity is reached
    /// (`L∞ 0.250`), or where the concept moved most.
    pub mark: Option<String>,
    /// Outside the schema's domain.
    pub unexpected: bool,
}

const ROW: f64 = 24.0;
const LABEL_W: f64 = 150.0;
const BARS_W: f64 = 200.0;
const NOTE_W: f64 = 140.0;

/// The top values as horizontal bars of shares, the base's (hatched) under
/// the current's (filled); the value where L-infinity is reached and the
/// values outside the schema's domain are marked in words.
pub fn top_values(title: &str, rows: &[ValueRow], current: bool, base: bool) -> Markup {
    let max = rows
        .iter()
        .flat_map(|r| [r.current.unwrap_or(0.0), r.base.unwrap_or(0.0)])
        .fold(0.0, f64::max);
    let share = |present: bool, v: Option<f64>| match (present, v) {
        (false, _) => "-".to_string(),
        (true, None) => "?".to_string(),
        (true, Some(s)) => percent(s),
    };
    let x = Axis::new(
        0.0,
        if max > 0.0 { max } else { 1.0 },
        LABEL_W,
        LABEL_W + BARS_W,
    );
    let width = LABEL_W + BARS_W + NOTE_W;
    let height = TOP + ROW * rows.len() as f64 + 4.0;
    let bar_h = if base { ROW / 2.0 - 2.0 } else { ROW - 6.0 };
    html! {
        svg.chart.wide viewBox=(format!("0 0 {} {}", c(width), c(height))) role="img" {
            title { (title) }
            g.legend {
                @if current {
                    rect.cur x=(c(LABEL_W)) y="4" width="12" height="10" {}
                    text x=(c(LABEL_W + 16.0)) y="13" { "current" }
                }
                @if base {
                    rect.base x=(c(LABEL_W + 72.0)) y="4" width="12" height="10" {}
                    text x=(c(LABEL_W + 88.0)) y="13" { "base" }
                }
            }
            path.cur d=(row_bars(rows.iter().map(|r| r.current), &x, 2.0, bar_h)) {}
            @if base {
                path.base d=(row_bars(rows.iter().map(|r| r.base), &x, 3.0 + bar_h, bar_h)) {}
            }
            g.value text-anchor="end" {
                @for (i, r) in rows.iter().enumerate() {
                    @let shown = super::ellipsize(&r.label, 22);
                    text x=(c(LABEL_W - 6.0)) y=(c(TOP + ROW * i as f64 + ROW / 2.0 + 4.0)) {
                        (shown)
                        // The whole value where the label is cut.
                        @if shown != r.label { title { (r.label) } }
                    }
                }
            }
            g.note {
                @for (i, r) in rows.iter().enumerate() {
                    text x=(c(LABEL_W + BARS_W + 6.0)) y=(c(TOP + ROW * i as f64 + ROW / 2.0 + 4.0)) {
                        (share(current, r.current))
                        @if base { " / " (share(true, r.base)) }
                        @if let Some(m) = &r.mark { " ◆ " (m) }
                        @if r.unexpected { " ✕ not in domain" }
                    }
                }
            }
        }
    }
}

/// A label's mean in each bin (`rows`' `current` and `base` are means):
/// on one axis from the smallest mean to the largest, the current's as a
/// dot and the base's as a dashed tick, the two joined by a line where
/// both have rows; the numbers after them (written by `number`).
pub fn means(title: &str, rows: &[ValueRow], base: bool, number: impl Fn(f64) -> String) -> Markup {
    let all = rows.iter().flat_map(|r| [r.current, r.base]).flatten();
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    // Room at both ends for the dots.
    let x = Axis::new(lo, hi, LABEL_W + 8.0, LABEL_W + BARS_W - 8.0);
    // Means take more digits than shares.
    let width = LABEL_W + BARS_W + NOTE_W + 60.0;
    let height = TOP + ROW * rows.len() as f64 + 4.0;
    let mid = |i: usize| TOP + ROW * i as f64 + ROW / 2.0;
    let shown = |v: Option<f64>| v.map_or_else(|| "-".to_string(), &number);
    html! {
        svg.chart.wide viewBox=(format!("0 0 {} {}", c(width), c(height))) role="img" {
            title { (title) }
            g.legend {
                circle.cur cx=(c(LABEL_W + 6.0)) cy="9" r="4" {}
                text x=(c(LABEL_W + 16.0)) y="13" { "current" }
                @if base {
                    path.base-line d=(format!("M{} 3v12", c(LABEL_W + 78.0))) {}
                    text x=(c(LABEL_W + 88.0)) y="13" { "base" }
                }
            }
            @for (i, r) in rows.iter().enumerate() {
                @if let (Some(a), Some(b)) = (r.base, r.current) {
                    path.base-line d=(format!("M{} {}H{}", c(x.px(a)), c(mid(i)), c(x.px(b)))) {}
                }
                @if let Some(b) = r.base {
                    path.base-line d=(format!("M{} {}v12", c(x.px(b)), c(mid(i) - 6.0))) {}
                }
                @if let Some(v) = r.current {
                    circle.cur cx=(c(x.px(v))) cy=(c(mid(i))) r="4" {}
                }
            }
            g.value text-anchor="end" {
                @for (i, r) in rows.iter().enumerate() {
                    @let label = super::ellipsize(&r.label, 22);
                    text x=(c(LABEL_W - 6.0)) y=(c(mid(i) + 4.0)) {
                        (label)
                        @if label != r.label { title { (r.label) } }
                    }
                }
            }
            g.note {
                @for (i, r) in rows.iter().enumerate() {
                    text x=(c(LABEL_W + BARS_W + 6.0)) y=(c(mid(i) + 4.0)) {
                        (shown(r.current))
                        @if base { " / " (shown(r.base)) }
                        @if let Some(m) = &r.mark { " ◆ " (m) }
                    }
                }
            }
        }
    }
}

/// Horizontal bars, one per row (None: no bar), `dy` below the row's top,
/// as one path.
fn row_bars(shares: impl Iterator<Item = Option<f64>>, x: &Axis, dy: f64, h: f64) -> String {
    let mut d = String::new();
    for (i, s) in shares.enumerate() {
        let Some(s) = s else { continue };
        let w = x.px(s) - LABEL_W;
        if w > 0.0 {
            let y = TOP + ROW * i as f64 + dy;
            d.push_str(&format!(
                "M{} {}h{}v{}h-{}Z",
                c(LABEL_W),
                c(y),
                c(w),
                c(h),
                c(w)
            ));
        }
    }
    d
}

/// The page-wide SVG definitions (the base's hatch pattern), once.
pub fn defs() -> Markup {
    html! {
        svg width="0" height="0" aria-hidden="true" style="position:absolute" {
            defs {
                pattern #hatch width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect width="4" height="4" fill="#fff" {}
                    (PreEscaped(r##"<path d="M0 0V4" stroke="#c05621" stroke-width="2"></path>"##))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_rounded_and_deterministic() {
        assert_eq!(c(1.0), "1");
        assert_eq!(c(1.04), "1");
        assert_eq!(c(1.06), "1.1");
        assert_eq!(c(-0.25), "-0.3");
    }

    #[test]
    fn axis_maps_ends_and_widens_a_constant() {
        let x = Axis::new(0.0, 10.0, 100.0, 200.0);
        assert_eq!(x.px(0.0), 100.0);
        assert_eq!(x.px(5.0), 150.0);
        assert_eq!(x.px(10.0), 200.0);
        // Outside the range: clamped to the plot.
        assert_eq!(x.px(20.0), 200.0);
        let k = Axis::new(42.0, 42.0, 0.0, 100.0);
        assert_eq!(k.px(42.0), 50.0);
        let z = Axis::new(0.0, 0.0, 0.0, 100.0);
        assert_eq!(z.px(0.0), 50.0);
    }

    #[test]
    fn bars_sit_on_the_axis_with_heights_in_proportion() {
        let x = Axis::new(0.0, 2.0, LEFT, W - RIGHT);
        let bars = [
            Bar {
                lo: 0.0,
                hi: 1.0,
                height: 0.5,
            },
            Bar {
                lo: 1.0,
                hi: 2.0,
                height: 0.25,
            },
        ];
        let y = YScale::Linear { max: 0.5 };
        // Plot: x from 44 to 330, y from 142 (axis) up to 22; the outline
        // steps down between adjacent bars.
        assert_eq!(step_path(&bars, &x, y, false), "M44 142V22H187V82H330V142");
        assert_eq!(step_path(&bars, &x, y, true), "M44 142V22H187V82H330V142Z");
        // Bars apart (another side's range) start again from the axis; a
        // bar of no width is 2 px wide.
        let apart = [
            bars[0],
            Bar {
                lo: 2.0,
                hi: 2.0,
                height: 0.5,
            },
        ];
        assert_eq!(
            step_path(&apart, &x, y, true),
            "M44 142V22H187V142ZM329 142V22H331V142Z"
        );
    }

    #[test]
    fn log_scale_shows_small_shares() {
        let y = YScale::log([0.5, 0.001].into_iter(), 0.5);
        // Floor a decade under the smallest share: 1e-4.
        assert_eq!(
            y,
            YScale::Log {
                floor: 1e-4,
                max: 0.5
            }
        );
        let lin = YScale::Linear { max: 0.5 };
        // Linear: 0.1% of the top share is under a pixel; log: a fifth of
        // the plot's height.
        assert!(H - BOTTOM - lin.px(0.001) < 1.0);
        assert!(H - BOTTOM - y.px(0.001) > 20.0);
        assert_eq!(y.px(0.5), TOP);
    }

    #[test]
    fn cumulative_joins_the_points() {
        let x = Axis::new(0.0, 2.0, LEFT, W - RIGHT);
        let d = cdf_path(&[(0.0, 0.0), (1.0, 0.5), (1.0, 0.75), (2.0, 1.0)], &x);
        assert_eq!(d, "M44 142L187 82L187 52L330 22");
    }

    #[test]
    fn shares_print_with_the_digits_that_tell_them_apart() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.123), "12%");
        assert_eq!(percent(0.0123), "1.2%");
        assert_eq!(percent(0.000_701), "0.07%");
        assert_eq!(percent(0.000_001), "<0.01%");
        assert_eq!(percent(f64::NAN), "?");
    }

    #[test]
    fn extreme_ranges_give_no_nan_coordinates() {
        let x = Axis::new(-1.5e308, 1.5e308, LEFT, W - RIGHT);
        assert_eq!(x.px(0.0), (LEFT + W - RIGHT) / 2.0);
        assert_eq!(c(f64::NAN), "0");
        let bars = [Bar {
            lo: -1.5e308,
            hi: 1.5e308,
            height: f64::NAN,
        }];
        let d = step_path(&bars, &x, YScale::Linear { max: 1.0 }, true);
        assert!(!d.contains("NaN") && !d.contains("inf"), "{d}");
    }

    #[test]
    fn markup_escapes_text_from_the_data() {
        let rows = [ValueRow {
            label: "<b>\"x\"&".into(),
            current: Some(0.5),
            base: Some(0.25),
            mark: Some("L∞ 0.250".into()),
            unexpected: true,
        }];
        let s = top_values("t <", &rows, true, true).into_string();
        assert!(s.contains("&lt;b&gt;&quot;x&quot;&amp;"), "{s}");
        assert!(!s.contains("<b>"));
        assert!(s.contains("L∞ 0.250") && s.contains("not in domain"));
        assert!(s.contains("<title>t &lt;</title>"));
    }
}
