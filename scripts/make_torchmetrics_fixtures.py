#!/usr/bin/env python3
"""Golden values for `segterm eval --include-background true|false` from torchmetrics' MeanIoU
(issue #18, item 5).

torchmetrics' segmentation `MeanIoU` (index input) has no ignore index: one-hot encoding a 255
fails, as does a predicted value that is no class. The script therefore writes copies of the
semantic fixture with the ignore band set to background (`gt-noignore/`) and predictions that are
no class set to background (`pred-inrange/`), and evaluates them image by image (each image one `update`), with and without the
background class: the mean over every (image, class) pair whose union is not empty, and per class
the mean over the images where it is defined (-1 where never).

Run (from the repository root; torch from PyPI):

    python3 -m venv /tmp/tm-venv && /tmp/tm-venv/bin/pip install torch torchmetrics numpy pillow
    /tmp/tm-venv/bin/python scripts/make_torchmetrics_fixtures.py

It writes gt-noignore/, pred-inrange/ and Tests/SegEvalTests/Fixtures/semantic/torchmetrics.json.
"""
import json
import os
from importlib import metadata

import numpy as np
import torch
from PIL import Image
from torchmetrics.segmentation import MeanIoU

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SegEvalTests", "Fixtures", "semantic")
K = 4


def main():
    out = os.path.join(ROOT, "gt-noignore")
    out_pred = os.path.join(ROOT, "pred-inrange")
    os.makedirs(out, exist_ok=True)
    os.makedirs(out_pred, exist_ok=True)
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "gt")) if n.endswith(".png"))
    pairs = []
    for n in names:
        gt = np.array(Image.open(os.path.join(ROOT, "gt", n))).astype(np.int64)
        gt[gt == 255] = 0
        assert gt.max() < K
        Image.fromarray(gt.astype(np.uint8)).save(os.path.join(out, n))
        pred = np.array(Image.open(os.path.join(ROOT, "pred", n))).astype(np.int64)
        pred[pred >= K] = 0
        Image.fromarray(pred.astype(np.uint8)).save(os.path.join(out_pred, n))
        pairs.append((torch.from_numpy(pred), torch.from_numpy(gt)))
    result = {"torchmetrics": metadata.version("torchmetrics"), "torch": torch.__version__, "cases": []}
    for include in [True, False]:
        overall = MeanIoU(num_classes=K, include_background=include, per_class=False, input_format="index")
        per_class = MeanIoU(num_classes=K, include_background=include, per_class=True, input_format="index")
        for pred, gt in pairs:
            overall.update(pred.unsqueeze(0), gt.unsqueeze(0))
            per_class.update(pred.unsqueeze(0), gt.unsqueeze(0))
        result["cases"].append({"includeBackground": include, "mIoU": float(overall.compute()),
                                "perClass": [float(v) for v in per_class.compute()]})
        print(include, result["cases"][-1])
    with open(os.path.join(ROOT, "torchmetrics.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
