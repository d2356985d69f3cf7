//! Profiles: the statistics model, the accumulators and the engine that
//! drives them over a dataset.
//!
//! The engine makes at most two passes over the source:
//!
//! 1. every partition (Parquet row group or whole file) is read in parallel
//!    and folded into per-column partial states (counts, min/max, moments,
//!    key sketch, value counts); the partials are merged in partition order,
//!    so the result never depends on thread scheduling;
//! 2. numeric columns that need the global [min, max] or global ranks (the
//!    equal-width histogram and the exact quantiles) get a second pass, over
//!    their finite keys kept in memory during pass one when they fit the
//!    memory budget, else by re-reading only those columns.

pub mod categorical;
mod engine;
pub mod keys;
pub mod merge;
pub mod model;
pub mod moments;
pub mod numeric;
pub mod quantile;
mod schedule;
pub mod sketch;

pub use engine::{profile, NoProgress, ProfileOptions, Progress, Timings};
pub use model::*;
