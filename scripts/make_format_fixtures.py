#!/usr/bin/env python3
"""Golden files for segterm's format converters (issue #18, item 1), from the reference tools.

- YOLO: Ultralytics' own `convert_coco(..., use_segments=True, cls91to80=False)` on a small
  seeded COCO file (single polygons, objects of 2 and 3 parts, an RLE mask of two parts with a
  hole, a crowd region, an empty segmentation, a repeated annotation, a zero-width box). Its
  label files are the expected output of segterm's YOLO writer, byte for byte. The round trip's
  expected masks: each written line scaled back (x·w, y·h) and rasterised by pycocotools.
- OpenCV: `cv2.findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)` on seeded random masks (what
  convert_coco does to RLE masks), for segterm's MaskContours.
- LabelMe: files with polygon, rectangle (2 and X-AnyLabeling's 4 points), circle, mask, line
  shapes, group_id and score, loaded by `labelme.LabelFile`; expected objects grouped as
  `shapes_to_label` does, polygons as labelme2coco writes them, mask shapes placed as
  `shapes_to_label` does and encoded by pycocotools.

Run (from the repository root; labelme's package imports onnxruntime and PyQt5 at import, which
its loader never uses, so the script stubs them):

    python3 -m venv /tmp/fmt-venv
    /tmp/fmt-venv/bin/pip install ultralytics pycocotools faster-coco-eval
    /tmp/fmt-venv/bin/pip install --no-deps labelme && /tmp/fmt-venv/bin/pip install tifffile loguru imgviz
    /tmp/fmt-venv/bin/python scripts/make_format_fixtures.py

It rewrites Tests/SegEvalTests/Fixtures/formats/.
"""
import base64
import io
import json
import os
import shutil
import sys
import tempfile
import types
from importlib import metadata

import cv2
import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SegEvalTests", "Fixtures", "formats")
rng = np.random.default_rng(18)


def polygon(cx, cy, r, n):
    a = np.sort(rng.uniform(0, 2 * np.pi, n))
    rr = r * rng.uniform(0.6, 1.0, n)
    return [round(float(v), 2) for xy in zip(cx + rr * np.cos(a), cy + rr * np.sin(a)) for v in xy]


def rle_of(mask):
    r = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return r["counts"].decode()


def coco_fixture():
    images = [
        {"id": 1, "file_name": "a.png", "width": 64, "height": 48},
        {"id": 2, "file_name": "b.png", "width": 50, "height": 40},
        {"id": 3, "file_name": "sub/c.png", "width": 33, "height": 29},
    ]
    categories = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 3, "name": "traffic light"}]
    anns = []

    def add(image, cat, seg, crowd=0, bbox=None):
        h = next(i for i in images if i["id"] == image)["height"]
        w = next(i for i in images if i["id"] == image)["width"]
        if isinstance(seg, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w)) if seg else None
        else:
            rle = seg
        if bbox is None:
            bbox = [float(v) for v in mask_utils.toBbox(rle)] if rle else [0.0, 0.0, 0.0, 0.0]
        area = float(mask_utils.area(rle)) if rle else 0.0
        anns.append({"id": len(anns) + 1, "image_id": image, "category_id": cat, "segmentation": seg,
                     "area": area, "bbox": bbox, "iscrowd": crowd})

    add(1, 1, [polygon(20, 20, 12, 9)])
    add(1, 2, [polygon(45, 15, 8, 7), polygon(50, 35, 7, 6)])                       # two parts
    add(1, 3, [polygon(10, 40, 5, 5), polygon(30, 40, 5, 6), polygon(55, 42, 4, 5)])  # three parts
    add(1, 1, [polygon(20, 20, 12, 9)][:0] or anns[0]["segmentation"])               # repeated annotation
    m = np.zeros((40, 50), np.uint8)
    m[5:20, 5:25] = 1; m[9:14, 10:18] = 0; m[25:35, 30:45] = 1                        # two parts, a hole
    add(2, 2, {"size": [40, 50], "counts": rle_of(m)})
    m2 = np.zeros((40, 50), np.uint8); m2[2:8, 30:48] = 1
    add(2, 1, {"size": [40, 50], "counts": rle_of(m2)}, crowd=1)                     # crowd: left out
    add(2, 3, [], bbox=[3.5, 22.25, 10.0, 12.5])                                       # no polygon: box corners
    add(3, 1, [polygon(16, 14, 9, 8)])
    add(3, 2, [[5.0, 5.0, 5.0, 5.0, 5.0, 9.0]], bbox=[5.0, 5.0, 0.0, 4.0])          # zero-width box: left out
    add(3, 3, [polygon(8, 8, 4, 4), polygon(25, 22, 5, 5)])
    return {"images": images, "categories": categories, "annotations": anns}


def ultralytics_convert(coco, tmp):
    from ultralytics.data.converter import convert_coco
    src = os.path.join(tmp, "ann")
    os.makedirs(src)
    with open(os.path.join(src, "instances_small.json"), "w") as f:
        json.dump(coco, f)
    save = os.path.join(tmp, "yolo")
    convert_coco(labels_dir=src, save_dir=save, use_segments=True, cls91to80=False)
    labels = os.path.join(save, "labels", "small")
    out = {}
    for root, _, files in os.walk(labels):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), labels)
            with open(os.path.join(root, name)) as f:
                out[rel] = f.read()
    return out


def yolo_roundtrip(coco, labels):
    """Each written line scaled back to pixels and rasterised by pycocotools."""
    expected = {}
    for image in coco["images"]:
        rel = os.path.splitext(image["file_name"])[0] + ".txt"
        if rel not in labels:
            continue
        h, w = image["height"], image["width"]
        rles = []
        for line in labels[rel].splitlines():
            v = [float(x) for x in line.split()]
            pts = v[1:]
            poly = [pts[i] * (w if i % 2 == 0 else h) for i in range(len(pts))]
            rles.append({"class": int(v[0]), "counts": mask_utils.merge(mask_utils.frPyObjects([poly], h, w))["counts"].decode()})
        expected[image["file_name"]] = rles
    return expected


def contour_cases():
    cases = []
    for k in range(40):
        h, w = int(rng.integers(3, 30)), int(rng.integers(3, 30))
        density = rng.uniform(0.2, 0.8)
        m = (rng.uniform(size=(h, w)) < density).astype(np.uint8)
        if k % 4 == 0:  # blobs with holes
            m = np.zeros((h, w), np.uint8)
            for _ in range(3):
                y, x = rng.integers(0, h), rng.integers(0, w)
                m[max(0, y - 4):y + 4, max(0, x - 5):x + 5] = 1
            m[h // 2, :] = 0
        contours = cv2.findContours(m.copy(), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
        cases.append({"height": h, "width": w, "counts": rle_of(m), "contours": [c.ravel().tolist() for c in contours]})
    return cases


def stub_labelme_imports():
    sys.modules.setdefault("onnxruntime", types.ModuleType("onnxruntime"))
    qt = types.ModuleType("PyQt5")
    for name in ("QtCore", "QtGui", "QtWidgets"):
        sub = types.ModuleType("PyQt5." + name)
        setattr(qt, name, sub)
        sys.modules["PyQt5." + name] = sub
    sys.modules.setdefault("PyQt5", qt)


def png_b64(arr):
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def labelme_files():
    crop = np.zeros((6, 9), np.uint8); crop[1:5, 2:8] = 1; crop[2, 4] = 0
    f1 = {
        "version": "5.5.0", "flags": {}, "imagePath": "p.jpg", "imageData": None, "imageHeight": 40, "imageWidth": 60,
        "shapes": [
            {"label": "cat", "points": [[5.5, 4.0], [20.25, 6.0], [18.0, 19.5], [7.0, 15.0]], "group_id": None,
             "description": "", "shape_type": "polygon", "flags": {}, "mask": None},
            {"label": "dog", "points": [[30.0, 5.0], [40.5, 12.0]], "group_id": None, "description": "",
             "shape_type": "rectangle", "flags": {}, "mask": None},
            {"label": "dog", "points": [[44.0, 20.0], [55.0, 20.0], [55.0, 30.0], [44.0, 30.0]], "group_id": None,
             "description": "", "shape_type": "rectangle", "flags": {}, "mask": None},  # X-AnyLabeling's 4 points
            {"label": "cat", "points": [[12.0, 30.0], [17.0, 33.0]], "group_id": None, "description": "",
             "shape_type": "circle", "flags": {}, "mask": None},
            {"label": "tree", "points": [[2.0, 22.0], [9.0, 22.0], [6.0, 28.0]], "group_id": 7, "description": "",
             "shape_type": "polygon", "flags": {}, "mask": None},
            {"label": "tree", "points": [[22.0, 24.0], [30.0, 24.0], [26.0, 29.0]], "group_id": 7, "description": "",
             "shape_type": "polygon", "flags": {}, "mask": None},
            {"label": "cat", "points": [[1.0, 1.0], [8.0, 8.0]], "group_id": None, "description": "",
             "shape_type": "line", "flags": {}, "mask": None},
        ],
    }
    f2 = {
        "version": "2.4.4", "flags": {}, "imagePath": "../images/q.png", "imageData": None, "imageHeight": 30, "imageWidth": 32,
        "shapes": [
            {"label": "dog", "points": [[3.7, 2.2], [11.9, 7.9]], "group_id": None, "description": "",
             "shape_type": "mask", "flags": {}, "mask": png_b64(crop), "score": 0.875, "difficult": False},
            {"label": "cat", "points": [[15.0, 15.0], [28.0, 16.0], [25.0, 27.0]], "group_id": 2, "description": "",
             "shape_type": "polygon", "flags": {}, "mask": None, "score": 0.5, "difficult": False},
            {"label": "cat", "points": [[2.0, 20.0], [6.0, 20.0], [4.0, 26.0]], "group_id": 2, "description": "",
             "shape_type": "polygon", "flags": {}, "mask": None, "score": 0.5, "difficult": False},
        ],
    }
    return {"p.json": f1, "q.json": f2}


def labelme_expected(tmp, files):
    stub_labelme_imports()
    import labelme
    from labelme._label_file import LabelFile
    out = {}
    # LabelFile reads the image when imageData is null: blank images of the stated sizes.
    os.makedirs(os.path.join(tmp, "ann"))
    os.makedirs(os.path.join(tmp, "images"))
    Image.new("RGB", (60, 40)).save(os.path.join(tmp, "ann", "p.jpg"))
    Image.new("RGB", (32, 30)).save(os.path.join(tmp, "images", "q.png"))
    for name, doc in files.items():
        path = os.path.join(tmp, "ann", name)
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        lf = LabelFile(filename=path)
        h, w = doc["imageHeight"], doc["imageWidth"]
        instances = []
        objects = {}
        for s in lf.shapes:
            label, gid, st = s["label"], s.get("group_id"), s.get("shape_type") or "polygon"
            if st in ("line", "linestrip", "point", "points"):
                continue
            key = (label, gid if gid is not None else ("uniq", len(instances)))
            if key not in objects:
                instances.append(key)
                objects[key] = {"label": label, "polygons": [], "mask": None, "score": s.get("other_data", {}).get("score")}
            o = objects[key]
            pts = s["points"]
            if st == "mask":
                m = np.zeros((h, w), bool)
                (x1, y1), (x2, y2) = np.asarray(pts).astype(int)
                m[y1:y2 + 1, x1:x2 + 1] = s["mask"]
                o["mask"] = m if o["mask"] is None else (o["mask"] | m)
            elif st == "rectangle":
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
                o["polygons"].append([x1, y1, x2, y1, x2, y2, x1, y2])
            elif st == "circle":
                (x1, y1), (x2, y2) = pts
                r = np.linalg.norm([x2 - x1, y2 - y1])
                n = max(int(np.pi / np.arccos(1 - 1 / r)), 12)
                i = np.arange(n)
                x = x1 + r * np.sin(2 * np.pi / n * i)
                y = y1 + r * np.cos(2 * np.pi / n * i)
                o["polygons"].append(np.stack((x, y), axis=1).flatten().tolist())
            else:
                o["polygons"].append(np.asarray(pts).flatten().tolist())
        result = []
        for key in instances:
            o = objects[key]
            entry = {"label": o["label"], "score": o["score"]}
            if o["mask"] is not None:
                m = o["mask"]
                if o["polygons"]:
                    m = m | mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(o["polygons"], h, w))).astype(bool)
                entry["counts"] = rle_of(m)
            else:
                entry["polygons"] = o["polygons"]
                entry["counts"] = mask_utils.merge(mask_utils.frPyObjects(o["polygons"], h, w))["counts"].decode()
            result.append(entry)
        out[name] = {"height": h, "width": w, "objects": result}
    return out, metadata.version("labelme")


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    coco = coco_fixture()
    with tempfile.TemporaryDirectory() as tmp:
        labels = ultralytics_convert(coco, tmp)
    with open(os.path.join(OUT, "coco_small.json"), "w") as f:
        json.dump(coco, f, indent=1)
    for rel, text in labels.items():
        path = os.path.join(OUT, "ultralytics_labels", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    with open(os.path.join(OUT, "yolo_roundtrip.json"), "w") as f:
        json.dump(yolo_roundtrip(coco, labels), f, indent=1)
    with open(os.path.join(OUT, "contours.json"), "w") as f:
        json.dump({"opencv": cv2.__version__, "cases": contour_cases()}, f)
    files = labelme_files()
    for name, doc in files.items():
        with open(os.path.join(OUT, "labelme_" + name), "w") as f:
            json.dump(doc, f, indent=2)
    with tempfile.TemporaryDirectory() as tmp:
        expected, version = labelme_expected(tmp, files)
    with open(os.path.join(OUT, "labelme_expected.json"), "w") as f:
        json.dump({"labelme": version, "files": expected}, f, indent=1)
    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        f.write(f"ultralytics {metadata.version('ultralytics')}\nopencv {cv2.__version__}\n"
                f"pycocotools {metadata.version('pycocotools')}\nlabelme {version}\n")
    print("wrote", OUT, sorted(labels))


if __name__ == "__main__":
    main()
