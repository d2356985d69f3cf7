#!/usr/bin/env python3
"""Compare two skewer profile (or compare) JSONs of the same data made on
different backends.

usage: profile_diff.py A.json B.json [REL]

Every count, min, max, quantile, histogram, sketch bucket and value count
must be equal; the moments (mean, variance, std_dev, skewness, kurtosis) may
differ by REL relative (default 1e-9: the backends sum in different orders).
Fields that name the backend (backend, computed_on) are ignored, and so is
the low half of the mean's double-double (mean_lo). Prints each
difference and exits 1 if there is any, else prints "identical" or the
largest moment difference and exits 0. Needs only the standard library.
"""
import json
import sys

# Moments compared relative to their size; compare's Wasserstein distance is
# normalised by the base std, so it is one too.
MOMENTS = {"mean", "variance", "std_dev", "m2", "wasserstein"}
# Skewness and kurtosis are ratios that can be near zero (symmetric data):
# compared with an absolute tolerance of REL (relative where larger than 1).
SHAPE = {"skewness", "kurtosis"}
# mean_lo is below the last bit of mean (a double-double): mean is compared.
# m3 and m4 are the raw sums behind skewness and kurtosis, which are compared.
IGNORED = {"backend", "computed_on", "skewer_version", "mean_lo", "m3", "m4"}


def walk(a, b, path, out, rel, worst):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in IGNORED:
                continue
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'B' if k not in a else 'A'}")
                continue
            walk(a[k], b[k], f"{path}/{k}", out, rel, worst)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} vs {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]", out, rel, worst)
    elif path.rsplit("/", 1)[-1] in MOMENTS | SHAPE and isinstance(a, (int, float)) and isinstance(b, (int, float)):
        floor = 1.0 if path.rsplit("/", 1)[-1] in SHAPE else 1e-300
        d = abs(a - b) / max(abs(a), abs(b), floor)
        worst[0] = max(worst[0], d)
        if d > rel:
            out.append(f"{path}: {a!r} vs {b!r} (relative {d:.3g})")
    elif a != b:
        out.append(f"{path}: {a!r} vs {b!r}")


def main():
    a = json.load(open(sys.argv[1]))
    b = json.load(open(sys.argv[2]))
    rel = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-9
    # Features by name, so a message names the column.
    fa = {f["name"]: f for f in a.pop("features")}
    fb = {f["name"]: f for f in b.pop("features")}
    out, worst = [], [0.0]
    walk(a, b, "", out, rel, worst)
    walk(fa, fb, "features", out, rel, worst)
    for line in out:
        print(line)
    if out:
        print(f"{len(out)} differences")
        sys.exit(1)
    print(f"identical (largest relative moment difference {worst[0]:.3g})")


if __name__ == "__main__":
    main()
