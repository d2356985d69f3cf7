//! CPU kernels shared by the profile engine.

/// Smallest and largest key of a non-empty slice.
#[inline]
pub fn min_max(keys: &[u64]) -> (u64, u64) {
    // Eight independent lanes so the compiler emits vector min/max.
    const L: usize = 8;
    let mut lo = [u64::MAX; L];
    let mut hi = [0u64; L];
    let chunks = keys.chunks_exact(L);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..L {
            lo[i] = lo[i].min(c[i]);
            hi[i] = hi[i].max(c[i]);
        }
    }
    let mut a = lo.iter().copied().min().unwrap_or(u64::MAX);
    let mut b = hi.iter().copied().max().unwrap_or(0);
    for &k in rest {
        a = a.min(k);
        b = b.max(k);
    }
    (a, b)
}

/// A description of the CPU for the profile's backend field (no thread
/// count: the profile is the same whatever the number of threads).
pub fn device_name() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    model
}
