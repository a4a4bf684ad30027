/// One (image, category) pair that has ground truth or detections: pycocotools' `evalImgs` entry
/// for every area range at once, plus the IoUs for the failure table and the error breakdown.
///
/// The tables of a cell live in one allocation behind one shared object: a run keeps a cell for
/// every (image, category) pair with objects — about 35 per image on COCO-like data, 700,000 at
/// 20,000 images — and thirteen arrays each (an allocation and a header apiece) were most of the
/// evaluation's memory. A copy of a cell is one reference count.
public struct COCOImageCategoryEval: Sendable {
    /// The thirteen tables of a cell in one block: 8-byte values first, then 4-byte, then bytes,
    /// so that every table is aligned. Written only while the evaluator builds the cell.
    final class Tables: @unchecked Sendable {
        // Sizes as 32-bit numbers and the tables' offsets computed from them: the object is one
        // of 700,000 at 20,000 images, so its own size counts.
        private let d32: Int32, g32: Int32, a32: Int32, t32: Int32, iou32: Int32
        private let block: UnsafeMutableRawPointer
        var D: Int { Int(d32) }
        var G: Int { Int(g32) }
        var A: Int { Int(a32) }
        var T: Int { Int(t32) }
        var iouCount: Int { Int(iou32) }

        /// Byte offsets of the tables in the block, in this order.
        struct Layout {
            let D: Int, G: Int, A: Int, T: Int, iouCount: Int
            var iousAt: Int { 0 }
            var scoresAt: Int { 8 * iouCount }
            var gtAreasAt: Int { scoresAt + 8 * D }
            var dtAreasAt: Int { gtAreasAt + 8 * G }
            var crossAt: Int { dtAreasAt + 8 * D }
            var detectionsAt: Int { crossAt + 8 * D }
            var groundTruthsAt: Int { detectionsAt + 4 * D }
            var nonIgnoredAt: Int { groundTruthsAt + 4 * G }
            var matchesAt: Int { nonIgnoredAt + 4 * A }
            var flagsAt: Int { matchesAt + 4 * T * D }
            var gtCrowdAt: Int { flagsAt + A * T * D }
            var gtMatchedAt: Int { gtCrowdAt + G }
            var gtIgnoredAt: Int { gtMatchedAt + T * G }
            var size: Int { gtIgnoredAt + A * G }
        }

        private var layout: Layout { Layout(D: D, G: G, A: A, T: T, iouCount: iouCount) }

        init(detections: [Int32], groundTruths: [Int32], ious: [Double], scores: [Double], gtAreas: [Double],
             dtAreas: [Double], gtCrowd: [Bool], nonIgnoredCount: [Int32], flags: [UInt8], matches: [Int32],
             gtMatched: [Bool], gtIgnored: [Bool], crossClassIoU: [Double]) {
            let D = detections.count, G = groundTruths.count, A = nonIgnoredCount.count
            let T = D > 0 ? matches.count / D : (G > 0 ? gtMatched.count / G : 0)
            precondition(D < Int(Int32.max) && G < Int(Int32.max) && ious.count < Int(Int32.max), "cell too large")
            precondition(scores.count == D && dtAreas.count == D && crossClassIoU.count == D && gtAreas.count == G
                         && gtCrowd.count == G && flags.count == A * T * D && matches.count == T * D
                         && gtMatched.count == T * G && gtIgnored.count == A * G && (ious.isEmpty || ious.count == D * G),
                         "cell tables of inconsistent sizes")
            d32 = Int32(D); g32 = Int32(G); a32 = Int32(A); t32 = Int32(T); iou32 = Int32(ious.count)
            let at = Layout(D: D, G: G, A: A, T: T, iouCount: ious.count)
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(at.size, 1), alignment: 8)
            func copy<E>(_ values: [E], to offset: Int) {
                values.withUnsafeBytes { source in
                    if let base = source.baseAddress { (bytes + offset).copyMemory(from: base, byteCount: source.count) }
                }
            }
            copy(ious, to: at.iousAt); copy(scores, to: at.scoresAt); copy(gtAreas, to: at.gtAreasAt)
            copy(dtAreas, to: at.dtAreasAt); copy(crossClassIoU, to: at.crossAt)
            copy(detections, to: at.detectionsAt); copy(groundTruths, to: at.groundTruthsAt)
            copy(nonIgnoredCount, to: at.nonIgnoredAt); copy(matches, to: at.matchesAt)
            copy(flags, to: at.flagsAt); copy(gtCrowd, to: at.gtCrowdAt); copy(gtMatched, to: at.gtMatchedAt)
            copy(gtIgnored, to: at.gtIgnoredAt)
            block = bytes
        }

        /// A cell of these sizes with every table zero and every match -1, for the evaluator to
        /// fill in place (`pointer(_:as:)`) before anyone else holds it: building the tables as
        /// arrays first cost an allocation and a copy each, per cell.
        init(D: Int, G: Int, A: Int, T: Int, iouCount: Int) {
            precondition(D >= 0 && G >= 0 && A >= 0 && T >= 0 && D < Int(Int32.max) && G < Int(Int32.max)
                         && iouCount < Int(Int32.max) && (iouCount == 0 || iouCount == D * G), "cell tables of inconsistent sizes")
            d32 = Int32(D); g32 = Int32(G); a32 = Int32(A); t32 = Int32(T); iou32 = Int32(iouCount)
            let at = Layout(D: D, G: G, A: A, T: T, iouCount: iouCount)
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(at.size, 1), alignment: 8)
            bytes.initializeMemory(as: UInt8.self, repeating: 0, count: max(at.size, 1))
            (bytes + at.matchesAt).initializeMemory(as: Int32.self, repeating: -1, count: T * D)
            block = bytes
        }

        /// Where table `offset` (a `Layout` offset of this cell) starts, to write while building.
        func pointer<E>(_ offset: Int, as: E.Type) -> UnsafeMutablePointer<E> {
            (block + offset).assumingMemoryBound(to: E.self)
        }

        var tableLayout: Layout { layout }

        deinit { block.deallocate() }

        func column<E>(_ offset: Int, _ count: Int, as: E.Type) -> CellColumn<E> {
            CellColumn(owner: self, base: UnsafePointer((block + offset).assumingMemoryBound(to: E.self)), count: count)
        }

        var detections: CellColumn<Int32> { column(layout.detectionsAt, D, as: Int32.self) }
        var groundTruths: CellColumn<Int32> { column(layout.groundTruthsAt, G, as: Int32.self) }
        var ious: CellColumn<Double> { column(layout.iousAt, iouCount, as: Double.self) }
        var scores: CellColumn<Double> { column(layout.scoresAt, D, as: Double.self) }
        var gtAreas: CellColumn<Double> { column(layout.gtAreasAt, G, as: Double.self) }
        var dtAreas: CellColumn<Double> { column(layout.dtAreasAt, D, as: Double.self) }
        var gtCrowd: CellColumn<Bool> { column(layout.gtCrowdAt, G, as: Bool.self) }
        var nonIgnoredCount: CellColumn<Int32> { column(layout.nonIgnoredAt, A, as: Int32.self) }
        var flags: CellColumn<UInt8> { column(layout.flagsAt, A * T * D, as: UInt8.self) }
        var matches: CellColumn<Int32> { column(layout.matchesAt, T * D, as: Int32.self) }
        var gtMatched: CellColumn<Bool> { column(layout.gtMatchedAt, T * G, as: Bool.self) }
        var gtIgnored: CellColumn<Bool> { column(layout.gtIgnoredAt, A * G, as: Bool.self) }
        var crossClassIoU: CellColumn<Double> { column(layout.crossAt, D, as: Double.self) }

        /// Only while the evaluator builds the cell (no one else holds it yet).
        func setCrossClassIoU(_ d: Int, _ value: Double) {
            precondition(d >= 0 && d < D, "detection index out of range")
            (block + layout.crossAt).assumingMemoryBound(to: Double.self)[d] = value
        }
    }

    public let imageIndex: Int
    public let categoryIndex: Int
    let tables: Tables

    init(imageIndex: Int, categoryIndex: Int, tables: Tables) {
        self.imageIndex = imageIndex
        self.categoryIndex = categoryIndex
        self.tables = tables
    }

    /// Detection indices (into the results), best score first (stable), at most maxDets.last.
    public var detections: CellColumn<Int32> { tables.detections }
    /// Ground-truth indices (into the annotations), in file order.
    public var groundTruths: CellColumn<Int32> { tables.groundTruths }
    /// IoU of detection d with ground truth g at `d * G + g` (file order of g); empty when the
    /// cell has no detections or no ground truth.
    public var ious: CellColumn<Double> { tables.ious }
    public var scores: CellColumn<Double> { tables.scores }
    public var gtAreas: CellColumn<Double> { tables.gtAreas }
    public var dtAreas: CellColumn<Double> { tables.dtAreas }
    public var gtCrowd: CellColumn<Bool> { tables.gtCrowd }
    /// Ground truths that count (not crowd, inside the area range), per area range.
    public var nonIgnoredCount: CellColumn<Int32> { tables.nonIgnoredCount }
    /// At `(a * T + t) * D + d`: bit 0 the detection is matched (pycocotools' `dtm` is non-zero),
    /// bit 1 it is ignored (`dtIgnore`).
    public var flags: CellColumn<UInt8> { tables.flags }
    /// For area range "all" only, at `t * D + d`: the matched ground truth (index into
    /// `groundTruths`), or -1. (The other ranges are needed only as flags.)
    public var matches: CellColumn<Int32> { tables.matches }
    /// For area range "all" only, at `t * G + g`: whether ground truth g (file order) was matched.
    public var gtMatched: CellColumn<Bool> { tables.gtMatched }
    /// Ground truths ignored per area range at `a * G + g`.
    public var gtIgnored: CellColumn<Bool> { tables.gtIgnored }
    /// Per detection: the best IoU with a (non-crowd) ground truth of another category in the
    /// image, for the error breakdown (0 when none).
    public var crossClassIoU: CellColumn<Double> { tables.crossClassIoU }

    public var detectionCount: Int { tables.D }
    public var groundTruthCount: Int { tables.G }
}

/// One table of a cell, read in place: a random-access collection over the cell's block, which
/// it keeps alive.
public struct CellColumn<Element>: RandomAccessCollection, @unchecked Sendable {
    let owner: AnyObject
    let base: UnsafePointer<Element>
    public let count: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    @inline(__always)
    public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "cell table index out of range")
        return base[i]
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }
}

extension CellColumn: Equatable where Element: Equatable {
    public static func == (a: CellColumn, b: CellColumn) -> Bool { a.elementsEqual(b) }
}
