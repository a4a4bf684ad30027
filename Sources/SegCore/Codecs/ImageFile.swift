/// Reading and writing image files. The format is told by the first bytes, never by the extension
/// (benchmark sets mix `.jpg`, `.JPG`, `.bmp` and `.png`).
public enum ImageFile {
    /// Limits applied from the header, before any pixel memory is allocated.
    public struct Limits: Sendable {
        public var maxPixels: Int
        public init(maxPixels: Int = 100_000_000) { self.maxPixels = maxPixels }
        public static let standard = Limits()

        func check(width: Int, height: Int) throws(SegError) {
            guard width > 0, height > 0 else { throw SegError(.corrupt, file: "", "image has zero size (\(width)x\(height))") }
            let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
            if overflow || pixels > maxPixels {
                throw SegError(.tooLarge, file: "", "image is \(width)x\(height), above the limit of \(maxPixels) pixels (--max-pixels)")
            }
        }
    }

    public static func read(_ path: String, limits: Limits = .standard) throws -> RasterImage {
        let bytes = try FileIO.read(path)
        do {
            return try decode(bytes, limits: limits)
        } catch {
            throw error.about(path)
        }
    }

    public static func format(of bytes: [UInt8]) -> RasterImage.Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x42, 0x4D]) { return .bmp }
        if bytes.starts(with: NPYCodec.magic) { return .npy }
        return nil
    }

    /// Decodes bytes of any supported format. Errors carry an empty file name: callers that know the
    /// path replace it (`read` does).
    public static func decode(_ bytes: [UInt8], limits: Limits = .standard) throws(SegError) -> RasterImage {
        if bytes.isEmpty { throw SegError(.truncated, file: "", "file is empty") }
        switch format(of: bytes) {
        case .png: return try PNGCodec.decode(bytes, limits: limits)
        case .jpeg: return try JPEGCodec.decode(bytes, limits: limits)
        case .bmp: return try BMPCodec.decode(bytes, limits: limits)
        case .npy: return try NPYCodec.decode(bytes, limits: limits)
        case nil: throw SegError(.unsupported, file: "", "not a PNG, JPEG or BMP image or a .npy label map (unknown signature)")
        }
    }

    // MARK: Writing (PNG)

    /// A PNG file's bytes, in memory: for terminals that take PNG payloads (the kitty graphics protocol).
    public static func encodePNG(_ image: RasterImage) throws(SegError) -> [UInt8] {
        try PNGCodec.encode(image)
    }

    public static func writePNG(_ image: RasterImage, to path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try PNGCodec.encode(image)
        } catch {
            throw error.about(path)
        }
        try FileIO.writeAtomically(bytes, to: path)
    }

    public static func writePNG(_ image: RGBImage, to path: String) throws {
        try writePNG(raster(image), to: path)
    }

    /// An RGB image as 8-bit RGB PNG bytes, in memory.
    public static func encodePNG(_ image: RGBImage) throws(SegError) -> [UInt8] {
        try encodePNG(raster(image))
    }

    private static func raster(_ image: RGBImage) -> RasterImage {
        RasterImage(width: image.width, height: image.height, colorModel: .rgb, fileBitDepth: 8, format: .png,
                    samples: .eight(image.pixels))
    }

    /// A binary mask as 8-bit gray 0/255, the convention most tools read.
    public static func writePNG(_ mask: Mask, to path: String) throws {
        try writePNG(RasterImage(width: mask.width, height: mask.height, colorModel: .gray, fileBitDepth: 8,
                                 format: .png, samples: .eight(mask.bits.map { $0 != 0 ? 255 : 0 })), to: path)
    }

    /// A label map as 8-bit gray when every value fits, else 16-bit gray; values above 65535 are refused.
    public static func writePNG(_ labels: LabelMap, to path: String, palette: [RasterImage.PaletteEntry]? = nil) throws {
        let largest = labels.labels.max() ?? 0
        let image: RasterImage
        if let palette, largest < 256, !palette.isEmpty {
            image = RasterImage(width: labels.width, height: labels.height, colorModel: .palette, fileBitDepth: 8,
                                format: .png, samples: .eight(labels.labels.map { UInt8($0) }), palette: palette)
        } else if largest < 256 {
            image = RasterImage(width: labels.width, height: labels.height, colorModel: .gray, fileBitDepth: 8,
                                format: .png, samples: .eight(labels.labels.map { UInt8($0) }))
        } else if largest <= 65535 {
            image = RasterImage(width: labels.width, height: labels.height, colorModel: .gray, fileBitDepth: 16,
                                format: .png, samples: .sixteen(labels.labels.map { UInt16($0) }))
        } else {
            throw SegError(.invalid, file: path, "label value \(largest) does not fit a 16-bit PNG")
        }
        try writePNG(image, to: path)
    }
}
