#!/usr/bin/env python3
"""Times the official SAM 3 interactive image predictor (`sam3` 0.1.4 on PyTorch, CPU edits of
scripts/make_sam3_fixture.py) and `segterm bench model` on the same checkpoint, one after the other
in one run with the same thread count; prints the ratios, both processes' peak RSS, the encoder's
GFLOP/s and the fraction of the machine's SGEMM peak (scripts/sgemm_peak.c against the OpenBLAS
segterm links). Record the output in BENCHMARKS.md.

Usage:
    python3 scripts/bench_sam3_peers.py CHECKPOINT [--venv /tmp/sam3-venv] [--threads 2] [--runs 1] [--warmup 1] [--clicks 10]

CHECKPOINT is an official-layout sam3.pt (`detector.` + `tracker.` keys; the random-weight one from
`scripts/make_sam3_fixture.py --full DIR` has the real sizes). The venv is the fixture script's
(its docstring says how to make it). One `set_image` takes about a minute on 2 cores: the defaults
time one run after one warm-up.
"""
import argparse
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

INNER = r'''
import json, resource, sys, time, warnings
import numpy as np
import torch
warnings.filterwarnings("ignore")
ckpt, threads, runs, warm, clicks, scripts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
torch.set_num_threads(threads)
sys.path.insert(0, scripts)
import make_sam3_fixture as fx
fx.patch_sources()
model = fx.build(fx.FULL, reduced=False, vocab=fx.bpe_path())
fx.load_official(model, ckpt)
pred = model.inst_interactive_predictor
pred.model.backbone = model.backbone  # as the fixture: set_image runs the detector's backbone
g = fx.FULL["img_size"] // fx.FULL["patch_size"]
pred._bb_feat_sizes = [(4 * g, 4 * g), (2 * g, 2 * g), (g, g)]
rng = np.random.RandomState(12345)
img = rng.randint(0, 256, (1024, 1024, 3), dtype=np.uint8)
CPU = {}
def median_ms(fn, n, warm, key):
    for _ in range(warm): fn()
    ts, cs = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time(); fn()
        ts.append((time.perf_counter() - t) * 1e3); cs.append((time.process_time() - c) * 1e3)
    CPU[key] = float(np.median(cs))
    return float(np.median(ts))
with torch.inference_mode():
    enc = median_ms(lambda: pred.set_image(img), runs, warm, "encoderCpuMs")
    pt = np.array([[512.0, 460.0]], dtype=np.float32); lab = np.array([1])
    click = median_ms(lambda: pred.predict(point_coords=pt, point_labels=lab, multimask_output=True), clicks, 2, "clickWithMasksCpuMs")
print(json.dumps({"torch": torch.__version__, "threads": threads, "encoderMs": enc, "clickWithMasksMs": click,
                  "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **CPU}))
'''


def encoder_gflop(img=1008, patch=14, C=1024, depth=32, hidden=4736, window=24, global_blocks=4, d=256):
    """Multiply-adds × 2 of the image path segterm runs (ViT, the sam2_convs neck, conv_s0/s1)."""
    g = img // patch
    n = g * g
    f = 2 * 3 * patch * patch * C * n                                # patch embedding
    per_token = 2 * (3 * C * C + C * C + 2 * C * hidden)             # qkv, proj, mlp
    f += depth * n * per_token
    win_tokens = window * window
    windows = ((g + window - 1) // window) ** 2
    f += (depth - global_blocks) * windows * 4 * win_tokens * win_tokens * C   # windowed q·k and p·v
    f += global_blocks * 4 * n * n * C                                         # global attention
    # Neck: ×4 (two transposed 2×2, 1×1, 3×3), ×2, ×1; conv_s0, conv_s1.
    f += 2 * (C * (C // 2) * 4 * n + (C // 2) * (C // 4) * 4 * 4 * n)
    f += 2 * ((C // 4) * d * 16 * n + d * d * 9 * 16 * n)
    f += 2 * (C * (C // 2) * 4 * n + (C // 2) * d * 4 * n + d * d * 9 * 4 * n)
    f += 2 * (C * d * n + d * d * 9 * n)
    f += 2 * (d * (d // 8) * 16 * n + d * (d // 4) * 4 * n)
    return f / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--venv", default="/tmp/sam3-venv")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--clicks", type=int, default=10)
    ap.add_argument("--segterm", default=str(ROOT / ".build/release/segterm"))
    a = ap.parse_args()
    py = Path(a.venv) / "bin" / "python"
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    peak_bin = "/tmp/segterm_sgemm_peak"
    subprocess.check_call(["cc", "-O2", str(ROOT / "scripts/sgemm_peak.c"), "-o", peak_bin, "-lopenblas"])
    peak = json.loads(subprocess.check_output([peak_bin, "4096", "5"], env=env).decode())
    peer = json.loads(subprocess.check_output([str(py), "-c", INNER, a.checkpoint, str(a.threads), str(a.runs), str(a.warmup),
                                               str(a.clicks), str(ROOT / "scripts")], env=env).decode().strip().splitlines()[-1])
    # wait4 gives this child's own peak RSS.
    proc = subprocess.Popen([a.segterm, "bench", "model", "--model", a.checkpoint, "--threads", str(a.threads),
                             "--encoder-runs", str(a.runs), "--warmup", str(a.warmup), "--clicks", str(a.clicks),
                             "--format", "json"], stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"segterm bench failed ({status})")
    ours = json.loads(out)
    rss = usage.ru_maxrss / 1024
    budget = os.path.getsize(a.checkpoint) / 2**20 + 1.5 * 1024
    flop = encoder_gflop()
    print(json.dumps({"pytorch": peer, "segterm": ours, "sgemmPeak": peak, "encoderGFLOP": flop}, indent=1))
    print(f"\n{'':30s}{'segterm':>10s}{'PyTorch':>10s}{'segterm/PyTorch':>17s}")
    for label, key, fmt in [("image encoder (ms)", "encoderMs", "10.0f"), ("image encoder CPU (ms)", "encoderCpuMs", "10.0f"),
                            ("click, 3 masks (ms)", "clickWithMasksMs", "10.1f"), ("click CPU (ms)", "clickWithMasksCpuMs", "10.1f")]:
        print(f"{label:30s}{ours[key]:{fmt}}{peer[key]:{fmt}}{ours[key] / peer[key]:17.2f}")
    print(f"{'peak RSS (MB)':30s}{rss:10.0f}{peer['peakRssMB']:10.0f}   budget {budget:.0f} MB (checkpoint bytes + 1.5 GB)")
    print(f"encoder {flop:.0f} GFLOP: segterm {flop / ours['encoderMs'] * 1e3:.1f} GFLOP/s, PyTorch {flop / peer['encoderMs'] * 1e3:.1f} GFLOP/s; "
          f"SGEMM peak {peak['gflops']:.1f} GFLOP/s ({peak['threads']} threads, {peak['core']}, n={peak['n']}): "
          f"segterm {flop / ours['encoderMs'] * 1e3 / peak['gflops']:.0%}, PyTorch {flop / peer['encoderMs'] * 1e3 / peak['gflops']:.0%}")
    print(f"load average during the segterm run: {ours['loadAverage']:.2f}")
    print(f"(segterm: {ours['threads']} threads, OpenBLAS {ours['blasCore']}; PyTorch {peer['torch']}, {peer['threads']} threads)")


if __name__ == "__main__":
    main()
