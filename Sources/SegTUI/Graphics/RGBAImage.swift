import SegCore

/// An 8-bit RGBA image, interleaved, row-major, straight (not premultiplied) alpha: what the
/// graphics encoders take. The mask overlay is one of these, transparent outside the mask.
public struct RGBAImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]  // width * height * 4

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 4, "RGBAImage: pixel count mismatch")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// All pixels transparent black.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: max(0, width) * max(0, height) * 4))
    }

    /// An opaque copy of an RGB image.
    public init(_ image: RGBImage) {
        var out = [UInt8](repeating: 255, count: image.width * image.height * 4)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(image.width * image.height) {
                    dst[i * 4] = src[i * 3]; dst[i * 4 + 1] = src[i * 3 + 1]; dst[i * 4 + 2] = src[i * 3 + 2]
                }
            }
        }
        self.init(width: image.width, height: image.height, pixels: out)
    }

    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        get {
            let i = (y * width + x) * 4
            return (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
        }
        set {
            let i = (y * width + x) * 4
            pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b; pixels[i + 3] = newValue.a
        }
    }

    /// This image (straight alpha) drawn over an opaque one of the same size: what a sixel
    /// frame shows, since sixel has no layers.
    public func composited(over base: RGBImage) -> RGBAImage {
        precondition(base.width == width && base.height == height, "RGBAImage.composited: size mismatch")
        var out = RGBAImage(base)
        out.pixels.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for i in 0..<(width * height) {
                    let a = Int(src[i * 4 + 3])
                    if a == 0 { continue }
                    for c in 0..<3 {
                        // Rounded (src·a + dst·(255 − a)) / 255: a = 255 gives the overlay colour exactly.
                        dst[i * 4 + c] = UInt8((Int(src[i * 4 + c]) * a + Int(dst[i * 4 + c]) * (255 - a) + 127) / 255)
                    }
                }
            }
        }
        return out
    }

    /// The PNG bytes of this image (RGBA, 8 bits per channel).
    public func pngBytes() throws -> [UInt8] {
        try ImageFile.encodePNG(RasterImage(width: width, height: height, colorModel: .rgba, fileBitDepth: 8,
                                            format: .png, samples: .eight(pixels)))
    }
}

extension RGBImage {
    /// The pixels of a box inside the image.
    public func cropped(_ box: PixelBox) -> RGBImage {
        precondition(box.minX >= 0 && box.minY >= 0 && box.maxX <= width && box.maxY <= height, "crop outside the image")
        var out = [UInt8]()
        out.reserveCapacity(box.width * box.height * 3)
        for y in box.minY..<box.maxY { out += pixels[((y * width + box.minX) * 3)..<((y * width + box.maxX) * 3)] }
        return RGBImage(width: box.width, height: box.height, pixels: out)
    }

    /// This image at the top-left of a canvas of `width` × `height` in `fill` (cut where smaller).
    public func padded(width w: Int, height h: Int, fill: RGB = RGB(0, 0, 0)) -> RGBImage {
        RGBImage(width: w, height: h, pixels: padRows(pixels, width: width, height: height, channels: 3, to: (w, h),
                                                      fill: [fill.r, fill.g, fill.b]))
    }
}

extension RGBAImage {
    /// The pixels of a rectangle inside the image.
    public func cropped(x x0: Int, y y0: Int, width w: Int, height h: Int) -> RGBAImage {
        precondition(x0 >= 0 && y0 >= 0 && w >= 0 && h >= 0 && x0 + w <= width && y0 + h <= height, "crop outside the image")
        var out = [UInt8]()
        out.reserveCapacity(w * h * 4)
        for y in y0..<(y0 + h) { out += pixels[((y * width + x0) * 4)..<((y * width + x0 + w) * 4)] }
        return RGBAImage(width: w, height: h, pixels: out)
    }

    /// `patch` copied over this image's pixels with its top-left at (x, y) (cut at the edges).
    public mutating func paste(_ patch: RGBAImage, x: Int, y: Int) {
        let x0 = max(0, x), x1 = min(width, x + patch.width)
        guard x0 < x1 else { return }
        for row in max(0, y)..<max(max(0, y), min(height, y + patch.height)) {
            let from = ((row - y) * patch.width + x0 - x) * 4, to = (row * width + x0) * 4
            pixels.replaceSubrange(to..<(to + (x1 - x0) * 4), with: patch.pixels[from..<(from + (x1 - x0) * 4)])
        }
    }

    /// This image at the top-left of a transparent canvas of `width` × `height` (cut where smaller).
    public func padded(width w: Int, height h: Int) -> RGBAImage {
        RGBAImage(width: w, height: h, pixels: padRows(pixels, width: width, height: height, channels: 4, to: (w, h),
                                                       fill: [0, 0, 0, 0]))
    }
}

/// Interleaved pixels copied onto a canvas of the `fill` pixel at its top-left.
private func padRows(_ pixels: [UInt8], width: Int, height: Int, channels: Int, to size: (width: Int, height: Int),
                     fill: [UInt8]) -> [UInt8] {
    guard size != (width, height) else { return pixels }
    var out = [UInt8](repeating: 0, count: size.width * size.height * channels)
    if fill.contains(where: { $0 != 0 }) {
        out.withUnsafeMutableBufferPointer { b in
            for i in 0..<(size.width * size.height) { for c in 0..<channels { b[i * channels + c] = fill[c] } }
        }
    }
    let span = min(size.width, width) * channels
    for y in 0..<min(size.height, height) {
        out.replaceSubrange((y * size.width * channels)..<(y * size.width * channels + span),
                            with: pixels[(y * width * channels)..<(y * width * channels + span)])
    }
    return out
}
