import CZlib

extension NIfTI {
    /// Writes a label volume with the header of the image it labels (`like`): the same version,
    /// dimensions, voxel sizes, qform and sform, units and description, so the labels sit where
    /// the image does. The voxels are uint8 when every label fits, else uint16; no scaling. The
    /// file is gzip-compressed when `path` ends in `.gz`, and written atomically.
    public static func write(_ labels: LabelVolume, like source: NIfTIHeader, to path: String) throws {
        guard labels.geometry.size == source.size else {
            throw SegError(.invalid, file: path, "the labels are \(labels.geometry.size.map(String.init).joined(separator: "×")), the source image \(source.size.map(String.init).joined(separator: "×"))")
        }
        var header = source
        let wide = labels.voxels.contains { $0 > 255 }
        header.dataType = wide ? .uint16 : .uint8
        header.sclSlope = 1
        header.sclInter = 0
        header.littleEndian = true
        header.singleFile = true
        header.voxOffset = header.version == .nifti1 ? 352 : 544
        var bytes = header.encoded()
        bytes.reserveCapacity(bytes.count + labels.voxels.count * (wide ? 2 : 1))
        if wide {
            for v in labels.voxels { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
        } else {
            bytes += labels.voxels.map { UInt8(truncatingIfNeeded: $0) }
        }
        try FileIO.writeAtomically(path.hasSuffix(".gz") ? try gzip(bytes, path: path) : bytes, to: path)
    }

    /// A whole buffer through zlib's deflate with the gzip wrapper (level 1, as nibabel writes).
    static func gzip(_ input: [UInt8], path: String) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SegError(.writeFailed, file: path, "zlib's deflate could not start")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw SegError(.writeFailed, file: path, "zlib's deflate failed (\(status))") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}

extension NIfTIHeader {
    /// The header as little-endian bytes, padded to vox_offset with a zero extension flag.
    func encoded() -> [UInt8] {
        var w = FieldWriter(count: voxOffset)
        if version == .nifti1 {
            w.i32(0, 348)
            w.bytes(39, [dimInfo])
            for i in 0..<8 { w.i16(40 + 2 * i, Int16(clamping: dims[i])) }
            w.i16(68, Int16(clamping: intentCode))
            w.i16(70, Int16(dataType.rawValue))
            w.i16(72, Int16(dataType.bytes * 8))
            for i in 0..<8 { w.f32(76 + 4 * i, Float(pixdim[i])) }
            w.f32(108, Float(voxOffset))
            w.f32(112, Float(sclSlope))
            w.f32(116, Float(sclInter))
            w.bytes(123, [UInt8(clamping: xyztUnits)])
            w.bytes(148, Array(descrip.utf8.prefix(79)))
            w.i16(252, Int16(clamping: qformCode))
            w.i16(254, Int16(clamping: sformCode))
            for i in 0..<3 { w.f32(256 + 4 * i, Float(quatern[i])); w.f32(268 + 4 * i, Float(qoffset[i])) }
            for r in 0..<3 { for c in 0..<4 { w.f32(280 + 16 * r + 4 * c, Float(srow[r][c])) } }
            w.bytes(344, Array("n+1\0".utf8))
        } else {
            w.i32(0, 540)
            w.bytes(4, [0x6E, 0x2B, 0x32, 0, 0x0D, 0x0A, 0x1A, 0x0A])
            w.i16(12, Int16(dataType.rawValue))
            w.i16(14, Int16(dataType.bytes * 8))
            for i in 0..<8 { w.i64(16 + 8 * i, Int64(dims[i])) }
            for i in 0..<8 { w.f64(104 + 8 * i, pixdim[i]) }
            w.i64(168, Int64(voxOffset))
            w.f64(176, sclSlope)
            w.f64(184, sclInter)
            w.bytes(240, Array(descrip.utf8.prefix(79)))
            w.i32(344, Int32(clamping: qformCode))
            w.i32(348, Int32(clamping: sformCode))
            for i in 0..<3 { w.f64(352 + 8 * i, quatern[i]); w.f64(376 + 8 * i, qoffset[i]) }
            for r in 0..<3 { for c in 0..<4 { w.f64(400 + 32 * r + 8 * c, srow[r][c]) } }
            w.i32(500, Int32(clamping: xyztUnits))
            w.i32(504, Int32(clamping: intentCode))
            w.bytes(524, [dimInfo])
        }
        return w.out
    }
}

private struct FieldWriter {
    var out: [UInt8]
    init(count: Int) { out = [UInt8](repeating: 0, count: count) }
    mutating func put(_ at: Int, _ value: UInt64, _ n: Int) {
        for k in 0..<n { out[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
    }
    mutating func bytes(_ at: Int, _ b: [UInt8]) { for (k, v) in b.enumerated() { out[at + k] = v } }
    mutating func i16(_ at: Int, _ v: Int16) { put(at, UInt64(UInt16(bitPattern: v)), 2) }
    mutating func i32(_ at: Int, _ v: Int32) { put(at, UInt64(UInt32(bitPattern: v)), 4) }
    mutating func i64(_ at: Int, _ v: Int64) { put(at, UInt64(bitPattern: v), 8) }
    mutating func f32(_ at: Int, _ v: Float) { put(at, UInt64(v.bitPattern), 4) }
    mutating func f64(_ at: Int, _ v: Double) { put(at, v.bitPattern, 8) }
}
