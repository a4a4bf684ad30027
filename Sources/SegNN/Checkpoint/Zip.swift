import CZlib
/// A minimal reader for the zip container `torch.save` writes: stored (uncompressed) entries,
/// ZIP64 when needed. It locates entries and hands out their bytes from the mapping; it never
/// inflates, so a hostile archive cannot make it allocate. (ZIPFoundation would work too, but it
/// reads through `FileHandle` copies; mapping costs nothing and this is the whole of what we need.)
public struct ZipArchive: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let dataOffset: Int
        public let size: Int
        public let crc32: UInt32
    }

    public let file: MappedFile
    public private(set) var entries: [String: Entry] = [:]
    public private(set) var names: [String] = []

    public init(_ file: MappedFile) throws(CheckpointError) {
        self.file = file
        let r = ByteReader(bytes: file.all)
        let path = file.path
        func corrupt(_ why: String) -> CheckpointError { CheckpointError(.corrupt, file: path, why) }

        // The end-of-central-directory record sits in the last 22 + 65535 bytes.
        var eocd = -1
        var i = file.count - 22
        let stop = max(0, file.count - 22 - 65535)
        while i >= stop {
            if r.u32(i) == 0x0605_4B50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else {
            if r.u32(0) == 0x0403_4B50 {
                throw CheckpointError(.truncated, file: path, "zip archive is truncated (no end-of-central-directory record)")
            }
            throw CheckpointError(.unsupported, file: path, "not a PyTorch zip checkpoint (no zip directory); legacy torch.save files and other formats are not read")
        }
        guard var total = r.u16(eocd + 10), var cdSize = r.u32(eocd + 12), var cdOffset = r.u32(eocd + 16) else {
            throw corrupt("bad end-of-central-directory record")
        }
        if total == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            guard r.u32(eocd - 20) == 0x0706_4B50, let z = r.u64(eocd - 12), r.u32(z) == 0x0606_4B50,
                  let t = r.u64(z + 32), let s = r.u64(z + 40), let o = r.u64(z + 48) else {
                throw corrupt("bad ZIP64 end-of-central-directory record")
            }
            total = t; cdSize = s; cdOffset = o
        }
        guard let cdEnd = checkedAdd(cdOffset, cdSize), cdEnd <= file.count else {
            throw CheckpointError(.truncated, file: path, "zip central directory lies past the end of the file")
        }
        guard total <= cdSize / 46 + 1 else { throw corrupt("zip claims \(total) entries in a \(cdSize)-byte directory") }

        var p = cdOffset
        for _ in 0..<total {
            guard r.u32(p) == 0x0201_4B50, let method = r.u16(p + 10), let crc = r.u32(p + 16),
                  var csize = r.u32(p + 20), var usize = r.u32(p + 24), let nlen = r.u16(p + 28),
                  let elen = r.u16(p + 30), let clen = r.u16(p + 32), var local = r.u32(p + 42),
                  let nameBytes = file.bytes(p + 46, nlen) else {
                throw corrupt("bad zip central directory entry")
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            // ZIP64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in this order.
            var e = p + 46 + nlen
            let eEnd = e + elen
            while e + 4 <= eEnd {
                guard let id = r.u16(e), let len = r.u16(e + 2) else { break }
                if id == 0x0001 {
                    var q = e + 4
                    if usize == 0xFFFF_FFFF { guard let v = r.u64(q) else { throw corrupt("bad ZIP64 field in \(name)") }; usize = v; q += 8 }
                    if csize == 0xFFFF_FFFF { guard let v = r.u64(q) else { throw corrupt("bad ZIP64 field in \(name)") }; csize = v; q += 8 }
                    if local == 0xFFFF_FFFF { guard let v = r.u64(q) else { throw corrupt("bad ZIP64 field in \(name)") }; local = v; q += 8 }
                }
                e += 4 + len
            }
            guard method == 0 else {
                throw CheckpointError(.unsupported, file: path, "zip entry \(name) is compressed (method \(method)); torch.save stores entries uncompressed")
            }
            guard csize == usize else { throw corrupt("zip entry \(name): stored sizes differ") }
            guard r.u32(local) == 0x0403_4B50, let ln = r.u16(local + 26), let le = r.u16(local + 28) else {
                throw CheckpointError(.truncated, file: path, "zip entry \(name): local header missing or truncated")
            }
            let start = local + 30 + ln + le
            guard let end = checkedAdd(start, usize), end <= file.count else {
                throw CheckpointError(.truncated, file: path, "zip entry \(name) is truncated (needs \(usize) bytes at offset \(start), the file has \(file.count))")
            }
            if entries[name] == nil { names.append(name) }
            entries[name] = Entry(name: name, dataOffset: start, size: usize, crc32: UInt32(crc))
            p += 46 + nlen + elen + clen
        }
    }

    /// The bytes of an entry after checking its CRC-32 (a flipped bit is reported, not loaded).
    public func data(_ entry: Entry) throws(CheckpointError) -> UnsafeRawBufferPointer {
        guard let b = file.bytes(entry.dataOffset, entry.size) else {
            throw CheckpointError(.truncated, file: file.path, "zip entry \(entry.name) is truncated")
        }
        guard CRC32.checksum(b) == entry.crc32 else {
            throw CheckpointError(.corrupt, file: file.path, "zip entry \(entry.name) fails its CRC-32 check")
        }
        return b
    }
}

/// CRC-32 (IEEE, as zip), zlib's.
enum CRC32 {
    static func checksum(_ b: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = b.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        return UInt32(truncatingIfNeeded: crc32_z(0, base, b.count))
    }
}
