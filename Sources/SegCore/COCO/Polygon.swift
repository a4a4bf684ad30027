/// Polygon and box rasterisation, pixel-identical to pycocotools (`frPyObjects` then `decode`).
///
/// pycocotools (`rleFrPoly` in maskApi.c) scales the vertices by 5 and rounds them to integers,
/// walks every edge one step at a time along its major axis, and keeps the points where the
/// walk crosses the middle of a pixel column (x = 5q + 2 upsampled, i.e. pixel column q). Each
/// such crossing toggles the mask from that column's pixel ceil(y) downwards; the sorted toggle
/// positions (column-major) are the RLE. Set pixels are thus those whose centre column lies
/// inside the polygon, with y rounded in pycocotools' particular way.
///
/// This implementation finds the same crossings without walking every step: along an x-major
/// edge the crossing columns are known in closed form, and along a y-major edge the step where
/// the rounded x passes a given column is found from the line's equation and confirmed on the
/// very same floating-point expression, so polygons with huge coordinates cost time in proportion to the
/// image, not to the coordinates.
extension RLE {
    /// Vertex coordinates are limited to ±1e8 so that every upsampled value and difference fits
    /// the 32-bit integers pycocotools uses (beyond, its C code has undefined behaviour).
    public static let maxPolygonCoordinate: Double = 1e8

    /// The mask of one polygon `[x0, y0, x1, y1, ...]` in pixel coordinates (pycocotools
    /// `frPyObjects([polygon], h, w)`). A trailing odd coordinate is ignored; fewer than 3
    /// vertices or zero area give a (nearly always) empty mask, exactly as pycocotools does.
    /// Throws `.invalid` for a non-finite coordinate or one beyond `maxPolygonCoordinate`.
    public init(polygon: [Double], height: Int, width: Int) throws {
        self = try RLE.rasterised(polygon, height: height, width: width)
    }

    /// `compactionThreshold` is exposed for tests of the toggle compaction.
    static func rasterised(_ polygon: [Double], height: Int, width: Int,
                           compactionThreshold: Int = 1 << 22) throws -> RLE {
        let total = try pixelCount(height: height, width: width)
        let vertices = try PolygonRaster.upsampledVertices(polygon)
        // pycocotools misbehaves for 0-pixel images (a width of 0 makes `w - 1` wrap); the only
        // sensible mask is the empty one.
        guard total > 0 else { return RLE(unchecked: height, width, [0]) }
        var raster = PolygonRaster(height: height, width: width, compactionThreshold: compactionThreshold)
        raster.addToggles(of: vertices)
        return RLE(unchecked: height, width, raster.counts(pixelCount: total))
    }

    /// The mask of a COCO polygon annotation: each polygon rasterised, then their union, as
    /// pycocotools `merge(frPyObjects(polygons, h, w))` (what `COCO.annToRLE` does).
    ///
    /// pycocotools dispatches on the first polygon's length: with exactly 4 numbers it tries to
    /// read the whole list as boxes (and raises), with fewer it raises. Here every polygon is
    /// rasterised as a polygon, whatever its length; an empty list gives an empty mask.
    public init(polygons: [[Double]], height: Int, width: Int) throws {
        let total = try Self.pixelCount(height: height, width: width)
        let each = try polygons.map { try RLE(polygon: $0, height: height, width: width) }
        guard !each.isEmpty else {
            self.init(unchecked: height, width, [UInt32(total)])
            return
        }
        self = try RLE.merge(each)
    }

    /// The mask of a COCO box `[x, y, width, height]` (pycocotools `frBbox`): the polygon through
    /// its four corners, so fractional boxes round the way polygons do.
    public init(bbox: [Double], height: Int, width: Int) throws {
        guard bbox.count == 4 else {
            throw SegError(.invalid, file: "", "a box needs 4 numbers [x, y, width, height], not \(bbox.count)")
        }
        let xs = bbox[0], ys = bbox[1]
        let xe = xs + bbox[2], ye = ys + bbox[3]
        try self.init(polygon: [xs, ys, xs, ye, xe, ye, xe, ys], height: height, width: width)
    }
}

/// One edge of the upsampled polygon, oriented as pycocotools walks it.
private struct PolygonEdge {
    // After pycocotools' flip: the walk always goes up its major axis (xs <= xe, or ys <= ye).
    let xs: Int, ys: Int, xe: Int, ye: Int
    let xMajor: Bool  // dx >= dy: one step per upsampled column
    let flipped: Bool  // the points are emitted from the far end back (the original direction)
    let steps: Int  // the walk emits steps + 1 points, t = 0...steps
    let slope: Double

    init(from a: (x: Int, y: Int), to b: (x: Int, y: Int)) {
        let dx = abs(b.x - a.x), dy = abs(b.y - a.y)
        xMajor = dx >= dy
        flipped = (xMajor && a.x > b.x) || (!xMajor && a.y > b.y)
        let (s, e) = flipped ? (b, a) : (a, b)
        xs = s.x; ys = s.y; xe = e.x; ye = e.y
        steps = xMajor ? dx : dy
        // A zero-length edge divides 0 by 0 in pycocotools; `point(at:)` handles it.
        slope = steps == 0 ? 0 : Double(xMajor ? ye - ys : xe - xs) / Double(steps)
    }

    /// The point at walk parameter t, computed with pycocotools' exact expression and its
    /// truncation toward zero.
    func point(at t: Int) -> (u: Int, v: Int) {
        if xMajor {
            // 0/0 makes the C code convert NaN to int, which yields INT_MIN on x86.
            let v = steps == 0 ? Int(Int32.min) : truncated(Double(ys) + slope * Double(t) + 0.5)
            return (t + xs, v)
        }
        return (truncated(Double(xs) + slope * Double(t) + 0.5), t + ys)
    }

    private func truncated(_ value: Double) -> Int { Int(value.rounded(.towardZero)) }

    /// The first and last points in emission order.
    var firstPoint: (u: Int, v: Int) { point(at: flipped ? steps : 0) }
    var lastPoint: (u: Int, v: Int) { point(at: flipped ? 0 : steps) }

    /// The consecutive pair (t-1, t) in emission order: (previous point, current point).
    func pair(endingAt t: Int) -> (previous: (u: Int, v: Int), current: (u: Int, v: Int)) {
        let low = point(at: t - 1), high = point(at: t)
        return flipped ? (high, low) : (low, high)
    }

    /// For a y-major edge: the smallest t in 0...steps at which u has passed `k` (u > k when u
    /// grows along the walk, u <= k when it shrinks), or steps + 1 if it never does. u is
    /// monotone in t because the expression is.
    func firstStepPast(_ k: Int) -> Int {
        let increasing = slope > 0
        func past(_ t: Int) -> Bool {
            let u = point(at: t).u
            return increasing ? u > k : u <= k
        }
        // u(t) = trunc(xs + slope·t + 0.5) passes k near t = (k + 0.5 - xs) / slope: start there
        // and step to the exact answer with the exact expression, which is one or two steps
        // where a binary search took a dozen unpredictable branches per pixel column.
        // (For k >= 2 both tests are the real-valued ones, v >= k + 1 or v < k + 1, so the guess
        // is off by rounding only; should it be off by more, the binary search decides.)
        let guess = ((Double(k) + 0.5 - Double(xs)) / slope).rounded(.up)
        var t = guess.isFinite ? Int(min(max(guess, 0), Double(steps + 1))) : 0
        for _ in 0..<4 {
            if t > 0 && past(t - 1) { t -= 1 } else if t <= steps && !past(t) { t += 1 } else { return t }
        }
        var lo = 0, hi = steps + 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if past(mid) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// Collects pycocotools' toggle positions for a polygon and turns them into counts.
private struct PolygonRaster {
    let height: Int
    let width: Int
    private(set) var toggles: [UInt32] = []
    private var compactionThreshold: Int

    init(height: Int, width: Int, compactionThreshold: Int) {
        self.height = height
        self.width = width
        self.compactionThreshold = compactionThreshold
    }

    /// Vertices ×5 rounded as pycocotools does (`(int)(5x + 0.5)`, truncating toward zero).
    static func upsampledVertices(_ xy: [Double]) throws -> [(x: Int, y: Int)] {
        var vertices: [(x: Int, y: Int)] = []
        vertices.reserveCapacity(xy.count / 2)
        for j in 0..<(xy.count / 2) {
            let x = xy[2 * j], y = xy[2 * j + 1]
            guard x.isFinite, y.isFinite,
                  abs(x) <= RLE.maxPolygonCoordinate, abs(y) <= RLE.maxPolygonCoordinate else {
                throw SegError(.invalid, file: "", "polygon vertex (\(x), \(y)) is not a finite coordinate within ±\(RLE.maxPolygonCoordinate)")
            }
            vertices.append((Int((5 * x + 0.5).rounded(.towardZero)), Int((5 * y + 0.5).rounded(.towardZero))))
        }
        return vertices
    }

    /// pycocotools walks the closed outline point by point; a toggle comes from each pair of
    /// consecutive points whose u differs. Pairs inside an edge are found per pixel column;
    /// the pair joining one edge's last point to the next edge's first point is checked as is
    /// (the outline is not closed back onto the very first point).
    mutating func addToggles(of vertices: [(x: Int, y: Int)]) {
        let k = vertices.count
        // About one toggle per pixel column an edge spans (clamped: huge coordinates cross few
        // columns of the image), so that the list grows once.
        var estimate = 2 * k
        for j in 0..<k { estimate += min(abs(vertices[(j + 1) % k].x - vertices[j].x) / 5, width) }
        toggles.reserveCapacity(min(estimate, compactionThreshold))
        var previousEnd: (u: Int, v: Int)?
        for j in 0..<k {
            let edge = PolygonEdge(from: vertices[j], to: vertices[(j + 1) % k])
            if let previousEnd { addToggle(previous: previousEnd, current: edge.firstPoint, column: nil) }
            if edge.xMajor { addXMajorToggles(edge) } else { addYMajorToggles(edge) }
            previousEnd = edge.lastPoint
        }
    }

    /// The pixel columns q whose crossing value 5q + 2 may lie in lo...hi.
    private func columns(from lo: Int, to hi: Int) -> ClosedRange<Int>? {
        let first = max(0, ceilDiv(lo - 2, 5)), last = min(width - 1, floorDiv(hi - 2, 5))
        return first <= last ? first...last : nil
    }

    private mutating func addXMajorToggles(_ edge: PolygonEdge) {
        // u steps by exactly 1: the pair crossing column q has u = 5q + 2 and 5q + 3.
        guard edge.steps > 0, let qs = columns(from: edge.xs, to: edge.xe - 1) else { return }
        for q in qs {
            let t = 5 * q + 2 - edge.xs + 1
            let (previous, current) = edge.pair(endingAt: t)
            // `addToggle`'s column, (5q + 2.5) / 5 - 0.5, is exactly q here.
            appendToggle(column: q, v: min(previous.v, current.v))
        }
    }

    private mutating func addYMajorToggles(_ edge: PolygonEdge) {
        guard edge.steps > 0, edge.slope != 0 else { return }  // u constant: no crossing
        let u0 = edge.point(at: 0).u, u1 = edge.point(at: edge.steps).u
        guard let qs = columns(from: min(u0, u1) - 1, to: max(u0, u1)) else { return }
        for q in qs {
            // The only pair that can toggle column q is where u passes 5q + 2 (whichever side,
            // depending on direction); `addToggle` rechecks the column pycocotools would derive.
            let t = edge.firstStepPast(5 * q + 2)
            guard t >= 1, t <= edge.steps else { continue }
            let (previous, current) = edge.pair(endingAt: t)
            addToggle(previous: previous, current: current, column: q)
        }
    }

    /// pycocotools' rule for one pair of consecutive points: the column from the u values
    /// (kept only at a pixel centre inside the image), the row from the smaller v, rounded up
    /// and clamped to 0...height. `column`, when given, is the column the caller expects, so a
    /// pair is never counted for two columns.
    private mutating func addToggle(previous: (u: Int, v: Int), current: (u: Int, v: Int), column: Int?) {
        guard current.u != previous.u else { return }
        let xi = current.u < previous.u ? current.u : current.u - 1
        let xd = (Double(xi) + 0.5) / 5 - 0.5
        guard xd.rounded(.down) == xd, xd >= 0, xd <= Double(width - 1) else { return }
        let x = Int(xd)
        if let column, column != x { return }
        appendToggle(column: x, v: min(previous.v, current.v))
    }

    /// The toggle at pixel column x from the smaller upsampled v of the pair: pycocotools' row
    /// ceil(clamp((v + 0.5) / 5 - 0.5, 0, h)), in integers. (v + 0.5) / 5 - 0.5 is (v - 2) / 5,
    /// and the doubles give exactly that when it is a whole number and stay within 1e-8 of it,
    /// far from the next whole number, when it is not; ceil and clamp commute.
    @inline(__always)
    private mutating func appendToggle(column x: Int, v: Int) {
        let y = min(max(ceilDiv(v - 2, 5), 0), height)
        toggles.append(UInt32(x * height + y))
        if toggles.count >= compactionThreshold { compactToggles() }
    }

    /// Only the parity of toggles at each position matters (pycocotools' merging of zero-length
    /// runs cancels them in pairs), so a polygon with very many edges is kept to at most one
    /// toggle per pixel position by dropping pairs now and then.
    private mutating func compactToggles() {
        toggles.sort()
        var kept = 0, i = 0
        while i < toggles.count {
            var j = i
            while j < toggles.count && toggles[j] == toggles[i] { j += 1 }
            if (j - i) % 2 == 1 {
                toggles[kept] = toggles[i]
                kept += 1
            }
            i = j
        }
        toggles.removeLast(toggles.count - kept)
        compactionThreshold = max(compactionThreshold, 2 * kept)
    }

    /// The RLE counts: toggles sorted, turned into run lengths, and pairs of toggles at the same
    /// position cancelled the way pycocotools merges its zero-length runs.
    mutating func counts(pixelCount total: Int) -> [UInt32] {
        var a: [UInt32] = []
        swap(&a, &toggles)  // sorted in place, not copied
        a.append(UInt32(total))
        a.sort()
        var previous: UInt32 = 0
        for j in a.indices {
            let position = a[j]
            a[j] = position - previous
            previous = position
        }
        var counts: [UInt32] = []
        counts.reserveCapacity(a.count)
        counts.append(a[0])
        var j = 1
        while j < a.count {
            if a[j] > 0 {
                counts.append(a[j])
                j += 1
            } else {
                j += 1
                if j < a.count {
                    counts[counts.count - 1] += a[j]
                    j += 1
                }
            }
        }
        return counts
    }
}

private func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

private func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
