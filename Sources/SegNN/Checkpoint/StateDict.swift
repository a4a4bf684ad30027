/// Element types a checkpoint may store. Floating types are converted to float32 on load.
/// complex64 (SAM 3's RoPE buffers, `freqs_cis`) is read only as (real, imaginary) float pairs.
public enum DType: String, Sendable, Equatable {
    case float32, float16, bfloat16, float64, int64, int32, complex64

    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float16, .bfloat16: 2
        case .float64, .int64, .complex64: 8
        }
    }

    public var isFloating: Bool { self == .float32 || self == .float16 || self == .bfloat16 || self == .float64 }
}

/// Where one tensor's values are in the checkpoint file, already checked to lie inside it.
public struct TensorRecord: Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let strides: [Int]          // in elements
    public let offset: Int             // first element within the storage
    public let storageByteOffset: Int  // where the storage starts in the file
    public let storageCount: Int       // elements in the storage
    let crc32: UInt32?                 // zip entries carry one; checked when the values are read
    let storageName: String

    public var count: Int { shape.reduce(1, *) }

    /// Validates the geometry against the storage: every element the strides reach is inside it.
    init(dtype: DType, shape: [Int], strides: [Int], offset: Int, storageByteOffset: Int, storageCount: Int,
         crc32: UInt32?, storageName: String, key: String, file: String) throws(CheckpointError) {
        guard shape.count == strides.count, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), offset >= 0,
              checkedProduct(shape) != nil else {
            throw CheckpointError(.corrupt, file: file, "tensor \(key): bad shape \(shape) or strides \(strides)")
        }
        if shape.allSatisfy({ $0 > 0 }) {
            var last = offset
            for (s, st) in zip(shape, strides) {
                guard let step = checkedMul(s - 1, st), let l = checkedAdd(last, step) else {
                    throw CheckpointError(.corrupt, file: file, "tensor \(key): strides overflow")
                }
                last = l
            }
            guard last < storageCount else {
                throw CheckpointError(.corrupt, file: file, "tensor \(key) reaches element \(last) of a storage of \(storageCount)")
            }
        }
        self.dtype = dtype; self.shape = shape; self.strides = strides; self.offset = offset
        self.storageByteOffset = storageByteOffset; self.storageCount = storageCount
        self.crc32 = crc32; self.storageName = storageName
    }

    var isContiguous: Bool {
        var expected = 1
        for (s, st) in zip(shape, strides).reversed() {
            if s != 1 && st != expected { return false }
            expected *= s
        }
        return true
    }
}

/// A checkpoint's named tensors. Values stay in the mapped file until a model asks for them,
/// so loading a 2.5 GB ViT-H costs one copy, into the model.
public struct StateDict: Sendable {
    public let file: MappedFile
    public let records: [String: TensorRecord]
    /// Keys in file order.
    public let keys: [String]

    public var path: String { file.path }

    public init(file: MappedFile, records: [String: TensorRecord], keys: [String]) {
        self.file = file; self.records = records; self.keys = keys
    }

    /// Reads a PyTorch checkpoint (`.pt`/`.pth`, zip) or a `.safetensors` file, told apart by content.
    public static func load(path: String) throws(CheckpointError) -> StateDict {
        let file = try MappedFile(path: path)
        if let head = file.bytes(0, 4), head[0] == 0x50, head[1] == 0x4B { return try TorchCheckpoint.read(file) }
        if SafeTensors.looksLike(file) { return try SafeTensors.read(file) }
        if let b = file.bytes(0, 2), b[0] == 0x80 {
            throw CheckpointError(.unsupported, file: path, "legacy (pre-1.6, non-zip) torch.save format; re-save the state dict with a current PyTorch")
        }
        throw CheckpointError(.unsupported, file: path, "not a checkpoint: neither a PyTorch zip archive nor a safetensors file")
    }

    public func has(_ key: String) -> Bool { records[key] != nil }
    public func shape(_ key: String) -> [Int]? { records[key]?.shape }

    func record(_ key: String) throws(CheckpointError) -> TensorRecord {
        guard let r = records[key] else { throw CheckpointError(.invalid, file: path, "missing tensor \(key)") }
        return r
    }

    /// The tensor `key` as float32, checking its shape when `shape` is given.
    public func floats(_ key: String, shape expected: [Int]? = nil) throws(CheckpointError) -> [Float] {
        let r = try record(key)
        if let expected, expected != r.shape {
            throw CheckpointError(.invalid, file: path, "tensor \(key) has shape \(r.shape), expected \(expected)")
        }
        guard r.dtype.isFloating else {
            throw CheckpointError(.invalid, file: path, "tensor \(key) is \(r.dtype.rawValue), expected a floating-point tensor")
        }
        let raw = try storageBytes(r, key: key)
        var out = [Float](repeating: 0, count: r.count)
        out.withUnsafeMutableBufferPointer { o in
            forEachIndex(r) { i, s in
                let at = s * r.dtype.byteSize
                switch r.dtype {
                case .float32: o[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                case .float16: o[i] = Half.toFloat(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
                case .bfloat16: o[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian) << 16)
                case .float64: o[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian))
                case .int64, .int32, .complex64: break
                }
            }
        }
        // The weights now live in the copy: the file's pages go back to the page cache. A model
        // keeps no pointer into the mapping, so a checkpoint rewritten in place (torch.save
        // truncates the file it saves over, e.g. a training run's last.pt) cannot pull pages out
        // from under a running model.
        if let n = checkedMul(r.storageCount, r.dtype.byteSize) { file.releasePages(r.storageByteOffset, n) }
        return out
    }

    public func tensor(_ key: String, shape: [Int]? = nil) throws(CheckpointError) -> Tensor {
        let values = try floats(key, shape: shape)
        return Tensor(shape: try record(key).shape, data: values)
    }

    /// A complex64 tensor as interleaved (real, imaginary) float32 pairs: 2 × count values, in C order.
    public func complexPairs(_ key: String, shape expected: [Int]? = nil) throws(CheckpointError) -> [Float] {
        let r = try record(key)
        if let expected, expected != r.shape {
            throw CheckpointError(.invalid, file: path, "tensor \(key) has shape \(r.shape), expected \(expected)")
        }
        guard r.dtype == .complex64 else {
            throw CheckpointError(.invalid, file: path, "tensor \(key) is \(r.dtype.rawValue), expected complex64")
        }
        let raw = try storageBytes(r, key: key)
        var out = [Float](repeating: 0, count: 2 * r.count)
        out.withUnsafeMutableBufferPointer { o in
            forEachIndex(r) { i, s in
                o[2 * i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: s * 8, as: UInt32.self).littleEndian)
                o[2 * i + 1] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: s * 8 + 4, as: UInt32.self).littleEndian)
            }
        }
        return out
    }

    /// An integer tensor (e.g. BatchNorm's `num_batches_tracked`).
    public func ints(_ key: String) throws(CheckpointError) -> [Int64] {
        let r = try record(key)
        guard r.dtype == .int64 || r.dtype == .int32 else {
            throw CheckpointError(.invalid, file: path, "tensor \(key) is \(r.dtype.rawValue), expected an integer tensor")
        }
        let raw = try storageBytes(r, key: key)
        var out = [Int64](repeating: 0, count: r.count)
        out.withUnsafeMutableBufferPointer { o in
            forEachIndex(r) { i, s in
                o[i] = r.dtype == .int64
                    ? Int64(littleEndian: raw.loadUnaligned(fromByteOffset: s * 8, as: Int64.self))
                    : Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: s * 4, as: Int32.self)))
            }
        }
        return out
    }

    private func storageBytes(_ r: TensorRecord, key: String) throws(CheckpointError) -> UnsafeRawBufferPointer {
        guard let n = checkedMul(r.storageCount, r.dtype.byteSize), let b = file.bytes(r.storageByteOffset, n) else {
            throw CheckpointError(.truncated, file: path, "storage of tensor \(key) lies past the end of the file")
        }
        if let crc = r.crc32, CRC32.checksum(b) != crc {
            throw CheckpointError(.corrupt, file: path, "storage \(r.storageName) of tensor \(key) fails its CRC-32 check")
        }
        return b
    }

    /// Calls body(flat output index, storage element index) in C order.
    private func forEachIndex(_ r: TensorRecord, _ body: (Int, Int) -> Void) {
        let n = r.count
        if n == 0 { return }
        if r.isContiguous {
            for i in 0..<n { body(i, r.offset + i) }
            return
        }
        var idx = [Int](repeating: 0, count: r.shape.count)
        var s = r.offset
        for i in 0..<n {
            body(i, s)
            var d = r.shape.count - 1
            while d >= 0 {
                idx[d] += 1
                s += r.strides[d]
                if idx[d] < r.shape[d] { break }
                s -= r.strides[d] * r.shape[d]
                idx[d] = 0
                d -= 1
            }
        }
    }
}

/// IEEE half → float, by bits (no dependence on Float16 support of the platform).
enum Half {
    static func toFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int(h >> 10) & 0x1F
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }
}
