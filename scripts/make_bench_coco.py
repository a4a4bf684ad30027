#!/usr/bin/env python3
"""A large synthetic COCO data set for timing `segterm eval` against its peers.

Deterministic (fixed seed): N images of 640x480, 80 categories, about 7 objects
per image (70% polygons, 30% compressed RLE, 1% crowd), and D detections per
image as compressed RLE with boxes and scores (perturbed copies of the objects
plus false positives). Masks are built as runs directly, so making 1,000 images
takes seconds.

    python scripts/make_bench_coco.py OUT_DIR [--images 1000] [--dets 50] [--seed 0]

writes OUT_DIR/gt.json and OUT_DIR/results.json.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pycocotools.mask as mask_utils

W, H = 640, 480


def ellipse_rle(cx, cy, rx, ry, h=H, w=W):
    """Uncompressed column-major RLE of a filled ellipse (pixel centres inside)."""
    x0 = max(0, int(math.floor(cx - rx)))
    x1 = min(w - 1, int(math.ceil(cx + rx)))
    xs = np.arange(x0, x1 + 1)
    t = (xs + 0.5 - cx) / rx
    inside = np.abs(t) < 1
    hh = np.zeros_like(t)
    hh[inside] = ry * np.sqrt(1 - t[inside] ** 2)
    top = np.clip(np.ceil(cy - hh - 0.5), 0, h).astype(np.int64)
    bottom = np.clip(np.floor(cy + hh - 0.5) + 1, 0, h).astype(np.int64)
    counts, pos = [], 0
    for x, a, b, ok in zip(xs, top, bottom, inside):
        if not ok or b <= a:
            continue
        start, end = x * h + a, x * h + b
        if counts and start == pos:  # touches the previous run (full column): extend it
            counts[-1] += end - start
        else:
            counts.append(int(start - pos))
            counts.append(int(end - start))
        pos = end
    if not counts:
        return None
    counts.append(h * w - pos)
    return {"size": [h, w], "counts": [int(c) for c in counts]}


def compress(rle):
    r = mask_utils.frPyObjects(rle, rle["size"][0], rle["size"][1])
    r["counts"] = r["counts"].decode("ascii")
    return r


def polygon(cx, cy, rx, ry, n):
    pts = []
    for k in range(n):
        a = 2 * math.pi * k / n
        pts += [round(min(max(cx + rx * math.cos(a), 0), W), 2), round(min(max(cy + ry * math.sin(a), 0), H), 2)]
    return [pts]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--dets", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cats = [{"id": k + 1, "name": f"class{k + 1:02d}", "supercategory": "synthetic"} for k in range(80)]
    images, anns, dets = [], [], []
    aid = 1
    for i in range(args.images):
        img_id = i + 1
        images.append({"id": img_id, "width": W, "height": H, "file_name": f"{img_id:06d}.jpg"})
        objects = []
        for _ in range(int(rng.poisson(7)) or 1):
            cat = int(rng.integers(1, 81))
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            rx, ry = math.exp(rng.uniform(math.log(4), math.log(160))), math.exp(rng.uniform(math.log(4), math.log(160)))
            crowd = int(rng.random() < 0.01)
            if rng.random() < 0.7 and not crowd:
                seg = polygon(cx, cy, rx, ry, int(rng.integers(12, 40)))
                rle = mask_utils.merge(mask_utils.frPyObjects(seg, H, W))
            else:
                u = ellipse_rle(cx, cy, rx, ry)
                if u is None:
                    continue
                rle = mask_utils.frPyObjects(u, H, W)
                seg = u if crowd else compress(u)
            area = float(mask_utils.area(rle))
            if area == 0:
                continue
            box = [float(v) for v in mask_utils.toBbox(rle)]
            anns.append({"id": aid, "image_id": img_id, "category_id": cat, "segmentation": seg, "area": area,
                         "bbox": box, "iscrowd": crowd})
            aid += 1
            objects.append((cat, cx, cy, rx, ry))
        made = 0
        while made < args.dets:
            if objects and rng.random() < 0.6:
                cat, cx, cy, rx, ry = objects[int(rng.integers(0, len(objects)))]
                s = rng.uniform(0.7, 1.3)
                cx += rng.normal(0, rx * 0.15); cy += rng.normal(0, ry * 0.15)
                rx *= s; ry *= rng.uniform(0.8, 1.2) * s
                if rng.random() < 0.1:
                    cat = int(rng.integers(1, 81))
            else:
                cat = int(rng.integers(1, 81))
                cx, cy = rng.uniform(0, W), rng.uniform(0, H)
                rx, ry = math.exp(rng.uniform(math.log(3), math.log(120))), math.exp(rng.uniform(math.log(3), math.log(120)))
            u = ellipse_rle(cx, cy, max(rx, 1.0), max(ry, 1.0))
            if u is None:
                continue
            r = compress(u)
            box = [float(v) for v in mask_utils.toBbox(mask_utils.frPyObjects(u, H, W))]
            dets.append({"image_id": img_id, "category_id": cat, "segmentation": r, "bbox": box,
                         "score": round(float(rng.uniform(0.01, 1.0)), 4)})
            made += 1
    with open(out / "gt.json", "w") as f:
        json.dump({"info": {"description": "segterm synthetic benchmark"}, "images": images, "annotations": anns,
                   "categories": cats}, f)
    with open(out / "results.json", "w") as f:
        json.dump(dets, f)
    print(f"{len(images)} images, {len(anns)} annotations, {len(dets)} detections -> {out}")


if __name__ == "__main__":
    main()
