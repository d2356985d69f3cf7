"""scipy's two-sample KS statistic and Wasserstein distance on every numeric
column of two Parquet files, the arrays already in memory (reading them is
not timed): prints the seconds the statistics took.

usage: python3 bench/scipy_compare.py BASE.parquet CURRENT.parquet
"""

import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats


def columns(path):
    """The finite values of each numeric column, as float64 arrays."""
    t = pq.read_table(path)
    out = {}
    for name in t.column_names:
        col = t.column(name)
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            x = col.to_numpy(zero_copy_only=False).astype(np.float64)
            out[name] = x[np.isfinite(x)]
    return out


def main():
    a, b = columns(sys.argv[1]), columns(sys.argv[2])
    t0 = time.perf_counter()
    for name in sorted(a.keys() & b.keys()):
        stats.ks_2samp(a[name], b[name])
        stats.wasserstein_distance(a[name], b[name])
    print(f"{time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    main()
