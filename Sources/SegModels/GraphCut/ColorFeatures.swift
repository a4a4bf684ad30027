import Foundation
import SegCore

/// CIELab (D65) from 8-bit sRGB. Lab is used because Euclidean distances in it roughly follow
/// perceived colour differences, so one contrast scale (β) and one Gaussian covariance behave
/// alike in dark and bright parts of the image, which RGB does not.
enum CIELab {
    /// sRGB byte → linear light, once for all 256 values.
    static let linear: [Float] = (0..<256).map { v in
        let c = Double(v) / 255
        return Float(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4))
    }

    @inline(__always) static func f(_ t: Float) -> Float {
        // The linear segment below (6/29)^3 keeps the slope finite near black.
        t > 0.008856452 ? cbrtf(t) : t * 7.787037 + 0.13793103
    }

    /// Interleaved L, a, b per pixel (L in 0…100, a and b roughly −100…100).
    static func convert(_ image: RGBImage) -> [Float] {
        let n = image.width * image.height
        var out = [Float](repeating: 0, count: n * 3)
        linear.withUnsafeBufferPointer { lin in
            image.pixels.withUnsafeBufferPointer { px in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n {
                        let r = lin[Int(px[3 * i])], g = lin[Int(px[3 * i + 1])], b = lin[Int(px[3 * i + 2])]
                        let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
                        let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
                        let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883
                        let fx = f(x), fy = f(y), fz = f(z)
                        o[3 * i] = 116 * fy - 16
                        o[3 * i + 1] = 500 * (fx - fy)
                        o[3 * i + 2] = 200 * (fy - fz)
                    }
                }
            }
        }
        return out
    }
}
