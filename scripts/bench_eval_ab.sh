#!/usr/bin/env bash
# Two or more segterm builds and hotcoco, round robin in the same minutes: on a shared machine
# the load then touches every side alike. Prints each side's median wall time and hotcoco's time
# over it (above 1: faster than hotcoco).
#
#   BENCH_VENV=/tmp/bench-eval-venv BENCH_DATA=/tmp/evalmem/d5000 scripts/bench_eval_ab.sh RUNS OLD_SEGTERM NEW_SEGTERM…
#
# BENCH_DATA: a folder made by scripts/make_bench_coco.py (gt.json, results.json); BENCH_VENV: a
# virtualenv with hotcoco (bench_eval.sh makes one).
set -euo pipefail
RUNS=$1; shift
DATA=${BENCH_DATA:?BENCH_DATA: a folder with gt.json and results.json}
PY=${BENCH_VENV:?BENCH_VENV: a virtualenv with hotcoco}/bin/python
TOOL="$(dirname "$0")/bench_eval_tool.py"
WORK=$(mktemp -d /tmp/segterm-ab-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SIDES=("$@" hotcoco)
echo "data: $DATA, median of $RUNS runs (round robin), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$RUNS"); do
    for i in "${!SIDES[@]}"; do
        side=${SIDES[$i]}
        t0=$(date +%s.%N)
        if [ "$side" = hotcoco ]; then
            "$PY" "$TOOL" hotcoco segm "$DATA/gt.json" "$DATA/results.json" > /dev/null
        else
            "$side" eval --gt "$DATA/gt.json" --pred "$DATA/results.json" --iou-type segm --format json --failures 0 > /dev/null
        fi
        t1=$(date +%s.%N)
        echo "$t1 - $t0" | bc -l >> "$WORK/times-$i"
    done
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
last=$((${#SIDES[@]} - 1))
h=$(median "$WORK/times-$last")
for i in "${!SIDES[@]}"; do
    m=$(median "$WORK/times-$i")
    printf '%-40s %7.3f s   hotcoco / this %.2f\n' "${SIDES[$i]}" "$m" "$(echo "$h / $m" | bc -l)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
