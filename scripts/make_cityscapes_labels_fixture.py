#!/usr/bin/env python3
"""Cityscapes' label table as cityscapesscripts defines it (helpers/labels.py), for the test that
checks segterm's copy (`CityscapesLabels`) entry by entry.

    python3 -m venv /tmp/eval-venv && /tmp/eval-venv/bin/pip install --no-deps cityscapesscripts
    /tmp/eval-venv/bin/python scripts/make_cityscapes_labels_fixture.py

It writes Tests/SegEvalTests/Fixtures/formats/cityscapes_labels.json.
"""
import json
import os
from importlib import metadata

from cityscapesscripts.helpers.labels import labels

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SegEvalTests", "Fixtures", "formats",
                   "cityscapes_labels.json")
table = [{"name": l.name, "id": l.id, "trainId": l.trainId, "hasInstances": l.hasInstances, "ignoreInEval": l.ignoreInEval}
         for l in labels]
with open(OUT, "w") as f:
    json.dump({"cityscapesscripts": metadata.version("cityscapesscripts"), "labels": table}, f, indent=1)
print(len(table), "labels")
