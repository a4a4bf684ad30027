#!/usr/bin/env python3
"""Differential check of polygon rasterisation against pycocotools, through `segterm eval`.

Makes N random polygons (thin, flat, huge-coordinate, half-integer and free ones, partly outside
images of random sizes) as ground truth, and pycocotools' own masks of them (`frPyObjects`, as
compressed RLE) as detections, one per image; then evaluates with the IoU threshold 1.0. AP is 1
only if every mask segterm rasterises equals pycocotools' pixel for pixel.

    python scripts/check_polygon_raster.py SEGTERM [--polygons 10000] [--seed 7]
"""
import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pycocotools.mask as mu


def random_polygon(rng, w, h):
    n, kind = rng.randint(3, 40), rng.random()
    cx, cy = rng.uniform(-50, w + 50), rng.uniform(-50, h + 50)
    pts = []
    for _ in range(n):
        if kind < 0.3:    # steep, thin shapes (y-major edges)
            x, y = cx + rng.uniform(-3, 3), cy + rng.uniform(-300, 300)
        elif kind < 0.5:  # flat ones (x-major edges)
            x, y = cx + rng.uniform(-300, 300), cy + rng.uniform(-3, 3)
        elif kind < 0.55:  # far outside the image (pycocotools walks every step: kept moderate)
            x, y = rng.uniform(-2e4, 2e4), rng.uniform(-2e4, 2e4)
        elif kind < 0.7:  # vertices on integers and halves (rounding ties)
            x, y = round(rng.uniform(-10, w + 10) * 2) / 2, round(rng.uniform(-10, h + 10) * 2) / 2
        else:
            x, y = rng.uniform(-20, w + 20), rng.uniform(-20, h + 20)
        pts += [round(x, 3), round(y, 3)]
    return pts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("segterm")
    ap.add_argument("--polygons", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    images, anns, dets = [], [], []
    for i in range(args.polygons):
        h, w = rng.randint(1, 700), rng.randint(1, 700)
        images.append({"id": i + 1, "width": w, "height": h, "file_name": f"{i}.png"})
        pts = random_polygon(rng, w, h)
        rle = mu.merge(mu.frPyObjects([pts], h, w))
        area = float(mu.area(rle))
        if area == 0:
            continue
        anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "segmentation": [pts], "area": area,
                     "bbox": [float(v) for v in mu.toBbox(rle)], "iscrowd": 0})
        dets.append({"image_id": i + 1, "category_id": 1, "score": 0.5,
                     "segmentation": {"size": [h, w], "counts": rle["counts"].decode("ascii")}})
    with tempfile.TemporaryDirectory() as d:
        gt, res = Path(d) / "gt.json", Path(d) / "results.json"
        gt.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "p"}]}))
        res.write_text(json.dumps(dets))
        out = subprocess.run([args.segterm, "eval", "--gt", str(gt), "--pred", str(res), "--iou-type", "segm",
                              "--iou-thrs", "1.0", "--format", "json", "--failures", "0"],
                             check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    ap_exact = report["stats"][0]
    print(f"{len(anns)} polygons, AP at IoU 1.0: {ap_exact}, failures: {report['failures']['counts']}")
    sys.exit(0 if ap_exact == 1 else 1)


if __name__ == "__main__":
    main()
