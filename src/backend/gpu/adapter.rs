//! Adapter choice: what wgpu can see, which adapter a run takes (hardware
//! before software, adapters with SHADER_F64 and SHADER_INT64 first), and
//! what `skewer devices` prints.

/// What `skewer devices` prints about an adapter.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterDesc {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub software: bool,
    pub driver: String,
    pub driver_info: String,
    pub shader_f64: bool,
    pub shader_int64: bool,
    pub timestamp_query: bool,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
}

pub(super) fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let n = info.name.to_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || ["llvmpipe", "lavapipe", "swiftshader", "warp", "software"]
            .iter()
            .any(|s| n.contains(s) || info.driver.to_lowercase().contains(s))
}

pub(super) fn describe(a: &wgpu::Adapter) -> AdapterDesc {
    let info = a.get_info();
    let f = a.features();
    let l = a.limits();
    AdapterDesc {
        software: is_software(&info),
        name: info.name.clone(),
        backend: format!("{:?}", info.backend).to_lowercase(),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        shader_f64: f.contains(wgpu::Features::SHADER_F64),
        shader_int64: f.contains(wgpu::Features::SHADER_INT64),
        timestamp_query: f.contains(wgpu::Features::TIMESTAMP_QUERY),
        max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
        max_buffer_size: l.max_buffer_size,
        max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
    }
}

/// Enumerating Vulkan adapters makes libwayland look for a compositor;
/// without XDG_RUNTIME_DIR it prints "error: XDG_RUNTIME_DIR is invalid" on
/// stderr, which reads like a skewer failure in a nightly job's log. Point
/// it at the temp dir (no compositor there: the probe fails quietly). The
/// binary calls this first thing, before any thread starts (setting an
/// environment variable while other threads read theirs is undefined
/// behaviour on glibc); so should other programs that list adapters.
pub fn quiet_display_probe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
}

fn adapters() -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(desc);
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
}

/// Every adapter wgpu can see.
pub fn list_adapters() -> Vec<AdapterDesc> {
    adapters().iter().map(describe).collect()
}

/// Which device a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A hardware GPU if there is one (never a software adapter), else None.
    HardwareOnly,
    /// The best adapter, a software one if that is all there is.
    Any,
}

/// How to open the device.
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Values per dispatch (default 4Mi, capped by the adapter's limits).
    pub chunk: Option<usize>,
    /// Behave as an adapter without SHADER_F64 and SHADER_INT64 (tests the
    /// per-column CPU fallback on adapters that have them).
    pub without_f64_int64: bool,
}

/// The best adapter `want` allows whose name contains `name`: adapters with
/// the features the numeric kernels need first, hardware before software,
/// discrete, integrated, others.
pub(super) fn choose(want: Want, name: Option<&str>) -> Option<wgpu::Adapter> {
    let mut found: Vec<wgpu::Adapter> = adapters()
        .into_iter()
        .filter(|a| {
            name.is_none_or(|n| a.get_info().name.to_lowercase().contains(&n.to_lowercase()))
        })
        .filter(|a| want == Want::Any || !is_software(&a.get_info()))
        .collect();
    found.sort_by_key(|a| {
        let i = a.get_info();
        let rank = match i.device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => 2,
            wgpu::DeviceType::Cpu => 3,
        };
        let need = wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64;
        (!a.features().contains(need), is_software(&i), rank)
    });
    found.into_iter().next()
}

/// What `skewer devices` prints: each adapter with the features skewer
/// needs and its limits.
pub fn describe_all(list: &[AdapterDesc]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if list.is_empty() {
        s.push_str(
            "no GPU adapters (install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers)\n",
        );
    }
    for a in list {
        let _ = writeln!(
            s,
            "{}\n  backend {}, {} ({}), driver {} {}\n  SHADER_F64 {}, SHADER_INT64 {}, timestamps {}\n  max storage binding {} MiB, max buffer {} MiB, max workgroups/dim {}",
            a.name,
            a.backend,
            a.device_type,
            if a.software { "software" } else { "hardware" },
            a.driver,
            a.driver_info,
            a.shader_f64,
            a.shader_int64,
            a.timestamp_query,
            a.max_storage_buffer_binding_size >> 20,
            a.max_buffer_size >> 20,
            a.max_compute_workgroups_per_dimension
        );
    }
    s
}
