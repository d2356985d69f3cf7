//! Rendering profiles for people: a terminal table.

mod terminal;

pub use terminal::summary_table;
