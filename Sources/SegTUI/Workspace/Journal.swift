import Foundation
import SegCore
#if canImport(Glibc)
import Glibc
#endif

/// An append-only log of JSON lines, each fsynced before `append` returns: the record of every
/// action that changes work, written before the action is applied, so a killed session loses nothing.
public final class Journal<Record: Codable & Sendable> {
    public let path: String
    private let descriptor: Int32
    private let encoder: JSONEncoder

    /// Opens (or creates) the journal for appending.
    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SegError(.writeFailed, file: path, "cannot open the journal: \(String(cString: strerror(errno)))")
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    deinit { close(descriptor) }

    public func append(_ record: Record) throws {
        var line = try encoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        var failure: String?
        line.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                written += n
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = "fsync: " + String(cString: strerror(errno)) }
        if let failure { throw SegError(.writeFailed, file: path, "cannot append to the journal: \(failure)") }
    }

    /// The records written so far. A last line cut short by a crash is dropped (its action was
    /// never applied); a damaged line before the end is an error naming the line.
    public static func replay(_ path: String) throws -> [Record] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let bytes = try FileIO.read(path)
        var records: [Record] = []
        let decoder = JSONDecoder()
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let isLast = index == lines.count - 1  // no newline after it: the write was cut short
            do {
                records.append(try decoder.decode(Record.self, from: Data(line)))
            } catch {
                if isLast { break }
                throw SegError(.corrupt, file: path, "journal line \(index + 1) is not a valid record")
            }
        }
        return records
    }
}
