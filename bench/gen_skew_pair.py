#!/usr/bin/env python3
"""A keyed pair for `skewer skew`, with the exact counts it must report.

usage: gen_skew_pair.py ROWS OUT_DIR [--seed S]

Writes OUT_DIR/base.parquet, OUT_DIR/test.parquet and OUT_DIR/truth.json.
The base is gen_train.py's training table (its columns and generator,
unchanged) with an int64 key column `id` first. The test holds the same
examples in another order, with:
  - 0.5% of the base's keys dropped (base-only keys) and 0.5% new keys
    (rows copied from the base under fresh ids: test-only keys);
  - 0.01% of the kept keys twice (duplicated keys, excluded from the join);
  - planted changes in the joined examples: f_normal + 1e-6 in 1%,
    i_count + 1 in 2%, s_low replaced in 0.5%, f32_a doubled in 1%,
    f_nan_inf set to null in 0.2%, f_zeros' 0.0 made -0.0 in 0.1%.
truth.json has the counts per feature, computed here with numpy under the
rule of docs/skew.md (floats by bits, NaN equal to NaN, null = missing),
and each side's row accounting.
"""
import json
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_train  # noqa: E402


def plant(col, rows, change):
    """col with change(values) applied at the positions `rows` (bool mask)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    valid = np.asarray(col.is_valid())
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    vals = col.to_numpy(zero_copy_only=False).copy()
    vals[rows & valid] = change(vals[rows & valid])
    return pa.array(vals, type=col.type, mask=~valid)


def counts(a, b):
    """TFDV's counts for two aligned columns."""
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    b = b.combine_chunks() if isinstance(b, pa.ChunkedArray) else b
    if pa.types.is_dictionary(a.type):
        a = a.dictionary_decode()
    if pa.types.is_dictionary(b.type):
        b = b.dictionary_decode()
    va, vb = np.asarray(a.is_valid()), np.asarray(b.is_valid())
    if pa.types.is_floating(a.type):
        x = a.fill_null(0).to_numpy()
        y = b.fill_null(0).to_numpy()
        bits = {2: np.int16, 4: np.int32, 8: np.int64}[x.dtype.itemsize]
        eq = (x.view(bits) == y.view(bits)) | (np.isnan(x) & np.isnan(y))
    else:
        eq = np.asarray(pc.fill_null(pc.equal(a, b), False))
    both = va & vb
    return {
        "match_count": int((both & eq).sum()),
        "mismatch_count": int((both & ~eq).sum()),
        "base_only": int((va & ~vb).sum()),
        "test_only": int((~va & vb).sum()),
        "both_missing": int((~va & ~vb).sum()),
    }


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 7
    rng = np.random.default_rng(seed)
    t = gen_train.table(n, rng, [])
    ids = np.arange(n, dtype=np.int64) * 3 + 1  # sparse, so new ids can be told apart
    base = t.add_column(0, "id", pa.array(ids))
    pq.write_table(base, f"{out}/base.parquet", row_group_size=1 << 20)

    r = np.random.default_rng(seed + 1000)
    keep = r.random(n) >= 0.005
    kept = np.nonzero(keep)[0]
    dup = kept[r.random(len(kept)) < 0.0001]
    joined = np.setdiff1d(kept, dup)
    m = len(joined)
    aligned = base.take(pa.array(joined))
    changes = {
        "f_normal": (0.01, lambda v: v + 1e-6),
        "i_count": (0.02, lambda v: v + 1),
        "s_low": (0.005, lambda v: np.full(len(v), "cat_changed", dtype=object)),
        "f32_a": (0.01, lambda v: v * np.float32(2)),
        "f_zeros": (0.001, lambda v: np.where(v == 0.0, -0.0, v)),
    }
    test = aligned
    for name, (share, change) in changes.items():
        i = test.schema.get_field_index(name)
        test = test.set_column(i, name, plant(test.column(i), r.random(m) < share, change))
    i = test.schema.get_field_index("f_nan_inf")
    col = test.column(i).combine_chunks()
    to_null = r.random(m) < 0.002
    test = test.set_column(i, "f_nan_inf", pa.array(col.to_numpy(zero_copy_only=False),
                                                    mask=~np.asarray(col.is_valid()) | to_null))

    truth = {"rows": n, "seed": seed, "joined": m, "features": {}}
    for name in test.column_names[1:]:
        truth["features"][name] = counts(aligned.column(name), test.column(name))

    # Duplicated keys (each twice) and test-only keys, then another order.
    dups = base.take(pa.array(np.repeat(dup, 2)))
    fresh_rows = r.integers(0, n, int(n * 0.005))
    fresh = base.take(pa.array(fresh_rows))
    fresh = fresh.set_column(0, "id", pa.array(3 * n + 3 * np.arange(len(fresh_rows), dtype=np.int64)))
    # The planted table's types (a plain string for the decoded dictionary).
    test = pa.concat_tables([test, dups.cast(test.schema), fresh.cast(test.schema)])
    test = test.take(pa.array(r.permutation(test.num_rows)))
    pq.write_table(test, f"{out}/test.parquet", row_group_size=1 << 20)

    dropped = n - len(kept)
    truth["base"] = {"rows": n, "unmatched_rows": dropped, "duplicate_keys": 0,
                     "duplicate_key_rows": 0, "excluded_rows": len(dup), "null_key_rows": 0}
    truth["test"] = {"rows": test.num_rows, "unmatched_rows": len(fresh_rows),
                     "duplicate_keys": len(dup), "duplicate_key_rows": 2 * len(dup),
                     "excluded_rows": 2 * len(dup), "null_key_rows": 0}
    with open(f"{out}/truth.json", "w") as f:
        json.dump(truth, f, indent=1)


if __name__ == "__main__":
    main()
