#!/usr/bin/env python3
"""The synthetic decathlon-style sample under sample-data/medical/ (redistributable: made here).

    /tmp/med-venv/bin/python scripts/make_medical_sample.py

nnU-Net raw layout: dataset.json, imagesTr/case_XXX_0000.nii.gz (a CT-like int16 volume in
Hounsfield units: air, a body, a liver, a few tumours, a spine), labelsTr/case_XXX.nii.gz
(0 background, 1 liver, 2 tumour, 3 bone), and two prediction sets, predictions/model-a (close)
and predictions/model-b (shifted, misses the small tumours). Anisotropic spacing, an LPS-like
affine, so orientation and millimetres show.
"""
import json
import os

import nibabel as nib
import numpy as np
from scipy import ndimage

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sample-data", "medical")
SHAPE = (48, 40, 20)
SPACING = (0.9, 0.9, 2.5)
rng = np.random.default_rng(7)


def ellipsoid(center, radii):
    x, y, z = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij")
    return (((x - center[0]) / radii[0]) ** 2 + ((y - center[1]) / radii[1]) ** 2 + ((z - center[2]) / radii[2]) ** 2) <= 1


def case(seed):
    r = np.random.default_rng(seed)
    body = ellipsoid((24, 20, 10), (21, 17, 14))
    liver = ellipsoid((17 + r.integers(-2, 3), 18, 10), (9, 8, 6)) & body
    tumours = [ellipsoid((15 + r.integers(-3, 4), 16 + r.integers(-2, 3), 9 + r.integers(-2, 3)), (2.5, 2.5, 1.2)) & liver]
    if seed % 2 == 0:
        tumours.append(ellipsoid((21, 22, 11), (1.5, 1.5, 1)) & liver)
    spine = ellipsoid((24, 32, 10), (3, 3, 12)) & body
    labels = np.zeros(SHAPE, np.uint8)
    labels[liver] = 1
    for t in tumours:
        labels[t] = 2
    labels[spine] = 3
    hu = np.full(SHAPE, -1000.0)
    hu[body] = 40
    hu[liver] = 60
    hu[labels == 2] = 20
    hu[spine] = 700
    hu = ndimage.gaussian_filter(hu, 0.7) + r.normal(scale=8, size=SHAPE)
    return np.round(hu / 5).astype(np.int16) * 5, labels, tumours


def predict(labels, tumours, shift, keep_small, seed):
    r = np.random.default_rng(seed)
    pred = np.zeros_like(labels)
    for value in (1, 3):
        mask = ndimage.shift((labels == value).astype(float), shift, order=0) > 0.5
        mask = ndimage.binary_opening(mask) if r.random() < 0.5 else ndimage.binary_dilation(mask, iterations=1)
        pred[mask] = value
    for t in tumours:
        if keep_small or t.sum() > 40:
            pred[ndimage.binary_dilation(t) if r.random() < 0.5 else t] = 2
    return pred


def main():
    for sub in ("imagesTr", "labelsTr", "predictions/model-a", "predictions/model-b"):
        os.makedirs(os.path.join(OUT, sub), exist_ok=True)
    affine = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
    affine[:3, 3] = (21.6, 18.0, -25.0)
    n = 3
    for i in range(n):
        name = f"case_{i:03d}"
        hu, labels, tumours = case(i)
        img = nib.Nifti1Image(hu, affine)
        img.header.set_data_dtype(np.int16)
        img.header.set_xyzt_units("mm", "sec")
        nib.save(img, os.path.join(OUT, "imagesTr", name + "_0000.nii.gz"))
        def save(v, folder):
            out = nib.Nifti1Image(v.astype(np.uint8), affine)
            out.header.set_data_dtype(np.uint8)
            out.header.set_xyzt_units("mm", "sec")
            nib.save(out, os.path.join(OUT, folder, name + ".nii.gz"))
        save(labels, "labelsTr")
        save(predict(labels, tumours, (0, 0, 0), True, 100 + i), "predictions/model-a")
        save(predict(labels, tumours, (1, 1, 0), False, 200 + i), "predictions/model-b")
    dataset = {"channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": 1, "tumour": 2, "bone": 3},
               "numTraining": n, "file_ending": ".nii.gz",
               "name": "segterm synthetic CT (made by scripts/make_medical_sample.py, free to redistribute)"}
    with open(os.path.join(OUT, "dataset.json"), "w") as fh:
        json.dump(dataset, fh, indent=4)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
