import Foundation
import SegCore
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive hold on an output folder for as long as a workbench session runs: `flock` on
/// `<output>/.segterm.lock`. Two sessions on one folder would each rewrite `instances.json` from
/// their own state and append to one journal, so the second one's saves would silently undo the
/// first's. The kernel drops a flock when its holder exits, however it exits, so a crashed session
/// never leaves a stale lock behind (a crash leaves the file, which holds the holder's pid for the
/// message, but not the lock). A clean end removes the file, while still holding the lock; a
/// taker checks after locking that the path is still the inode it locked, else a session that
/// opened the file just before its removal and one that made a new file would both hold "it".
public final class OutputLock {
    public static let fileName = ".segterm.lock"
    public let path: String
    private let descriptor: Int32
    private var released = false

    /// Takes the lock, or throws `.locked` naming the folder and the pid that holds it. Creates the
    /// output folder when it does not exist yet; touches nothing else in it.
    public init(folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw SegError(.writeFailed, file: folder, "cannot create the output folder: \(error.localizedDescription)")
        }
        path = folder + "/" + Self.fileName
        var descriptor: Int32 = -1
        while true {
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw SegError(.writeFailed, file: path, "cannot open the lock file: \(String(cString: strerror(errno)))")
            }
            var failure: SegError?
            while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                if errno == EINTR { continue }
                if errno == EWOULDBLOCK {
                    failure = SegError(.locked, file: folder, "output folder is in use by another segterm (pid \(Self.holder(descriptor).map(String.init) ?? "unknown")); "
                        + "close that session or choose another output folder (--out)")
                } else {
                    failure = SegError(.writeFailed, file: path, "cannot lock the output folder: \(String(cString: strerror(errno)))")
                }
                break
            }
            if let failure {
                close(descriptor)
                throw failure
            }
            if Self.isStillAtPath(descriptor, path) { break }
            close(descriptor)  // removed by its last holder after we opened it: take the new file
        }
        self.descriptor = descriptor
        // Our pid for the next one's message: rewritten in place, the file is never replaced.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Ends the hold on a clean quit: the file goes (while still locked), then the lock.
    public func release() {
        guard descriptor >= 0, !released else { return }
        released = true
        unlink(path)
        close(descriptor)
    }

    deinit { release() }

    /// Whether the locked descriptor is still the file at `path` (not one removed meanwhile).
    private static func isStillAtPath(_ fd: Int32, _ path: String) -> Bool {
        var open = stat(), named = stat()
        guard fstat(fd, &open) == 0, stat(path, &named) == 0 else { return false }
        return open.st_ino == named.st_ino && open.st_dev == named.st_dev
    }

    /// The pid written by the holder (nil when it has not written it yet or the file is damaged).
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard got > 0, let text = String(validating: buffer[0..<got], as: UTF8.self) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
