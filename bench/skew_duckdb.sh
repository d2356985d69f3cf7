#!/usr/bin/env bash
# skewer skew against DuckDB doing the same join and per-column comparison
# (bench/skew_duckdb.py), on a keyed pair made by bench/gen_skew_pair.py:
#
#   python3 bench/gen_skew_pair.py 10000000 /tmp/skew10m
#   bench/skew_duckdb.sh /tmp/skew10m 5 [SKEWER] [PYTHON]
#
# Runs the two tools RUNS times each, interleaved (skewer, duckdb, skewer,
# ...), under /usr/bin/time -v; prints each run's wall time and peak RSS,
# then the medians. Before timing, checks that both tools' counts agree with
# the generator's truth.json (DuckDB's `=` makes 0.0 equal -0.0, so its
# f_zeros counts differ from skewer's bitwise ones by the planted -0.0s).
set -euo pipefail
dir=${1:?usage: skew_duckdb.sh DIR [RUNS] [SKEWER] [PYTHON]}
runs=${2:-5}
skewer=${3:-skewer}
py=${4:-python3}
here=$(cd "$(dirname "$0")" && pwd)
base=$dir/base.parquet
test=$dir/test.parquet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Agreement first (not timed).
"$skewer" skew "$base" "$test" --key id --json --quiet >"$out/skewer.json" || [ $? -eq 1 ]
"$py" "$here/skew_duckdb.py" "$base" "$test" id >"$out/duckdb.json"
"$py" - "$out/skewer.json" "$out/duckdb.json" "$dir/truth.json" <<'PY'
import json, sys
s, d, t = (json.load(open(p)) for p in sys.argv[1:4])
assert s["joined"] == d["joined"] == t["joined"], (s["joined"], d["joined"], t["joined"])
for f in s["features"]:
    name = f["name"]
    for k, v in t["features"][name].items():
        assert f[k] == v, ("skewer", name, k, f[k], v)
    for k, v in d["features"][name].items():
        if f[k] != v:
            assert name == "f_zeros", ("duckdb", name, k, f[k], v)
            print(f"duckdb differs on {name} {k}: {v} (skewer {f[k]}: -0.0 against 0.0)")
print(f"counts agree: {s['joined']} joined examples, {len(s['features'])} features")
PY

measure() { # name, command...
    local name=$1; shift
    /usr/bin/time -v "$@" >/dev/null 2>"$out/time" || [ $? -eq 1 ]
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2/1024}' "$out/time")
    echo "$name $wall $rss" | tee -a "$out/runs"
}

for i in $(seq "$runs"); do
    measure skewer "$skewer" skew "$base" "$test" --key id --json --quiet
    measure duckdb "$py" "$here/skew_duckdb.py" "$base" "$test" id
done
echo "median over $runs runs (wall s, peak RSS MB):"
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for name in skewer duckdb; do
    w=$(awk -v n="$name" '$1 == n {print $2}' "$out/runs" | median)
    r=$(awk -v n="$name" '$1 == n {print $3}' "$out/runs" | median)
    echo "$name $w s $r MB"
done
