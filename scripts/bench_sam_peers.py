#!/usr/bin/env python3
"""Times the official SAM / MobileSAM PyTorch code and the ONNX decoder (exported as the official
`SamOnnxModel`, run with onnxruntime) on this machine, runs `segterm bench model` on the same
checkpoint, and prints the ratios. Record the output in BENCHMARKS.md.

Usage:
    python3 scripts/bench_sam_peers.py CHECKPOINT [--venv /tmp/sam-peers-venv] [--threads 2] [--segterm .build/release/segterm]

The first run creates a throwaway venv under /tmp and installs torch (CPU), segment-anything,
mobilesam-mirror, timm, onnx and onnxruntime into it; later runs reuse it. Checkpoints with a JSON
sidecar (non-official ViT sizes, e.g. ../shared/reference/sam/sam_vit_tiny_random.pth) are built
from the sidecar as the reference's make_reference.py does.
"""
import argparse
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

PACKAGES = ["torch", "torchvision", "numpy", "pillow", "segment-anything==1.0", "mobilesam-mirror==1.0.0",
            "timm", "onnx", "onnxruntime"]


def ensure_venv(path: Path) -> Path:
    py = path / "bin" / "python"
    if not py.exists():
        venv.create(path, with_pip=True)
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", *PACKAGES])
    return py


INNER = r'''
import json, sys, time, warnings
from functools import partial
from pathlib import Path
import numpy as np
import torch
warnings.filterwarnings("ignore")
ckpt, threads, runs, clicks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
sd = torch.load(ckpt, map_location="cpu")
side = None
for cand in (Path(ckpt).with_suffix(".json"), Path(ckpt + ".json")):
    if cand.exists():
        side = json.loads(cand.read_text())
if "image_encoder.patch_embed.seq.0.c.weight" in sd:
    import mobile_sam as pkg
    sam = pkg.sam_model_registry["vit_t"]()
    sam.load_state_dict(sd); sam.eval()   # eval() after loading refreshes TinyViT's attention-bias cache
    name = "mobile_sam"
elif side is not None:
    import segment_anything as pkg
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer
    c = side; emb = c["image_size"] // c["patch_size"]
    sam = Sam(image_encoder=ImageEncoderViT(depth=c["depth"], embed_dim=c["embed_dim"], img_size=c["image_size"],
              mlp_ratio=c["mlp_ratio"], norm_layer=partial(torch.nn.LayerNorm, eps=c["layer_norm_eps"]),
              num_heads=c["num_heads"], patch_size=c["patch_size"], qkv_bias=c["qkv_bias"], use_rel_pos=c["use_rel_pos"],
              global_attn_indexes=c["global_attn_indexes"], window_size=c["window_size"], out_chans=c["prompt_embed_dim"]),
              prompt_encoder=PromptEncoder(embed_dim=c["prompt_embed_dim"], image_embedding_size=(emb, emb),
              input_image_size=(c["image_size"], c["image_size"]), mask_in_chans=c["mask_in_chans"]),
              mask_decoder=MaskDecoder(num_multimask_outputs=c["num_multimask_outputs"], transformer=TwoWayTransformer(
              depth=c["decoder_transformer_depth"], embedding_dim=c["prompt_embed_dim"], mlp_dim=c["decoder_mlp_dim"],
              num_heads=c["decoder_num_heads"]), transformer_dim=c["prompt_embed_dim"], iou_head_depth=c["iou_head_depth"],
              iou_head_hidden_dim=c["iou_head_hidden_dim"]), pixel_mean=c["pixel_mean"], pixel_std=c["pixel_std"])
    sam.load_state_dict(sd); sam.eval()
    name = "sam_vit_custom"
else:
    import segment_anything as pkg
    width = sd["image_encoder.patch_embed.proj.weight"].shape[0]
    kind = {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}[width]
    sam = pkg.sam_model_registry[kind](); sam.load_state_dict(sd); sam.eval()
    name = "sam_" + kind
pred = pkg.SamPredictor(sam)
rng = np.random.RandomState(12345)
img = rng.randint(0, 256, (1024, 1024, 3), dtype=np.uint8)

CPU = {}
def median_ms(fn, n, warm=2, key=None):
    # Wall time, and process CPU time (what to compare on a machine shared with other work).
    for _ in range(warm): fn()
    ts, cs = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time(); fn()
        ts.append((time.perf_counter() - t) * 1e3); cs.append((time.process_time() - c) * 1e3)
    if key: CPU[key] = float(np.median(cs))
    return float(np.median(ts))

with torch.inference_mode():
    enc = median_ms(lambda: pred.set_image(img), runs, warm=1, key='encoderCpuMs')
    pt = np.array([[512.0, 460.0]], dtype=np.float32); lab = np.array([1])
    click_masks = median_ms(lambda: pred.predict(point_coords=pt, point_labels=lab, multimask_output=True), clicks, key='clickWithMasksCpuMs')
    coords = torch.as_tensor(pred.transform.apply_coords(pt, pred.original_size), dtype=torch.float)[None]
    labels = torch.as_tensor(lab, dtype=torch.int)[None]
    def dec():
        sp, de = sam.prompt_encoder(points=(coords, labels), boxes=None, masks=None)
        return sam.mask_decoder(image_embeddings=pred.features, image_pe=sam.prompt_encoder.get_dense_pe(),
                                sparse_prompt_embeddings=sp, dense_prompt_embeddings=de, multimask_output=True)
    click_dec = median_ms(dec, clicks, key='decoderClickCpuMs')

# ONNX decoder as the official export (SamOnnxModel, single mask), run by onnxruntime.
import onnxruntime as ort
from segment_anything.utils.onnx import SamOnnxModel
onnx_model = SamOnnxModel(sam, return_single_mask=True)
emb = pred.features.detach()
dummy = {"image_embeddings": emb, "point_coords": torch.randint(0, 1024, (1, 2, 2), dtype=torch.float),
         "point_labels": torch.randint(0, 4, (1, 2), dtype=torch.float), "mask_input": torch.zeros(1, 1, 256, 256),
         "has_mask_input": torch.tensor([1], dtype=torch.float), "orig_im_size": torch.tensor([1024, 1024], dtype=torch.float)}
path = "/tmp/sam_decoder_bench.onnx"
with warnings.catch_warnings():
    torch.onnx.export(onnx_model, tuple(dummy.values()), path, export_params=True, verbose=False, opset_version=17,
                      do_constant_folding=True, input_names=list(dummy.keys()), output_names=["masks", "iou_predictions", "low_res_masks"],
                      dynamic_axes={"point_coords": {1: "num_points"}, "point_labels": {1: "num_points"}}, dynamo=False)
so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
c = pred.transform.apply_coords(np.concatenate([pt, [[0.0, 0.0]]])[None], pred.original_size).astype(np.float32)
feeds = {"image_embeddings": emb.numpy(), "point_coords": c, "point_labels": np.array([[1, -1]], dtype=np.float32),
         "mask_input": np.zeros((1, 1, 256, 256), np.float32), "has_mask_input": np.zeros(1, np.float32),
         "orig_im_size": np.array([1024, 1024], np.float32)}
onnx_click = median_ms(lambda: sess.run(None, feeds), clicks, key='onnxClickCpuMs')
print(json.dumps({"model": name, "torch": torch.__version__, "onnxruntime": ort.__version__, "threads": threads,
                  "encoderMs": enc, "clickWithMasksMs": click_masks, "decoderClickMs": click_dec, "onnxClickMs": onnx_click, **CPU}))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--venv", default="/tmp/sam-peers-venv")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--clicks", type=int, default=50)
    ap.add_argument("--segterm", default=str(Path(__file__).resolve().parent.parent / ".build/release/segterm"))
    a = ap.parse_args()
    py = ensure_venv(Path(a.venv))
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    peer = json.loads(subprocess.check_output([str(py), "-c", INNER, a.checkpoint, str(a.threads), str(a.runs), str(a.clicks)],
                                              env=env).decode().strip().splitlines()[-1])
    ours = json.loads(subprocess.check_output([a.segterm, "bench", "model", "--model", a.checkpoint, "--threads", str(a.threads),
                                               "--encoder-runs", str(a.runs), "--clicks", str(a.clicks), "--format", "json"]))
    print(json.dumps({"pytorch": peer, "segterm": ours}, indent=1))
    print(f"\n{'':34s}{'segterm':>10s}{'PyTorch':>10s}{'onnxrt':>10s}{'PyTorch/segterm':>17s}{'onnxrt/segterm':>16s}")
    print(f"{'image encoder (ms)':34s}{ours['encoderMs']:10.1f}{peer['encoderMs']:10.1f}{'':10s}{peer['encoderMs'] / ours['encoderMs']:17.2f}")
    print(f"{'click, decoder only (ms)':34s}{ours['decoderClickMs']:10.2f}{peer['decoderClickMs']:10.2f}{'':10s}{peer['decoderClickMs'] / ours['decoderClickMs']:17.2f}")
    print(f"{'click incl. masks at 1024x1024 (ms)':34s}{ours['clickWithMasksMs']:10.2f}{peer['clickWithMasksMs']:10.2f}{peer['onnxClickMs']:10.2f}"
          f"{peer['clickWithMasksMs'] / ours['clickWithMasksMs']:17.2f}{peer['onnxClickMs'] / ours['clickWithMasksMs']:16.2f}")
    print(f"{'click, best mask at 1024x1024 (ONNX)':34s}{ours['clickBestMaskMs']:10.2f}{'':10s}{peer['onnxClickMs']:10.2f}{'':17s}{peer['onnxClickMs'] / ours['clickBestMaskMs']:16.2f}")
    print(f"\nCPU time (process, ms; the fair figure when other work shares the machine)")
    print(f"{'image encoder':34s}{ours['encoderCpuMs']:10.1f}{peer['encoderCpuMs']:10.1f}{'':10s}{peer['encoderCpuMs'] / ours['encoderCpuMs']:17.2f}")
    print(f"{'click, decoder only':34s}{ours['decoderClickCpuMs']:10.2f}{peer['decoderClickCpuMs']:10.2f}{'':10s}{peer['decoderClickCpuMs'] / ours['decoderClickCpuMs']:17.2f}")
    print(f"{'click incl. masks at 1024x1024':34s}{ours['clickWithMasksCpuMs']:10.2f}{peer['clickWithMasksCpuMs']:10.2f}{peer['onnxClickCpuMs']:10.2f}"
          f"{peer['clickWithMasksCpuMs'] / ours['clickWithMasksCpuMs']:17.2f}{peer['onnxClickCpuMs'] / ours['clickWithMasksCpuMs']:16.2f}")
    print(f"{'click, best mask at 1024x1024 (ONNX)':34s}{ours['clickBestMaskCpuMs']:10.2f}{'':10s}{peer['onnxClickCpuMs']:10.2f}{'':17s}{peer['onnxClickCpuMs'] / ours['clickBestMaskCpuMs']:16.2f}")
    print(f"load average during the segterm run: {ours['loadAverage']:.2f}")
    print(f"(segterm: {ours['threads']} threads, OpenBLAS {ours['blasCore']}; PyTorch {peer['torch']}, onnxruntime {peer['onnxruntime']}, {peer['threads']} threads)")


if __name__ == "__main__":
    main()
