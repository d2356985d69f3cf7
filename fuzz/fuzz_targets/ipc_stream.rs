#![no_main]
// See fuzz/Cargo.toml and docs/fuzzing.md.
libfuzzer_sys::fuzz_target!(
    init: skewer::fuzz::init(),
    |data: &[u8]| { let _ = skewer::fuzz::run(skewer::fuzz::Target::ArrowStream, data); }
);
