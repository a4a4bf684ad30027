#!/usr/bin/env python3
"""Times a SAM 3 phrase on a prepared image in the official code (`Sam3Processor.set_text_prompt`
on a state from `set_image`: `sam3` 0.1.4 on PyTorch, the CPU edits of scripts/make_sam3_fixture.py)
and in segterm (`segterm bench text`: the text encoder with its cache emptied, the fusion encoder,
the decoder, the segmentation head, the kept masks upsampled to the image), one after the other in
one run with the same thread count, on the same image and phrase; prints both and the ratio.
Record the output in BENCHMARKS.md.

Usage:
    python3 scripts/bench_sam3_text_peers.py CHECKPOINT [--venv /tmp/sam3-venv] [--threads 2] [--runs 5] [--warmup 1]
        [--text "yellow school bus"] [--box X0,Y0,X1,Y1] [--image IMG]

CHECKPOINT is an official-layout sam3.pt with the detector (`scripts/make_sam3_fixture.py --full DIR
--text-only` writes a random-weight one, and CLIP's vocabulary beside it). Without --image both
sides read the same 1024×1024 noise image, written to /tmp by this script. The image is prepared
once per side, outside the timed phrase runs.
"""
import argparse
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

INNER = r'''
import json, resource, sys, time, warnings
import numpy as np
import torch
warnings.filterwarnings("ignore")
ckpt, threads, runs, warm, phrase, box, image, scripts, threshold = sys.argv[1:10]
threads, runs, warm = int(threads), int(runs), int(warm)
torch.set_num_threads(threads)
sys.path.insert(0, scripts)
import make_sam3_fixture as fx
fx.patch_sources()
from PIL import Image
from sam3.model.sam3_image_processor import Sam3Processor
model = fx.build(fx.FULL, reduced=False, vocab=fx.bpe_path())
fx.load_official(model, ckpt)
proc = Sam3Processor(model, resolution=fx.FULL["img_size"], confidence_threshold=float(threshold))  # 0.5: the default
img = Image.open(image).convert("RGB")
W, H = img.size
def timed(fn, n, warm):
    for _ in range(warm): fn()
    ts, cs = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time(); fn()
        ts.append((time.perf_counter() - t) * 1e3); cs.append((time.process_time() - c) * 1e3)
    return float(np.median(ts)), float(min(ts)), float(np.median(cs))
with torch.inference_mode():
    t = time.perf_counter()
    state = proc.set_image(img)
    prepare = (time.perf_counter() - t) * 1e3
    def one():
        proc.reset_all_prompts(state)
        s = proc.set_text_prompt(phrase, state)
        if box:
            x0, y0, x1, y1 = [float(v) for v in box.split(",")]
            s = proc.add_geometric_prompt([(x0 + x1) / 2 / W, (y0 + y1) / 2 / H, (x1 - x0) / W, (y1 - y0) / H], True, s)
        return s
    med, best, cpu = timed(one, runs, warm)
    kept = int(one()["scores"].numel())
    text_med = timed(lambda: model.backbone.forward_text([phrase], device="cpu"), runs, warm)[0]
print(json.dumps({"torch": torch.__version__, "threads": threads, "prepareMs": prepare, "phraseMs": med, "phraseMinMs": best,
                  "phraseCpuMs": cpu, "textEncoderMs": text_med, "kept": kept,
                  "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--venv", default="/tmp/sam3-venv")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--text", default="yellow school bus")
    ap.add_argument("--box", default="", help="one positive exemplar X0,Y0,X1,Y1 in image pixels (with the phrase)")
    ap.add_argument("--image")
    ap.add_argument("--threshold", type=float, default=0.5,
                    help="score threshold on both sides (0 keeps every query: every mask made and upsampled)")
    ap.add_argument("--segterm", default=str(ROOT / ".build/release/segterm"))
    a = ap.parse_args()
    py = Path(a.venv) / "bin" / "python"
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    image = a.image
    if image is None:
        image = "/tmp/segterm_bench_text_noise.png"
        subprocess.check_call([str(py), "-c", "import numpy as np; from PIL import Image; "
                               "Image.fromarray(np.random.RandomState(12345).randint(0, 256, (1024, 1024, 3), dtype=np.uint8))"
                               f".save('{image}')"])
    peer = json.loads(subprocess.check_output([str(py), "-c", INNER, a.checkpoint, str(a.threads), str(a.runs), str(a.warmup),
                                               a.text, a.box, image, str(ROOT / "scripts"), str(a.threshold)], env=env).decode().strip().splitlines()[-1])
    cmd = [a.segterm, "bench", "text", "--model", a.checkpoint, "--image", image, "--text", a.text, "--threads", str(a.threads),
           "--runs", str(a.runs), "--warmup", str(a.warmup), "--threshold", str(a.threshold), "--format", "json", "--phases"]
    if a.box:
        cmd += ["--box", a.box]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"segterm bench text failed ({status})")
    ours = json.loads(out)
    print(json.dumps({"pytorch": peer, "segterm": ours, "segtermPeakRssMB": usage.ru_maxrss / 1024}, indent=1))
    print(f"\n{'':34s}{'segterm':>10s}{'PyTorch':>10s}{'segterm/PyTorch':>17s}")
    for label, key in [("phrase on a prepared image (ms)", "phraseMs"), ("  best (ms)", "phraseMinMs"),
                       ("  CPU (ms)", "phraseCpuMs"), ("text encoder alone (ms)", "textEncoderMs"), ("prepare, once (ms)", "prepareMs")]:
        print(f"{label:34s}{ours[key]:10.1f}{peer[key]:10.1f}{ours[key] / peer[key]:17.2f}")
    if ours.get("phases"):
        print("\nsegterm per phrase by phase (wall ms, CPU ms; indented: part of the phase above):")
        for p in ours["phases"]:
            print(f"  {p['phase']:44s}{p['wallMs']:10.1f}{p['cpuMs']:10.1f}")
    print(f"kept above {a.threshold}: segterm {ours['kept']}, PyTorch {peer['kept']}; segterm with the phrase cached: {ours['detectorWithCachedTextMs']:.1f} ms")
    print(f"peak RSS (MB): segterm {usage.ru_maxrss / 1024:.0f}, PyTorch {peer['peakRssMB']:.0f}")
    print(f"(segterm: {ours['threads']} threads, OpenBLAS {ours['blasCore']}; PyTorch {peer['torch']}, {peer['threads']} threads; "
          f"image {ours['width']}x{ours['height']}, \"{a.text}\"{' + box ' + a.box if a.box else ''})")


if __name__ == "__main__":
    main()
