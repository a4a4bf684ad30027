import CPNG

/// PNG through libpng; the C side (CPNG) keeps every libpng call behind setjmp.
enum PNGCodec {
    static func decode(_ bytes: [UInt8], limits: ImageFile.Limits) throws(SegError) -> RasterImage {
        // IHDR is the first chunk: check its size against the limit before libpng reads further.
        if bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8) {
            func u32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
            try limits.check(width: u32(16), height: u32(20))
        }
        var info = segpng_info()
        let headerStatus = bytes.withUnsafeBufferPointer { segpng_read_header($0.baseAddress, $0.count, &info) }
        guard headerStatus == 0 else { throw failure(info, stage: "header") }
        try limits.check(width: Int(info.width), height: Int(info.height))

        let width = Int(info.width), height = Int(info.height)
        let byteCount = width * height * Int(info.channels) * Int(info.sample_bytes)
        // Deflate expands at most ~1032:1 (a 258-byte match in two bits), so a file this small
        // cannot hold the rows its header declares (each a filter byte and the packed samples):
        // a 45-byte PNG claiming 10000x10000 would otherwise allocate 300 MB before libpng finds
        // the data missing. Refused before the allocation; every complete PNG passes.
        let rowBits = width * Int(info.channels) * Int(info.file_bit_depth)
        let rawBytes = height * (1 + (rowBits + 7) / 8)
        guard rawBytes <= 1032 * bytes.count + 65536 else {
            throw SegError(.truncated, file: "", "PNG image data: the file's \(bytes.count) bytes cannot inflate to the "
                + "\(rawBytes) bytes of \(width)x\(height) pixels its header declares")
        }
        var out = [UInt8](repeating: 0, count: byteCount)
        let status = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { segpng_decode(input.baseAddress, input.count, $0.baseAddress, $0.count, &info) }
        }
        guard status == 0 else { throw failure(info, stage: "image data") }

        let model: RasterImage.ColorModel
        switch info.color_type {
        case Int32(SEGPNG_GRAY): model = .gray
        case Int32(SEGPNG_GRAY_ALPHA): model = .grayAlpha
        case Int32(SEGPNG_RGB): model = .rgb
        case Int32(SEGPNG_RGBA): model = .rgba
        default: model = .palette
        }
        var palette: [RasterImage.PaletteEntry] = []
        if model == .palette {
            withUnsafeBytes(of: &info.palette_rgba) { raw in
                for i in 0..<Int(info.palette_count) {
                    palette.append(.init(r: raw[i * 4], g: raw[i * 4 + 1], b: raw[i * 4 + 2], a: raw[i * 4 + 3]))
                }
            }
        }
        let samples: RasterImage.Samples
        if info.sample_bytes == 2 {
            // The C side already swapped to host order.
            samples = .sixteen(out.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) })
        } else {
            samples = .eight(out)
        }
        return RasterImage(width: width, height: height, colorModel: model, fileBitDepth: Int(info.file_bit_depth),
                           format: .png, samples: samples, palette: palette)
    }

    static func encode(_ image: RasterImage) throws(SegError) -> [UInt8] {
        guard image.width > 0, image.height > 0 else { throw SegError(.invalid, file: "", "cannot write an empty image") }
        let colorType: Int32
        switch image.colorModel {
        case .gray: colorType = Int32(SEGPNG_GRAY)
        case .grayAlpha: colorType = Int32(SEGPNG_GRAY_ALPHA)
        case .rgb: colorType = Int32(SEGPNG_RGB)
        case .rgba: colorType = Int32(SEGPNG_RGBA)
        case .palette: colorType = Int32(SEGPNG_PALETTE)
        }
        var raw: [UInt8]
        let bitDepth: Int32
        switch image.samples {
        case .eight(let s):
            raw = s
            bitDepth = 8
        case .sixteen(let s):
            guard image.colorModel != .palette else { throw SegError(.invalid, file: "", "palette images are 8-bit") }
            raw = s.withUnsafeBytes { Array($0) }
            bitDepth = 16
        }
        var palette = [UInt8](repeating: 0, count: 256 * 4)
        for (i, e) in image.palette.prefix(256).enumerated() {
            palette[i * 4] = e.r; palette[i * 4 + 1] = e.g; palette[i * 4 + 2] = e.b; palette[i * 4 + 3] = e.a
        }
        var output: UnsafeMutablePointer<UInt8>?
        var outputSize = 0
        var message = [CChar](repeating: 0, count: 200)
        let status = raw.withUnsafeMutableBufferPointer { pixels in
            segpng_encode(pixels.baseAddress, UInt32(image.width), UInt32(image.height), colorType, bitDepth,
                          palette, Int32(min(image.palette.count, 256)), &output, &outputSize, &message, message.count)
        }
        guard status == 0, let output else {
            throw SegError(.writeFailed, file: "", "PNG encoding failed: \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        defer { segpng_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: outputSize))
    }

    private static func failure(_ info: segpng_info, stage: String) -> SegError {
        var info = info
        let text = withUnsafeBytes(of: &info.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let lowered = text.lowercased()
        let kind: SegError.Kind
        if lowered.contains("truncated") || lowered.contains("not enough") || lowered.contains("unexpected end") {
            kind = .truncated
        } else if lowered.contains("inflates past") {
            kind = .tooLarge  // a decompression bomb (see segpng.c's on_warning)
        } else if lowered.contains("signature") {
            kind = .unsupported
        } else {
            kind = .corrupt
        }
        return SegError(kind, file: "", "PNG \(stage): \(text.isEmpty ? "unreadable" : text)")
    }
}
