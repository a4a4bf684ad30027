#!/usr/bin/env python3
"""Volume metric fixtures: a tiny decathlon-style set of label volumes, nnU-Net's own evaluation
of it, and MONAI's surface metrics of every case and structure.

Run with a venv that has nnunetv2, monai, nibabel (e.g. /tmp/med-venv):
    /tmp/med-venv/bin/python scripts/make_volume_metric_fixtures.py
Writes Tests/SegEvalTests/Fixtures/volume/: labelsTr/, predictions/, dataset.json,
summary.json and summary_regions.json (nnunetv2's compute_metrics_on_folder, run from that folder
so the paths in them are relative) and golden.json (the same numbers plus MONAI's HD, HD95, ASD,
NSD; NaN and infinity as the strings "NaN" and "Infinity").
"""
import json
import math
import os

import nibabel as nib
import numpy as np
import torch
from monai.metrics import (HausdorffDistanceMetric, SurfaceDiceMetric, SurfaceDistanceMetric)
from nnunetv2.evaluation.evaluate_predictions import compute_metrics_on_folder
from nnunetv2.imageio.nibabel_reader_writer import NibabelIO

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SegEvalTests", "Fixtures", "volume")
rng = np.random.default_rng(2020)
SHAPE = (20, 18, 12)
SPACING = (0.8, 0.7, 2.5)
LABELS = [1, 2, 3]
IGNORE = 4
TOLERANCES = [1.0, 2.0, 1.5]  # NSD tolerance per label, mm


def blob(center, radii, jitter=0.25):
    x, y, z = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij")
    r = ((x - center[0]) / radii[0]) ** 2 + ((y - center[1]) / radii[1]) ** 2 + ((z - center[2]) / radii[2]) ** 2
    return r + rng.normal(scale=jitter, size=SHAPE) < 1


def volume(structures):
    v = np.zeros(SHAPE, dtype=np.uint8)
    for label, mask in structures:
        v[mask] = label
    return v


def monai_case(ref, pred, labels, spacing, tolerances):
    # Every label present gets a channel (the ignore label too); only `labels` are reported.
    n = int(max(ref.max(), pred.max(), max(labels))) + 1
    tolerances = list(tolerances) + [1.0] * (n - 1 - len(tolerances))
    def onehot(v):
        t = torch.from_numpy(v.astype(np.int64))
        return torch.nn.functional.one_hot(t, n).movedim(-1, 0)[None].float()
    y, yp = onehot(ref), onehot(pred)
    out = {}
    with np.errstate(all="ignore"):
        hd = HausdorffDistanceMetric(include_background=False)(yp, y, spacing=spacing)[0]
        hd95 = HausdorffDistanceMetric(include_background=False, percentile=95)(yp, y, spacing=spacing)[0]
        asd = SurfaceDistanceMetric(include_background=False, symmetric=True)(yp, y, spacing=spacing)[0]
        asd_directed = SurfaceDistanceMetric(include_background=False, symmetric=False)(yp, y, spacing=spacing)[0]
        nsd = SurfaceDiceMetric(class_thresholds=tolerances, include_background=False)(yp, y, spacing=spacing)[0]
    for label in labels:
        i = label - 1
        out[str(label)] = {"HD": float(hd[i]), "HD95": float(hd95[i]), "ASD": float(asd[i]),
                           "ASD_directed": float(asd_directed[i]), "NSD": float(nsd[i])}
    return out


def plain(x):
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    if isinstance(x, float) and math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x



def main():
    cases = {}
    # 0: every structure on both sides, slightly moved, and an ignored strip in the reference.
    ref = volume([(1, blob((9, 9, 6), (6, 5, 4))), (2, blob((8, 8, 6), (2.5, 2, 2))), (3, blob((15, 4, 3), (2, 2, 2)))])
    ref[:, 0:2, 10:] = IGNORE
    pred = volume([(1, blob((10, 9, 6), (6, 5.5, 3.5))), (2, blob((9, 8, 6), (2, 2.5, 2))), (3, blob((15, 5, 3), (2, 2, 1.5)))])
    pred[0, 0, 11] = IGNORE
    cases["case_000"] = (ref, pred)
    # 1: label 3 only predicted (empty reference).
    ref = volume([(1, blob((9, 8, 5), (5, 6, 4))), (2, blob((9, 8, 5), (2, 2, 2)))])
    pred = volume([(1, blob((9, 8, 6), (5, 6, 4))), (2, blob((10, 8, 5), (2, 2, 2))), (3, blob((3, 14, 9), (2, 2, 1.2)))])
    cases["case_001"] = (ref, pred)
    # 2: label 3 missed (empty prediction), label 2 far off.
    ref = volume([(1, blob((10, 9, 6), (7, 6, 4))), (2, blob((6, 6, 5), (2, 2, 2))), (3, blob((16, 14, 8), (2, 2, 2)))])
    pred = volume([(1, blob((10, 9, 6), (6, 6, 4))), (2, blob((13, 12, 7), (2, 2, 1.5)))])
    cases["case_002"] = (ref, pred)
    # 3: label 3 on neither side; structures touching the volume's border.
    ref = volume([(1, blob((0, 9, 0), (6, 6, 4))), (2, blob((19, 17, 11), (3, 3, 2)))])
    pred = volume([(1, blob((1, 9, 0), (6, 5, 4))), (2, blob((19, 16, 11), (3, 3, 2)))])
    cases["case_003"] = (ref, pred)

    os.makedirs(os.path.join(OUT, "labelsTr"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "predictions"), exist_ok=True)
    affine = np.diag(list(SPACING) + [1.0])
    affine[:3, 3] = (-8, -6, 10)
    for name, (ref, pred) in cases.items():
        nib.save(nib.Nifti1Image(ref, affine), os.path.join(OUT, "labelsTr", name + ".nii.gz"))
        nib.save(nib.Nifti1Image(pred, affine), os.path.join(OUT, "predictions", name + ".nii.gz"))

    dataset = {"channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": 1, "tumour": 2, "vessel": 3, "ignore": IGNORE},
               "numTraining": len(cases), "file_ending": ".nii.gz", "name": "segterm synthetic volumes (fixture)"}
    with open(os.path.join(OUT, "dataset.json"), "w") as fh:
        json.dump(dataset, fh, indent=4)

    cwd = os.getcwd()
    os.chdir(OUT)
    summary = compute_metrics_on_folder("labelsTr", "predictions", "summary.json", NibabelIO(), ".nii.gz", LABELS,
                                        ignore_label=IGNORE, num_processes=1)
    regions = [(1, 2), (1, 2, 3), (3,)]
    summary_regions = compute_metrics_on_folder("labelsTr", "predictions", "summary_regions.json", NibabelIO(), ".nii.gz",
                                                regions, ignore_label=IGNORE, num_processes=1)
    os.chdir(cwd)


    monai = {}
    for name, (ref, pred) in cases.items():
        # MONAI has no ignore label: the surface metrics see the ignore label as one more label.
        monai[name] = monai_case(ref, pred, LABELS, list(SPACING), TOLERANCES)

    # 2-D masks with a pixel spacing (one slice of case 0 and 2, as 2-D arrays).
    planar = {}
    for name, z in (("case_000", 6), ("case_002", 5)):
        ref, pred = cases[name]
        planar[name] = {"slice": z, "metrics": monai_case(ref[:, :, z], pred[:, :, z], LABELS, list(SPACING[:2]), TOLERANCES)}

    import monai as monai_pkg
    import nnunetv2
    golden = {"versions": {"monai": monai_pkg.__version__, "nibabel": nib.__version__, "torch": torch.__version__},
              "spacing": SPACING, "tolerances": TOLERANCES, "monai": monai, "planar": planar}
    with open(os.path.join(OUT, "golden.json"), "w") as fh:
        json.dump(plain(golden), fh, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
