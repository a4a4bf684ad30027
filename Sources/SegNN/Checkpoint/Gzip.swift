import CZlib

/// gzip decompression with zlib (inflate with the gzip wrapper), bounded: a hostile file cannot make
/// it allocate more than `maxBytes`. Model side files (CLIP's BPE merges) are gzipped text.
public enum Gzip {
    public static func decompress(_ input: [UInt8], path: String, maxBytes: Int = 64 << 20) throws(CheckpointError) -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: a 32 KB window and the gzip header / trailer (CRC-32 and length checked by zlib).
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CheckpointError(.corrupt, file: path, "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        var failure: CheckpointError?
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while status != Z_STREAM_END {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = UInt32(c.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return c.count - Int(stream.avail_out)
                }
                if status == Z_BUF_ERROR || (status == Z_OK && produced == 0 && stream.avail_in == 0) {
                    failure = CheckpointError(.truncated, file: path, "the gzip data ends early")
                    return
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    failure = CheckpointError(.corrupt, file: path, "not valid gzip data (zlib error \(status))")
                    return
                }
                out.append(contentsOf: chunk[0..<produced])
                guard out.count <= maxBytes else {
                    failure = CheckpointError(.unsupported, file: path, "decompresses to more than \(maxBytes) bytes")
                    return
                }
            }
        }
        if let failure { throw failure }
        return out
    }
}
