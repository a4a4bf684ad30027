#!/usr/bin/env python3
"""Generate segterm's redistributable sample data set (sample-data/).

Every file under sample-data/ is made by this script from fixed seeds, so the
data is ours (CC0-1.0) and regenerates bit-for-bit with the same Pillow,
numpy and pycocotools versions.

Usage (from the repository root):

    python3 -m venv /tmp/venv-fix
    /tmp/venv-fix/bin/pip install pillow numpy pycocotools
    /tmp/venv-fix/bin/python scripts/make_sample_data.py

Output layout (see sample-data/README.md, which this script also writes):

    images/NAME.png|jpg       RGB scenes, 480x360
    masks/NAME.png            8-bit gray 0/255 mask of the largest object
    labels/NAME.png           8-bit palette label map (0 bg, 1..K classes, 255 ignore)
    instances.json            COCO instances ground truth
    predictions/model-{a,b}.json      COCO results (segm, RLE)
    predictions/model-{a,b}/NAME.png  semantic predictions (palette label maps)
    classes.txt               class names, line index = class id (0 = background)
    reference-metrics.json    pycocotools COCOeval + semantic IoU of both models
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import math
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
import PIL
import pycocotools
import pycocotools.mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample-data"
W, H = 480, 360

CLASSES = ["background", "cell", "leaf", "stone", "seed"]
CLASS_ID = {n: i for i, n in enumerate(CLASSES)}
IGNORE = 255
# label colours (index = class id); 255 = ignore (white)
LABEL_COLOURS = {
    0: (0, 0, 0),
    1: (220, 60, 160),   # cell: magenta
    2: (60, 180, 75),    # leaf: green
    3: (70, 130, 230),   # stone: blue
    4: (255, 160, 20),   # seed: orange
    IGNORE: (255, 255, 255),
}
LIGHT = np.array([-0.45, -0.6, 0.66])
LIGHT = LIGHT / np.linalg.norm(LIGHT)


# --------------------------------------------------------------------------
# noise and small image helpers
# --------------------------------------------------------------------------

def value_noise(h: int, w: int, cells: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise in [-1, 1] with about `cells` features across the width."""
    gw = max(2, int(round(cells)) + 2)
    gh = max(2, int(round(cells * h / w)) + 2)
    grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    im = Image.fromarray(grid, "F").resize((w, h), Image.BICUBIC)
    return np.clip(np.asarray(im, dtype=np.float32), -1.5, 1.5)


def fbm(h: int, w: int, rng: np.random.Generator, base: float = 4, octaves: int = 5) -> np.ndarray:
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        out += amp * value_noise(h, w, base * 2 ** o, rng)
        total += amp
        amp *= 0.5
    return out / total


def blur(a: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of a 2-D float array."""
    r = max(1, int(math.ceil(3 * radius)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / radius) ** 2)
    k = (k / k.sum()).astype(np.float32)
    out = a.astype(np.float32)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, kv in enumerate(k):
            acc += kv * (p[i:i + n] if axis == 0 else p[:, i:i + n])
        out = acc
    return out


def morph(mask: np.ndarray, k: int) -> np.ndarray:
    """k > 0 dilates, k < 0 erodes by |k| px (square structuring element)."""
    if k == 0:
        return mask.copy()
    im = Image.fromarray((mask > 0).astype(np.uint8) * 255, "L")
    f = ImageFilter.MaxFilter(2 * abs(k) + 1) if k > 0 else ImageFilter.MinFilter(2 * abs(k) + 1)
    return np.asarray(im.filter(f)) > 0


def shift(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(mask)
    h, w = mask.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
    return out


def palette_png(labels: np.ndarray, path: Path) -> None:
    im = Image.fromarray(labels.astype(np.uint8), "P")
    pal = [0] * 768
    for i, (r, g, b) in LABEL_COLOURS.items():
        pal[3 * i:3 * i + 3] = [r, g, b]
    im.putpalette(pal)
    im.save(path, optimize=True)


# --------------------------------------------------------------------------
# backgrounds
# --------------------------------------------------------------------------

def background(theme: str, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    big = fbm(H, W, rng, base=3, octaves=4)
    fine = fbm(H, W, rng, base=40, octaves=3)
    grain = rng.normal(0, 1, (H, W)).astype(np.float32)
    if theme == "agar":      # bright-field microscopy
        base = np.array([0.93, 0.88, 0.90])
        t = 0.03 * big + 0.015 * fine + 0.01 * grain
        # faint debris specks
        debris = blur((rng.random((H, W)) < 0.002).astype(np.float32), 1.2) * 1.5
        img = base[None, None, :] + t[..., None] - debris[..., None] * np.array([0.2, 0.25, 0.15])
    elif theme == "soil":
        base = np.array([0.36, 0.27, 0.19])
        t = 0.10 * big + 0.07 * fine + 0.05 * grain
        img = base[None, None, :] * (1 + t[..., None] * np.array([1.0, 1.1, 1.2]))
        # twigs: thin dark-light lines
        for _ in range(7):
            x0, y0 = rng.uniform(0, W), rng.uniform(0, H)
            ang, ln = rng.uniform(0, np.pi), rng.uniform(40, 160)
            d = np.abs((x - x0) * np.sin(ang) - (y - y0) * np.cos(ang))
            along = (x - x0) * np.cos(ang) + (y - y0) * np.sin(ang)
            twig = np.clip(1.8 - d, 0, 1) * (np.abs(along) < ln / 2)
            img = img * (1 - 0.5 * twig[..., None]) + 0.5 * twig[..., None] * np.array([0.48, 0.38, 0.26])
    elif theme == "sand":
        base = np.array([0.76, 0.68, 0.52])
        ripples = 0.04 * np.sin(2 * np.pi * (x * 0.6 + y + 25 * big) / 38)
        t = 0.05 * big + 0.05 * fine + 0.07 * grain + ripples
        img = base[None, None, :] * (1 + t[..., None])
        pebbles = blur((rng.random((H, W)) < 0.004).astype(np.float32), 0.8) * 2
        img = img * (1 - 0.3 * pebbles[..., None])
    elif theme == "moss":
        base = np.array([0.42, 0.47, 0.33])
        t = 0.12 * big + 0.10 * fine + 0.06 * grain
        img = base[None, None, :] * (1 + t[..., None] * np.array([1.2, 1.0, 1.3]))
    else:
        raise ValueError(theme)
    # uneven illumination
    vign = 1 - 0.18 * (((x - W * 0.45) / W) ** 2 + ((y - H * 0.4) / H) ** 2) * 2.2
    return np.clip(img * vign[..., None], 0, 1).astype(np.float32)


# --------------------------------------------------------------------------
# objects
# --------------------------------------------------------------------------

@dataclass
class Obj:
    cls: str
    cx: float
    cy: float
    size: float            # radius (cell/stone), half-length (leaf, seed)
    angle: float = 0.0
    aspect: float = 1.0    # minor/major axis
    seed: int = 0
    crowd: int = 0         # >0: member of crowd group n
    harmonics: list = field(default_factory=list)
    # filled when rendered
    full_mask: np.ndarray | None = None
    polygon: list | None = None


def local_coords(o: Obj, extent: float):
    x0 = max(0, int(math.floor(o.cx - extent)))
    x1 = min(W, int(math.ceil(o.cx + extent)) + 1)
    y0 = max(0, int(math.floor(o.cy - extent)))
    y1 = min(H, int(math.ceil(o.cy + extent)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    y, x = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = x - o.cx, y - o.cy
    c, s = math.cos(o.angle), math.sin(o.angle)
    u = c * dx + s * dy
    v = -s * dx + c * dy
    return (slice(y0, y1), slice(x0, x1)), u, v


def radial(o: Obj, phi):
    r = np.ones_like(phi) if isinstance(phi, np.ndarray) else 1.0
    for k, a, p in o.harmonics:
        r = r + a * np.cos(k * phi + p)
    return r


def shade(height: np.ndarray, strength: float) -> np.ndarray:
    gy, gx = np.gradient(height * strength)
    n = np.stack([-gx, -gy, np.ones_like(gx)], axis=-1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    lam = np.clip(n @ LIGHT, 0, 1)
    half = (LIGHT + np.array([0, 0, 1.0])) / np.linalg.norm(LIGHT + np.array([0, 0, 1.0]))
    spec = np.clip(n @ half, 0, 1) ** 30
    return lam.astype(np.float32), spec.astype(np.float32)


def render_object(o: Obj, rng: np.random.Generator):
    """Returns (window slices, alpha, rgb, height) or None."""
    if o.cls == "leaf":
        extent = o.size * 1.35 + 3
    else:
        extent = o.size * 1.5 + 3
    lc = local_coords(o, extent)
    if lc is None:
        return None
    win, u, v = lc
    hh, ww = u.shape
    orng = np.random.default_rng(o.seed)
    tex = fbm(hh, ww, orng, base=max(2, ww / 12), octaves=3) if min(hh, ww) > 2 else np.zeros_like(u)
    if o.cls in ("cell", "stone", "seed"):
        a, b = o.size, o.size * o.aspect
        uu, vv = u / a, v / b
        phi = np.arctan2(vv, uu)
        rho = np.sqrt(uu ** 2 + vv ** 2) / radial(o, phi)
        scale = math.sqrt(a * b)
        alpha = np.clip((1 - rho) * scale + 0.5, 0, 1)
        height = np.sqrt(np.clip(1 - rho ** 2, 0, 1))
        # analytic outline for COCO polygons (pixel-centre convention: +0.5)
        ph = np.linspace(-np.pi, np.pi, 40, endpoint=False)
        rr = radial(o, ph)
        pu, pv = a * rr * np.cos(ph), b * rr * np.sin(ph)
        c, s = math.cos(o.angle), math.sin(o.angle)
        px = o.cx + c * pu - s * pv + 0.5
        py = o.cy + s * pu + c * pv + 0.5
        o.polygon = [round(float(t), 2) for pair in zip(px, py) for t in pair]
    else:  # leaf: pointed ellipse with a stem
        L, Wd = o.size, o.size * o.aspect
        t = np.clip(u / L, -1, 1)
        half = Wd * np.power(np.clip(1 - t ** 2, 0, 1), 0.75) * (1 + 0.18 * t)
        half = half * (1 + 0.04 * value_noise(hh, ww, 3, orng))
        inside_len = np.abs(u) <= L
        rho = np.where(inside_len, np.abs(v) / np.maximum(half, 1e-3), 9.0)
        alpha = np.clip((1 - rho) * np.maximum(half, 0.6) + 0.5, 0, 1)
        alpha = alpha * np.clip(L - np.abs(u) + 0.5, 0, 1)
        stem = np.clip(1.3 - np.abs(v), 0, 1) * ((u > L * 0.9) & (u < L * 1.25))
        alpha = np.maximum(alpha, stem)
        height = np.sqrt(np.clip(1 - rho ** 2, 0, 1)) * 0.5
        o.polygon = None

    # colour
    if o.cls == "cell":
        hue = orng.uniform(-0.06, 0.06)
        cyto = np.array([0.80 + hue, 0.62, 0.82 - hue])
        nuc_c = np.array([0.38, 0.22, 0.52])
        ring = np.clip((rho - 0.78) / 0.2, 0, 1)
        nu, nv = u - o.size * 0.2 * orng.uniform(-1, 1), v - o.size * 0.2 * orng.uniform(-1, 1)
        nr = o.size * orng.uniform(0.3, 0.45)
        nuc = np.clip((1 - np.sqrt(nu ** 2 + (nv * 1.2) ** 2) / nr) * nr * 0.7 + 0.5, 0, 1)
        rgb = cyto[None, None, :] * (1 + 0.10 * tex[..., None])
        rgb = rgb * (1 - 0.35 * ring[..., None]) + ring[..., None] * 0.0
        rgb = rgb * (1 - nuc[..., None]) + nuc[..., None] * nuc_c * (1 + 0.25 * tex[..., None])
        lam, spec = shade(height, o.size * 0.3)
        rgb = rgb * (0.85 + 0.2 * lam[..., None])
        alpha = alpha * 0.9  # translucent membrane
        opacity = 0.9
    elif o.cls == "leaf":
        g = orng.uniform(0, 1)
        base = np.array([0.20 + 0.45 * g ** 2, 0.50 - 0.12 * g, 0.12])
        vein_main = np.clip(1.0 - np.abs(v) / 1.2, 0, 1) * (np.abs(u) < o.size)
        period = o.size / 4.5
        side = np.abs(((u - np.abs(v) * 1.1) / period) % 1.0 - 0.5)
        vein_side = np.clip(1 - side * period / 1.0, 0, 1) * (np.abs(v) > 2)
        rgb = base[None, None, :] * (1 + 0.18 * tex[..., None])
        veins = np.clip(vein_main + 0.5 * vein_side, 0, 1)
        rgb = rgb * (1 - 0.5 * veins[..., None]) + 0.5 * veins[..., None] * (base * 1.5)
        # blemishes
        spots = np.clip(fbm(hh, ww, orng, base=max(2, ww / 6), octaves=2) * 3 - 1.6, 0, 1)
        rgb = rgb * (1 - 0.6 * spots[..., None]) + 0.6 * spots[..., None] * np.array([0.35, 0.25, 0.1])
        lam, spec = shade(height, o.size * 0.25)
        rgb = rgb * (0.55 + 0.6 * lam[..., None]) + 0.15 * spec[..., None]
        opacity = 1.0
    elif o.cls == "stone":
        tone = orng.uniform(0.35, 0.7)
        warm = orng.uniform(-0.05, 0.08)
        base = np.array([tone + warm, tone, tone - warm])
        speck = orng.normal(0, 1, u.shape).astype(np.float32)
        rgb = base[None, None, :] * (1 + 0.22 * tex[..., None] + 0.06 * speck[..., None])
        lam, spec = shade(height, o.size * 0.9)
        rgb = rgb * (0.35 + 0.85 * lam[..., None]) + 0.25 * spec[..., None]
        opacity = 1.0
    else:  # seed
        base = np.array([0.55, 0.36, 0.18]) * orng.uniform(0.8, 1.2)
        rgb = base[None, None, :] * (1 + 0.12 * tex[..., None])
        stripe = np.clip(1 - np.abs(v) / 0.8, 0, 1) * 0.3
        rgb = rgb * (1 - stripe[..., None])
        lam, spec = shade(height, o.size * 1.2)
        rgb = rgb * (0.45 + 0.75 * lam[..., None]) + 0.35 * spec[..., None]
        opacity = 1.0
    return win, alpha.astype(np.float32), np.clip(rgb, 0, 1).astype(np.float32), opacity


# --------------------------------------------------------------------------
# scenes
# --------------------------------------------------------------------------

def harmonics(rng: np.random.Generator, rough: float) -> list:
    return [(k, float(rng.uniform(0, rough / k ** 0.8)), float(rng.uniform(0, 2 * np.pi))) for k in range(2, 7)]


def scene_objects(name: str, rng: np.random.Generator) -> list[Obj]:
    objs: list[Obj] = []
    sid = [1000]

    def add(cls, cx, cy, size, **kw):
        sid[0] += 1
        rough = {"cell": 0.06, "stone": 0.14, "seed": 0.03, "leaf": 0.0}[cls]
        o = Obj(cls, float(cx), float(cy), float(size), angle=float(kw.pop("angle", rng.uniform(0, np.pi))),
                seed=sid[0] + 7919 * len(name), harmonics=harmonics(rng, rough), **kw)
        objs.append(o)
        return o

    if name == "cells-01":
        add("cell", 150, 170, 62, aspect=0.85)                    # main, large
        add("cell", 235, 215, 40, aspect=0.9)                     # occludes main
        add("cell", 330, 120, 34, aspect=0.8)
        add("cell", 90, 290, 28, aspect=0.95)
        add("cell", 430, 300, 30, aspect=0.9)
        for cx, cy in [(60, 60), (255, 40), (300, 320), (455, 190)]:
            add("cell", cx, cy, rng.uniform(8, 12), aspect=rng.uniform(0.75, 1))   # small
        # a crowd: tightly packed tiny cells annotated as one iscrowd region
        for _ in range(16):
            r, a = rng.uniform(0, 30), rng.uniform(0, 2 * np.pi)
            add("cell", 400 + r * np.cos(a), 70 + r * np.sin(a) * 0.8, rng.uniform(5, 8),
                aspect=rng.uniform(0.7, 1), crowd=1)
        add("seed", 200, 330, 9, aspect=0.45)
    elif name == "cells-02":
        add("cell", 390, 250, 95, aspect=0.8)                     # large, clipped by the border
        add("cell", 140, 120, 45, aspect=0.9)
        add("cell", 185, 160, 38, aspect=0.85)                    # overlaps previous
        add("cell", 250, 80, 30, aspect=0.95)
        add("cell", 90, 260, 36, aspect=0.8)
        add("cell", 300, 190, 26, aspect=0.9)                     # overlaps the large one
        for cx, cy in [(40, 40), (210, 300), (30, 180), (460, 40), (330, 30)]:
            add("cell", cx, cy, rng.uniform(7, 13), aspect=rng.uniform(0.75, 1))
    elif name == "forest-01":
        add("leaf", 190, 160, 135, aspect=0.38, angle=0.35)          # main
        add("leaf", 330, 230, 95, aspect=0.42, angle=-0.9)
        add("stone", 90, 290, 40, aspect=0.8)
        add("leaf", 120, 70, 70, aspect=0.35, angle=2.6)
        add("stone", 400, 80, 30, aspect=0.75)
        for cx, cy in [(270, 320), (440, 330), (60, 180), (300, 60)]:
            add("seed", cx, cy, rng.uniform(7, 12), aspect=rng.uniform(0.4, 0.6))
    elif name == "forest-02":
        add("leaf", 260, 190, 125, aspect=0.45, angle=-0.5)          # main
        add("leaf", 120, 140, 80, aspect=0.33, angle=1.2)
        add("stone", 210, 250, 36, aspect=0.8)                       # on top of the main leaf
        add("stone", 410, 300, 52, aspect=0.7)
        add("leaf", 420, 90, 60, aspect=0.4, angle=0.2)
        for cx, cy in [(60, 320), (330, 40), (170, 330), (40, 40), (460, 200)]:
            add("seed", cx, cy, rng.uniform(6, 11), aspect=rng.uniform(0.4, 0.6))
    elif name == "riverbed-01":
        add("stone", 220, 180, 110, aspect=0.72)                     # main
        add("stone", 400, 110, 55, aspect=0.8)
        add("stone", 80, 90, 48, aspect=0.7)
        add("stone", 380, 290, 62, aspect=0.65)
        add("leaf", 320, 250, 60, aspect=0.38, angle=2.2)            # drifted leaf over stones
        for cx, cy in [(60, 300), (150, 330), (470, 20), (20, 200), (290, 40)]:
            add("stone", cx, cy, rng.uniform(8, 14), aspect=rng.uniform(0.6, 0.95))
        add("seed", 120, 250, 10, aspect=0.5)
    elif name == "mixed-01":
        add("stone", 330, 200, 85, aspect=0.75)
        add("leaf", 170, 180, 140, aspect=0.36, angle=-0.2)          # main
        add("cell", 420, 70, 35, aspect=0.9)
        add("cell", 70, 60, 25, aspect=0.85)
        add("stone", 95, 300, 34, aspect=0.7)
        for cx, cy in [(250, 330), (450, 330), (30, 200), (260, 30)]:
            add(str(rng.choice(["seed", "stone", "cell"])), cx, cy, rng.uniform(7, 12), aspect=rng.uniform(0.5, 0.9))
    else:
        raise ValueError(name)
    return objs


SCENES = [
    ("cells-01", "agar", "png"),
    ("cells-02", "agar", "png"),
    ("forest-01", "soil", "png"),
    ("forest-02", "soil", "jpg"),
    ("riverbed-01", "sand", "png"),
    ("mixed-01", "moss", "jpg"),
]


def render_scene(name: str, theme: str, seed: int):
    rng = np.random.default_rng(seed)
    img = background(theme, rng)
    objs = scene_objects(name, rng)
    idmap = np.zeros((H, W), np.int32)
    for i, o in enumerate(objs, start=1):
        r = render_object(o, rng)
        if r is None:
            continue
        win, alpha, rgb, opacity = r
        # soft drop shadow
        full_alpha = np.zeros((H, W), np.float32)
        full_alpha[win] = alpha
        sh = blur(shift(full_alpha, 4, 5), 3.5) * (0.35 if theme != "agar" else 0.12)
        img *= (1 - sh[..., None])
        a = alpha[..., None] * opacity
        img[win] = img[win] * (1 - a) + rgb * a
        vis = alpha >= 0.5
        idmap[win][vis] = i
        o.full_mask = np.zeros((H, W), bool)
        o.full_mask[win] = vis
    # camera: slight blur + sensor noise, then quantise
    u8 = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    pim = Image.fromarray(u8, "RGB").filter(ImageFilter.GaussianBlur(0.7))
    arr = np.asarray(pim).astype(np.float32)
    noise = rng.normal(0, 2.2, arr.shape).astype(np.float32)
    noise += rng.normal(0, 1.5, (H, W, 1)).astype(np.float32)  # luminance noise
    pim = Image.fromarray(np.clip(arr + noise + 0.5, 0, 255).astype(np.uint8), "RGB")
    return pim, objs, idmap


# --------------------------------------------------------------------------
# COCO helpers
# --------------------------------------------------------------------------

def rle_encode(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO 'uncompressed' RLE (counts list, column-major, starts with zeros)."""
    flat = mask.astype(np.uint8).flatten(order="F")
    counts, cur, run = [], 0, 0
    for v in flat:
        if v == cur:
            run += 1
        else:
            counts.append(run)
            cur, run = v, 1
    counts.append(run)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


def rle_of(segm, h, w):
    if isinstance(segm, list):
        return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
    if isinstance(segm["counts"], list):
        return mask_utils.frPyObjects(segm, h, w)
    return segm


# --------------------------------------------------------------------------
# predictions
# --------------------------------------------------------------------------

def perturb(mask: np.ndarray, rng: np.random.Generator, grow: int, dx: int, dy: int, wobble: float) -> np.ndarray:
    m = shift(morph(mask, grow), dx, dy)
    if wobble > 0:
        f = blur(m.astype(np.float32), 1.5) + wobble * value_noise(H, W, 24, rng)
        m = f > 0.5
    return m


def iou(a: np.ndarray, b: np.ndarray) -> float:
    u = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / u) if u else 0.0


MODELS = {
    # model-a: coarse masks, misses most small objects
    "model-a": dict(small_miss=0.75, miss=0.05, grow=(-3, 3), shift=3, wobble=0.35, small_grow=(2, 4),
                    score=(0.45, 0.45, 0.10), seed=11),
    # model-b: tighter masks, finds small objects
    "model-b": dict(small_miss=0.10, miss=0.0, grow=(-1, 1), shift=1, wobble=0.12, small_grow=(0, 1),
                    score=(0.55, 0.42, 0.05), seed=22),
}
# scripted errors: (model, image, kind, details)
SPECIAL = {
    "model-a": [("forest-01", "misclass", {"from": "leaf", "to": "stone", "nth": 1}),
                ("riverbed-01", "misclass", {"from": "stone", "to": "seed", "nth": 5}),
                ("cells-02", "false_positive", {"cls": "cell", "cx": 250, "cy": 300, "r": 22, "score": 0.71}),
                ("forest-02", "false_positive", {"cls": "stone", "cx": 60, "cy": 200, "r": 28, "score": 0.64}),
                ("mixed-01", "duplicate", {"nth": 0, "score": 0.58})],
    "model-b": [("mixed-01", "misclass", {"from": "stone", "to": "cell", "nth": 0}),
                ("riverbed-01", "false_positive", {"cls": "stone", "cx": 300, "cy": 330, "r": 12, "score": 0.32}),
                ("cells-01", "crowd_hits", {"n": 3})],
}


def make_predictions(model: str, scenes: list, img_ids: dict) -> tuple[list, dict]:
    cfg = MODELS[model]
    rng = np.random.default_rng(cfg["seed"])
    results, semantic = [], {}
    for sc in scenes:
        name, objs, inst = sc["name"], sc["objs"], sc["instances"]
        special = [s for s in SPECIAL[model] if s[0] == name]
        preds = []  # (mask, cls, score)
        done: list[str] = []  # scripted errors that were applied
        per_cls_count: dict[str, int] = {}
        for k, (o, vis) in enumerate(inst):
            n_cls = per_cls_count.get(o.cls, 0)
            per_cls_count[o.cls] = n_cls + 1
            area = int(vis.sum())
            small = area < 32 * 32
            targeted = any(kind == "misclass" and d["from"] == o.cls and d["nth"] == n_cls
                           for _, kind, d in special)
            missed = rng.random() < (cfg["small_miss"] if small else cfg["miss"])
            if missed and not targeted:
                continue
            g = cfg["small_grow"] if small else cfg["grow"]
            m = perturb(vis, rng, int(rng.integers(g[0], g[1] + 1)),
                        int(rng.integers(-cfg["shift"], cfg["shift"] + 1)),
                        int(rng.integers(-cfg["shift"], cfg["shift"] + 1)),
                        cfg["wobble"] * (0.5 if small else 1.0))
            if m.sum() < 4:
                continue
            q = iou(m, vis)
            s0, s1, sn = cfg["score"]
            score = float(np.clip(s0 + s1 * q + rng.normal(0, sn), 0.05, 0.99))
            cls = o.cls
            for _, kind, d in special:
                if kind == "misclass" and d["from"] == o.cls and d["nth"] == n_cls:
                    cls = d["to"]
                    done.append(kind)
                    score = float(np.clip(score, 0.55, 0.62))  # confident enough to show in the label map
            preds.append((m, cls, score))
            for _, kind, d in special:
                if kind == "duplicate" and k == d["nth"]:
                    preds.append((perturb(vis, rng, -4, 3, -2, 0.3), cls, d["score"]))
                    done.append(kind)
        for _, kind, d in special:
            if kind == "false_positive":
                fp = Obj(d["cls"], d["cx"], d["cy"], d["r"], aspect=0.8, harmonics=harmonics(rng, 0.1))
                y, x = np.mgrid[0:H, 0:W]
                phi = np.arctan2((y - fp.cy) / (fp.size * fp.aspect), (x - fp.cx) / fp.size)
                rho = np.hypot((x - fp.cx) / fp.size, (y - fp.cy) / (fp.size * fp.aspect)) / radial(fp, phi)
                preds.append((rho < 1, d["cls"], d["score"]))
                done.append(kind)
            if kind == "crowd_hits":
                members = [o for o in sc["objs"] if o.crowd and o.full_mask is not None and o.full_mask.any()]
                for o in members[:d["n"]]:
                    vis = o.full_mask & (sc["idmap"] == sc["objs"].index(o) + 1)
                    if vis.sum() > 4:
                        preds.append((vis, "cell", float(np.clip(0.4 + rng.normal(0, 0.05), 0, 1))))
                done.append(kind)
        assert sorted(done) == sorted(k for _, k, _ in special), (model, name, done, special)
        lab = np.zeros((H, W), np.uint8)
        for m, cls, score in sorted(preds, key=lambda p: p[2]):
            if score >= 0.5:
                lab[m] = CLASS_ID[cls]
        semantic[name] = lab
        for m, cls, score in preds:
            rle = rle_encode(m)
            results.append({"image_id": img_ids[name], "category_id": CLASS_ID[cls],
                            "segmentation": rle,
                            "bbox": [round(float(t), 2) for t in mask_utils.toBbox(rle_of(rle, H, W))],
                            "score": round(score, 4)})
    return results, semantic


# --------------------------------------------------------------------------
# evaluation (reference values for segterm's own evaluator)
# --------------------------------------------------------------------------

STAT_NAMES = ["AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
              "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"]


def coco_eval(gt_path: Path, res: list, iou_type: str) -> dict:
    import contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(json.loads(json.dumps(res)))
        ev = COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: round(float(v), 6) for k, v in zip(STAT_NAMES, ev.stats)}


def semantic_eval(gts: dict, preds: dict) -> dict:
    k = len(CLASSES)
    conf = np.zeros((k, k), np.int64)
    for name, g in gts.items():
        p = preds[name]
        valid = g != IGNORE
        conf += np.bincount(g[valid].astype(np.int64) * k + p[valid], minlength=k * k).reshape(k, k)
    tp = np.diag(conf)
    denom = conf.sum(0) + conf.sum(1) - tp
    ious = [round(float(t / d), 6) if d else None for t, d in zip(tp, denom)]
    valid_ious = [v for v in ious if v is not None]
    return {"confusion_rows_gt_cols_pred": conf.tolist(),
            "iou_per_class": dict(zip(CLASSES, ious)),
            "mIoU": round(float(np.mean(valid_ious)), 6),
            "mIoU_no_background": round(float(np.mean([v for v in ious[1:] if v is not None])), 6),
            "pixel_accuracy": round(float(tp.sum() / conf.sum()), 6)}


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    for d in ["images", "masks", "labels", "predictions/model-a", "predictions/model-b"]:
        (OUT / d).mkdir(parents=True, exist_ok=True)
    (OUT / "classes.txt").write_text("\n".join(CLASSES) + "\n")

    coco = {"info": {"description": "segterm sample data (synthetic, generated by scripts/make_sample_data.py)",
                     "version": "1.0", "year": 2025, "contributor": "segterm", "date_created": "2025-01-01"},
            "licenses": [{"id": 1, "name": "CC0-1.0",
                          "url": "https://creativecommons.org/publicdomain/zero/1.0/"}],
            "images": [], "annotations": [],
            "categories": [{"id": i, "name": n, "supercategory": "object"} for i, n in enumerate(CLASSES) if i]}
    scenes, img_ids, gts = [], {}, {}
    ann_id = 1
    summary = []
    for n, (name, theme, ext) in enumerate(SCENES, start=1):
        pim, objs, idmap = render_scene(name, theme, seed=1234 + 97 * n)
        fname = f"images/{name}.{ext}"
        if ext == "jpg":
            pim.save(OUT / fname, "JPEG", quality=92)
        else:
            # JPEG-like compression noise, then store losslessly
            buf = io.BytesIO()
            pim.save(buf, "JPEG", quality=90)
            Image.open(io.BytesIO(buf.getvalue())).convert("RGB").save(OUT / fname, optimize=True)
        img_ids[name] = n
        coco["images"].append({"id": n, "file_name": fname, "width": W, "height": H, "license": 1})

        # visible instances
        inst = []
        labels = np.zeros((H, W), np.uint8)
        crowd = np.zeros((H, W), bool)
        for i, o in enumerate(objs, start=1):
            vis = idmap == i
            if vis.sum() < 6:
                continue
            labels[vis] = CLASS_ID[o.cls]
            if o.crowd:
                crowd |= vis
            else:
                inst.append((o, vis))
        # ignore band (1-2 px) on occlusion boundaries and on some outlines
        brng = np.random.default_rng(5000 + n)
        band = np.zeros((H, W), bool)
        for o, vis in inst:
            occluded = bool((o.full_mask & ~vis).any())
            if occluded or brng.random() < 0.35:
                width = int(brng.integers(1, 3))
                edge = vis & ~morph(vis, -1) if width == 1 else morph(vis, 1) & ~morph(vis, -1)
                if not occluded:
                    band |= edge
                else:
                    # only where this object meets the one in front of it
                    hidden = morph(o.full_mask & ~vis, 2)
                    band |= edge & hidden
        labels[band] = IGNORE
        gts[name] = labels
        palette_png(labels, OUT / "labels" / f"{name}.png")

        # main mask = largest visible non-crowd instance
        main_o, main_vis = max(inst, key=lambda t: t[1].sum())
        Image.fromarray(main_vis.astype(np.uint8) * 255, "L").save(OUT / "masks" / f"{name}.png", optimize=True)

        # COCO annotations
        n_poly = n_rle = 0
        for o, vis in inst:
            fully_visible = (o.full_mask == vis).all()
            touches_border = vis[0].any() or vis[-1].any() or vis[:, 0].any() or vis[:, -1].any()
            if o.polygon is not None and fully_visible and not touches_border:
                segm = [o.polygon]
                n_poly += 1
                # the analytic outline must match the rendered mask
                pm = mask_utils.decode(rle_of(segm, H, W)).astype(bool)
                assert iou(pm, vis) > 0.8, (name, o.cls, iou(pm, vis))
            else:
                segm = rle_encode(vis)
                n_rle += 1
            rle = rle_of(segm, H, W)
            coco["annotations"].append({
                "id": ann_id, "image_id": n, "category_id": CLASS_ID[o.cls], "segmentation": segm,
                "area": int(mask_utils.area(rle)),
                "bbox": [round(float(t), 2) for t in mask_utils.toBbox(rle)], "iscrowd": 0})
            ann_id += 1
        if crowd.any():
            segm = uncompressed_rle(crowd)
            rle = rle_of(segm, H, W)
            assert (mask_utils.decode(rle).astype(bool) == crowd).all()
            coco["annotations"].append({
                "id": ann_id, "image_id": n, "category_id": CLASS_ID["cell"], "segmentation": segm,
                "area": int(mask_utils.area(rle)),
                "bbox": [round(float(t), 2) for t in mask_utils.toBbox(rle)], "iscrowd": 1})
            ann_id += 1
        small = sum(1 for _, v in inst if v.sum() < 32 * 32)
        summary.append({"name": name, "file": fname, "theme": theme, "instances": len(inst),
                        "small_instances": small, "crowd": bool(crowd.any()),
                        "main_object": main_o.cls, "main_area": int(main_vis.sum()),
                        "polygons": n_poly, "rles": n_rle})
        scenes.append({"name": name, "objs": objs, "instances": inst, "idmap": idmap})

    gt_path = OUT / "instances.json"
    gt_path.write_text(json.dumps(coco, separators=(",", ":")) + "\n")

    metrics = {"generator": "scripts/make_sample_data.py",
               "pycocotools": importlib.metadata.version("pycocotools"),
               "semantic_note": "confusion over all 6 label maps, pixels labelled 255 ignored;"
                                " predictions contain no 255",
               "models": {}}
    for model in MODELS:
        res, sem = make_predictions(model, scenes, img_ids)
        (OUT / "predictions" / f"{model}.json").write_text(json.dumps(res, separators=(",", ":")) + "\n")
        for name, lab in sem.items():
            palette_png(lab, OUT / "predictions" / model / f"{name}.png")
        metrics["models"][model] = {"detections": len(res),
                                    "coco_segm": coco_eval(gt_path, res, "segm"),
                                    "coco_bbox": coco_eval(gt_path, res, "bbox"),
                                    "semantic": semantic_eval(gts, sem)}
    (OUT / "reference-metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")

    a, b = metrics["models"]["model-a"], metrics["models"]["model-b"]
    assert b["coco_segm"]["AP_small"] > a["coco_segm"]["AP_small"] + 0.1, (a["coco_segm"], b["coco_segm"])
    assert b["coco_segm"]["AP"] > a["coco_segm"]["AP"]
    write_readme(summary, metrics)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")
    for s in summary:
        print("  ", s)
    for m, v in metrics["models"].items():
        print(f"  {m}: segm {v['coco_segm']}\n     semantic mIoU {v['semantic']['mIoU']}")
    return 0


def write_readme(summary: list, metrics: dict) -> None:
    rows = "\n".join(f"| `{s['file']}` | {s['theme']} | {s['instances']} | {s['small_instances']} |"
                     f" {'yes' if s['crowd'] else 'no'} | {s['main_object']} ({s['main_area']} px) |"
                     for s in summary)
    ma, mb = metrics["models"]["model-a"], metrics["models"]["model-b"]

    def mrow(key):
        return f"| {key} | {ma['coco_segm'][key]:.3f} | {mb['coco_segm'][key]:.3f} |"
    classes = "\n".join(f"| {i} | {n} | {LABEL_COLOURS[i]} |" for i, n in enumerate(CLASSES))
    text = f"""# segterm sample data

Six small synthetic segmentation scenes (480x360) with ground truth and two
imperfect "model" outputs, for demos (`segterm view`, evaluation, the TUI)
and end-to-end tests.

**Every file in this folder is generated by `scripts/make_sample_data.py`**
(fixed seeds, deterministic). Nothing here comes from a third-party data set.
Licence: **CC0-1.0** (public domain dedication,
https://creativecommons.org/publicdomain/zero/1.0/).

## Regenerate

```sh
python3 -m venv /tmp/venv-fix
/tmp/venv-fix/bin/pip install pillow numpy pycocotools
/tmp/venv-fix/bin/python scripts/make_sample_data.py
```

The script deletes and rewrites `sample-data/`. Output is byte-identical for
the same Pillow / numpy / pycocotools versions (made with Pillow
{PIL.__version__}, numpy {np.__version__}, pycocotools
{metrics['pycocotools']}).

## Files

| path | what |
| --- | --- |
| `images/NAME.png`, `images/NAME.jpg` | RGB scenes; 4 PNG (with JPEG-like compression noise baked in), 2 JPEG at quality 92 |
| `masks/NAME.png` | 8-bit gray binary mask (0/255) of the largest visible object: `segterm view images/NAME.png --mask masks/NAME.png` |
| `labels/NAME.png` | semantic label map, 8-bit palette PNG: 0 = background, 1..{len(CLASSES) - 1} = class id, 255 = ignore (1-2 px band on occlusion boundaries and some outlines) |
| `classes.txt` | class names, one per line; line index (from 0) = class id, line 0 = background |
| `instances.json` | COCO instances ground truth: `images`, `categories`, `annotations` (polygons for fully visible round objects, compressed RLE for occluded / clipped objects and leaves, one `iscrowd: 1` region with uncompressed RLE in `cells-01`) |
| `predictions/model-a.json`, `predictions/model-b.json` | COCO results (`image_id`, `category_id`, `segmentation` as compressed RLE, `bbox`, `score`) |
| `predictions/model-a/NAME.png`, `predictions/model-b/NAME.png` | semantic predictions (same palette as `labels/`, no 255): detections with score >= 0.5 painted in ascending score order |
| `reference-metrics.json` | pycocotools `COCOeval` stats (segm and bbox) and semantic confusion matrix / IoU / mIoU for both models: golden values for segterm's evaluator |
| `segterm.toml` | the workspace description `segterm open sample-data` reads (images, ground truth, classes, prediction sets, output folder, model) |

Image ids in `instances.json` follow the scene order below (1..6). All masks
are visible (modal) masks: an object partly hidden by another only covers its
visible pixels. COCO polygon coordinates use the COCO convention (pixel (x, y)
covers [x, x+1) x [y, y+1)).

## Scenes

| image | background | instances | small (< 32x32 px area) | crowd region | main object (mask) |
| --- | --- | --- | --- | --- | --- |
{rows}

## Classes

| id | name | label colour |
| --- | --- | --- |
{classes}
| 255 | ignore | (255, 255, 255) |

## The two models

Both are simulated from the ground truth with seeded perturbations.

* **model-a**: coarse masks (eroded/dilated by up to 3 px, shifted up to 3 px,
  wobbly outlines), misses most small objects and over-grows the ones it finds,
  confuses a leaf for a stone (forest-01) and a stone for a seed (riverbed-01),
  two false positives (cells-02, forest-02), a duplicate detection (mixed-01).
* **model-b**: tighter masks (+-1 px), finds most small objects, one stone
  predicted as cell (mixed-01), one low-score false positive (riverbed-01),
  three detections inside the crowd region of cells-01 (ignored by COCOeval).

COCO segm AP (pycocotools):

| metric | model-a | model-b |
| --- | --- | --- |
{mrow('AP')}
{mrow('AP50')}
{mrow('AP75')}
{mrow('AP_small')}
{mrow('AP_medium')}
{mrow('AP_large')}

Semantic mIoU (with background): model-a {ma['semantic']['mIoU']:.3f}, model-b {mb['semantic']['mIoU']:.3f}.
"""
    (OUT / "README.md").write_text(text)
    (OUT / "segterm.toml").write_text(SEGTERM_TOML)


SEGTERM_TOML = """\
# segterm workspace: `segterm open sample-data` reads this file. Paths are relative to it.
images = "images"
ground_truth = "instances.json"
classes = "classes.txt"
output = "segterm-out"
model = "grabcut"

[predictions]
model-a = "predictions/model-a.json"
model-b = "predictions/model-b.json"
"""


if __name__ == "__main__":
    sys.exit(main())
