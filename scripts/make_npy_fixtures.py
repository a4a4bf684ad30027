#!/usr/bin/env python3
"""`.npy` semantic predictions (as mmsegmentation 0.x saves them with `np.save`) for segterm's
reader: the committed PNG predictions of the semantic fixture, read with Pillow and saved by numpy
in the dtypes and layouts numpy writes (int64 as mmseg does, uint8, uint16, int16, big-endian
int32, Fortran order). `segterm eval` on this folder must give exactly the numbers of the PNGs.

Run (from the repository root):

    python3 -m venv /tmp/eval-venv && /tmp/eval-venv/bin/pip install numpy pillow
    /tmp/eval-venv/bin/python scripts/make_npy_fixtures.py

It rewrites Tests/SegEvalTests/Fixtures/semantic/pred-npy/.
"""
import os

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SegEvalTests", "Fixtures", "semantic")
LAYOUTS = [("<i8", False), ("|u1", False), (">i4", False), ("<i8", True), ("<u2", False), ("<i2", False)]


def main():
    out = os.path.join(ROOT, "pred-npy")
    os.makedirs(out, exist_ok=True)
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "pred")) if n.endswith(".png"))
    for k, name in enumerate(names):
        labels = np.array(Image.open(os.path.join(ROOT, "pred", name)))
        dtype, fortran = LAYOUTS[k % len(LAYOUTS)]
        array = labels.astype(np.dtype(dtype))
        if fortran:
            array = np.asfortranarray(array)
        np.save(os.path.join(out, name[:-4] + ".npy"), array)
        back = np.load(os.path.join(out, name[:-4] + ".npy"))
        assert (back == labels).all() and back.dtype == np.dtype(dtype) and back.flags.f_contiguous == (fortran and labels.ndim == 2 and min(labels.shape) > 1)
        print(name, dtype, "fortran" if fortran else "C", labels.shape)


if __name__ == "__main__":
    main()
