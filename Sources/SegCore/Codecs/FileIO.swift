#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic writes with errors that name the file.
public enum FileIO {
    /// Files larger than this are refused before reading (a guard against reading a disk image by mistake).
    public static let defaultMaxBytes = 4 << 30

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// A regular file's size and modification time ("size=N mtime=S.NS"), nil for anything else:
    /// what says a large file is unchanged without reading it.
    public static func stamp(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return "size=\(st.st_size) mtime=\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    public static func read(_ path: String, maxBytes: Int = defaultMaxBytes) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw openError(path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SegError(.unreadable, file: path, "cannot stat: \(errnoText())") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw SegError(.unreadable, file: path, "is a directory") }
        let expected = Int(info.st_size)
        if expected > maxBytes { throw SegError(.tooLarge, file: path, "file is \(expected) bytes, above the limit of \(maxBytes)") }

        // The size stat gives is read straight into the array (no chunk copies: an 18 MB results
        // file took 9 ms through a 64 KB buffer); a file that grows meanwhile is read on below.
        var bytes = [UInt8](unsafeUninitializedCapacity: max(expected, 0)) { buffer, count in
            count = 0
            while count < buffer.count {
                let got = Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                count += got
            }
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw SegError(.unreadable, file: path, "read failed: \(errnoText())")
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
            if bytes.count > maxBytes { throw SegError(.tooLarge, file: path, "file is above the limit of \(maxBytes) bytes") }
        }
        return bytes
    }

    /// At most the first `count` bytes of a file (fewer when it is shorter), or nil when it cannot
    /// be read: what format sniffing needs, without reading a results file of gigabytes whole.
    public static func head(_ path: String, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { return nil }
        var bytes = [UInt8](repeating: 0, count: max(count, 0))
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { return nil }
            if got == 0 { break }
            filled += got
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Writes through a temporary file in the same folder, fsyncs it, renames it over `path` and
    /// fsyncs the folder: a reader sees the old file or the new one, never a half-written one.
    /// A path that is no regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written into as it
    /// is: renaming over it would replace the device with a file (and as root, does).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        var target = stat()
        if stat(path, &target) == 0, (target.st_mode & S_IFMT) != S_IFREG {
            guard (target.st_mode & S_IFMT) != S_IFDIR else { throw SegError(.writeFailed, file: path, "is a folder") }
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SegError(.writeFailed, file: path, "cannot open: \(errnoText())") }
            defer { close(fd) }
            if let failure = writeAll(bytes, to: fd) { throw SegError(.writeFailed, file: path, failure) }
            return
        }
        let folder = parentFolder(of: path)
        let base = FileName.last(path)
        let temp = folder + "/." + base + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SegError(.writeFailed, file: path, "cannot create a temporary file: \(errnoText())") }
        var failure = writeAll(bytes, to: fd)
        if failure == nil && fsync(fd) != 0 { failure = "fsync failed: \(errnoText())" }
        close(fd)
        if let failure {
            unlink(temp)
            throw SegError(.writeFailed, file: path, failure)
        }
        guard rename(temp, path) == 0 else {
            let text = errnoText()
            unlink(temp)
            throw SegError(.writeFailed, file: path, "rename failed: \(text)")
        }
        let dirfd = open(folder, O_RDONLY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    /// Every byte to `fd`, retrying short writes; the failure's text, or nil.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> String? {
        var written = 0
        return bytes.withUnsafeBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            while written < raw.count {
                let n = Glibc.write(fd, base + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return "write failed: \(errnoText())"
                }
                written += n
            }
            return nil
        }
    }

    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    static func openError(_ path: String) -> SegError {
        switch errno {
        case ENOENT: SegError(.notFound, file: path, "no such file")
        case EACCES: SegError(.unreadable, file: path, "permission denied")
        default: SegError(.unreadable, file: path, "cannot open: \(errnoText())")
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
