import SegCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ground-truth and prediction files paired by file stem (name without extension).
public struct FilePairs: Sendable {
    public var pairs: [(stem: String, groundTruth: String, prediction: String)]
    /// Prediction files with no ground truth of the same stem (reported, not evaluated).
    public var unpairedPredictions: [String]

    /// Every image file of `groundTruth` must have a prediction of the same stem.
    public static func match(groundTruth: String, predictions: String) throws -> FilePairs {
        let gt = try imageFiles(in: groundTruth)
        let pred = try imageFiles(in: predictions)
        var byStem: [String: String] = [:]
        for file in pred {
            let stem = Self.stem(file)
            if let other = byStem[stem] {
                throw SegError(.invalid, file: predictions, "two predictions share the stem \"\(stem)\": \(other) and \(file)")
            }
            byStem[stem] = file
        }
        var pairs: [(String, String, String)] = []
        var seen = Set<String>()
        for file in gt {
            let stem = Self.stem(file)
            guard seen.insert(stem).inserted else {
                throw SegError(.invalid, file: groundTruth, "two ground-truth files share the stem \"\(stem)\"")
            }
            guard let p = byStem[stem] else {
                throw SegError(.notFound, file: predictions + "/" + stem + ".*", "no prediction for ground truth \(groundTruth)/\(file)")
            }
            pairs.append((stem, groundTruth + "/" + file, predictions + "/" + p))
        }
        guard !pairs.isEmpty else { throw SegError(.invalid, file: groundTruth, "no PNG, JPEG or BMP files in the folder") }
        let unpaired = pred.filter { !seen.contains(Self.stem($0)) }.map { predictions + "/" + $0 }
        return FilePairs(pairs: pairs, unpairedPredictions: unpaired)
    }

    static func stem(_ name: String) -> String { FileName.stem(name) }

    /// Image files (by extension; the reader checks the bytes) in a folder, sorted by name.
    static func imageFiles(in folder: String) throws -> [String] {
        guard let dir = opendir(folder) else {
            throw SegError(errno == ENOENT ? .notFound : .unreadable, file: folder, errno == ENOENT ? "no such folder" : "cannot open the folder")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            let lower = name.lowercased()
            if [".png", ".jpg", ".jpeg", ".bmp", ".npy"].contains(where: { lower.hasSuffix($0) }) { names.append(name) }
        }
        return names.sorted()
    }
}

/// Class names from a text file (one a line, line index = class id; blank lines and `#`
/// comments skipped) or JSON (an array of names, or of `{"id", "name"}` objects).
public enum ClassNames {
    public static func load(_ path: String) throws -> [String] {
        let bytes = try FileIO.read(path, maxBytes: 16 << 20)
        if path.lowercased().hasSuffix(".json") {
            do {
                return try parseJSON(bytes)
            } catch {
                throw error.about(path)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw SegError(.corrupt, file: path, "not UTF-8 text") }
        let names = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingSpaces }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !names.isEmpty else { throw SegError(.invalid, file: path, "no class names") }
        return names
    }

    static func parseJSON(_ bytes: [UInt8]) throws(SegError) -> [String] {
        var names: [(Int, String)] = []
        try bytes.withUnsafeBufferPointer { (buffer) throws(SegError) in
            var json = JSONCursor(buffer)
            var array = try json.beginArray()
            while try json.nextElement(&array) {
                if json.peek() == UInt8(ascii: "\"") {
                    names.append((names.count, try json.string()))
                } else {
                    var object = try json.beginObject()
                    var id = names.count
                    var name: String?
                    while let key = try json.nextKey(&object) {
                        if json.key(key, is: "id") { id = try json.integer() } else if json.key(key, is: "name") { name = try json.string() } else { try json.skipValue() }
                    }
                    guard let name else { throw SegError(.invalid, file: "", "entry \(names.count) has no \"name\"") }
                    guard id >= 0, id < 65536 else { throw SegError(.invalid, file: "", "class id \(id) out of range") }
                    names.append((id, name))
                }
            }
            try json.expectEnd()
        }
        let count = (names.map(\.0).max() ?? -1) + 1
        var out = (0..<count).map { "class \($0)" }
        for (id, name) in names { out[id] = name }
        return out
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
