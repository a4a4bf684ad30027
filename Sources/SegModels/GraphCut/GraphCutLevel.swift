import Foundation
import SegCore

/// One resolution of the prepared image: colours in Lab, the pixel graph and the per-arc
/// weights every cut on this image shares.
struct GraphCutLevel: Sendable {
    let width: Int
    let height: Int
    var n: Int { width * height }
    /// Interleaved L, a, b.
    let lab: [Float]
    /// The same as three planes, for the colour models' vector loops.
    let planes: (l: [Float], a: [Float], b: [Float])
    let grid: PixelGrid
    /// Per arc: exp(−β‖Δlab‖²) / length, the contrast-sensitive smoothness weight before λ.
    let contrast: [Float]
    /// Per pixel × 4 forward neighbours (right, down-left, down, down-right): the geodesic step
    /// sqrt(length² + κ²‖Δlab‖²).
    let geodesicStep: [Float]

    init(image: RGBImage, geodesicColor kappa: Float) {
        width = image.width
        height = image.height
        let n = image.width * image.height
        let lab = CIELab.convert(image)
        let grid = PixelGrid(width: image.width, height: image.height)
        self.lab = lab
        self.grid = grid
        planes = ((0..<n).map { lab[3 * $0] }, (0..<n).map { lab[3 * $0 + 1] }, (0..<n).map { lab[3 * $0 + 2] })

        // β = 1 / (2 ⟨‖Δz‖²⟩) over all neighbour pairs, so the contrast term adapts to the
        // image's own level of texture (Rother et al. 2004).
        var squared = [Float](repeating: 0, count: grid.topology.arcCount)
        var total = 0.0
        var pairs = 0
        lab.withUnsafeBufferPointer { z in
            grid.topology.head.withUnsafeBufferPointer { head in
                grid.topology.arcStart.withUnsafeBufferPointer { start in
                    squared.withUnsafeMutableBufferPointer { sq in
                        for i in 0..<n {
                            for a in Int(start[i])..<Int(start[i + 1]) {
                                let j = Int(head[a])
                                let d0 = z[3 * i] - z[3 * j], d1 = z[3 * i + 1] - z[3 * j + 1], d2 = z[3 * i + 2] - z[3 * j + 2]
                                let s = d0 * d0 + d1 * d1 + d2 * d2
                                sq[a] = s
                                if j > i { total += Double(s); pairs += 1 }
                            }
                        }
                    }
                }
            }
        }
        let meanSquared = pairs > 0 ? total / Double(pairs) : 0
        let beta = Float(meanSquared > 0 ? 1 / (2 * meanSquared) : 0)
        var contrast = [Float](repeating: 0, count: grid.topology.arcCount)
        var step = [Float](repeating: .infinity, count: n * 4)
        let kappa2 = kappa * kappa
        grid.arc.withUnsafeBufferPointer { arc in
            squared.withUnsafeBufferPointer { sq in
                contrast.withUnsafeMutableBufferPointer { c in
                    step.withUnsafeMutableBufferPointer { st in
                        for i in 0..<n {
                            for d in 0..<8 {
                                let a = Int(arc[i * 8 + d])
                                guard a >= 0 else { continue }
                                let len = PixelGrid.length[d]
                                c[a] = expf(-beta * sq[a]) / len
                                if d >= 4 { st[i * 4 + d - 4] = (len * len + kappa2 * sq[a]).squareRoot() }
                            }
                        }
                    }
                }
            }
        }
        self.contrast = contrast
        geodesicStep = step
    }

    /// The pixel of this level under a point of an image of `size` (pixel centres line up).
    func pixel(of p: PromptPoint, imageSize size: PixelSize) -> (x: Int, y: Int) {
        let x = Int((Double(p.pixel.x) + 0.5) * Double(width) / Double(size.width))
        let y = Int((Double(p.pixel.y) + 0.5) * Double(height) / Double(size.height))
        return (min(width - 1, max(0, x)), min(height - 1, max(0, y)))
    }

    /// The pixel range of this level covered by a box of an image of `size`.
    func range(of box: PixelBox, imageSize size: PixelSize) -> (x0: Int, y0: Int, x1: Int, y1: Int) {
        let sx = Double(width) / Double(size.width), sy = Double(height) / Double(size.height)
        let x0 = max(0, Int(Double(box.minX) * sx)), x1 = min(width, Int((Double(box.maxX) * sx).rounded(.up)))
        let y0 = max(0, Int(Double(box.minY) * sy)), y1 = min(height, Int((Double(box.maxY) * sy).rounded(.up)))
        return (x0, y0, max(x0 + 1, x1), max(y0 + 1, y1))
    }
}
