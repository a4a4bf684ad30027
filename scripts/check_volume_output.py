#!/usr/bin/env python3
"""Checks a label volume the workbench wrote against its source image and ground truth, with nibabel.

    /tmp/med-venv/bin/python scripts/check_volume_output.py SOURCE GROUND_TRUTH WRITTEN LABEL PLANE:K [PLANE:K ...]

Prints JSON: whether the written file has the source's shape, voxel sizes, affine, qform and sform
codes, and whether its voxels are exactly LABEL where the ground truth holds LABEL on the given
slices (axial: constant z, coronal: constant y, sagittal: constant x) and 0 elsewhere. Run by
SegTUITests' VolumeWorkbenchTests when /tmp/med-venv (nibabel, numpy) exists.
"""
import json
import sys

import nibabel as nib
import numpy as np

source, truth, written, label = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s, g, o = nib.load(source), nib.load(truth), nib.load(written)
gd = np.asarray(g.dataobj)
od = np.asarray(o.dataobj)
expected = np.zeros(od.shape, dtype=np.int64)
for spec in sys.argv[5:]:
    plane, k = spec.split(":")
    where = [slice(None)] * 3
    where[{"axial": 2, "coronal": 1, "sagittal": 0}[plane]] = int(k)
    where = tuple(where)
    expected[where] = np.where(gd[where] == label, label, expected[where])
print(json.dumps({
    "shape_equal": s.shape == o.shape,
    "zooms_equal": bool(np.allclose(s.header.get_zooms(), o.header.get_zooms())),
    "affine_equal": bool(np.allclose(s.affine, o.affine, atol=1e-6)),
    "qform_equal": bool(np.allclose(s.get_qform(), o.get_qform(), atol=1e-6)) and int(s.header["qform_code"]) == int(o.header["qform_code"]),
    "sform_equal": bool(np.allclose(s.get_sform(), o.get_sform(), atol=1e-6)) and int(s.header["sform_code"]) == int(o.header["sform_code"]),
    "voxels_equal": bool((od == expected).all()),
    "written_voxels": int((od != 0).sum()),
    "expected_voxels": int((expected != 0).sum()),
}))
