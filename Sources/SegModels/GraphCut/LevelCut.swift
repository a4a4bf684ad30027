import Foundation
import SegCore

/// One click's worth of work on one level of a prepared image.
struct LevelCut {
    let level: GraphCutLevel
    let imageSize: PixelSize
    let configuration: GraphCutSegmenter.Configuration
    let cache: FlowCache?
    /// After `segment`: the share of pixels whose colour likelihoods alone agree with their label.
    var agreement: Float = 1
    var n: Int { level.n }
    /// Pixel lengths of this level relative to a 40 000-pixel image, the size the settings are
    /// stated for: the colour term grows with an object's area and the smoothness term with its
    /// boundary, so λ and geodesic reaches scale with the side length to mean the same on every
    /// image size (without it a 5 000-pixel image collapses to its clicks).
    var unit: Float { (Float(n) / 40_000).squareRoot() }
    var lambda: Float { configuration.lambda * (configuration.scaleWithSize ? unit : 1) }
    var width: Int { level.width }
    var height: Int { level.height }

    /// "Infinite" capacity of hard constraints: far above any cut they compete with (a click's
    /// disk borders a few hundred λ-weighted arcs), yet small enough that Float keeps flows on
    /// these arcs exact to 1/16, which warm starts need when a capacity is lowered again.
    static let infinite = Float(1 << 20)

    /// Colour models and cut alternated from an initial guess.
    mutating func segment(prompts: Prompts) -> [UInt8] {
        let hard = hardLabels(prompts: prompts)

        // Star centres: the pixels of the positive clicks' hard disks.
        var tree: GeodesicTree?
        if configuration.starConvexity {
            let centres = (0..<n).filter { hard[$0] == 1 }.map { Int32($0) }
            if !centres.isEmpty {
                tree = GeodesicTree.compute(width: width, height: height, stepCost: level.geodesicStep, sources: centres)
            }
        }
        let prior = priors(hard: hard)

        // Warm start from the last cut on this image when there is one: only the star-convexity
        // arcs and the terminal capacities change, and both are edited into the residual graph.
        var entry: FlowCache.Entry
        if configuration.warmStart, let cached = cache?.take(), cached.solver.nodeCount == n {
            entry = cached
            let lambda = self.lambda
            level.contrast.withUnsafeBufferPointer { c in
                for a in entry.infiniteArcs { entry.solver.changeCapacity(arc: Int(a), by: lambda * c[Int(a)] - Self.infinite) }
            }
        } else {
            let solver = MaxFlowSolver(topology: level.grid.topology)
            setSmoothness(solver)
            entry = FlowCache.Entry(solver: solver, terminalSet: [Float](repeating: 0, count: n), infiniteArcs: [])
        }
        entry.infiniteArcs = starArcs(tree)
        let lambda = self.lambda
        level.contrast.withUnsafeBufferPointer { c in
            for a in entry.infiniteArcs { entry.solver.changeCapacity(arc: Int(a), by: Self.infinite - lambda * c[Int(a)]) }
        }

        var first = initialLabel(prompts: prompts)
        for i in 0..<n where hard[i] != 0 { first[i] = hard[i] == 1 ? 1 : 0 }
        let best = alternate(from: first, hard: hard, prior: prior, box: prompts.box != nil, entry: &entry)
        cache?.put(entry)
        agreement = best.agreement
        return best.label
    }

    struct Outcome {
        var label: [UInt8]
        /// The share of pixels whose colour likelihoods alone agree with their label.
        var agreement: Float
    }
}
