#!/usr/bin/env bash
# compare with refinement against without, and against scipy's KS +
# Wasserstein on in-memory arrays: whole-process times, interleaved round
# by round, medians.
#
# usage: bench/compare_refine.sh SKEWER DIR [ROUNDS]
#   DIR holds train.parquet and serve.parquet (bench/gen_train.py);
#   PYTHON (default python3) needs numpy, pyarrow and scipy for the scipy
#   column (skipped without).
set -euo pipefail
bin=$1; dir=$2; rounds=${3:-5}
py=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A times
modes=(never auto always)
run() {
    /usr/bin/time -f "%e %M" -o "$out/t" "$bin" compare "$dir/train.parquet" "$dir/serve.parquet" \
        --quiet --json --refine "$1" > "$out/c-$1.json" || [ $? -le 1 ]
    tail -1 "$out/t"
}
scipy=0
"$py" -c 'import numpy, pyarrow, scipy' 2>/dev/null && scipy=1
for i in $(seq "$rounds"); do
    line="round $i:"
    for m in "${modes[@]}"; do
        read -r s kb < <(run "$m")
        times[$m]+="$s "
        line+=" $m ${s} s (${kb} KB)"
    done
    if [ $scipy = 1 ]; then
        s=$("$py" "$here/scipy_compare.py" "$dir/train.parquet" "$dir/serve.parquet")
        times[scipy]+="$s "
        line+=" scipy ${s} s"
    fi
    echo "$line"
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for m in "${modes[@]}" $([ $scipy = 1 ] && echo scipy); do
    echo "median $m: $(median "${times[$m]}") s"
done
for m in auto always; do
    refined=$("$py" -c "import json,sys; print(sum(f.get('refined_values', 0) for f in json.load(open(sys.argv[1]))['features']))" "$out/c-$m.json")
    echo "$m: $refined values refined"
done
