/// The fields of a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header that segterm reads and writes
/// back. Parsed from either byte order; written little-endian.
public struct NIfTIHeader: Sendable, Equatable {
    public enum Version: Int, Sendable { case nifti1 = 1, nifti2 = 2 }
    /// NIfTI's datatype codes for the voxel types segterm reads.
    public enum DataType: Int, Sendable, CaseIterable {
        case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64, int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024

        public var bytes: Int {
            switch self {
            case .uint8, .int8: 1
            case .int16, .uint16: 2
            case .int32, .uint32, .float32: 4
            case .float64, .int64: 8
            }
        }
    }

    public var version: Version
    public var littleEndian: Bool
    public var dataType: DataType
    /// dim[0...7] as written (dim[0] is the number of dimensions).
    public var dims: [Int]
    /// pixdim[0...7] (pixdim[0] is qfac).
    public var pixdim: [Double]
    public var voxOffset: Int
    public var sclSlope: Double
    public var sclInter: Double
    public var qformCode: Int
    public var sformCode: Int
    public var quatern: [Double]   // b, c, d
    public var qoffset: [Double]   // x, y, z
    public var srow: [[Double]]    // srow_x, srow_y, srow_z (4 each)
    public var xyztUnits: Int
    public var dimInfo: UInt8
    public var intentCode: Int
    public var descrip: String
    /// True for `n+1` / `n+2` (data after the header in the same file); `.hdr`/`.img` pairs are not read.
    public var singleFile: Bool

    public static let nifti1Size = 348
    public static let nifti2Size = 540

    /// The voxel grid: x (fastest), y, z. 2-D images have z = 1; a 4-D image must have one volume.
    public var size: [Int] { [dims[1], max(dims[2], 1), max(dims[3], 1)] }

    /// Bytes of voxel data the header announces, checked for overflow and against `maxBytes`
    /// before anything is allocated.
    public func dataBytes(maxBytes: Int) throws(SegError) -> Int {
        var count = 1
        for axis in 1...3 {
            let (product, overflow) = count.multipliedReportingOverflow(by: max(dims[axis], 1))
            if overflow { throw SegError(.tooLarge, file: "", "dimensions \(dims[1...3].map(String.init).joined(separator: "×")) overflow") }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dataType.bytes)
        if overflow || bytes > maxBytes {
            throw SegError(.tooLarge, file: "", "\(dims[1...3].map(String.init).joined(separator: "×")) voxels of \(dataType.bytes) bytes are above the limit of \(maxBytes) bytes")
        }
        return bytes
    }
}

extension NIfTIHeader {
    /// Parses a header from its first bytes (348 for NIfTI-1, 540 for NIfTI-2), checking every
    /// field that sizes or places the data.
    public static func parse(_ b: [UInt8]) throws(SegError) -> NIfTIHeader {
        guard b.count >= 4 else { throw SegError(.truncated, file: "", "shorter than a NIfTI header (\(b.count) bytes)") }
        let raw = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        let version: Version, little: Bool
        switch raw {
        case 348: (version, little) = (.nifti1, true)
        case UInt32(348).byteSwapped: (version, little) = (.nifti1, false)
        case 540: (version, little) = (.nifti2, true)
        case UInt32(540).byteSwapped: (version, little) = (.nifti2, false)
        default: throw SegError(.corrupt, file: "", "not a NIfTI file (sizeof_hdr is \(raw), not 348 or 540)")
        }
        let need = version == .nifti1 ? nifti1Size : nifti2Size
        guard b.count >= need else { throw SegError(.truncated, file: "", "the header is cut at \(b.count) of \(need) bytes") }
        let r = Fields(bytes: b, little: little)
        if version == .nifti1 {
            let magic = Array(b[344..<348])
            guard magic == Array("n+1\0".utf8) || magic == Array("ni1\0".utf8) else {
                throw SegError(.corrupt, file: "", "NIfTI-1 magic is not n+1 or ni1 (an Analyze 7.5 file?)")
            }
            let typeCode = Int(r.i16(70))
            guard let type = DataType(rawValue: typeCode) else { throw unsupportedType(typeCode) }
            var header = NIfTIHeader(
                version: .nifti1, littleEndian: little, dataType: type,
                dims: (0..<8).map { Int(r.i16(40 + 2 * $0)) }, pixdim: (0..<8).map { Double(r.f32(76 + 4 * $0)) },
                voxOffset: 0, sclSlope: Double(r.f32(112)), sclInter: Double(r.f32(116)),
                qformCode: Int(r.i16(252)), sformCode: Int(r.i16(254)),
                quatern: [256, 260, 264].map { Double(r.f32($0)) }, qoffset: [268, 272, 276].map { Double(r.f32($0)) },
                srow: [280, 296, 312].map { base in (0..<4).map { Double(r.f32(base + 4 * $0)) } },
                xyztUnits: Int(b[123]), dimInfo: b[39], intentCode: Int(r.i16(68)),
                descrip: text(b[148..<228]), singleFile: magic[1] == UInt8(ascii: "+"))
            let offset = Double(r.f32(108))
            guard offset.isFinite, offset >= 0, offset < 1e15 else { throw SegError(.corrupt, file: "", "vox_offset \(offset) is not a byte offset") }
            header.voxOffset = Int(offset)
            try header.check()
            return header
        }
        let magic = Array(b[4..<12])
        guard magic == [0x6E, 0x2B, 0x32, 0, 0x0D, 0x0A, 0x1A, 0x0A] || magic == [0x6E, 0x69, 0x32, 0, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw SegError(.corrupt, file: "", "NIfTI-2 magic is not n+2 or ni2")
        }
        let typeCode = Int(r.i16(12))
        guard let type = DataType(rawValue: typeCode) else { throw unsupportedType(typeCode) }
        var header = NIfTIHeader(
            version: .nifti2, littleEndian: little, dataType: type,
            dims: [], pixdim: (0..<8).map { r.f64(104 + 8 * $0) },
            voxOffset: 0, sclSlope: r.f64(176), sclInter: r.f64(184),
            qformCode: Int(r.i32(344)), sformCode: Int(r.i32(348)),
            quatern: [352, 360, 368].map { r.f64($0) }, qoffset: [376, 384, 392].map { r.f64($0) },
            srow: [400, 432, 464].map { base in (0..<4).map { r.f64(base + 8 * $0) } },
            xyztUnits: Int(r.i32(500)), dimInfo: b[524], intentCode: Int(r.i32(504)),
            descrip: text(b[240..<320]), singleFile: magic[1] == UInt8(ascii: "+"))
        var dims: [Int] = []
        for i in 0..<8 {
            let d = r.i64(16 + 8 * i)
            guard d >= Int64(Int32.min), d <= Int64(Int32.max) else { throw SegError(.corrupt, file: "", "dim[\(i)] = \(d) is out of range") }
            dims.append(Int(d))
        }
        header.dims = dims
        let offset = r.i64(168)
        guard offset >= 0, offset < 1 << 50 else { throw SegError(.corrupt, file: "", "vox_offset \(offset) is not a byte offset") }
        header.voxOffset = Int(offset)
        try header.check()
        return header
    }

    private static func unsupportedType(_ code: Int) -> SegError {
        SegError(.unsupported, file: "", "NIfTI datatype \(code) is not read (uint8, int8, int16, uint16, int32, uint32, int64, float32, float64 are)")
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The dimensions segterm reads: 2 to 7 axes, positive sizes, one volume (dim[4...] all 1).
    private func check() throws(SegError) {
        let n = dims[0]
        guard (1...7).contains(n) else { throw SegError(.corrupt, file: "", "dim[0] = \(n): the number of dimensions must be 1 to 7") }
        for axis in 1...n where dims[axis] < 1 {
            throw SegError(.corrupt, file: "", "dim[\(axis)] = \(dims[axis]): sizes must be positive")
        }
        if n >= 4, dims[4...n].contains(where: { $0 != 1 }) {
            throw SegError(.unsupported, file: "", "\(dims[4]) volumes or channels (dim[4...] = \(dims[4...n].map(String.init).joined(separator: ","))): segterm reads one 3-D volume")
        }
        let headerEnd = version == .nifti1 ? Self.nifti1Size : Self.nifti2Size
        if singleFile, voxOffset < headerEnd {
            throw SegError(.corrupt, file: "", "vox_offset \(voxOffset) lies inside the \(headerEnd)-byte header")
        }
        guard singleFile else { throw SegError(.unsupported, file: "", "a .hdr/.img pair: segterm reads single-file NIfTI (.nii, .nii.gz)") }
    }
}

/// Reads fixed-offset fields in a given byte order (offsets are within the checked header size).
private struct Fields {
    let bytes: [UInt8]
    let little: Bool

    func u(_ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<n {
            let byte = UInt64(bytes[at + (little ? k : n - 1 - k)])
            v |= byte << (8 * UInt64(k))
        }
        return v
    }
    func i16(_ at: Int) -> Int16 { Int16(bitPattern: UInt16(truncatingIfNeeded: u(at, 2))) }
    func i32(_ at: Int) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: u(at, 4))) }
    func i64(_ at: Int) -> Int64 { Int64(bitPattern: u(at, 8)) }
    func f32(_ at: Int) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: u(at, 4))) }
    func f64(_ at: Int) -> Double { Double(bitPattern: u(at, 8)) }
}
