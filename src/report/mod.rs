//! Rendering for people: terminal tables, Markdown for CI logs and the
//! HTML report.

mod drift;
pub mod html;
pub mod progress;
mod skew;
mod table;
mod terminal;
pub mod value;

pub use drift::{anomalies_markdown, anomalies_table, comparison_markdown, comparison_table};
pub use skew::skew_table;
pub use table::{md_cell, text as text_table};
pub use terminal::{summary_table, terminal_width};
