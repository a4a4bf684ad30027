#!/usr/bin/env python3
"""Golden values for `segterm eval` on LVIS-style (federated) ground truth (issue #18, item 2).

Builds a small synthetic LVIS v1-style data set (seeded; nothing from the real LVIS): images with
`neg_category_ids` and `not_exhaustive_category_ids`, categories with `frequency` r/c/f, polygon
ground truth with `area` (a few with `ignore: 1`), and two results files with RLE masks and
boxes that exercise every federated rule and quirk: detections of categories neither present nor listed
negative (left out), unmatched detections of not-exhaustive categories (ignored), an image with
more than 300 detections (LVISResults keeps the best 300), score ties, empty detections (area 0:
left out), and detections for an image without ground truth. Expected numbers are the `lvis` package's LVISEval results for segm
and bbox.

The lvis package (0.5.3) still calls `np.float`, which numpy removed in 1.24; the script sets
`np.float = float` (what the alias always was) before running it.

Run (from the repository root):

    python3 -m venv /tmp/eval-venv && /tmp/eval-venv/bin/pip install lvis pycocotools numpy
    /tmp/eval-venv/bin/python scripts/make_lvis_fixtures.py

It rewrites Tests/SegEvalTests/Fixtures/lvis/{gt.json, results-a.json, results-b.json, expected.json}.
"""
import json
import logging
import os
from importlib import metadata

import numpy as np
from pycocotools import mask as mask_utils

np.float = float  # lvis 0.5.3 uses the alias numpy removed
from lvis import LVIS, LVISEval, LVISResults  # noqa: E402

SEED = 20261207
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SegEvalTests", "Fixtures", "lvis")
FREQUENCIES = ["r", "r", "c", "c", "c", "f", "f", "f", "f", "r"]


def polygon(rng, w, h):
    cx, cy = rng.uniform(0.15 * w, 0.85 * w), rng.uniform(0.15 * h, 0.85 * h)
    # Sizes from a few pixels to large, so every area range has objects.
    r = float(np.exp(rng.uniform(np.log(2.5), np.log(0.5 * min(w, h)))))
    n = int(rng.integers(5, 10))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = r * rng.uniform(0.6, 1.0, n)
    xs = np.clip(cx + radii * np.cos(angles), 0, w)
    ys = np.clip(cy + radii * np.sin(angles), 0, h)
    return [float(round(v, 2)) for xy in zip(xs, ys) for v in xy]


def ground_truth(rng):
    categories = [{"id": i + 1, "name": f"thing{i + 1}", "synset": f"thing{i + 1}.n.01", "frequency": f,
                   "image_count": 1, "instance_count": 1} for i, f in enumerate(FREQUENCIES)]
    images, annotations = [], []
    ann_id = 1
    for i in range(14):
        w, h = int(rng.integers(200, 480)), int(rng.integers(180, 420))
        present = sorted(rng.choice(len(FREQUENCIES), size=int(rng.integers(1, 4)), replace=False) + 1)
        if i == 13:
            present = []  # an image with no ground truth at all
        absent = [c for c in range(1, len(FREQUENCIES) + 1) if c not in present]
        negative = sorted(int(c) for c in rng.choice(absent, size=min(len(absent), int(rng.integers(1, 4))), replace=False))
        not_exhaustive = [int(c) for c in present if rng.random() < 0.35]
        images.append({"id": 100 + i, "width": w, "height": h, "file_name": f"img{i:02d}.jpg",
                       "neg_category_ids": negative, "not_exhaustive_category_ids": not_exhaustive})
        for c in present:
            for _ in range(int(rng.integers(1, 5))):
                poly = polygon(rng, w, h)
                rle = mask_utils.merge(mask_utils.frPyObjects([poly], h, w))
                x, y, bw, bh = mask_utils.toBbox(rle).tolist()
                ann = {"id": ann_id, "image_id": 100 + i, "category_id": int(c), "segmentation": [poly],
                       "area": float(mask_utils.area(rle)), "bbox": [x, y, bw, bh]}
                if rng.random() < 0.05:
                    ann["ignore"] = 1
                annotations.append(ann)
                ann_id += 1
    return {"images": images, "categories": categories, "annotations": annotations}


def jitter(rng, poly, w, h, amount):
    arr = np.array(poly).reshape(-1, 2) + rng.normal(0, amount, (len(poly) // 2, 2))
    arr[:, 0] = np.clip(arr[:, 0], 0, w)
    arr[:, 1] = np.clip(arr[:, 1], 0, h)
    return arr.reshape(-1).tolist()


def detection(image, category, poly, score):
    h, w = image["height"], image["width"]
    rle = mask_utils.merge(mask_utils.frPyObjects([poly], h, w))
    x, y, bw, bh = mask_utils.toBbox(rle).tolist()
    return {"image_id": image["id"], "category_id": int(category), "score": float(score),
            "segmentation": {"size": [h, w], "counts": rle["counts"].decode("ascii")}, "bbox": [x, y, bw, bh]}


def results(rng, gt, quality):
    images = {im["id"]: im for im in gt["images"]}
    out = []
    for ann in gt["annotations"]:
        im = images[ann["image_id"]]
        if rng.random() < 0.85:
            out.append(detection(im, ann["category_id"], jitter(rng, ann["segmentation"][0], im["width"], im["height"], quality),
                                 round(rng.uniform(0.3, 1.0), 2)))
        if rng.random() < 0.3:  # a duplicate
            out.append(detection(im, ann["category_id"], jitter(rng, ann["segmentation"][0], im["width"], im["height"], 2 * quality),
                                 round(rng.uniform(0.05, 0.6), 2)))
    for im in gt["images"]:
        for _ in range(int(rng.integers(2, 7))):
            # Background detections of any category: negative ones count, unknown ones are left out.
            c = int(rng.integers(1, len(FREQUENCIES) + 1))
            out.append(detection(im, c, polygon(rng, im["width"], im["height"]), round(rng.uniform(0.05, 0.9), 2)))
    crowded = gt["images"][3]
    present = sorted({a["category_id"] for a in gt["annotations"] if a["image_id"] == crowded["id"]}) or [1]
    for k in range(320):  # more than LVIS's 300 per image, scores with ties
        out.append(detection(crowded, present[k % len(present)], polygon(rng, crowded["width"], crowded["height"]),
                             round(float(rng.uniform(0.0, 0.5)), 1)))
    # An empty detection (a degenerate polygon: no pixels, a zero box): LVISEval never judges it.
    some = gt["images"][1]
    out.append(detection(some, present[0], [10.0, 10.0, 10.0, 10.0, 10.0, 10.0], 0.99))
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def evaluate(gt_path, res_path, iou_type):
    gt = LVIS(gt_path)
    ev = LVISEval(gt, LVISResults(gt, res_path), iou_type)
    ev.run()
    return {k: float(v) for k, v in ev.get_results().items()}


def main():
    logging.disable(logging.WARNING)
    rng = np.random.default_rng(SEED)
    os.makedirs(OUT, exist_ok=True)
    gt = ground_truth(rng)
    with open(os.path.join(OUT, "gt.json"), "w") as f:
        json.dump(gt, f, separators=(",", ":"))
    expected = {"lvis": metadata.version("lvis"), "pycocotools": metadata.version("pycocotools"), "numpy": np.__version__,
                "seed": SEED, "results": {}}
    for name, quality in [("results-a.json", 1.0), ("results-b.json", 4.0)]:
        res = results(rng, gt, quality)
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(res, f, separators=(",", ":"))
        expected["results"][name] = {t: evaluate(os.path.join(OUT, "gt.json"), os.path.join(OUT, name), t) for t in ["segm", "bbox"]}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(json.dumps(expected["results"], indent=1))


if __name__ == "__main__":
    main()
