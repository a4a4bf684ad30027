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
    public func decode() throws -> RLE {
        try withBytes { try RLE(compressedBytes: $0, height: Int(height), width: Int(width)) }
    }

    /// The unescaped bytes: the file's own when the text has no escape (the usual case for a
    /// string without a backslash), else a resolved copy.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        let raw = UnsafeBufferPointer(rebasing: source.bytes[offset..<(offset + Int(length))])
        if !raw.contains(UInt8(ascii: "\\")) { return try withExtendedLifetime(source) { try body(raw) } }
        // The cursor resolves escapes over the quoted string (offset - 1 is the opening quote).
        var cursor = JSONCursor(UnsafeBufferPointer(rebasing: source.bytes[(offset - 1)..<(offset + Int(length) + 1)]))
        let resolved = try withExtendedLifetime(source) { () throws(SegError) in try cursor.stringBytes() }
        return try resolved.withUnsafeBufferPointer { try body($0) }
    }
}

extension RLEText: Equatable {
    public static func == (a: RLEText, b: RLEText) -> Bool {
        a.height == b.height && a.width == b.width && a.string == b.string
    }
}
