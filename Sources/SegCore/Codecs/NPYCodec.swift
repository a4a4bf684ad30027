/// NumPy's `.npy` files holding a 2-D array of integers: label maps as mmsegmentation 0.x saves its
/// predictions (`np.save`, int64). Read into a 16-bit gray raster whose samples are the labels; a
/// label outside 0…65535 is an error (no class list is that long), as are floats, 3-D arrays and
/// object arrays. The header is checked before any pixel memory is allocated.
///
/// Format (numpy's `format.py`): magic `\x93NUMPY`, version byte pair, header length (2 bytes
/// little-endian in version 1, 4 in versions 2 and 3), then a Python dict literal such as
/// `{'descr': '<i8', 'fortran_order': False, 'shape': (480, 640), }` padded with spaces, then the
/// data.
enum NPYCodec {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    struct Header: Equatable {
        var littleEndian: Bool
        var signed: Bool
        var itemSize: Int
        var fortranOrder: Bool
        var shape: [Int]
    }

    static func decode(_ bytes: [UInt8], limits: ImageFile.Limits) throws(SegError) -> RasterImage {
        let (header, dataStart) = try readHeader(bytes)
        let shape = header.shape
        guard shape.count == 2 || (shape.count == 3 && shape[2] == 1) else {
            throw SegError(.unsupported, file: "", "a .npy label map is a 2-D array (height, width); this one has shape \(shape)")
        }
        let height = shape[0], width = shape[1]
        try limits.check(width: width, height: height)
        let count = width * height
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: header.itemSize)
        guard !overflow, bytes.count - dataStart >= byteCount else {
            throw SegError(.truncated, file: "", "the .npy data holds \(bytes.count - dataStart) bytes, the header promises \(count) values of \(header.itemSize) bytes")
        }
        var labels = [UInt16](repeating: 0, count: count)
        for i in 0..<count {
            let value = readInteger(bytes, at: dataStart + i * header.itemSize, header)
            guard value >= 0, value <= Int64(UInt16.max) else {
                throw SegError(.unsupported, file: "", "label \(value) at value \(i) is outside 0...65535")
            }
            // C order is row-major; Fortran order stores columns first.
            let (y, x) = header.fortranOrder ? (i % height, i / height) : (i / width, i % width)
            labels[y * width + x] = UInt16(value)
        }
        return RasterImage(width: width, height: height, colorModel: .gray, fileBitDepth: 16, format: .npy, samples: .sixteen(labels))
    }

    static func readHeader(_ bytes: [UInt8]) throws(SegError) -> (Header, Int) {
        guard bytes.count >= 10, bytes.starts(with: magic) else { throw SegError(.truncated, file: "", "not a complete .npy header") }
        let major = bytes[6]
        let (length, start): (Int, Int)
        switch major {
        case 1: (length, start) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { throw SegError(.truncated, file: "", "not a complete .npy header") }
            (length, start) = (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        default: throw SegError(.unsupported, file: "", ".npy format version \(major) (1, 2 and 3 are known)")
        }
        guard length <= 1 << 16, bytes.count >= start + length else {
            throw SegError(.truncated, file: "", "the .npy header claims \(length) bytes")
        }
        guard let text = String(validating: bytes[start..<(start + length)], as: UTF8.self) else {
            throw SegError(.corrupt, file: "", "the .npy header is not text")
        }
        return (try parseDictionary(text), start + length)
    }

    /// The three keys of numpy's header dict. Only what `np.save` writes is accepted.
    static func parseDictionary(_ text: String) throws(SegError) -> Header {
        func value(of key: String) throws(SegError) -> Substring {
            let needle = Array("'\(key)':")
            let chars = Array(text)
            guard chars.count >= needle.count,
                  let at = (0...(chars.count - needle.count)).first(where: { Array(chars[$0..<($0 + needle.count)]) == needle }) else {
                throw SegError(.corrupt, file: "", "the .npy header has no '\(key)'")
            }
            return Substring(String(chars[(at + needle.count)...])).drop { $0 == " " }
        }
        let descrField = try value(of: "descr")
        guard descrField.first == "'", let close = descrField.dropFirst().firstIndex(of: "'") else {
            throw SegError(.corrupt, file: "", "the .npy header's 'descr' is not a string")
        }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<close])
        guard descr.count >= 3, let order = descr.first, let kind = descr.dropFirst().first, let size = Int(descr.dropFirst(2)),
              "<>|=".contains(order), "iub".contains(kind), [1, 2, 4, 8].contains(size) else {
            throw SegError(.unsupported, file: "", "a .npy label map holds integers; this one's dtype is '\(descr)'")
        }
        let fortranField = try value(of: "fortran_order")
        let fortran: Bool
        if fortranField.hasPrefix("True") { fortran = true } else if fortranField.hasPrefix("False") { fortran = false } else {
            throw SegError(.corrupt, file: "", "the .npy header's 'fortran_order' is neither True nor False")
        }
        let shapeField = try value(of: "shape")
        guard shapeField.first == "(", let end = shapeField.firstIndex(of: ")") else {
            throw SegError(.corrupt, file: "", "the .npy header's 'shape' is not a tuple")
        }
        var shape: [Int] = []
        for part in shapeField[shapeField.index(after: shapeField.startIndex)..<end].split(separator: ",") {
            let trimmed = String(part.filter { $0 != " " })
            if trimmed.isEmpty { continue }
            guard let n = Int(trimmed), n >= 0 else { throw SegError(.corrupt, file: "", "the .npy header's shape has '\(trimmed)'") }
            shape.append(n)
        }
        return Header(littleEndian: order != ">", signed: kind == "i", itemSize: size, fortranOrder: fortran, shape: shape)
    }

    @inline(__always)
    static func readInteger(_ bytes: [UInt8], at offset: Int, _ h: Header) -> Int64 {
        var raw: UInt64 = 0
        for k in 0..<h.itemSize {
            let byte = UInt64(bytes[offset + (h.littleEndian ? k : h.itemSize - 1 - k)])
            raw |= byte << (8 * UInt64(k))
        }
        guard h.signed, h.itemSize < 8 else { return Int64(bitPattern: raw) }
        let shift = UInt64(64 - 8 * h.itemSize)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }
}
