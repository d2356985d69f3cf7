#!/usr/bin/env python3
"""The Python package's benchmarks (issue #12), in one interleaved run.

usage: python_bench.py FILE [--rounds N] [--skewer-bin PATH] [--spark]
                       [--tfdv-python PATH]

FILE is a Parquet file (the 10M-row bench file of bench/gen_train.py). It is
read once into a pyarrow Table; then, in each round, in turn:

  skewer.profile(table)               the in-memory table, no copy
  polars describe + value_counts      on pl.from_arrow(table), the same data:
                                      describe() and value_counts() of every
                                      string column
  skewer.profile(FILE)                the file through the Python API
  skewer profile FILE -o out.json     the CLI (--skewer-bin), a new process

and prints the median of each and the ratios. --spark adds, once (it is
slow to start): skewer.spark.profile on a local[2] Spark session (two
executor threads) against skewer.profile of the same rows in one process,
both on the DataFrame cached in Spark. --tfdv-python runs
tfdv.generate_statistics_from_dataframe on the first 1M rows with that
Python (a separate environment: TFDV pins its own pyarrow and numpy)
against skewer.profile of the same rows.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

import skewer


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def polars_describe(df: "pl.DataFrame"):
    d = df.describe()
    counts = [df.get_column(c).value_counts() for c, t in df.schema.items() if t == pl.String]
    return d, counts


TFDV_SCRIPT = r"""
import sys, time, pyarrow.parquet as pq
import tensorflow_data_validation as tfdv
frame = pq.read_table(sys.argv[1]).slice(0, int(sys.argv[2])).to_pandas()
# TFDV reads no pandas categoricals (the dictionary column): as objects.
for c in frame.select_dtypes("category"):
    frame[c] = frame[c].astype(object)
times = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    tfdv.generate_statistics_from_dataframe(frame)
    times.append(time.perf_counter() - t0)
print(" ".join(f"{t:.3f}" for t in times))
"""


def report(a, med):
    print("\nmedians of", a.rounds, "interleaved rounds:")
    for k, v in med.items():
        print(f"  {k:34s} {v:7.2f} s")
    base = med["skewer.profile(table)"]
    print(f"  polars / skewer(table)             {med['polars describe + value_counts'] / base:7.2f}x")
    print(f"  skewer(path) / skewer(table)       {med['skewer.profile(path)'] / base:7.2f}x")
    if a.skewer_bin:
        print(f"  skewer(path) / CLI                 {med['skewer.profile(path)'] / med['CLI skewer profile FILE']:7.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skewer-bin")
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--tfdv-python")
    a = ap.parse_args()

    table = pq.read_table(a.file)
    frame = pl.from_arrow(table)
    print(f"{a.file}: {table.num_rows} rows, {table.num_columns} columns, "
          f"{table.nbytes / 1e6:.0f} MB in memory", flush=True)
    runs = {}
    out = tempfile.mkdtemp()
    for r in range(a.rounds):
        steps = [
            ("skewer.profile(table)", lambda: skewer.profile(table, backend="cpu")),
            ("polars describe + value_counts", lambda: polars_describe(frame)),
            ("skewer.profile(path)", lambda: skewer.profile(a.file, backend="cpu")),
        ]
        if a.skewer_bin:
            cmd = [a.skewer_bin, "profile", a.file, "-o", os.path.join(out, "p.json"), "--backend", "cpu", "--quiet"]
            steps.append(("CLI skewer profile FILE", lambda: subprocess.run(cmd, check=True)))
        for name, fn in steps:
            t, _ = timed(fn)
            runs.setdefault(name, []).append(t)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items()), flush=True)
    if a.rounds:
        report(a, {k: statistics.median(v) for k, v in runs.items()})
    del frame

    if a.tfdv_python:
        n = 1_000_000
        small = table.slice(0, n)
        ours = [timed(lambda: skewer.profile(small, backend="cpu"))[0] for _ in range(3)]
        r = subprocess.run([a.tfdv_python, "-c", TFDV_SCRIPT, a.file, str(n), "3"], capture_output=True, text=True)
        if r.returncode != 0:
            print("TFDV failed:", r.stderr[-2000:])
        else:
            theirs = [float(x) for x in r.stdout.split()]
            print(f"\n1M rows: TFDV generate_statistics_from_dataframe median {statistics.median(theirs):.2f} s "
                  f"(runs {theirs}); skewer.profile(table) median {statistics.median(ours):.2f} s; "
                  f"ratio {statistics.median(theirs) / statistics.median(ours):.1f}x")

    if a.spark:
        from pyspark.sql import SparkSession

        from skewer import spark as skewer_spark

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.driver.memory", "6g")
                 .config("spark.driver.maxResultSize", "4g").getOrCreate())
        df = spark.read.parquet(a.file).cache()
        df.count()
        t_cluster, p_cluster = timed(lambda: skewer_spark.profile(df, backend="cpu"))
        t_collect, rows = timed(lambda: df.toArrow())
        t_one, p_one = timed(lambda: skewer.profile(rows, backend="cpu"))
        print(f"\nSpark local[2], {df.rdd.getNumPartitions()} partitions, DataFrame cached: "
              f"skewer.spark.profile {t_cluster:.2f} s; one process: toArrow {t_collect:.2f} s "
              f"+ skewer.profile {t_one:.2f} s; num_rows equal: {p_cluster.num_rows == p_one.num_rows}")
        spark.stop()


if __name__ == "__main__":
    main()
