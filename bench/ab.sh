#!/usr/bin/env bash
# Whole-process `skewer profile FILE` with two binaries (before and after a
# change), interleaved round by round so both see the same machine load;
# prints each round, the medians and their ratio.
#
# usage: bench/ab.sh A_BIN B_BIN FILE [ROUNDS] [-- EXTRA PROFILE ARGS]
set -euo pipefail
a=$1; b=$2; file=$3; rounds=${4:-7}
shift $(( $# < 4 ? $# : 4 )); [ "${1:-}" = "--" ] && shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ta=(); tb=()
run() {
    /usr/bin/time -f "%e" -o "$out/t" "$1" profile "$file" -o "$out/p.json" --quiet "${@:2}"
    cat "$out/t"
}
for i in $(seq "$rounds"); do
    # Alternate which goes first, so neither always runs on a warm cache.
    if [ $((i % 2)) = 1 ]; then x=$(run "$a" "$@"); y=$(run "$b" "$@"); else y=$(run "$b" "$@"); x=$(run "$a" "$@"); fi
    ta+=("$x"); tb+=("$y")
    echo "round $i: A $x s, B $y s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ma=$(median "${ta[@]}"); mb=$(median "${tb[@]}")
printf 'median A %.3f s, median B %.3f s, B/A %.3f\n' "$ma" "$mb" "$(echo "$mb / $ma" | bc -l)"
