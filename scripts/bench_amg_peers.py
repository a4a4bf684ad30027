#!/usr/bin/env python3
"""Times the official automatic mask generator (segment-anything 1.0's / MobileSAM's
`SamAutomaticMaskGenerator`, sam2 1.1.0's `SAM2AutomaticMaskGenerator`) and `segterm bench
automask` on the same checkpoint and image, one after the other in one run, and prints the ratios.
Record the output in BENCHMARKS.md.

    /tmp/sam2-venv/bin/python scripts/bench_amg_peers.py CHECKPOINT [--image PNG] [--threads 2] [--runs 1]
        [--points-per-side 32] [--pred-iou-thresh T] [--stability-score-thresh T] [--segterm .build/release/segterm]

The venv is the one of make_sam2_fixture.py plus `segment-anything==1.0 mobilesam-mirror==1.0.0 timm
opencv-python-headless`. A SAM 2.1 checkpoint's variant is read from its file name
(sam2.1_hiera_{tiny,small,base_plus,large}*.pt). Without --image both sides use the deterministic
1024x1024 noise image of `segterm bench model` (written to /tmp/amg-bench-noise.png).
"""
import argparse
import json
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

warnings.filterwarnings("ignore")


def noise_image():
    # The LCG of `segterm bench model`, byte by byte.
    n = 1024 * 1024 * 3
    out = np.empty(n, dtype=np.uint8)
    state = 12345
    for i in range(n):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = state >> 24
    return out.reshape(1024, 1024, 3)


def official_generator(ckpt, kw):
    sd = torch.load(ckpt, map_location="cpu")
    if "model" in sd and isinstance(sd["model"], dict):
        from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator
        from sam2.build_sam import build_sam2
        variant = re.search(r"hiera_(tiny|small|base_plus|large)", Path(ckpt).name).group(1)
        short = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}[variant]
        model = build_sam2(f"configs/sam2.1/sam2.1_hiera_{short}.yaml", ckpt_path=None, device="cpu", mode="eval")
        model.load_state_dict(sd["model"], strict=True)
        return "sam2.1_" + variant, SAM2AutomaticMaskGenerator(model.eval(), **kw)
    if "image_encoder.patch_embed.seq.0.c.weight" in sd:
        import mobile_sam
        sam = mobile_sam.sam_model_registry["vit_t"]()
        sam.load_state_dict(sd)
        return "mobile_sam", mobile_sam.SamAutomaticMaskGenerator(sam.eval(), **kw)
    import segment_anything
    for name in ("vit_b", "vit_l", "vit_h"):
        try:
            sam = segment_anything.sam_model_registry[name]()
            sam.load_state_dict(sd)
            return "sam_" + name, segment_anything.SamAutomaticMaskGenerator(sam.eval(), **kw)
        except RuntimeError:
            continue
    raise SystemExit(f"{ckpt}: not a SAM / MobileSAM / SAM 2.1 checkpoint this script builds")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--image")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--points-per-side", type=int)
    ap.add_argument("--pred-iou-thresh", type=float)
    ap.add_argument("--stability-score-thresh", type=float)
    ap.add_argument("--segterm", default=".build/release/segterm")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.image:
        image_path = a.image
        img = np.array(Image.open(a.image).convert("RGB"))
    else:
        image_path = "/tmp/amg-bench-noise.png"
        img = noise_image()
        Image.fromarray(img).save(image_path)
    kw, flags = {}, []
    for key, flag in (("points_per_side", "--points-per-side"), ("pred_iou_thresh", "--pred-iou-thresh"),
                      ("stability_score_thresh", "--stability-score-thresh")):
        v = getattr(a, key)
        if v is not None:
            kw[key] = v
            flags += [flag, str(v)]
    name, gen = official_generator(a.checkpoint, kw)
    walls, cpus, count = [], [], 0
    with torch.inference_mode():
        for _ in range(a.runs):
            t, c = time.perf_counter(), time.process_time()
            count = len(gen.generate(img))
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
    off = {"tool": "official", "model": name, "masks": count, "wall_s": sorted(walls)[len(walls) // 2], "cpu_s": sorted(cpus)[len(cpus) // 2]}
    print(json.dumps(off), flush=True)
    out = subprocess.run([a.segterm, "bench", "automask", "--model", a.checkpoint, "--image", image_path, "--threads", str(a.threads),
                          "--runs", str(a.runs), *flags], check=True, capture_output=True, text=True).stdout
    ours = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(ours))
    print(f"{name}, {img.shape[1]}x{img.shape[0]}, {a.threads} threads, options {kw or 'official defaults'}: "
          f"masks official {off['masks']} / segterm {ours['masks']}; "
          f"official / segterm: wall {off['wall_s'] / ours['wall_s']:.2f}x, CPU {off['cpu_s'] / ours['cpu_s']:.2f}x")


if __name__ == "__main__":
    main()
