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

#[test]
fn workgroup_constants_mirror_the_shader() {
    let (_, src) = skewer::backend::gpu::SHADERS[0];
    let wg = format!("const WG: u32 = {}u;", skewer::backend::gpu::WORKGROUP_SIZE);
    let items = format!(
        "const ITEMS: u32 = {}u;",
        skewer::backend::gpu::ITEMS_PER_THREAD
    );
    assert!(src.contains(&wg), "numeric.wgsl lacks {wg}");
    assert!(src.contains(&items), "numeric.wgsl lacks {items}");
    assert_eq!(
        src.matches("@workgroup_size(256)").count(),
        3,
        "every entry point uses WG"
    );
    assert_eq!(skewer::backend::gpu::WORKGROUP_SIZE, 256);
}
