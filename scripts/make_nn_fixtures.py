#!/usr/bin/env python3
"""Writes the SegNN test fixtures: op outputs computed by PyTorch and the official SAM / MobileSAM
modules (Tests/SegNNTests/Fixtures/ops.json), and small checkpoints, good and hostile
(Tests/SegNNTests/Fixtures/checkpoints/). Run by hand; the outputs are committed.

    python3 -m venv /tmp/sam-venv && /tmp/sam-venv/bin/pip install torch numpy segment-anything==1.0 mobilesam-mirror==1.0.0 timm
    /tmp/sam-venv/bin/python scripts/make_nn_fixtures.py
"""
import io
import json
import struct
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F

warnings.filterwarnings("ignore")
from segment_anything.modeling.image_encoder import add_decomposed_rel_pos, window_partition, window_unpartition
from segment_anything.modeling.common import LayerNorm2d
from segment_anything.modeling.transformer import Attention as DecoderAttention
from segment_anything.modeling.prompt_encoder import PositionEmbeddingRandom
from mobile_sam.modeling.tiny_vit_sam import Attention as TinyAttention, Conv2d_BN

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/SegNNTests/Fixtures"
torch.manual_seed(7)


def t(x):
    x = x.detach().contiguous().float()
    return {"shape": list(x.shape), "data": [float(v) for v in x.flatten().tolist()]}


def main():
    torch.set_num_threads(1)
    f = OrderedDict()
    with torch.no_grad():
        x = torch.randn(5, 7); w = torch.randn(3, 7); b = torch.randn(3)
        f["linear"] = {"x": t(x), "w": t(w), "b": t(b), "y": t(F.linear(x, w, b))}

        for name, (cin, cout, k, s, p, h, wd) in {"conv3x3s2": (3, 4, 3, 2, 1, 9, 7), "conv1x1": (5, 6, 1, 1, 0, 4, 3),
                                                   "conv2x2s2": (2, 3, 2, 2, 0, 6, 8), "conv3x3s1": (4, 2, 3, 1, 1, 5, 6)}.items():
            x = torch.randn(1, cin, h, wd); w = torch.randn(cout, cin, k, k); b = torch.randn(cout)
            f[name] = {"x": t(x), "w": t(w), "b": t(b), "k": k, "stride": s, "pad": p, "y": t(F.conv2d(x, w, b, s, p))}

        for name, s in {"depthwise_s1": 1, "depthwise_s2": 2}.items():
            x = torch.randn(1, 5, 8, 9); w = torch.randn(5, 1, 3, 3); b = torch.randn(5)
            f[name] = {"x": t(x), "w": t(w), "b": t(b), "stride": s, "y": t(F.conv2d(x, w, b, s, 1, groups=5))}

        x = torch.randn(1, 6, 4, 5); w = torch.randn(6, 3, 2, 2); b = torch.randn(3)
        f["conv_transpose2x2"] = {"x": t(x), "w": t(w), "b": t(b), "y": t(F.conv_transpose2d(x, w, b, stride=2))}

        x = torch.randn(4, 10) * 3 + 1; w = torch.randn(10); b = torch.randn(10)
        f["layer_norm"] = {"x": t(x), "w": t(w), "b": t(b), "eps": 1e-5, "y": t(F.layer_norm(x, (10,), w, b, 1e-5))}
        ln2 = LayerNorm2d(6); ln2.weight.copy_(torch.randn(6)); ln2.bias.copy_(torch.randn(6))
        x = torch.randn(1, 6, 5, 4) * 2
        f["layer_norm2d"] = {"x": t(x), "w": t(ln2.weight), "b": t(ln2.bias), "eps": 1e-6, "y": t(ln2(x))}

        cbn = Conv2d_BN(3, 4, ks=3, stride=1, pad=1)
        cbn.c.weight.copy_(torch.randn(4, 3, 3, 3)); cbn.bn.weight.copy_(torch.randn(4)); cbn.bn.bias.copy_(torch.randn(4))
        cbn.bn.running_mean.copy_(torch.randn(4) * 0.1); cbn.bn.running_var.copy_(torch.rand(4) + 0.5); cbn.eval()
        x = torch.randn(1, 3, 5, 6)
        f["conv_bn"] = {"x": t(x), "w": t(cbn.c.weight), "gamma": t(cbn.bn.weight), "beta": t(cbn.bn.bias),
                        "mean": t(cbn.bn.running_mean), "var": t(cbn.bn.running_var), "y": t(cbn(x))}

        x = torch.linspace(-9, 9, 181)
        f["gelu"] = {"x": t(x), "y": t(F.gelu(x))}
        x = torch.tensor([[1000.0, 1001.0, 999.0, -5.0], [0.1, 0.2, 0.3, 0.4], [-1e4, 0.0, 1e4, 3.0]])
        f["softmax"] = {"x": t(x), "y": t(torch.softmax(x, dim=-1))}

        att = DecoderAttention(16, 2, downsample_rate=2)
        for m in att.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.copy_(torch.randn_like(m.weight) * 0.3); m.bias.copy_(torch.randn_like(m.bias) * 0.1)
        q = torch.randn(1, 5, 16); k = torch.randn(1, 9, 16); v = torch.randn(1, 9, 16)
        f["decoder_attention"] = {"q": t(q[0]), "k": t(k[0]), "v": t(v[0]), "heads": 2,
                                  **{f"{n}_{p}": t(getattr(getattr(att, n), p)) for n in ["q_proj", "k_proj", "v_proj", "out_proj"] for p in ["weight", "bias"]},
                                  "y": t(att(q, k, v)[0])}

        x = torch.randn(1, 5, 7, 3)
        win, pad_hw = window_partition(x, 3)
        back = window_unpartition(win * 2, 3, pad_hw, (5, 7))
        f["window_partition"] = {"x": t(x[0]), "size": 3, "windows": t(win), "unpartition_of_twice": t(back[0])}

        qh, qw, dim = 4, 5, 6
        q = torch.randn(2, qh * qw, dim)
        attn = torch.randn(2, qh * qw, qh * qw)
        rh = torch.randn(2 * qh - 1, dim); rw = torch.randn(2 * qw - 1, dim)
        f["rel_pos"] = {"q": t(q), "attn": t(attn), "rel_h": t(rh), "rel_w": t(rw), "h": qh, "w": qw,
                        "y": t(add_decomposed_rel_pos(attn.clone(), q, rh, rw, (qh, qw), (qh, qw)))}

        ta = TinyAttention(8, 4, num_heads=2, attn_ratio=1, resolution=(3, 3))
        ta.attention_biases.copy_(torch.randn_like(ta.attention_biases)); ta.eval()
        f["tinyvit_bias"] = {"biases": t(ta.attention_biases), "window": 3, "heads": 2, "table": t(ta.ab)}

        x = torch.randn(2, 5, 7)
        f["bilinear_up"] = {"x": t(x), "y": t(F.interpolate(x[None], (13, 11), mode="bilinear", align_corners=False)[0])}
        x = torch.randn(2, 13, 11)
        f["bilinear_down"] = {"x": t(x), "y": t(F.interpolate(x[None], (4, 6), mode="bilinear", align_corners=False)[0])}

        pe = PositionEmbeddingRandom(8)
        coords = torch.tensor([[[10.5, 20.5], [0.0, 0.0], [1023.5, 511.5]]])
        f["fourier"] = {"gaussian": t(pe.positional_encoding_gaussian_matrix), "grid": t(pe((5, 6))),
                        "coords": t(coords[0]), "points": t(pe.forward_with_coords(coords, (1024, 1024))[0])}
    (OUT / "ops.json").write_text(json.dumps(f))

    # ---- checkpoints --------------------------------------------------------------
    ck = OUT / "checkpoints"
    ck.mkdir(parents=True, exist_ok=True)
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8 - 0.5
    sd = OrderedDict()
    sd["float"] = base.clone()
    sd["half"] = (base * 3).half()
    sd["bfloat16"] = (base * 5).bfloat16()
    sd["double"] = (base * 7).double()
    sd["long"] = torch.arange(5, dtype=torch.int64) - 2
    sd["transposed"] = base.t()  # a non-contiguous view: shares storage with strides (1, 4)
    sd["param"] = torch.nn.Parameter(base[1].clone())
    torch.save(sd, ck / "small.pt")
    expected = {k: {"shape": list(v.shape), "data": [float(x) for x in v.float().flatten().tolist()]} for k, v in sd.items()}
    (ck / "small.expected.json").write_text(json.dumps(expected))

    # safetensors by hand (the format is a JSON header and raw little-endian data).
    tensors = [("a", "F32", base), ("b", "F16", (base * 3).half()), ("c", "BF16", (base * 5).bfloat16()), ("d", "I64", torch.arange(5) - 2)]
    header, blobs, off = {"__metadata__": {"format": "pt"}}, b"", 0
    for name, dt, v in tensors:
        raw = v.contiguous().view(torch.uint8).numpy().tobytes() if dt == "BF16" else v.contiguous().numpy().tobytes()
        header[name] = {"dtype": dt, "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
        blobs += raw; off += len(raw)
    hb = json.dumps(header).encode()
    (ck / "small.safetensors").write_bytes(struct.pack("<Q", len(hb)) + hb + blobs)

    data = (ck / "small.pt").read_bytes()
    (ck / "truncated.pt").write_bytes(data[: len(data) // 2])
    (ck / "not_a_checkpoint.pt").write_bytes(b"this is a text file, not a checkpoint\n" * 4)

    def torch_like_zip(path, pkl, extra=None, compress=False):
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
            z.writestr("archive/data.pkl", pkl)
            z.writestr("archive/byteorder", "little")
            for k, v in (extra or {}).items():
                z.writestr(f"archive/data/{k}", v)

    # os.system through REDUCE: what torch.load would execute on an untrusted file.
    torch_like_zip(ck / "evil_os_system.pt", b"\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00echo pwned!q\x01\x85q\x02Rq\x03.")
    # A non-whitelisted class via protocol-4 STACK_GLOBAL.
    torch_like_zip(ck / "evil_stack_global.pt", b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x041+1\x94\x85\x94R\x94.")
    # Valid container, data.pkl deflated: torch never writes that; refused as unsupported.
    buf = io.BytesIO(); torch.save({"w": base}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        names = z.namelist(); pkl = z.read([n for n in names if n.endswith("data.pkl")][0])
        storages = {n.split("/data/")[1]: z.read(n) for n in names if "/data/" in n}
    torch_like_zip(ck / "compressed.pt", pkl, storages, compress=True)
    # A storage shorter than the tensor claims.
    torch_like_zip(ck / "short_storage.pt", pkl, {k: v[:8] for k, v in storages.items()})
    # Wrong dtype for a model: an integer tensor where floats are expected.
    torch.save(OrderedDict(w=torch.arange(6, dtype=torch.int64).reshape(2, 3)), ck / "int_weights.pt")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
