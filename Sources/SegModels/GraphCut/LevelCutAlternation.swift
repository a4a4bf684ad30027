import Foundation
import SegCore

/// GrabCut's loop on one level: colour models fitted to the labels, likelihoods, the cut with
/// its smoothness and star-convexity arcs, and the connectivity rule.
extension LevelCut {
    /// GrabCut's alternation: fit the colour models to the labels, cut, repeat until the labels
    /// settle or the rounds run out. Each round adds only the change of the terminal capacities to
    /// the solver, so the flow of the previous round (or click) is kept: the residual graph of a
    /// maximum flow stays valid when capacities change (Kohli & Torr 2005), and the next cut needs
    /// a fraction of the work.
    func alternate(from start: [UInt8], hard: [UInt8], prior: (fg: [Float], bg: [Float]), box: Bool,
                   entry: inout FlowCache.Entry) -> Outcome {
        let solver = entry.solver
        var label = start
        var fgCost = [Float](repeating: 0, count: n)
        var bgCost = [Float](repeating: 0, count: n)
        var models: (fg: GaussianMixture, bg: GaussianMixture)?
        var settled = false
        for _ in 0..<max(1, configuration.iterations) {
            guard let fg = fitModel(label: label, value: 1, from: models?.fg),
                  let bg = fitModel(label: label, value: 0, from: models?.bg) else { break }
            models = (fg, bg)
            likelihoods(fg, bg, into: &fgCost, &bgCost)
            for i in 0..<n {
                let want: Float
                switch hard[i] {
                case 1: want = Self.infinite
                case 2: want = -Self.infinite
                default: want = (bgCost[i] + prior.bg[i]) - (fgCost[i] + prior.fg[i])
                }
                solver.terminal[i] += want - entry.terminalSet[i]
                entry.terminalSet[i] = want
            }
            solver.solve()
            var next = [UInt8](repeating: 0, count: n)
            for i in 0..<n where solver.isSource(i) { next[i] = 1 }
            if configuration.connected { next = keepConnected(next, hard: hard, box: box) }
            if next == label { settled = true; break }
            label = next
        }
        // The models of the final labels (one more update unless the last round left them as they were).
        if !settled, let m = models, let fg = fitModel(label: label, value: 1, from: m.fg), let bg = fitModel(label: label, value: 0, from: m.bg) {
            likelihoods(fg, bg, into: &fgCost, &bgCost)
        }
        // How far colour alone agrees with the answer: a confidence that drops where object and
        // background share colours and the clicks had to carry the cut.
        var agree = 0
        for i in 0..<n where (label[i] != 0) == (fgCost[i] < bgCost[i]) { agree += 1 }
        return Outcome(label: label, agreement: Float(agree) / Float(max(n, 1)))
    }

    func likelihoods(_ fg: GaussianMixture, _ bg: GaussianMixture, into fgCost: inout [Float], _ bgCost: inout [Float]) {
        level.planes.l.withUnsafeBufferPointer { l in
            level.planes.a.withUnsafeBufferPointer { a in
                level.planes.b.withUnsafeBufferPointer { b in
                    fgCost.withUnsafeMutableBufferPointer { fg.negativeLogLikelihood(l: l, a: a, b: b, into: $0) }
                    bgCost.withUnsafeMutableBufferPointer { bg.negativeLogLikelihood(l: l, a: a, b: b, into: $0) }
                }
            }
        }
    }

    /// The object pixels 8-connected to a positive click's pixels. With a box and no positive
    /// click, every part counts (the box says where the object is, not which part).
    func keepConnected(_ label: [UInt8], hard: [UInt8], box: Bool) -> [UInt8] {
        guard let parts = try? Mask(width: width, height: height, bits: label).connectedComponents(.eight) else { return label }
        var keep = [Bool](repeating: false, count: parts.count + 1)
        var anchored = false
        for i in 0..<n where hard[i] == 1 {
            let c = Int(parts.labels.labels[i])
            if c > 0 { keep[c] = true; anchored = true }
        }
        guard anchored || !box else { return label }
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n where keep[Int(parts.labels.labels[i])] && label[i] != 0 { out[i] = 1 }
        return out
    }

    /// λ × contrast on every arc.
    func setSmoothness(_ solver: MaxFlowSolver) {
        let lambda = self.lambda
        level.contrast.withUnsafeBufferPointer { c in
            for a in 0..<c.count { solver.capacity[a] = lambda * c[a] }
        }
    }

    /// The arcs from each pixel to its parent on the star-convexity tree: they are infinite, so
    /// the object cannot contain a pixel without the path back to its click (Veksler 2008;
    /// geodesic paths as Gulshan et al. 2010).
    func starArcs(_ tree: GeodesicTree?) -> [Int32] {
        guard let tree else { return [] }
        var out: [Int32] = []
        level.grid.arc.withUnsafeBufferPointer { arc in
            tree.parent.withUnsafeBufferPointer { parent in
                for i in 0..<n where parent[i] >= 0 {
                    let a = arc[i * 8 + Int(parent[i])]
                    if a >= 0 { out.append(a) }
                }
            }
        }
        return out
    }

    /// The colour model of the pixels labelled `value`, from at most `maxSamples` of them:
    /// fitted afresh, or updated from the previous round's model.
    func fitModel(label: [UInt8], value: UInt8, from previous: GaussianMixture? = nil) -> GaussianMixture? {
        var count = 0
        for v in label where v == value { count += 1 }
        guard count > 0 else { return nil }
        let stride = max(1, (count + configuration.maxSamples - 1) / configuration.maxSamples)
        var indices: [Int32] = []
        indices.reserveCapacity(count / stride + 1)
        var k = 0
        for i in 0..<n where label[i] == value {
            if k % stride == 0 { indices.append(Int32(i)) }
            k += 1
        }
        return level.lab.withUnsafeBufferPointer { z in
            if let previous {
                return GaussianMixture.refit(previous, data: z, indices: indices, floor: configuration.covarianceFloor)
            }
            return GaussianMixture.fit(data: z, indices: indices, count: configuration.components, floor: configuration.covarianceFloor)
        }
    }
}
