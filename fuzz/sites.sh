#!/usr/bin/env bash
# Group fuzzer crash artifacts by the panic site that skewer now reports, and
# keep the smallest input of each site as a regression reproducer.
#
# usage: fuzz/sites.sh TARGET ARTIFACT_DIR [SKEWER_BIN]
#   TARGET        parquet, csv, ipc_file or ipc_stream
#   ARTIFACT_DIR  libFuzzer's -artifact_prefix folder (crash-*, timeout-*)
#   SKEWER_BIN    default target/release/skewer
#
# Prints one line per site (count, site, smallest input) and copies that
# input to fuzz/regressions/TARGET/. Each reproducer must then be an error
# (exit 2) naming the file: tests/it/fuzz.rs replays them on every test run.
set -euo pipefail
target=$1; arts=$2
here=$(cd "$(dirname "$0")" && pwd)
bin=${3:-$here/../target/release/skewer}
case $target in
    parquet) fmt=parquet ;; csv) fmt=csv ;; ipc_file) fmt=arrow ;; ipc_stream) fmt=arrow-stream ;;
    *) echo "no data format for $target" >&2; exit 2 ;;
esac
out=$here/regressions/$target
mkdir -p "$out"
declare -A best size count
for f in "$arts"/crash-* "$arts"/timeout-*; do
    [ -e "$f" ] || continue
    msg=$(timeout 60 env -u RUST_BACKTRACE "$bin" profile "$f" --format "$fmt" --backend cpu --quiet -o /dev/null 2>&1 >/dev/null; echo "exit=$?")
    # The site: "at crate/src/file.rs:LINE" of a panic, a stall, or the exit code.
    site=$(grep -o 'at [a-z0-9_.-]*/src/[^ )]*:[0-9]*' <<<"$msg" | head -1 || true)
    [ -n "$site" ] || site=$(grep -o 'no progress\|exit=[0-9]*' <<<"$msg" | head -1)
    n=$(stat -c %s "$f")
    count[$site]=$(( ${count[$site]:-0} + 1 ))
    if [ -z "${best[$site]:-}" ] || [ "$n" -lt "${size[$site]}" ]; then
        best[$site]=$f; size[$site]=$n
    fi
done
for site in "${!best[@]}"; do
    name=$(tr -c 'a-zA-Z0-9_.\n-' '_' <<<"${site#at }" | tr -d '\n')
    cp "${best[$site]}" "$out/$name"
    printf '%5d  %s  %s (%d bytes)\n' "${count[$site]}" "$site" "$name" "${size[$site]}"
done | sort -rn
