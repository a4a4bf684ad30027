import Foundation
import Testing
@testable import SegCore
#if canImport(Glibc)
import Glibc
#endif

@Suite("Atomic writes")
struct FileIOTests {
    @Test("a regular file is replaced whole, with no temporary file left")
    func regularFile() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("out.json").path
        try FileIO.writeAtomically(Array("old, longer".utf8), to: path)
        try FileIO.writeAtomically(Array("new".utf8), to: path)
        #expect(try FileIO.read(path) == Array("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.json"])
    }

    /// `--out /dev/null` run as root once replaced the device with a file: a path that is no
    /// regular file must be written into, never renamed over. A FIFO stands in for the device.
    @Test("a FIFO (like /dev/null or /dev/stdout) is written into and stays a FIFO; a folder is refused")
    func notARegularFile() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("pipe").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        try #require(reader >= 0)
        defer { close(reader) }
        try FileIO.writeAtomically(Array("through".utf8), to: fifo)
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(reader, &buffer, buffer.count)
        #expect(n == 7 && Array(buffer.prefix(max(n, 0))) == Array("through".utf8))
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["pipe"])
        #expect(throws: SegError.self) { try FileIO.writeAtomically([1], to: folder.path) }
    }
}
