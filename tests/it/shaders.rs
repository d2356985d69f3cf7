//! Every shader parses and validates with naga: WGSL errors fail here,
//! without any GPU.

#[test]
fn every_shader_validates() {
    let caps = naga::valid::Capabilities::FLOAT64 | naga::valid::Capabilities::SHADER_INT64;
    let mut checked = 0;
    for (name, src) in skewer::backend::gpu::SHADERS {
        let module = naga::front::wgsl::parse_str(src)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
        checked += 1;
    }
    assert!(checked > 0);
}
