/// An image as a file holds it: any channel layout, 8 or 16 bits per sample, palette kept.
/// Label maps need the stored values (a palette index is a class id), photos need RGB:
/// the conversions below give each what it needs.
public struct RasterImage: Equatable, Sendable {
    public enum ColorModel: String, Sendable, Equatable {
        case gray, grayAlpha = "gray+alpha", rgb, rgba, palette

        public var channels: Int {
            switch self {
            case .gray, .palette: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    public enum Format: String, Sendable, Equatable { case png, jpeg, bmp, npy }

    public enum Samples: Equatable, Sendable {
        case eight([UInt8])       // width * height * channels
        case sixteen([UInt16])    // width * height * channels
    }

    public struct PaletteEntry: Equatable, Sendable {
        public var r, g, b, a: UInt8
        public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) { self.r = r; self.g = g; self.b = b; self.a = a }
    }

    public let width: Int
    public let height: Int
    public let colorModel: ColorModel
    /// Bits per sample as stored in the file (1, 2, 4, 8 or 16; BMP 16-bit pixels count as 8 per channel).
    public let fileBitDepth: Int
    public let format: Format
    public let samples: Samples
    public let palette: [PaletteEntry]

    public init(width: Int, height: Int, colorModel: ColorModel, fileBitDepth: Int, format: Format,
                samples: Samples, palette: [PaletteEntry] = []) {
        self.width = width
        self.height = height
        self.colorModel = colorModel
        self.fileBitDepth = fileBitDepth
        self.format = format
        self.samples = samples
        self.palette = palette
    }

    public var size: PixelSize { PixelSize(width: width, height: height) }
    public var channels: Int { colorModel.channels }

    /// The sample of channel `c` at pixel index `i`, widened to 16 bits unchanged.
    @inline(__always) public func sample(_ i: Int, _ c: Int) -> UInt32 {
        switch samples {
        case .eight(let s): UInt32(s[i * channels + c])
        case .sixteen(let s): UInt32(s[i * channels + c])
        }
    }

    /// 8-bit RGB for display and models: palette entries looked up, gray replicated, alpha dropped,
    /// 16-bit samples scaled to 8 bits with rounding.
    public func rgbImage() -> RGBImage {
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * 3)
        let ch = channels
        func to8(_ v: UInt32) -> UInt8 {
            if case .sixteen = samples { return UInt8((v * 255 + 32767) / 65535) }
            return UInt8(truncatingIfNeeded: v)
        }
        out.withUnsafeMutableBufferPointer { o in
            switch colorModel {
            case .palette:
                for i in 0..<n {
                    let index = Int(sample(i, 0))
                    if index < palette.count {
                        let e = palette[index]
                        o[i * 3] = e.r; o[i * 3 + 1] = e.g; o[i * 3 + 2] = e.b
                    }
                }
            case .gray, .grayAlpha:
                for i in 0..<n {
                    let v = to8(sample(i, 0))
                    o[i * 3] = v; o[i * 3 + 1] = v; o[i * 3 + 2] = v
                }
            case .rgb, .rgba:
                if case .eight(let s) = samples, ch == 3 {
                    s.withUnsafeBufferPointer { src in
                        for k in 0..<(n * 3) { o[k] = src[k] }
                    }
                } else {
                    for i in 0..<n {
                        o[i * 3] = to8(sample(i, 0)); o[i * 3 + 1] = to8(sample(i, 1)); o[i * 3 + 2] = to8(sample(i, 2))
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// How several colour channels become one label value.
    public enum ChannelReduction: Sendable {
        /// The largest channel: the convention of binary masks saved as RGB (the Berkeley set).
        case maximum
        /// R + 256·G + 256²·B: COCO panoptic segment ids.
        case packedRGB
    }

    /// The stored values as labels: gray values, palette indices (not colours), the gray channel of
    /// gray+alpha; colour images reduced as asked. Alpha never counts.
    public func labelMap(reducing reduction: ChannelReduction = .maximum) -> LabelMap {
        let n = width * height
        var labels = [UInt32](repeating: 0, count: n)
        labels.withUnsafeMutableBufferPointer { out in
            switch colorModel {
            case .gray, .palette, .grayAlpha:
                for i in 0..<n { out[i] = sample(i, 0) }
            case .rgb, .rgba:
                for i in 0..<n {
                    let r = sample(i, 0), g = sample(i, 1), b = sample(i, 2)
                    switch reduction {
                    case .maximum: out[i] = max(r, g, b)
                    case .packedRGB: out[i] = r + 256 * g + 65536 * b
                    }
                }
            }
        }
        return LabelMap(width: width, height: height, labels: labels)
    }

    /// An object mask under the benchmark convention: a pixel is object when its value is non-zero
    /// and not `ignoreValue`; `ignored` marks the pixels equal to `ignoreValue`.
    public func objectMask(ignoreValue: UInt32? = nil) -> (object: Mask, ignored: Mask) {
        let labels = labelMap(reducing: .maximum).labels
        var object = [UInt8](repeating: 0, count: labels.count)
        var ignored = [UInt8](repeating: 0, count: labels.count)
        for i in 0..<labels.count {
            let v = labels[i]
            if let ignoreValue, v == ignoreValue { ignored[i] = 1 } else if v != 0 { object[i] = 1 }
        }
        return (Mask(width: width, height: height, bits: object), Mask(width: width, height: height, bits: ignored))
    }
}
