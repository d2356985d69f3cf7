#!/usr/bin/env python3
"""Check a skewer profile JSON against numpy/pyarrow on the same Parquet file.

usage: check_numpy.py FILE.parquet PROFILE.json
Exits non-zero and prints the differences if any statistic disagrees.
"""
import json, math, sys
import numpy as np, pyarrow.parquet as pq, pyarrow as pa, pyarrow.compute as pc

path, prof_path = sys.argv[1], sys.argv[2]
t = pq.read_table(path)
prof = json.load(open(prof_path))
bad = []

def close(a, b, rel):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)

for f in prof["features"]:
    col = t[f["name"]].combine_chunks()
    if isinstance(col, pa.DictionaryArray):
        col = col.dictionary_decode()
    name = f["name"]
    if f["missing"] != col.null_count:
        bad.append((name, "missing", f["missing"], col.null_count))
    if f["numeric"]:
        n = f["numeric"]
        a = col.drop_null().to_numpy(zero_copy_only=False)
        if a.dtype.kind == "f":
            fin = a[np.isfinite(a)].astype(np.float64)
        else:
            fin = a
        if n["finite"] != len(fin):
            bad.append((name, "finite", n["finite"], len(fin)))
        if len(fin) == 0:
            continue
        if n["min"] != fin.min() or n["max"] != fin.max():
            bad.append((name, "min/max", (n["min"], n["max"]), (fin.min(), fin.max())))
        s = np.sort(fin)
        for q in n["quantiles"]:
            ref = np.quantile(s, q["rank"], method="inverted_cdf")
            if q["value"] != ref:
                bad.append((name, f"q{q['rank']}", q["value"], ref))
        x = fin.astype(np.float64)
        # math.fsum is correctly rounded. Power sums about the rounded mean m
        # (x - m is exact), then shifted to the true mean m + c, which f64
        # cannot hold: an exact reference even for 1.7e9 + N(0, 1).
        nn = len(x)
        m = math.fsum(x) / nn
        d = x - m
        c = math.fsum(d) / nn
        s2, s3, s4 = math.fsum(d * d), math.fsum(d**3), math.fsum(d**4)
        mean = m + c
        M2 = s2 - nn * c * c
        M3 = s3 - 3 * c * s2 + 2 * nn * c**3
        M4 = s4 - 4 * c * s3 + 6 * c * c * s2 - 3 * nn * c**4
        var = M2 / nn
        if not close(n["mean"], mean, 1e-9): bad.append((name, "mean", n["mean"], mean))
        if not close(n["variance"], var, 1e-9): bad.append((name, "variance", n["variance"], var))
        if var > 0:
            skew = M3 / nn / var**1.5
            kurt = M4 / nn / var**2 - 3
            if abs(n["skewness"] - skew) > 1e-9 * max(1, abs(skew)): bad.append((name, "skewness", n["skewness"], skew))
            if abs(n["kurtosis"] - kurt) > 1e-9 * max(1, abs(kurt)): bad.append((name, "kurtosis", n["kurtosis"], kurt))
        if x.min() < x.max():
            counts, edges = np.histogram(x, bins=len(n["histogram"]), range=(x.min(), x.max()))
            got = [b["count"] for b in n["histogram"]]
            if got != counts.tolist(): bad.append((name, "histogram", got, counts.tolist()))
        qb = n["quantile_histogram"]
        for b in qb[:-1]:
            c = int(((x >= b["low"]) & (x < b["high"])).sum()) if a.dtype.kind == "f" else int(((fin >= b["low"]) & (fin < b["high"])).sum())
            if c != b["count"]: bad.append((name, "qhist", b, c))
    if f["categorical"]:
        c = f["categorical"]
        vals = col.drop_null()
        if pa.types.is_boolean(vals.type):
            vals = pc.cast(vals, pa.string())
        vc = pc.value_counts(vals).to_pylist()
        if c["unique"] != len(vc): bad.append((name, "unique", c["unique"], len(vc)))
        top = sorted(((-v["counts"], v["values"]) for v in vc))[: len(c["top_values"])]
        got = [(-v["count"], v["value"]) for v in c["top_values"]]
        if got != top: bad.append((name, "top", got[:3], top[:3]))
print(f"{len(prof['features'])} features checked, {len(bad)} differences")
for b in bad:
    print("  ", b)
sys.exit(1 if bad else 0)
