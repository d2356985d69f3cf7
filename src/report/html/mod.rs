//! `skewer report`: one self-contained HTML page of a profile, its drift
//! against a base and its anomalies against a schema.
//!
//! The page has no external file: the style, the script (written for the
//! project, `page.js`) and every chart (SVG built in [`chart`]) are inside
//! it, so it opens from `file://` without a network. It is deterministic:
//! the same inputs give the same bytes. Markup comes from maud, which
//! escapes everything from the data.
//!
//! The DOM contract (docs/report.md): each feature's `<section>` carries
//! `data-feature` (its name), `data-kind`, `data-drifted` ("true" or
//! "false") and `data-anomalies` (a count); its charts are `<svg>`s inside
//! it.

pub mod chart;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::drift::status;
use super::terminal::{ellipsize, float, num_text, value_label, Time};
use crate::compare::metric::METRICS;
use crate::compare::{Comparison, FeatureComparison};
use crate::profile::{DatasetProfile, FeatureProfile, Kind, NumericStats, QuantileBucket};
use crate::schema::{Anomaly, FeatureSchema, Schema};
use chart::{Bar, Histogram, Mark, ValueRow};

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");
/// Top values drawn per categorical feature.
const TOP_ROWS: usize = 20;

/// What a report shows: a profile, and optionally its base, their
/// comparison, a schema and the anomalies found against it.
pub struct Report<'a> {
    pub current: &'a DatasetProfile,
    pub base: Option<&'a DatasetProfile>,
    pub comparison: Option<&'a Comparison>,
    pub schema: Option<&'a Schema>,
    pub anomalies: Option<&'a [Anomaly]>,
}

impl<'a> Report<'a> {
    /// A profile alone.
    pub fn of(current: &'a DatasetProfile) -> Report<'a> {
        Report {
            current,
            base: None,
            comparison: None,
            schema: None,
            anomalies: None,
        }
    }
}

/// One feature with everything the report knows of it.
struct Feature<'a> {
    id: String,
    p: &'a FeatureProfile,
    base: Option<&'a FeatureProfile>,
    cmp: Option<&'a FeatureComparison>,
    schema: Option<&'a FeatureSchema>,
    anomalies: Vec<&'a Anomaly>,
}

impl Feature<'_> {
    fn drifted(&self) -> bool {
        self.cmp.is_some_and(|c| c.drifted)
    }
    fn kind(&self) -> &'static str {
        match self.p.kind {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
        }
    }
}

/// The page.
pub fn render(r: &Report) -> String {
    let features: Vec<Feature> = r
        .current
        .features
        .iter()
        .enumerate()
        .map(|(i, p)| Feature {
            id: format!("f-{i}"),
            p,
            base: r
                .base
                .and_then(|b| b.features.iter().find(|f| f.name == p.name)),
            cmp: r
                .comparison
                .and_then(|c| c.features.iter().find(|f| f.name == p.name)),
            schema: r
                .schema
                .and_then(|s| s.features.iter().find(|f| f.name == p.name)),
            anomalies: r
                .anomalies
                .unwrap_or(&[])
                .iter()
                .filter(|a| a.feature.as_deref() == Some(p.name.as_str()))
                .collect(),
        })
        .collect();
    let title = format!("skewer report: {}", r.current.sources.join(", "));
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // Nothing is fetched: not even a favicon.
                link rel="icon" href="data:,";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (chart::defs())
                header {
                    h1 { "skewer report" }
                    (overview(r, &features))
                }
                main {
                    (controls(features.len()))
                    (table(r, &features))
                    @if let Some(list) = r.anomalies { (anomalies(list, &features)) }
                    @for f in &features { (section(f, r.comparison.is_some())) }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

fn rows_of(p: &DatasetProfile) -> String {
    format!(
        "{} rows, {} columns, from {}",
        p.num_rows,
        p.features.len(),
        p.sources.join(", ")
    )
}

fn overview(r: &Report, features: &[Feature]) -> Markup {
    let p = r.current;
    let drifted = features.iter().filter(|f| f.drifted()).count();
    html! {
        dl.overview {
            dt { "current" } dd { (rows_of(p)) }
            @if let Some(b) = r.base { dt { "base" } dd { (rows_of(b)) } }
            dt { "computed" } dd {
                (p.backend.kind) " backend (" (p.backend.device) "), "
                (p.passes) @if p.passes == 1 { " pass" } @else { " passes" }
                ", skewer " (p.skewer_version)
            }
            @if let Some(c) = r.comparison {
                dt { "drift" } dd {
                    (drifted) " of " (c.features.len()) " features drifted (threshold "
                    (float(Some(c.options.threshold))) ", alpha " (c.options.alpha) ")"
                }
            }
            @if let Some(a) = r.anomalies {
                dt { "anomalies" } dd { (a.len()) }
            }
            @for w in &p.warnings { dt { "warning" } dd { (w) } }
        }
    }
}

fn anomalies(list: &[Anomaly], features: &[Feature]) -> Markup {
    html! {
        section #anomalies {
            h2 { "Anomalies (" (list.len()) ")" }
            @if list.is_empty() { p { "None: the data satisfies the schema." } }
            ul {
                @for a in list {
                    li {
                        @match a.feature.as_deref().and_then(|n| features.iter().find(|f| f.p.name == n)) {
                            Some(f) => a href={ "#" (f.id) } { (f.p.name) },
                            None => span { (a.feature.as_deref().unwrap_or("(dataset)")) },
                        }
                        " " span.badge.anomaly { (a.kind) } " " (a.long)
                    }
                }
            }
        }
    }
}

fn controls(n: usize) -> Markup {
    html! {
        form #controls role="search" {
            label { "Name " input #filter type="search" placeholder="filter by name" autocomplete="off"; }
            label { "Kind "
                select #kind {
                    option value="" { "all" }
                    option value="numeric" { "numeric" }
                    option value="categorical" { "categorical" }
                }
            }
            label { input #drifted-only type="checkbox"; " drifted only" }
            label { input #anomalies-only type="checkbox"; " anomalies only" }
            label { input #log-scale type="checkbox"; " log scale (histograms)" }
            output #shown { (n) " of " (n) " features" }
        }
    }
}

/// A numeric cell: the text shown and the number it sorts by.
fn sort_cell(text: String, v: Option<f64>) -> Markup {
    html! { td.num data-v=[v.filter(|x| x.is_finite()).map(|x| format!("{x:e}"))] { (text) } }
}

fn quantile(n: &NumericStats, rank: f64) -> Option<crate::profile::keys::Num> {
    n.quantiles.iter().find(|q| q.rank == rank).map(|q| q.value)
}

fn table(r: &Report, features: &[Feature]) -> Markup {
    let metrics: Vec<_> = if r.comparison.is_some() {
        METRICS.iter().collect()
    } else {
        Vec::new()
    };
    // The verdicts first, where a narrow window still shows them.
    let heads: Vec<&str> = ["feature"]
        .into_iter()
        .chain(r.comparison.map(|_| "drift"))
        .chain(r.anomalies.map(|_| "anomalies"))
        .chain(["type", "count", "missing", "unique", "min", "median", "max"])
        .chain(metrics.iter().map(|m| m.name))
        .collect();
    let rows = r.current.num_rows;
    html! {
        div.table-wrap { table #features {
            caption { "Features: select a header to sort by it (again: the other way)." }
            thead { tr {
                @for (i, h) in heads.iter().enumerate() {
                    th aria-sort="none" { button type="button" data-col=(i) { (h) } }
                }
            } }
            tbody {
                @for f in features {
                    @let num = f.p.numeric.as_ref();
                    @let cat = f.p.categorical.as_ref();
                    @let ty = f.p.type_name.as_str();
                    @let missing = if rows > 0 { f.p.missing as f64 / rows as f64 } else { 0.0 };
                    tr data-for=(f.id) {
                        td { a href={ "#" (f.id) } { (f.p.name) } }
                        @if r.comparison.is_some() {
                            td { @if let Some(c) = f.cmp { (status_badge(c)) } @else { "-" } }
                        }
                        @if r.anomalies.is_some() {
                            td.num data-v=(f.anomalies.len()) {
                                @if !f.anomalies.is_empty() { span.badge.anomaly { (f.anomalies.len()) } } @else { "0" }
                            }
                        }
                        td { (ty) }
                        (sort_cell(f.p.count.to_string(), Some(f.p.count as f64)))
                        (sort_cell(format!("{:.1}%", 100.0 * missing), Some(missing)))
                        @match cat {
                            Some(c) => (sort_cell(format!("{}{}", if c.unique_exact { "" } else { "~" }, c.unique), Some(c.unique as f64))),
                            None => td.num { "-" },
                        }
                        @for v in [num.and_then(|n| n.min), num.and_then(|n| quantile(n, 0.5)), num.and_then(|n| n.max)] {
                            (sort_cell(num_text(ty, v), v.map(|v| v.as_f64())))
                        }
                        @for m in &metrics {
                            @let v = f.cmp.and_then(|c| m.value_of(c));
                            (sort_cell(v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into()), v))
                        }
                    }
                }
            }
        } }
    }
}

fn status_badge(c: &FeatureComparison) -> Markup {
    let s = status(c);
    html! { span class={ "badge " (s.to_lowercase()) } { (s) } }
}

fn section(f: &Feature, compared: bool) -> Markup {
    html! {
        section.feature id=(f.id) data-feature=(f.p.name) data-kind=(f.kind())
            data-drifted=(f.drifted()) data-anomalies=(f.anomalies.len()) {
            h2 {
                (f.p.name) " "
                small { (f.p.type_name) ", " (f.kind()) }
                @if let Some(c) = f.cmp { " " (status_badge(c)) }
                @if !f.anomalies.is_empty() {
                    " " span.badge.anomaly { (f.anomalies.len()) @if f.anomalies.len() == 1 { " anomaly" } @else { " anomalies" } }
                }
            }
            @if compared && f.base.is_none() { p.note { "Not in the base." } }
            div.charts {
                @if let Some(n) = &f.p.numeric { (numeric_charts(f, n)) }
                @if f.p.categorical.is_some() { (categorical_chart(f)) }
            }
            (facts(f))
            @if !f.anomalies.is_empty() {
                ul.anomalies {
                    @for a in &f.anomalies { li { span.badge.anomaly { (a.kind) } " " (a.long) } }
                }
            }
            @if let Some(c) = f.cmp { p.reason { (c.reason) } }
        }
    }
}

/// The schema's bounds as marks on the value axis.
fn bound_marks(f: &Feature) -> Vec<Mark> {
    let Some(s) = f.schema else { return Vec::new() };
    let mut out = Vec::new();
    for b in [&s.int_bounds, &s.float_bounds].into_iter().flatten() {
        if let Some(v) = b.min {
            out.push(Mark {
                at: v.as_f64(),
                label: "min bound".into(),
            });
        }
        if let Some(v) = b.max {
            out.push(Mark {
                at: v.as_f64(),
                label: "max bound".into(),
            });
        }
    }
    out
}

/// The equal-width buckets as bars of their share of the rows with a
/// value. The base's bars are scaled to the current's bucket width, so
/// that heights compare where the two sides' buckets differ.
fn histogram_bars(n: &NumericStats, width: Option<f64>) -> Vec<Bar> {
    // In f64: a hand-edited profile's counts may not add up in a u64.
    let total: f64 = n.histogram.iter().map(|b| b.count as f64).sum();
    n.histogram
        .iter()
        .filter(|b| b.low.is_finite() && b.high.is_finite())
        .map(|b| {
            let share = if total > 0.0 {
                b.count as f64 / total
            } else {
                0.0
            };
            let w = b.high - b.low;
            let scale = match width {
                Some(cw) if cw > 0.0 && w > 0.0 => cw / w,
                _ => 1.0,
            };
            Bar {
                lo: b.low,
                hi: b.high,
                height: share * scale,
            }
        })
        .collect()
}

/// The width of the equal-width histogram's buckets.
fn bucket_width(n: &NumericStats) -> Option<f64> {
    n.histogram
        .first()
        .map(|b| b.high - b.low)
        .filter(|w| w.is_finite())
}

/// The quantile buckets as cumulative shares at their bounds.
fn cumulative_points(buckets: &[QuantileBucket]) -> Vec<(f64, f64)> {
    let total: f64 = buckets.iter().map(|b| b.count as f64).sum();
    let mut out = Vec::with_capacity(buckets.len() + 1);
    let mut seen = 0.0;
    for (i, b) in buckets.iter().enumerate() {
        if i == 0 {
            out.push((b.low.as_f64(), 0.0));
        }
        seen += b.count as f64;
        let s = if total > 0.0 { seen / total } else { 0.0 };
        out.push((b.high.as_f64(), s));
    }
    out
}

fn numeric_charts(f: &Feature, n: &NumericStats) -> Markup {
    let ty = f.p.type_name.clone();
    let label = move |v: f64| super::terminal::float_text(&ty, v);
    let bn = f.base.and_then(|b| b.numeric.as_ref());
    let width = bucket_width(n);
    // Where the sides' buckets differ in width, the base's heights are its
    // shares per bucket of the current's width, and the caption says so.
    let rescaled = match (width, bn.and_then(bucket_width)) {
        (Some(c), Some(b)) => (c - b).abs() > 0.01 * c.abs().max(b.abs()),
        _ => false,
    };
    let cur = histogram_bars(n, None);
    let base = bn.map(|b| histogram_bars(b, width));
    let marks = bound_marks(f);
    let approx = if n.histograms_exact {
        ""
    } else {
        " (approximate)"
    };
    let title = format!(
        "{}: equal-width histogram, share of rows per bucket{approx}",
        f.p.name
    );
    let cdf_title = format!(
        "{}: quantile histogram as cumulative share at each quantile{approx}",
        f.p.name
    );
    html! {
        figure {
            (chart::histogram(&Histogram {
                title: &title,
                current: &cur,
                base: base.as_deref(),
                marks: &marks,
                label: &label,
            }))
            figcaption {
                "Equal-width histogram" (approx)
                @if rescaled { br; "base: share per bucket of the current's width" }
            }
        }
        figure {
            (chart::cumulative(
                &cdf_title,
                &cumulative_points(&n.quantile_histogram),
                bn.map(|b| cumulative_points(&b.quantile_histogram)).as_deref(),
                &marks,
                &label,
            ))
            figcaption { "Quantile histogram (cumulative)" (approx) }
        }
    }
}

/// The share of a value in a profile: None when it cannot be told (the
/// value may be among uncounted "other" values).
fn share_in(p: &FeatureProfile, value: &str) -> Option<f64> {
    let c = p.categorical.as_ref()?;
    let present = p.count;
    if present == 0 {
        return Some(0.0);
    }
    match c.value_counts.iter().find(|v| v.label() == value) {
        Some(v) => Some(v.count as f64 / present as f64),
        None if c.other_count == 0 => Some(0.0),
        None => None,
    }
}

fn categorical_chart(f: &Feature) -> Markup {
    let Some(c) = &f.p.categorical else {
        return html! {};
    };
    // The current's top values, then the base's that are not among them.
    let mut labels: Vec<String> = c.top_values.iter().map(|v| v.label()).collect();
    if let Some(bc) = f.base.and_then(|b| b.categorical.as_ref()) {
        for v in &bc.top_values {
            if labels.len() >= TOP_ROWS {
                break;
            }
            let l = v.label();
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
    }
    labels.truncate(TOP_ROWS);
    let domain = f.schema.and_then(|s| s.domain.as_ref());
    let rows: Vec<ValueRow> = labels
        .iter()
        .map(|l| ValueRow {
            label: value_label(l),
            current: share_in(f.p, l).unwrap_or(0.0),
            base: f.base.and_then(|b| share_in(b, l)),
            linf: f
                .cmp
                .filter(|c| c.linf_at.as_deref() == Some(l.as_str()))
                .and_then(|c| c.metrics.linf),
            unexpected: domain.is_some_and(|d| !d.contains(l)),
        })
        .collect();
    let shown = rows.len();
    let title = format!(
        "{}: top {shown} values, share of rows with a value",
        f.p.name
    );
    html! {
        figure.wide {
            (chart::top_values(&title, &rows, f.base.is_some()))
            figcaption {
                "Top values (" (shown) " of " @if c.unique_exact { "" } @else { "~" } (c.unique) " distinct)"
                @if f.base.is_some() { ": current / base share" }
            }
        }
    }
}

/// The numbers under the charts: counts, moments and quantiles, the
/// schema's expectations.
fn facts(f: &Feature) -> Markup {
    let p = f.p;
    let ty = p.type_name.as_str();
    let time = Time::of(ty);
    html! {
        dl.facts {
            div { dt { "count" } dd { (p.count) } }
            div { dt { "missing" } dd { (p.missing) } }
            @if let Some(n) = &p.numeric {
                div { dt { "mean" } dd { (n.mean.map(|m| super::terminal::float_text(ty, m)).unwrap_or_else(|| "-".into())) } }
                div { dt { "std dev" } dd { (super::terminal::spread_text(time, n.std_dev)) } }
                @if time.is_none() {
                    div { dt { "skewness" } dd { (float(n.skewness)) } }
                    div { dt { "kurtosis" } dd { (float(n.kurtosis)) } }
                }
                @if n.zeros > 0 { div { dt { "zeros" } dd { (n.zeros) } } }
                @if n.nan > 0 { div { dt { "NaN" } dd { (n.nan) } } }
                @if n.pos_inf + n.neg_inf > 0 { div { dt { "±inf" } dd { (n.pos_inf + n.neg_inf) } } }
                div { dt { "min" } dd { (num_text(ty, n.min)) } }
                @for q in &n.quantiles {
                    div { dt { "p" (float(Some(q.rank * 100.0))) } dd { (num_text(ty, Some(q.value))) } }
                }
                div { dt { "max" } dd { (num_text(ty, n.max)) } }
            }
            @if let Some(c) = &p.categorical {
                div { dt { "unique" } dd { @if !c.unique_exact { "~" } (c.unique) } }
                @if let (Some(lo), Some(hi)) = (c.min_length, c.max_length) {
                    div { dt { "length" } dd { (lo) " to " (hi) } }
                }
                @if let Some(n) = c.invalid_utf8 { div { dt { "invalid UTF-8" } dd { (n) } } }
            }
            @if let Some(s) = f.schema {
                @if let Some(d) = &s.domain {
                    div { dt { "domain" } dd {
                        (d.len()) " values: "
                        (d.iter().take(30).map(|v| ellipsize(&value_label(v), 24)).collect::<Vec<_>>().join(", "))
                        @if d.len() > 30 { ", …" }
                    } }
                }
                @for b in [&s.int_bounds, &s.float_bounds].into_iter().flatten() {
                    div { dt { "bounds" } dd { (num_text(ty, b.min)) " to " (num_text(ty, b.max)) } }
                }
                div { dt { "presence" } dd {
                    "at least " (s.presence.min_fraction.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "0%".into()))
                } }
            }
            @if let Some(c) = f.cmp {
                @for m in METRICS.iter() {
                    @if let Some(v) = m.value_of(c) {
                        div { dt { (m.name) } dd {
                            (format!("{v:.4}"))
                            @if let Some(b) = m.bound_of(c).filter(|b| *b > 0.0) { " ± " (format!("{b:.4}")) }
                        } }
                    }
                }
                @if let Some(at) = &c.linf_at { div { dt { "L∞ at" } dd { (value_label(at)) } } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::keys::Num;

    #[test]
    fn cumulative_points_reach_one_at_the_last_bound() {
        let qb = |lo: i64, hi: i64, count| QuantileBucket {
            low: Num::Int(lo),
            high: Num::Int(hi),
            count,
        };
        assert_eq!(
            cumulative_points(&[qb(0, 3, 2), qb(3, 3, 0), qb(3, 10, 2)]),
            vec![(0.0, 0.0), (3.0, 0.5), (3.0, 0.5), (10.0, 1.0)]
        );
        assert_eq!(cumulative_points(&[]), vec![]);
    }
}
