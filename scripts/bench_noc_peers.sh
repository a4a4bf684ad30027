#!/usr/bin/env bash
# The interactive benchmark side by side on one machine, in one run: segterm's built-in model and
# OpenCV's GrabCut (the reference baseline script in ../shared/reference, method grabcut_first15),
# on the same set under the same protocol. Prints both reports and the speed ratio.
#
#   scripts/bench_noc_peers.sh [SET] [IGNORE]      e.g. scripts/bench_noc_peers.sh GrabCut 128
#
# Needs ../shared (datasets and reference) and a release build; creates a throwaway virtualenv
# under /tmp for the baseline's Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."
SET="${1:-GrabCut}"
IGNORE="${2:-}"
SHARED="$(cd .. && pwd)/shared"
VENV="${VENV:-/tmp/segterm-noc-venv}"
OUT="${OUT:-/tmp/segterm-noc-$SET}"
mkdir -p "$OUT"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q numpy scipy pillow opencv-python-headless scikit-image pyamg
fi
[ -x .build/release/segterm ] || swift build -c release

ignore_args=()
[ -n "$IGNORE" ] && ignore_args=(--ignore-value "$IGNORE")
echo "== segterm noc --model grabcut on $SET"
.build/release/segterm noc --images "$SHARED/datasets/$SET/images" --masks "$SHARED/datasets/$SET/masks" \
    --model grabcut "${ignore_args[@]}" --out "$OUT/segterm.json" | head -4

echo "== OpenCV GrabCut (reference/noc_baselines.py, grabcut_first15) on $SET"
(cd "$SHARED" && "$VENV/bin/python" reference/noc_baselines.py --datasets datasets --sets "$SET" \
    --methods grabcut_first15 --out "$OUT/opencv.json") | tail -5

"$VENV/bin/python" - "$OUT/segterm.json" "$OUT/opencv.json" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
peer = json.load(open(sys.argv[2]))
def find(d, key):
    if isinstance(d, dict):
        if key in d and not isinstance(d[key], (dict, list)): return d[key]
        for v in d.values():
            r = find(v, key)
            if r is not None: return r
    if isinstance(d, list):
        for v in d:
            r = find(v, key)
            if r is not None: return r
    return None
peer_spc = find(peer, "pred_s_per_click")  # the predictor's time, as segterm's spc
print(f"segterm: NoC@90 {ours['noc90']:.2f}, {ours['spc'] * 1000:.1f} ms per click")
print(f"OpenCV GrabCut: NoC@90 {find(peer, 'noc90')}, s/click {peer_spc}")
if peer_spc: print(f"speed ratio (OpenCV s/click / segterm s/click): {peer_spc / ours['spc']:.2f}x")
PY
