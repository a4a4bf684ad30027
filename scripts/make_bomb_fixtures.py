#!/usr/bin/env python3
"""Resource-bomb fixtures for issue #9 (standard library only; outputs committed as data).

Each file is small and claims far more than it holds: a reader must refuse it with a typed error
before allocating what it claims.

  Tests/SegCoreTests/Fixtures/bombs/idat-bomb.png   16x16 gray PNG whose IDAT inflates to 64 MiB
  Tests/SegCoreTests/Fixtures/bombs/huge.png, huge.bmp   headers claiming 200000x200000 pixels, no data
  Tests/SegCoreTests/Fixtures/bombs/under-limit-header.png   69 bytes claiming 10000x10000 RGB (under the
        100 Mpx limit) with a 64-byte IDAT: 300 MB of output that the file cannot hold
  Tests/SegCoreTests/Fixtures/bombs/huge.jpg         a real JPEG whose SOF claims 65500x65500 (libjpeg-turbo's largest)
  Tests/SegNNTests/Fixtures/checkpoints/bomb-zip-entry-size.pt
        torch-style zip whose storage entry declares 2^31-1 bytes (the file is ~1 KB)
  Tests/SegNNTests/Fixtures/checkpoints/bomb-storage-1e12.pt
        torch-style pickle building a float storage of 10^12 elements (4 TB) over a 16-byte entry
"""
import io
import pickle
import struct
import sys
import types
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def idat_bomb():
    # 16 rows of (filter byte + 16 pixels) = 272 bytes declared; the stream holds 64 MiB of zeros.
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (64 << 20), 9)) + chunk(b"IEND", b"")


def torch_pickle(numel):
    """data.pkl as torch.save writes it for {"w": a float tensor of `numel` elements on storage '0'}."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called")

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = FloatStorage.__name__ = "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils

    class Storage:
        pass

    class Tensor:
        def __reduce__(self):
            return (_rebuild_tensor_v2, (Storage(), 0, (numel,), (1,), False, OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", FloatStorage, "0", "cpu", numel) if isinstance(obj, Storage) else None

    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(OrderedDict(w=Tensor()))
    return buf.getvalue()


def torch_zip(pkl, storage):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        # Fixed timestamps, so running the script again reproduces the committed bytes.
        for name, data in (("archive/data.pkl", pkl), ("archive/byteorder", b"little"), ("archive/data/0", storage)):
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return bytearray(buf.getvalue())


def zip_entry_size_bomb():
    data = torch_zip(torch_pickle(4), struct.pack("<4f", 1, 2, 3, 4))
    # Declared sizes of archive/data/0 raised to 2^31-1 in its local header and central directory.
    name = b"archive/data/0"
    for sig, size_at in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        at = 0
        while True:
            at = data.find(sig, at)
            assert at >= 0
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                break
            at += 4
        data[at + size_at:at + size_at + 8] = struct.pack("<II", 0x7FFFFFFF, 0x7FFFFFFF)
    return bytes(data)


def huge_png():
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 200000, 200000, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def under_limit_png():
    ihdr = struct.pack(">IIBBBBB", 10000, 10000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def huge_bmp():
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 200000, 200000, 1, 24, 0, 0, 0, 0, 0, 0)


def huge_jpeg():
    data = bytearray((ROOT / "Tests/SegCoreTests/Fixtures/images/jpeg_baseline_420.jpg").read_bytes())
    i = 2
    while data[i] == 0xFF and not 0xC0 <= data[i + 1] <= 0xC3:
        i += 2 + (data[i + 2] << 8 | data[i + 3])
    assert data[i] == 0xFF
    data[i + 5:i + 9] = struct.pack(">HH", 65500, 65500)
    return bytes(data)


def main():
    bombs = ROOT / "Tests/SegCoreTests/Fixtures/bombs"
    bombs.mkdir(parents=True, exist_ok=True)
    (bombs / "idat-bomb.png").write_bytes(idat_bomb())
    (bombs / "huge.png").write_bytes(huge_png())
    (bombs / "under-limit-header.png").write_bytes(under_limit_png())
    (bombs / "huge.bmp").write_bytes(huge_bmp())
    (bombs / "huge.jpg").write_bytes(huge_jpeg())
    ck = ROOT / "Tests/SegNNTests/Fixtures/checkpoints"
    (ck / "bomb-zip-entry-size.pt").write_bytes(zip_entry_size_bomb())
    (ck / "bomb-storage-1e12.pt").write_bytes(bytes(torch_zip(torch_pickle(10**12), struct.pack("<4f", 1, 2, 3, 4))))
    print("wrote", bombs / "idat-bomb.png", ck / "bomb-zip-entry-size.pt", ck / "bomb-storage-1e12.pt")


if __name__ == "__main__":
    main()
