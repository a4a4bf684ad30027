#if canImport(Glibc)
import Glibc
#endif

/// A file's bytes, mapped read-only, whose pages can be handed back while the bytes stay
/// readable: `release` drops the pages of a range from the process (a later read faults them in
/// again from the page cache). The evaluation reads a results file of hundreds of megabytes this
/// way: it parses it once, keeps only where each mask's RLE text is, and decodes that text image by
/// image, releasing what it has read, so its resident memory does not hold the file.
///
/// A file that cannot be mapped (a pipe, a FIFO) is read into memory instead; `release` is then a
/// no-op. The file must not be truncated while it is mapped (reading past the new end would
/// fault): the evaluation's inputs are files nobody writes during the run.
public final class MappedInputFile: @unchecked Sendable {
    public let path: String
    /// Immutable after `init`; shared read-only between threads.
    public let bytes: UnsafeBufferPointer<UInt8>
    private let mapped: Bool
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    public init(_ path: String, maxBytes: Int = FileIO.defaultMaxBytes) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SegError(.unreadable, file: path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SegError(.unreadable, file: path, "cannot stat: \(String(cString: strerror(errno)))") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw SegError(.unreadable, file: path, "is a directory") }
        let size = Int(info.st_size)
        if size > maxBytes { throw SegError(.tooLarge, file: path, "file is \(size) bytes, above the limit of \(maxBytes)") }
        if (info.st_mode & S_IFMT) == S_IFREG, size > 0,
           let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED {
            _ = madvise(p, size, MADV_SEQUENTIAL)
            bytes = UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: size)
            mapped = true
        } else {
            // Not mappable (or empty): read it whole, as FileIO does.
            let copy = try FileIO.read(path, maxBytes: maxBytes)
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(copy.count, 1))
            _ = buffer.initialize(from: copy)
            bytes = UnsafeBufferPointer(start: buffer.baseAddress, count: copy.count)
            mapped = false
        }
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            UnsafeMutablePointer(mutating: base).deallocate()
        }
    }

    /// Hands back the whole pages inside `range` (their bytes stay readable).
    public func release(_ range: Range<Int>) {
        guard mapped, let base = bytes.baseAddress else { return }
        let lower = (max(range.lowerBound, 0) + pageSize - 1) / pageSize * pageSize
        let upper = min(range.upperBound, bytes.count) / pageSize * pageSize
        guard upper > lower else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + lower), upper - lower, MADV_DONTNEED)
    }

    /// Hands back every page (the last partial page included).
    public func releaseAll() {
        guard mapped, let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_DONTNEED)
    }
}
