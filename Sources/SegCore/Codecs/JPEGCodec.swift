import CJPEG

/// JPEG through libjpeg-turbo's TurboJPEG API (baseline and progressive, accurate DCT and fancy
/// upsampling, as Pillow decodes), with the EXIF orientation applied.
enum JPEGCodec {
    static func decode(_ bytes: [UInt8], limits: ImageFile.Limits) throws(SegError) -> RasterImage {
        guard let handle = tjInitDecompress() else { throw SegError(.unreadable, file: "", "JPEG decoder could not start") }
        defer { tjDestroy(handle) }

        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let headerStatus = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
        }
        guard headerStatus == 0 else { throw failure(handle, stage: "header") }
        try limits.check(width: Int(width), height: Int(height))

        let isGray = colorspace == Int32(TJCS_GRAY.rawValue)
        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let pixelFormat = isGray ? TJPF_GRAY : isCMYK ? TJPF_CMYK : TJPF_RGB
        let channels = isGray ? 1 : isCMYK ? 4 : 3
        var out = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS
        let status = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                tjDecompress2(handle, input.baseAddress, UInt(input.count), output.baseAddress,
                              width, 0, height, Int32(pixelFormat.rawValue), Int32(flags))
            }
        }
        if status != 0 {
            // Warnings leave a whole image behind; only a premature end (a truncated file) is refused,
            // as Pillow refuses it. Other warnings (extraneous bytes, say) are common in the wild.
            let message = errorText(handle)
            let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
            if !isWarning || message.lowercased().contains("premature end") {
                throw failure(handle, stage: "image data")
            }
        }

        var image = RasterImage(width: Int(width), height: Int(height), colorModel: isGray ? .gray : .rgb,
                                fileBitDepth: 8, format: .jpeg,
                                samples: .eight(isCMYK ? cmykToRGB(out, inverted: hasAdobeMarker(bytes)) : out))
        let orientation = EXIF.orientation(inJPEG: bytes)
        if orientation != 1 { image = EXIF.apply(orientation: orientation, to: image) }
        return image
    }

    /// Adobe's CMYK JPEGs store inverted ink values; plain CMYK stores them as they are.
    private static func cmykToRGB(_ cmyk: [UInt8], inverted: Bool) -> [UInt8] {
        let n = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            let k = Int(inverted ? cmyk[i * 4 + 3] : 255 - cmyk[i * 4 + 3])
            for c in 0..<3 {
                let ink = Int(inverted ? cmyk[i * 4 + c] : 255 - cmyk[i * 4 + c])
                rgb[i * 3 + c] = UInt8((ink * k + 127) / 255)
            }
        }
        return rgb
    }

    private static func hasAdobeMarker(_ bytes: [UInt8]) -> Bool {
        var found = false
        JPEGMarkers.forEachSegment(in: bytes) { marker, payload in
            if marker == 0xEE, payload.count >= 5, Array(payload.prefix(5)) == Array("Adobe".utf8) { found = true }
            return !found
        }
        return found
    }

    private static func errorText(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unreadable" }
        return String(cString: text)
    }

    private static func failure(_ handle: tjhandle, stage: String) -> SegError {
        let text = errorText(handle)
        let lowered = text.lowercased()
        let kind: SegError.Kind
        if lowered.contains("premature end") || lowered.contains("truncat") {
            kind = .truncated
        } else if lowered.contains("unsupported") || lowered.contains("not supported") {
            kind = .unsupported
        } else {
            kind = .corrupt
        }
        return SegError(kind, file: "", "JPEG \(stage): \(text)")
    }
}

/// Walks the marker segments of a JPEG header up to the start of scan.
enum JPEGMarkers {
    /// Calls `body(marker, payload)` for each segment before SOS; stop early by returning false.
    static func forEachSegment(in bytes: [UInt8], _ body: (UInt8, ArraySlice<UInt8>) -> Bool) {
        var i = 2
        while i + 4 <= bytes.count {
            guard bytes[i] == 0xFF else { return }
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 { i += 2; continue }
            if marker == 0xDA || marker == 0xD9 { return }
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 2, i + 2 + length <= bytes.count else { return }
            if !body(marker, bytes[(i + 4)..<(i + 2 + length)]) { return }
            i += 2 + length
        }
    }
}

/// The EXIF orientation tag and the transform it asks for (as Pillow's `ImageOps.exif_transpose`).
enum EXIF {
    static func orientation(inJPEG bytes: [UInt8]) -> Int {
        var result = 1
        JPEGMarkers.forEachSegment(in: bytes) { marker, payload in
            guard marker == 0xE1, payload.count > 14, Array(payload.prefix(6)) == [0x45, 0x78, 0x69, 0x66, 0, 0] else { return true }
            if let value = orientation(inTIFF: Array(payload.dropFirst(6))) { result = value }
            return false
        }
        return (1...8).contains(result) ? result : 1
    }

    private static func orientation(inTIFF tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<count {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, let type = u16(at + 2), type == 3 { return u16(at + 8) }
        }
        return nil
    }

    /// Output pixel (x, y) of the transposed image takes input pixel `source(x, y)`.
    static func apply(orientation: Int, to image: RasterImage) -> RasterImage {
        let w = image.width, h = image.height
        let swaps = orientation >= 5
        let outW = swaps ? h : w, outH = swaps ? w : h
        let source: (Int, Int) -> (Int, Int) = switch orientation {
        case 2: { x, y in (w - 1 - x, y) }
        case 3: { x, y in (w - 1 - x, h - 1 - y) }
        case 4: { x, y in (x, h - 1 - y) }
        case 5: { x, y in (y, x) }
        case 6: { x, y in (y, h - 1 - x) }
        case 7: { x, y in (w - 1 - y, h - 1 - x) }
        case 8: { x, y in (w - 1 - y, x) }
        default: { x, y in (x, y) }
        }
        guard case .eight(let input) = image.samples else { return image }
        let c = image.channels
        var output = [UInt8](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    for x in 0..<outW {
                        let (sx, sy) = source(x, y)
                        let from = (sy * w + sx) * c, to = (y * outW + x) * c
                        for k in 0..<c { dst[to + k] = src[from + k] }
                    }
                }
            }
        }
        return RasterImage(width: outW, height: outH, colorModel: image.colorModel, fileBitDepth: image.fileBitDepth,
                           format: image.format, samples: .eight(output), palette: image.palette)
    }
}
