#!/usr/bin/env python3
"""Runs one peer evaluator end to end (read both JSON files, evaluate, accumulate,
summarize) and prints its 12 stats as JSON on the last line. Used by bench_eval.sh."""
import contextlib
import io
import json
import sys

tool, iou_type, gt_path, res_path = sys.argv[1:5]
with contextlib.redirect_stdout(io.StringIO()):
    if tool == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        gt = COCO(gt_path)
        ev = COCOeval(gt, gt.loadRes(res_path), iou_type)
    elif tool == "faster-coco-eval":
        from faster_coco_eval import COCO, COCOeval_faster
        gt = COCO(gt_path)
        ev = COCOeval_faster(gt, gt.loadRes(res_path), iou_type)
    elif tool == "hotcoco":
        from hotcoco import COCO, COCOeval
        gt = COCO(gt_path)
        ev = COCOeval(gt, gt.load_res(res_path), iou_type)
    else:
        raise SystemExit(f"unknown tool {tool}")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
print(json.dumps([float(v) for v in ev.stats]))
