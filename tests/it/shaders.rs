//! Every shader parses and validates with naga: WGSL errors fail here,
//! without any GPU.

#[test]
fn every_shader_validates() {
    // categorical.wgsl must validate without the optional capabilities: it
    // runs on adapters that lack them.
    let none = naga::valid::Capabilities::empty();
    let (name, src) = skewer::backend::gpu::SHADERS[2];
    let module = naga::front::wgsl::parse_str(src).unwrap();
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), none)
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name} without f64/int64: {}", e.emit_to_string(src)));
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
    assert_eq!(
        checked, 3,
        "numeric.wgsl, distance.wgsl and categorical.wgsl"
    );
}

#[test]
fn workgroup_constants_mirror_the_shader() {
    let wg = format!("const WG: u32 = {}u;", skewer::backend::gpu::WORKGROUP_SIZE);
    let items = format!(
        "const ITEMS: u32 = {}u;",
        skewer::backend::gpu::ITEMS_PER_THREAD
    );
    for (name, src) in skewer::backend::gpu::SHADERS {
        assert!(src.contains(&wg), "{name} lacks {wg}");
        assert!(src.contains(&items), "{name} lacks {items}");
        let entries = src.matches("@compute").count();
        assert!(entries > 0, "{name} has no entry point");
        assert_eq!(
            src.matches("@workgroup_size(WG)").count(),
            entries,
            "every entry point of {name} uses WG"
        );
    }
    assert_eq!(skewer::backend::gpu::WORKGROUP_SIZE, 256);
}
