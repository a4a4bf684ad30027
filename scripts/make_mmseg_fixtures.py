#!/usr/bin/env python3
"""Golden values for `segterm eval` semantic options from mmsegmentation (issue #18, item 5):
`--reduce-zero-label` and `--label-map`, as mmsegmentation 0.30's `eval_metrics` computes them
(`intersect_and_union`: the label map, then reduce_zero_label, applied to the ground truth).

mmsegmentation 0.x imports mmcv (a compiled package) at the top of `mmseg/__init__.py` and of its
metrics module, though `eval_metrics` on arrays never calls it. The script loads that one file
(`mmseg/core/evaluation/metrics.py`) from the installed wheel with an empty stand-in for mmcv,
so the reference code itself runs, unchanged.

Run (from the repository root; torch from PyPI):

    python3 -m venv /tmp/mmseg-venv && /tmp/mmseg-venv/bin/pip install torch numpy pillow
    /tmp/mmseg-venv/bin/pip install --no-deps mmsegmentation==0.30.0
    /tmp/mmseg-venv/bin/python scripts/make_mmseg_fixtures.py

It writes Tests/SegEvalTests/Fixtures/semantic/mmseg.json.
"""
import importlib.util
import json
import os
import sys
import types
from importlib import metadata

import numpy as np
from PIL import Image

sys.modules.setdefault("mmcv", types.ModuleType("mmcv"))
spec = importlib.util.find_spec("mmseg")
path = os.path.join(os.path.dirname(spec.origin), "core", "evaluation", "metrics.py")
loader = importlib.util.spec_from_file_location("mmseg_metrics", path)
metrics = importlib.util.module_from_spec(loader)
loader.loader.exec_module(metrics)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SegEvalTests", "Fixtures", "semantic")
CASES = [
    # The fixture's 4 classes with the background label reduced away: 3 classes, gt 0 ignored.
    {"name": "reduce-zero-label", "num_classes": 3, "reduce_zero_label": True, "label_map": {}},
    # Merge car (2) into road (1) in the ground truth, as a label map does.
    {"name": "label-map", "num_classes": 4, "reduce_zero_label": False, "label_map": {2: 1}},
    {"name": "label-map-then-reduce", "num_classes": 3, "reduce_zero_label": True, "label_map": {3: 2, 2: 1}},
]


def main():
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "gt")) if n.endswith(".png"))
    # mmseg reads label PNGs as uint8 (its reduce_zero_label relies on 0 - 1 wrapping to 255);
    # the fixture's values are all below 256.
    gts = [np.array(Image.open(os.path.join(ROOT, "gt", n))) for n in names]
    assert all(g.max() <= 255 for g in gts)
    gts = [g.astype(np.uint8) for g in gts]
    preds = [np.array(Image.open(os.path.join(ROOT, "pred", n))).astype(np.int64) for n in names]
    out = {"mmsegmentation": metadata.version("mmsegmentation"), "cases": []}
    for case in CASES:
        ret = metrics.eval_metrics([p.copy() for p in preds], [g.copy() for g in gts], case["num_classes"], 255,
                                   metrics=["mIoU", "mDice"], label_map=case["label_map"],
                                   reduce_zero_label=case["reduce_zero_label"])
        def clean(v):
            return [None if np.isnan(x) else float(x) for x in np.asarray(v, dtype=np.float64).reshape(-1)]
        out["cases"].append({"name": case["name"], "classes": case["num_classes"], "reduceZeroLabel": case["reduce_zero_label"],
                             "labelMap": {str(k): v for k, v in case["label_map"].items()},
                             "aAcc": float(ret["aAcc"]), "IoU": clean(ret["IoU"]), "Dice": clean(ret["Dice"]),
                             "Acc": clean(ret["Acc"])})
        print(case["name"], out["cases"][-1]["IoU"])
    with open(os.path.join(ROOT, "mmseg.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
