#!/bin/bash
# Latency of the workbench on a CT-sized volume (issue #20, item 5): the release binary in tmux on
# a synthetic 512x512x300 int16 CT (72 MB .nii.gz) made with nibabel in /tmp/medbig. By hand:
#   swift build -c release && scripts/time_volume_workbench.sh
set -e
if [ ! -f /tmp/medbig/imagesTr/big_000_0000.nii.gz ]; then
  mkdir -p /tmp/medbig/imagesTr /tmp/medbig/labelsTr
  /tmp/med-venv/bin/python - <<'PY'
import json, nibabel as nib, numpy as np
shape = (512, 512, 300)
x, y = np.meshgrid(np.arange(512), np.arange(512), indexing="ij")
body = ((x - 256) ** 2 / 230 ** 2 + (y - 256) ** 2 / 180 ** 2) <= 1
vol = np.full(shape, -1000, np.int16)
vol[body, :] = 40
vol = vol + np.random.default_rng(1).integers(-20, 20, size=shape, dtype=np.int16)
aff = np.diag([-0.7, -0.7, 1.5, 1.0])
nib.save(nib.Nifti1Image(vol, aff), "/tmp/medbig/imagesTr/big_000_0000.nii.gz")
lab = np.zeros(shape, np.uint8); lab[body, 100:200] = 1
nib.save(nib.Nifti1Image(lab, aff), "/tmp/medbig/labelsTr/big_000.nii.gz")
json.dump({"channel_names": {"0": "CT"}, "labels": {"background": 0, "body": 1}, "file_ending": ".nii.gz"}, open("/tmp/medbig/dataset.json", "w"))
PY
fi
rm -rf /tmp/medbig-segterm-out
BIN=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/.build/release/segterm}
S=medbig
tmux -L medbig kill-session -t $S 2>/dev/null || true
t0=$(date +%s.%N)
tmux -L medbig new-session -d -s $S -x 120 -y 36 "$BIN open /tmp/medbig; echo EXITED \$?; sleep 60"
wait_for() { while ! tmux -L medbig capture-pane -p -t $S | grep -q "$1"; do sleep 0.05; done; }
wait_for "grabcut: ready"; wait_for "W400"; t1=$(date +%s.%N); echo "open to first slice ready: $(echo "$t1 - $t0" | bc) s"
tmux -L medbig capture-pane -p -t $S | tail -1
tmux -L medbig send-keys -t $S '>'; t0=$(date +%s.%N); wait_for "axial 152/300"; wait_for "grabcut: ready"; t1=$(date +%s.%N); echo "next slice ready: $(echo "$t1 - $t0" | bc) s"
tmux -L medbig send-keys -t $S '+'; wait_for "done in"; tmux -L medbig capture-pane -p -t $S | tail -1
tmux -L medbig send-keys -t $S Enter; sleep 0.3; tmux -L medbig send-keys -t $S Enter; t0=$(date +%s.%N)
while [ ! -f /tmp/medbig-segterm-out/labels/big_000.nii.gz ]; do sleep 0.02; done; t1=$(date +%s.%N); echo "accept to label volume on disk: $(echo "$t1 - $t0" | bc) s"
tmux -L medbig send-keys -t $S 'v'; t0=$(date +%s.%N); wait_for "coronal"; wait_for "grabcut: ready"; t1=$(date +%s.%N); echo "coronal ready: $(echo "$t1 - $t0" | bc) s"
tmux -L medbig capture-pane -p -t $S | tail -1
tmux -L medbig send-keys -t $S 'v'; t0=$(date +%s.%N); wait_for "sagittal"; wait_for "grabcut: ready"; t1=$(date +%s.%N); echo "sagittal ready: $(echo "$t1 - $t0" | bc) s"
tmux -L medbig send-keys -t $S q; sleep 1; tmux -L medbig kill-session -t $S || true
