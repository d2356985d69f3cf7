//! skewer's integration tests: one binary, one module per concern.

mod cli;
mod common;
mod compare;
mod formats;
mod fuzz;
mod gpu;
mod merge;
mod oracle;
mod reliability;
mod schema;
mod shaders;
mod skew;
