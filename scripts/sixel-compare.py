"""Compares an xwd screenshot with the pixels a sixel file paints (decoded here, independently
of segterm). Prints where the image was found and how many pixels match; exit 1 when fewer than
99 % are within 1 of the expected colour. Terminals turn sixel's percentages into bytes their own
way (xterm: percent → 16-bit X colour → top byte, e.g. 7 % is 17, not round(17.85) = 18), so
"within 1" is exact up to that conversion; the text cursor, drawn below the image, can cover a
few of its pixels."""
import re
import struct
import sys


def decode_sixel(data):
    body = data[data.index(b"q") + 1:data.rindex(b"\x1b\\")]
    m = re.match(rb'"(\d+);(\d+);(\d+);(\d+)', body)
    width, height = int(m.group(3)), int(m.group(4))
    pixels = [[None] * width for _ in range(height)]
    palette, current, x, band, i = {}, 0, 0, 0, m.end()
    while i < len(body):
        c = body[i:i + 1]
        if c == b"#":
            m = re.match(rb"#(\d+)(?:;2;(\d+);(\d+);(\d+))?", body[i:])
            current = int(m.group(1))
            if m.group(2) is not None:
                palette[current] = tuple(round(int(m.group(k)) * 255 / 100) for k in (2, 3, 4))
            i += m.end()
            continue
        count = 1
        if c == b"!":
            m = re.match(rb"!(\d+)", body[i:])
            count = int(m.group(1))
            i += m.end()
            c = body[i:i + 1]
        if c == b"$":
            x = 0
        elif c == b"-":
            x, band = 0, band + 1
        else:
            bits = c[0] - 63
            for _ in range(count):
                for dy in range(6):
                    if bits & (1 << dy) and band * 6 + dy < height:
                        pixels[band * 6 + dy][x] = palette[current]
                x += 1
        i += 1
    return width, height, pixels


def read_xwd(path):
    data = open(path, "rb").read()
    h = struct.unpack(">25I", data[:100])
    header_size, width, height, bytes_per_line, bpp, ncolors = h[0], h[4], h[5], h[12], h[11], h[19]
    byte_order = h[7]
    start = header_size + ncolors * 12
    assert bpp == 32, f"expected 32 bits per pixel, got {bpp}"

    def pixel(x, y):
        o = start + y * bytes_per_line + x * 4
        v = struct.unpack("<I" if byte_order == 0 else ">I", data[o:o + 4])[0]
        return ((v >> 16) & 255, (v >> 8) & 255, v & 255)
    return width, height, pixel


def main():
    w, h, want = decode_sixel(open(sys.argv[1], "rb").read())
    sw, sh, got = read_xwd(sys.argv[2])
    best = None
    for oy in range(0, 8):          # the image sits at the text area's top-left: search a few pixels
        for ox in range(0, 8):
            if ox + w > sw or oy + h > sh:
                continue
            hits = sum(got(ox + x, oy + y) == want[y][x] for y in range(0, h, 7) for x in range(0, w, 7)
                       if want[y][x] is not None)
            if best is None or hits > best[0]:
                best = (hits, ox, oy)
    _, ox, oy = best
    total = matched = close = 0
    worst = 0
    for y in range(h):
        for x in range(w):
            if want[y][x] is None:
                continue
            total += 1
            g = got(ox + x, oy + y)
            matched += g == want[y][x]
            difference = max(abs(a - b) for a, b in zip(g, want[y][x]))
            close += difference <= 1
            worst = max(worst, difference)
    print(f"sixel {w}x{h} found at ({ox}, {oy}) of the {sw}x{sh} screen: {matched}/{total} pixels exact "
          f"({matched / total:.2%}), {close}/{total} within 1 ({close / total:.2%}), worst channel difference {worst}")
    sys.exit(0 if close / total >= 0.99 else 1)


main()
