#!/usr/bin/env python3
"""Golden values for segterm's COCO output (the workbench's instances.json), from pycocotools.

Writes Tests/SegTUITests/Fixtures/coco_output.json: a few masks (packed bits, row-major) and what
pycocotools makes of them: the compressed RLE string (`mask.encode`), `area`, `toBbox`. The
Swift test writes the same masks through segterm's OutputWriter and checks that every annotation
carries exactly these values, and that pycocotools-style decoding gives the masks back.

    python3 -m venv /tmp/venv-coco && /tmp/venv-coco/bin/pip install pycocotools numpy
    /tmp/venv-coco/bin/python scripts/make_output_fixtures.py
"""
import base64
import importlib.metadata
import json
import pathlib

import numpy as np
from pycocotools import mask as mask_utils

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/SegTUITests/Fixtures/coco_output.json"


def masks(height, width):
    rng = np.random.default_rng(20261122)
    yy, xx = np.mgrid[0:height, 0:width]
    yield "ellipse", ((xx - 30) / 18.0) ** 2 + ((yy - 20) / 11.0) ** 2 <= 1
    ring = ((xx - 60) ** 2 + (yy - 35) ** 2 <= 15 ** 2) & ((xx - 60) ** 2 + (yy - 35) ** 2 > 7 ** 2)
    yield "ring with a hole", ring
    yield "border pixels", (xx == 0) | (yy == height - 1)
    yield "one pixel", (xx == width - 1) & (yy == 0)
    yield "noise", rng.random((height, width)) < 0.3
    yield "full", np.ones((height, width), dtype=bool)


def main():
    height, width = 45, 83  # odd sizes, so row/column order mistakes show
    cases = []
    for name, m in masks(height, width):
        m = np.asarray(m, dtype=bool)
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        cases.append({
            "name": name,
            "height": height,
            "width": width,
            "bits": base64.b64encode(np.packbits(m.reshape(-1)).tobytes()).decode(),
            "counts": rle["counts"].decode(),
            "area": int(mask_utils.area(rle)),
            "bbox": [float(v) for v in mask_utils.toBbox(rle)],
        })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generator": "scripts/make_output_fixtures.py",
                               "pycocotools": importlib.metadata.version("pycocotools"), "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} masks)")


if __name__ == "__main__":
    main()
