#!/usr/bin/env python3
"""Generate image-decoder fixtures with golden pixel values from Pillow.

Writes small PNG / JPEG / BMP files into Tests/SegCoreTests/Fixtures/images/
and, for each fixture NAME.EXT, a NAME.expected.json holding the pixel values
that Pillow (an independent decoder) produces, so the Swift decoders (libpng,
TurboJPEG, the hand-written BMP reader) can be checked against them.

Usage (from the repository root):

    python3 -m venv /tmp/venv-fix
    /tmp/venv-fix/bin/pip install pillow numpy          # pypng optional
    /tmp/venv-fix/bin/python scripts/make_image_fixtures.py

Everything is seeded and deterministic for a given Pillow / libjpeg-turbo
build; the versions used are recorded in every JSON file and in INDEX.json.

JSON schema of NAME.expected.json:
    file          fixture file name (same folder)
    kind          "png" | "jpeg" | "bmp"
    width, height size of the *expected* image (after EXIF transpose for JPEG)
    mode          PIL mode naming the layout of `values` ("L", "LA", "RGB",
                  "RGBA", "P" = palette indices, "I;16" = 16-bit gray)
    pil_mode_loaded  mode Pillow reported right after Image.open
    channels      samples per pixel in `values`
    sample_bytes  1 or 2; when 2 the samples are uint16, `endianness` "big"
    values        base64 of the raw samples, row-major, channels interleaved
    palette       (mode "P") list of [r, g, b], index = palette index
    transparency  (optional) list of alpha per palette index (PNG tRNS)
    values_rgba   (optional) base64 of Pillow's convert("RGBA"), 8-bit
    values_8bit   (optional, 16-bit PNGs) what Pillow itself decodes (8-bit)
    raw_samples   (optional, low-bit PNG/BMP) unscaled sample values, 1 byte each
    values_cmyk   (optional, CMYK JPEG) Pillow's decoded CMYK (Adobe inversion undone)
    tolerance     suggested max |difference| per sample for the Swift test
    crosscheck    (optional) comparison against another decoder
    notes         free text
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import io
import json
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, features
import PIL

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "SegCoreTests" / "Fixtures" / "images"

PIL_VERSION = PIL.__version__
TURBO_VERSION = features.version("libjpeg_turbo") or "unknown"
JPEG_VERSION = features.version("jpg") or "unknown"
VERSIONS = f"Pillow {PIL_VERSION}, libjpeg-turbo {TURBO_VERSION} (as bundled with Pillow)"

INDEX: list[dict] = []


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def b64(a: np.ndarray | bytes) -> str:
    if isinstance(a, np.ndarray):
        a = a.tobytes()
    return base64.b64encode(a).decode("ascii")


def pattern(h: int, w: int, c: int, seed: int, maxval: int = 255) -> np.ndarray:
    """Gradients + shapes + noise, shape (h, w, c), values 0..maxval (int64)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((h, w, c), dtype=np.float64)
    for ch in range(c):
        fx, fy = rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0)
        phase = rng.uniform(0, 2 * np.pi)
        base = 0.5 + 0.35 * np.sin(2 * np.pi * (fx * x / w + fy * y / h) + phase)
        base += 0.15 * (x / max(w - 1, 1)) * (1 if ch % 2 else -1)
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(2, max(3, min(h, w) / 2))
        disc = ((y - cy) ** 2 + (x - cx) ** 2) < r * r
        base = np.where(disc, 1.0 - base, base)
        base += rng.normal(0, 0.05, size=(h, w))
        out[..., ch] = base
    out = np.clip(out, 0, 1) * maxval
    return np.rint(out).astype(np.int64)


def index_pattern(h: int, w: int, ncolors: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    idx = (x // 3 + y // 2 + (x * y) // 7) % ncolors
    noise = rng.random((h, w)) < 0.15
    idx = np.where(noise, rng.integers(0, ncolors, (h, w)), idx)
    return idx.astype(np.uint8)


def make_palette(n: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    pal = rng.integers(0, 256, (n, 3))
    pal[0] = (0, 0, 0)
    if n > 1:
        pal[1] = (255, 255, 255)
    return pal.tolist()


def write_expected(name: str, file: str, kind: str, arr: np.ndarray, mode: str,
                   pil_mode_loaded: str, notes: str, tolerance: int = 0,
                   variant: str = "", **extra) -> None:
    if arr.ndim == 2:
        arr = arr[:, :, None]
    h, w, c = arr.shape
    doc: dict = {"file": file, "kind": kind, "variant": variant, "width": w, "height": h,
                 "mode": mode, "pil_mode_loaded": pil_mode_loaded, "channels": c}
    if arr.dtype.itemsize == 2:
        doc["sample_bytes"] = 2
        doc["endianness"] = "big"
        values = arr.astype(">u2")
    else:
        assert arr.dtype == np.uint8, arr.dtype
        doc["sample_bytes"] = 1
        values = arr
    doc["values"] = b64(np.ascontiguousarray(values))
    doc["tolerance"] = tolerance
    doc.update(extra)
    doc["notes"] = notes + f" Golden values from {VERSIONS}."
    (OUT / f"{name}.expected.json").write_text(json.dumps(doc, indent=1) + "\n")
    INDEX.append({"name": name, "file": file, "expected": f"{name}.expected.json",
                  "kind": kind, "variant": variant, "mode": mode, "width": w,
                  "height": h, "channels": c, "sample_bytes": doc["sample_bytes"],
                  "tolerance": tolerance})


def pil_palette(im: Image.Image) -> list[list[int]]:
    mode, data = im.palette.getdata()
    assert mode in ("RGB", "RGBA", "RGBX", "BGRX", "BGR"), mode
    step = len(mode)
    pal = []
    for i in range(0, len(data) - step + 1, step):
        px = data[i:i + step]
        if mode.startswith("BGR"):
            pal.append([px[2], px[1], px[0]])
        else:
            pal.append([px[0], px[1], px[2]])
    return pal


# --------------------------------------------------------------------------
# PNG writer (hand-written so every bit depth / colour type / Adam7 is covered)
# --------------------------------------------------------------------------

ADAM7 = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4),
         (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]  # (y0, x0, dy, dx)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _pack_row(row: np.ndarray, bits: int) -> np.ndarray:
    """row: (w, c) ints -> packed bytes (uint8 array)."""
    flat = row.reshape(-1)
    if bits == 16:
        return np.frombuffer(flat.astype(">u2").tobytes(), dtype=np.uint8)
    if bits == 8:
        return flat.astype(np.uint8)
    # sub-byte: most significant bits first, pad the last byte with zeros
    bitarr = ((flat[:, None] >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8).reshape(-1)
    return np.packbits(bitarr)


def _filter_rows(rows: list[np.ndarray], bpp: int, first_filter: int) -> bytes:
    out = bytearray()
    prev = np.zeros_like(rows[0], dtype=np.int32) if rows else None
    for i, r in enumerate(rows):
        x = r.astype(np.int32)
        # a = left, b = up, c = up-left (raw, unfiltered bytes; 0 outside the image)
        a = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]]) if len(x) > bpp else np.zeros_like(x)
        b = prev
        c = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]]) if len(x) > bpp else np.zeros_like(x)
        ftype = (first_filter + i) % 5
        if ftype == 0:
            f = x
        elif ftype == 1:
            f = x - a
        elif ftype == 2:
            f = x - b
        elif ftype == 3:
            f = x - (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
            pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
            f = x - pred
        out.append(ftype)
        out += (f & 0xFF).astype(np.uint8).tobytes()
        prev = x
    return bytes(out)


def png_bytes(samples: np.ndarray, bits: int, color_type: int, interlace: bool = False,
              palette: list[list[int]] | None = None, trns: bytes | None = None,
              first_filter: int = 0) -> bytes:
    """samples: (h, w, c) ints (c = samples per pixel for colour type)."""
    if samples.ndim == 2:
        samples = samples[:, :, None]
    h, w, c = samples.shape
    bpp = max(1, (bits * c) // 8)
    if interlace:
        raw = b""
        for (y0, x0, dy, dx) in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue  # empty pass: no filter bytes at all
            rows = [_pack_row(sub[j], bits) for j in range(sub.shape[0])]
            raw += _filter_rows(rows, bpp, first_filter)
    else:
        rows = [_pack_row(samples[j], bits) for j in range(h)]
        raw = _filter_rows(rows, bpp, first_filter)
    ihdr = struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    if palette is not None:
        data += _chunk(b"PLTE", bytes(v for rgb in palette for v in rgb))
    if trns is not None:
        data += _chunk(b"tRNS", trns)
    data += _chunk(b"IDAT", zlib.compress(raw, 9))
    data += _chunk(b"IEND", b"")
    return data


def pypng_read(path: Path):
    try:
        import png  # pypng, optional second opinion
    except ImportError:
        return None
    r = png.Reader(filename=str(path))
    w, h, rows, info = r.read()
    arr = np.array([np.asarray(row) for row in rows])
    return arr.reshape(h, w, -1), info


def png_fixture(name: str, samples: np.ndarray, bits: int, color_type: int, variant: str,
                interlace: bool = False, palette=None, trns=None, first_filter=0) -> None:
    file = f"{name}.png"
    path = OUT / file
    path.write_bytes(png_bytes(samples, bits, color_type, interlace, palette, trns, first_filter))
    if samples.ndim == 2:
        samples = samples[:, :, None]
    im = Image.open(path)
    loaded = im.mode
    im.load()
    extra: dict = {}
    notes = (f"PNG colour type {color_type}, bit depth {bits}"
             f"{', Adam7 interlaced' if interlace else ''}; rows use all five filter types in turn.")
    cross = pypng_read(path)
    if cross is not None:
        assert np.array_equal(cross[0], samples), f"{name}: pypng disagrees with source"
        extra["crosscheck"] = "pypng decode == source samples (exact)"

    if color_type == 3:
        vals = np.array(im, dtype=np.uint8)
        assert loaded == "P"
        assert np.array_equal(vals, samples[..., 0]), name
        pal = pil_palette(im)[:len(palette)]
        assert pal == palette, (name, pal[:4], palette[:4])
        extra["palette"] = palette
        extra["raw_bit_depth"] = bits
        notes += " Values are palette indices (not scaled, whatever the bit depth)."
        if trns is not None:
            t = im.info.get("transparency")
            assert isinstance(t, bytes) and t == trns, (name, t)
            extra["transparency"] = list(trns) + [255] * (len(palette) - len(trns))
            rgba = np.array(im.convert("RGBA"), dtype=np.uint8)
            extra["values_rgba"] = b64(rgba)
            notes += (" tRNS gives alpha for the first %d palette entries; the rest are opaque."
                      " values_rgba = Pillow convert('RGBA')." % len(trns))
        write_expected(name, file, "png", vals, "P", loaded, notes, variant=variant, **extra)
        return

    if bits == 16:
        # Pillow only keeps 16 bits for gray ("I;16"); for GA/RGB/RGBA it
        # keeps the high byte. Expected = source samples (checked against
        # Pillow's high byte and, if installed, pypng's full decode).
        if color_type == 0:
            vals = np.array(im)
            assert loaded == "I;16", loaded
            assert np.array_equal(vals.astype(np.int64), samples[..., 0]), name
            notes += " Pillow decodes this to mode I;16 (full 16 bits); values are big-endian uint16."
            write_expected(name, file, "png", vals.astype(np.uint16), "I;16", loaded, notes,
                           variant=variant, **extra)
            return
        p8 = np.array(im, dtype=np.uint8)
        hi = (samples >> 8).astype(np.uint8)
        if color_type == 4:
            # Pillow 'LA;16B' -> RGBA: gray replicated into R, G, B.
            assert loaded == "RGBA", loaded
            assert np.array_equal(p8[..., 0], hi[..., 0]) and np.array_equal(p8[..., 2], hi[..., 0])
            assert np.array_equal(p8[..., 3], hi[..., 1])
            mode = "LA"
            notes += (" Pillow opens 16-bit gray+alpha as mode RGBA (8-bit, gray copied to R,G,B);"
                      " values_8bit is that RGBA decode.")
        else:
            assert np.array_equal(p8, hi), name
            mode = "RGB" if color_type == 2 else "RGBA"
        notes += (" Pillow cannot keep 16 bits for this colour type: values are the source"
                  " 16-bit samples (big-endian uint16), verified equal to Pillow's 8-bit decode"
                  " in the high byte (values_8bit = Pillow's own decode, i.e. sample >> 8).")
        extra["values_8bit"] = b64(p8)
        write_expected(name, file, "png", samples.astype(np.uint16), mode, loaded, notes,
                       variant=variant, **extra)
        return

    if color_type == 0 and bits < 8:
        scaled = np.array(im.convert("L"), dtype=np.uint8)
        factor = 255 // ((1 << bits) - 1)
        assert np.array_equal(scaled.astype(np.int64), samples[..., 0] * factor), name
        extra["raw_samples"] = b64(samples[..., 0].astype(np.uint8))
        extra["raw_bit_depth"] = bits
        if bits == 1:
            notes += (" Pillow opens 1-bit gray as mode '1'; expected = convert('L') which gives 0/255.")
        else:
            notes += (f" Pillow opens {bits}-bit gray as mode 'L' scaled to 0..255 (sample * {factor},"
                      " same as libpng png_set_expand_gray_1_2_4_to_8).")
        notes += " raw_samples holds the unscaled samples."
        write_expected(name, file, "png", scaled, "L", loaded, notes, variant=variant, **extra)
        return

    vals = np.array(im, dtype=np.uint8)
    mode = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}[color_type]
    assert loaded == mode, (name, loaded)
    assert np.array_equal(vals.reshape(samples.shape).astype(np.int64), samples), name
    write_expected(name, file, "png", vals, mode, loaded, notes, variant=variant, **extra)


def make_pngs() -> None:
    # gray, low bit depths (odd widths so rows end mid-byte)
    for bits, (w, h), seed in [(1, (29, 11), 101), (2, (27, 13), 102), (4, (25, 15), 103)]:
        g = pattern(h, w, 1, seed, maxval=(1 << bits) - 1)
        png_fixture(f"png_gray{bits}", g, bits, 0, f"gray {bits}-bit")
    png_fixture("png_gray8", pattern(23, 31, 1, 104), 8, 0, "gray 8-bit")
    png_fixture("png_gray16", pattern(17, 21, 1, 105, 65535), 16, 0, "gray 16-bit", first_filter=2)
    png_fixture("png_graya8", pattern(19, 25, 2, 106), 8, 4, "gray+alpha 8-bit")
    png_fixture("png_graya16", pattern(15, 19, 2, 107, 65535), 16, 4, "gray+alpha 16-bit")
    png_fixture("png_rgb8", pattern(48, 64, 3, 108), 8, 2, "RGB 8-bit")
    png_fixture("png_rgb8_odd", pattern(7, 13, 3, 109), 8, 2, "RGB 8-bit 13x7", first_filter=3)
    png_fixture("png_rgb16", pattern(21, 27, 3, 110, 65535), 16, 2, "RGB 16-bit", first_filter=1)
    png_fixture("png_rgba8", pattern(29, 37, 4, 111), 8, 6, "RGBA 8-bit")
    png_fixture("png_rgba16", pattern(13, 17, 4, 112, 65535), 16, 6, "RGBA 16-bit", first_filter=4)
    for bits, (w, h), seed in [(1, (31, 9), 113), (2, (29, 13), 114), (4, (27, 17), 115), (8, (33, 21), 116)]:
        n = 1 << bits if bits < 8 else 200
        pal = make_palette(n, seed)
        idx = index_pattern(h, w, n, seed)
        png_fixture(f"png_pal{bits}", idx, bits, 3, f"palette {bits}-bit", palette=pal)
    png_fixture("png_rgb8_adam7", pattern(23, 37, 3, 117), 8, 2, "RGB 8-bit Adam7 interlaced",
                interlace=True)
    pal = make_palette(16, 118)
    png_fixture("png_pal4_adam7", index_pattern(7, 13, 16, 118), 4, 3,
                "palette 4-bit Adam7 interlaced (13x7, some passes tiny)", interlace=True, palette=pal)
    pal = make_palette(12, 119)
    trns = bytes([0, 64, 128, 200, 255, 17])  # shorter than the palette on purpose
    png_fixture("png_pal8_trns", index_pattern(19, 23, 12, 119), 8, 3,
                "palette 8-bit with tRNS", palette=pal, trns=trns)


# --------------------------------------------------------------------------
# JPEG (encoded by Pillow's libjpeg-turbo)
# --------------------------------------------------------------------------

class Turbo:
    """Optional cross-check with the system TurboJPEG (what the Swift side links)."""

    TJPF_RGB, TJPF_GRAY, TJPF_CMYK = 0, 6, 11

    def __init__(self) -> None:
        self.lib = None
        name = ctypes.util.find_library("turbojpeg")
        for cand in ([name] if name else []) + ["libturbojpeg.so.0"]:
            try:
                self.lib = ctypes.CDLL(cand)
                self.name = cand
                break
            except OSError:
                continue
        if self.lib is None:
            return
        L = self.lib
        L.tjInitDecompress.restype = ctypes.c_void_p
        L.tjDecompressHeader3.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong,
                                          ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
                                          ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
        L.tjDecompress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p,
                                    ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        L.tjGetErrorStr2.argtypes = [ctypes.c_void_p]
        L.tjGetErrorStr2.restype = ctypes.c_char_p
        L.tjDestroy.argtypes = [ctypes.c_void_p]
        self.handle = L.tjInitDecompress()

    def decode(self, data: bytes, pf: int):
        if self.lib is None:
            return None, "no libturbojpeg"
        w, h, ss, cs = (ctypes.c_int() for _ in range(4))
        if self.lib.tjDecompressHeader3(self.handle, data, len(data), ctypes.byref(w), ctypes.byref(h),
                                        ctypes.byref(ss), ctypes.byref(cs)) != 0:
            return None, self.lib.tjGetErrorStr2(self.handle).decode()
        ch = {self.TJPF_RGB: 3, self.TJPF_GRAY: 1, self.TJPF_CMYK: 4}[pf]
        buf = (ctypes.c_ubyte * (w.value * h.value * ch))()
        if self.lib.tjDecompress2(self.handle, data, len(data), buf, w.value, 0, h.value, pf, 0) != 0:
            return None, self.lib.tjGetErrorStr2(self.handle).decode()
        return np.frombuffer(bytes(buf), dtype=np.uint8).reshape(h.value, w.value, ch), ""


TURBO = Turbo()


def orient(arr: np.ndarray, o: int) -> np.ndarray:
    """Apply EXIF orientation o to stored pixels (same as ImageOps.exif_transpose)."""
    if o == 1:
        return arr
    if o == 2:
        return arr[:, ::-1]
    if o == 3:
        return arr[::-1, ::-1]
    if o == 4:
        return arr[::-1, :]
    if o == 5:
        return arr.transpose(1, 0, 2)
    if o == 6:
        return np.rot90(arr, k=-1)
    if o == 7:
        return arr[::-1, ::-1].transpose(1, 0, 2)  # transverse
    if o == 8:
        return np.rot90(arr, k=1)
    raise ValueError(o)


JPEG_TOL = 2


def jpeg_fixture(name: str, img: Image.Image, variant: str, notes: str, **save) -> None:
    file = f"{name}.jpg"
    path = OUT / file
    img.save(path, "JPEG", **save)
    data = path.read_bytes()
    im = Image.open(path)
    loaded = im.mode
    orientation = im.getexif().get(0x0112, 1)
    t = ImageOps.exif_transpose(im)
    extra: dict = {"exif_orientation": orientation}
    tol = JPEG_TOL
    if loaded == "L":
        vals = np.array(t, dtype=np.uint8)
        mode, pf = "L", Turbo.TJPF_GRAY
    elif loaded == "CMYK":
        vals = np.array(t.convert("RGB"), dtype=np.uint8)
        extra["values_cmyk"] = b64(np.array(t, dtype=np.uint8))
        mode, pf = "RGB", Turbo.TJPF_CMYK
        tol = -1
        notes += (" CMYK JPEG (Adobe APP14 marker, inverted CMYK as written by Photoshop/Pillow):"
                  " Pillow undoes the inversion on load (values_cmyk), then convert('RGB') uses"
                  " R = round((255-C)*(255-K)/255), likewise G from M and B from Y."
                  " TurboJPEG cannot convert CMYK to RGB (decode with TJPF_CMYK gives the stored,"
                  " still inverted, samples: 255 - values_cmyk). The Swift side may skip this"
                  " fixture or compare with a tolerance (tolerance -1 = 'skip or use your own').")
    else:
        vals = np.array(t.convert("RGB"), dtype=np.uint8)
        mode, pf = "RGB", Turbo.TJPF_RGB
    # cross-check with the system TurboJPEG, if present
    dec, err = TURBO.decode(data, pf)
    if dec is not None:
        if loaded == "CMYK":
            ref = 255 - np.array(im, dtype=np.uint8)  # stored samples
            dec_cmp, ref_cmp = dec.astype(int), ref.astype(int)
        else:
            dec_cmp = orient(dec, orientation).astype(int)
            ref_cmp = vals.reshape(dec_cmp.shape).astype(int) if dec_cmp.shape[:2] == vals.shape[:2] else None
        if ref_cmp is None:
            extra["crosscheck"] = {"decoder": "system libturbojpeg", "error": "size mismatch"}
        else:
            d = np.abs(dec_cmp - ref_cmp)
            extra["crosscheck"] = {
                "decoder": f"system TurboJPEG ({TURBO.name}, tjDecompress2 flags 0"
                           f"{', TJPF_CMYK vs 255-values_cmyk' if loaded == 'CMYK' else ''}"
                           f"{', then EXIF orientation applied' if orientation != 1 else ''})",
                "max_abs_diff": int(d.max()), "mean_abs_diff": round(float(d.mean()), 4)}
            if loaded != "CMYK":
                assert d.max() <= JPEG_TOL, (name, d.max())
    else:
        extra["crosscheck"] = {"decoder": "system libturbojpeg", "error": err}
    notes += (f" Expected = Image.open -> ImageOps.exif_transpose -> {'keep L' if mode == 'L' and loaded == 'L' else 'convert(RGB)'}."
              f" Decoders (IDCT/upsampling, libjpeg-turbo version) may differ by about +-1; suggested tolerance {tol}.")
    write_expected(name, file, "jpeg", vals, mode, loaded, notes, tolerance=tol, variant=variant, **extra)


def photo_like(h: int, w: int, seed: int) -> np.ndarray:
    """Smooth image with some edges and mild noise (JPEG-friendly but non-trivial)."""
    a = pattern(h, w, 3, seed).astype(np.float64)
    rng = np.random.default_rng(seed + 1000)
    y, x = np.mgrid[0:h, 0:w]
    a[(x // 8 + y // 8) % 2 == 0, 0] *= 0.7  # block edges in red
    a += rng.normal(0, 4, a.shape)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def orientation_source(h: int, w: int) -> np.ndarray:
    """Non-square image whose orientation is obvious: 4 coloured corners + gradient."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), dtype=np.float64)
    img[..., 0] = 255 * x / (w - 1)
    img[..., 1] = 255 * y / (h - 1)
    img[..., 2] = 96
    qh, qw = h // 3, w // 4
    img[:qh, :qw] = (255, 0, 0)          # top-left red
    img[:qh, -qw:] = (0, 255, 0)         # top-right green
    img[-qh:, :qw] = (0, 0, 255)         # bottom-left blue
    img[-qh:, -qw:] = (255, 255, 255)    # bottom-right white
    return np.rint(img).astype(np.uint8)


def make_jpegs() -> None:
    rgb = Image.fromarray(photo_like(48, 64, 201), "RGB")
    jpeg_fixture("jpeg_baseline_420", rgb, "baseline 4:2:0 q85", "Baseline, 4:2:0 chroma subsampling.",
                 quality=85, subsampling="4:2:0")
    jpeg_fixture("jpeg_baseline_444", rgb, "baseline 4:4:4 q85", "Baseline, no chroma subsampling.",
                 quality=85, subsampling="4:4:4")
    jpeg_fixture("jpeg_baseline_422", rgb, "baseline 4:2:2 q85", "Baseline, 4:2:2 (horizontal) subsampling.",
                 quality=85, subsampling="4:2:2")
    odd = Image.fromarray(photo_like(23, 37, 202), "RGB")
    jpeg_fixture("jpeg_420_odd", odd, "baseline 4:2:0 37x23", "Odd size with 4:2:0: partial MCUs at the right/bottom edge.",
                 quality=85, subsampling="4:2:0")
    jpeg_fixture("jpeg_progressive", rgb, "progressive 4:2:0 q85", "Progressive JPEG (SOF2).",
                 quality=85, subsampling="4:2:0", progressive=True)
    gray = Image.fromarray(pattern(30, 41, 1, 203)[..., 0].astype(np.uint8), "L")
    jpeg_fixture("jpeg_gray", gray, "grayscale 41x30", "Single-component (grayscale) JPEG; expected stays mode L.",
                 quality=85)
    jpeg_fixture("jpeg_restart", odd, "baseline 4:2:0 with restart markers",
                 "Restart interval of 3 MCUs (DRI + RSTn markers).", quality=85, subsampling="4:2:0",
                 restart_marker_blocks=3)
    jpeg_fixture("jpeg_q50", rgb, "quality 50", "Quality 50, 4:2:0.", quality=50, subsampling="4:2:0")
    jpeg_fixture("jpeg_q95", rgb, "quality 95", "Quality 95, 4:2:0.", quality=95, subsampling="4:2:0")
    src = Image.fromarray(orientation_source(20, 32), "RGB")
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        jpeg_fixture(f"jpeg_exif_orient{o}", src, f"EXIF orientation {o}",
                     f"Stored 32x20 (w x h); EXIF Orientation={o}. Stored image: red top-left, green top-right,"
                     f" blue bottom-left, white bottom-right; expected is after applying the orientation"
                     f"{' (width and height swap)' if o >= 5 else ''}.",
                     quality=90, subsampling="4:4:4", exif=exif)
    cm = pattern(24, 30, 4, 204).astype(np.uint8)
    jpeg_fixture("jpeg_cmyk", Image.fromarray(cm, "CMYK"), "CMYK (Adobe)", "", quality=90)


# --------------------------------------------------------------------------
# BMP (headers written by hand; Pillow decodes them for the expected values)
# --------------------------------------------------------------------------

BI_RGB, BI_BITFIELDS = 0, 3


def bmp_bytes(width: int, height: int, bits: int, rows: list[bytes], *, palette=None,
              header_size: int = 40, compression: int = BI_RGB, masks=None,
              top_down: bool = False, clr_used: int = 0, pad_byte: int = 0) -> bytes:
    """rows: unpadded row bytes, top row first, already in BMP sample order."""
    stride = ((width * bits + 31) // 32) * 4
    body = bytearray()
    order = rows if top_down else rows[::-1]
    for r in order:
        assert len(r) <= stride
        body += r + bytes([pad_byte]) * (stride - len(r))
    info = struct.pack("<IiiHHIIiiII", header_size, width, -height if top_down else height, 1, bits,
                       compression, len(body), 2835, 2835, clr_used, 0)
    extra = b""
    if header_size >= 108:
        m = masks or (0, 0, 0, 0)
        info += struct.pack("<IIII", *m)
        info += struct.pack("<I", 0x73524742)  # 'sRGB' colour space
        info += b"\x00" * 36 + b"\x00" * 12    # endpoints, gamma
        if header_size == 124:
            info += struct.pack("<IIII", 4, 0, 0, 0)  # LCS_GM_IMAGES, no profile
        assert len(info) == header_size
    elif compression == BI_BITFIELDS:
        extra = struct.pack("<III", *masks[:3])  # 40-byte header: 3 masks follow it
    pal = b""
    if palette is not None:
        pal = b"".join(bytes([b, g, r, 0]) for (r, g, b) in palette)
    offset = 14 + len(info) + len(extra) + len(pal)
    fh = b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset)
    return fh + info + extra + pal + bytes(body)


def pack_bits_row(idx: np.ndarray, bits: int) -> bytes:
    return _pack_row(idx[:, None].astype(np.int64), bits).tobytes()


def bmp_fixture(name: str, data: bytes, variant: str, notes: str, expect_mode: str,
                source: np.ndarray, palette=None, raw_bits: int | None = None) -> None:
    file = f"{name}.bmp"
    path = OUT / file
    path.write_bytes(data)
    im = Image.open(path)
    loaded = im.mode
    im.load()
    extra: dict = {}
    if loaded == "1":
        vals = np.array(im.convert("L"), dtype=np.uint8)
        mode = "L"
        notes += (" Pillow opens a 1-bit BMP whose palette is exactly black, white as mode '1';"
                  " expected = convert('L') (0/255).")
        extra["raw_samples"] = b64(source.astype(np.uint8))
        extra["raw_bit_depth"] = 1
    else:
        vals = np.array(im, dtype=np.uint8)
        mode = loaded
    assert loaded == expect_mode or (expect_mode == "L" and loaded == "1"), (name, loaded, expect_mode)
    if mode == "P":
        pal = pil_palette(im)
        assert pal[:len(palette)] == [list(p) for p in palette], name
        extra["palette"] = [list(p) for p in palette]
        if raw_bits:
            extra["raw_bit_depth"] = raw_bits
    # the decode must equal what we wrote
    assert np.array_equal(vals.reshape(source.shape), source), name
    extra["crosscheck"] = "Pillow decode == the samples this script wrote (exact)"
    write_expected(name, file, "bmp", vals, mode, loaded, notes, variant=variant, **extra)


def make_bmps() -> None:
    # 24-bit bottom-up, width 13 (39 bytes -> 40, 1 pad byte per row)
    a = pattern(9, 13, 3, 301).astype(np.uint8)
    rows = [a[j, :, ::-1].tobytes() for j in range(a.shape[0])]  # BGR
    bmp_fixture("bmp24_bottomup_w13", bmp_bytes(13, 9, 24, rows), "24-bit bottom-up, width 13",
                "BITMAPINFOHEADER, BI_RGB, positive height (bottom-up), rows padded 39 -> 40 bytes.", "RGB", a)
    # 24-bit top-down (negative height), width 15 (45 -> 48)
    a = pattern(10, 15, 3, 302).astype(np.uint8)
    rows = [a[j, :, ::-1].tobytes() for j in range(a.shape[0])]
    bmp_fixture("bmp24_topdown_w15", bmp_bytes(15, 10, 24, rows, top_down=True), "24-bit top-down, width 15",
                "BITMAPINFOHEADER, BI_RGB, negative height (top-down), rows padded 45 -> 48 bytes.", "RGB", a)
    # 24-bit written by Pillow itself (a second, independent writer)
    a = pattern(30, 40, 3, 303).astype(np.uint8)
    Image.fromarray(a, "RGB").save(OUT / "bmp24_pillow.bmp")
    bmp_fixture("bmp24_pillow", (OUT / "bmp24_pillow.bmp").read_bytes(), "24-bit written by Pillow",
                "Written by Pillow's BMP encoder (BITMAPINFOHEADER, bottom-up, no padding needed at width 40).",
                "RGB", a)
    # 32-bit BI_RGB: 4th byte is present but Pillow ignores it (mode RGB)
    a = pattern(11, 21, 4, 304).astype(np.uint8)
    rows = [a[j][:, [2, 1, 0, 3]].tobytes() for j in range(a.shape[0])]
    bmp_fixture("bmp32_bi_rgb", bmp_bytes(21, 11, 32, rows), "32-bit BI_RGB (BGRX)",
                "BITMAPINFOHEADER, 32 bpp, BI_RGB. The 4th byte of each pixel holds non-zero junk;"
                " per the spec it is reserved, and Pillow ignores it (mode RGB).", "RGB", a[..., :3])
    # 32-bit BI_BITFIELDS with 40-byte header (3 masks after the header), no alpha
    a = pattern(12, 18, 4, 305).astype(np.uint8)
    rows = [a[j][:, [2, 1, 0, 3]].tobytes() for j in range(a.shape[0])]
    bmp_fixture("bmp32_bitfields_info40", bmp_bytes(18, 12, 32, rows, compression=BI_BITFIELDS,
                                                    masks=(0xFF0000, 0xFF00, 0xFF)),
                "32-bit BI_BITFIELDS, 40-byte header",
                "BITMAPINFOHEADER + 3 DWORD masks (R 00FF0000, G 0000FF00, B 000000FF) after it; no alpha"
                " mask, so the 4th byte is ignored (mode RGB).", "RGB", a[..., :3])
    # 32-bit BI_BITFIELDS with alpha, BITMAPV4HEADER
    a = pattern(13, 19, 4, 306).astype(np.uint8)
    rows = [a[j][:, [2, 1, 0, 3]].tobytes() for j in range(a.shape[0])]
    bmp_fixture("bmp32_v4_alpha", bmp_bytes(19, 13, 32, rows, header_size=108, compression=BI_BITFIELDS,
                                            masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000)),
                "32-bit BITMAPV4HEADER BI_BITFIELDS with alpha",
                "BITMAPV4HEADER (108 bytes), BI_BITFIELDS, masks R 00FF0000 G 0000FF00 B 000000FF"
                " A FF000000 (BGRA in memory), bottom-up.", "RGBA", a)
    # 32-bit, BITMAPV5HEADER, alpha, top-down, different mask order (RGBA in memory)
    a = pattern(12, 17, 4, 307).astype(np.uint8)
    rows = [a[j].tobytes() for j in range(a.shape[0])]
    bmp_fixture("bmp32_v5_alpha_topdown", bmp_bytes(17, 12, 32, rows, header_size=124, compression=BI_BITFIELDS,
                                                    masks=(0xFF, 0xFF00, 0xFF0000, 0xFF000000), top_down=True),
                "32-bit BITMAPV5HEADER BI_BITFIELDS with alpha, top-down, RGBA byte order",
                "BITMAPV5HEADER (124 bytes), BI_BITFIELDS, masks R 000000FF G 0000FF00 B 00FF0000 A FF000000"
                " (bytes R,G,B,A in memory), negative height. Read the masks: this is not BGRA.", "RGBA", a)
    # 8-bit grayscale palette (identity ramp), mask-like values 0/128/255
    rng = np.random.default_rng(308)
    h, w = 21, 33
    y, x = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), np.uint8)
    m[((x - 12) ** 2 + (y - 10) ** 2) < 64] = 255
    m[(x > 20) & (y > 4) & (y < 17)] = 128
    m[rng.random((h, w)) < 0.03] = 128
    gray_pal = [(i, i, i) for i in range(256)]
    rows = [m[j].tobytes() for j in range(h)]
    bmp_fixture("bmp8_gray_mask", bmp_bytes(w, h, 8, rows, palette=gray_pal), "8-bit gray palette mask 0/128/255",
                "8 bpp with the full 256-entry identity gray palette (entry i = (i,i,i)), width 33 (pad 3)."
                " Pillow recognises the identity gray palette and opens it as mode L: values are gray levels"
                " 0/128/255.", "L", m)
    # 8-bit with a *short* gray palette: Pillow keeps it as P (corner case)
    idx = (m // 127).astype(np.uint8)  # 0,1,2
    short = [(0, 0, 0), (128, 128, 128), (255, 255, 255)]
    bmp_fixture("bmp8_gray_short_palette", bmp_bytes(w, h, 8, [idx[j].tobytes() for j in range(h)],
                                                     palette=short, clr_used=3),
                "8-bit 3-entry gray palette (biClrUsed=3)",
                "Same mask but the palette has only 3 entries (0,128,255) with biClrUsed=3. Pillow treats a"
                " palette as grayscale only if entry i == (i,i,i) for every entry, so this one opens as mode P;"
                " values are indices 0/1/2 and the gray levels come from the palette.", "P", idx,
                palette=short, raw_bits=8)
    # 8-bit colour palette with biClrUsed < 256
    pal = [tuple(p) for p in make_palette(20, 309)]
    idx = index_pattern(15, 23, 20, 309)
    bmp_fixture("bmp8_palette", bmp_bytes(23, 15, 8, [idx[j].tobytes() for j in range(15)], palette=pal, clr_used=20),
                "8-bit colour palette, biClrUsed=20",
                "8 bpp colour palette with 20 entries (biClrUsed=20), width 23 (pad 1). Values are indices.",
                "P", idx, palette=pal, raw_bits=8)
    # 4-bit palette
    pal = [tuple(p) for p in make_palette(16, 310)]
    idx = index_pattern(9, 27, 16, 310)
    bmp_fixture("bmp4_palette", bmp_bytes(27, 9, 4, [pack_bits_row(idx[j], 4) for j in range(9)], palette=pal),
                "4-bit palette, width 27",
                "4 bpp, 16-entry palette, width 27 (13.5 bytes -> 16 per row). Values are indices.",
                "P", idx, palette=pal, raw_bits=4)
    # 1-bit black/white
    bw = (pattern(11, 29, 1, 311)[..., 0] > 127).astype(np.uint8)
    bmp_fixture("bmp1_bw", bmp_bytes(29, 11, 1, [pack_bits_row(bw[j], 1) for j in range(11)],
                                     palette=[(0, 0, 0), (255, 255, 255)]),
                "1-bit black/white palette, width 29", "1 bpp, palette (0,0,0),(255,255,255), width 29.",
                "L", bw * 255)
    # 1-bit with a colour palette -> P
    pal = [(200, 30, 40), (20, 90, 220)]
    c1 = (pattern(13, 35, 1, 312)[..., 0] > 120).astype(np.uint8)
    bmp_fixture("bmp1_color", bmp_bytes(35, 13, 1, [pack_bits_row(c1[j], 1) for j in range(13)], palette=pal),
                "1-bit two-colour palette, width 35",
                "1 bpp with a non black/white palette: Pillow opens mode P; values are indices 0/1.",
                "P", c1, palette=pal, raw_bits=1)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.iterdir():
        if p.is_file() and p.suffix in (".png", ".jpg", ".bmp", ".json"):
            p.unlink()
    make_pngs()
    make_jpegs()
    make_bmps()
    index = {
        "generator": "scripts/make_image_fixtures.py",
        "pillow": PIL_VERSION,
        "libjpeg_turbo": TURBO_VERSION,
        "jpeg_tolerance_note": ("JPEG golden values come from Pillow's bundled libjpeg-turbo; other builds"
                                " may differ by +-1 (IDCT / chroma upsampling). Each JPEG entry has a"
                                " suggested tolerance; -1 means skip or use a custom comparison (CMYK)."),
        "fixtures": sorted(INDEX, key=lambda e: (e["kind"], e["name"])),
    }
    (OUT / "INDEX.json").write_text(json.dumps(index, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"wrote {len(INDEX)} fixtures to {OUT} ({total / 1024:.1f} KiB), {VERSIONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
