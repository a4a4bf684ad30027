#!/usr/bin/env python3
"""Golden values for `segterm eval` with pycocotools' parameters (issue #18, item 3).

pycocotools' COCOeval runs on the committed instance fixtures with changed `Params`: IoU and
recall thresholds, maxDets (three and four values), replaced and added area ranges, class-agnostic
(`useCats = 0`) and an image subset (`imgIds`). Every expected number is pycocotools' own: its
`stats`, and for an added area range the mean of its `eval['precision']` / `eval['recall']` over
the defined entries (the way its `_summarize` averages), since `summarize` names only the four
standard ranges.

Run (from the repository root):

    python3 -m venv /tmp/eval-venv && /tmp/eval-venv/bin/pip install pycocotools numpy
    /tmp/eval-venv/bin/python scripts/make_coco_params_fixtures.py

It rewrites Tests/SegEvalTests/Fixtures/coco/params.json, and Fixtures/coco/strings/ (the "mixed"
set with its image ids replaced by strings whose sort order differs from the numbers', and
pycocotools' stats on it, segm and bbox).
"""
import contextlib
import io
import json
import os
from importlib import metadata

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join("Tests", "SegEvalTests", "Fixtures", "coco")

# (name, ground truth, results, iouType, parameter changes). Paths are relative to the repository.
SETS = [
    ("mixed", os.path.join(FIXTURES, "mixed", "gt.json"), os.path.join(FIXTURES, "mixed", "results-rle.json")),
    ("many", os.path.join(FIXTURES, "many", "gt.json"), os.path.join(FIXTURES, "many", "results-rle-bbox.json")),
    ("sample", os.path.join("sample-data", "instances.json"), os.path.join("sample-data", "predictions", "model-a.json")),
]

CASES = [
    {"name": "iou-two-rec-eleven", "iouThrs": [0.5, 0.75], "recThrs": [round(0.1 * i, 10) for i in range(11)]},
    {"name": "iou-no-half", "iouThrs": [0.6, 0.7, 0.8]},
    {"name": "maxdets-1-5-1000", "maxDets": [1, 5, 1000]},
    {"name": "maxdets-four", "maxDets": [1, 3, 5, 8]},
    {"name": "area-replace-add", "areaRng": {"small": [0, 16 ** 2], "tiny": [0, 8 ** 2], "huge": [200 ** 2, 1e5 ** 2]}},
    {"name": "no-categories", "useCats": 0},
    {"name": "no-categories-bbox", "useCats": 0, "iouType": "bbox"},
    {"name": "image-subset", "imgIds": "odd"},
    {"name": "bbox-maxdets", "iouType": "bbox", "maxDets": [2, 4, 6]},
]


def run(gt_path, res_path, case):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(os.path.join(ROOT, gt_path))
        dt = gt.loadRes(os.path.join(ROOT, res_path))
        ev = COCOeval(gt, dt, case.get("iouType", "segm"))
        p = ev.params
        if "iouThrs" in case:
            p.iouThrs = np.array(case["iouThrs"], dtype=np.float64)
        if "recThrs" in case:
            p.recThrs = np.array(case["recThrs"], dtype=np.float64)
        if "maxDets" in case:
            p.maxDets = list(case["maxDets"])
        extra = []
        for label, rng in case.get("areaRng", {}).items():
            if label in p.areaRngLbl:
                p.areaRng[p.areaRngLbl.index(label)] = list(rng)
            else:
                p.areaRng.append(list(rng))
                p.areaRngLbl.append(label)
                extra.append(label)
        if "useCats" in case:
            p.useCats = case["useCats"]
        image_ids = None
        if case.get("imgIds") == "odd":
            image_ids = sorted(gt.getImgIds())[::2]
            p.imgIds = image_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    out = {"stats": [float(v) for v in ev.stats]}
    top = p.maxDets.index(p.maxDets[2])
    for label in extra:
        a = p.areaRngLbl.index(label)
        pr = ev.eval["precision"][:, :, :, a, top]
        rc = ev.eval["recall"][:, :, a, top]
        out["AP_" + label] = float(np.mean(pr[pr > -1])) if (pr > -1).any() else -1.0
        out["AR_" + label] = float(np.mean(rc[rc > -1])) if (rc > -1).any() else -1.0
    if image_ids is not None:
        out["imageIds"] = [int(i) for i in image_ids]
    return out


def string_ids():
    """pycocotools accepts any id value: the mixed set with string image ids. The names are
    chosen so that Python's string order ("img10" < "img2") differs from the numeric order."""
    out_dir = os.path.join(ROOT, FIXTURES, "strings")
    os.makedirs(out_dir, exist_ok=True)
    gt = json.load(open(os.path.join(ROOT, FIXTURES, "mixed", "gt.json")))
    res = json.load(open(os.path.join(ROOT, FIXTURES, "mixed", "results-rle.json")))
    names = {im["id"]: f"img{(7 * im['id']) % 13}" for im in gt["images"]}
    assert len(set(names.values())) == len(names)
    for im in gt["images"]:
        im["id"] = names[im["id"]]
    for a in gt["annotations"]:
        a["image_id"] = names[a["image_id"]]
    for r in res:
        r["image_id"] = names[r["image_id"]]
    json.dump(gt, open(os.path.join(out_dir, "gt.json"), "w"))
    json.dump(res, open(os.path.join(out_dir, "results.json"), "w"))
    expected = {}
    for iou_type in ["segm", "bbox"]:
        with contextlib.redirect_stdout(io.StringIO()):
            cgt = COCO(os.path.join(out_dir, "gt.json"))
            ev = COCOeval(cgt, cgt.loadRes(os.path.join(out_dir, "results.json")), iou_type)
            ev.evaluate(); ev.accumulate(); ev.summarize()
        expected[iou_type] = [float(v) for v in ev.stats]
        expected["order"] = [str(i) for i in ev.params.imgIds]
    json.dump(expected, open(os.path.join(out_dir, "expected.json"), "w"), indent=1)


def main():
    string_ids()
    result = {"pycocotools": metadata.version("pycocotools"), "numpy": np.__version__, "cases": []}
    for name, gt_path, res_path in SETS:
        for case in CASES:
            expected = run(gt_path, res_path, case)
            result["cases"].append({"set": name, "gt": gt_path, "results": res_path, "params": case, "expected": expected})
    path = os.path.join(ROOT, FIXTURES, "params.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {len(result['cases'])} cases to {path}")


if __name__ == "__main__":
    main()
