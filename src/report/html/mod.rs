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
//! it. The slices' `<section id="slices">` has a row per slice with
//! `data-slice` (compared: `data-drifts`, a count, and cells with
//! `data-column` and `data-status`).

pub mod chart;
pub mod timeline;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::drift::status;
use super::terminal::{ellipsize, float, num_text, value_label, Time};
use crate::compare::metric::METRICS;
use crate::compare::{Comparison, FeatureComparison};
use crate::profile::{DatasetProfile, FeatureProfile, NumericStats, QuantileBucket};
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
    /// The current's profile; the base's for a feature only in the base.
    p: &'a FeatureProfile,
    /// The base's profile, when the feature is in both.
    base: Option<&'a FeatureProfile>,
    /// The feature is only in the base: `p` is the base's, drawn as such.
    only_base: bool,
    cmp: Option<&'a FeatureComparison>,
    schema: Option<&'a FeatureSchema>,
    anomalies: Vec<&'a Anomaly>,
}

impl Feature<'_> {
    fn drifted(&self) -> bool {
        self.cmp.is_some_and(|c| c.drifted)
    }
    fn kind(&self) -> &'static str {
        self.p.kind.name()
    }
    /// The profile drawn as the current data (none for a base-only
    /// feature) and the one drawn as the base.
    fn sides(&self) -> (Option<&FeatureProfile>, Option<&FeatureProfile>) {
        if self.only_base {
            (None, Some(self.p))
        } else {
            (Some(self.p), self.base)
        }
    }
}

/// The current's features in their order, then those only in the base,
/// each with its base, comparison, schema and anomalies (looked up by name
/// once).
fn features<'a>(r: &Report<'a>) -> Vec<Feature<'a>> {
    use std::collections::HashMap;
    fn by_name<T>(items: &[T], name: impl Fn(&T) -> &str) -> HashMap<&str, &T> {
        items.iter().map(|t| (name(t), t)).collect()
    }
    let base = r
        .base
        .map_or_else(HashMap::new, |b| by_name(&b.features, |f| &f.name));
    let cmp = r
        .comparison
        .map_or_else(HashMap::new, |c| by_name(&c.features, |f| &f.name));
    let schema = r
        .schema
        .map_or_else(HashMap::new, |s| by_name(&s.features, |f| &f.name));
    let mut anomalies: HashMap<&str, Vec<&Anomaly>> = HashMap::new();
    for a in r.anomalies.unwrap_or(&[]) {
        if let Some(n) = &a.feature {
            anomalies.entry(n.as_str()).or_default().push(a);
        }
    }
    let current: std::collections::HashSet<&str> =
        r.current.features.iter().map(|f| f.name.as_str()).collect();
    let only_base = r
        .base
        .map(|b| b.features.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter(|f| !current.contains(f.name.as_str()));
    r.current
        .features
        .iter()
        .map(|p| (p, false))
        .chain(only_base.map(|p| (p, true)))
        .enumerate()
        .map(|(i, (p, only))| {
            let name = p.name.as_str();
            Feature {
                id: format!("f-{i}"),
                p,
                base: if only { None } else { base.get(name).copied() },
                only_base: only,
                cmp: cmp.get(name).copied(),
                schema: schema.get(name).copied(),
                anomalies: anomalies.remove(name).unwrap_or_default(),
            }
        })
        .collect()
}

/// The page.
pub fn render(r: &Report) -> String {
    let features = features(r);
    let title = format!(
        "skewer report: {}",
        crate::report::sources_label(&r.current.sources)
    );
    let page = html! {
        (DOCTYPE)
        html lang="en" {
                        (head(&title))
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
                    (slices(r, &features))
                    @for f in &features { (section(f, r)) }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

/// A page's head: its title and the style, nothing fetched (not even a
/// favicon).
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            link rel="icon" href="data:,";
            title { (title) }
            style { (PreEscaped(STYLE)) }
        }
    }
}

fn rows_of(p: &DatasetProfile) -> String {
    format!(
        "{} rows, {} columns, from {}",
        p.num_rows,
        p.features.len(),
        crate::report::sources_label(&p.sources)
    )
}

fn overview(r: &Report, features: &[Feature]) -> Markup {
    let p = r.current;
    let only_base: Vec<&str> = features
        .iter()
        .filter(|f| f.only_base)
        .map(|f| f.p.name.as_str())
        .collect();
    html! {
        dl.overview {
            dt { "current" } dd { (rows_of(p)) }
            @if let Some(b) = r.base { dt { "base" } dd { (rows_of(b)) } }
            dt { "computed" } dd {
                (p.backend.kind) " backend (" (p.backend.device) "), "
                (p.passes) @if p.passes == 1 { " pass" } @else { " passes" }
                ", skewer " (p.skewer_version)
            }
            @if !only_base.is_empty() {
                dt { "only in the base" } dd { (only_base.join(", ")) }
            }
            @if let Some(c) = r.comparison {
                dt { "drift" } dd {
                    (c.features.iter().filter(|f| f.drifted).count()) " of " (c.features.len()) " features drifted (threshold "
                    (float(Some(c.options.threshold))) ", alpha " (c.options.alpha) ")"
                }
                @if let Some(l) = &c.label_shift {
                    dt { "label " (l.column) } dd {
                        @if l.drifted { "shifted" } @else { "not shifted" }
                        " (" (if l.numeric { "KS " } else { "L∞ " }) (format!("{:.4}", l.linf)) ", p " (format!("{:.2e}", l.p_value)) "); concept shift in "
                        (c.features.iter().filter(|f| f.concept.as_ref().is_some_and(|k| k.drifted)).count())
                        " of " (c.features.iter().filter(|f| f.concept.is_some()).count()) " features"
                    }
                }
            }
            @if r.comparison.is_none() {
                @if let Some(l) = &p.label {
                    dt { "label" } dd {
                        (l) ": " (if crate::compare::target::of_numbers(p) {
                            "each feature's chart of the label's mean per bin"
                        } else {
                            "each feature's chart of its classes"
                        })
                    }
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
    let id: std::collections::HashMap<&str, &str> = features
        .iter()
        .map(|f| (f.p.name.as_str(), f.id.as_str()))
        .collect();
    html! {
        section #anomalies {
            h2 { "Anomalies (" (list.len()) ")" }
            @if list.is_empty() { p { "None: the data satisfies the schema." } }
            ul {
                @for a in list {
                    li {
                        @match a.feature.as_deref().and_then(|n| Some((n, *id.get(n)?))) {
                            Some((name, id)) => a href={ "#" (id) } { (name) },
                            None => span { (a.feature.as_deref().unwrap_or("(dataset)")) },
                        }
                        " " span.badge.anomaly { (a.kind) } " " (a.long)
                    }
                }
            }
        }
    }
}

/// The slices (`--slice-by`; a labelled profile's classes): compared,
/// a grid of each slice's verdict on each feature that drifted in some
/// slice; else each slice's rows and share. Nothing where there are none.
fn slices(r: &Report, features: &[Feature]) -> Markup {
    let p = r.current;
    let title = match &p.label {
        Some(l) => format!("Classes of {l}"),
        None => "Slices".to_string(),
    };
    let Some(c) = r.comparison.filter(|c| !c.slices.is_empty()) else {
        if p.slices.is_empty() {
            return html! {};
        }
        let share = |n: u64| n as f64 / p.num_rows.max(1) as f64;
        return html! {
            section #slices {
                h2 { (title) " (" (p.slices.len()) ")" }
                div.table-wrap { table.slices {
                    thead { tr { th { "slice" } th.num { "rows" } th { "share" } } }
                    tbody {
                        @for s in &p.slices {
                            @let name = crate::report::slice_name(&s.slice);
                            tr data-slice=(name) {
                                td { (name) }
                                td.num { (s.num_rows) }
                                @let pct = 100.0 * share(s.num_rows);
                                td {
                                    span.bar { span.share style={ "width:" (format!("{pct:.1}")) "%" } {} }
                                    " " (format!("{pct:.1}%"))
                                }
                            }
                        }
                    }
                } }
            }
        };
    };
    // The features that drifted (or were left undecided) in a slice, in
    // the page's order, linked to their sections.
    let flagged: std::collections::HashSet<&str> = c
        .slices
        .iter()
        .flat_map(|s| &s.features)
        .filter(|f| f.drifted || !f.undecided.is_empty())
        .map(|f| f.name.as_str())
        .collect();
    let columns: Vec<&Feature> = features
        .iter()
        .filter(|f| flagged.contains(f.p.name.as_str()))
        .collect();
    let moved = c
        .slices
        .iter()
        .filter(|s| s.features.iter().any(|f| f.drifted))
        .count();
    html! {
        section #slices {
            h2 { (title) " (" (c.slices.len()) ")" }
            p {
                "Drift in " (moved) " of " (c.slices.len()) " slices, each against the same slice of the base. "
                @if columns.is_empty() { "No feature drifted in any slice." }
                @else { "A column per feature that drifted, or was left undecided, in some slice; hover a cell for its reason." }
            }
            div.table-wrap { table.slices {
                thead { tr {
                    th { "slice" } th.num { "base rows" } th.num { "current rows" }
                    @for f in &columns { th.feature { a href={ "#" (f.id) } { (f.p.name) } } }
                } }
                tbody {
                    @for s in &c.slices {
                        @let name = crate::report::slice_name(&s.slice);
                        @let drifted = s.features.iter().filter(|f| f.drifted).count();
                        @let by_name: std::collections::HashMap<&str, &FeatureComparison> =
                            s.features.iter().map(|f| (f.name.as_str(), f)).collect();
                        tr data-slice=(name) data-drifts=(drifted) {
                            td { (name) }
                            td.num { (s.base_rows.map_or("-".into(), |n| n.to_string())) }
                            td.num { (s.current_rows.map_or("-".into(), |n| n.to_string())) }
                            @for f in &columns {
                                @match by_name.get(f.p.name.as_str()) {
                                    Some(x) => {
                                        @let st = status(x);
                                        td class={ "cell " (st.to_lowercase()) } data-column=(x.name) data-status=(st)
                                            title={ (name) ", " (x.name) ": " (x.reason) } {
                                            @if st != "ok" { (st) }
                                        }
                                    }
                                    None => td.cell data-column=(f.p.name) data-status="-" title={ (name) ": not compared" } { "-" },
                                }
                            }
                        }
                    }
                }
            } }
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
                    // A feature only in the base: the base's numbers.
                    @let rows = if f.only_base { r.base.map_or(0, |b| b.num_rows) } else { r.current.num_rows };
                    @let missing = if rows > 0 { f.p.missing as f64 / rows as f64 } else { 0.0 };
                    tr data-for=(f.id) {
                        td { a href={ "#" (f.id) } { (f.p.name) } @if f.only_base { " (base only)" } }
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
                        @for v in [num.and_then(|n| n.min), num.and_then(|n| n.quantile(0.5)), num.and_then(|n| n.max)] {
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

fn section(f: &Feature, r: &Report) -> Markup {
    let compared = r.comparison.is_some();
    let concept = f.cmp.and_then(|c| c.concept.as_ref());
    html! {
        section.feature id=(f.id) data-feature=(f.p.name) data-kind=(f.kind())
            data-drifted=(f.drifted()) data-anomalies=(f.anomalies.len())
            data-concept=[concept.map(|c| c.drifted)] {
            h2 {
                (f.p.name) " "
                small { (f.p.type_name) ", " (f.kind()) }
                @if let Some(c) = f.cmp { " " (status_badge(c)) }
                @if concept.is_some_and(|c| c.drifted) { " " span.badge.drift { "CONCEPT" } }
                @if !f.anomalies.is_empty() {
                    " " span.badge.anomaly { (f.anomalies.len()) @if f.anomalies.len() == 1 { " anomaly" } @else { " anomalies" } }
                }
            }
            @if f.only_base { p.note { "Only in the base: the charts and numbers are the base's." } }
            @else if compared && f.base.is_none() { p.note { "Not in the base." } }
            div.charts {
                @if f.p.numeric.is_some() { (numeric_charts(f)) }
                @if f.p.categorical.is_some() { (categorical_chart(f)) }
                (label_chart(f, r))
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

/// The schema's int or float bounds.
fn schema_bounds(s: &FeatureSchema) -> impl Iterator<Item = &crate::schema::Bounds> {
    [&s.int_bounds, &s.float_bounds].into_iter().flatten()
}

/// The schema's bounds as marks on the value axis.
fn bound_marks(f: &Feature) -> Vec<Mark> {
    let Some(s) = f.schema else { return Vec::new() };
    let mut out = Vec::new();
    for b in schema_bounds(s) {
        for (v, label) in [(b.min, "min bound"), (b.max, "max bound")] {
            if let Some(v) = v {
                out.push(Mark {
                    at: v.as_f64(),
                    label: label.into(),
                });
            }
        }
    }
    out
}

/// The equal-width buckets of one side as bars of their share of its
/// finite values.
fn histogram_bars(n: &NumericStats) -> Vec<Bar> {
    // In f64: a hand-edited profile's counts may not add up in a u64.
    let total: f64 = n.histogram.iter().map(|b| b.count as f64).sum();
    n.histogram
        .iter()
        .filter(|b| b.low.is_finite() && b.high.is_finite())
        .map(|b| Bar {
            lo: b.low,
            hi: b.high,
            height: if total > 0.0 {
                b.count as f64 / total
            } else {
                0.0
            },
        })
        .collect()
}

/// The base's bars made comparable with the current's: where the two sides'
/// buckets differ in width (by more than 1%), each base height becomes its
/// share per bucket of the current's width (a density, which can exceed
/// 100% where the base is concentrated). True when it rescaled.
fn rescale(base: &mut [Bar], current: &[Bar]) -> bool {
    let width = |bars: &[Bar]| bars.first().map(|b| b.hi - b.lo).filter(|w| *w > 0.0);
    let (Some(cw), Some(bw)) = (width(current), width(base)) else {
        return false;
    };
    if (cw - bw).abs() <= 0.01 * cw.max(bw) {
        return false;
    }
    for b in base.iter_mut() {
        b.height *= cw / bw;
    }
    true
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

fn numeric_charts(f: &Feature) -> Markup {
    let ty = f.p.type_name.clone();
    let label = move |v: f64| super::terminal::float_text(&ty, v);
    let (cur, base) = f.sides();
    let (cn, bn) = (
        cur.and_then(|p| p.numeric.as_ref()),
        base.and_then(|p| p.numeric.as_ref()),
    );
    let cur_bars = cn.map(histogram_bars).unwrap_or_default();
    let mut base_bars = bn.map(histogram_bars);
    let rescaled = base_bars.as_mut().is_some_and(|b| rescale(b, &cur_bars));
    let marks = bound_marks(f);
    let exact = [cn, bn].into_iter().flatten().all(|n| n.histograms_exact);
    let approx = if exact { "" } else { " (approximate)" };
    let title = format!(
        "{}: equal-width histogram, share of finite values per bucket{approx}",
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
                current: &cur_bars,
                base: base_bars.as_deref(),
                marks: &marks,
                label: &label,
                density: rescaled,
            }))
            figcaption {
                "Equal-width histogram" (approx)
                @if rescaled { br; "base: density, its share per bucket of the current's width" }
            }
        }
        figure {
            (chart::cumulative(
                &cdf_title,
                &cn.map(|n| cumulative_points(&n.quantile_histogram)).unwrap_or_default(),
                bn.map(|b| cumulative_points(&b.quantile_histogram)).as_deref(),
                &marks,
                &label,
            ))
            figcaption { "Quantile histogram (cumulative)" (approx) }
        }
    }
}

/// The shares of `labels` among a side's values (of a list column: among
/// its elements, as compare counts them), in one pass over its value
/// counts. None where the side cannot tell: the value may be among its
/// uncounted "other" values.
fn shares(p: &FeatureProfile, labels: &[String]) -> Vec<Option<f64>> {
    use std::collections::HashMap;
    let Some(c) = &p.categorical else {
        return vec![None; labels.len()];
    };
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let mut counts = vec![None; labels.len()];
    let mut total = c.other_count as f64;
    for v in &c.value_counts {
        total += v.count as f64;
        // The label (allocated only for bytes that are not UTF-8).
        let key = match &v.value_hex {
            Some(_) => std::borrow::Cow::Owned(v.label()),
            None => std::borrow::Cow::Borrowed(v.value.as_str()),
        };
        if let Some(&i) = index.get(key.as_ref()) {
            counts[i] = Some(v.count);
        }
    }
    counts
        .into_iter()
        .map(|n| match n {
            _ if total == 0.0 => Some(0.0),
            Some(n) => Some(n as f64 / total),
            None if c.other_count == 0 => Some(0.0),
            None => None,
        })
        .collect()
}

/// The values drawn: the current's top values, then up to a quarter of the
/// rows for the base's top values that are not among them, and always the
/// value where L-infinity is reached.
fn top_labels(
    cur: Option<&FeatureProfile>,
    base: Option<&FeatureProfile>,
    linf_at: Option<&str>,
) -> Vec<String> {
    let top = |p: Option<&FeatureProfile>| -> Vec<String> {
        p.and_then(|p| p.categorical.as_ref())
            .map(|c| c.top_values.iter().map(|v| v.label()).collect())
            .unwrap_or_default()
    };
    let (ct, bt) = (top(cur), top(base));
    let extra: Vec<String> = bt.into_iter().filter(|l| !ct.contains(l)).collect();
    let room = if cur.is_some() {
        TOP_ROWS / 4
    } else {
        TOP_ROWS
    };
    let extra = &extra[..extra.len().min(room)];
    let fits =
        |n: usize, at: &str| ct.iter().take(n).any(|l| l == at) || extra.iter().any(|l| l == at);
    let linf = linf_at.filter(|at| !fits(TOP_ROWS - extra.len(), at));
    let take = TOP_ROWS - extra.len() - usize::from(linf.is_some());
    ct.iter()
        .take(take)
        .chain(extra)
        .cloned()
        .chain(linf.map(str::to_string))
        .collect()
}

fn categorical_chart(f: &Feature) -> Markup {
    let Some(c) = &f.p.categorical else {
        return html! {};
    };
    let (cur, base) = f.sides();
    let linf_at = f.cmp.and_then(|c| c.linf_at.as_deref());
    let labels = top_labels(cur, base, linf_at);
    let cur_shares = cur.map(|p| shares(p, &labels));
    let base_shares = base.map(|p| shares(p, &labels));
    let domain = f.schema.and_then(|s| s.domain.as_ref());
    let rows: Vec<ValueRow> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| ValueRow {
            label: value_label(l),
            current: cur_shares.as_ref().and_then(|s| s[i]),
            base: base_shares.as_ref().and_then(|s| s[i]),
            mark: f
                .cmp
                .filter(|_| linf_at == Some(l.as_str()))
                .and_then(|c| c.metrics.linf)
                .map(|l| format!("L∞ {l:.3}")),
            unexpected: domain.is_some_and(|d| !d.contains(l)),
        })
        .collect();
    let shown = rows.len();
    let title = format!("{}: top {shown} values, share of values", f.p.name);
    html! {
        figure.wide {
            (chart::top_values(&title, &rows, cur.is_some(), base.is_some()))
            figcaption {
                "Top values: " (shown) " shown; " @if c.unique_exact { "" } @else { "~" } (c.unique) " distinct"
                @if f.only_base { " in the base" }
                @if cur.is_some() && base.is_some() { " in the current; shares current / base" }
            }
        }
    }
}

/// Where the profile is labelled by numbers: the label's mean in each bin
/// of the feature, against the base's where it is labelled by the same
/// column as numbers (as compare binned them), the bin where the concept
/// moved most marked.
fn means_chart(f: &Feature, r: &Report, label: &str) -> Markup {
    let base = r.base.filter(|b| {
        b.label.as_deref() == Some(label)
            && crate::compare::target::of_numbers(b)
            && f.base.is_some()
    });
    let bins = r
        .comparison
        .map_or(r.current.options.quantile_bins, |c| c.options.bins);
    let Some(m) = crate::compare::target::means(r.current, base, &f.p.name, bins) else {
        return html! {};
    };
    let concept = f.cmp.and_then(|c| c.concept.as_ref());
    let rows: Vec<ValueRow> = m
        .bins
        .iter()
        .enumerate()
        .map(|(i, b)| ValueRow {
            label: value_label(b),
            current: m.current[i],
            base: m.base[i],
            mark: concept
                .filter(|c| c.drifted && c.bin.as_deref() == Some(b.as_str()))
                .map(|c| format!("concept {:.3}", c.value)),
            unexpected: false,
        })
        .collect();
    let title = format!("{}: mean of {label} in each bin", f.p.name);
    html! {
        figure.wide {
            (chart::means(&title, &rows, base.is_some(), |v| float(Some(v))))
            figcaption {
                "E[" (label) " | " (f.p.name) "], bin by bin"
                @if base.is_some() { "; current / base" }
                @if let Some(c) = concept {
                    "; concept shift " (format!("{:.4}", c.value)) " (in standard deviations of " (label) "), p " (format!("{:.2e}", c.p_value))
                    @if c.drifted { " (shifted)" }
                }
            }
        }
    }
}

/// Where the profile is labelled: the share of one class of the label in
/// each bin of the feature, against the base's where it is labelled by
/// the same column (as compare binned them), the bin where the concept
/// moved most marked. The class drawn is the one whose share moved most
/// (without a base: the second largest, the minority of a binary label).
fn label_chart(f: &Feature, r: &Report) -> Markup {
    let Some(label) = r.current.label.as_deref() else {
        return html! {};
    };
    if f.only_base {
        return html! {};
    }
    if crate::compare::target::of_numbers(r.current) {
        return means_chart(f, r, label);
    }
    let base = r
        .base
        .filter(|b| b.label.as_deref() == Some(label) && f.base.is_some());
    let bins = r
        .comparison
        .map_or(r.current.options.quantile_bins, |c| c.options.bins);
    let Some(sh) = crate::compare::concept::shares(r.current, base, &f.p.name, bins) else {
        return html! {};
    };
    let moved = |c: usize| -> f64 {
        sh.current
            .iter()
            .zip(&sh.base)
            .filter_map(|(x, y)| Some((x.as_ref()?[c] - y.as_ref()?[c]).abs()))
            .sum()
    };
    let class = match base {
        Some(_) => {
            (0..sh.classes.len()).max_by(|&a, &b| moved(a).total_cmp(&moved(b)).then(b.cmp(&a)))
        }
        None => Some(usize::from(sh.classes.len() > 1)),
    };
    // No classes (no rows): nothing to draw.
    let Some(class) = class.filter(|&c| c < sh.classes.len()) else {
        return html! {};
    };
    let concept = f.cmp.and_then(|c| c.concept.as_ref());
    let rows: Vec<ValueRow> = sh
        .bins
        .iter()
        .enumerate()
        .map(|(i, b)| ValueRow {
            label: value_label(b),
            current: sh.current[i].as_ref().map(|s| s[class]),
            base: sh.base[i].as_ref().map(|s| s[class]),
            mark: concept
                .filter(|c| c.drifted && c.bin.as_deref() == Some(b.as_str()))
                .map(|c| format!("concept {:.3}", c.value)),
            unexpected: false,
        })
        .collect();
    let name = sh.classes[class]
        .as_deref()
        .map_or_else(|| "null".into(), value_label);
    let title = format!("{}: share of {label} = {name} in each bin", f.p.name);
    html! {
        figure.wide {
            (chart::top_values(&title, &rows, true, base.is_some()))
            figcaption {
                "P(" (label) " = " (name) " | " (f.p.name) "), bin by bin"
                @if base.is_some() { "; current / base" }
                @if let Some(c) = concept {
                    "; concept shift " (format!("{:.4}", c.value)) ", p " (format!("{:.2e}", c.p_value))
                    @if c.drifted { " (shifted)" }
                }
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
            @if let Some(v) = &p.values_per_row {
                div { dt { "values per row" } dd {
                    (v.min.map_or("-".into(), |x| x.to_string())) " to " (v.max.map_or("-".into(), |x| x.to_string()))
                    ", mean " (float(v.mean))
                } }
            }
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
                    @let unseen: Vec<&String> = match f.sides().0 {
                        Some(p) => d.iter().zip(shares(p, d)).filter(|(_, s)| *s == Some(0.0)).map(|(v, _)| v).collect(),
                        None => Vec::new(),
                    };
                    @if !unseen.is_empty() {
                        div { dt { "domain values not seen" } dd {
                            (unseen.len()) ": "
                            (unseen.iter().take(30).map(|v| ellipsize(&value_label(v), 24)).collect::<Vec<_>>().join(", "))
                            @if unseen.len() > 30 { ", …" }
                        } }
                    }
                    div { dt { "domain" } dd {
                        (d.len()) " values: "
                        (d.iter().take(30).map(|v| ellipsize(&value_label(v), 24)).collect::<Vec<_>>().join(", "))
                        @if d.len() > 30 { ", …" }
                    } }
                }
                @for b in schema_bounds(s) {
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
    use crate::profile::{CategoricalStats, ValueCount};

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

    #[test]
    fn counts_beyond_a_u64_sum_do_not_overflow() {
        // What the fuzz run found in a hand-edited profile.
        let qb = |count| QuantileBucket {
            low: Num::Int(0),
            high: Num::Int(1),
            count,
        };
        let p = cumulative_points(&[qb(u64::MAX), qb(u64::MAX)]);
        assert_eq!(p.last(), Some(&(1.0, 1.0)));
    }

    fn bars(lo: f64, width: f64, heights: &[f64]) -> Vec<Bar> {
        heights
            .iter()
            .enumerate()
            .map(|(i, &h)| Bar {
                lo: lo + i as f64 * width,
                hi: lo + (i + 1) as f64 * width,
                height: h,
            })
            .collect()
    }

    #[test]
    fn base_heights_rescale_only_where_bucket_widths_differ() {
        let cur = bars(0.0, 10.0, &[0.5, 0.5]);
        // Same width (within 1%): shares as they are.
        let mut same = bars(0.0, 10.05, &[0.25, 0.75]);
        assert!(!rescale(&mut same, &cur));
        assert_eq!(same[1].height, 0.75);
        // Half the width: twice the height per current-width bucket.
        let mut narrow = bars(0.0, 5.0, &[0.8, 0.2]);
        assert!(rescale(&mut narrow, &cur));
        assert_eq!((narrow[0].height, narrow[1].height), (1.6, 0.4));
        // A constant side (no width) is not rescaled.
        let mut constant = vec![Bar {
            lo: 1.0,
            hi: 1.0,
            height: 1.0,
        }];
        assert!(!rescale(&mut constant, &cur));
    }

    fn feature(values: &[(&str, u64)], other: u64, top: usize) -> FeatureProfile {
        let vc: Vec<ValueCount> = values
            .iter()
            .map(|&(v, n)| ValueCount::of_bytes(v.as_bytes(), n))
            .collect();
        FeatureProfile {
            name: "f".into(),
            type_name: "list<utf8>".into(),
            kind: crate::profile::Kind::Categorical,
            // Rows, not values: shares are of values, as compare counts.
            count: 1,
            missing: 0,
            computed_on: "cpu".into(),
            values_per_row: None,
            numeric: None,
            categorical: Some(CategoricalStats {
                unique: values.len() as u64,
                unique_exact: other == 0,
                unique_rel_std_error: None,
                top_values: vc.iter().take(top).cloned().collect(),
                min_length: None,
                max_length: None,
                mean_length: None,
                invalid_utf8: None,
                value_counts: vc,
                other_count: other,
                other_hll: None,
            }),
            label_table: None,
            label_means: None,
        }
    }

    #[test]
    fn shares_are_of_values_and_unknown_among_other_values() {
        let labels = vec!["a".to_string(), "b".into(), "zz".into()];
        let p = feature(&[("a", 6), ("b", 2)], 0, 2);
        assert_eq!(shares(&p, &labels), vec![Some(0.75), Some(0.25), Some(0.0)]);
        // With uncounted values, an absent value's share is unknown.
        let q = feature(&[("a", 6), ("b", 2)], 2, 2);
        assert_eq!(shares(&q, &labels), vec![Some(0.6), Some(0.2), None]);
    }

    #[test]
    fn top_rows_keep_room_for_the_base_and_the_linf_value() {
        let names: Vec<String> = (0..30).map(|i| format!("c{i:02}")).collect();
        let cur_values: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 10)).collect();
        let cur = feature(&cur_values, 0, 20);
        let base = feature(&[("b0", 50), ("c00", 5), ("b1", 4)], 0, 3);
        let labels = top_labels(Some(&cur), Some(&base), Some("c29"));
        assert_eq!(labels.len(), TOP_ROWS);
        // The base's own top values are drawn, and so is where L∞ is.
        assert!(labels.contains(&"b0".to_string()) && labels.contains(&"b1".to_string()));
        assert_eq!(labels.last().unwrap(), "c29");
        assert_eq!(labels[0], "c00");
        // Only the base: its top values.
        assert_eq!(top_labels(None, Some(&base), None), ["b0", "c00", "b1"]);
    }
}
