#!/usr/bin/env bash
# Whole-process time of `skewer profile FILE -o out.json` (best of 3 per
# round) against pyarrow's read of the same file (pyarrow.parquet.read_table,
# best of 3 timed inside Python: decoding alone, no statistics), interleaved
# so both see the same machine load; prints medians, the ratio, and
# skewer's peak RSS (of its best run).
#
# usage: bench/compare_peers.sh FILE [ROUNDS]
#   SKEWER: the binary (default: target/release/skewer of this clone)
#   PYTHON: a python with pyarrow (default: python3)
set -euo pipefail
file=$1
rounds=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
bin=${SKEWER:-$here/../target/release/skewer}
py=${PYTHON:-python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
best_of_3() {
    local best="" rss="" s m
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$out/t" "$@" > /dev/null
        read -r s m < "$out/t"
        if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; rss=$m; fi
    done
    echo "$best $rss"
}
sk=(); ar=(); rss=()
for _ in $(seq "$rounds"); do
    read -r s m < <(best_of_3 "$bin" profile "$file" -o "$out/p.json" --quiet)
    sk+=("$s"); rss+=("$m")
    # The read alone, timed inside Python (no interpreter start or import).
    a=$("$py" -c 'import sys, time, pyarrow.parquet as pq
best = None
for _ in range(3):
    t = time.perf_counter(); pq.read_table(sys.argv[1]); t = time.perf_counter() - t
    best = t if best is None else min(best, t)
print(f"{best:.3f}")' "$file")
    ar+=("$a")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${sk[@]}"); ma=$(median "${ar[@]}"); mr=$(median "${rss[@]}")
echo "skewer best-of-3 per round (s): ${sk[*]}"
echo "pyarrow read best-of-3 per round (s): ${ar[*]}"
printf 'median skewer %.2f s, median pyarrow read %.2f s, ratio %.2f, median peak RSS %.0f MB\n' \
    "$ms" "$ma" "$(echo "$ms / $ma" | bc -l)" "$(echo "$mr / 1024" | bc -l)"
