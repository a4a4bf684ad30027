#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only: checkpoints are gigabytes, and mapping lets the loader copy each
/// tensor once, from the page cache into the model, instead of reading the file into an array first.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and lives as long as the object.
    public let path: String
    public let count: Int
    private let base: UnsafeRawPointer?

    public init(path: String) throws(CheckpointError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw CheckpointError(.notFound, file: path, "no such file") }
            throw CheckpointError(.unreadable, file: path, "cannot open: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CheckpointError(.unreadable, file: path, "cannot stat") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw CheckpointError(.unreadable, file: path, "is a directory") }
        let size = Int(info.st_size)
        guard size > 0 else { throw CheckpointError(.truncated, file: path, "file is empty") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw CheckpointError(.unreadable, file: path, "cannot map: \(String(cString: strerror(errno)))")
        }
        count = size
        base = UnsafeRawPointer(p)
    }

    /// For tests and in-memory data: a private copy of `bytes`.
    public init(bytes: [UInt8], name: String) {
        path = name
        count = bytes.count
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: bytes.count) } }
        base = UnsafeRawPointer(p)
        owned = true
    }

    private var owned = false

    deinit {
        guard let base else { return }
        if owned { UnsafeMutableRawPointer(mutating: base).deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The bytes [offset, offset + length), or nil when that range is not inside the file.
    public func bytes(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0, let end = checkedAdd(offset, length), end <= count, let base else { return nil }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }

    public var all: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Gives back the page cache's pages of [offset, offset + length) that lie wholly inside it,
    /// once their bytes are copied: a model's weights are then in memory once, as its own copy,
    /// not also as the mapped file (3.3 GB twice for SAM 3). Reading them again refaults them
    /// from the file, so releasing is always safe.
    public func releasePages(_ offset: Int, _ length: Int) {
        guard !owned, let base, length > 0, offset >= 0, offset + length <= count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: base) + offset, end = start + length
        let first = (start + page - 1) / page * page, last = end / page * page
        guard last > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(p, last - first, MADV_DONTNEED)
    }
}

/// Little-endian field reads that return nil instead of reading past the end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    func u8(_ at: Int) -> UInt8? { at >= 0 && at < bytes.count ? bytes[at] : nil }

    func u16(_ at: Int) -> Int? {
        guard at >= 0, at + 2 <= bytes.count else { return nil }
        return Int(bytes[at]) | Int(bytes[at + 1]) << 8
    }

    func u32(_ at: Int) -> Int? {
        guard at >= 0, at + 4 <= bytes.count else { return nil }
        var v = 0
        for i in 0..<4 { v |= Int(bytes[at + i]) << (8 * i) }
        return v
    }

    /// A u64 that must fit a non-negative Int (sizes and offsets).
    func u64(_ at: Int) -> Int? {
        guard at >= 0, at + 8 <= bytes.count else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return v <= UInt64(Int.max) ? Int(v) : nil
    }
}
