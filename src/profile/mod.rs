//! The statistics: the profile model and the mergeable partial states that
//! build it (numeric: class counts, moments, key sketch, pass two's exact
//! quantiles and histograms; categorical: value counts and top-k).
//!
//! Every state merges (in a fixed order, so results never depend on thread
//! scheduling) and finishes into the model. The reference update of each
//! state is its own code here (the CPU backend runs it); the GPU backend
//! produces the same partial states from its kernels. This module knows
//! nothing of backends or of the engine that drives them
//! ([`crate::engine`]).

pub mod categorical;
pub mod keys;
pub mod merge;
pub mod model;
pub mod moments;
pub mod numeric;
pub mod quantile;
pub mod sketch;
pub mod time;

pub use model::*;
