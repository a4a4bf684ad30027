import SegCore

/// One simulated click, in full-resolution pixel coordinates.
public struct SimulatedClick: Equatable, Hashable, Sendable, Codable {
    public var x: Int
    public var y: Int
    public var positive: Bool
    /// The distance to the error region's edge that chose this pixel (the largest one).
    public var distance: Double

    public init(x: Int, y: Int, positive: Bool, distance: Double) {
        self.x = x; self.y = y; self.positive = positive; self.distance = distance
    }
}

/// The click a simulated user makes next, under the protocol of RITM's evaluation (used by
/// FocalClick, SimpleClick and the SAM evaluations):
///
/// false negatives = object ∧ ¬prediction and false positives = ¬object ∧ prediction, both
/// outside the ignore region; each is padded by one pixel of zeros (so the image border counts
/// as outside the region), its exact Euclidean distance transform taken, the pad removed and the
/// distance zeroed at pixels already clicked. The click is positive at the largest false-negative
/// distance if that exceeds the largest false-positive distance, otherwise negative at the
/// largest false-positive distance; ties go to the first pixel in row-major order.
///
/// Distances are compared as exact integer squares, so the choice equals scipy's float64 one.
/// When the prediction is perfect both maxima are zero and the protocol still answers: a negative
/// click at (0, 0), as numpy's argmax does. It only happens at IoU 1, where NoC is settled.
public struct ClickSimulator: Sendable {
    public let truth: Mask
    public let ignore: Mask?
    public private(set) var clicks: [SimulatedClick] = []
    private var clicked: [Bool]

    /// `truth` is the object, `ignore` the pixels that count neither way (or nil).
    public init(truth: Mask, ignore: Mask? = nil) throws {
        guard truth.width > 0, truth.height > 0 else {
            throw SegError(.invalid, file: "", "the object mask is empty (\(truth.size))")
        }
        if let ignore, ignore.size != truth.size {
            throw SegError(.invalid, file: "", "the ignore mask is \(ignore.size) but the object mask is \(truth.size)")
        }
        self.truth = truth
        self.ignore = ignore
        clicked = [Bool](repeating: false, count: truth.width * truth.height)
    }

    /// Chooses the next click for `prediction`, records it and returns it.
    public mutating func click(after prediction: Mask) throws -> SimulatedClick {
        guard prediction.size == truth.size else {
            throw SegError(.invalid, file: "", "the prediction is \(prediction.size) but the object mask is \(truth.size)")
        }
        let w = truth.width, h = truth.height
        var falseNegative = Mask(width: w + 2, height: h + 2)
        var falsePositive = Mask(width: w + 2, height: h + 2)
        truth.bits.withUnsafeBufferPointer { gt in
            prediction.bits.withUnsafeBufferPointer { pred in
                falseNegative.bits.withUnsafeMutableBufferPointer { fn in
                    falsePositive.bits.withUnsafeMutableBufferPointer { fp in
                        for y in 0..<h {
                            for x in 0..<w {
                                let i = y * w + x
                                if let ignore = self.ignore, ignore.bits[i] != 0 { continue }
                                let o = (y + 1) * (w + 2) + x + 1
                                let g = gt[i] != 0, p = pred[i] != 0
                                if g && !p { fn[o] = 1 }
                                if !g && p { fp[o] = 1 }
                            }
                        }
                    }
                }
            }
        }
        let (fnPixel, fnSquared) = farthest(falseNegative)
        let (fpPixel, fpSquared) = farthest(falsePositive)
        let positive = fnSquared > fpSquared
        let pixel = positive ? fnPixel : fpPixel
        let squared = positive ? fnSquared : fpSquared
        let click = SimulatedClick(x: pixel % w, y: pixel / w, positive: positive, distance: Double(squared).squareRoot())
        clicked[pixel] = true
        clicks.append(click)
        return click
    }

    /// The unpadded pixel with the largest squared distance (not yet clicked), the first in
    /// row-major order among equals, and that distance.
    private func farthest(_ padded: Mask) -> (Int, Int) {
        // The pad guarantees an unset pixel, so the transform always exists.
        guard let squared = padded.squaredDistanceTransform() else { return (0, 0) }
        let w = truth.width, h = truth.height
        var best = 0, bestValue = -1
        squared.withUnsafeBufferPointer { d in
            for y in 0..<h {
                let row = (y + 1) * (w + 2) + 1
                for x in 0..<w {
                    let i = y * w + x
                    let v = clicked[i] ? 0 : d[row + x]
                    if v > bestValue { bestValue = v; best = i }
                }
            }
        }
        return (best, max(bestValue, 0))
    }
}
