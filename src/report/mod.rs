//! Rendering for people: terminal tables, Markdown for CI logs and the
//! HTML report.

mod drift;
pub mod html;
pub mod progress;
mod skew;
mod table;
mod terminal;
mod timeline;
pub mod value;

pub use drift::{anomalies_markdown, anomalies_table, comparison_markdown, comparison_table};
pub use skew::skew_table;
pub use table::{md_cell, text as text_table};
pub use terminal::{summary_table, terminal_width};
pub use timeline::{timeline_markdown, timeline_table};

/// A slice as `country=US, device=ios` (a missing value as `null`).
pub fn slice_name(slice: &std::collections::BTreeMap<String, Option<String>>) -> String {
    slice
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The inputs of a profile in a line: every name up to three, else the
/// first two, the last and how many (a folder may hold thousands of files;
/// the JSON keeps them all).
pub fn sources_label(sources: &[String]) -> String {
    match sources {
        [first, second, .., last] if sources.len() > 3 => {
            format!("{first}, {second} … {last} ({} files)", sources.len())
        }
        _ => sources.join(", "),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn many_sources_are_summed_up() {
        let names = |n: usize| (0..n).map(|k| format!("p{k}")).collect::<Vec<_>>();
        assert_eq!(super::sources_label(&names(3)), "p0, p1, p2");
        assert_eq!(
            super::sources_label(&names(1000)),
            "p0, p1 … p999 (1000 files)"
        );
    }
}
