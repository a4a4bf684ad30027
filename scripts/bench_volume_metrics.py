#!/usr/bin/env python3
"""Volume metrics benchmark, side by side in one run: segterm vs MONAI on one 512×512×300 label
pair with 5 foreground classes (Dice, HD95 and NSD of every class), the same thread count, and
the .nii.gz read speed against zlib's inflate on a ~200 MB file.

    /tmp/med-venv/bin/python scripts/bench_volume_metrics.py .build/release/segterm [threads]

Writes its inputs to /tmp/segterm-bench-volume (not committed). MONAI's time covers reading the
two files with nibabel, the one-hot encoding the metrics need, DiceMetric,
HausdorffDistanceMetric(percentile=95) and SurfaceDiceMetric; segterm's is the whole
`segterm eval --task volume` process (reading included). Best of BENCH_REPS (3) runs each.
"""
import json
import os
import subprocess
import sys
import time
import zlib

import numpy as np

segterm = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
os.environ["OMP_NUM_THREADS"] = str(threads)
import nibabel as nib  # noqa: E402
import torch  # noqa: E402
from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric  # noqa: E402

torch.set_num_threads(threads)
root = "/tmp/segterm-bench-volume"
shape = (512, 512, 300)
spacing = (0.8, 0.8, 1.5)
rng = np.random.default_rng(0)


def make_pair():
    os.makedirs(f"{root}/gt", exist_ok=True)
    os.makedirs(f"{root}/pred", exist_ok=True)
    if os.path.exists(f"{root}/pred/case_000.nii.gz"):
        return
    x = np.arange(shape[0])[:, None, None]
    y = np.arange(shape[1])[None, :, None]
    z = np.arange(shape[2])[None, None, :]
    ref = np.zeros(shape, np.uint8)
    pred = np.zeros(shape, np.uint8)
    organs = [((200, 260, 150), (110, 90, 80)), ((330, 250, 140), (50, 60, 50)), ((256, 360, 150), (25, 25, 140)),
              ((180, 200, 120), (30, 25, 20)), ((340, 180, 170), (40, 35, 60))]
    for label, (c, r) in enumerate(organs, start=1):
        d = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2
        ref[d <= 1] = label
        d2 = ((x - c[0] - 3) / (r[0] * 0.97)) ** 2 + ((y - c[1] + 2) / r[1]) ** 2 + ((z - c[2]) / (r[2] * 1.02)) ** 2
        pred[d2 <= 1] = label
    affine = np.diag(list(spacing) + [1.0])
    for folder, v in (("gt", ref), ("pred", pred)):
        nib.save(nib.Nifti1Image(v, affine), f"{root}/{folder}/case_000.nii.gz")
    with open(f"{root}/dataset.json", "w") as fh:
        json.dump({"labels": {"background": 0, **{f"c{i}": i for i in range(1, 6)}}, "file_ending": ".nii.gz"}, fh)


def make_big():
    path = f"{root}/ct_200mb.nii.gz"
    if not os.path.exists(path):
        # Smooth structure plus noise: compresses to about 200 MB, as a real CT series barely does.
        v = (rng.normal(scale=300, size=(512, 512, 260))).astype(np.float32)
        nib.save(nib.Nifti1Image(v, np.diag(list(spacing) + [1.0])), path)
    return path


def monai_run():
    t = time.perf_counter()
    ref = torch.from_numpy(np.asanyarray(nib.load(f"{root}/gt/case_000.nii.gz").dataobj).astype(np.int64))
    pred = torch.from_numpy(np.asanyarray(nib.load(f"{root}/pred/case_000.nii.gz").dataobj).astype(np.int64))
    t_read = time.perf_counter() - t
    y = torch.nn.functional.one_hot(ref, 6).movedim(-1, 0)[None].bool()
    yp = torch.nn.functional.one_hot(pred, 6).movedim(-1, 0)[None].bool()
    dice = DiceMetric(include_background=False)(yp, y)
    hd95 = HausdorffDistanceMetric(include_background=False, percentile=95)(yp, y, spacing=list(spacing))
    nsd = SurfaceDiceMetric(class_thresholds=[1.0] * 5, include_background=False)(yp, y, spacing=list(spacing))
    total = time.perf_counter() - t
    return total, t_read, dice[0].tolist(), hd95[0].tolist(), nsd[0].tolist()


def segterm_run():
    t = time.perf_counter()
    out = subprocess.run([segterm, "eval", "--gt", f"{root}/gt", "--pred", f"{root}/pred", "--dataset-json", f"{root}/dataset.json",
                          "--workers", str(threads), "--format", "json"], check=True, capture_output=True, text=True).stdout
    total = time.perf_counter() - t
    doc = json.loads(out)
    s = doc["cases"][0]["structures"]
    return total, [c["Dice"] for c in s], [c["HD95"] for c in s], [c["NSD"] for c in s]


def inflate_run(path):
    t = time.perf_counter()
    d = zlib.decompressobj(wbits=31)
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += len(d.decompress(chunk))
    return time.perf_counter() - t, n


def segterm_read(path):
    t = time.perf_counter()
    subprocess.run([segterm, "info", path], check=True, capture_output=True)
    return time.perf_counter() - t


make_pair()
print(f"CPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}, threads {threads}")
reps = int(os.environ.get("BENCH_REPS", "3"))
m = [monai_run() for _ in range(reps)]
s = [segterm_run() for _ in range(reps)]
if reps > 0:  # BENCH_REPS=0 with --read: only the read benchmark
    mb, sb = min(m, key=lambda r: r[0]), min(s, key=lambda r: r[0])
    print(f"MONAI  (read + one-hot + Dice + HD95 + NSD): {mb[0]:.2f} s (of which reading {mb[1]:.2f} s)")
    print(f"segterm eval --task volume (process):        {sb[0]:.2f} s   → {mb[0] / sb[0]:.2f}× MONAI")
    print("Dice  MONAI", [round(v, 6) for v in mb[2]], " segterm", [round(v, 6) for v in sb[1]])
    print("HD95  MONAI", [round(v, 4) for v in mb[3]], " segterm", [round(v, 4) for v in sb[2]])
    print("NSD   MONAI", [round(v, 6) for v in mb[4]], " segterm", [round(v, 6) for v in sb[3]])
if "--read" in sys.argv:
    big = make_big()
    size = os.path.getsize(big)
    z = min(inflate_run(big)[0] for _ in range(3))
    r = min(segterm_read(big) for _ in range(3))
    print(f".nii.gz read, {size / 1e6:.0f} MB compressed: zlib inflate (Python zlib, 1 MB chunks) {z:.2f} s, "
          f"segterm info (whole process) {r:.2f} s → {z / r:.2f} of zlib's speed")
