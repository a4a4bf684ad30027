#!/usr/bin/env python3
"""Golden fixtures for SegCore's COCO RLE, polygon, connected-component and distance-transform code.

Every expected value here comes from the reference tools (pycocotools, scipy.ndimage), never from
segterm itself, so the Swift tests compare against an independent implementation.

Run (from the repository root):

    python3 -m venv /tmp/venv-coco && /tmp/venv-coco/bin/pip install pycocotools numpy scipy
    /tmp/venv-coco/bin/python scripts/make_coco_fixtures.py

It rewrites Tests/SegCoreTests/Fixtures/coco/*.json. The output is deterministic for a given
pycocotools/scipy version (fixed seed); the versions used are recorded in each file.

Encodings used in the JSON:
- a mask is {"h", "w", "bits"} with "bits" the row-major pixels as a string of '0'/'1';
- an RLE is {"h", "w", "counts"} with the uncompressed column-major counts (pycocotools order),
  or "string" for pycocotools' compressed form;
- label maps are row-major lists of ints; distances are stored both as exact squared integers
  (the distance between pixel centres is the square root of an integer) and as scipy's values
  rounded to 1e-5.
"""
import json
import os
import sys
from importlib import metadata

import numpy as np
import scipy
from pycocotools import mask as coco
from scipy import ndimage

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SegCoreTests", "Fixtures", "coco")
VERSIONS = {"pycocotools": metadata.version("pycocotools"), "numpy": np.__version__,
            "scipy": scipy.__version__, "seed": SEED}


def bits_string(m):
    return "".join("1" if v else "0" for v in np.asarray(m, dtype=np.uint8).reshape(-1))


def counts_of(rle):
    """Uncompressed counts of a pycocotools RLE (see frstring_counts), cross-checked against the
    run lengths of pycocotools' own decode when the mask is small enough to decode."""
    counts = frstring_counts(rle)
    h, w = rle["size"]
    if 0 < h * w <= 1_000_000:
        flat = np.asarray(coco.decode(rle), dtype=np.uint8).reshape(-1, order="F")
        assert column_runs(flat) == counts, "decode and string disagree"
    return counts


def column_runs(flat):
    """Run lengths of a column-major vector, starting with a run of zeros."""
    counts = []
    prev, run = 0, 0
    for v in flat.tolist():
        if v != prev:
            counts.append(run)
            run, prev = 0, v
        run += 1
    counts.append(run)
    return counts


def encode(m):
    return coco.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8)))


def sdecode(b):
    return b.decode("ascii") if isinstance(b, bytes) else b


def random_blobs(rng, h, w, density, smooth):
    noise = rng.random((h, w))
    if smooth:
        noise = ndimage.uniform_filter(noise, size=smooth, mode="nearest")
    return (noise > np.quantile(noise, 1 - density)).astype(np.uint8) if h * w else np.zeros((h, w), np.uint8)


def rle_cases(rng):
    cases = []

    def add(name, m):
        m = np.asarray(m, dtype=np.uint8)
        r = encode(m)
        counts = counts_of(r)
        assert column_runs(m.reshape(-1, order="F")) == counts, name
        cases.append({
            "name": name, "h": int(m.shape[0]), "w": int(m.shape[1]), "bits": bits_string(m),
            "counts": counts, "string": sdecode(r["counts"]),
            "area": int(coco.area(r)), "bbox": [float(v) for v in coco.toBbox(r)],
        })

    add("empty_5x7", np.zeros((5, 7)))
    add("full_5x7", np.ones((5, 7)))
    add("one_by_one_off", np.zeros((1, 1)))
    add("one_by_one_on", np.ones((1, 1)))
    add("zero_rows", np.zeros((0, 5)))
    add("zero_cols", np.zeros((3, 0)))
    add("one_row", np.array([[0, 1, 1, 0, 1, 0, 0, 1, 1, 1]]))
    add("one_col", np.array([[1], [1], [0], [1], [0]]))
    for name, (y, x) in {"corner_tl": (0, 0), "corner_tr": (0, 8), "corner_bl": (5, 0), "corner_br": (5, 8)}.items():
        m = np.zeros((6, 9))
        m[y, x] = 1
        add(name, m)
    m = np.zeros((6, 9)); m[5, 2] = 1; m[0, 3] = 1
    add("run_across_columns", m)
    m = np.zeros((8, 10)); m[2:6, 3:7] = 1
    add("square", m)
    m = np.zeros((9, 11)); m[::2, ::3] = 1
    add("lattice", m)
    m = (np.indices((7, 8)).sum(axis=0) % 2).astype(np.uint8)
    add("checkerboard", m)
    for i in range(14):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        add(f"random_{i}", random_blobs(rng, h, w, float(rng.uniform(0.05, 0.9)), int(rng.integers(0, 4))))
    # A larger mask whose counts need several characters each and whose deltas go negative.
    m = np.zeros((120, 90), np.uint8)
    m[10:110, 20:30] = 1
    m[100:101, :] = 1
    m[50:60, 40:85] = 1
    add("large_structured", m)

    # Huge images where only the counts are stored (the test never decodes them).
    huge = []
    for (h, w, box) in [(20000, 20000, [17.5, 9000.25, 40.0, 3.5]), (46000, 46000, [0, 45990, 20, 10]),
                        (60000, 70000, [69990.0, 59990.0, 10.0, 10.0]), (65535, 65535, [3, 0, 2, 65535])]:
        r = coco.frPyObjects(np.array([box], dtype=np.double), h, w)[0]
        ucr = frstring_counts(r)
        huge.append({"h": h, "w": w, "string": sdecode(r["counts"]), "counts": ucr,
                     "area": int(coco.area(r)), "bbox": [float(v) for v in coco.toBbox(r)]})
    return {"versions": VERSIONS, "masks": cases, "huge": huge}


def frstring_counts(r):
    # The uncompressed counts of a compressed RLE without decoding the (possibly huge) mask: walk
    # the string the way pycocotools' rleFrString does, then make pycocotools itself write the
    # string back from those counts, so the result rests on pycocotools, not on this walk.
    s = r["counts"]
    s = s.encode("ascii") if isinstance(s, str) else s
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = s[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    h, w = r["size"]
    back = coco.frPyObjects({"size": [h, w], "counts": counts}, h, w)
    assert back["counts"] == s, "string walk disagrees with pycocotools"
    return counts


def iou_cases(rng):
    groups = []

    def rle(m):
        return encode(m)

    def add(name, dts, gts, crowd):
        d = [rle(m) for m in dts]
        g = [rle(m) for m in gts]
        o = coco.iou(d, g, crowd)
        o = np.asarray(o, dtype=np.double).reshape(len(dts), len(gts)) if len(o) else np.zeros((len(dts), len(gts)))
        groups.append({
            "name": name,
            "dt": [{"h": int(m.shape[0]), "w": int(m.shape[1]), "counts": counts_of(r)} for m, r in zip(dts, d)],
            "gt": [{"h": int(m.shape[0]), "w": int(m.shape[1]), "counts": counts_of(r)} for m, r in zip(gts, g)],
            "iscrowd": [bool(c) for c in crowd], "iou": o.tolist(),
        })

    for i in range(6):
        h, w = int(rng.integers(5, 30)), int(rng.integers(5, 30))
        dts = [random_blobs(rng, h, w, float(rng.uniform(0.05, 0.6)), int(rng.integers(0, 5))) for _ in range(int(rng.integers(1, 5)))]
        gts = [random_blobs(rng, h, w, float(rng.uniform(0.05, 0.6)), int(rng.integers(0, 5))) for _ in range(int(rng.integers(1, 5)))]
        crowd = [int(rng.integers(0, 2)) for _ in gts]
        add(f"random_{i}", dts, gts, crowd)
    # Boxes that overlap while the masks do not: the bbox pre-check passes, the exact count is 0.
    a = np.zeros((10, 10), np.uint8); a[0, 0] = 1; a[9, 9] = 1
    b = np.zeros((10, 10), np.uint8); b[0, 9] = 1; b[9, 0] = 1
    add("boxes_overlap_masks_disjoint", [a], [b], [0])
    # Empty masks on either side; identical masks; a crowd region containing the detection.
    e = np.zeros((6, 6), np.uint8)
    f = np.ones((6, 6), np.uint8)
    s = np.zeros((6, 6), np.uint8); s[1:3, 1:4] = 1
    add("empties_and_full", [e, f, s], [e, f, s], [0, 0, 1])
    add("crowd_contains", [s, f], [f], [1])
    # Different sizes: -1 when the boxes overlap, 0 when they do not (pycocotools' bbox pre-check).
    big = np.zeros((8, 6), np.uint8); big[0:3, 0:3] = 1
    far = np.zeros((8, 6), np.uint8); far[6:8, 4:6] = 1
    add("size_mismatch", [big, far], [s], [0])
    return {"versions": VERSIONS, "groups": groups}


def merge_cases(rng):
    cases = []
    for i in range(8):
        h, w = int(rng.integers(1, 25)), int(rng.integers(1, 25))
        ms = [random_blobs(rng, h, w, float(rng.uniform(0.05, 0.7)), int(rng.integers(0, 4))) for _ in range(int(rng.integers(2, 5)))]
        rs = [encode(m) for m in ms]
        union = coco.merge(rs, intersect=0)
        inter = coco.merge(rs, intersect=1)
        cases.append({"name": f"random_{i}", "h": h, "w": w, "inputs": [counts_of(r) for r in rs],
                      "union": counts_of(union), "intersection": counts_of(inter)})
    full = encode(np.ones((4, 5)))
    empty = encode(np.zeros((4, 5)))
    for name, rs in {"full_and_empty": [full, empty], "empty_and_empty": [empty, empty], "full_and_full": [full, full]}.items():
        cases.append({"name": name, "h": 4, "w": 5, "inputs": [counts_of(r) for r in rs],
                      "union": counts_of(coco.merge(rs, 0)), "intersection": counts_of(coco.merge(rs, 1))})
    return {"versions": VERSIONS, "cases": cases}


def polygon_cases(rng):
    cases = []

    def add(name, polys, h, w):
        per = coco.frPyObjects(polys, h, w)
        merged = coco.merge(per)
        cases.append({"name": name, "h": h, "w": w, "polygons": polys,
                      "each": [counts_of(r) for r in per], "merged": counts_of(merged)})

    add("triangle", [[1, 1, 8, 1, 8, 6]], 10, 10)
    add("triangle_closed_explicitly", [[1, 1, 8, 1, 8, 6, 1, 1]], 10, 10)
    add("square_integer", [[2, 2, 7, 2, 7, 7, 2, 7]], 10, 10)
    add("square_half_pixels", [[2.5, 2.5, 7.5, 2.5, 7.5, 7.5, 2.5, 7.5]], 10, 10)
    add("square_clockwise_vs_ccw", [[2, 2, 2, 7, 7, 7, 7, 2]], 10, 10)
    add("concave_l", [[1, 1, 9, 1, 9, 3, 3, 3, 3, 9, 1, 9]], 12, 11)
    add("concave_star", [[10, 0, 12.5, 7, 20, 7.5, 14, 12, 16.3, 19.6, 10, 15, 3.7, 19.6, 6, 12, 0, 7.5, 7.5, 7]], 21, 21)
    add("self_intersecting_bowtie", [[1, 1, 9, 9, 9, 1, 1, 9]], 11, 11)
    add("self_intersecting_pentagram", [[10, 1, 15.3, 17.3, 1.4, 7.2, 18.6, 7.2, 4.7, 17.3]], 20, 20)
    add("sub_pixel_triangle", [[3.1, 3.1, 3.4, 3.2, 3.2, 3.45]], 8, 8)
    add("sub_pixel_square", [[4.2, 4.2, 4.6, 4.2, 4.6, 4.6, 4.2, 4.6]], 8, 8)
    add("on_border", [[0, 0, 9, 0, 9, 7, 0, 7]], 7, 9)
    add("full_image", [[0, 0, 10, 0, 10, 8, 0, 8]], 8, 10)
    add("partly_outside_left_top", [[-3, -3, 5, -3, 5, 5]], 10, 10)
    add("partly_outside_right_bottom", [[4, 4, 14, 5, 12, 15, 3, 12]], 10, 10)
    add("negative_fractional", [[-0.3, -0.1, 4.2, -0.15, 4.4, 3.6, -0.05, 4.1]], 6, 6)
    add("entirely_outside", [[20, 20, 30, 20, 30, 30]], 10, 10)
    add("surrounding_image", [[-5, -5, 20, -5, 20, 20, -5, 20]], 9, 7)
    add("large_coordinates", [[-100000.5, -50000, 100000, -60000.25, 250000, 300000, 3.3, 2.7]], 40, 50)
    add("large_image_strip", [[5, 5, 1995.5, 5, 1995.5, 6.6, 5, 6.6]], 12, 2000)
    add("fractional_quarter_points", [[0.25, 0.75, 6.75, 0.25, 7.25, 5.75, 0.75, 6.25]], 8, 9)
    add("thin_vertical", [[3, 0, 3.4, 0, 3.4, 9, 3, 9]], 10, 8)
    add("thin_horizontal", [[0, 3, 9, 3, 9, 3.3, 0, 3.3]], 8, 10)
    add("steep_edges", [[1, 0, 2, 19, 3, 0.5]], 20, 5)
    add("shallow_edges", [[0, 1, 19, 2, 0.5, 3]], 5, 20)
    add("repeated_vertices", [[1, 1, 1, 1, 8, 1, 8, 1, 8, 8, 1, 8, 1, 8]], 10, 10)
    add("collinear_line", [[1, 1, 8, 8, 3, 3]], 10, 10)
    add("two_points_line", [[1, 1, 8, 8, 1]], 10, 10)
    add("zero_area_horizontal", [[1, 4, 8, 4, 5, 4]], 10, 10)
    add("odd_coordinate_count", [[1, 1, 8, 1, 8, 6, 5]], 10, 10)
    add("with_degenerate_second", [[1, 1, 8, 1, 8, 6], [5, 5], []], 10, 10)
    add("two_overlapping", [[1, 1, 6, 1, 6, 6, 1, 6], [4, 4, 9, 4, 9, 9, 4, 9]], 11, 11)
    add("two_disjoint", [[0, 0, 3, 0, 3, 3], [6, 6, 9, 6, 9, 9, 6, 9]], 10, 10)
    add("hole_by_second_polygon_is_union", [[0, 0, 10, 0, 10, 10, 0, 10], [3, 3, 6, 3, 6, 6, 3, 6]], 10, 10)
    add("one_pixel_image", [[0, 0, 1, 0, 1, 1, 0, 1]], 1, 1)
    add("one_row_image", [[0.5, -1, 6.5, -1, 6.5, 2, 0.5, 2]], 1, 8)
    add("one_column_image", [[-1, 0.5, 2, 0.5, 2, 6.5, -1, 6.5]], 8, 1)
    add("zero_height_image", [[0, 0, 3, 0, 3, 3]], 0, 5)
    add("point_on_last_row_boundary", [[2, 9.9, 7, 9.9, 7, 12, 2, 12]], 10, 10)
    add("integer_plus_epsilon", [[1.1, 1.1, 5.0999, 1.1, 5.0999, 5.1, 1.1, 5.1]], 8, 8)
    add("rounding_ties", [[0.1, 0.3, 3.7, 0.5, 3.9, 2.9, 0.3, 3.1]], 5, 5)
    # Many random polygons: convex hulls of random points, random (possibly self-intersecting)
    # walks, and random fractional triangles, some reaching outside the image.
    for i in range(40):
        h, w = int(rng.integers(4, 60)), int(rng.integers(4, 60))
        n = int(rng.integers(3, 12))
        xs = rng.uniform(-0.2 * w, 1.2 * w, n)
        ys = rng.uniform(-0.2 * h, 1.2 * h, n)
        if i % 3 == 0:
            xs, ys = np.round(xs, 1), np.round(ys, 1)
        elif i % 3 == 1:
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            rad = rng.uniform(0.2, 0.6, n) * min(h, w)
            xs, ys = w / 2 + rad * np.cos(ang), h / 2 + rad * np.sin(ang)
        poly = [float(v) for pair in zip(xs, ys) for v in pair]
        add(f"random_{i}", [poly], h, w)
    for i in range(8):
        h, w = int(rng.integers(10, 50)), int(rng.integers(10, 50))
        polys = []
        for _ in range(int(rng.integers(2, 4))):
            n = int(rng.integers(3, 8))
            polys.append([float(v) for v in np.round(rng.uniform(-2, max(h, w) + 2, 2 * n), 2)])
        add(f"random_multi_{i}", polys, h, w)

    # Coordinates far outside small images (long steep and shallow edges), and coordinates on a
    # 0.1 / 0.2 grid, where the ×5 upsampling lands exactly on integers and halves (rounding ties).
    for i in range(16):
        h, w = int(rng.integers(3, 35)), int(rng.integers(3, 35))
        n = int(rng.integers(3, 9))
        if i % 2 == 0:
            xs, ys = rng.uniform(-3000, 3000, n), rng.uniform(-3000, 3000, n)
        else:
            step = 0.1 if i % 4 == 1 else 0.2
            xs = np.round(rng.uniform(-2, w + 2, n) / step) * step
            ys = np.round(rng.uniform(-2, h + 2, n) / step) * step
        add(f"random_wide_or_grid_{i}", [[float(v) for pair in zip(xs, ys) for v in pair]], h, w)

    boxes = []
    for (box, h, w) in [([1, 1, 3, 2], 10, 10), ([0.5, 0.5, 3.2, 2.7], 10, 10), ([-2, -2, 5, 5], 8, 8),
                        ([7, 6, 10, 10], 9, 9), ([2, 2, 0, 3], 6, 6), ([2.2, 2.2, 0.3, 0.3], 6, 6),
                        ([0, 0, 12, 9], 9, 12), ([3, 1, -2, 4], 8, 8), ([1.25, 3.75, 4.5, 0.75], 8, 8)]:
        r = coco.frPyObjects(np.array([box], dtype=np.double), h, w)[0]
        boxes.append({"bbox": [float(v) for v in box], "h": h, "w": w, "counts": counts_of(r)})
    return {"versions": VERSIONS, "polygons": cases, "boxes": boxes}


def label_cases(rng):
    cases = []

    def add(name, m):
        m = np.asarray(m, dtype=np.uint8)
        l4, n4 = ndimage.label(m)
        l8, n8 = ndimage.label(m, structure=np.ones((3, 3), dtype=int))
        cases.append({"name": name, "h": int(m.shape[0]), "w": int(m.shape[1]), "bits": bits_string(m),
                      "labels4": l4.reshape(-1).tolist(), "count4": int(n4),
                      "labels8": l8.reshape(-1).tolist(), "count8": int(n8)})

    add("empty", np.zeros((4, 5)))
    add("full", np.ones((4, 5)))
    add("one_by_one", np.ones((1, 1)))
    add("one_row", np.array([[1, 1, 0, 1, 0, 0, 1, 1, 1]]))
    add("diagonals", np.eye(6, dtype=np.uint8) | np.fliplr(np.eye(6, dtype=np.uint8)))
    add("checkerboard", (np.indices((7, 9)).sum(axis=0) % 2).astype(np.uint8))
    # A U shape whose two arms get different provisional labels and merge at the bottom.
    u = np.zeros((8, 9), np.uint8); u[1:7, 1] = 1; u[1:7, 7] = 1; u[6, 1:8] = 1; u[0:3, 4] = 1
    add("u_shape", u)
    # A spiral: many merges of provisional labels.
    sp = np.zeros((15, 15), np.uint8)
    sp[1, 1:14] = 1; sp[1:14, 13] = 1; sp[13, 1:14] = 1; sp[3:14, 1] = 1; sp[3, 1:12] = 1
    sp[3:12, 11] = 1; sp[11, 3:12] = 1; sp[5:12, 3] = 1; sp[5, 3:10] = 1; sp[5:10, 9] = 1; sp[9, 5:10] = 1
    add("spiral", sp)
    for i in range(5):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        add(f"random_{i}", random_blobs(rng, h, w, float(rng.uniform(0.2, 0.6)), int(rng.integers(0, 3))))
    return {"versions": VERSIONS, "cases": cases}


def edt_cases(rng):
    cases = []

    def add(name, m):
        m = np.asarray(m, dtype=np.uint8)
        d = ndimage.distance_transform_edt(m)
        sq = np.rint(d * d)
        assert np.all(np.abs(d * d - sq) < 1e-6), name
        cases.append({"name": name, "h": int(m.shape[0]), "w": int(m.shape[1]), "bits": bits_string(m),
                      "squared": sq.astype(np.int64).reshape(-1).tolist(),
                      "distance": [round(float(v), 5) for v in d.reshape(-1)]})

    add("empty", np.zeros((4, 5)))
    hole = np.ones((7, 9), np.uint8); hole[3, 4] = 0
    add("one_hole_center", hole)
    corner = np.ones((6, 11), np.uint8); corner[0, 0] = 0
    add("one_hole_corner", corner)
    add("one_row", np.array([[1, 1, 1, 0, 1, 1, 1, 1, 1, 0]]))
    add("one_column", np.array([[0], [1], [1], [1], [1], [1]]))
    block = np.zeros((11, 15), np.uint8); block[2:9, 3:12] = 1
    add("block", block)
    add("one_by_one_off", np.zeros((1, 1)))
    for i in range(5):
        h, w = int(rng.integers(1, 45)), int(rng.integers(1, 45))
        m = random_blobs(rng, h, w, float(rng.uniform(0.5, 0.95)), int(rng.integers(0, 6)))
        if not m.all() and m.size:
            add(f"random_{i}", m)
    # scipy's answer with no unset pixel at all (we do not reproduce it; the test documents it).
    full = ndimage.distance_transform_edt(np.ones((3, 4), np.uint8))
    return {"versions": VERSIONS, "cases": cases,
            "scipy_all_set_3x4_squared": np.rint(full * full).astype(np.int64).reshape(-1).tolist()}


def main():
    rng = np.random.default_rng(SEED)
    os.makedirs(OUT, exist_ok=True)
    outputs = {
        "rle": rle_cases(rng), "iou": iou_cases(rng), "merge": merge_cases(rng),
        "polygons": polygon_cases(rng), "labels": label_cases(rng), "edt": edt_cases(rng),
    }
    total = 0
    for name, data in outputs.items():
        path = os.path.join(OUT, name + ".json")
        with open(path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
        total += os.path.getsize(path)
        print(f"{path}: {os.path.getsize(path)} bytes", file=sys.stderr)
    print(f"total {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
