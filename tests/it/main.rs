//! skewer's integration tests: one binary, one module per concern.

mod cli;
mod common;
mod compare;
mod formats;
mod gpu;
mod merge;
mod oracle;
mod schema;
mod shaders;
