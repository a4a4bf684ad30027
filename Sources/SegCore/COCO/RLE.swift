#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A binary mask in COCO run-length encoding, bit-compatible with pycocotools.
///
/// Pixels are taken in column-major (Fortran) order — down the first column, then the next — and
/// `counts` holds the lengths of alternating runs, starting with a run of zeros (which may be
/// empty). Every value is validated on construction: the counts always cover exactly
/// `height * width` pixels, so the operations below never read past the end or trap.
///
/// Errors carry an empty file name; the caller knows the path and attaches it with
/// `SegError.about(_:)`.
public struct RLE: Equatable, Sendable {
    public let height: Int
    public let width: Int
    public let counts: [UInt32]

    /// Counts are 32-bit in the COCO format, so an RLE covers at most this many pixels.
    public static let maxPixelCount = Int(UInt32.max)

    /// Checks that `counts` covers exactly `height * width` pixels.
    public init(height: Int, width: Int, counts: [UInt32]) throws {
        let total = try Self.pixelCount(height: height, width: width)
        var sum = 0
        for c in counts { sum += Int(c) }  // at most 2^32 values of < 2^32: cannot overflow Int
        guard sum == total else {
            throw SegError(.invalid, file: "", "RLE counts cover \(sum) pixels, but the mask is \(height)x\(width)")
        }
        self.init(unchecked: height, width, counts)
    }

    /// For counts produced here, whose total is known to be right.
    init(unchecked height: Int, _ width: Int, _ counts: [UInt32]) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// The pixel count of an RLE of this size, or why it cannot exist.
    static func pixelCount(height: Int, width: Int) throws -> Int {
        guard height >= 0, width >= 0 else {
            throw SegError(.invalid, file: "", "RLE size \(height)x\(width) is negative")
        }
        let (total, overflow) = height.multipliedReportingOverflow(by: width)
        guard !overflow, total <= maxPixelCount else {
            throw SegError(.tooLarge, file: "", "RLE size \(height)x\(width) is above \(maxPixelCount) pixels")
        }
        return total
    }

    // MARK: Mask conversion

    /// Encodes a mask (any non-zero byte is set). Throws only when the mask has more pixels than
    /// 32-bit counts can describe.
    public init(mask: Mask) throws {
        let h = mask.height, w = mask.width
        _ = try Self.pixelCount(height: h, width: w)
        var counts: [UInt32] = []
        var value: UInt8 = 0
        var run: UInt32 = 0
        Self.forEachColumnTile(height: h, width: w) { x0, columns, tile in
            // Read a band of columns row by row (contiguous in the mask) into a column-major tile,
            // then scan the tile linearly: a plain column walk would touch a new cache line per pixel.
            mask.bits.withUnsafeBufferPointer { src in
                for y in 0..<h {
                    let row = y * w + x0
                    for c in 0..<columns { tile[c * h + y] = src[row + c] }
                }
            }
            for i in 0..<(columns * h) {
                let bit: UInt8 = tile[i] != 0 ? 1 : 0
                if bit != value {
                    counts.append(run)
                    run = 0
                    value = bit
                }
                run += 1
            }
        }
        counts.append(run)
        self.init(unchecked: h, w, counts)
    }

    /// The mask, row-major.
    public func decode() -> Mask {
        let h = height, w = width
        var bits = [UInt8](repeating: 0, count: h * w)
        var runIndex = 0
        var remaining = counts.first.map(Int.init) ?? 0
        Self.forEachColumnTile(height: h, width: w) { x0, columns, tile in
            // Fill the tile column-major from the runs, then write it out row by row.
            var i = 0
            let end = columns * h
            while i < end {
                while remaining == 0 && runIndex + 1 < counts.count {
                    runIndex += 1
                    remaining = Int(counts[runIndex])
                }
                let n = min(remaining, end - i)
                guard n > 0 else { break }  // unreachable for validated counts
                let value: UInt8 = runIndex % 2 == 1 ? 1 : 0
                UnsafeMutableBufferPointer(rebasing: tile[i..<(i + n)]).update(repeating: value)
                i += n
                remaining -= n
            }
            bits.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w + x0
                    for c in 0..<columns { dst[row + c] = tile[c * h + y] }
                }
            }
        }
        return Mask(width: w, height: h, bits: bits)
    }

    /// Calls `body` for consecutive bands of whole columns with a scratch buffer of
    /// `columns * height` bytes, sized to stay in cache.
    private static func forEachColumnTile(
        height h: Int, width w: Int,
        _ body: (_ x0: Int, _ columns: Int, _ tile: UnsafeMutableBufferPointer<UInt8>) -> Void
    ) {
        guard h > 0, w > 0 else { return }
        let band = max(1, min(w, (256 * 1024) / h))
        let tile = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: band * h)
        defer { tile.deallocate() }
        var x0 = 0
        while x0 < w {
            let columns = min(band, w - x0)
            body(x0, columns, tile)
            x0 += columns
        }
    }

    // MARK: Measures computed on the runs

    /// Number of set pixels (pycocotools `area`).
    public var area: Int {
        var total = 0
        var j = 1
        while j < counts.count {
            total += Int(counts[j])
            j += 2
        }
        return total
    }

    /// `[x, y, width, height]` of the set pixels, as pycocotools `toBbox` (2.0.11) computes it from
    /// the runs: a run that wraps from one column into the next spans the full height.
    ///
    /// An empty mask gives `[0, 0, 0, 0]`. (pycocotools also does when `counts` has an odd
    /// length, but with an even length and only empty runs of ones it returns values wrapped
    /// around 2^32; that garbage is not reproduced.)
    public var boundingBox: [Double] {
        let h = height
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        var position = 0
        for (j, c) in counts.enumerated() {
            let start = position
            position += Int(c)
            guard j % 2 == 1, c > 0 else { continue }
            let last = position - 1
            let xStart = start / h, xEnd = last / h
            minX = min(minX, xStart)
            maxX = max(maxX, xEnd)
            if xStart < xEnd {
                minY = 0
                maxY = h - 1
            } else {
                minY = min(minY, start % h)
                maxY = max(maxY, last % h)
            }
        }
        guard maxX >= 0 else { return [0, 0, 0, 0] }
        return [Double(minX), Double(minY), Double(maxX - minX + 1), Double(maxY - minY + 1)]
    }

    // MARK: Compressed string form

    /// pycocotools' compressed `counts` string: each count (after the third, as the difference
    /// from the count two places before) in 5-bit groups, least significant first, as the
    /// characters 48...111; bit 0x20 says another group follows, bit 0x10 of the last group is
    /// the sign.
    public var compressedString: String {
        var out: [UInt8] = []
        out.reserveCapacity(counts.count * 2)
        for i in counts.indices {
            var x = Int64(counts[i])
            if i > 2 { x -= Int64(counts[i - 2]) }
            var more = true
            while more {
                var c = UInt8(truncatingIfNeeded: x & 0x1f)
                x >>= 5
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                out.append(c + 48)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads pycocotools' compressed string. Unlike pycocotools, which reads any byte and wraps
    /// out-of-range values silently, this throws `.corrupt` for a character outside "0"..."o",
    /// a count outside 0...2^32-1 or counts beyond `height * width` pixels, and `.truncated`
    /// for a string that stops inside a count or before covering every pixel.
    public init(compressed: String, height: Int, width: Int) throws {
        let total = try Self.pixelCount(height: height, width: width)
        var string = compressed
        // The bytes by pointer (no copy for a native string) and the counts written in place: an
        // evaluation decodes tens of thousands of these, and appending one count at a time
        // costs more than the decoding.
        let counts = try string.withUTF8 { bytes throws(SegError) in try Self.decodeCounts(bytes, total: total, height: height, width: width) }
        // pycocotools writes an empty mask as "0" (one empty run); an empty string is the same mask.
        self.init(unchecked: height, width, counts.isEmpty ? [0] : counts)
    }

    /// The same from the string's bytes (text left in a mapped file). With `doubledBackslashes`,
    /// the bytes are the string as a JSON file writes it, where the letter `\` (one of the
    /// encoding's 64) is written twice: each pair is read as one, which spares resolving the
    /// escapes into a copy first. Any other backslash throws `.unsupported`, for the caller to
    /// resolve the string's escapes the long way.
    public init(compressedBytes bytes: UnsafeBufferPointer<UInt8>, height: Int, width: Int,
                doubledBackslashes: Bool = false) throws {
        let total = try Self.pixelCount(height: height, width: width)
        var none = NoRunVisitor()
        let counts = try Self.decodeCounts(bytes, total: total, height: height, width: width, doubledBackslashes: doubledBackslashes,
                                           visiting: &none)
        self.init(unchecked: height, width, counts.isEmpty ? [0] : counts)
    }

    /// The same with the mask's box and area (`summary`), found while decoding: an evaluation
    /// needs both for every detection, and a second pass over the counts cost as much again.
    public static func summarized(compressedBytes bytes: UnsafeBufferPointer<UInt8>, height: Int, width: Int,
                                  doubledBackslashes: Bool = false) throws -> (runs: RLE, summary: Summary) {
        let total = try Self.pixelCount(height: height, width: width)
        var builder = SummaryBuilder(height: height)
        let counts = try Self.decodeCounts(bytes, total: total, height: height, width: width, doubledBackslashes: doubledBackslashes,
                                           visiting: &builder)
        return (RLE(unchecked: height, width, counts.isEmpty ? [0] : counts), builder.summary)
    }

    static func decodeCounts(_ bytes: UnsafeBufferPointer<UInt8>, total: Int, height: Int, width: Int,
                             doubledBackslashes: Bool = false) throws(SegError) -> [UInt32] {
        var none = NoRunVisitor()
        return try decodeCounts(bytes, total: total, height: height, width: width, doubledBackslashes: doubledBackslashes, visiting: &none)
    }

    /// `visitor` sees each run of ones as it is decoded.
    @inline(__always)
    static func decodeCounts<V: RunVisitor>(_ bytes: UnsafeBufferPointer<UInt8>, total: Int, height: Int, width: Int,
                                            doubledBackslashes: Bool, visiting visitor: inout V) throws(SegError) -> [UInt32] {
        // JSON writes the letter `\` as `\\`: such text is first copied with each pair read as one,
        // so that the decoding loop below looks at letters only.
        guard doubledBackslashes, let base = bytes.baseAddress, memchr(base, 92, bytes.count) != nil else {
            return try decodeLetters(bytes, total: total, height: height, width: width, visiting: &visitor)
        }
        let resolved: Result<[UInt32], SegError> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { copy in
            // Copied a stretch at a time, from one backslash pair to the next (one letter in 64 is a
            // backslash: a text of a hundred letters holds one or two).
            guard let out = copy.baseAddress else { return .success([]) }
            var n = 0, i = 0
            while i < bytes.count {
                let next = memchr(base + i, 92, bytes.count - i).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? bytes.count
                (out + n).update(from: base + i, count: next - i)
                n += next - i
                guard next < bytes.count else { break }
                guard next + 1 < bytes.count, bytes[next + 1] == 92 else {
                    return .failure(SegError(.unsupported, file: "", "RLE string holds an escape other than a doubled backslash"))
                }
                out[n] = 92
                n += 1
                i = next + 2
            }
            return Result { () throws(SegError) in
                try decodeLetters(UnsafeBufferPointer(rebasing: copy[0..<n]), total: total, height: height, width: width, visiting: &visitor)
            }
        }
        return try resolved.get()
    }

    /// The counts of pycocotools' letters ("0"..."o", 5 bits and a continuation bit each, the
    /// last one's high bit the sign; from the third count on, each is a difference from the one
    /// two before). Nearly every count takes one or two letters: those are read without a branch
    /// on which it is (a mispredicted branch per count was most of the decoding's time); longer
    /// ones, and the string's last letter, letter by letter.
    @inline(__always)
    static func decodeLetters<V: RunVisitor>(_ bytes: UnsafeBufferPointer<UInt8>, total: Int, height: Int, width: Int,
                                             visiting visitor: inout V) throws(SegError) -> [UInt32] {
        var failure: SegError?
        // Every count takes at least one letter, so the string's length bounds their number.
        let counts = [UInt32](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            var n = 0, covered = 0, i = 0
            defer { initialized = n }
            let end = bytes.count
            while i < end {
                var x: Int64
                let c0 = Int64(bytes[i]) &- 48
                let c1 = i + 1 < end ? Int64(bytes[i + 1]) &- 48 : 64
                let more = (c0 >> 5) & 1  // 1: the count goes on into c1
                if UInt64(bitPattern: c0) < 64 && (more == 0 || UInt64(bitPattern: c1) < 32) {
                    // One letter: 5 bits, sign-extended from bit 4; two: 10 bits, from bit 9.
                    let one = (c0 << 59) >> 59
                    let two = (((c0 & 0x1f) | (c1 << 5)) << 54) >> 54
                    x = more == 0 ? one : two
                    i += 1 + Int(more)
                } else {
                    x = 0
                    var shift: Int64 = 0
                    while true {
                        let c = Int64(bytes[i]) &- 48
                        guard UInt64(bitPattern: c) < 64 else {
                            failure = SegError(.corrupt, file: "", "RLE string has an invalid character at offset \(i)")
                            return
                        }
                        // 7 letters hold 35 bits: every difference of two 32-bit counts fits; longer is not COCO.
                        guard shift < 35 else {
                            failure = SegError(.corrupt, file: "", "RLE string has an over-long count at offset \(i)")
                            return
                        }
                        x |= (c & 0x1f) << shift
                        shift += 5
                        i += 1
                        if c & 0x20 == 0 {
                            if c & 0x10 != 0 { x |= -1 << shift }  // sign-extend
                            break
                        }
                        guard i < end else {
                            failure = SegError(.truncated, file: "", "RLE string ends inside a count")
                            return
                        }
                    }
                }
                if n > 2 { x += Int64(out[n - 2]) }
                guard x >= 0, x <= Int64(UInt32.max) else {
                    failure = SegError(.corrupt, file: "", "RLE string has a count out of range (\(x)) at offset \(i)")
                    return
                }
                if n & 1 == 1 { visitor.ones(start: covered, count: Int(x)) }
                covered += Int(x)
                guard covered <= total else {
                    failure = SegError(.corrupt, file: "", "RLE counts exceed the \(height)x\(width) mask")
                    return
                }
                out[n] = UInt32(x)
                n += 1
            }
            if covered != total { failure = SegError(.truncated, file: "", "RLE counts cover \(covered) of \(total) pixels") }
        }
        if let failure { throw failure }
        return counts
    }

    // MARK: Set operations

    /// Union (or intersection) of RLEs of one size, as pycocotools `merge`: none gives a 0x0 RLE
    /// with no counts, one is returned as is, and the result of two or more is canonical (only
    /// the first run may be empty). pycocotools answers mismatched sizes with an empty 0x0 RLE;
    /// this throws `.invalid` instead.
    public static func merge(_ rles: [RLE], intersect: Bool = false) throws -> RLE {
        guard let first = rles.first else { return RLE(unchecked: 0, 0, []) }
        var counts = first.counts
        for other in rles.dropFirst() {
            guard other.height == first.height, other.width == first.width else {
                throw SegError(.invalid, file: "", "cannot merge RLEs of \(first.height)x\(first.width) and \(other.height)x\(other.width)")
            }
            counts = mergedCounts(counts, other.counts, intersect: intersect)
        }
        return RLE(unchecked: first.height, first.width, counts)
    }

    private static func mergedCounts(_ a: [UInt32], _ b: [UInt32], intersect: Bool) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(max(a.count, b.count))
        var value = false
        var run = 0
        walkRuns(a, b) { length, va, vb in
            let v = intersect ? (va && vb) : (va || vb)
            if v != value {
                out.append(UInt32(run))
                run = 0
                value = v
            }
            run += length
        }
        out.append(UInt32(run))
        return out
    }

    /// Walks two run lists of the same total in step, calling `body` with each stretch where
    /// both values are constant. Empty runs are skipped, so any valid counts work.
    private static func walkRuns(_ a: [UInt32], _ b: [UInt32], _ body: (Int, Bool, Bool) -> Void) {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                var ia = 0, ib = 0  // index of the next run to load
                var ra = 0, rb = 0  // pixels left in the current run
                while true {
                    while ra == 0 && ia < a.count { ra = Int(a[ia]); ia += 1 }
                    while rb == 0 && ib < b.count { rb = Int(b[ib]); ib += 1 }
                    guard ra > 0, rb > 0 else { return }
                    let n = min(ra, rb)
                    // The run loaded from index i holds ones when i is odd; ia is one past it.
                    body(n, ia % 2 == 0, ib % 2 == 0)
                    ra -= n
                    rb -= n
                }
            }
        }
    }

    /// Intersection and union pixel counts of two RLEs of the same size.
    static func overlap(_ a: RLE, _ b: RLE) -> (intersection: Int, union: Int) {
        var i = 0, u = 0
        walkRuns(a.counts, b.counts) { n, va, vb in
            if va || vb { u += n }
            if va && vb { i += n }
        }
        return (i, u)
    }

    /// The IoU of every detection with every ground truth, as pycocotools `iou(dt, gt, iscrowd)`
    /// (`rleIou`), computed on the runs: `result[d][g]`.
    ///
    /// pycocotools' rules, reproduced: the exact overlap is computed only where the bounding
    /// boxes overlap (else 0); a pair of different sizes whose boxes overlap gives -1; no
    /// intersection gives 0; for a crowd ground truth the union is the detection's area.
    /// `iscrowd` must have one entry per ground truth (pycocotools asserts it; this throws
    /// `.invalid`). With no detections the result is empty; with no ground truths it is one
    /// empty row per detection.
    public static func iou(_ dt: [RLE], _ gt: [RLE], iscrowd: [Bool]) throws -> [[Double]] {
        guard iscrowd.count == gt.count else {
            throw SegError(.invalid, file: "", "iscrowd has \(iscrowd.count) entries for \(gt.count) ground truths")
        }
        let dtBoxes = dt.map(\.boundingBox)
        let gtBoxes = gt.map(\.boundingBox)
        let dtAreas = dt.map(\.area)
        var result = [[Double]](repeating: [Double](repeating: 0, count: gt.count), count: dt.count)
        for d in dt.indices {
            for g in gt.indices {
                let crowd = iscrowd[g]
                guard boxIoU(dtBoxes[d], gtBoxes[g], crowd: crowd) > 0 else { continue }
                guard dt[d].height == gt[g].height, dt[d].width == gt[g].width else {
                    result[d][g] = -1
                    continue
                }
                let (i, u) = overlap(dt[d], gt[g])
                if i == 0 { continue }
                result[d][g] = Double(i) / Double(crowd ? dtAreas[d] : u)
            }
        }
        return result
    }

    /// pycocotools `bbIou` for one pair of `[x, y, w, h]` boxes.
    static func boxIoU(_ d: [Double], _ g: [Double], crowd: Bool) -> Double {
        let w = min(d[2] + d[0], g[2] + g[0]) - max(d[0], g[0])
        guard w > 0 else { return 0 }
        let h = min(d[3] + d[1], g[3] + g[1]) - max(d[1], g[1])
        guard h > 0 else { return 0 }
        let i = w * h
        let da = d[2] * d[3], ga = g[2] * g[3]
        return i / (crowd ? da : da + ga - i)
    }
}
