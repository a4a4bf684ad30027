#!/usr/bin/env python3
"""MedSAM's inference, step for step, on a reduced random-weight SAM in MedSAM's layout (the SAM
ViT-B state dict, smaller widths and a 96-pixel input instead of 1024, described by the JSON
sidecar the SAM loader reads), for Tests/SegModelsTests/Fixtures/medsam/.

The steps are bowang-lab/MedSAM's MedSAM_Inference.py (and gui.py, which does the same):
  grey → 3 channels; skimage.transform.resize(img_3c, (S, S), order=3, preserve_range=True,
  anti_aliasing=True) (skimage's default mode, 'reflect', which is ndimage's 'mirror') then
  .astype(np.uint8); min–max to [0, 1] with the denominator clipped at 1e-8; no SAM mean/std; the
  image encoder; the box as box / [W, H, W, H] * S; the prompt encoder and mask decoder with
  multimask_output=False; sigmoid; F.interpolate to (H, W), bilinear, align_corners=False; > 0.5.
The CT slice is windowed as MedSAM's pre_CT_MR.py windows CT (level 40, width 400: clip, min–max
over the volume × 255, np.uint8).

    PYTHONPATH=/tmp/medsam-src /tmp/med-venv/bin/python scripts/make_medsam_fixture.py
      (/tmp/medsam-src: `segment_anything/` of github.com/bowang-lab/MedSAM, the fork MedSAM's
       inference imports; without it the installed segment-anything 1.0, whose modules are the
       same for a batch of one. /tmp/med-venv: torch (CPU), scikit-image 0.26, scipy 1.17,
       nibabel, pillow.)
"""
import json
import zlib
from functools import partial
from pathlib import Path

import nibabel as nib
import numpy as np
import scipy
import skimage
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import transform

import segment_anything
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/SegModelsTests/Fixtures/medsam"
S = 96  # MedSAM's 1024, reduced
CFG = {"embed_dim": 16, "depth": 2, "num_heads": 2, "global_attn_indexes": [1], "window_size": 3, "patch_size": 16,
       "image_size": S, "prompt_embed_dim": 32, "mlp_ratio": 4, "use_rel_pos": True, "qkv_bias": True,
       "layer_norm_eps": 1e-6, "mask_in_chans": 4, "decoder_transformer_depth": 2, "decoder_mlp_dim": 64,
       "decoder_num_heads": 2, "num_multimask_outputs": 3, "iou_head_depth": 3, "iou_head_hidden_dim": 32}


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
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375]).eval()


def randomize(model, seed):
    # Every tensor, the ones the official init leaves constant included (norm weights and biases,
    # position embeddings, relative positions, biases): weights N(0, 1/fan_in), norms near identity.
    norm = set()
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.LayerNorm) or type(m).__name__ == "LayerNorm2d":
            norm.update({f"{name}.weight", f"{name}.bias"})
    for k, v in model.state_dict().items():
        g = torch.Generator().manual_seed(seed + zlib.crc32(k.encode()))
        n = torch.randn(v.shape, generator=g)
        if k in norm:
            v.copy_(1 + 0.1 * n if k.endswith("weight") else 0.02 * n)
        elif k.endswith(("rel_pos_h", "rel_pos_w", "pos_embed")):
            v.copy_(0.1 * n)
        elif k.endswith("positional_encoding_gaussian_matrix"):
            v.copy_(n)  # random at init too (torch.randn), reseeded here so the file does not depend on the global seed
        elif k.endswith("bias"):
            v.copy_(0.05 * n)
        elif v.dim() >= 2:
            v.copy_(n / float(torch.nn.init._calculate_fan_in_and_fan_out(v)[0]) ** 0.5)
        else:
            v.copy_(n)


def save_f4(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


def medsam_resize(img_3c, size):
    """MedSAM_Inference.py's image preprocessing, split where the fixtures check it."""
    resized = transform.resize(img_3c, (size, size), order=3, preserve_range=True, anti_aliasing=True)  # float64
    img_u8 = resized.astype(np.uint8)
    img_01 = (img_u8 - img_u8.min()) / np.clip(img_u8.max() - img_u8.min(), a_min=1e-8, a_max=None)
    return resized, img_u8, img_01


@torch.no_grad()
def medsam_inference(medsam_model, img_embed, box_1024, H, W):
    # MedSAM_Inference.py's medsam_inference, unchanged but for returning the intermediate maps.
    box_torch = torch.as_tensor(box_1024, dtype=torch.float, device=img_embed.device)
    if len(box_torch.shape) == 2:
        box_torch = box_torch[:, None, :]  # (B, 1, 4)
    sparse_embeddings, dense_embeddings = medsam_model.prompt_encoder(points=None, boxes=box_torch, masks=None)
    low_res_logits, iou = medsam_model.mask_decoder(
        image_embeddings=img_embed, image_pe=medsam_model.prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse_embeddings, dense_prompt_embeddings=dense_embeddings, multimask_output=False)
    low_res_pred = torch.sigmoid(low_res_logits)
    low_res_pred = F.interpolate(low_res_pred, size=(H, W), mode="bilinear", align_corners=False)
    low_res_pred = low_res_pred.squeeze().cpu().numpy()
    medsam_seg = (low_res_pred > 0.5).astype(np.uint8)
    return low_res_logits[0, 0].numpy(), iou[0].numpy(), low_res_pred, medsam_seg


def ct_slice():
    """Case 0's axial slice 10 of sample-data/medical, windowed as pre_CT_MR.py windows CT, rows y
    and columns x (the workbench's axial view of this LPS volume, which flips neither axis)."""
    image = nib.load(ROOT / "sample-data/medical/imagesTr/case_000_0000.nii.gz")
    data = np.asarray(image.dataobj)
    level, width = 40, 400
    pre = np.clip(data, level - width / 2, level + width / 2)
    pre = (pre - np.min(pre)) / (np.max(pre) - np.min(pre)) * 255.0
    pre = np.uint8(pre)
    labels = np.asarray(nib.load(ROOT / "sample-data/medical/labelsTr/case_000.nii.gz").dataobj)
    z = 10
    img = np.ascontiguousarray(pre[:, :, z].T)
    ys, xs = np.nonzero(labels[:, :, z].T == 1)  # the liver
    return img, [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def main():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    sam = build()
    with torch.no_grad():
        randomize(sam, 2026)
    torch.save(sam.state_dict(), OUT / "medsam_reduced.pth")
    (OUT / "medsam_reduced.json").write_text(json.dumps(CFG, indent=1))
    sam = build()
    sam.load_state_dict(torch.load(OUT / "medsam_reduced.pth"), strict=True)
    sam.eval()

    rng = np.random.RandomState(11)
    ct, ct_box = ct_slice()
    yy, xx = np.mgrid[0:130, 0:150]
    phantom = 40 + 120 * (((xx - 70) / 55.0) ** 2 + ((yy - 60) / 45.0) ** 2 < 1) + 60 * (((xx - 90) / 15.0) ** 2 + ((yy - 70) / 12.0) ** 2 < 1)
    phantom = np.clip(phantom + rng.normal(0, 8, phantom.shape), 0, 255).astype(np.uint8)  # larger than S: the anti-aliased path
    yy, xx = np.mgrid[0:50, 0:70]
    colour = np.stack([xx * 3, yy * 4, 255 - xx * 2], -1).astype(np.uint8) + rng.randint(0, 25, (50, 70, 3)).astype(np.uint8)
    images = {"ct": (ct, ct_box), "phantom": (phantom, [30, 25, 120, 100]), "colour": (colour, [10, 8, 60, 44])}

    cases = {}
    for name, (img_np, box) in images.items():
        Image.fromarray(img_np).save(OUT / f"{name}.png")
        img_3c = np.repeat(img_np[:, :, None], 3, axis=-1) if img_np.ndim == 2 else img_np
        H, W, _ = img_3c.shape
        resized, img_u8, img_01 = medsam_resize(img_3c, S)
        save_f4(OUT / f"{name}_resized.npy", resized)  # float64 before the uint8 cast (stored as float32)
        Image.fromarray(img_u8).save(OUT / f"{name}_resized.png")
        tensor = torch.tensor(img_01).float().permute(2, 0, 1).unsqueeze(0)
        with torch.no_grad():
            embedding = sam.image_encoder(tensor)
        save_f4(OUT / f"{name}_embedding.npy", embedding[0].numpy())
        box_np = np.array([box])
        box_1024 = box_np / np.array([W, H, W, H]) * S
        low, iou, prob, seg = medsam_inference(sam, embedding, box_1024, H, W)
        save_f4(OUT / f"{name}_lowres.npy", low)
        save_f4(OUT / f"{name}_prob.npy", prob)
        Image.fromarray(seg * 255).save(OUT / f"{name}_mask.png")
        cases[name] = {"file": f"{name}.png", "width": W, "height": H, "box": box, "iou": float(iou[0]),
                       "mask_pixels": int(seg.sum())}

    # MedSAM's own input size on the CT slice: the 1024 × 1024 uint8 image its encoder sees.
    ct_3c = np.repeat(ct[:, :, None], 3, axis=-1)
    _, ct_1024, _ = medsam_resize(ct_3c, 1024)
    Image.fromarray(ct_1024).save(OUT / "ct_resized_1024.png", optimize=True)
    cases["_versions"] = {"segment_anything": segment_anything.__file__.split("site-packages/")[-1], "skimage": skimage.__version__,
                          "scipy": scipy.__version__, "numpy": np.__version__, "torch": torch.__version__}
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1))
    print("segment_anything from", segment_anything.__file__)
    print("wrote", OUT, sum(p.stat().st_size for p in OUT.iterdir()), "bytes")


if __name__ == "__main__":
    main()
