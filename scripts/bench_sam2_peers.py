#!/usr/bin/env python3
"""Times the official SAM 2.1 image predictor (sam2 1.1.0 on PyTorch) and `segterm bench model` on the
same checkpoint, one after the other in one run with the same thread count, and prints the ratios
and both processes' peak RSS. Record the output in BENCHMARKS.md.

Usage:
    python3 scripts/bench_sam2_peers.py CHECKPOINT [--venv /tmp/sam2-venv] [--threads 2] [--segterm .build/release/segterm]

CHECKPOINT is an official `sam2.1_hiera_{tiny,small,base_plus,large}.pt` (or the random-weight tiny
from `scripts/make_sam2_fixture.py --tiny DIR`); the variant is read from its trunk's width and depth.
The first run creates the venv with the pinned packages below; later runs reuse it.
"""
import argparse
import json
import os
import subprocess
import venv
from pathlib import Path

PACKAGES = ["torch==2.15.0", "torchvision==0.29.2", "sam2==1.1.0", "numpy", "pillow", "safetensors"]


def ensure_venv(path: Path) -> Path:
    py = path / "bin" / "python"
    if not py.exists():
        venv.create(path, with_pip=True)
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", *PACKAGES])
    return py


INNER = r'''
import json, resource, sys, time, warnings
import numpy as np
import torch
warnings.filterwarnings("ignore")
ckpt, threads, runs, clicks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
from sam2.build_sam import build_sam2
from sam2.sam2_image_predictor import SAM2ImagePredictor
sd = torch.load(ckpt, map_location="cpu", weights_only=True)["model"]
key = "image_encoder.trunk.patch_embed.proj.weight"
width = sd[key].shape[0]
depth = len({k.split(".")[3] for k in sd if k.startswith("image_encoder.trunk.blocks.")})
config = {(96, 12): "t", (96, 16): "s", (112, 24): "b+", (144, 48): "l"}[(width, depth)]
del sd
model = build_sam2(f"configs/sam2.1/sam2.1_hiera_{config}.yaml", ckpt_path=ckpt, device="cpu", mode="eval")
pred = SAM2ImagePredictor(model)
rng = np.random.RandomState(12345)
img = rng.randint(0, 256, (1024, 1024, 3), dtype=np.uint8)
CPU = {}
def median_ms(fn, n, warm=2, key=None):
    for _ in range(warm): fn()
    ts, cs = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time(); fn()
        ts.append((time.perf_counter() - t) * 1e3); cs.append((time.process_time() - c) * 1e3)
    if key: CPU[key] = float(np.median(cs))
    return float(np.median(ts))
with torch.inference_mode():
    enc = median_ms(lambda: pred.set_image(img), runs, warm=1, key="encoderCpuMs")
    pt = np.array([[512.0, 460.0]], dtype=np.float32); lab = np.array([1])
    click = median_ms(lambda: pred.predict(point_coords=pt, point_labels=lab, multimask_output=True), clicks, key="clickWithMasksCpuMs")
print(json.dumps({"config": config, "torch": torch.__version__, "threads": threads, "encoderMs": enc, "clickWithMasksMs": click,
                  "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **CPU}))
'''


def tensor_bytes(checkpoint: str, py: Path) -> int:
    """Bytes of the tensors the image path reads (the video-only ones are not loaded)."""
    code = ("import sys, torch; sd = torch.load(sys.argv[1], map_location='cpu', weights_only=True)['model']; "
            "video = ('memory_attention.', 'memory_encoder.', 'maskmem_tpos_enc', 'obj_ptr', 'no_obj_', 'mask_downsample.', 'no_mem_pos_enc');"
            "print(sum(v.numel() * v.element_size() for k, v in sd.items() if not k.startswith(video)))")
    return int(subprocess.check_output([str(py), "-c", code, checkpoint]).decode().strip())


def print_rates(cost, ours, peer):
    """GFLOP/s of both encoders on segterm's count of the official model's work, against the SGEMM
    peak segterm measured in the same run (2048³ through OpenBLAS at these threads), and what the
    0.4× target would need."""
    g = cost["gflopPerImage"]
    for label, key, peak in (("wall", "encoderMs", cost["sgemmPeakWall"]), ("CPU", "encoderCpuMs", cost["sgemmPeakCPU"])):
        ro, rp = g / (ours[key] / 1e3), g / (peer[key] / 1e3)
        print(f"{'encoder GFLOP/s (' + label + ')':30s}{ro:10.1f}{rp:10.1f}   SGEMM peak {peak:.1f}: "
              f"segterm {ro / peak:.0%}, PyTorch {rp / peak:.0%}")
    need = g / (0.4 * peer["encoderMs"] / 1e3)
    need_cpu = g / (0.4 * peer["encoderCpuMs"] / 1e3)
    print(f"encoder: {g:.1f} GFLOP per image; 0.4x PyTorch would need {need:.0f} GFLOP/s by wall time "
          f"({need / cost['sgemmPeakWall']:.2f}x the SGEMM peak), {need_cpu:.0f} by CPU time ({need_cpu / cost['sgemmPeakCPU']:.2f}x)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--venv", default="/tmp/sam2-venv")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--clicks", type=int, default=30)
    ap.add_argument("--segterm", default=str(Path(__file__).resolve().parent.parent / ".build/release/segterm"))
    a = ap.parse_args()
    py = ensure_venv(Path(a.venv))
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    peer = json.loads(subprocess.check_output([str(py), "-c", INNER, a.checkpoint, str(a.threads), str(a.runs), str(a.clicks)],
                                              env=env).decode().strip().splitlines()[-1])
    # wait4 gives this child's own peak RSS.
    proc = subprocess.Popen([a.segterm, "bench", "model", "--model", a.checkpoint, "--threads", str(a.threads),
                             "--encoder-runs", str(a.runs), "--clicks", str(a.clicks), "--format", "json"], stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"segterm bench failed ({status})")
    ours = json.loads(out)
    rss = usage.ru_maxrss / 1024
    budget = tensor_bytes(a.checkpoint, py) * 1.5 / 2**20 + 300
    print(json.dumps({"pytorch": peer, "segterm": ours}, indent=1))
    print(f"\n{'':30s}{'segterm':>10s}{'PyTorch':>10s}{'segterm/PyTorch':>17s}")
    print(f"{'image encoder (ms)':30s}{ours['encoderMs']:10.1f}{peer['encoderMs']:10.1f}{ours['encoderMs'] / peer['encoderMs']:17.2f}")
    print(f"{'click, 3 masks at 1024 (ms)':30s}{ours['clickWithMasksMs']:10.2f}{peer['clickWithMasksMs']:10.2f}"
          f"{ours['clickWithMasksMs'] / peer['clickWithMasksMs']:17.2f}")
    print(f"{'image encoder CPU (ms)':30s}{ours['encoderCpuMs']:10.1f}{peer['encoderCpuMs']:10.1f}{ours['encoderCpuMs'] / peer['encoderCpuMs']:17.2f}")
    print(f"{'click CPU (ms)':30s}{ours['clickWithMasksCpuMs']:10.2f}{peer['clickWithMasksCpuMs']:10.2f}"
          f"{ours['clickWithMasksCpuMs'] / peer['clickWithMasksCpuMs']:17.2f}")
    print(f"{'peak RSS (MB)':30s}{rss:10.0f}{peer['peakRssMB']:10.0f}   budget {budget:.0f} MB (tensor bytes x 1.5 + 300)")
    cost = ours.get("encoderCost")
    if cost:
        print_rates(cost, ours, peer)
    print(f"load average during the segterm run: {ours['loadAverage']:.2f}")
    print(f"(segterm: {ours['threads']} threads, OpenBLAS {ours['blasCore']}; PyTorch {peer['torch']}, {peer['threads']} threads)")


if __name__ == "__main__":
    main()
