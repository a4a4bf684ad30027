#!/usr/bin/env python3
"""Automatic mask generator ("segment everything") parity fixtures from the official generators:
segment-anything 1.0's `SamAutomaticMaskGenerator` on the tiny SAM fixture and sam2 1.1.0's
`SAM2AutomaticMaskGenerator` on the reduced SAM 2.1 fixture (both random weights, already
committed under Tests/SegModelsTests/Fixtures). Writes Tests/SegModelsTests/Fixtures/amg/: the
test image and cases.json (per case: the model, the generator's keyword arguments, and every mask
record as the official `generate` returns it with output_mode="coco_rle").

    /tmp/sam2-venv/bin/pip install segment-anything==1.0 opencv-python-headless pycocotools   (venv of make_sam2_fixture.py)
    /tmp/sam2-venv/bin/python scripts/make_amg_fixtures.py

Random weights give few masks above the official thresholds, so most cases lower
pred_iou_thresh / stability_score_thresh (and use fewer points) to compare many masks; one case
per family keeps the official defaults.

SAM 2.1's `min_mask_region_area` becomes the predictor's hole and sprinkle filling, whose connected
components come from sam2's CUDA extension (`sam2._C`, 8-connectivity); the PyPI wheel on CPU has
no extension and the official code then skips the filling with a warning. For the cases with that
option the script puts OpenCV's 8-connected `connectedComponentsWithStats` in its place (labels,
and each pixel's component area, as the kernel returns), so the filling runs as on a GPU install.
"""
import json
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

import sam2.utils.misc
from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator
from segment_anything import SamAutomaticMaskGenerator

import importlib.util
import sys

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests/SegModelsTests/Fixtures"
OUT = FIX / "amg"


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def tiny_sam():
    m = load_script("make_tiny_sam_fixture")
    sam = m.build()
    sam.load_state_dict(torch.load(FIX / "tiny_sam/tiny_sam.pth"), strict=True)
    return sam.eval()


def sam2_reduced():
    m = load_script("make_sam2_fixture")
    model = m.build_reduced()
    model.load_state_dict(torch.load(FIX / "sam2_reduced/sam2_reduced.pt")["model"], strict=True)
    return model.eval()


def scene():
    """A 96x72 picture with a few flat shapes on a gradient, plus seeded noise."""
    rng = np.random.RandomState(21)
    yy, xx = np.mgrid[0:72, 0:96]
    img = np.stack([xx * 2, yy * 3, (xx + yy)], -1).astype(np.float64)
    img[(xx - 30) ** 2 + (yy - 25) ** 2 < 15 ** 2] = [220, 40, 40]
    img[(xx > 55) & (xx < 85) & (yy > 35) & (yy < 65)] = [30, 200, 60]
    img[(abs(xx - 20) + abs(yy - 55)) < 12] = [250, 250, 40]
    img += rng.randint(0, 25, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def cc_standin(mask):
    """sam2._C.get_connected_componnets: per pixel its 8-connected component label and area."""
    m = mask.to(torch.uint8).numpy()
    labels = np.zeros(m.shape, dtype=np.int32)
    areas = np.zeros(m.shape, dtype=np.int32)
    for i in range(m.shape[0]):
        n, lab, stats, _ = cv2.connectedComponentsWithStats(m[i, 0], connectivity=8)
        labels[i, 0] = lab
        area = stats[:, cv2.CC_STAT_AREA].astype(np.int32)
        area[0] = 0
        areas[i, 0] = area[lab]
    return torch.from_numpy(labels), torch.from_numpy(areas)


def records(anns):
    out = []
    for a in anns:
        s = a["segmentation"]
        out.append({"size": s["size"], "counts": s["counts"], "area": int(a["area"]),
                    "bbox": [int(v) for v in a["bbox"]], "predicted_iou": float(a["predicted_iou"]),
                    "point_coords": [float(v) for v in a["point_coords"][0]], "stability_score": float(a["stability_score"]),
                    "crop_box": [int(v) for v in a["crop_box"]]})
    return out


LOW = {"pred_iou_thresh": 0.0, "stability_score_thresh": 0.0, "box_nms_thresh": 1.0, "crop_nms_thresh": 0.9}
SAM_CASES = [
    ("sam_defaults", {"points_per_side": 16}),
    ("sam_low", {"points_per_side": 8, **LOW}),
    ("sam_nms", {"points_per_side": 8, "pred_iou_thresh": 0.0, "stability_score_thresh": 0.0}),
    ("sam_mid", {"points_per_side": 12, "pred_iou_thresh": 0.3, "stability_score_thresh": 0.6, "points_per_batch": 50}),
    ("sam_crops", {"points_per_side": 6, "crop_n_layers": 1, "crop_n_points_downscale_factor": 2, **LOW}),
    ("sam_min_area", {"points_per_side": 6, "min_mask_region_area": 40, **LOW}),
]
SAM2_CASES = [
    ("sam2_defaults", {"points_per_side": 16}),
    ("sam2_low", {"points_per_side": 8, **LOW}),
    ("sam2_single", {"points_per_side": 8, "multimask_output": False, **LOW}),
    ("sam2_m2m", {"points_per_side": 6, "use_m2m": True, **LOW}),
    ("sam2_crops", {"points_per_side": 6, "crop_n_layers": 1, **LOW}),
    ("sam2_min_area", {"points_per_side": 6, "min_mask_region_area": 30, **LOW}),
]


def main():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    img = scene()
    Image.fromarray(img).save(OUT / "scene.png")
    cases = []
    sam = tiny_sam()
    for name, kw in SAM_CASES:
        gen = SamAutomaticMaskGenerator(sam, output_mode="coco_rle", **kw)
        cases.append({"name": name, "model": "tiny_sam", "options": {k: float(v) for k, v in kw.items()}, "masks": records(gen.generate(img))})
    model = sam2_reduced()
    s = model.image_size
    official_cc = sam2.utils.misc.get_connected_components
    for name, kw in SAM2_CASES:
        gen = SAM2AutomaticMaskGenerator(model, output_mode="coco_rle", **kw)
        gen.predictor._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
        sam2.utils.misc.get_connected_components = cc_standin if kw.get("min_mask_region_area", 0) > 0 else official_cc
        cases.append({"name": name, "model": "sam2_reduced", "options": {k: float(v) for k, v in kw.items()}, "masks": records(gen.generate(img))})
    sam2.utils.misc.get_connected_components = official_cc
    # The geometry alone, on sizes and layer counts the cases do not reach.
    from segment_anything.utils.amg import build_all_layer_point_grids, generate_crop_boxes
    geometry = []
    for (h, w) in [(1024, 768), (300, 451), (53, 37), (1500, 2000)]:
        for layers in (0, 1, 2, 3):
            boxes, layer_idxs = generate_crop_boxes((h, w), layers, 512 / 1500)
            geometry.append({"height": h, "width": w, "layers": layers, "crop_boxes": boxes, "layer_idxs": layer_idxs})
    grids = [{"points_per_side": n, "layers": 2, "scale": sc,
              "grids": [g.tolist() for g in build_all_layer_point_grids(n, 2, sc)]} for n, sc in ((5, 2), (7, 2), (32, 3))]
    (OUT / "cases.json").write_text(json.dumps({"image": "scene.png", "cases": cases, "crops": geometry, "grids": grids}))
    for c in cases:
        print(c["name"], len(c["masks"]), "masks")
    print("wrote", OUT, sum(p.stat().st_size for p in OUT.iterdir()), "bytes")


if __name__ == "__main__":
    main()
