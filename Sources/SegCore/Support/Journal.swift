import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An append-only log of JSON lines, each fsynced before `append` returns: the record of every
/// action that changes work, written before the action is applied, so a killed session loses nothing.
public final class Journal<Record: Codable & Sendable> {
    public let path: String
    private let descriptor: Int32
    private let encoder: JSONEncoder

    /// What a replay found: the records, and a message for the user when a torn last line was dropped.
    public struct Replay {
        public var records: [Record]
        public var warning: String?
        /// Bytes up to and including the last complete line: what `init` keeps when it repairs.
        public var validLength: Int
    }

    /// Opens (or creates) the journal for appending. A torn last line (no newline: the power went
    /// while it was written) is cut off first; appending after it would glue the next record onto
    /// the fragment, and that damaged line, no longer the last, would stop the next replay.
    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SegError(.writeFailed, file: path, "cannot open the journal: \(String(cString: strerror(errno)))")
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let length = try Self.completeLength(descriptor, path: path)
        var info = stat()
        if fstat(descriptor, &info) == 0, Int(info.st_size) > length {
            guard ftruncate(descriptor, off_t(length)) == 0, fsync(descriptor) == 0 else {
                throw SegError(.writeFailed, file: path, "cannot cut the torn last line: \(String(cString: strerror(errno)))")
            }
        }
        // A throw above still runs `deinit` (every property is set by then), which closes the
        // descriptor: closing it here as well closed whatever file another thread had opened
        // under the same number meanwhile.
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

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

    /// The records written so far (see `restore`, which also says when a torn line was dropped).
    public static func replay(_ path: String) throws -> [Record] { try restore(path).records }

    /// The records written so far. A last line without its newline was cut short by a crash: every
    /// record is written with its newline in one `write` and the action is applied only after the
    /// fsync, so that line's action never happened; it is dropped, with a warning for the user.
    /// A damaged line before the end is an error naming the line.
    public static func restore(_ path: String) throws -> Replay {
        guard FileManager.default.fileExists(atPath: path) else { return Replay(records: [], warning: nil, validLength: 0) }
        return try decode(try FileIO.read(path), file: path)
    }

    /// `restore` on bytes already read (the fuzz target calls this).
    public static func decode(_ bytes: [UInt8], file: String) throws -> Replay {
        var records: [Record] = []
        let decoder = JSONDecoder()
        let newline = UInt8(ascii: "\n")
        let validLength = bytes.lastIndex(of: newline).map { $0 + 1 } ?? 0
        var lineNumber = 0
        var start = 0
        while start < validLength {
            let end = bytes[start..<validLength].firstIndex(of: newline)!  // validLength ends in a newline
            lineNumber += 1
            defer { start = end + 1 }
            if end == start { continue }
            do {
                records.append(try decoder.decode(Record.self, from: Data(bytes[start..<end])))
            } catch {
                throw SegError(.corrupt, file: file, "journal line \(lineNumber) is not a valid record")
            }
        }
        var warning: String?
        if validLength < bytes.count {
            warning = "\(file): dropped a torn last journal line (\(bytes.count - validLength) bytes, cut short by a crash); "
                + "the \(records.count) records before it are restored"
        }
        return Replay(records: records, warning: warning, validLength: validLength)
    }

    /// The length of the file up to its last newline, read from the end in small blocks.
    private static func completeLength(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SegError(.unreadable, file: path, "cannot stat the journal") }
        var end = Int(info.st_size)
        var block = [UInt8](repeating: 0, count: 4096)
        while end > 0 {
            let start = max(0, end - block.count)
            let got = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, end - start, off_t(start)) }
            guard got == end - start else { throw SegError(.unreadable, file: path, "cannot read the journal") }
            if let last = block[0..<got].lastIndex(of: UInt8(ascii: "\n")) { return start + last + 1 }
            end = start
        }
        return 0
    }
}
