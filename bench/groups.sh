#!/usr/bin/env bash
# The cost of slices, labels and windows (issue #13): whole-process
# `skewer profile` of the 10M-row bench file plain, with --slice-by s_low
# (10 values and nulls), with --label b_flag (2 classes and nulls) and with
# --label f_normal (a label of numbers: one more pass for its means), and
# of a 30-day file plain, with --window ts=1d and with --window ts=1d
# --label b_flag, interleaved round by round; prints each round, the
# medians and ratios.
#
# usage: [CASES="plain labelled_numbers"] bench/groups.sh SKEWER_BIN DIR [ROUNDS]
#   CASES: some of the cases below (all by default); ratios are printed for
#   the pairs that ran.
#   DIR holds train.parquet from `bench/gen_train.py ROWS DIR`; the 30-day
#   files (month.parquet: train's rows with a ts column in time order;
#   month_shuffled.parquet: the same rows in random order) are made there
#   once with the Python in $PYTHON (numpy, pyarrow).
set -euo pipefail
bin=$1; dir=$2; rounds=${3:-5}
py=${PYTHON:-python3}
all=(plain sliced labelled labelled_numbers month windowed windowed_labelled shuffled_plain shuffled_windowed)
read -r -a names <<< "${CASES:-${all[*]}}"
# The 30-day files, where a case reads them.
if printf '%s\n' "${names[@]}" | grep -qE 'month|windowed' && [ ! -f "$dir/month.parquet" ]; then
    "$py" - "$dir" <<'PY'
import sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
d = sys.argv[1]
t = pq.read_table(f"{d}/train.parquet")
n = t.num_rows
rng = np.random.default_rng(30)
day0 = np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)
secs = day0 + (np.arange(n) * 30 // n) * 86400 + rng.integers(0, 86400, n)
ts = pa.array(secs * 1000, pa.timestamp("ms", tz="UTC"))
month = t.append_column("ts", ts)
pq.write_table(month, f"{d}/month.parquet", row_group_size=1 << 20)
pq.write_table(month.take(rng.permutation(n)), f"{d}/month_shuffled.parquet", row_group_size=1 << 20)
PY
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
    local case=$1 o="$out/p.json"
    case $case in
        plain) args=("$dir/train.parquet") ;;
        sliced) args=("$dir/train.parquet" --slice-by s_low) ;;
        labelled) args=("$dir/train.parquet" --label b_flag) ;;
        labelled_numbers) args=("$dir/train.parquet" --label f_normal) ;;
        month) args=("$dir/month.parquet") ;;
        windowed) args=("$dir/month.parquet" --window ts=1d); o="$out/w" ;;
        windowed_labelled) args=("$dir/month.parquet" --window ts=1d --label b_flag); o="$out/w" ;;
        shuffled_plain) args=("$dir/month_shuffled.parquet") ;;
        shuffled_windowed) args=("$dir/month_shuffled.parquet" --window ts=1d); o="$out/w" ;;
    esac
    rm -rf "$out/w" "$out/p.json"
    /usr/bin/time -f "%e" -o "$out/t" "$bin" profile "${args[@]}" -o "$o" --quiet
    cat "$out/t"
}
declare -A times
for i in $(seq "$rounds"); do
    line="round $i:"
    # Rotate the order so that no case always runs first.
    for k in $(seq 0 $((${#names[@]} - 1))); do
        c=${names[$(( (k + i) % ${#names[@]} ))]}
        t=$(run "$c")
        times[$c]="${times[$c]:-} $t"
        line="$line $c $t s,"
    done
    echo "$line"
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for c in "${names[@]}"; do printf 'median %s %.3f s\n' "$c" "$(median "${times[$c]}")"; done
ratio() {
    [ -n "${times[$1]:-}" ] && [ -n "${times[$2]:-}" ] || return 0
    printf '%s/%s %.3f\n' "$1" "$2" "$(echo "$(median "${times[$1]}") / $(median "${times[$2]}")" | bc -l)"
}
ratio sliced plain; ratio labelled plain; ratio labelled_numbers plain
ratio windowed month; ratio windowed_labelled month; ratio shuffled_windowed shuffled_plain
