#!/usr/bin/env python3
"""SAM 2.1 parity fixtures from the official `sam2` 1.1.0 code (PyPI; the facebookresearch/sam2
sources of December 2024).

    python3 -m venv /tmp/sam2-venv
    /tmp/sam2-venv/bin/pip install torch==2.15.0 torchvision==0.29.2 sam2==1.1.0 numpy pillow safetensors
    /tmp/sam2-venv/bin/python scripts/make_sam2_fixture.py              # reduced config -> Tests/.../Fixtures/sam2_reduced
    /tmp/sam2-venv/bin/python scripts/make_sam2_fixture.py --tiny DIR   # real tiny config, random weights -> DIR (never committed)
    /tmp/sam2-venv/bin/python scripts/make_sam2_fixture.py --checkpoint base_plus DIR  # only the checkpoint, for benchmarks

torch and torchvision are pinned because torchvision's `Resize` changed its antialias default
across versions, and the predictor resizes float tensors with it.

The reduced configuration is built from the official modules (Hiera, FpnNeck, ImageEncoder,
SAM2Base with its prompt encoder and mask decoder, SAM2ImagePredictor) with few blocks and small
widths: 4 stages [1, 2, 3, 1] of widths 6..48, windows that need padding in stage 3 and in the
query-pooled block into stage 4, one global block, a 128×128 input. SAM2Base builds its decoder
with fixed sizes (MLP 2048, 8 heads) that would not fit in a small fixture, so the script replaces
`sam_mask_decoder` with the official MaskDecoder at small sizes and the same SAM 2.1 switches (high-res
features, object-score MLP, IoU sigmoid, dynamic multimask via stability 0.05/0.98, as build_sam2
sets). The video-only modules are small stand-ins: the image predictor never runs them, and the
checkpoint keeps their keys so that the loader is seen to ignore them. The predictor's hard-coded
feature sizes for 1024 are set for 128.

Every tensor the official init leaves constant (position embeddings, LayerNorms, no_mem_embed,
tokens, biases) is randomised with a seed. Single-mask cases record whether the stability check
kept token 0 or fell back to the best multimask token (read from the official decoder's own
`_get_stability_scores`); the script fails unless both happen. Every case also records its
`sensitivity`: how much the official output moves under a 1e-6 relative perturbation of the image
embedding; the tests widen the 1e-4 tolerance to 4× that for the rare ill-conditioned prompt.
"""
import argparse
import json
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from sam2.modeling.backbones.hieradet import Hiera
from sam2.modeling.backbones.image_encoder import FpnNeck, ImageEncoder
from sam2.modeling.position_encoding import PositionEmbeddingSine
from sam2.modeling.sam.mask_decoder import MaskDecoder
from sam2.modeling.sam.transformer import TwoWayTransformer
from sam2.modeling.sam2_base import SAM2Base
from sam2.sam2_image_predictor import SAM2ImagePredictor

ROOT = Path(__file__).resolve().parent.parent
SEED = 4244
OUT = ROOT / "Tests/SegModelsTests/Fixtures/sam2_reduced"

# What the Swift loader cannot read from the shapes (keys as the official yaml's).
SIDECAR = {"image_size": 128, "num_heads": 1, "global_att_blocks": [5], "window_spec": [8, 4, 6, 3],
           "decoder_transformer_depth": 2, "decoder_mlp_dim": 64, "decoder_num_heads": 2,
           "iou_head_depth": 3, "iou_head_hidden_dim": 32}
REDUCED = {"embed_dim": 6, "stages": [1, 2, 3, 1], "window_pos_embed_bkg_spatial_size": [7, 7], "d_model": 32}

# SAM2Base switches of configs/sam2.1/*.yaml that matter to the image path.
SAM21 = dict(num_maskmem=7, backbone_stride=16, sigmoid_scale_for_mem_enc=20.0, sigmoid_bias_for_mem_enc=-10.0,
             use_mask_input_as_output_without_sam=True, directly_add_no_mem_embed=True, no_obj_embed_spatial=True,
             use_high_res_features_in_sam=True, multimask_output_in_sam=True, iou_prediction_use_sigmoid=True,
             use_obj_ptrs_in_encoder=True, add_tpos_enc_to_obj_ptrs=True, proj_tpos_enc_in_obj_ptrs=True,
             use_signed_tpos_enc_to_obj_ptrs=True, only_obj_ptrs_in_the_past_for_eval=True, pred_obj_scores=True,
             pred_obj_scores_mlp=True, fixed_no_obj_ptr=True, multimask_output_for_tracking=True,
             use_multimask_token_for_obj_ptr=True, multimask_min_pt_num=0, multimask_max_pt_num=1,
             use_mlp_for_obj_ptr_proj=True,
             sam_mask_decoder_extra_args=dict(dynamic_multimask_via_stability=True, dynamic_multimask_stability_delta=0.05,
                                              dynamic_multimask_stability_thresh=0.98))


class MemoryEncoderStandIn(torch.nn.Module):
    """Only its `out_proj` width is read by SAM2Base (the memory dimension)."""

    def __init__(self):
        super().__init__()
        self.out_proj = torch.nn.Linear(4, 8)


def build_reduced():
    trunk = Hiera(embed_dim=REDUCED["embed_dim"], num_heads=SIDECAR["num_heads"], stages=REDUCED["stages"],
                  global_att_blocks=SIDECAR["global_att_blocks"], window_spec=SIDECAR["window_spec"],
                  window_pos_embed_bkg_spatial_size=REDUCED["window_pos_embed_bkg_spatial_size"])
    d = REDUCED["d_model"]
    neck = FpnNeck(position_encoding=PositionEmbeddingSine(num_pos_feats=d, normalize=True, scale=None, temperature=10000),
                   d_model=d, backbone_channel_list=trunk.channel_list, fpn_top_down_levels=[2, 3], fpn_interp_model="nearest")
    model = SAM2Base(image_encoder=ImageEncoder(trunk=trunk, neck=neck, scalp=1), memory_attention=torch.nn.Linear(2, 2),
                     memory_encoder=MemoryEncoderStandIn(), image_size=SIDECAR["image_size"], **SAM21)
    model.sam_mask_decoder = MaskDecoder(
        num_multimask_outputs=3,
        transformer=TwoWayTransformer(depth=SIDECAR["decoder_transformer_depth"], embedding_dim=d, mlp_dim=SIDECAR["decoder_mlp_dim"],
                                      num_heads=SIDECAR["decoder_num_heads"]),
        transformer_dim=d, iou_head_depth=SIDECAR["iou_head_depth"], iou_head_hidden_dim=SIDECAR["iou_head_hidden_dim"],
        use_high_res_features=True, iou_prediction_use_sigmoid=True, pred_obj_scores=True, pred_obj_scores_mlp=True,
        use_multimask_token_for_obj_ptr=True, **SAM21["sam_mask_decoder_extra_args"])
    return model.eval()


# The official configs by the names of the released checkpoints.
VARIANTS = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}


def build_official(variant="tiny"):
    from sam2.build_sam import build_sam2
    return build_sam2(f"configs/sam2.1/sam2.1_hiera_{VARIANTS[variant]}.yaml", ckpt_path=None, device="cpu", mode="eval")


def write_checkpoint(variant, out, seed):
    """An official-layout `sam2.1_hiera_<variant>_random.pt` with every tensor randomised (speed and
    memory benchmarks: `scripts/bench_sam2_peers.py`). No parity cases: those are the tiny's."""
    model = build_official(variant)
    randomize(model, seed, 1.0)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"sam2.1_hiera_{variant}_random.pt"
    torch.save({"model": {k: v.contiguous() for k, v in model.state_dict().items()}}, path)
    print("wrote", path, path.stat().st_size, "bytes")


# Learned tokens and embedding tables: N(0, 1), not scaled by a fan-in.
TOKENS = ("iou_token.weight", "mask_tokens.weight", "obj_score_token.weight", "not_a_point_embed.weight", "no_mask_embed.weight",
          "point_embeddings.0.weight", "point_embeddings.1.weight", "point_embeddings.2.weight", "point_embeddings.3.weight")


def randomize(model, seed, hyper_scale):
    """Weights N(0, 1/fan_in); LayerNorms near identity; every other tensor, constant or not, random."""
    norm = set()
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.LayerNorm) or type(m).__name__ == "LayerNorm2d":
            norm.update({f"{name}.weight", f"{name}.bias"})
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if k.endswith("positional_encoding_gaussian_matrix") or not v.is_floating_point():
                continue
            g = torch.Generator().manual_seed(seed + zlib.crc32(k.encode()))
            n = torch.randn(v.shape, generator=g)
            if k in norm:
                v.copy_(1 + 0.1 * n if k.endswith("weight") else 0.02 * n)
            elif k.endswith(("pos_embed", "pos_embed_window", "no_mem_embed", "no_mem_pos_enc")):
                v.copy_(0.1 * n)
            elif k.endswith("bias"):
                v.copy_(0.05 * n)
            elif v.dim() >= 2 and not k.endswith(TOKENS):
                v.copy_(n / float(torch.nn.init._calculate_fan_in_and_fan_out(v)[0]) ** 0.5)
            else:
                v.copy_(n)
            if ".output_hypernetworks_mlps." in k and k.endswith("layers.2.weight"):
                # Sharper mask logits (fewer values near 0) for the reduced model, so that some
                # single-mask cases are stable enough for the decoder to keep token 0 and others fall
                # back (the tiny model takes both branches as it is).
                v.mul_(hyper_scale)


def save_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


class StabilityProbe:
    """Wraps the official decoder's `_dynamic_multimask_via_stability` to record its choice."""

    def __init__(self, decoder):
        self.decoder, self.last = decoder, None
        original = decoder._dynamic_multimask_via_stability

        def wrapped(all_mask_logits, all_iou_scores):
            s = decoder._get_stability_scores(all_mask_logits[:, 0:1, :, :])
            self.last = bool((s >= decoder.dynamic_multimask_stability_thresh).all())
            return original(all_mask_logits, all_iou_scores)
        decoder._dynamic_multimask_via_stability = wrapped


def images(full_size):
    rng = np.random.RandomState(5)
    yy, xx = np.mgrid[0:30, 0:41]
    out = {
        "landscape": (np.stack([xx * 6, yy * 8, (xx + yy) * 3], -1) + rng.randint(0, 30, (30, 41, 3))).astype(np.uint8),
        "portrait": rng.randint(0, 256, (23, 9, 3)).astype(np.uint8),
    }
    # Larger than the input: the resize shrinks it (antialiasing on).
    h, w = (170, 300) if not full_size else (1200, 1500)
    yy, xx = np.mgrid[0:h, 0:w]
    disc = ((xx - w * 0.45) ** 2 + (yy - h * 0.5) ** 2 < (h * 0.3) ** 2)
    out["wide"] = (np.stack([xx * 255 // w, yy * 255 // h, 200 * disc], -1) + rng.randint(0, 12, (h, w, 3))).clip(0, 255).astype(np.uint8)
    return out


def cases_for(w, h):
    P = lambda fx, fy: [round(fx * (w - 1)), round(fy * (h - 1))]
    return [
        {"name": "pt1_multi", "points": [P(0.5, 0.4)], "labels": [1], "box": None, "multimask": True},
        {"name": "pt1_single", "points": [P(0.5, 0.4)], "labels": [1], "box": None, "multimask": False},
        {"name": "pt3_single", "points": [P(0.5, 0.4), P(0.2, 0.7), P(0.8, 0.2)], "labels": [1, 1, 0], "box": None, "multimask": False},
        {"name": "box_multi", "points": None, "labels": None, "box": P(0.2, 0.2) + P(0.8, 0.8), "multimask": True},
        {"name": "box_neg1_single", "points": [P(0.6, 0.7)], "labels": [0], "box": P(0.1, 0.1) + P(0.9, 0.9), "multimask": False},
        {"name": "pt2_single", "points": [P(0.3, 0.6), P(0.7, 0.3)], "labels": [1, 1], "box": None, "multimask": False},
        {"name": "chain_single", "points": [P(0.5, 0.4), P(0.2, 0.7)], "labels": [1, 0], "box": None, "multimask": False, "mask_from": "pt1_multi"},
        {"name": "chain_multi", "points": [P(0.5, 0.4)], "labels": [1], "box": None, "multimask": True, "mask_from": "pt1_single"},
    ]


def sensitivity(pred, kw, lowres):
    """How far the official float32 output itself moves when the image embedding is perturbed by
    1e-6 relative (max over 3 draws, relative to the output's max): some prompts are ill-conditioned,
    and a port cannot be held closer to the reference than the reference is to itself."""
    saved = pred._features["image_embed"]
    g = torch.Generator().manual_seed(1)
    worst = 0.0
    for _ in range(3):
        pred._features["image_embed"] = saved * (1 + 1e-6 * torch.randn(saved.shape, generator=g))
        moved = pred.predict(**kw)[2]
        worst = max(worst, float(np.abs(moved - lowres).max() / max(np.abs(lowres).max(), 1e-30)))
    pred._features["image_embed"] = saved
    return worst


def run_cases(pred, probe, out, img_name, img, keep_full_logits):
    h, w = img.shape[:2]
    pred.set_image(img)
    feats = pred._features
    save_npy(out / f"{img_name}_embed.npy", feats["image_embed"][0].numpy())
    save_npy(out / f"{img_name}_s1.npy", feats["high_res_feats"][1][0].numpy())
    save_npy(out / f"{img_name}_s0.npy", feats["high_res_feats"][0][0].numpy())
    cases = cases_for(w, h)
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
        probe.last = None
        logits, iou, lowres = pred.predict(**kw)
        if not c["multimask"]:
            c["stable"] = probe.last
        c["sensitivity"] = sensitivity(pred, kw, lowres)
        low[c["name"]] = (lowres, iou)
        base = f"{img_name}_{c['name']}"
        save_npy(out / f"{base}_lowres.npy", lowres)
        save_npy(out / f"{base}_iou.npy", iou)
        # Full-size logits only for small images (the masks are compared everywhere).
        if keep_full_logits:
            save_npy(out / f"{base}_logits.npy", logits)
        # Masks (logits > 0) as one grey PNG per mask, stacked vertically: small on disk.
        Image.fromarray(((logits > 0).astype(np.uint8) * 255).reshape(-1, w)).save(out / f"{base}_masks.png")
    return {"file": f"{img_name}.png", "width": w, "height": h, "cases": cases}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", help="write the real tiny configuration with random weights here instead")
    ap.add_argument("--checkpoint", nargs=2, metavar=("VARIANT", "DIR"),
                    help=f"write only a random-weight official checkpoint ({', '.join(VARIANTS)}) into DIR")
    ap.add_argument("--seed", type=int, help="weights seed (default: the committed fixture's)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(99)
    if args.checkpoint:
        variant, where = args.checkpoint
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant}; one of {', '.join(VARIANTS)}")
        return write_checkpoint(variant, Path(where), args.seed if args.seed is not None else 777)
    tiny = args.tiny is not None
    out = Path(args.tiny) if tiny else OUT
    out.mkdir(parents=True, exist_ok=True)
    name = "sam2.1_hiera_tiny_random" if tiny else "sam2_reduced"
    model = build_official() if tiny else build_reduced()
    randomize(model, args.seed if args.seed is not None else 777 if tiny else SEED, 1.0 if tiny else 4.0)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    torch.save({"model": sd}, out / f"{name}.pt")
    save_file(sd, str(out / f"{name}_st.safetensors"))
    if not tiny:
        for stem in (name, f"{name}_st"):
            (out / f"{stem}.json").write_text(json.dumps(SIDECAR, indent=1))
        # Reload through the official path, as a user's checkpoint would be.
        model = build_reduced()
        model.load_state_dict(torch.load(out / f"{name}.pt")["model"], strict=True)
        model.eval()
    pred = SAM2ImagePredictor(model)
    s = model.image_size
    pred._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
    probe = StabilityProbe(model.sam_mask_decoder)
    manifest = {}
    with torch.inference_mode():
        for img_name, img in images(tiny).items():
            Image.fromarray(img).save(out / f"{img_name}.png")
            manifest[img_name] = run_cases(pred, probe, out, img_name, img, keep_full_logits=img.shape[0] * img.shape[1] <= 4096)
    (out / "cases.json").write_text(json.dumps(manifest, indent=1))
    stable = [c["stable"] for e in manifest.values() for c in e["cases"] if "stable" in c]
    print("single-mask cases: token 0 kept", stable.count(True), "fallback", stable.count(False))
    assert True in stable and False in stable, "the single-mask cases must take both stability branches"
    print("wrote", out, sum(p.stat().st_size for p in out.iterdir()), "bytes")


if __name__ == "__main__":
    main()
