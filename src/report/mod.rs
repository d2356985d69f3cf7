//! Rendering for people: terminal tables and Markdown for CI logs.

mod drift;
mod table;
mod terminal;

pub use drift::{comparison_markdown, comparison_table};
pub use table::md_cell;
pub use terminal::summary_table;
