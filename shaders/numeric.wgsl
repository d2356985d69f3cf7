// Numeric column kernels: one chunk of raw 64-bit values (f64 bits, i64 or
// u64; nulls already removed on the host) per dispatch.
//
// Requires SHADER_F64 and SHADER_INT64. NaN and infinity are classified by
// their bits, never by comparisons. Keys are the order-preserving u64 keys of
// src/profile/keys.rs; the sketch map is KeyMap in src/profile/sketch.rs.
//
// | binding | type                         | entry points      |
// |---------|------------------------------|-------------------|
// | 0       | uniform Params               | all               |
// | 1       | storage read  array<u64>     | all (the values)  |
// | 2       | storage rw    array<Partial> | reduce            |
// | 3       | storage rw    array<atomic<u32>> | sketch (bucket counts) |
// | 4       | storage read  array<u32>     | collect (slot per bucket, 0xffffffff = none) |
// | 5       | storage rw    array<u64>     | collect (collected keys) |
// | 6       | storage rw    array<atomic<u32>> | collect (number collected) |
// | 7       | storage rw    ChunkRange   | range (writes), sketch (reads) |
//
// Pass one is one submission per chunk: `reduce` (per-workgroup partials),
// `range` (one workgroup: the chunk's min/max key and the sketch's shift and
// origin for them) and `sketch` (bucket counts at that shift and origin); the
// host merges the chunk's sketch into the column's, exactly, because bucket
// edges are aligned powers of two.
//
// Workgroup size WG = 256 (mirrored by WORKGROUP_SIZE in backend/gpu), each
// thread takes ITEMS = 8 values, strided by WG so loads coalesce.

const WG: u32 = 256u;
const ITEMS: u32 = 8u;
const SIGN: u64 = 0x8000000000000000lu;
const EXP_MASK: u64 = 0x7ff0000000000000lu;
const MANT_MASK: u64 = 0x000ffffffffffffflu;
const TINY: u64 = 0x3d70000000000000lu; // (1023 - 40) << 52
const SQUASH: u32 = 12u;

struct Params {
    n: u32,
    // 0 int, 1 uint, 2 float
    domain: u32,
    shift: u32,
    // 1: FloatSquash sketch map
    squash: u32,
    origin_lo: u32,
    origin_hi: u32,
    buckets: u32,
    // reduce → range: the number of partials (workgroups) of this chunk
    groups: u32,
}

struct ChunkRange {
    lo: u64,
    hi: u64,
    origin: u64,
    shift: u32,
    finite: u32,
}

struct Partial {
    nan: u32,
    pos_inf: u32,
    neg_inf: u32,
    zeros: u32,
    finite: u32,
    _pad: u32,
    min_key: u64,
    max_key: u64,
    m0: f64,
    s1: f64,
    s2: f64,
    s3: f64,
    s4: f64,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> values: array<u64>;
@group(0) @binding(2) var<storage, read_write> partials: array<Partial>;
@group(0) @binding(3) var<storage, read_write> bucket_counts: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read> slots: array<u32>;
@group(0) @binding(5) var<storage, read_write> collected: array<u64>;
@group(0) @binding(6) var<storage, read_write> collected_len: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> chunk_range: ChunkRange;

// 0 finite, 1 NaN, 2 +inf, 3 -inf
fn class_of(v: u64) -> u32 {
    if params.domain != 2u || (v & EXP_MASK) != EXP_MASK {
        return 0u;
    }
    if (v & MANT_MASK) != 0lu {
        return 1u;
    }
    return select(2u, 3u, (v & SIGN) != 0lu);
}

fn key_of(v: u64) -> u64 {
    if params.domain == 0u {
        return v ^ SIGN;
    }
    if params.domain == 1u {
        return v;
    }
    return v ^ select(SIGN, 0xfffffffffffffffflu, (v & SIGN) != 0lu);
}

fn value_of(v: u64) -> f64 {
    if params.domain == 0u {
        return f64(bitcast<i64>(v));
    }
    if params.domain == 1u {
        return f64(v);
    }
    return bitcast<f64>(v);
}

fn is_zero(v: u64) -> bool {
    if params.domain == 2u {
        return (v & ~SIGN) == 0lu;
    }
    return v == 0lu;
}

fn squash_h(a: u64) -> u64 {
    if a < TINY {
        return a >> SQUASH;
    }
    return a - TINY + (TINY >> SQUASH);
}

fn sketch_key(k: u64) -> u64 {
    if params.squash == 0u {
        return k;
    }
    if k >= SIGN {
        return SIGN + squash_h(k - SIGN);
    }
    return SIGN - 1lu - squash_h(SIGN - 1lu - k);
}

fn bucket_of(k: u64, shift: u32, origin: u64) -> u32 {
    return u32((sketch_key(k) >> shift) - origin);
}

var<workgroup> w_u32: array<u32, WG>;
var<workgroup> w_u64: array<u64, WG>;
var<workgroup> w_f64: array<f64, WG>;

fn reduce_u32(lid: u32, x: u32) -> u32 {
    w_u32[lid] = x;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if lid < s {
            w_u32[lid] = w_u32[lid] + w_u32[lid + s];
        }
        workgroupBarrier();
    }
    let r = w_u32[0];
    workgroupBarrier();
    return r;
}

fn reduce_f64(lid: u32, x: f64) -> f64 {
    w_f64[lid] = x;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if lid < s {
            w_f64[lid] = w_f64[lid] + w_f64[lid + s];
        }
        workgroupBarrier();
    }
    let r = w_f64[0];
    workgroupBarrier();
    return r;
}

fn reduce_min(lid: u32, x: u64) -> u64 {
    w_u64[lid] = x;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if lid < s {
            w_u64[lid] = min(w_u64[lid], w_u64[lid + s]);
        }
        workgroupBarrier();
    }
    let r = w_u64[0];
    workgroupBarrier();
    return r;
}

fn reduce_max(lid: u32, x: u64) -> u64 {
    w_u64[lid] = x;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if lid < s {
            w_u64[lid] = max(w_u64[lid], w_u64[lid + s]);
        }
        workgroupBarrier();
    }
    let r = w_u64[0];
    workgroupBarrier();
    return r;
}

// Pass one, per workgroup: class counts, min/max key, and the moments of the
// finite values as power sums about the workgroup's rounded mean m0 (the
// host shifts them to the exact mean, as Moments::of_slice does). Integers
// are first shifted by the workgroup's smallest key in integer arithmetic
// (m0 and the sums are of value − min; the host adds min back exactly, as
// Moments::of_int_keys does), so values near ±2^63 and 2^64 keep their digits.
@compute @workgroup_size(WG)
fn reduce(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let lid = lid3.x;
    let base = wid.x * WG * ITEMS;
    var nan = 0u;
    var pinf = 0u;
    var ninf = 0u;
    var zeros = 0u;
    var fin = 0u;
    var lo = 0xfffffffffffffffflu;
    var hi = 0lu;
    // This thread's values, read once; bit j of `finite` marks vs[j] finite.
    var vs: array<u64, ITEMS>;
    var finite = 0u;
    for (var j = 0u; j < ITEMS; j++) {
        let i = base + j * WG + lid;
        if i < params.n {
            let v = values[i];
            vs[j] = v;
            let c = class_of(v);
            if c == 0u {
                finite |= 1u << j;
                fin += 1u;
                let k = key_of(v);
                lo = min(lo, k);
                hi = max(hi, k);
                zeros += select(0u, 1u, is_zero(v));
            } else if c == 1u {
                nan += 1u;
            } else if c == 2u {
                pinf += 1u;
            } else {
                ninf += 1u;
            }
        }
    }
    let t_fin = reduce_u32(lid, fin);
    let t_lo = reduce_min(lid, lo);
    let ints = params.domain != 2u;
    var sum = 0.0lf;
    for (var j = 0u; j < ITEMS; j++) {
        if (finite & (1u << j)) != 0u {
            sum += select(value_of(vs[j]), f64(key_of(vs[j]) - t_lo), ints);
        }
    }
    let t_sum = reduce_f64(lid, sum);
    let m0 = select(0.0lf, t_sum / f64(t_fin), t_fin > 0u);
    var s1 = 0.0lf;
    var s2 = 0.0lf;
    var s3 = 0.0lf;
    var s4 = 0.0lf;
    for (var j = 0u; j < ITEMS; j++) {
        if (finite & (1u << j)) != 0u {
            let d = select(value_of(vs[j]), f64(key_of(vs[j]) - t_lo), ints) - m0;
            let d2 = d * d;
            s1 += d;
            s2 += d2;
            s3 += d2 * d;
            s4 += d2 * d2;
        }
    }
    let t_nan = reduce_u32(lid, nan);
    let t_pinf = reduce_u32(lid, pinf);
    let t_ninf = reduce_u32(lid, ninf);
    let t_zeros = reduce_u32(lid, zeros);
    let t_hi = reduce_max(lid, hi);
    let t_s1 = reduce_f64(lid, s1);
    let t_s2 = reduce_f64(lid, s2);
    let t_s3 = reduce_f64(lid, s3);
    let t_s4 = reduce_f64(lid, s4);
    if lid == 0u {
        partials[wid.x] = Partial(t_nan, t_pinf, t_ninf, t_zeros, t_fin, 0u, t_lo, t_hi, m0, t_s1, t_s2, t_s3, t_s4);
    }
}

// Pass one, second dispatch (one workgroup): the chunk's min and max key over
// the partials, and the smallest shift at which the sketch's `buckets`
// buckets hold them (KeySketch::shift_for from 0), with its origin.
@compute @workgroup_size(WG)
fn range(@builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    var lo = 0xfffffffffffffffflu;
    var hi = 0lu;
    var fin = 0u;
    for (var g = lid; g < params.groups; g += WG) {
        let p = partials[g];
        if p.finite > 0u {
            lo = min(lo, p.min_key);
            hi = max(hi, p.max_key);
            fin += p.finite;
        }
    }
    let t_lo = reduce_min(lid, lo);
    let t_hi = reduce_max(lid, hi);
    let t_fin = reduce_u32(lid, fin);
    if lid == 0u {
        var shift = 0u;
        var origin = 0lu;
        if t_fin > 0u {
            let slo = sketch_key(t_lo);
            let shi = sketch_key(t_hi);
            let nb = u64(params.buckets);
            while shift < 64u && (shi >> shift) - (slo >> shift) >= nb {
                shift += 1u;
            }
            origin = slo >> shift;
        }
        chunk_range = ChunkRange(t_lo, t_hi, origin, shift, t_fin);
    }
}

// Pass one, third dispatch: the chunk's bucket counts at the shift and origin
// that `range` chose.
@compute @workgroup_size(WG)
fn sketch(@builtin(global_invocation_id) gid: vec3<u32>) {
    let shift = chunk_range.shift;
    let origin = chunk_range.origin;
    for (var j = 0u; j < ITEMS; j++) {
        let i = gid.x / WG * WG * ITEMS + j * WG + gid.x % WG;
        if i < params.n {
            let v = values[i];
            if class_of(v) == 0u {
                atomicAdd(&bucket_counts[bucket_of(key_of(v), shift, origin)], 1u);
            }
        }
    }
}

// Pass two: the keys of the finite values in the buckets the host named.
@compute @workgroup_size(WG)
fn collect(@builtin(global_invocation_id) gid: vec3<u32>) {
    for (var j = 0u; j < ITEMS; j++) {
        let i = gid.x / WG * WG * ITEMS + j * WG + gid.x % WG;
        if i < params.n {
            let v = values[i];
            if class_of(v) == 0u {
                let k = key_of(v);
                let origin = (u64(params.origin_hi) << 32u) | u64(params.origin_lo);
                let b = bucket_of(k, params.shift, origin);
                if b < params.buckets && slots[b] != 0xffffffffu {
                    let o = atomicAdd(&collected_len[0], 1u);
                    collected[o] = k;
                }
            }
        }
    }
}
