#!/usr/bin/env bash
# Times `segterm eval` against pycocotools, faster-coco-eval and hotcoco on the same
# synthetic COCO files, end to end (process start to stats, JSON reading included),
# in one run. Peers are installed from PyPI into a throwaway virtualenv.
#
#   scripts/bench_eval.sh [IMAGES] [DETS] [RUNS] [IOU_TYPE]     (defaults 1000 50 3 segm)
#   SEGTERM_BIN=.build/release/segterm scripts/bench_eval.sh ...   (time this binary, no build)
#
# Prints one line per tool: median wall time over RUNS, ratio to segterm, and AP.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-1000}
DETS=${2:-50}
RUNS=${3:-3}
IOU=${4:-segm}
WORK=$(mktemp -d /tmp/segterm-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q numpy pycocotools faster-coco-eval hotcoco
PY="$WORK/venv/bin/python"
"$PY" - <<'PYEOF'
import importlib.metadata as m
print("versions:", ", ".join(f"{p} {m.version(p)}" for p in ["pycocotools", "faster-coco-eval", "hotcoco", "numpy"]))
PYEOF

"$PY" scripts/make_bench_coco.py "$WORK/data" --images "$IMAGES" --dets "$DETS"
# SEGTERM_BIN: a segterm already built (e.g. by `swift build -c release -Xswiftc -enable-testing
# --build-tests`, so that the benchmark does not rebuild with other flags and the timed runs never
# share the cores with a build).
if [ -n "${SEGTERM_BIN:-}" ]; then
    SEGTERM=$SEGTERM_BIN
else
    swift build -c release --product segterm >/dev/null
    SEGTERM=.build/release/segterm
fi

# median of RUNS wall-clock seconds of a command; its stdout's last line kept in $WORK/last
time_cmd() {
    local times=()
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err" >&2; return 1; }
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    tail -n 1 "$WORK/out" > "$WORK/last"
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

echo "data: $IMAGES images x $DETS detections, $IOU, median of $RUNS runs, $(nproc) cores"
t_seg=$(time_cmd "$SEGTERM" eval --gt "$WORK/data/gt.json" --pred "$WORK/data/results.json" --iou-type "$IOU" --format json --failures 0)
ap_seg=$(python3 -c "import json,sys; print(json.load(open('$WORK/out'))['stats'][0])")
printf '%-18s %8.3f s  %6s  AP %s\n' segterm "$t_seg" "1.00x" "$ap_seg"
for tool in hotcoco faster-coco-eval pycocotools; do
    t=$(time_cmd "$PY" scripts/bench_eval_tool.py "$tool" "$IOU" "$WORK/data/gt.json" "$WORK/data/results.json")
    ap=$(python3 -c "import json; print(json.loads(open('$WORK/last').read())[0])")
    printf '%-18s %8.3f s  %5.2fx  AP %s\n' "$tool" "$t" "$(echo "$t / $t_seg" | bc -l)" "$ap"
done
