#!/usr/bin/env bash
# Whole-process time of `skewer profile FILE -o out.json` against pyarrow's
# read of the same file, interleaved so both see the same machine load;
# prints medians, the ratio, and skewer's peak RSS.
#
# usage: bench/compare_peers.sh FILE [ROUNDS] [PYTHON]
#   PYTHON: a python with numpy, pyarrow, polars, duckdb (see ../shared/bench/README.md)
set -euo pipefail
file=$1
rounds=${2:-5}
py=${3:-/tmp/benchenv/bin/python}
here=$(cd "$(dirname "$0")" && pwd)
peers=$here/../../shared/bench/peers_bench.py
bin=$here/../target/release/skewer
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sk=(); ar=(); rss=()
for _ in $(seq "$rounds"); do
    # Best of 3, like peers_bench.py does for the peers.
    best=""
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$out/t" "$bin" profile "$file" -o "$out/p.json" --quiet
        read -r s m < "$out/t"
        if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
    done
    sk+=("$best"); rss+=("$m")
    a=$("$py" "$peers" "$file" arrow | awk '{print $2}')
    ar+=("$a")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${sk[@]}"); ma=$(median "${ar[@]}"); mr=$(median "${rss[@]}")
echo "skewer best-of-3 per round (s): ${sk[*]}"
echo "arrow best-of-3 per round (s): ${ar[*]}"
printf 'median skewer %.2f s, median arrow read %.2f s, ratio %.2f, median peak RSS %.0f MB\n' \
    "$ms" "$ma" "$(echo "$ms / $ma" | bc -l)" "$(echo "$mr / 1024" | bc -l)"
