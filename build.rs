//! Compiles the tensorflow-metadata messages of `proto/` (TFDV interop,
//! `src/tfdv/`) without protoc: protox parses them into a descriptor set,
//! which is written to OUT_DIR (prost-reflect reads it for the text format)
//! and turned into Rust types by prost-build.

use protox::prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/tensorflow_metadata/proto/v0/statistics.proto",
        "proto/tensorflow_metadata/proto/v0/schema.proto",
        "proto/tensorflow_metadata/proto/v0/anomalies.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(files, ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").ok_or("no OUT_DIR")?);
    std::fs::write(out.join("tensorflow_metadata.bin"), fds.encode_to_vec())?;
    prost_build::Config::new()
        .enable_type_names()
        // Maps in key order: the same anomalies give the same bytes.
        .btree_map(["."])
        .compile_fds(fds)?;
    Ok(())
}
