// Categorical counting: dictionary codes and booleans.
//
// Needs no optional feature (32-bit integers only), so it runs on every
// adapter. Validity is Arrow's bitmap, re-aligned by the host to bit 0 of
// word 0: row i is present when bit i % 32 of word i / 32 is set.
//
// | binding | type                               |
// |---------|------------------------------------|
// | 0       | uniform CountParams                |
// | 1       | storage read  array<u32> (codes, or the boolean values' bitmap) |
// | 2       | storage read  array<u32> (validity bitmap) |
// | 3       | storage rw    array<atomic<u32>> (counts) |
//
// `count_codes`: counts[c] += number of present rows with code c < k; codes
// ≥ k (a corrupt dictionary) count in counts[k], which the host rejects.
// Dictionaries of at most LOCAL values count in workgroup memory first, so
// that a few hot codes do not serialize the device on one global atomic.
// `count_bools`: counts[0] += present rows whose value is true.

const WG: u32 = 256u;
const ITEMS: u32 = 8u;
const LOCAL: u32 = 4096u;

struct CountParams {
    n: u32,
    k: u32,
    has_validity: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> cp: CountParams;
@group(0) @binding(1) var<storage, read> codes: array<u32>;
@group(0) @binding(2) var<storage, read> validity: array<u32>;
@group(0) @binding(3) var<storage, read_write> code_counts: array<atomic<u32>>;

var<workgroup> local_counts: array<atomic<u32>, LOCAL>;
var<workgroup> local_true: atomic<u32>;

fn present(i: u32) -> bool {
    if cp.has_validity == 0u {
        return true;
    }
    return ((validity[i >> 5u] >> (i & 31u)) & 1u) != 0u;
}

@compute @workgroup_size(WG)
fn count_codes(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let lid = lid3.x;
    let small = cp.k <= LOCAL;
    if small {
        for (var c = lid; c < cp.k; c += WG) {
            atomicStore(&local_counts[c], 0u);
        }
    }
    workgroupBarrier();
    let base = wid.x * WG * ITEMS;
    for (var j = 0u; j < ITEMS; j++) {
        let i = base + j * WG + lid;
        if i < cp.n && present(i) {
            let c = codes[i];
            if c >= cp.k {
                atomicAdd(&code_counts[cp.k], 1u);
            } else if small {
                atomicAdd(&local_counts[c], 1u);
            } else {
                atomicAdd(&code_counts[c], 1u);
            }
        }
    }
    workgroupBarrier();
    if small {
        for (var c = lid; c < cp.k; c += WG) {
            let v = atomicLoad(&local_counts[c]);
            if v > 0u {
                atomicAdd(&code_counts[c], v);
            }
        }
    }
}

// One thread per 32-row word of the bitmaps; `n` is the number of rows.
@compute @workgroup_size(WG)
fn count_bools(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let lid = lid3.x;
    if lid == 0u {
        atomicStore(&local_true, 0u);
    }
    workgroupBarrier();
    let words = (cp.n + 31u) / 32u;
    let base = wid.x * WG * ITEMS;
    var t = 0u;
    for (var j = 0u; j < ITEMS; j++) {
        let w = base + j * WG + lid;
        if w < words {
            var bits = codes[w];
            if cp.has_validity != 0u {
                bits = bits & validity[w];
            }
            let rest = cp.n - w * 32u;
            if rest < 32u {
                bits = bits & ((1u << rest) - 1u);
            }
            t += countOneBits(bits);
        }
    }
    atomicAdd(&local_true, t);
    workgroupBarrier();
    if lid == 0u {
        atomicAdd(&code_counts[0], atomicLoad(&local_true));
    }
}
