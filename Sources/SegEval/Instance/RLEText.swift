import SegCore

/// A compressed RLE `counts` string left where it is in a mapped JSON file: the evaluation keeps
/// where each mask's text lies instead of a copy of it (most of a results file's bytes), and
/// decodes it when the mask's image is evaluated.
public struct RLEText: Sendable {
    let source: MappedInputFile
    /// Where the text between the quotes starts in the file, and its length (escapes included).
    let offset: Int
    let length: UInt32
    let height: Int32
    let width: Int32

    init(source: MappedInputFile, range: Range<Int>, height: Int, width: Int) throws(SegError) {
        guard range.count <= Int(UInt32.max), height <= Int(Int32.max), width <= Int(Int32.max) else {
            throw SegError(.tooLarge, file: "", "RLE of \(height)x\(width) with \(range.count) characters is too large")
        }
        self.source = source
        offset = range.lowerBound
        length = UInt32(range.count)
        self.height = Int32(height)
        self.width = Int32(width)
    }

    /// The text with its JSON escapes resolved (RLE text may hold `\\`).
    public var string: String {
        (try? withBytes { String(decoding: $0, as: UTF8.self) }) ?? ""
    }

    /// The runs the text encodes (`RLE(compressed:height:width:)`'s checks and errors).
    public func decode() throws -> RLE { try decodeSummarized().runs }

    /// The runs with their box and area (`RLE.summarized`).
    public func decodeSummarized() throws -> (runs: RLE, summary: RLE.Summary) {
        // Straight from the file's bytes, reading JSON's `\\` as one backslash (nearly every
        // text has one); any other escape, rare in RLE text, is resolved into a copy first.
        do {
            return try withExtendedLifetime(source) {
                try RLE.summarized(compressedBytes: UnsafeBufferPointer(rebasing: source.bytes[offset..<(offset + Int(length))]),
                                   height: Int(height), width: Int(width), doubledBackslashes: true)
            }
        } catch let error as SegError where error.kind == .unsupported {
            return try withBytes { try RLE.summarized(compressedBytes: $0, height: Int(height), width: Int(width)) }
        }
    }

    /// The unescaped bytes: the file's own when the text has no escape, else resolved on the
    /// stack (`\\` and `\/`, the escapes an RLE text can need; anything else through the cursor).
    /// Nearly every text of a few hundred characters holds a backslash, one of its 64 letters.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        try withExtendedLifetime(source) {
            let raw = UnsafeBufferPointer(rebasing: source.bytes[offset..<(offset + Int(length))])
            let backslash = UInt8(ascii: "\\")
            guard raw.contains(backslash) else { return try body(raw) }
            let resolved: R? = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(raw.count, 1)) { out in
                var n = 0, i = 0
                while i < raw.count {
                    var c = raw[i]
                    if c == backslash {
                        guard i + 1 < raw.count, raw[i + 1] == backslash || raw[i + 1] == UInt8(ascii: "/") else { return nil }
                        i += 1
                        c = raw[i]
                    }
                    out[n] = c
                    n += 1
                    i += 1
                }
                return .some(try body(UnsafeBufferPointer(rebasing: out[0..<n])))
            }
            if let resolved { return resolved }
            // The cursor resolves any escape over the quoted string (offset - 1 is the opening quote).
            var cursor = JSONCursor(UnsafeBufferPointer(rebasing: source.bytes[(offset - 1)..<(offset + Int(length) + 1)]))
            let bytes = try cursor.stringBytes()
            return try bytes.withUnsafeBufferPointer { try body($0) }
        }
    }
}

extension RLEText: Equatable {
    public static func == (a: RLEText, b: RLEText) -> Bool {
        a.height == b.height && a.width == b.width && a.string == b.string
    }
}
