/// Windows BMP, read in Swift: 1/4/8-bit palette, 16/24/32-bit, bottom-up and top-down rows,
/// BI_RGB and BI_BITFIELDS. The GrabCut benchmark's masks are 8-bit gray BMPs.
enum BMPCodec {
    private struct Reader {
        let bytes: [UInt8]
        func u16(_ at: Int) throws(SegError) -> Int {
            guard at >= 0, at + 2 <= bytes.count else { throw SegError(.truncated, file: "", "BMP header is truncated") }
            return Int(bytes[at]) | Int(bytes[at + 1]) << 8
        }
        func u32(_ at: Int) throws(SegError) -> UInt32 {
            UInt32(try u16(at)) | UInt32(try u16(at + 2)) << 16
        }
        func i32(_ at: Int) throws(SegError) -> Int { Int(Int32(bitPattern: try u32(at))) }
    }

    static func decode(_ bytes: [UInt8], limits: ImageFile.Limits) throws(SegError) -> RasterImage {
        let r = Reader(bytes: bytes)
        let pixelOffset = Int(try r.u32(10))
        let headerSize = Int(try r.u32(14))
        let width: Int, signedHeight: Int, bitsPerPixel: Int
        var compression: UInt32 = 0
        var colorsUsed = 0
        var masks: [UInt32]? = nil
        let paletteEntrySize: Int

        switch headerSize {
        case 12:  // OS/2 BITMAPCOREHEADER
            width = try r.u16(18)
            signedHeight = try r.u16(20)
            bitsPerPixel = try r.u16(24)
            paletteEntrySize = 3
        case 40, 52, 56, 64, 108, 124:
            width = try r.i32(18)
            signedHeight = try r.i32(22)
            bitsPerPixel = try r.u16(28)
            compression = try r.u32(30)
            colorsUsed = Int(try r.u32(46))
            paletteEntrySize = 4
            if compression == 3 || compression == 6 {
                // Masks live inside V2+ headers, or right after a 40-byte header.
                masks = [try r.u32(54), try r.u32(58), try r.u32(62)]
                if compression == 6 || headerSize >= 56 { masks?.append(try r.u32(66)) }
            }
        default:
            throw SegError(.unsupported, file: "", "BMP header of \(headerSize) bytes is not a known version")
        }

        guard width > 0, signedHeight != 0 else { throw SegError(.corrupt, file: "", "BMP has zero or negative size (\(width)x\(signedHeight))") }
        let height = abs(signedHeight)
        let topDown = signedHeight < 0
        try limits.check(width: width, height: height)
        guard [1, 4, 8, 16, 24, 32].contains(bitsPerPixel) else {
            throw SegError(.unsupported, file: "", "BMP with \(bitsPerPixel) bits per pixel")
        }
        switch compression {
        case 0, 3, 6: break
        case 1, 2: throw SegError(.unsupported, file: "", "run-length compressed BMP (RLE\(compression == 1 ? 8 : 4)) is not supported")
        default: throw SegError(.unsupported, file: "", "BMP compression type \(compression) is not supported")
        }

        let rowBytes = (bitsPerPixel * width + 31) / 32 * 4
        guard pixelOffset >= 14 + headerSize, pixelOffset <= bytes.count,
              rowBytes * height <= bytes.count - pixelOffset else {
            throw SegError(.truncated, file: "", "BMP pixel data is truncated (needs \(rowBytes * height) bytes at offset \(pixelOffset), file has \(bytes.count))")
        }

        if bitsPerPixel <= 8 {
            let paletteStart = 14 + headerSize + (compression == 3 ? 12 : compression == 6 ? 16 : 0)
            let maxEntries = 1 << bitsPerPixel
            let declared = colorsUsed == 0 ? maxEntries : min(colorsUsed, maxEntries)
            let available = max(0, (pixelOffset - paletteStart) / paletteEntrySize)
            let count = min(declared, available)
            var palette: [RasterImage.PaletteEntry] = []
            for i in 0..<count {
                let at = paletteStart + i * paletteEntrySize
                palette.append(.init(r: bytes[at + 2], g: bytes[at + 1], b: bytes[at]))
            }
            return decodeIndexed(bytes, at: pixelOffset, width: width, height: height, topDown: topDown,
                                 bits: bitsPerPixel, rowBytes: rowBytes, palette: palette)
        }
        return decodeDirect(bytes, at: pixelOffset, width: width, height: height, topDown: topDown,
                            bits: bitsPerPixel, rowBytes: rowBytes, masks: masks)
    }

    /// Palette images whose palette is all gray read as gray levels (a mask's 0/128/255 stay
    /// 0/128/255 whatever the index order); any colour in the palette keeps the indices.
    private static func decodeIndexed(_ bytes: [UInt8], at offset: Int, width: Int, height: Int, topDown: Bool,
                                      bits: Int, rowBytes: Int, palette: [RasterImage.PaletteEntry]) -> RasterImage {
        var indices = [UInt8](repeating: 0, count: width * height)
        let perByte = 8 / bits
        let valueMask = UInt8((1 << bits) - 1)
        bytes.withUnsafeBufferPointer { src in
            indices.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = offset + (topDown ? y : height - 1 - y) * rowBytes
                    for x in 0..<width {
                        let byte = src[row + x / perByte]
                        let shift = 8 - bits * (x % perByte + 1)
                        dst[y * width + x] = (byte >> UInt8(shift)) & valueMask
                    }
                }
            }
        }
        let isGray = !palette.isEmpty && palette.allSatisfy { $0.r == $0.g && $0.g == $0.b }
        if isGray {
            let levels = palette.map(\.r)
            let gray = indices.map { Int($0) < levels.count ? levels[Int($0)] : 0 }
            return RasterImage(width: width, height: height, colorModel: .gray, fileBitDepth: bits, format: .bmp,
                               samples: .eight(gray))
        }
        return RasterImage(width: width, height: height, colorModel: .palette, fileBitDepth: bits, format: .bmp,
                           samples: .eight(indices), palette: palette)
    }

    private static func decodeDirect(_ bytes: [UInt8], at offset: Int, width: Int, height: Int, topDown: Bool,
                                     bits: Int, rowBytes: Int, masks: [UInt32]?) -> RasterImage {
        let bytesPerPixel = bits / 8
        // BI_RGB defaults: 16-bit is 5-5-5, 24/32-bit is BGR(X) with the fourth byte unused.
        let channelMasks: [UInt32] = masks ?? (bits == 16 ? [0x7C00, 0x03E0, 0x001F] : [0xFF0000, 0xFF00, 0xFF])
        let alphaMask: UInt32 = channelMasks.count > 3 ? channelMasks[3] : 0
        let hasAlpha = alphaMask != 0
        let channels = hasAlpha ? 4 : 3
        let extractors = (channelMasks.prefix(3) + (hasAlpha ? [alphaMask] : [])).map(MaskExtractor.init)
        var out = [UInt8](repeating: 0, count: width * height * channels)
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = offset + (topDown ? y : height - 1 - y) * rowBytes
                    for x in 0..<width {
                        let at = row + x * bytesPerPixel
                        var value: UInt32 = 0
                        for k in 0..<bytesPerPixel { value |= UInt32(src[at + k]) << UInt32(8 * k) }
                        let o = (y * width + x) * channels
                        for c in 0..<channels { dst[o + c] = extractors[c].value(value) }
                    }
                }
            }
        }
        return RasterImage(width: width, height: height, colorModel: hasAlpha ? .rgba : .rgb, fileBitDepth: 8,
                           format: .bmp, samples: .eight(out))
    }

    /// One channel of a packed pixel, scaled to 8 bits by repeating its high bits (as Pillow does for 5-bit).
    private struct MaskExtractor {
        let shift: UInt32
        let bits: UInt32
        let mask: UInt32

        init(_ mask: UInt32) {
            self.mask = mask
            shift = mask == 0 ? 0 : UInt32(mask.trailingZeroBitCount)
            bits = mask == 0 ? 0 : UInt32((~(mask >> shift)).trailingZeroBitCount)
        }

        func value(_ pixel: UInt32) -> UInt8 {
            guard bits > 0 else { return 0 }
            let raw = (pixel & mask) >> shift
            if bits >= 8 { return UInt8(truncatingIfNeeded: raw >> (bits - 8)) }
            var result: UInt32 = 0
            var filled: UInt32 = 0
            while filled < 8 {
                let take = min(bits, 8 - filled)
                result = (result << take) | (raw >> (bits - take))
                filled += take
            }
            return UInt8(truncatingIfNeeded: result)
        }
    }
}
