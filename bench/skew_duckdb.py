#!/usr/bin/env python3
"""DuckDB doing what `skewer skew BASE TEST --key KEY` does: the join on the
key (keys found once on each side; null keys never join) and, per column on
both sides, TFDV's counts (match, mismatch, base_only, test_only).

usage: skew_duckdb.py BASE.parquet TEST.parquet KEY [--threads N] [--memory-limit SIZE]

Prints {"joined": N, "features": {name: {...}}} as JSON. Equality is
DuckDB's: `=` on values, NaN equal to NaN, but 0.0 equal to -0.0 (skewer
compares floats by their bits by default, so its counts differ there; with
`--tolerance 0` skewer uses this rule too).
"""
import json
import sys

import duckdb


def main():
    base, test, key = sys.argv[1:4]
    con = duckdb.connect()
    if "--threads" in sys.argv:
        con.execute(f"SET threads = {int(sys.argv[sys.argv.index('--threads') + 1])}")
    if "--memory-limit" in sys.argv:
        con.execute(f"SET memory_limit = '{sys.argv[sys.argv.index('--memory-limit') + 1]}'")
    cols_b = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{base}')").fetchall()]
    cols_t = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{test}')").fetchall()}
    feats = [c for c in cols_b if c != key and c in cols_t]
    q = lambda c: '"' + c.replace('"', '""') + '"'
    aggs = []
    for i, c in enumerate(feats):
        b, t = f"b.{q(c)}", f"t.{q(c)}"
        aggs += [
            f"count(*) FILTER (WHERE {b} IS NOT NULL AND {t} IS NOT NULL AND {b} = {t}) AS m{i}",
            f"count(*) FILTER (WHERE {b} IS NOT NULL AND {t} IS NOT NULL AND {b} <> {t}) AS x{i}",
            f"count(*) FILTER (WHERE {b} IS NOT NULL AND {t} IS NULL) AS b{i}",
            f"count(*) FILTER (WHERE {b} IS NULL AND {t} IS NOT NULL) AS t{i}",
        ]
    k = q(key)
    sql = f"""
    WITH bs AS (SELECT * FROM read_parquet('{base}') WHERE {k} IS NOT NULL),
         ts AS (SELECT * FROM read_parquet('{test}') WHERE {k} IS NOT NULL),
         bu AS (SELECT {k} FROM bs GROUP BY {k} HAVING count(*) = 1),
         tu AS (SELECT {k} FROM ts GROUP BY {k} HAVING count(*) = 1),
         keys AS (SELECT {k} FROM bu JOIN tu USING ({k}))
    SELECT count(*) AS joined, {", ".join(aggs)}
    FROM keys JOIN bs b ON b.{k} = keys.{k} JOIN ts t ON t.{k} = keys.{k}
    """
    row = con.execute(sql).fetchone()
    out = {"joined": row[0], "features": {}}
    for i, c in enumerate(feats):
        m, x, bo, to = row[1 + 4 * i: 5 + 4 * i]
        out["features"][c] = {"match_count": m, "mismatch_count": x, "base_only": bo, "test_only": to}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
