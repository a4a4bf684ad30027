import Foundation
import SegCore

/// What the prompts say before any colour is looked at: hard labels, the first guess, and the
/// click prior's unary costs.
extension LevelCut {
    /// Hard labels: 0 free, 1 object, 2 background. Clicks are painted in order, so a later click
    /// wins where disks overlap; the clicked pixel itself always carries its click's label.
    func hardLabels(prompts: Prompts) -> [UInt8] {
        var hard = [UInt8](repeating: 0, count: n)
        if let box = prompts.box {
            // GrabCut's box: everything outside is background.
            let r = level.range(of: box.pixels.clamped(to: imageSize), imageSize: imageSize)
            for y in 0..<height {
                for x in 0..<width where x < r.x0 || x >= r.x1 || y < r.y0 || y >= r.y1 { hard[y * width + x] = 2 }
            }
        }
        let radius = max(1.0, configuration.clickRadius * Double(width) / Double(imageSize.width))
        let ri = Int(radius.rounded(.down))
        for p in prompts.points {
            let (cx, cy) = level.pixel(of: p, imageSize: imageSize)
            let v: UInt8 = p.positive ? 1 : 2
            for y in max(0, cy - ri)...min(height - 1, cy + ri) {
                for x in max(0, cx - ri)...min(width - 1, cx + ri) {
                    let dx = Double(x - cx), dy = Double(y - cy)
                    if dx * dx + dy * dy <= radius * radius { hard[y * width + x] = v }
                }
            }
            hard[cy * width + cx] = v
        }
        return hard
    }

    /// The first guess of the object when nothing else says where it is.
    func initialLabel(prompts: Prompts) -> [UInt8] {
        var label = [UInt8](repeating: 0, count: n)
        if let box = prompts.box {
            let r = level.range(of: box.pixels.clamped(to: imageSize), imageSize: imageSize)
            for y in r.y0..<r.y1 { for x in r.x0..<r.x1 { label[y * width + x] = 1 } }
        } else if let first = prompts.points.first(where: { $0.positive }) {
            let (cx, cy) = level.pixel(of: first, imageSize: imageSize)
            let r = configuration.initialRadius * Double(width * width + height * height).squareRoot()
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Double(x - cx), dy = Double(y - cy)
                    if dx * dx + dy * dy <= r * r { label[y * width + x] = 1 }
                }
            }
        }
        return label
    }

    /// Extra unary costs (object, background) from where the clicks are: a pixel geodesically
    /// near a click costs `clickPrior` to take the other label, fading as exp(−distance / reach).
    func priors(hard: [UInt8]) -> (fg: [Float], bg: [Float]) {
        var fg = [Float](repeating: 0, count: n)
        var bg = [Float](repeating: 0, count: n)
        guard configuration.clickPrior > 0 else { return (fg, bg) }
        let positives = (0..<n).filter { hard[$0] == 1 }.map { Int32($0) }
        let negatives = (0..<n).filter { hard[$0] == 2 }.map { Int32($0) }
        let weight = configuration.clickPrior, reach = configuration.clickReach * unit
        for (sources, positive) in [(positives, true), (negatives, false)] where !sources.isEmpty {
            let d = GeodesicTree.compute(width: width, height: height, stepCost: level.geodesicStep, sources: sources).distance
            for i in 0..<n {
                let cost = weight * expf(-d[i] / reach)
                if positive { bg[i] += cost } else { fg[i] += cost }
            }
        }
        return (fg, bg)
    }
}
