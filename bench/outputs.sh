#!/usr/bin/env bash
# Every output a refactor must not change: profile, compare, schema and
# validate JSON (and the Markdown and terminal tables) on the bundled
# examples and, when given, a bench pair from bench/gen_train.py; on the CPU
# and, where an adapter exists (lavapipe counts), the GPU backend; through
# the options that take other code paths (re-reading instead of keeping,
# wholly or partly; one pass; categorical integers; wide sketches; odd
# bins).
#
# usage: bench/outputs.sh BIN OUTDIR [BENCH_DIR]
#   BIN        a skewer binary
#   OUTDIR     where the outputs go (created; one file per command)
#   BENCH_DIR  a directory with train.parquet and serve.parquet from
#              bench/gen_train.py (optional)
#
# Run it with the binary before and after a change and `diff -r` the two
# directories: any difference is a changed number (or a field added, which
# the diff shows as such). GPU runs need `skewer devices` to list an adapter.
set -uo pipefail
bin=$(realpath "$1"); out=$2; bench=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"; out=$(realpath "$out")
ex=$here/examples
backends=(cpu)
if "$bin" devices --json | grep -q '"name"'; then backends+=(gpu); fi
fail=0
# run NAME ARGS...: stdout to OUTDIR/NAME; exit codes 0 and 1 (drift or
# anomalies found) are results, anything else a failure.
run() {
    local name=$1; shift
    "$bin" "$@" > "$out/$name" 2> "$out/$name.stderr"
    local rc=$?
    echo "$rc" > "$out/$name.rc"
    if [ "$rc" -gt 1 ]; then echo "FAILED ($rc): $name: $*"; fail=1; fi
}
for b in "${backends[@]}"; do
    o=(--backend "$b" --quiet)
    run "train-$b.json" profile "$ex/train.parquet" "${o[@]}" -o /dev/stdout
    run "train-$b.txt" profile "$ex/train.parquet" "${o[@]}"
    run "train-reread-$b.json" profile "$ex/train.parquet" "${o[@]}" --memory-budget 0 -o /dev/stdout
    # Some leaves kept, others spilled part-way (the example's numeric
    # columns hold about 12 KB each).
    run "train-partly-kept-$b.json" profile "$ex/train.parquet" "${o[@]}" --memory-budget 30KB \
        --batch-size 100 -o /dev/stdout
    run "train-options-$b.json" profile "$ex/train.parquet" "${o[@]}" --bins 37 --quantile-bins 7 \
        --top-k 3 --quantiles 0,0.001,0.5,0.999,1 --sketch-bits 16 --unique-cap 5 -o /dev/stdout
    run "train-categorical-$b.json" profile "$ex/train.parquet" "${o[@]}" --categorical i_count -o /dev/stdout
    run "compare-$b.json" compare "$ex/train.parquet" "$ex/serve.parquet" "${o[@]}" --json
    run "compare-$b.md" compare "$ex/train.parquet" "$ex/serve.parquet" "${o[@]}" --markdown
    run "compare-$b.txt" compare "$ex/train.parquet" "$ex/serve.parquet" "${o[@]}"
    run "schema-$b.json" schema infer "$ex/train.parquet" "${o[@]}" --bounds --num-examples
    run "validate-$b.json" validate "$ex/serve.parquet" --schema "$out/schema-$b.json" \
        --previous "$ex/train.parquet" --training "$ex/train.parquet" "${o[@]}" --json
    run "validate-$b.md" validate "$ex/serve.parquet" --schema "$out/schema-$b.json" \
        --previous "$ex/train.parquet" "${o[@]}" --markdown
    if [ -n "$bench" ]; then
        run "bench-train-$b.json" profile "$bench/train.parquet" "${o[@]}" -o /dev/stdout
        run "bench-compare-$b.json" compare "$bench/train.parquet" "$bench/serve.parquet" "${o[@]}" --json
    fi
done
# Stored profiles: merge, and compare and validate from JSON alone.
run merged.json merge "$out/train-cpu.json" "$out/train-cpu.json"
run compare-stored.json compare "$out/train-cpu.json" "$out/merged.json" --json --backend cpu
run validate-stored.json validate "$out/merged.json" --schema "$out/schema-cpu.json" \
    --previous "$out/train-cpu.json" --json --backend cpu
echo "outputs: $([ $fail = 0 ] && echo ok || echo FAILED) (${backends[*]}) in $out"
exit $fail
