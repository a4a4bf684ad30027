import Foundation
import SegCore

/// What accumulation reads of the matching's cells — per cell its ground truth that counts per
/// area range, per detection its score and its match and ignore flags — kept in a temporary file,
/// category by category, while the streamed evaluation matches its batches of images. Memory then
/// holds one batch's cells instead of the run's (about 150 bytes per detection), and accumulation
/// reads back one category at a time.
///
/// The file is removed as soon as it is open, so it is gone when the process ends, however it
/// ends. It lies in `TMPDIR` (or /tmp); a full disk is a `writeFailed` error naming it.
final class CellSpill: @unchecked Sendable {
    private let descriptor: Int32
    let path: String
    private let areaRanges: Int, thresholds: Int
    /// Per category, its segments in the order written (batch order): offset and length.
    private var segments: [[(offset: Int, length: Int)]]
    private var size = 0

    /// `folder`: where the file is made (TMPDIR by default, else /tmp).
    init(categories: Int, areaRanges: Int, thresholds: Int, folder: String = CellSpill.defaultFolder) throws(SegError) {
        var template = Array((folder + "/segterm-eval-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let name = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard fd >= 0 else {
            throw SegError(.writeFailed, file: name, "cannot create the evaluation's temporary file: \(String(cString: strerror(errno))) (set TMPDIR to a writable folder)")
        }
        unlink(name)
        descriptor = fd
        path = name
        self.areaRanges = areaRanges
        self.thresholds = thresholds
        segments = [[(offset: Int, length: Int)]](repeating: [], count: categories)
    }

    static var defaultFolder: String {
        ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    deinit { close(descriptor) }

    /// Appends one batch's cells (image-major, as the matching gives them): grouped by category,
    /// image order kept within each. `imageOffset`: the batch's first image in the whole run.
    func append(_ cells: [COCOImageCategoryEval], imageOffset: Int) throws(SegError) {
        guard !cells.isEmpty else { return }
        let A = areaRanges, T = thresholds
        var order = Array(cells.indices)
        order.sort { cells[$0].categoryIndex != cells[$1].categoryIndex ? cells[$0].categoryIndex < cells[$1].categoryIndex : $0 < $1 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(cells.reduce(0) { $0 + 8 + 4 * A + $1.detectionCount * (8 + A * T) })
        var start = 0, current = -1
        func close() {
            if current >= 0 { segments[current].append((size + start, bytes.count - start)) }
        }
        for c in order {
            let cell = cells[c]
            if cell.categoryIndex != current {
                close()
                current = cell.categoryIndex
                start = bytes.count
            }
            precondition(cell.nonIgnoredCount.count == A && cell.flags.count == A * T * cell.detectionCount, "cell of another layout")
            Self.put(Int32(cell.detectionCount), &bytes)
            Self.put(Int32(cell.imageIndex + imageOffset), &bytes)
            cell.nonIgnoredCount.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
            cell.scores.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
            cell.flags.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
        }
        close()
        try write(bytes, at: size)
        size += bytes.count
    }

    /// Category k's cells in the order written, with the tables accumulation reads filled
    /// (detections' scores and flags, counted ground truth per area range) and no others.
    func cells(ofCategory k: Int) throws(SegError) -> [COCOImageCategoryEval] {
        let A = areaRanges, T = thresholds
        var out: [COCOImageCategoryEval] = []
        for segment in segments[k] {
            let bytes = try read(segment.length, at: segment.offset)
            let parsed: [COCOImageCategoryEval]? = bytes.withUnsafeBytes { raw in
                var cells: [COCOImageCategoryEval] = []
                var at = 0
                while at < raw.count {
                    guard at + 8 + 4 * A <= raw.count, let base = raw.baseAddress else { return nil }
                    let D = Int(raw.loadUnaligned(fromByteOffset: at, as: Int32.self))
                    let image = Int(raw.loadUnaligned(fromByteOffset: at + 4, as: Int32.self))
                    at += 8
                    guard D >= 0, at + 4 * A + D * (8 + A * T) <= raw.count else { return nil }
                    let tables = COCOImageCategoryEval.Tables(D: D, G: 0, A: A, T: T, iouCount: 0)
                    let layout = tables.tableLayout
                    UnsafeMutableRawPointer(tables.pointer(layout.nonIgnoredAt, as: Int32.self)).copyMemory(from: base + at, byteCount: 4 * A)
                    at += 4 * A
                    UnsafeMutableRawPointer(tables.pointer(layout.scoresAt, as: Double.self)).copyMemory(from: base + at, byteCount: 8 * D)
                    at += 8 * D
                    UnsafeMutableRawPointer(tables.pointer(layout.flagsAt, as: UInt8.self)).copyMemory(from: base + at, byteCount: A * T * D)
                    at += A * T * D
                    cells.append(COCOImageCategoryEval(imageIndex: image, categoryIndex: k, tables: tables))
                }
                return cells
            }
            guard let parsed else { throw damaged() }
            out.append(contentsOf: parsed)
        }
        return out
    }

    private func damaged() -> SegError {
        SegError(.corrupt, file: path, "the evaluation's temporary file does not read back as written (was it changed on disk?)")
    }

    private static func put(_ value: Int32, _ bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private func write(_ bytes: [UInt8], at offset: Int) throws(SegError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw SegError(.writeFailed, file: path, "cannot write the evaluation's temporary file: \(String(cString: strerror(errno))) (is \(Self.folder(path)) full? set TMPDIR to another folder)")
            }
            done += n
        }
    }

    private func read(_ count: Int, at offset: Int) throws(SegError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw damaged() }
            done += n
        }
        return bytes
    }

    private static func folder(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}
