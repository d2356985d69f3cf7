// Distances between two count vectors (the compare command).
//
// Requires SHADER_INT64. `linf` finds, per workgroup, the index i with the
// largest |a[i]·Q − b[i]·P| (the L-infinity gap |a/P − b/Q| scaled by P·Q),
// on exact 128-bit integers, the lowest index among equal gaps. The host
// folds the workgroups' winners the same way and computes the f64 value of
// the winner with the CPU's formula, so both backends agree to the bit.
//
// | binding | type                            |
// |---------|---------------------------------|
// | 0       | uniform LinfParams              |
// | 1       | storage read  array<u64> (a)    |
// | 2       | storage read  array<u64> (b)    |
// | 3       | storage rw    array<LinfPartial> |
//
// Workgroup size WG = 256, ITEMS = 8 values per thread, as in numeric.wgsl.

const WG: u32 = 256u;
const ITEMS: u32 = 8u;
const NONE: u32 = 0xffffffffu;
const LO32: u64 = 0xfffffffflu;

struct LinfParams {
    n: u32,
    _pad: u32,
    p_total: u64,
    q_total: u64,
}

struct LinfPartial {
    hi: u64,
    lo: u64,
    index: u32,
    _pad: u32,
}

struct U128 {
    hi: u64,
    lo: u64,
}

@group(0) @binding(0) var<uniform> lp: LinfParams;
@group(0) @binding(1) var<storage, read> count_a: array<u64>;
@group(0) @binding(2) var<storage, read> count_b: array<u64>;
@group(0) @binding(3) var<storage, read_write> linf_out: array<LinfPartial>;

// x·y as 128 bits, from 32-bit halves (WGSL has no 64-bit mulhi).
fn mul128(x: u64, y: u64) -> U128 {
    let x0 = x & LO32;
    let x1 = x >> 32u;
    let y0 = y & LO32;
    let y1 = y >> 32u;
    let p00 = x0 * y0;
    let p01 = x0 * y1;
    let p10 = x1 * y0;
    let p11 = x1 * y1;
    // Below 3·2^32: cannot overflow.
    let mid = (p00 >> 32u) + (p01 & LO32) + (p10 & LO32);
    return U128((p11 + (p01 >> 32u) + (p10 >> 32u) + (mid >> 32u)), ((p00 & LO32) | (mid << 32u)));
}

fn less128(a: U128, b: U128) -> bool {
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

// |a − b| of two 128-bit values.
fn absdiff128(a: U128, b: U128) -> U128 {
    var x = a;
    var y = b;
    if less128(a, b) {
        x = b;
        y = a;
    }
    let borrow = select(0lu, 1lu, x.lo < y.lo);
    return U128(x.hi - y.hi - borrow, x.lo - y.lo);
}

// Does (g, i) beat (h, j)? Larger gap, then lower index; NONE never wins.
fn beats(g: U128, i: u32, h: U128, j: u32) -> bool {
    if i == NONE {
        return false;
    }
    if j == NONE {
        return true;
    }
    if less128(h, g) {
        return true;
    }
    return h.hi == g.hi && h.lo == g.lo && i < j;
}

var<workgroup> sh_hi: array<u64, WG>;
var<workgroup> sh_lo: array<u64, WG>;
var<workgroup> sh_idx: array<u32, WG>;

@compute @workgroup_size(WG)
fn linf(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let t = lid.x;
    let base = wid.x * WG * ITEMS;
    var best = U128(0lu, 0lu);
    var best_i = NONE;
    for (var k = 0u; k < ITEMS; k++) {
        let i = base + k * WG + t;
        if i < lp.n {
            let g = absdiff128(mul128(count_a[i], lp.q_total), mul128(count_b[i], lp.p_total));
            if beats(g, i, best, best_i) {
                best = g;
                best_i = i;
            }
        }
    }
    sh_hi[t] = best.hi;
    sh_lo[t] = best.lo;
    sh_idx[t] = best_i;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if t < s {
            let g = U128(sh_hi[t + s], sh_lo[t + s]);
            let h = U128(sh_hi[t], sh_lo[t]);
            if beats(g, sh_idx[t + s], h, sh_idx[t]) {
                sh_hi[t] = g.hi;
                sh_lo[t] = g.lo;
                sh_idx[t] = sh_idx[t + s];
            }
        }
        workgroupBarrier();
    }
    if t == 0u {
        linf_out[wid.x] = LinfPartial(sh_hi[0], sh_lo[0], sh_idx[0], 0u);
    }
}
