#!/usr/bin/env python3
"""NIfTI reader fixtures: small files written by nibabel and what nibabel reads back from them.

Run with a venv that has nibabel and numpy (e.g. /tmp/med-venv):
    /tmp/med-venv/bin/python scripts/make_nifti_fixtures.py
Writes Tests/SegCoreTests/Fixtures/nifti/*.nii[.gz] and expected.json (shape, affine, zooms,
axis codes, scaling and the voxels as get_fdata() returns them, x fastest).
"""
import json
import os

import nibabel as nib
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SegCoreTests", "Fixtures", "nifti")
rng = np.random.default_rng(20)


def rotation(ax, ay, az):
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def affine(zooms, rot, offset, flip=(1, 1, 1)):
    a = np.eye(4)
    a[:3, :3] = rot @ np.diag(np.array(zooms) * np.array(flip))
    a[:3, 3] = offset
    return a


cases = []


def save(name, img, scaling=None):
    path = os.path.join(OUT, name)
    nib.save(img, path)
    if scaling is not None:
        # nibabel recomputes scl_slope/scl_inter on save; set them in the bytes (little-endian, uncompressed).
        raw = bytearray(open(path, "rb").read())
        raw[112:120] = np.array(scaling, dtype="<f4").tobytes()
        open(path, "wb").write(bytes(raw))
    back = nib.load(path)
    hdr = back.header
    slope, inter = back.dataobj.slope, back.dataobj.inter
    data = back.get_fdata()
    shape3 = list(data.shape[:3]) + [1] * (3 - len(data.shape[:3]))
    cases.append({
        "file": name,
        "version": 2 if isinstance(back, nib.Nifti2Image) else 1,
        "datatype": int(hdr["datatype"]),
        "shape": shape3,
        "affine": back.affine.reshape(-1).tolist(),
        "zooms": [float(z) for z in hdr.get_zooms()[:3]],
        "axcodes": "".join(nib.aff2axcodes(back.affine)),
        "slope": None if slope is None else float(slope),
        "inter": None if inter is None else float(inter),
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "values": data.reshape(-1, order="F").tolist(),
    })


# uint8 labels, sform and qform both RAS, gzip.
lab = rng.integers(0, 4, size=(5, 4, 3), dtype=np.uint8)
img = nib.Nifti1Image(lab, affine((0.8, 0.8, 2.5), np.eye(3), (-10, 20, 30)))
img.header.set_data_dtype(np.uint8)
save("labels_u8_ras.nii.gz", img)

# int16 with scaling, qform only (rotated, LPS-like), uncompressed.
vals = rng.integers(-1000, 1000, size=(6, 5, 4)).astype(np.int16)
img = nib.Nifti1Image(vals, None)
q = affine((0.7, 0.9, 3.0), rotation(0.1, -0.05, 0.2), (5.5, -7.25, 12.0), flip=(-1, -1, 1))
img.header.set_qform(q, code=1)
img.header.set_sform(None, code=0)
img.header.set_data_dtype(np.int16)
save("ct_i16_scaled_qform.nii", img, scaling=(2.0, -10.0))

# float32 NIfTI-2, gzip, sform with a rotation.
f = rng.normal(size=(4, 3, 5)).astype(np.float32)
img = nib.Nifti2Image(f, affine((1.5, 1.25, 1.0), rotation(0.3, 0.0, -0.1), (1, 2, 3)))
save("mr_f32_nifti2.nii.gz", img)

# float64, big-endian, uncompressed.
d = rng.normal(size=(3, 4, 2))
hdr = nib.Nifti1Header(endianness=">")
hdr.set_data_dtype(">f8")
img = nib.Nifti1Image(d, affine((2, 2, 2), np.eye(3), (0, 0, 0), flip=(-1, 1, 1)), header=hdr)
save("f64_big_endian.nii", img)

# int32, 4-D with one volume, gzip.
v = rng.integers(0, 70000, size=(3, 3, 2, 1)).astype(np.int32)
img = nib.Nifti1Image(v, affine((1, 1, 4), np.eye(3), (0, 0, 0)))
img.header.set_data_dtype(np.int32)
save("i32_4d_one_volume.nii.gz", img)

# 2-D (dim[0] = 2) uint8 with pixel spacing.
p = rng.integers(0, 3, size=(7, 6)).astype(np.uint8)
img = nib.Nifti1Image(p, affine((0.5, 0.25, 1), np.eye(3), (0, 0, 0)))
img.header.set_data_dtype(np.uint8)
save("slice_u8_2d.nii.gz", img)

with open(os.path.join(OUT, "expected.json"), "w") as fh:
    json.dump({"nibabel": nib.__version__, "cases": cases}, fh, indent=1)
print("wrote", len(cases), "cases to", OUT)
