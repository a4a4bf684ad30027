import SegCore

/// The outer contours of a mask as OpenCV's `findContours(mask, RETR_EXTERNAL,
/// CHAIN_APPROX_SIMPLE)` returns them: Suzuki–Abe border following with 8-connected objects,
/// only borders not inside another object's hole, points where the chain code changes direction,
/// integer pixel centres. Ultralytics' `convert_coco` turns a non-crowd RLE mask into polygons
/// this way before writing a YOLO line, so segterm does the same to give the same line.
enum MaskContours {
    /// Contours as flat `[x0, y0, x1, y1, ...]`, in OpenCV's order (see `external`'s end).
    static func external(_ mask: Mask) -> [[Double]] {
        let w = mask.width, h = mask.height
        guard w > 0, h > 0 else { return [] }
        // A one-pixel frame of background, as OpenCV pads its working copy.
        let stride = w + 2
        var img = [Int8](repeating: 0, count: stride * (h + 2))
        for y in 0..<h {
            for x in 0..<w where mask.bits[y * w + x] != 0 { img[(y + 1) * stride + x + 1] = 1 }
        }
        let dx = [1, 1, 0, -1, -1, -1, 0, 1], dy = [0, -1, -1, -1, 0, 1, 1, 1]
        let delta = (0..<16).map { dx[$0 & 7] + dy[$0 & 7] * stride }
        let positive: Int8 = 2, negative: Int8 = -126  // nbd and nbd | -128 in OpenCV's marks
        var contours: [[Double]] = []

        func trace(_ i0: Int, x0: Int, y0: Int) -> [Double] {
            var s = 4
            var i1 = i0
            repeat {
                s = (s - 1) & 7
                i1 = i0 + delta[s]
            } while img[i1] == 0 && s != 4
            if s == 4 {
                // A single pixel.
                img[i0] = negative
                return [Double(x0), Double(y0)]
            }
            var points: [Double] = []
            var i3 = i0
            var prevS = s ^ 4
            var px = x0, py = y0
            while true {
                let sEnd = s
                var i4 = i3
                while s < 15 {
                    s += 1
                    i4 = i3 + delta[s]
                    if img[i4] != 0 { break }
                }
                s &= 7
                // The right neighbour was looked at and is background: a right-bound pixel.
                if UInt(bitPattern: s - 1) < UInt(bitPattern: sEnd) {
                    img[i3] = negative
                } else if img[i3] == 1 {
                    img[i3] = positive
                }
                if s != prevS {
                    points.append(Double(px)); points.append(Double(py))
                    prevS = s
                }
                px += dx[s]; py += dy[s]
                if i4 == i0 && i3 == i1 { break }
                i3 = i4
                s = (s + 4) & 7
            }
            return points
        }

        for y in 1...h {
            var prev: Int8 = 0
            var lnbd = y * stride
            var x = 1
            while x <= w {
                let i = y * stride + x
                let p = img[i]
                if p != prev {
                    if prev == 0 && p == 1 && img[lnbd] <= 0 {
                        contours.append(trace(i, x0: x - 1, y0: y - 1))
                        // OpenCV resumes with `prev` = the start pixel's new mark, lnbd unchanged.
                        prev = img[i]
                        x += 1
                        continue
                    }
                    prev = p
                    if p & -2 != 0 { lnbd = i }
                }
                x += 1
            }
        }
        // OpenCV links each new outer contour in front of the previous ones.
        return contours.reversed()
    }
}
