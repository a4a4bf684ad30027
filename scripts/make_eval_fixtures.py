#!/usr/bin/env python3
"""Golden values for segterm's evaluation engine (Tests/SegEvalTests/Fixtures).

Every expected number here comes from a reference tool, never from segterm:
  * COCO instance AP/AR: pycocotools COCOeval (segm and bbox)
  * semantic metrics: an independent numpy computation (confusion matrices)
  * panoptic PQ/SQ/RQ: a numpy re-statement of panopticapi's pq_compute
    (panopticapi is not on PyPI; its matching rules are followed one by one)
  * TIDE error breakdown: tidecv
  * Boundary IoU: OpenCV erosion as the boundary-iou-api, inside pycocotools' COCOeval

The inputs are small synthetic data sets made here from fixed seeds, covering
crowd regions (polygon and uncompressed RLE), multi-polygon objects, masks
with holes, empty images, classes absent from the predictions or the ground
truth, ties in scores, more than 100 detections in an image, areas exactly on
the size-bucket edges, an annotation with id 0, results with and without
`bbox` (pycocotools takes a detection's area from its box when the first
result has one), polygon results and box-only results.

Usage (from the repository root; run by hand, outputs are committed):

    python3 -m venv /tmp/venv-fix
    /tmp/venv-fix/bin/pip install numpy scipy pycocotools pillow tidecv opencv-python-headless matplotlib seaborn
    /tmp/venv-fix/bin/python scripts/make_eval_fixtures.py

(made with numpy 2.4.6, scipy 1.17.1, pycocotools 2.0.11, tidecv 1.0.1 and OpenCV from PyPI;
tidecv imports matplotlib and seaborn.)
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pycocotools.mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "SegEvalTests" / "Fixtures"


def dump(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))


def rle_of(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def uncompressed_rle(mask: np.ndarray) -> dict:
    flat = mask.astype(np.uint8).flatten(order="F")
    counts, value, run = [], 0, 0
    for v in flat:
        if v != value:
            counts.append(run)
            run, value = 0, v
        run += 1
    counts.append(run)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


# ---------------------------------------------------------------- shapes

def ellipse(h, w, cx, cy, rx, ry, hole=0.0):
    yy, xx = np.mgrid[0:h, 0:w]
    d = ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2
    m = d <= 1.0
    if hole > 0:
        m &= d > hole ** 2
    return m


def rect(h, w, x0, y0, x1, y1):
    m = np.zeros((h, w), bool)
    m[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = True
    return m


def star_polygon(rng, cx, cy, r, n=None):
    n = n or int(rng.integers(5, 12))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = r * rng.uniform(0.55, 1.0, n)
    pts = []
    for a, rr in zip(angles, radii):
        pts += [round(float(cx + rr * np.cos(a)), 2), round(float(cy + rr * np.sin(a)), 2)]
    return pts


def poly_mask(polys, h, w):
    rles = mask_utils.frPyObjects(polys, h, w)
    return mask_utils.decode(mask_utils.merge(rles)).astype(bool)


def perturb(rng, m):
    dy, dx = (int(v) for v in rng.integers(-2, 3, 2))
    out = np.roll(np.roll(m, dy, axis=0), dx, axis=1)
    if rng.random() < 0.4:
        # grow by one pixel (4-neighbourhood)
        g = out.copy()
        g[1:, :] |= out[:-1, :]; g[:-1, :] |= out[1:, :]; g[:, 1:] |= out[:, :-1]; g[:, :-1] |= out[:, 1:]
        out = g
    return out


def bbox_of(m):
    ys, xs = np.nonzero(m)
    if len(xs) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]


# ---------------------------------------------------------------- instance data sets

def make_mixed(rng):
    """Ten images, five categories (4 'tool' never predicted, 5 'rare' never annotated)."""
    cats = [{"id": 1, "name": "cell", "supercategory": "x"}, {"id": 2, "name": "leaf", "supercategory": "x"},
            {"id": 3, "name": "stone", "supercategory": "x"}, {"id": 4, "name": "tool", "supercategory": "x"},
            {"id": 5, "name": "rare", "supercategory": "x"}]
    images, anns, objects = [], [], []
    ann_id = 0  # the first annotation has id 0 (pycocotools reads its matches as unmatched)
    for i in range(10):
        img_id = 100 + 7 * i  # ids not equal to positions
        h, w = int(rng.integers(60, 140)), int(rng.integers(60, 160))
        if i == 9:
            h, w = 220, 260  # room for large objects (area > 96*96)
        images.append({"id": img_id, "width": w, "height": h, "file_name": f"img{i:02d}.png"})
        if i in (3, 8):  # empty images: no annotations (8 gets false positives)
            continue
        n = int(rng.integers(2, 7))
        for k in range(n):
            cat = int(rng.choice([1, 1, 2, 2, 3, 4]))
            kind = rng.choice(["poly", "multipoly", "rle_hole", "rle", "rect32"])
            cx, cy = float(rng.uniform(10, w - 10)), float(rng.uniform(10, h - 10))
            r = float(rng.uniform(3, min(h, w) / 3))
            crowd = 0
            if kind == "poly":
                polys = [star_polygon(rng, cx, cy, r)]
                m = poly_mask(polys, h, w)
                seg = polys
            elif kind == "multipoly":
                polys = [star_polygon(rng, cx, cy, r * 0.6), star_polygon(rng, cx + r, cy + r * 0.3, r * 0.5)]
                m = poly_mask(polys, h, w)
                seg = polys
            elif kind == "rle_hole":
                m = ellipse(h, w, cx, cy, r, r * 0.8, hole=0.45)
                seg = rle_of(m)
            elif kind == "rect32":  # area exactly 32*32: both small and medium
                x0, y0 = int(rng.integers(0, max(1, w - 32))), int(rng.integers(0, max(1, h - 32)))
                m = rect(h, w, x0, y0, x0 + 32, y0 + 32)
                seg = rle_of(m)
            else:
                m = ellipse(h, w, cx, cy, r * 0.7, r)
                seg = rle_of(m)
            if m.sum() == 0:
                continue
            area = float(m.sum())
            if rng.random() < 0.1:
                area = float(bbox_of(m)[2] * bbox_of(m)[3])  # the area field is used as given
            ann = {"id": ann_id, "image_id": img_id, "category_id": cat, "segmentation": seg, "area": area,
                   "bbox": bbox_of(m), "iscrowd": crowd}
            anns.append(ann)
            objects.append((img_id, cat, m, h, w))
            ann_id += 1
        if i in (1, 5):  # crowd regions: uncompressed RLE and polygon
            cx, cy = float(rng.uniform(20, w - 20)), float(rng.uniform(20, h - 20))
            m = ellipse(h, w, cx, cy, 18, 14)
            if i == 1:
                seg = uncompressed_rle(m)
            else:
                seg = [star_polygon(rng, cx, cy, 16, 8)]
                m = poly_mask(seg, h, w)
            anns.append({"id": ann_id, "image_id": img_id, "category_id": 1, "segmentation": seg,
                         "area": float(m.sum()), "bbox": bbox_of(m), "iscrowd": 1})
            objects.append((img_id, 1, m, h, w, "crowd"))
            ann_id += 1
    gt = {"info": {"description": "segterm eval fixture"}, "images": images, "annotations": anns, "categories": cats}

    dets = []
    scores = [0.9, 0.8, 0.7, 0.7, 0.5, 0.5, 0.3]  # ties within and across images
    for obj in objects:
        img_id, cat, m, h, w = obj[:5]
        crowd = len(obj) > 5
        if cat == 4:
            continue  # 'tool' never predicted
        if crowd:
            # detections inside the crowd region: matched to it, ignored
            for _ in range(3):
                sub = m & perturb(rng, ellipse(h, w, float(rng.uniform(0, w)), float(rng.uniform(0, h)), 12, 12))
                if sub.sum() > 0:
                    dets.append((img_id, 1, sub, float(rng.choice(scores))))
            continue
        if rng.random() < 0.15:
            continue  # missed
        pm = perturb(rng, m)
        c = cat if rng.random() > 0.1 else int(rng.choice([1, 2, 3]))
        dets.append((img_id, c, pm, float(rng.choice(scores))))
        if rng.random() < 0.2:  # duplicate
            dets.append((img_id, c, perturb(rng, m), float(rng.choice(scores))))
    for img in images:  # background false positives, incl. on the empty images
        if img["id"] in (100 + 7 * 3,):
            continue
        for _ in range(int(rng.integers(0, 3))):
            h, w = img["height"], img["width"]
            fm = ellipse(h, w, float(rng.uniform(0, w)), float(rng.uniform(0, h)), float(rng.uniform(2, 20)), float(rng.uniform(2, 20)))
            if fm.sum():
                dets.append((img["id"], int(rng.choice([1, 2, 3])), fm, float(rng.choice(scores))))
    return gt, dets


def make_many(rng):
    """Two images with more than 100 detections of one class (maxDets cut) and 40 objects."""
    cats = [{"id": 7, "name": "dot", "supercategory": "x"}, {"id": 9, "name": "blob", "supercategory": "x"}]
    images, anns, dets = [], [], []
    aid = 1
    for i in range(2):
        h, w = 120, 160
        img_id = i + 1
        images.append({"id": img_id, "width": w, "height": h, "file_name": f"many{i}.png"})
        truth = []
        for k in range(40):
            cx, cy = float(rng.uniform(5, w - 5)), float(rng.uniform(5, h - 5))
            m = ellipse(h, w, cx, cy, float(rng.uniform(2, 9)), float(rng.uniform(2, 9)))
            cat = 7 if k % 4 else 9
            anns.append({"id": aid, "image_id": img_id, "category_id": cat, "segmentation": rle_of(m),
                         "area": float(m.sum()), "bbox": bbox_of(m), "iscrowd": 0})
            truth.append((cat, m))
            aid += 1
        for j in range(130):
            if j < len(truth) and rng.random() < 0.8:
                cat, m = truth[j]
                pm = perturb(rng, m)
            else:
                cat = 7
                pm = ellipse(h, w, float(rng.uniform(0, w)), float(rng.uniform(0, h)), float(rng.uniform(2, 9)), float(rng.uniform(2, 9)))
            if pm.sum() == 0:
                continue
            dets.append((img_id, cat, pm, round(float(rng.uniform(0, 1)), 2)))
    return {"images": images, "annotations": anns, "categories": cats}, dets


def results_variants(dets, rng):
    """The same detections written the ways people write them."""
    with_box, rle_only, box_only, polygons = [], [], [], []
    for img_id, cat, m, score in dets:
        rle = rle_of(m)
        box = bbox_of(m)
        with_box.append({"image_id": img_id, "category_id": cat, "segmentation": rle, "bbox": box, "score": score})
        rle_only.append({"image_id": img_id, "category_id": cat, "segmentation": rle, "score": score})
        box_only.append({"image_id": img_id, "category_id": cat, "bbox": box, "score": score})
        x, y, w, h = box
        polygons.append({"image_id": img_id, "category_id": cat, "bbox": box, "score": score,
                         "segmentation": [[x, y, x + w * 0.9, y + 0.5, x + w, y + h, x + 0.3, y + h * 0.8]]})
    return {"results-rle-bbox.json": with_box, "results-rle.json": rle_only,
            "results-bbox.json": box_only, "results-polygon.json": polygons}


def coco_eval(gt_path: Path, res, iou_type: str):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(res)
        ev = COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    p = ev.eval["precision"]  # T R K A M
    r = ev.eval["recall"]     # T K A M
    T, R, K, A, M = p.shape
    # AP per (t, k, a, m): precision averaged over recall points (-1 stays -1)
    ap_tkam = np.where((p > -1).any(axis=1), np.where(p > -1, p, 0).sum(axis=1) / np.maximum((p > -1).sum(axis=1), 1), -1)
    per_class = {}
    for k, cat_id in enumerate(ev.params.catIds):
        s = p[:, :, k, 0, -1]
        ap = float(np.mean(s[s > -1])) if (s > -1).any() else -1.0
        rr = r[:, k, 0, -1]
        ar = float(np.mean(rr[rr > -1])) if (rr > -1).any() else -1.0
        s50 = p[0, :, k, 0, -1]
        ap50 = float(np.mean(s50[s50 > -1])) if (s50 > -1).any() else -1.0
        per_class[str(cat_id)] = {"AP": ap, "AP50": ap50, "AR100": ar}
    return {"stats": [float(v) for v in ev.stats],
            "ap_tkam": [float(v) for v in ap_tkam.flatten()],
            "recall_tkam": [float(v) for v in r.flatten()],
            "shape_TRKAM": [T, R, K, A, M],
            "per_class": per_class}


def instance_fixtures():
    out = OUT / "coco"
    expected = {"pycocotools": importlib.metadata.version("pycocotools"),
                "numpy": importlib.metadata.version("numpy"), "sets": {}}
    p = COCOeval(iouType="segm").params
    expected["iouThrs"] = [float(v).hex() for v in p.iouThrs]
    expected["recThrs"] = [float(v).hex() for v in p.recThrs]
    for name, maker, seed in [("mixed", make_mixed, 7), ("many", make_many, 11)]:
        rng = np.random.default_rng(seed)
        gt, dets = maker(rng)
        folder = out / name
        dump(folder / "gt.json", gt)
        sets = {}
        for res_name, res in results_variants(dets, rng).items():
            dump(folder / res_name, res)
            sets[res_name] = {}
            for iou_type in ("segm", "bbox"):
                sets[res_name][iou_type] = coco_eval(folder / "gt.json", json.loads((folder / res_name).read_text()), iou_type)
        expected["sets"][name] = sets
    # The repository's sample data, unrounded.
    sample = ROOT / "sample-data"
    sets = {}
    for model in ("model-a", "model-b"):
        res = json.loads((sample / "predictions" / f"{model}.json").read_text())
        sets[model] = {t: coco_eval(sample / "instances.json", res, t) for t in ("segm", "bbox")}
    expected["sets"]["sample-data"] = sets
    dump(out / "expected.json", expected)


# ---------------------------------------------------------------- semantic and binary (numpy reference)

def nan_to_minus_one(v):
    return [(-1.0 if np.isnan(x) else float(x)) for x in v]


def scores(conf, K):
    """conf: K x (K+1), rows ground truth, last column = predicted values that are no class."""
    tp = np.diag(conf[:, :K]).astype(float)
    gt = conf.sum(axis=1).astype(float)
    pred = conf[:, :K].sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (gt + pred - tp)
        dice = 2 * tp / (gt + pred)
        precision = tp / pred
        recall = tp / gt
    total = gt.sum()
    defined = ~np.isnan(iou)
    return {"iou": nan_to_minus_one(iou), "dice": nan_to_minus_one(dice), "precision": nan_to_minus_one(precision),
            "recall": nan_to_minus_one(recall), "gtPixels": [int(v) for v in gt], "predPixels": [int(v) for v in pred],
            "mIoU": float(np.nanmean(iou)) if defined.any() else -1.0,
            "mDice": float(np.nanmean(dice)) if defined.any() else -1.0,
            "pixelAccuracy": float(tp.sum() / total) if total else -1.0,
            "fwIoU": float(np.nansum(gt / total * np.where(defined, iou, 0))) if total else -1.0}


def segment_ious(gt, pred, K, ignore):
    from scipy import ndimage
    out = []
    valid = gt != ignore
    for c in range(K):
        g_lab, ng = ndimage.label(gt == c)
        p_lab, _ = ndimage.label(pred == c)
        for s in range(1, ng + 1):
            seg = (g_lab == s) & valid
            touching = np.unique(p_lab[seg & (p_lab > 0)])
            p = np.isin(p_lab, touching) & (p_lab > 0) & valid
            inter = (seg & p).sum()
            union = (seg | p).sum()
            out.append((c, int(seg.sum()), float(inter / union) if union else 0.0))
    return out


def save_png(path, arr, mode):
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "P":
        im = Image.fromarray(arr.astype(np.uint8), mode="P")
        im.putpalette([v for i in range(256) for v in ((i * 40) % 256, (i * 90) % 256, (i * 150) % 256)])
        im.save(path)
    elif mode == "I;16":
        Image.fromarray(arr.astype(np.uint16)).save(path)
    else:
        Image.fromarray(arr.astype(np.uint8), mode="L").save(path)


def semantic_fixtures():
    rng = np.random.default_rng(3)
    K, ignore = 4, 255
    out = OUT / "semantic"
    (out / "classes.txt").parent.mkdir(parents=True, exist_ok=True)
    (out / "classes.txt").write_text("background\nroad\ncar\n# a comment line\nperson\n")
    total = np.zeros((K, K + 1), np.int64)
    per_image, segments = [], []
    modes = ["L", "P", "I;16", "L", "P", "L"]
    for i in range(6):
        h, w = int(rng.integers(30, 60)), int(rng.integers(40, 90))
        gt = np.zeros((h, w), np.int64)
        for _ in range(int(rng.integers(2, 6))):
            c = int(rng.integers(1, K)) if i != 4 else 1  # image 4 has only background and road
            x0, y0 = int(rng.integers(0, w - 5)), int(rng.integers(0, h - 5))
            gt[y0:y0 + int(rng.integers(3, 40)), x0:x0 + int(rng.integers(3, 40))] = c
        if i == 2:  # one large region (> 32*32 and one > 96*96 impossible here): a medium one
            gt[0:35, 0:35] = 2
        band = rng.random((h, w)) < 0.03
        gt[band] = ignore
        pred = gt.copy()
        pred[pred == ignore] = 0
        noise = rng.random((h, w)) < 0.08
        pred[noise] = rng.integers(0, K, noise.sum())
        pred = np.roll(pred, int(rng.integers(-2, 3)), axis=1)
        if i == 5:
            pred[0:3, 0:5] = 7  # a value that is not a class
        save_png(out / "gt" / f"img{i}.png", gt, modes[i])
        save_png(out / "pred" / f"img{i}.png", pred, "P" if i % 2 else "L")
        valid = gt != ignore
        conf = np.zeros((K, K + 1), np.int64)
        g, p = gt[valid], pred[valid]
        p = np.where(p < K, p, K)
        np.add.at(conf, (g, p), 1)
        total += conf
        per_image.append(scores(conf, K))
        segments += [(i, c, a, v) for c, a, v in segment_ious(gt, pred, K, ignore)]
    def mean_defined(values):
        arr = np.array(values, float)
        arr[arr == -1] = np.nan
        with np.errstate(invalid="ignore"):
            m = np.nanmean(arr, axis=0)
        return nan_to_minus_one(np.atleast_1d(m))
    per_image_mean = {k: mean_defined([s[k] for s in per_image]) for k in ("iou", "dice", "precision", "recall")}
    for k in ("mIoU", "mDice", "pixelAccuracy", "fwIoU"):
        per_image_mean[k] = mean_defined([s[k] for s in per_image])[0]
    buckets = [(0, 1e10), (0, 1024), (1024, 9216), (9216, 1e10)]
    recall = [[-1.0] * 4 for _ in range(K)]
    for c in range(K):
        for b, (lo, hi) in enumerate(buckets):
            sel = [v for _, cc, a, v in segments if cc == c and lo <= a <= hi]
            if sel:
                recall[c][b] = float(np.mean([v >= 0.5 for v in sel]))
    dump(out / "expected.json", {"classes": K, "ignore": ignore, "confusion": total.tolist(),
                                 "cumulative": scores(total, K), "perImageMean": per_image_mean,
                                 "segmentRecall": recall, "segments": len(segments),
                                 "segmentIoUs": [[i, c, a, v] for i, c, a, v in segments]})

    # binary masks: 0/255 object, 128 ignore in the ground truth
    out = OUT / "binary"
    results = {}
    for i in range(4):
        h, w = 40, 50
        gt = np.zeros((h, w), np.int64)
        gt[5:30, 8:40] = 255
        gt[4:31, 7:41][(np.arange(27)[:, None] % 26 == 0) | (np.arange(34)[None, :] % 33 == 0)] = 128
        pred = np.zeros((h, w), np.int64)
        pred[5 + i:32 + i, 6:38 - i] = 255 if i != 3 else 0  # image 3: empty prediction
        save_png(out / "gt" / f"m{i}.png", gt, "L")
        save_png(out / "pred" / f"m{i}.png", pred, "L")
        valid = gt != 128
        a, b = (pred > 0) & valid, (gt == 255) & valid
        union = (a | b).sum()
        results[f"m{i}"] = float((a & b).sum() / union) if union else 1.0
    dump(out / "expected.json", {"ignoreValue": 128, "iou": results})


# ---------------------------------------------------------------- panoptic (panopticapi's rules restated in numpy)

def id2rgb(ids):
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], axis=-1).astype(np.uint8)


def pq_reference(gt_json, pred_json, gt_dir, pred_dir, categories):
    """PQ as panopticapi's pq_compute defines it, written from its documented rules."""
    from PIL import Image
    stats = {c["id"]: {"iou": 0.0, "tp": 0, "fp": 0, "fn": 0} for c in categories}
    preds = {a["image_id"]: a for a in pred_json["annotations"]}
    for g in gt_json["annotations"]:
        p = preds[g["image_id"]]
        def ids(path):
            a = np.array(Image.open(path).convert("RGB"), dtype=np.uint64)
            return a[..., 0] + 256 * a[..., 1] + 65536 * a[..., 2]
        gi, pi = ids(gt_dir / g["file_name"]), ids(pred_dir / p["file_name"])
        gseg = {s["id"]: s for s in g["segments_info"]}
        pseg = {s["id"]: dict(s) for s in p["segments_info"]}
        labels, counts = np.unique(pi, return_counts=True)
        for l, c in zip(labels, counts):
            if int(l) in pseg:
                pseg[int(l)]["area"] = int(c)
        joint = gi * (1 << 24) + pi
        labels, counts = np.unique(joint, return_counts=True)
        inter = {(int(l) >> 24, int(l) & 0xFFFFFF): int(c) for l, c in zip(labels, counts)}
        gm, pm = set(), set()
        for (gl, pl), n in inter.items():
            if gl not in gseg or pl not in pseg or gseg[gl]["iscrowd"] == 1:
                continue
            if gseg[gl]["category_id"] != pseg[pl]["category_id"]:
                continue
            union = pseg[pl]["area"] + gseg[gl]["area"] - n - inter.get((0, pl), 0)
            if n / union > 0.5:
                st = stats[gseg[gl]["category_id"]]
                st["tp"] += 1
                st["iou"] += n / union
                gm.add(gl); pm.add(pl)
        crowd = {}
        for gl, s in gseg.items():
            if gl in gm:
                continue
            if s["iscrowd"] == 1:
                crowd[s["category_id"]] = gl
                continue
            stats[s["category_id"]]["fn"] += 1
        for pl, s in pseg.items():
            if pl in pm:
                continue
            n = inter.get((0, pl), 0)
            if s["category_id"] in crowd:
                n += inter.get((crowd[s["category_id"]], pl), 0)
            if n / s["area"] > 0.5:
                continue
            stats[s["category_id"]]["fp"] += 1

    def average(isthing):
        pq = sq = rq = 0.0
        n = 0
        for c in categories:
            if isthing is not None and (c["isthing"] == 1) != isthing:
                continue
            st = stats[c["id"]]
            if st["tp"] + st["fp"] + st["fn"] == 0:
                continue
            n += 1
            d = st["tp"] + 0.5 * st["fp"] + 0.5 * st["fn"]
            pq += st["iou"] / d
            sq += st["iou"] / st["tp"] if st["tp"] else 0.0
            rq += st["tp"] / d
        return {"PQ": pq / n, "SQ": sq / n, "RQ": rq / n, "N": n} if n else {"PQ": -1, "SQ": -1, "RQ": -1, "N": 0}
    return {"All": average(None), "Things": average(True), "Stuff": average(False), "perCategory": stats}


LOW_IOU_MATCH = 0.75


def panoptic_segment_reference(gt_json, pred_json, gt_dir, pred_dir):
    """Segment-level failures under pq_compute's matching rules (as pq_reference): ground-truth
    segments left unmatched (not crowd), predictions counted as false positives, and matched
    pairs with IoU below LOW_IOU_MATCH; each with the segment's area, its best IoU with a segment
    of its category (the matched IoU for a pair) and its box in the PNG."""
    from PIL import Image
    rows = []
    preds = {a["image_id"]: a for a in pred_json["annotations"]}

    def ids(path):
        a = np.array(Image.open(path).convert("RGB"), dtype=np.uint64)
        return a[..., 0] + 256 * a[..., 1] + 65536 * a[..., 2]

    def box(idmap, sid):
        ys, xs = np.nonzero(idmap == sid)
        return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]

    for g in gt_json["annotations"]:
        p = preds[g["image_id"]]
        gi, pi = ids(gt_dir / g["file_name"]), ids(pred_dir / p["file_name"])
        gseg = {s["id"]: s for s in g["segments_info"]}
        pseg = {s["id"]: dict(s) for s in p["segments_info"]}
        labels, counts = np.unique(pi, return_counts=True)
        for l, c in zip(labels, counts):
            if int(l) in pseg:
                pseg[int(l)]["area"] = int(c)
        joint = gi * (1 << 24) + pi
        labels, counts = np.unique(joint, return_counts=True)
        inter = {(int(l) >> 24, int(l) & 0xFFFFFF): int(c) for l, c in zip(labels, counts)}
        best_g, best_p, matched = {}, {}, {}
        for (gl, pl), n in inter.items():
            if gl not in gseg or pl not in pseg or gseg[gl]["iscrowd"] == 1:
                continue
            if gseg[gl]["category_id"] != pseg[pl]["category_id"]:
                continue
            iou = n / (pseg[pl]["area"] + gseg[gl]["area"] - n - inter.get((0, pl), 0))
            best_g[gl] = max(best_g.get(gl, 0.0), iou)
            best_p[pl] = max(best_p.get(pl, 0.0), iou)
            if iou > 0.5:
                matched[gl] = (pl, iou)
        matched_p = {pl for pl, _ in matched.values()}
        base = {"image_id": g["image_id"], "file_name": g["file_name"]}
        crowd = {}
        for gl, s in gseg.items():
            if s["iscrowd"] == 1:
                if gl not in matched:
                    crowd[s["category_id"]] = gl
                continue
            if gl in matched:
                if matched[gl][1] < LOW_IOU_MATCH:
                    rows.append({**base, "kind": "low-iou-match", "segment": gl, "category_id": s["category_id"],
                                 "area": s["area"], "iou": matched[gl][1], "bbox": box(gi, gl)})
                continue
            rows.append({**base, "kind": "missed-segment", "segment": gl, "category_id": s["category_id"],
                         "area": s["area"], "iou": best_g.get(gl, 0.0), "bbox": box(gi, gl)})
        for pl, s in pseg.items():
            if pl in matched_p:
                continue
            n = inter.get((0, pl), 0)
            if s["category_id"] in crowd:
                n += inter.get((crowd[s["category_id"]], pl), 0)
            if n / s["area"] > 0.5:
                continue
            rows.append({**base, "kind": "false-positive-segment", "segment": pl, "category_id": s["category_id"],
                         "area": s["area"], "iou": best_p.get(pl, 0.0), "bbox": box(pi, pl)})
    return rows


def panoptic_segment_fixtures():
    """Reads the committed panoptic fixture (made by panoptic_fixtures) and writes its segment failures."""
    out = OUT / "panoptic"
    gt_json = json.load(open(out / "gt.json"))
    pred_json = json.load(open(out / "pred.json"))
    dump(out / "segments.json", {"lowIoUMatch": LOW_IOU_MATCH,
                                 "rows": panoptic_segment_reference(gt_json, pred_json, out / "gt", out / "pred")})


def panoptic_fixtures():
    from PIL import Image
    rng = np.random.default_rng(5)
    out = OUT / "panoptic"
    categories = [{"id": 1, "name": "person", "isthing": 1}, {"id": 2, "name": "car", "isthing": 1},
                  {"id": 10, "name": "sky", "isthing": 0}, {"id": 11, "name": "road", "isthing": 0},
                  {"id": 12, "name": "grass", "isthing": 0}]
    gt_anns, pred_anns, images = [], [], []
    for i in range(5):
        h, w = 48, 64
        gt = np.zeros((h, w), np.int64)
        gt[: h // 3] = 1000  # sky
        gt[h // 3:] = 1001   # road
        gsegs = [{"id": 1000, "category_id": 10, "iscrowd": 0}, {"id": 1001, "category_id": 11, "iscrowd": 0}]
        gt[0:2, :] = 0       # void band
        nid = 5
        for k in range(int(rng.integers(2, 5))):
            y, x = int(rng.integers(10, h - 10)), int(rng.integers(5, w - 15))
            hh, ww = int(rng.integers(4, 12)), int(rng.integers(4, 12))
            gt[y:y + hh, x:x + ww] = nid
            gsegs.append({"id": nid, "category_id": int(rng.choice([1, 2])), "iscrowd": 1 if (i == 1 and k == 0) else 0})
            nid += 1
        for s in gsegs:
            s["area"] = int((gt == s["id"]).sum())
        gsegs = [s for s in gsegs if s["area"] > 0]
        pred = gt.copy()
        pred = np.roll(pred, int(rng.integers(-2, 3)), axis=1)
        psegs = []
        for s in gsegs:
            if s["id"] not in np.unique(pred):
                continue
            cat = s["category_id"]
            if s["category_id"] in (1, 2) and rng.random() < 0.2:
                cat = 3 - cat  # wrong thing class
            psegs.append({"id": int(s["id"]), "category_id": cat})
        pred[pred == 0] = 1001 if i % 2 else 0
        if i == 3:  # a false positive thing and a grass segment absent from the ground truth
            pred[30:36, 2:8] = 77
            psegs.append({"id": 77, "category_id": 1})
            pred[44:48, 50:64] = 78
            psegs.append({"id": 78, "category_id": 12})
        if i == 1:  # a prediction inside the crowd region: not a false positive
            crowd = [s for s in gsegs if s["iscrowd"]][0]
            ys, xs = np.nonzero(gt == crowd["id"])
            pred[ys.min():ys.min() + 2, xs.min():xs.min() + 2] = 90
            psegs.append({"id": 90, "category_id": crowd["category_id"]})
        present = set(int(v) for v in np.unique(pred))
        psegs = [s for s in psegs if s["id"] in present]
        name = f"p{i}.png"
        (out / "gt").mkdir(parents=True, exist_ok=True)
        (out / "pred").mkdir(parents=True, exist_ok=True)
        Image.fromarray(id2rgb(gt)).save(out / "gt" / name)
        Image.fromarray(id2rgb(pred)).save(out / "pred" / name)
        images.append({"id": i + 1, "file_name": f"p{i}.jpg", "width": w, "height": h})
        gt_anns.append({"image_id": i + 1, "file_name": name, "segments_info": gsegs})
        pred_anns.append({"image_id": i + 1, "file_name": name, "segments_info": psegs})
    gt_json = {"images": images, "annotations": gt_anns, "categories": categories}
    pred_json = {"annotations": pred_anns}
    dump(out / "gt.json", gt_json)
    dump(out / "pred.json", pred_json)
    dump(out / "expected.json", pq_reference(gt_json, pred_json, out / "gt", out / "pred", categories))


# ---------------------------------------------------------------- TIDE (tidecv)

def tide_fixtures():
    from tidecv import TIDE, datasets
    from tidecv.errors.qualifiers import AREA
    from tidecv.errors.main_errors import ClassError, BoxError, OtherError, DuplicateError, BackgroundError, MissedError
    from tidecv.errors.main_errors import FalsePositiveError, FalseNegativeError
    types = [ClassError, BoxError, OtherError, DuplicateError, BackgroundError, MissedError]
    special_types = [FalsePositiveError, FalseNegativeError]
    out = {"tidecv": importlib.metadata.version("tidecv"), "cases": {}}
    cases = [("mixed", OUT / "coco" / "mixed" / "gt.json", OUT / "coco" / "mixed" / "results-rle-bbox.json"),
             ("many", OUT / "coco" / "many" / "gt.json", OUT / "coco" / "many" / "results-rle-bbox.json"),
             ("sample-a", ROOT / "sample-data" / "instances.json", ROOT / "sample-data" / "predictions" / "model-a.json"),
             ("sample-b", ROOT / "sample-data" / "instances.json", ROOT / "sample-data" / "predictions" / "model-b.json")]
    for name, gt_path, res_path in cases:
        for mode in ("bbox", "mask"):
            with contextlib.redirect_stdout(io.StringIO()):
                gt = datasets.COCO(str(gt_path))
                res = datasets.COCOResult(str(res_path))
                tide = TIDE(mode=TIDE.MASK if mode == "mask" else TIDE.BOX)
                run = tide.evaluate(gt, res, name="run")
            main = run.fix_main_errors()
            # The special errors as tidecv's fix_special_errors computes them (no clamp at 0; its
            # qualifier argument is unused, so there is no per-size definition), and per class from
            # the same fixed data.
            special = run.fix_special_errors()
            special_data = {FalsePositiveError: run.fix_errors(transform=FalsePositiveError.fix),
                            FalseNegativeError: run.fix_errors(false_neg_dict=run.false_negatives)}
            per_class = {}
            per_class_special = {}
            for k, obj in run.ap_data.objs.items():
                if obj.is_empty():
                    continue
                before = obj.get_ap()
                per_class[str(k)] = {t.short_name: max(run.fix_errors(lambda e, t=t: isinstance(e, t)).objs[k].get_ap() - before, 0) / 100
                                     for t in types}
                per_class_special[str(k)] = {t.short_name: (special_data[t].objs[k].get_ap() - before) / 100 for t in special_types}
            per_size = {}
            for q in AREA:
                gains = run.fix_main_errors(qual=q)
                per_size[q.name.lower()] = {t.short_name: gains[t] / 100 for t in types}
            out["cases"][f"{name}/{mode}"] = {
                "gt": str(gt_path.relative_to(ROOT)), "results": str(res_path.relative_to(ROOT)),
                "AP": run.ap / 100, "dAP": {t.short_name: main[t] / 100 for t in types},
                "counts": {t.short_name: len(run.error_dict[t]) for t in types},
                "perClass": per_class, "perSize": per_size,
                "special": {t.short_name: special[t] / 100 for t in special_types}, "perClassSpecial": per_class_special}
    dump(OUT / "tide" / "expected.json", out)


# ---------------------------------------------------------------- boundary IoU (cv2 + pycocotools)

def cv2_boundary(mask, ratio=0.02):
    """The boundary-iou-api's mask_to_boundary, restated: mask minus its erosion by a 3x3
    kernel applied d times, on the mask padded with one background pixel."""
    import cv2
    h, w = mask.shape
    d = max(1, int(round(ratio * np.sqrt(h ** 2 + w ** 2))))
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), iterations=d)[1:h + 1, 1:w + 1]
    return mask.astype(np.uint8) - eroded


class BoundaryCOCOeval(COCOeval):
    """pycocotools' COCOeval whose IoU is min(mask IoU, boundary IoU) for non-crowd ground truth
    and the mask IoU for crowd regions, as the boundary-iou-api's COCOeval computes it."""

    def computeIoU(self, imgId, catId):
        gt = self._gts[imgId, catId]
        dt = self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return []
        order = np.argsort([-d["score"] for d in dt], kind="mergesort")
        dt = [dt[i] for i in order][: self.params.maxDets[-1]]
        crowd = [int(o["iscrowd"]) for o in gt]
        def boundary(ann):
            b = cv2_boundary(mask_utils.decode(ann["segmentation"]))
            return mask_utils.encode(np.asfortranarray(b))
        mask_ious = np.array(mask_utils.iou([d["segmentation"] for d in dt], [g["segmentation"] for g in gt], crowd))
        b_ious = np.array(mask_utils.iou([boundary(d) for d in dt], [boundary(g) for g in gt], crowd))
        if len(gt) and len(dt):
            c = np.array(crowd) == 0
            mask_ious[:, c] = np.minimum(mask_ious[:, c], b_ious[:, c])
        return mask_ious


def boundary_fixtures():
    out = {}
    cases = [("mixed", OUT / "coco" / "mixed" / "gt.json", OUT / "coco" / "mixed" / "results-rle-bbox.json"),
             ("sample-a", ROOT / "sample-data" / "instances.json", ROOT / "sample-data" / "predictions" / "model-a.json")]
    for name, gt_path, res_path in cases:
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(str(gt_path))
            ev = BoundaryCOCOeval(gt, gt.loadRes(str(res_path)), "segm")
            ev.evaluate(); ev.accumulate(); ev.summarize()
        out[name] = {"gt": str(gt_path.relative_to(ROOT)), "results": str(res_path.relative_to(ROOT)),
                     "stats": [float(v) for v in ev.stats]}
    # semantic: per-class boundary IoU, intersections and unions summed over images
    sem = OUT / "semantic"
    from PIL import Image
    K = 4
    inter = np.zeros(K); union = np.zeros(K)
    for i in range(6):
        gt = np.array(Image.open(sem / "gt" / f"img{i}.png")).astype(np.int64)
        pred = np.array(Image.open(sem / "pred" / f"img{i}.png")).astype(np.int64)
        valid = gt != 255
        for c in range(K):
            bg, bp = cv2_boundary(gt == c) > 0, cv2_boundary(pred == c) > 0
            inter[c] += (bg & bp & valid).sum()
            union[c] += ((bg | bp) & valid).sum()
    out["semantic"] = [float(a / b) if b else -1.0 for a, b in zip(inter, union)]
    dump(OUT / "boundary" / "expected.json", out)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    instance_fixtures()
    semantic_fixtures()
    panoptic_fixtures()
    panoptic_segment_fixtures()
    tide_fixtures()
    boundary_fixtures()
    print("wrote", OUT)


if __name__ == "__main__":
    main()
