#!/usr/bin/env bash
# The GPU check: what to run, once, on a machine with a real GPU and no Rust
# toolchain, with a release binary built elsewhere.
#
# usage: bench/gpu-check.sh BIN OUTDIR [ROWS]
#   BIN     a release build of skewer (target/release/skewer, stripped is fine)
#   OUTDIR  where the results go (created)
#   ROWS    rows of the bench file made by bench/gen_train.py (default 10000000;
#           needs a python3 with numpy and pyarrow, else that part is skipped)
#
# Writes devices.json, synthetic.json (skewer bench --synthetic 100M),
# bench.json (skewer bench on the bench file), cpu.json/gpu.json (the two
# profiles of the bench file), parity.txt (bench/profile_diff.py of them) and
# log.txt, refine-*.json and fixture-*.json (compare --refine always on both
# backends: the bench pair, diffed into parity.txt, and the stored cases of
# tests/fixtures/compare, which must be byte-identical). Exits non-zero when
# a step fails or the results differ.
set -uo pipefail
bin=$(realpath "$1"); out=$2; rows=${3:-10000000}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"; out=$(realpath "$out")
exec > >(tee -a "$out/log.txt") 2>&1
status=0
step() { echo "== $*"; local t0=$SECONDS; "$@" || { echo "FAILED ($?): $*"; status=1; }; echo "   ($((SECONDS - t0)) s)"; }
data=$(mktemp -d); trap 'rm -rf "$data"' EXIT

step "$bin" --version
step sh -c "'$bin' devices --json > '$out/devices.json'"
cat "$out/devices.json"
step sh -c "'$bin' bench --synthetic 100000000 --json > '$out/synthetic.json'"
cat "$out/synthetic.json"
if python3 -c 'import numpy, pyarrow' 2>/dev/null; then
    step python3 "$here/gen_train.py" "$rows" "$data"
    f=$data/train.parquet
    step sh -c "'$bin' bench '$f' --json > '$out/bench.json'"
    cat "$out/bench.json"
    step "$bin" profile "$f" --backend cpu --quiet -o "$out/cpu.json"
    step "$bin" profile "$f" --backend gpu --quiet -o "$out/gpu.json"
    step sh -c "python3 '$here/profile_diff.py' '$out/cpu.json' '$out/gpu.json' > '$out/parity.txt'"
    cat "$out/parity.txt"
    # compare exits 1 when it finds drift (this pair has five shifted columns).
    drift() { "$bin" compare "$data/train.parquet" "$data/serve.parquet" --backend "$1" --json -o "$out/compare-$1.json" > /dev/null; [ $? -le 1 ]; }
    step drift gpu
    step drift cpu
    step sh -c "python3 '$here/profile_diff.py' '$out/compare-cpu.json' '$out/compare-gpu.json' >> '$out/parity.txt'"
    tail -1 "$out/parity.txt"
    # Refinement (compare reads columns again for the values of chosen
    # sketch buckets): every KS made exact, on both backends.
    refine() { "$bin" compare "$data/train.parquet" "$data/serve.parquet" --backend "$1" --refine always --json -o "$out/refine-$1.json" > /dev/null; [ $? -le 1 ]; }
    step refine gpu
    step refine cpu
    step sh -c "python3 '$here/profile_diff.py' '$out/refine-cpu.json' '$out/refine-gpu.json' >> '$out/parity.txt'"
    tail -1 "$out/parity.txt"
else
    echo "no python3 with numpy and pyarrow: skipping the bench file and parity"
fi
# The stored cases of tests/fixtures/compare (scipy's values in
# expected.json): refined on both backends, the same comparison.
fixtures="$here/../tests/fixtures/compare"
for base in "$fixtures"/*.base.parquet; do
    case=$(basename "$base" .base.parquet)
    for b in gpu cpu; do
        fixture() {
            "$bin" compare "$base" "$fixtures/$case.current.parquet" --backend "$1" --refine always --json --quiet \
                > "$out/fixture-$case-$1.full.json"
            [ $? -le 1 ] && grep -v '"computed_on"' "$out/fixture-$case-$1.full.json" > "$out/fixture-$case-$1.json" \
                && [ -s "$out/fixture-$case-$1.json" ]
        }
        step fixture "$b"
    done
    step cmp "$out/fixture-$case-cpu.json" "$out/fixture-$case-gpu.json"
done
echo "gpu-check: $([ $status = 0 ] && echo ok || echo FAILED)"
exit $status
