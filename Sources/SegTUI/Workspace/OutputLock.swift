import Foundation
import SegCore
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive hold on an output folder for as long as a workbench session runs: `flock` on
/// `<output>/.segterm.lock`. Two sessions on one folder would each rewrite `instances.json` from
/// their own state and append to one journal, so the second one's saves would silently undo the
/// first's. The kernel drops a flock when its holder exits, however it exits, so a crashed session
/// never leaves a stale lock behind; the file (which holds the holder's pid, for the message) is
/// left in place, since unlinking it would let a third process lock a different inode.
public final class OutputLock {
    public static let fileName = ".segterm.lock"
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, or throws `.locked` naming the folder and the pid that holds it. Creates the
    /// output folder when it does not exist yet; touches nothing else in it.
    public init(folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw SegError(.writeFailed, file: folder, "cannot create the output folder: \(error.localizedDescription)")
        }
        path = folder + "/" + Self.fileName
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SegError(.writeFailed, file: path, "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let reason = errno == EWOULDBLOCK ? nil : String(cString: strerror(errno))
            let holder = Self.holder(descriptor)
            // Thrown from here, `deinit` closes the descriptor (and so releases nothing held).
            if let reason { throw SegError(.writeFailed, file: path, "cannot lock the output folder: \(reason)") }
            throw SegError(.locked, file: folder, "output folder is in use by another segterm (pid \(holder.map(String.init) ?? "unknown")); "
                + "close that session or choose another output folder (--out)")
        }
        // Our pid for the next one's message: rewritten in place, the file is never replaced.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }  // closing the last descriptor releases the flock

    /// The pid written by the holder (nil when it has not written it yet or the file is damaged).
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard got > 0, let text = String(validating: buffer[0..<got], as: UTF8.self) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
