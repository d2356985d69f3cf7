//! skewer's integration tests: one binary, one module per concern.

mod browser;
mod cli;
mod common;
mod compare;
mod datasets;
mod examples;
mod formats;
mod fuzz;
mod gpu;
mod groups;
mod label;
mod merge;
mod oracle;
mod partial;
mod python;
mod refine;
mod reliability;
mod report;
mod s3;
mod schema;
mod shaders;
mod skew;
mod target;
mod tfdv;
