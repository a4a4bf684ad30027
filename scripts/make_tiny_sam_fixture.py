#!/usr/bin/env python3
"""Builds a tiny SAM (ViT encoder + prompt encoder + mask decoder) with the official
segment_anything code and random weights, runs the official SamPredictor on small images, and
writes Tests/SegModelsTests/Fixtures/tiny_sam/: the checkpoint (torch.save of the state dict, as
the released files), the same tensors as .safetensors, the JSON sidecar, the images, and the
official outputs. A fresh clone without ../shared still checks the whole model path with it.

    /tmp/sam-venv/bin/python scripts/make_tiny_sam_fixture.py     (venv as in make_nn_fixtures.py, plus pillow)
"""
import json
import struct
import zlib
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from segment_anything import SamPredictor
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

OUT = Path(__file__).resolve().parent.parent / "Tests/SegModelsTests/Fixtures/tiny_sam"
CFG = {"embed_dim": 16, "depth": 2, "num_heads": 2, "global_attn_indexes": [1], "window_size": 3, "patch_size": 16,
       "image_size": 128, "prompt_embed_dim": 32, "mlp_ratio": 4, "use_rel_pos": True, "qkv_bias": True,
       "layer_norm_eps": 1e-6, "mask_in_chans": 4, "decoder_transformer_depth": 2, "decoder_mlp_dim": 64,
       "decoder_num_heads": 2, "num_multimask_outputs": 3, "iou_head_depth": 3, "iou_head_hidden_dim": 32,
       "pixel_mean": [123.675, 116.28, 103.53], "pixel_std": [58.395, 57.12, 57.375]}


def build():
    c = CFG
    emb = c["image_size"] // c["patch_size"]
    return Sam(
        image_encoder=ImageEncoderViT(depth=c["depth"], embed_dim=c["embed_dim"], img_size=c["image_size"], mlp_ratio=c["mlp_ratio"],
                                      norm_layer=partial(torch.nn.LayerNorm, eps=c["layer_norm_eps"]), num_heads=c["num_heads"],
                                      patch_size=c["patch_size"], qkv_bias=c["qkv_bias"], use_rel_pos=c["use_rel_pos"],
                                      global_attn_indexes=c["global_attn_indexes"], window_size=c["window_size"], out_chans=c["prompt_embed_dim"]),
        prompt_encoder=PromptEncoder(embed_dim=c["prompt_embed_dim"], image_embedding_size=(emb, emb),
                                     input_image_size=(c["image_size"], c["image_size"]), mask_in_chans=c["mask_in_chans"]),
        mask_decoder=MaskDecoder(num_multimask_outputs=c["num_multimask_outputs"],
                                 transformer=TwoWayTransformer(depth=c["decoder_transformer_depth"], embedding_dim=c["prompt_embed_dim"],
                                                               mlp_dim=c["decoder_mlp_dim"], num_heads=c["decoder_num_heads"]),
                                 transformer_dim=c["prompt_embed_dim"], iou_head_depth=c["iou_head_depth"], iou_head_hidden_dim=c["iou_head_hidden_dim"]),
        pixel_mean=c["pixel_mean"], pixel_std=c["pixel_std"]).eval()


def randomize(model, seed):
    # Like ../shared/reference/sam/make_reference.py: weights N(0, 1/fan_in), norms near identity, biases small.
    norm = set()
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.LayerNorm) or type(m).__name__ == "LayerNorm2d":
            norm.update({f"{name}.weight", f"{name}.bias"})
    sd = model.state_dict()
    for k, v in sd.items():
        if k.endswith("positional_encoding_gaussian_matrix"):
            continue
        g = torch.Generator().manual_seed(seed + zlib.crc32(k.encode()))
        n = torch.randn(v.shape, generator=g)
        if k in norm:
            v.copy_(1 + 0.1 * n if k.endswith("weight") else 0.02 * n)
        elif k.endswith(("rel_pos_h", "rel_pos_w", "pos_embed")):
            v.copy_(0.1 * n)
        elif k.endswith("bias"):
            v.copy_(0.05 * n)
        elif v.dim() >= 2:
            v.copy_(n / float(torch.nn.init._calculate_fan_in_and_fan_out(v)[0]) ** 0.5)
        else:
            v.copy_(n)


def save_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


def main():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(99)
    sam = build()
    with torch.no_grad():
        randomize(sam, 4242)
    sd = sam.state_dict()
    torch.save(sd, OUT / "tiny_sam.pth")
    (OUT / "tiny_sam.json").write_text(json.dumps(CFG, indent=1))
    # The same tensors as safetensors, with its own sidecar.
    header, blob = {}, b""
    for k, v in sd.items():
        raw = v.contiguous().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    hb = json.dumps(header).encode()
    (OUT / "tiny_sam_st.safetensors").write_bytes(struct.pack("<Q", len(hb)) + hb + blob)
    (OUT / "tiny_sam_st.json").write_text(json.dumps(CFG, indent=1))

    sam = build()
    sam.load_state_dict(torch.load(OUT / "tiny_sam.pth"), strict=True)
    sam.eval()
    pred = SamPredictor(sam)
    rng = np.random.RandomState(5)
    yy, xx = np.mgrid[0:30, 0:41]
    images = {
        "landscape": np.stack([xx * 6, yy * 8, (xx + yy) * 3], -1).astype(np.uint8) + rng.randint(0, 30, (30, 41, 3)).astype(np.uint8),
        "portrait": rng.randint(0, 256, (23, 9, 3)).astype(np.uint8),
        "pixel": np.array([[[200, 40, 90]]], dtype=np.uint8),
    }
    cases_out = {}
    for name, img in images.items():
        Image.fromarray(img).save(OUT / f"{name}.png")
        h, w = img.shape[:2]
        Image.fromarray(pred.transform.apply_image(img)).save(OUT / f"{name}_resized.png")
        pred.set_image(img)
        save_npy(OUT / f"{name}_embedding.npy", pred.features.numpy()[0])
        P = lambda fx, fy: [round(fx * (w - 1)), round(fy * (h - 1))]
        cases = [
            {"name": "pt1_multi", "points": [P(0.5, 0.4)], "labels": [1], "box": None, "multimask": True},
            {"name": "pt2neg1_single", "points": [P(0.5, 0.4), P(0.2, 0.7), P(0.8, 0.2)], "labels": [1, 1, 0], "box": None, "multimask": False},
            {"name": "box_neg1_single", "points": [P(0.6, 0.7)], "labels": [0], "box": P(0.1, 0.1) + P(0.9, 0.9), "multimask": False},
            {"name": "box_multi", "points": None, "labels": None, "box": P(0.2, 0.2) + P(0.8, 0.8), "multimask": True},
            {"name": "chain_single", "points": [P(0.5, 0.4), P(0.2, 0.7)], "labels": [1, 0], "box": None, "multimask": False, "mask_from": "pt1_multi"},
        ]
        low = {}
        for c in cases:
            kw = {"multimask_output": c["multimask"], "return_logits": True}
            if c["points"] is not None:
                kw["point_coords"] = np.array(c["points"], dtype=np.float32)
                kw["point_labels"] = np.array(c["labels"])
            if c["box"] is not None:
                kw["box"] = np.array(c["box"], dtype=np.float32)
            if "mask_from" in c:
                lr, iou = low[c["mask_from"]]
                c["mask_index"] = int(np.argmax(iou))
                kw["mask_input"] = lr[c["mask_index"]][None]
            logits, iou, lowres = pred.predict(**kw)
            low[c["name"]] = (lowres, iou)
            save_npy(OUT / f"{name}_{c['name']}_lowres.npy", lowres)
            save_npy(OUT / f"{name}_{c['name']}_iou.npy", iou)
            save_npy(OUT / f"{name}_{c['name']}_logits.npy", logits)
        cases_out[name] = {"file": f"{name}.png", "width": w, "height": h, "cases": cases}
    (OUT / "cases.json").write_text(json.dumps(cases_out, indent=1))
    print("wrote", OUT, sum(p.stat().st_size for p in OUT.iterdir()), "bytes")


if __name__ == "__main__":
    main()
