#if canImport(Glibc)
import Glibc
#endif
import CZlib

/// A NIfTI file as read: its header and the voxel bytes as stored (file byte order, datatype of
/// the header), converted on demand to scalars or labels.
public struct NIfTIImage: Sendable {
    public var header: NIfTIHeader
    public var data: [UInt8]

    public init(header: NIfTIHeader, data: [UInt8]) {
        self.header = header
        self.data = data
    }

    /// nibabel's `get_best_affine`: the sform when its code is set, else the qform, else the
    /// fall-back affine of the voxel sizes (x flipped, centred) that nibabel gives such files.
    public var affine: [Double] {
        let h = header
        if h.sformCode > 0 { return h.srow[0] + h.srow[1] + h.srow[2] + [0, 0, 0, 1] }
        let zooms = (1...3).map { h.pixdim[$0] }
        if h.qformCode > 0 {
            let (b, c, d) = (h.quatern[0], h.quatern[1], h.quatern[2])
            // nibabel's fillpositive: a tiny negative w² (rounding) is 0.
            let w2 = 1 - (b * b + c * c + d * d)
            let a = w2 < 0 ? 0 : w2.squareRoot()
            let rotation = [
                a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c),
                2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b),
                2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b,
            ]
            let qfac = h.pixdim[0] < 0 ? -1.0 : 1.0
            let scale = [zooms[0], zooms[1], zooms[2] * qfac]
            var out = [Double](repeating: 0, count: 16)
            for row in 0..<3 {
                for col in 0..<3 { out[row * 4 + col] = rotation[row * 3 + col] * scale[col] }
                out[row * 4 + 3] = h.qoffset[row]
            }
            out[15] = 1
            return out
        }
        let size = h.size
        return [-zooms[0], 0, 0, zooms[0] * Double(size[0] - 1) / 2,
                0, zooms[1], 0, -zooms[1] * Double(size[1] - 1) / 2,
                0, 0, zooms[2], -zooms[2] * Double(size[2] - 1) / 2,
                0, 0, 0, 1]
    }

    public var geometry: VolumeGeometry {
        VolumeGeometry(size: header.size, spacing: (1...3).map { abs(header.pixdim[$0]) > 0 ? abs(header.pixdim[$0]) : 1 }, affine: affine)
    }

    /// nibabel's rule: a slope of 0 or not finite means no scaling.
    var scaling: (slope: Double, inter: Double)? {
        let s = header.sclSlope, i = header.sclInter.isFinite ? header.sclInter : 0
        guard s.isFinite, s != 0, s != 1 || i != 0 else { return nil }
        return (s, i)
    }

    /// The voxels as stored (scaling applied), as doubles, in index order.
    func forEachValue(_ body: (Int, Double) -> Void) {
        let n = header.size.reduce(1, *), little = header.littleEndian
        let scale = scaling
        data.withUnsafeBytes { raw in
            @inline(__always) func emit(_ i: Int, _ v: Double) {
                if let scale { body(i, v * scale.slope + scale.inter) } else { body(i, v) }
            }
            switch header.dataType {
            case .uint8: for i in 0..<n { emit(i, Double(raw[i])) }
            case .int8: for i in 0..<n { emit(i, Double(Int8(bitPattern: raw[i]))) }
            case .int16: for i in 0..<n { let v = raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self); emit(i, Double(little ? Int16(littleEndian: v) : Int16(bigEndian: v))) }
            case .uint16: for i in 0..<n { let v = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self); emit(i, Double(little ? UInt16(littleEndian: v) : UInt16(bigEndian: v))) }
            case .int32: for i in 0..<n { let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self); emit(i, Double(little ? Int32(littleEndian: v) : Int32(bigEndian: v))) }
            case .uint32: for i in 0..<n { let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self); emit(i, Double(little ? UInt32(littleEndian: v) : UInt32(bigEndian: v))) }
            case .int64: for i in 0..<n { let v = raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self); emit(i, Double(little ? Int64(littleEndian: v) : Int64(bigEndian: v))) }
            case .float32:
                for i in 0..<n {
                    let bits = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    emit(i, Double(Float(bitPattern: little ? UInt32(littleEndian: bits) : UInt32(bigEndian: bits))))
                }
            case .float64:
                for i in 0..<n {
                    let bits = raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                    emit(i, Double(bitPattern: little ? UInt64(littleEndian: bits) : UInt64(bigEndian: bits)))
                }
            }
        }
    }

    /// The image as float32 scalars with `scl_slope`/`scl_inter` applied (nibabel's `get_fdata`, in single precision).
    public func scalars() -> ScalarVolume {
        var out = [Float](repeating: 0, count: header.size.reduce(1, *))
        out.withUnsafeMutableBufferPointer { dst in forEachValue { i, v in dst[i] = Float(v) } }
        return ScalarVolume(geometry: geometry, voxels: out)
    }

    /// A label volume: every voxel (after scaling) a whole number in 0...65535, else an error.
    public func labels(file: String) throws(SegError) -> LabelVolume {
        let n = header.size.reduce(1, *)
        if header.dataType == .uint8, scaling == nil {
            return LabelVolume(geometry: geometry, voxels: data.withUnsafeBufferPointer { src in (0..<n).map { UInt16(src[$0]) } })
        }
        var out = [UInt16](repeating: 0, count: n)
        var bad: (Int, Double)?
        out.withUnsafeMutableBufferPointer { dst in
            forEachValue { i, v in
                if v >= 0, v <= 65535, v == v.rounded() { dst[i] = UInt16(v) } else if bad == nil { bad = (i, v) }
            }
        }
        if let (i, v) = bad {
            throw SegError(.invalid, file: file, "voxel \(i) holds \(v): labels must be whole numbers in 0...65535")
        }
        return LabelVolume(geometry: geometry, voxels: out)
    }
}

/// Reading and writing single-file NIfTI-1 / NIfTI-2 (`.nii`, gzip-compressed `.nii.gz`).
public enum NIfTI {
    public struct Limits: Sendable {
        /// Largest voxel data accepted, in bytes (checked from the header, before allocating).
        public var maxDataBytes: Int
        /// Largest vox_offset: bytes of extensions inflated and skipped before the data.
        public var maxHeaderBytes: Int
        public init(maxDataBytes: Int = 8 << 30, maxHeaderBytes: Int = 64 << 20) {
            self.maxDataBytes = maxDataBytes
            self.maxHeaderBytes = maxHeaderBytes
        }
        public static let standard = Limits()
    }

    public static func isNIfTI(_ path: String) -> Bool { path.hasSuffix(".nii") || path.hasSuffix(".nii.gz") }

    /// The file name without `.nii` / `.nii.gz`: the case id nnU-Net pairs files by.
    public static func caseName(_ path: String) -> String {
        let name = FileName.last(path)
        if name.hasSuffix(".nii.gz") { return String(name.dropLast(7)) }
        if name.hasSuffix(".nii") { return String(name.dropLast(4)) }
        return name
    }

    /// Reads a file, compressed or not (zlib's gz reader passes plain files through). The header
    /// is parsed first and the data size it announces checked against `limits`; only then is the
    /// buffer allocated, and exactly that many bytes are inflated, so neither a header with
    /// overflowing dimensions nor a gzip bomb can make the reader allocate or inflate more.
    public static func read(_ path: String, limits: Limits = .standard) throws -> NIfTIImage {
        guard let file = gzopen(path, "rb") else { throw FileIO.openError(path) }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 18)
        do {
            var head = [UInt8](repeating: 0, count: NIfTIHeader.nifti2Size)
            let got = try readFully(file, into: &head, path: path)
            head.removeSubrange(got...)
            let header = try NIfTIHeader.parse(head)
            guard header.voxOffset <= limits.maxHeaderBytes else {
                throw SegError(.tooLarge, file: path, "vox_offset \(header.voxOffset) is above the limit of \(limits.maxHeaderBytes) bytes")
            }
            let bytes = try header.dataBytes(maxBytes: limits.maxDataBytes)
            var data = [UInt8](repeating: 0, count: bytes)
            // The data may begin inside the bytes already read (a NIfTI-1 file's vox_offset is 352).
            let early = max(0, min(got - header.voxOffset, bytes))
            if early > 0 { data.replaceSubrange(0..<early, with: head[header.voxOffset..<(header.voxOffset + early)]) }
            var skip = header.voxOffset - got
            var scratch = [UInt8](repeating: 0, count: 1 << 16)
            while skip > 0 {
                let n = try readFully(file, into: &scratch, count: min(skip, scratch.count), path: path)
                if n == 0 { throw SegError(.truncated, file: path, "the file ends before its data (vox_offset \(header.voxOffset))") }
                skip -= n
            }
            let filled = try data.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return try readFully(file, base + early, raw.count - early, path: path)
            }
            if early + filled < bytes {
                throw SegError(.truncated, file: path, "the data ends after \(early + filled) of \(bytes) bytes (\(header.size.map(String.init).joined(separator: "×")) voxels)")
            }
            return NIfTIImage(header: header, data: data)
        } catch let error as SegError {
            throw error.file.isEmpty ? error.about(path) : error
        }
    }

    /// Labels read and checked in one step.
    public static func readLabels(_ path: String, limits: Limits = .standard) throws -> LabelVolume {
        try read(path, limits: limits).labels(file: path)
    }

    private static func readFully(_ file: gzFile, into buffer: inout [UInt8], count: Int? = nil, path: String) throws -> Int {
        let want = min(count ?? buffer.count, buffer.count)
        return try buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return 0 }
            return try readFully(file, base, want, path: path)
        }
    }

    /// gzread in pieces below its 32-bit length; stops at the end of the data.
    private static func readFully(_ file: gzFile, _ base: UnsafeMutableRawPointer, _ count: Int, path: String) throws -> Int {
        var done = 0
        while done < count {
            let n = gzread(file, base + done, UInt32(min(count - done, 1 << 30)))
            if n < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "inflate failed"
                throw SegError(.corrupt, file: path, "gzip data: \(message)")
            }
            if n == 0 { break }
            done += Int(n)
        }
        return done
    }
}
