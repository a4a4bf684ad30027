#!/usr/bin/env bash
# Times `segterm eval` against pycocotools, faster-coco-eval and hotcoco on the same
# synthetic COCO files, end to end (process start to stats, JSON reading included),
# in one run. Peers are installed from PyPI into a throwaway virtualenv.
#
#   scripts/bench_eval.sh [IMAGES] [DETS] [RUNS] [IOU_TYPE]     (defaults 1000 50 3 segm)
#   SEGTERM_BIN=.build/release/segterm scripts/bench_eval.sh ...   (time this binary, no build)
#
#   BENCH_VENV=/tmp/bench-eval-venv ...   (reuse a virtualenv that has the three peers)
#   BENCH_DATA=/tmp/d20000 ...             (reuse a data folder made by make_bench_coco.py)
#
# Prints one line per tool: median wall time over RUNS, ratio to segterm, the median peak
# resident size (/usr/bin/time's maximum RSS, the process's VmHWM) and its ratio to segterm's,
# and AP.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-1000}
DETS=${2:-50}
RUNS=${3:-3}
IOU=${4:-segm}
WORK=$(mktemp -d /tmp/segterm-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ -n "${BENCH_VENV:-}" ]; then
    PY="$BENCH_VENV/bin/python"
else
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q numpy pycocotools faster-coco-eval hotcoco
    PY="$WORK/venv/bin/python"
fi
"$PY" - <<'PYEOF'
import importlib.metadata as m
print("versions:", ", ".join(f"{p} {m.version(p)}" for p in ["pycocotools", "faster-coco-eval", "hotcoco", "numpy"]))
PYEOF

DATA=${BENCH_DATA:-$WORK/data}
[ -f "$DATA/results.json" ] || "$PY" scripts/make_bench_coco.py "$DATA" --images "$IMAGES" --dets "$DETS"
# SEGTERM_BIN: a segterm already built (e.g. by `swift build -c release -Xswiftc -enable-testing
# --build-tests`, so that the benchmark does not rebuild with other flags and the timed runs never
# share the cores with a build).
if [ -n "${SEGTERM_BIN:-}" ]; then
    SEGTERM=$SEGTERM_BIN
else
    swift build -c release --product segterm >/dev/null
    SEGTERM=.build/release/segterm
fi

# The runs go round the tools (segterm, hotcoco, faster-coco-eval, pycocotools, then again), so
# that a change in the machine's load during the benchmark touches every tool alike; each tool's
# figure is the median of its RUNS wall-clock times. Each tool's last stdout line is kept.
TOOLS=(segterm hotcoco faster-coco-eval pycocotools)
# BENCH_TOOLS="segterm hotcoco": fewer peers (pycocotools takes minutes at 20,000 images).
[ -n "${BENCH_TOOLS:-}" ] && read -r -a TOOLS <<< "$BENCH_TOOLS"
run_tool() {
    if [ "$1" = segterm ]; then
        /usr/bin/time -f "%e %M" -o "$WORK/time" "$SEGTERM" eval --gt "$DATA/gt.json" --pred "$DATA/results.json" --iou-type "$IOU" --format json --failures 0
    else
        /usr/bin/time -f "%e %M" -o "$WORK/time" "$PY" scripts/bench_eval_tool.py "$1" "$IOU" "$DATA/gt.json" "$DATA/results.json"
    fi
}

echo "data: $IMAGES images x $DETS detections, $IOU, median of $RUNS runs (round robin), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$RUNS"); do
    for tool in "${TOOLS[@]}"; do
        t0=$(date +%s.%N)
        run_tool "$tool" > "$WORK/out-$tool" 2> "$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
        t1=$(date +%s.%N)
        echo "$t1 - $t0" | bc -l >> "$WORK/times-$tool"
        # /usr/bin/time's maximum resident size in KB (its own start adds about a millisecond).
        read -r _ rss < <(tail -1 "$WORK/time")
        echo "$rss" >> "$WORK/rss-$tool"
    done
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t_seg=$(median "$WORK/times-segterm")
m_seg=$(median "$WORK/rss-segterm")
ap_seg=$(python3 -c "import json; print(json.load(open('$WORK/out-segterm'))['stats'][0])")
printf '%-18s %8.3f s  %6s  peak RSS %7.1f MB  %6s  AP %s\n' segterm "$t_seg" "1.00x" "$(echo "$m_seg / 1024" | bc -l)" "1.00x" "$ap_seg"
for tool in "${TOOLS[@]:1}"; do
    t=$(median "$WORK/times-$tool")
    m=$(median "$WORK/rss-$tool")
    ap=$(python3 -c "import json; print(json.loads(open('$WORK/out-$tool').read().splitlines()[-1])[0])")
    printf '%-18s %8.3f s  %5.2fx  peak RSS %7.1f MB  %5.2fx  AP %s\n' "$tool" "$t" "$(echo "$t / $t_seg" | bc -l)" \
        "$(echo "$m / 1024" | bc -l)" "$(echo "$m / $m_seg" | bc -l)" "$ap"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
