/// Ultralytics' `merge_multi_segment` (ultralytics/data/converter.py, 8.4), reproduced step for
/// step: an object of several parts is written on one YOLO line by joining consecutive parts at
/// their closest pair of vertices (the first such pair in row-major order of the distance matrix,
/// as `np.argmin` picks it), walking each middle part forward to the join and back after the
/// last one. The joins are zero-width "bridges": rasterised, the line covers the parts (and at
/// most the bridges' pixels), which is how Ultralytics trains on such objects.
enum YOLOMergeSegments {
    typealias Point = (x: Double, y: Double)

    static func merge(_ polygons: [[Double]]) -> [Point] {
        var segments: [[Point]] = polygons.map { p in
            stride(from: 0, to: p.count - 1, by: 2).map { (p[$0], p[$0 + 1]) }
        }
        let n = segments.count
        var indexes = [[Int]](repeating: [], count: n)
        for i in 1..<n {
            let (a, b) = minIndex(segments[i - 1], segments[i])
            indexes[i - 1].append(a)
            indexes[i].append(b)
        }
        var out: [[Point]] = []
        // Forward pass.
        for i in 0..<n {
            var idx = indexes[i]
            if idx.count == 2 && idx[0] > idx[1] {
                let count = segments[i].count
                idx = idx.map { count - 1 - $0 }
                segments[i].reverse()
            }
            let count = segments[i].count
            let shift = ((idx[0] % count) + count) % count
            // np.roll(seg, -idx[0]): element j comes from (j + idx[0]) mod count; then closed.
            var rolled = (0..<count).map { segments[i][($0 + shift) % count] }
            rolled.append(rolled[0])
            segments[i] = rolled
            if i == 0 || i == n - 1 {
                out.append(rolled)
            } else {
                let end = min(idx[1] - idx[0] + 1, rolled.count)
                out.append(Array(rolled[0..<max(end, 0)]))
            }
        }
        // Backward pass over the middle parts, from the last to the first.
        for i in stride(from: n - 1, through: 0, by: -1) where i != 0 && i != n - 1 {
            let idx = indexes[i]
            let start = abs(idx[1] - idx[0])
            out.append(start < segments[i].count ? Array(segments[i][start...]) : [])
        }
        return out.flatMap { $0 }
    }

    /// `np.unravel_index(np.argmin(((a[:, None] - b[None]) ** 2).sum(-1)), ...)`.
    static func minIndex(_ a: [Point], _ b: [Point]) -> (Int, Int) {
        var best = Double.infinity, bi = 0, bj = 0
        var first = true
        for i in a.indices {
            for j in b.indices {
                let dx = a[i].x - b[j].x, dy = a[i].y - b[j].y
                let d = dx * dx + dy * dy
                // argmin returns the first NaN if there is one, else the first minimum.
                if first || d < best || (d.isNaN && !best.isNaN) {
                    best = d; bi = i; bj = j; first = false
                }
            }
        }
        return (bi, bj)
    }
}
