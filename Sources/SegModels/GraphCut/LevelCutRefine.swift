import Foundation
import SegCore

/// The fine level: one cut in a band around the coarse answer's boundary.
extension LevelCut {
    /// One cut at this level's resolution in a band around the boundary of `rough` (the coarse
    /// result brought up to this size); outside the band the rough labels stay.
    mutating func refine(prompts: Prompts, rough: Mask, bandWidth: Double) throws -> [UInt8] {
        var label = rough.bits
        let hard = hardLabels(prompts: prompts)
        // Distance of every pixel to the rough boundary (pixels with a 4-neighbour of the other label).
        var notBoundary = Mask(width: width, height: height, bits: [UInt8](repeating: 1, count: n))
        var anyBoundary = false
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let v = label[i]
                if (x + 1 < width && label[i + 1] != v) || (y + 1 < height && label[i + width] != v) {
                    notBoundary.bits[i] = 0
                    if x + 1 < width && label[i + 1] != v { notBoundary.bits[i + 1] = 0 }
                    if y + 1 < height && label[i + width] != v { notBoundary.bits[i + width] = 0 }
                    anyBoundary = true
                }
            }
        }
        for i in 0..<n where hard[i] != 0 { label[i] = hard[i] == 1 ? 1 : 0 }
        guard anyBoundary else { return label }
        let distance = notBoundary.distanceTransform()
        let inBand = distance.map { $0 <= Float(bandWidth) }

        guard let fg = fitModel(label: label, value: 1), let bg = fitModel(label: label, value: 0) else { return label }

        // A graph of the band's free pixels only: an arc to a fixed pixel becomes a terminal
        // capacity (cutting it is the cost of disagreeing with that pixel's label), so the cut
        // is the same as on the whole grid with the rest clamped, at a fraction of the cost.
        var node = [Int32](repeating: -1, count: n)
        var pixels: [Int32] = []
        for i in 0..<n where inBand[i] && hard[i] == 0 { node[i] = Int32(pixels.count); pixels.append(Int32(i)) }
        guard !pixels.isEmpty else { return label }
        var edges: [(Int, Int)] = []
        var weights: [Float] = []
        var source = [Float](repeating: 0, count: pixels.count)
        var sink = [Float](repeating: 0, count: pixels.count)
        let lambda = self.lambda
        level.grid.arc.withUnsafeBufferPointer { arc in
            level.contrast.withUnsafeBufferPointer { contrast in
                level.lab.withUnsafeBufferPointer { z in
                    for (k, p) in pixels.enumerated() {
                        let i = Int(p)
                        let x = i % width, y = i / width
                        for d in 0..<8 {
                            let a = Int(arc[i * 8 + d])
                            guard a >= 0 else { continue }
                            let j = (y + PixelGrid.dy[d]) * width + x + PixelGrid.dx[d]
                            let w = lambda * contrast[a]
                            if node[j] >= 0 {
                                if j > i { edges.append((k, Int(node[j]))); weights.append(w) }
                            } else if label[j] != 0 {
                                source[k] += w
                            } else {
                                sink[k] += w
                            }
                        }
                        let l = z[3 * i], a = z[3 * i + 1], b = z[3 * i + 2]
                        source[k] += bg.negativeLogLikelihood(l, a, b)
                        sink[k] += fg.negativeLogLikelihood(l, a, b)
                    }
                }
            }
        }
        let (topology, arcs) = FlowTopology.fromEdges(nodeCount: pixels.count, edges: edges)
        let solver = MaxFlowSolver(topology: topology)
        for (e, pair) in arcs.enumerated() {
            solver.capacity[pair.forward] = weights[e]
            solver.capacity[pair.backward] = weights[e]
        }
        for k in 0..<pixels.count { solver.addTerminal(k, source: source[k], sink: sink[k]) }
        solver.solve()
        for (k, p) in pixels.enumerated() { label[Int(p)] = solver.isSource(k) ? 1 : 0 }
        return configuration.connected ? keepConnected(label, hard: hard, box: prompts.box != nil) : label
    }
}
