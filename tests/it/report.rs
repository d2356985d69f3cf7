//! `skewer report` and the terminal output: the page's contract (self
//! contained, deterministic, escaped, the DOM attributes), its size at
//! 1,000 features, the page working in a real browser, and tables that fit
//! the terminal.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use serde_json::json;

use super::browser;
use super::common::*;

/// The bundled pair: its report with an inferred schema (made once for the
/// tests that read it), and the drifted features `examples/truth.json`
/// names.
struct Bundled {
    _dir: tempfile::TempDir,
    page: PathBuf,
    html: String,
}

fn bundled() -> &'static Bundled {
    static B: OnceLock<Bundled> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tmp();
        let schema = dir.path().join("schema.json");
        let page = dir.path().join("report.html");
        let o = skewer(&[
            "schema",
            "infer",
            "examples/train.parquet",
            "--bounds",
            "-o",
            schema.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        report_of_the_pair(&schema, &page);
        let html = std::fs::read_to_string(&page).unwrap();
        Bundled {
            _dir: dir,
            page,
            html,
        }
    })
}

/// `skewer report` of the bundled pair with a schema, to `page`.
fn report_of_the_pair(schema: &Path, page: &Path) {
    let o = skewer(&[
        "report",
        "examples/serve.parquet",
        "--base",
        "examples/train.parquet",
        "--schema",
        schema.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn truth_shifted() -> BTreeSet<String> {
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("examples/truth.json").unwrap()).unwrap();
    t["shifted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The value of `attr="…"` in each opening tag of `html` that has it,
/// unescaped for the entities maud writes.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            let v = &rest[..rest.find('"').unwrap()];
            v.replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The sections of the page: (the text of each opening `<section
/// class="feature" …>` tag, its content up to the next section).
fn sections(html: &str) -> Vec<&str> {
    html.split("<section class=\"feature\"").skip(1).collect()
}

#[test]
fn report_is_self_contained_deterministic_and_keeps_the_dom_contract() {
    let b = bundled();
    // No network and no other file: every link is an anchor or data:, no
    // element loads a source.
    for href in attr_values(&b.html, "href") {
        assert!(
            href.starts_with('#') || href.starts_with("data:"),
            "external link {href:?}"
        );
    }
    for bad in [" src=", "http://", "https://", "@import", "url(http"] {
        assert!(!b.html.contains(bad), "the page contains {bad:?}");
    }
    // The same inputs, the same bytes.
    let dir = tmp();
    let again = dir.path().join("again.html");
    let schema = b.page.with_file_name("schema.json");
    report_of_the_pair(&schema, &again);
    assert!(std::fs::read(&again).unwrap() == b.html.as_bytes());
    // Every feature has a section with the contract's attributes and its
    // charts; the drifted ones are those truth.json planted.
    let secs = sections(&b.html);
    assert_eq!(secs.len(), 20);
    let mut drifted = BTreeSet::new();
    let mut names = BTreeSet::new();
    for s in &secs {
        let tag = &s[..s.find('>').unwrap()];
        let name = attr_values(tag, "data-feature").remove(0);
        let kind = attr_values(tag, "data-kind").remove(0);
        let d = attr_values(tag, "data-drifted").remove(0);
        let n: usize = attr_values(tag, "data-anomalies")[0].parse().unwrap();
        assert!(kind == "numeric" || kind == "categorical", "{kind}");
        assert!(d == "true" || d == "false");
        if d == "true" {
            drifted.insert(name.clone());
        }
        let charts = s.matches("<svg").count();
        assert_eq!(charts, if kind == "numeric" { 2 } else { 1 }, "{name}");
        assert_eq!(
            s.matches("class=\"badge anomaly\"").count() > 0,
            n > 0,
            "{name}"
        );
        names.insert(name);
    }
    assert_eq!(drifted, truth_shifted());
    assert_eq!(names.len(), 20);
    // Every link leads to a section of the page, the anomalies' included.
    assert!(b.html.contains("<section id=\"anomalies\">"));
    assert!(b.html.contains("FLOAT_TYPE_BIG_FLOAT"));
    let ids: BTreeSet<String> = attr_values(&b.html, "id").into_iter().collect();
    let links = attr_values(&b.html, "href");
    assert!(links.len() > 20 + 27, "{} links", links.len());
    for href in links.iter().filter(|h| h.starts_with('#')) {
        assert!(ids.contains(&href[1..]), "{href} leads nowhere");
    }
}

#[test]
fn report_escapes_what_comes_from_the_data_and_shows_dates() {
    let dir = tmp();
    let data = dir.path().join("odd.parquet");
    let name = "<script>alert(\"x\")</script>";
    let n = 300;
    let values: Vec<&str> = (0..n)
        .map(|i| match i % 3 {
            0 => "",
            1 => "<b>&'\"",
            _ => "plain",
        })
        .collect();
    let days: Vec<i32> = (0..n).map(|i| 19_723 + i).collect();
    // Bytes that are not UTF-8.
    let bytes: Vec<&[u8]> = (0..n)
        .map(|i| if i % 2 == 0 { &[0xff, 0x3c][..] } else { b"ok" })
        .collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new(name, DataType::Utf8, false),
            Field::new("day", DataType::Date32, false),
            Field::new("raw", DataType::Binary, false),
        ])),
        vec![
            Arc::new(StringArray::from(values)),
            Arc::new(Date32Array::from(days)),
            Arc::new(BinaryArray::from(bytes)),
        ],
    )
    .unwrap();
    write_parquet(&data, &[batch], parquet::basic::Compression::SNAPPY, 100);
    let page = dir.path().join("odd.html");
    let o = skewer(&[
        "report",
        data.to_str().unwrap(),
        "--base",
        data.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script>alert"), "a name was not escaped");
    assert!(!html.contains("<b>&"), "a value was not escaped");
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert_eq!(attr_values(&html, "data-feature")[0], name);
    // The page's only script is its own.
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(html.contains("(empty string)"));
    // Invalid UTF-8 as its bytes, as profiles label it; valid text stays.
    assert!(
        html.contains("0xff3c") && !html.contains('\u{fffd}'),
        "binary"
    );
    // Dates as dates: 2024-01-01 is day 19723.
    assert!(
        html.contains("2024-01-01") && html.contains("2024-10-26"),
        "dates"
    );
}

#[test]
fn report_of_1000_features_stays_a_few_megabytes() {
    // 500 numeric and 500 string columns, 400 rows, as CSV.
    let dir = tmp();
    let csv = dir.path().join("wide.csv");
    let mut rng = Rng::new(11);
    let mut text = String::new();
    let header: Vec<String> = (0..1000)
        .map(|i| {
            if i % 2 == 0 {
                format!("num_{i}")
            } else {
                format!("cat_{i}")
            }
        })
        .collect();
    text.push_str(&header.join(","));
    text.push('\n');
    for _ in 0..400 {
        let row: Vec<String> = (0..1000)
            .map(|i| {
                if i % 2 == 0 {
                    format!("{:.4}", rng.normal() * (1 + i) as f64)
                } else {
                    format!("v{}", rng.below(30))
                }
            })
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(&csv, text).unwrap();
    let page = dir.path().join("wide.html");
    let o = skewer(&[
        "report",
        csv.to_str().unwrap(),
        "--base",
        csv.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(sections(&html).len(), 1000);
    let mb = html.len() as f64 / 1e6;
    eprintln!("report of 1000 features (500 numeric, 500 with 30 values): {mb:.2} MB");
    assert!(mb < 5.0, "{mb:.2} MB");
}

#[test]
fn html_next_to_profile_compare_and_validate() {
    let dir = tmp();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let (p, c, v, schema) = (
        path("p.html"),
        path("c.html"),
        path("v.html"),
        path("s.json"),
    );
    let o = skewer(&["profile", "examples/train.parquet", "--html", &p, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The summary is still printed.
    assert!(String::from_utf8_lossy(&o.stdout).contains("1500 rows, 20 columns"));
    let o = skewer(&[
        "compare",
        "examples/train.parquet",
        "examples/serve.parquet",
        "--html",
        &c,
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = skewer(&[
        "schema",
        "infer",
        "examples/train.parquet",
        "-o",
        &schema,
        "--quiet",
    ]);
    assert!(o.status.success());
    let o = skewer(&[
        "validate",
        "examples/serve.parquet",
        "--schema",
        &schema,
        "--previous",
        "examples/train.parquet",
        "--html",
        &v,
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let read = |f: &str| std::fs::read_to_string(f).unwrap();
    let drifted = |html: &str| {
        sections(html)
            .iter()
            .filter(|s| s[..s.find('>').unwrap()].contains("data-drifted=\"true\""))
            .count()
    };
    let (ph, ch, vh) = (read(&p), read(&c), read(&v));
    for h in [&ph, &ch, &vh] {
        assert_eq!(sections(h).len(), 20);
    }
    assert_eq!(drifted(&ph), 0);
    assert_eq!(drifted(&ch), 5);
    assert_eq!(drifted(&vh), 5);
    assert!(vh.contains("<section id=\"anomalies\">") && !ch.contains("id=\"anomalies\""));
    // compare profiles in one pass: its charts say their histograms are
    // approximate; profile's (two passes) and report's are exact.
    assert!(ch.contains("(approximate)") && vh.contains("(approximate)"));
    assert!(!ph.contains("(approximate)") && !bundled().html.contains("(approximate)"));
    // A report over an input or over the command's other output is refused
    // before any work.
    let json = path("c.json");
    fails_with(
        &[
            "compare",
            "examples/train.parquet",
            "examples/serve.parquet",
            "-o",
            &json,
            "--html",
            &json,
        ],
        &["--html would write over an input or another output"],
    );
    fails_with(
        &[
            "profile",
            "examples/train.parquet",
            "-o",
            &json,
            "--html",
            &json,
        ],
        &["--html would write over"],
    );
    assert!(!Path::new(&json).exists());
    fails_with(
        &[
            "profile",
            "examples/train.parquet",
            "--html",
            "examples/train.parquet",
        ],
        &["--html would write over an input"],
    );
    fails_with(
        &[
            "report",
            "examples/train.parquet",
            "-o",
            "examples/train.parquet",
        ],
        &["-o would write over an input"],
    );
}

fn lines_fit(out: &str, width: usize) {
    for l in out.lines() {
        assert!(
            l.chars().count() <= width,
            "{} > {width}: {l:?}",
            l.chars().count()
        );
    }
}

fn with_columns(cols: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_skewer"))
        .args(args)
        .env("COLUMNS", cols)
        .output()
        .unwrap()
}

#[test]
fn terminal_tables_fit_the_width_and_show_saved_profiles() {
    let dir = tmp();
    let json = dir.path().join("train.json");
    let o = skewer(&[
        "profile",
        "examples/train.parquet",
        "-o",
        json.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success());
    let o = skewer(&[
        "compare",
        "examples/train.parquet",
        "examples/serve.parquet",
        "--json",
        "--quiet",
    ]);
    let reasons =
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["features"].clone();
    for cols in ["60", "100"] {
        let w: usize = cols.parse().unwrap();
        let o = with_columns(cols, &["profile", "examples/train.parquet", "--quiet"]);
        let profile = String::from_utf8(o.stdout).unwrap();
        lines_fit(&profile, w);
        // A saved profile prints the same summary (its source named as
        // it was profiled).
        let o = with_columns(cols, &["show", json.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(String::from_utf8(o.stdout).unwrap(), profile);
        let o = with_columns(
            cols,
            &[
                "compare",
                "examples/train.parquet",
                "examples/serve.parquet",
                "--quiet",
            ],
        );
        let cmp = String::from_utf8(o.stdout).unwrap();
        lines_fit(&cmp, w);
        // Blocks cut nothing: every reason is there whole, wrapped.
        assert!(cmp.starts_with("5 of 20 features drifted"));
        assert!(cmp
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("(base: examples/train.parquet, 1500 rows; current: examples/serve.parquet, 1500 rows; threshold 0.03, alpha 0.0001)"));
        assert!(!cmp.contains('…'), "{cmp}");
        let flat = cmp.split_whitespace().collect::<Vec<_>>().join(" ");
        for f in reasons.as_array().unwrap() {
            let why = f["reason"].as_str().unwrap();
            let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&why), "{why:?} is not in {cmp}");
        }
    }
    // validate's anomalies, table and descriptions alike.
    let schema = dir.path().join("schema.json");
    let o = skewer(&[
        "schema",
        "infer",
        json.to_str().unwrap(),
        "--bounds",
        "-o",
        schema.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let o = with_columns(
        "60",
        &[
            "validate",
            "examples/serve.parquet",
            "--schema",
            schema.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let anomalies = String::from_utf8(o.stdout).unwrap();
    assert!(anomalies.contains("FLOAT_TYPE_BIG_FLOAT"));
    lines_fit(&anomalies, 60);
    // Wide enough: one row per feature, as before.
    let o = with_columns("400", &["profile", "examples/train.parquet", "--quiet"]);
    let wide = String::from_utf8(o.stdout).unwrap();
    assert_eq!(wide.lines().count(), 2 + 2 + 20);
    // The empty string is named; zero counts are not noise.
    assert!(wide.contains("top (empty string) (25)"), "{wide}");
    assert!(!wide.contains("zeros 0"), "{wide}");
    assert!(wide.contains("zeros 438"));
    // show reads profiles only, with a hint.
    fails_with(&["show", "examples/train.parquet"], &["skewer profile"]);
}

#[test]
fn report_works_in_a_real_browser() {
    let Some(b) = browser::browser() else { return };
    let page = &bundled().page;
    b.open(page);
    // The page as it opens, before any click.
    let top = b.screenshot();
    let count = |css: &str| -> usize {
        b.js(
            "return Array.from(document.querySelectorAll(arguments[0])).filter(e => !e.hidden).length;",
            json!([css]),
        )
        .as_u64()
        .unwrap() as usize
    };
    let visible_names = || -> BTreeSet<String> {
        b.js(
            "return Array.from(document.querySelectorAll('section[data-feature]')).filter(s => !s.hidden && s.offsetParent !== null).map(s => s.dataset.feature);",
            json!([]),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
    };
    // Every feature, each with its charts; the drifted ones marked.
    assert_eq!(count("section[data-feature]"), 20);
    assert_eq!(count("section[data-feature] svg"), 2 * 14 + 6);
    let marked: BTreeSet<String> = b
        .js(
            "return Array.from(document.querySelectorAll('section[data-drifted=\"true\"]')).map(s => s.dataset.feature);",
            json!([]),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(marked, truth_shifted());
    // Filter: drifted only (a real click), then by name and kind.
    b.click("#drifted-only");
    assert_eq!(visible_names(), truth_shifted());
    assert_eq!(count("#features tbody tr"), 5);
    assert_eq!(
        b.js(
            "return document.getElementById('shown').textContent;",
            json!([])
        ),
        "5 of 20 features"
    );
    b.click("#drifted-only");
    b.keys("#filter", "f_n");
    assert_eq!(
        visible_names(),
        BTreeSet::from(["f_normal".to_string(), "f_nan_inf".to_string()])
    );
    b.js(
        "const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input'));",
        json!([]),
    );
    assert_eq!(count("section[data-feature]"), 20);
    b.click("#anomalies-only");
    let with_anomalies = visible_names();
    assert!(!with_anomalies.is_empty() && with_anomalies.len() < 20);
    assert!(with_anomalies.contains("f_normal"));
    b.click("#anomalies-only");
    // Sort from the keyboard: Enter on the "count" header's button; again
    // for the other way.
    let col = b
        .js(
            "return Array.from(document.querySelectorAll('#features th button')).find(b => b.textContent === 'count').dataset.col;",
            json!([]),
        )
        .as_str()
        .unwrap()
        .to_string();
    let button = format!("#features th button[data-col=\"{col}\"]");
    let counts = || -> Vec<f64> {
        b.js(
            "return Array.from(document.querySelectorAll('#features tbody tr')).map(r => Number(r.cells[arguments[0]].dataset.v));",
            json!([col.parse::<usize>().unwrap()]),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
    };
    b.keys(&button, "\u{E007}");
    let up = counts();
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    assert!(up.first() < up.last());
    b.keys(&button, "\u{E007}");
    let down = counts();
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    assert_eq!(
        b.js(
            "return document.querySelector(arguments[0]).parentElement.getAttribute('aria-sort');",
            json!([button])
        ),
        "descending"
    );
    // Text sorts as text; "-" (no median: categorical) after the numbers.
    let column = |name: &str| -> (String, Vec<String>) {
        let col = b.js(
            "return Array.from(document.querySelectorAll('#features th button')).find(b => b.textContent === arguments[0]).dataset.col;",
            json!([name]),
        );
        let col = col.as_str().unwrap().to_string();
        let cells = b.js(
            "return Array.from(document.querySelectorAll('#features tbody tr')).map(r => r.cells[arguments[0]].textContent.trim());",
            json!([col.parse::<usize>().unwrap()]),
        );
        let cells = cells
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        (format!("#features th button[data-col=\"{col}\"]"), cells)
    };
    let (feature_button, _) = column("feature");
    b.click(&feature_button);
    let (_, names) = column("feature");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);
    let (median_button, _) = column("median");
    b.click(&median_button);
    let (_, medians) = column("median");
    let dashes = medians.iter().position(|m| m == "-").unwrap();
    assert_eq!(dashes, 14, "{medians:?}");
    assert!(medians[dashes..].iter().all(|m| m == "-"));
    let numbers: Vec<f64> = medians[..dashes]
        .iter()
        .map(|m| m.parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{numbers:?}");
    // The log-scale switch shows the log charts instead.
    let shown_layers = || {
        b.js(
            "const s = document.querySelector('section[data-feature=\"f_lognormal\"]'); return [getComputedStyle(s.querySelector('g.lin')).display, getComputedStyle(s.querySelector('g.log')).display];",
            json!([]),
        )
    };
    assert_eq!(shown_layers(), json!(["inline", "none"]));
    b.click("#log-scale");
    assert_eq!(shown_layers(), json!(["none", "inline"]));
    b.click("#log-scale");
    // No console errors.
    let errors: Vec<_> = b
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    // (The check sees an error where there is one.)
    b.js("console.error('probe');", json!([]));
    assert!(b
        .console()
        .iter()
        .any(|(level, m)| level == "SEVERE" && m.contains("probe")));
    // A screenshot of the top and of a drifted feature: not blank, with the
    // current data's colour (#2b6cb0) drawn.
    let shot = |name: &str| {
        b.js(
            "document.querySelector(`section[data-feature=\"${arguments[0]}\"]`).scrollIntoView();",
            json!([name]),
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
        b.screenshot()
    };
    let (numeric, categorical) = (shot("f_exp_outliers"), shot("s_low"));
    for (what, png) in [
        ("top", &top),
        ("numeric", &numeric),
        ("categorical", &categorical),
    ] {
        let (w, h, px) = browser::pixels(png);
        assert!(w >= 1000 && h >= 700, "{what}: {w}x{h}");
        let ink = px
            .iter()
            .filter(|p| p[0] < 200 || p[1] < 200 || p[2] < 200)
            .count();
        assert!(
            ink * 100 > px.len(),
            "{what}: blank ({ink} of {} pixels)",
            px.len()
        );
        let blue = px
            .iter()
            .filter(|p| {
                p[0].abs_diff(0x2b) < 8 && p[1].abs_diff(0x6c) < 8 && p[2].abs_diff(0xb0) < 8
            })
            .count();
        if what != "top" {
            assert!(blue > 500, "{what}: no chart drawn ({blue} blue pixels)");
        }
        // SKEWER_SCREENSHOTS=docs keeps them (docs/report-*.png).
        if let Ok(d) = std::env::var("SKEWER_SCREENSHOTS") {
            std::fs::write(Path::new(&d).join(format!("report-{what}.png")), png).unwrap();
        }
    }
}

#[test]
fn dates_and_timestamps_print_as_dates_in_tables_and_compare() {
    let dir = tmp();
    let write = |name: &str, first_day: i32| {
        let days: Vec<i32> = (0..300).map(|i| first_day + i).collect();
        let ms: Vec<i64> = (0..300)
            .map(|i| (i64::from(first_day) * 86_400 + 43_200 + i64::from(i % 60)) * 1000)
            .collect();
        // Midnight of each day, no time zone, in milliseconds (as CSV
        // timestamps are typed): still timestamps, not dates.
        let midnight: Vec<i64> = (0..300)
            .map(|i| i64::from(first_day + i) * 86_400_000)
            .collect();
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("day", DataType::Date32, false),
                Field::new(
                    "at",
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    false,
                ),
                Field::new(
                    "midnight",
                    DataType::Timestamp(TimeUnit::Millisecond, None),
                    false,
                ),
            ])),
            vec![
                Arc::new(Date32Array::from(days)),
                Arc::new(TimestampMillisecondArray::from(ms).with_timezone("UTC")),
                Arc::new(TimestampMillisecondArray::from(midnight)),
            ],
        )
        .unwrap();
        let p = dir.path().join(name);
        write_parquet(&p, &[batch], parquet::basic::Compression::SNAPPY, 100);
        p.to_str().unwrap().to_string()
    };
    // 2024-01-01 is day 19723; the current starts 100 days later.
    let (a, b) = (write("a.parquet", 19_723), write("b.parquet", 19_823));
    let o = with_columns("400", &["profile", &a, "--quiet"]);
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(
        table.contains("2024-01-01") && table.contains("2024-10-26"),
        "{table}"
    );
    assert!(table.contains("2024-01-01T12:00:00Z"), "{table}");
    assert!(table.contains("2024-01-01T00:00:00  "), "{table}");
    assert!(table.contains("days"), "std as a duration: {table}");
    let o = skewer(&["compare", &a, &b, "--json", "--quiet"]);
    let cmp: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for f in cmp["features"].as_array().unwrap() {
        let at = f["linf_at"].as_str().unwrap();
        assert!(at.starts_with("[2024-") && at.contains(", 2024-"), "{at}");
        // A timestamp's ends keep their times; a date's have none.
        assert_eq!(at.contains('T'), f["name"] != "day", "{at}");
    }
    // validate's bounds of a date column, as dates.
    let schema = dir.path().join("schema.json");
    let o = skewer(&[
        "schema",
        "infer",
        &a,
        "--bounds",
        "-o",
        schema.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = skewer(&[
        "validate",
        &b,
        "--schema",
        schema.to_str().unwrap(),
        "--quiet",
    ]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("above the maximum 2024-10-26: largest value 2025-02-03."),
        "{out}"
    );
}

#[test]
fn a_feature_only_in_the_base_has_its_section() {
    let dir = tmp();
    let base = dir.path().join("base.csv");
    let current = dir.path().join("current.csv");
    let mut b = String::from("a,gone\n");
    let mut c = String::from("a\n");
    for i in 0..200 {
        b.push_str(&format!("{i},{}\n", i % 7));
        c.push_str(&format!("{}\n", i + 100));
    }
    std::fs::write(&base, b).unwrap();
    std::fs::write(&current, c).unwrap();
    let page = dir.path().join("r.html");
    let o = skewer(&[
        "report",
        current.to_str().unwrap(),
        "--base",
        base.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    let secs = sections(&html);
    assert_eq!(secs.len(), 2);
    let gone = secs
        .iter()
        .find(|s| s.contains("data-feature=\"gone\""))
        .unwrap();
    assert!(gone.contains("Only in the base"));
    assert_eq!(gone.matches("<svg").count(), 2, "the base's charts");
    // The overview counts as compare does: of both features.
    let o = skewer(&[
        "compare",
        base.to_str().unwrap(),
        current.to_str().unwrap(),
        "--quiet",
    ]);
    let head = String::from_utf8(o.stdout).unwrap();
    let drifted = head.split(" features drifted").next().unwrap().to_string();
    assert!(
        html.contains(&format!("{drifted} features drifted")),
        "{drifted}"
    );
    assert!(html.contains("only in the base"));
}
