/// One of pycocotools' `eval` arrays: `precision` (T × R × K × A × M: IoU threshold, recall
/// point, category, area range, maxDets) or `recall` (T × K × A × M, a table with one recall
/// point). Values are -1 where a category has no counted ground truth. One flat array in numpy's
/// row-major order, read and written by name instead of by hand-made index arithmetic.
public struct COCOTable: Sendable, Equatable {
    /// The table's shape, and where an entry lies in the flat array.
    public struct Layout: Sendable, Equatable {
        public let iouThresholds: Int
        public let recallPoints: Int
        public let categories: Int
        public let areaRanges: Int
        public let maxDets: Int

        var count: Int { iouThresholds * recallPoints * categories * areaRanges * maxDets }

        @inline(__always)
        func offset(t: Int, r: Int = 0, k: Int, a: Int, m: Int) -> Int {
            (((t * recallPoints + r) * categories + k) * areaRanges + a) * maxDets + m
        }
    }

    public let layout: Layout
    public internal(set) var values: [Double]

    init(iouThresholds: Int, recallPoints: Int = 1, categories: Int, areaRanges: Int, maxDets: Int, fill: Double = -1) {
        layout = Layout(iouThresholds: iouThresholds, recallPoints: recallPoints, categories: categories, areaRanges: areaRanges,
                        maxDets: maxDets)
        values = [Double](repeating: fill, count: layout.count)
    }

    public subscript(t: Int, r: Int, k: Int, a: Int, m: Int) -> Double {
        get { values[layout.offset(t: t, r: r, k: k, a: a, m: m)] }
        set { values[layout.offset(t: t, r: r, k: k, a: a, m: m)] = newValue }
    }

    /// A table with one recall point (`recall`).
    public subscript(t: Int, k: Int, a: Int, m: Int) -> Double {
        get { values[layout.offset(t: t, k: k, a: a, m: m)] }
        set { values[layout.offset(t: t, k: k, a: a, m: m)] = newValue }
    }
}
