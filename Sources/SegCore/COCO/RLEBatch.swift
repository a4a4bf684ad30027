/// Batch IoU for the evaluation's hot loop (added by the evaluation engine, issue 7).
///
/// `RLE.iou` answers with nested arrays and builds every box as an array; an image of a COCO
/// evaluation asks for tens of thousands of pairs, and those allocations cost more than the
/// overlaps themselves. This computes the same numbers (pycocotools `rleIou`: exact overlap only
/// where the boxes overlap, the crowd rule) into one flat buffer.
extension RLE {
    /// `[x0, y0, x1, y1)` of the set pixels as integers, from the runs as `boundingBox` reads them;
    /// nil for an empty mask.
    @usableFromInline
    func integerBox() -> (x0: Int, y0: Int, x1: Int, y1: Int)? { boxAndArea().box }

    /// `integerBox()` and `area` in one pass over the counts (every mask of an evaluation needs
    /// both). Runs of ones are taken a pair of counts at a time (zeros, then ones).
    func boxAndArea() -> (box: (x0: Int, y0: Int, x1: Int, y1: Int)?, area: Int) {
        var builder = SummaryBuilder(height: height)
        var position = 0
        counts.withUnsafeBufferPointer { c in
            var j = 0
            while j + 1 < c.count {
                let start = position + Int(c[j])
                let ones = Int(c[j + 1])
                builder.ones(start: start, count: ones)
                position = start + ones
                j += 2
            }
        }
        return (builder.box, builder.area)
    }

    /// Pixels set in both. Walks the two masks' runs of ones as intervals `[start, end)` of
    /// column-major positions, one interval per step (the last version stepped to every run
    /// boundary of either mask, zeros included, with a branch per run: about twice the steps of
    /// this, on the evaluation's most frequent call).
    static func intersection(_ a: [UInt32], _ b: [UInt32]) -> Int {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                // ia / ib: index of the next zero run; pa / pb: the position it starts at.
                var ia = 0, ib = 0, pa = 0, pb = 0
                var sa = 0, ea = 0, sb = 0, eb = 0
                // The next non-empty run of ones of a (of b), or false past the last.
                @inline(__always) func nextA() -> Bool {
                    while ia + 1 < a.count {
                        let s = pa + Int(a[ia]), e = s + Int(a[ia + 1])
                        pa = e
                        ia += 2
                        if e > s { sa = s; ea = e; return true }
                    }
                    return false
                }
                @inline(__always) func nextB() -> Bool {
                    while ib + 1 < b.count {
                        let s = pb + Int(b[ib]), e = s + Int(b[ib + 1])
                        pb = e
                        ib += 2
                        if e > s { sb = s; eb = e; return true }
                    }
                    return false
                }
                guard nextA(), nextB() else { return 0 }
                var total = 0
                while true {
                    let lo = max(sa, sb), hi = min(ea, eb)
                    if hi > lo { total += hi - lo }
                    // The interval that ends first can meet nothing more of the other.
                    if ea < eb {
                        guard nextA() else { return total }
                    } else if eb < ea {
                        guard nextB() else { return total }
                    } else {
                        guard nextA(), nextB() else { return total }
                    }
                }
            }
        }
    }

    /// The box (integer, half-open) and area of the runs, computed once for many IoUs.
    public struct Summary: Sendable {
        public let x0: Int, y0: Int, x1: Int, y1: Int
        public let area: Int
        public let isEmpty: Bool

        init(box b: (x0: Int, y0: Int, x1: Int, y1: Int)?, area: Int) {
            x0 = b?.x0 ?? 0; y0 = b?.y0 ?? 0; x1 = b?.x1 ?? 0; y1 = b?.y1 ?? 0
            self.area = area
            isEmpty = b == nil
        }
    }

    public var summary: Summary {
        let (b, area) = boxAndArea()
        return Summary(box: b, area: area)
    }

    /// One pair of `iouMatrix`, with the summaries computed beforehand.
    public static func iou(_ d: RLE, _ ds: Summary, _ g: RLE, _ gs: Summary, crowd: Bool) -> Double {
        if ds.isEmpty || gs.isEmpty { return 0 }
        guard min(ds.x1, gs.x1) > max(ds.x0, gs.x0), min(ds.y1, gs.y1) > max(ds.y0, gs.y0) else { return 0 }
        guard d.height == g.height, d.width == g.width else { return -1 }
        let i = intersection(d.counts, g.counts)
        if i == 0 { return 0 }
        return Double(i) / Double(crowd ? ds.area : ds.area + gs.area - i)
    }

    /// The IoU of every detection with every ground truth, as `iou(_:_:iscrowd:)`, at
    /// `result[d * gt.count + g]`. Masks of different sizes give -1 where their boxes overlap,
    /// as pycocotools does.
    public static func iouMatrix(_ dt: [RLE], _ gt: [RLE], iscrowd: [Bool]) throws -> [Double] {
        guard iscrowd.count == gt.count else {
            throw SegError(.invalid, file: "", "iscrowd has \(iscrowd.count) entries for \(gt.count) ground truths")
        }
        let D = dt.count, G = gt.count
        var out = [Double](repeating: 0, count: D * G)
        if D == 0 || G == 0 { return out }
        let dtBoxes = dt.map { $0.integerBox() }
        let gtBoxes = gt.map { $0.integerBox() }
        let dtAreas = dt.map(\.area)
        let gtAreas = gt.map(\.area)
        out.withUnsafeMutableBufferPointer { o in
            for d in 0..<D {
                guard let db = dtBoxes[d] else { continue }
                for g in 0..<G {
                    // Integer boxes overlap exactly when pycocotools' float boxes have w > 0 and h > 0.
                    guard let gb = gtBoxes[g], min(db.x1, gb.x1) > max(db.x0, gb.x0), min(db.y1, gb.y1) > max(db.y0, gb.y0) else { continue }
                    guard dt[d].height == gt[g].height, dt[d].width == gt[g].width else {
                        o[d * G + g] = -1
                        continue
                    }
                    let i = intersection(dt[d].counts, gt[g].counts)
                    if i == 0 { continue }
                    let u = iscrowd[g] ? dtAreas[d] : dtAreas[d] + gtAreas[g] - i
                    o[d * G + g] = Double(i) / Double(u)
                }
            }
        }
        return out
    }
}

/// Receives a mask's runs of ones, in order, as its counts are read.
protocol RunVisitor {
    mutating func ones(start: Int, count: Int)
}

struct NoRunVisitor: RunVisitor {
    // One byte, not none: ThreadSanitizer checks an inout access by its address, and an empty
    // struct's is not one it can read (a SEGV inside TSan under `.ci/run`).
    private var unused: UInt8 = 0
    @inline(__always) mutating func ones(start: Int, count: Int) {}
}

/// The box and area of the runs it is shown (`RLE.Summary`).
struct SummaryBuilder: RunVisitor {
    let height: Int
    private(set) var area = 0
    private var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
    // The column of a position, found from the previous one: positions only grow, and a run
    // usually moves on by a column or two, which a few additions reach sooner than a division
    // (every mask of an evaluation goes through here). Long jumps divide.
    private var column = 0, columnStart = 0

    init(height: Int) { self.height = height }

    @inline(__always) private mutating func columnOf(_ p: Int) -> Int {
        if p - columnStart >= 4 * height {
            column = p / height
            columnStart = column * height
        }
        while p >= columnStart + height {
            column += 1
            columnStart += height
        }
        return column
    }

    @inline(__always) mutating func ones(start: Int, count: Int) {
        guard count > 0, height > 0 else { return }
        area += count
        let last = start + count - 1
        let xStart = columnOf(start), xEnd = columnOf(last)
        if xStart < minX { minX = xStart }
        if xEnd > maxX { maxX = xEnd }
        if xStart < xEnd {
            minY = 0
            maxY = height - 1
        } else {
            minY = min(minY, start - xStart * height)
            maxY = max(maxY, last - xEnd * height)
        }
    }

    /// `[x0, y0, x1, y1)`, nil for an empty mask.
    var box: (x0: Int, y0: Int, x1: Int, y1: Int)? { maxX >= 0 ? (minX, minY, maxX + 1, maxY + 1) : nil }

    var summary: RLE.Summary { RLE.Summary(box: box, area: area) }
}
