import Foundation
import SegCore

/// The classical interactive segmenter: GrabCut-style colour mixtures, a contrast-sensitive
/// 8-connected smoothness term and exact minimum cuts, driven by clicks (hard constraints) and an
/// optional box. It needs no weights, so it is the model segterm uses by default.
///
/// Each click: on a coarse copy of the image, colour models and cut alternate (warm-started
/// max-flow), with a geodesic star-convexity prior around the positive clicks and geodesic
/// distance priors from all clicks; then one cut at the working resolution, in a band around the
/// coarse boundary, puts the boundary on the fine image's edges.
public struct GraphCutSegmenter: PromptableSegmenter {
    public struct Configuration: Sendable, Equatable {
        /// Images with more pixels are segmented on an area-downsampled working copy.
        public var maxWorkingPixels = 400_000
        /// Pixels of the coarse copy where colour models and cut alternate (0: no coarse level).
        public var coarsePixels = 40_000
        /// Half-width of the band refined at the working resolution, in coarse pixels.
        public var band = 2.0
        /// Gaussians per colour model.
        public var components = 5
        /// Colour-model / cut rounds per click on the coarse level.
        public var iterations = 5
        /// Weight of the smoothness term against the colour term.
        public var lambda: Float = 50
        /// Added to every covariance diagonal (Lab units squared).
        public var covarianceFloor = 1.0
        /// Radius of the hard constraint painted at each click, in full-resolution pixels.
        public var clickRadius = 5.0
        /// Radius of the initial object guess around the first positive click, as a fraction of
        /// the working image's diagonal (used when there is no box and no previous mask).
        public var initialRadius = 0.15
        /// Geodesic star-convexity around the positive clicks.
        public var starConvexity = false
        /// Colour weight κ of the geodesic distances (0 = Euclidean).
        public var geodesicColor: Float = 1
        /// Weight of the geodesic prior: the relative geodesic distance to positive and negative clicks.
        public var geodesicPrior: Float = 0
        /// Weight of the local click prior: a pixel geodesically near a click costs this much,
        /// fading as exp(−distance / clickReach), to take the other label.
        public var clickPrior: Float = 20
        /// Geodesic reach of the click prior, in coarse pixels.
        public var clickReach: Float = 20
        /// Start from the previous mask (when given) instead of the first-click disk.
        public var reusePrevious = false
        /// Cost of changing a pixel of the previous mask, away from the newest click.
        public var previousWeight: Float = 0
        /// Geodesic reach of the newest click over the previous-mask prior, in coarse pixels.
        public var newClickReach: Float = 20
        /// Scale λ and the geodesic reaches with the level's size (see `LevelCut.unit`).
        public var scaleWithSize = true
        /// Keep only the parts of the object connected to a positive click (or inside the box).
        public var connected = true
        /// Also run the alternation from the previous answer (when given) and keep the result with
        /// the lower energy: a click then cannot throw away a good answer for a worse local optimum.
        public var hypotheses = false
        /// Start each click's max-flow from the previous click's flow (same answer, less work).
        public var warmStart = true
        /// Samples per colour model fit at most (a deterministic stride over the region).
        public var maxSamples = 40_000

        public init() {}
    }

    public var configuration: Configuration
    public var name: String { "grabcut" }
    /// How well the mask's colours agree with the models learnt from the prompts: not an IoU.
    public var scoreName: String { "colour agreement" }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: Prepare

    public struct Prepared: Sendable {
        /// Size of the image the prompts and masks refer to.
        public let imageSize: PixelSize
        /// The working copy (the image itself unless it is larger than `maxWorkingPixels`).
        let fine: GraphCutLevel
        /// The coarse copy where colour models are learnt, or nil when the working copy is small.
        let coarse: GraphCutLevel?
        /// The last cut's flow on the level where colour models are learnt.
        let flowCache = FlowCache()

        public var workingSize: PixelSize { PixelSize(width: fine.width, height: fine.height) }
    }

    public func prepare(_ image: RGBImage) throws -> Prepared {
        guard image.width > 0, image.height > 0 else {
            throw SegError(.invalid, file: "", "the image is empty (\(image.width)x\(image.height))")
        }
        let working = try Self.workingCopy(of: image, maxPixels: configuration.maxWorkingPixels)
        let fine = GraphCutLevel(image: working, geodesicColor: configuration.geodesicColor)
        var coarse: GraphCutLevel?
        // A coarse level only pays when it is much smaller than the working copy.
        if configuration.coarsePixels > 0 && fine.n > configuration.coarsePixels * 3 / 2 {
            coarse = GraphCutLevel(image: try Self.workingCopy(of: working, maxPixels: configuration.coarsePixels),
                                   geodesicColor: configuration.geodesicColor)
        }
        return Prepared(imageSize: image.size, fine: fine, coarse: coarse)
    }

    /// The image itself, or an area-averaged copy with at most `maxPixels` pixels and the same
    /// aspect ratio: the cut's cost grows faster than linearly with the pixel count.
    static func workingCopy(of image: RGBImage, maxPixels: Int) throws -> RGBImage {
        let n = image.width * image.height
        guard maxPixels > 0, n > maxPixels else { return image }
        let scale = (Double(maxPixels) / Double(n)).squareRoot()
        let w = max(1, Int((Double(image.width) * scale).rounded(.down)))
        let h = max(1, Int((Double(image.height) * scale).rounded(.down)))
        return try image.resizedArea(to: PixelSize(width: w, height: h))
    }

    // MARK: Segment

    public func segment(_ prepared: Prepared, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate] {
        let full = prepared.imageSize
        for p in prompts.points {
            guard p.x.isFinite, p.y.isFinite, p.x >= 0, p.y >= 0, p.x < Double(full.width), p.y < Double(full.height) else {
                throw SegError(.invalid, file: "", "point (\(p.x), \(p.y)) is outside the \(full.width)x\(full.height) image")
            }
        }
        if let box = prompts.box {
            guard [box.x0, box.y0, box.x1, box.y1].allSatisfy(\.isFinite) else {
                throw SegError(.invalid, file: "", "the box has a non-finite corner")
            }
            guard !box.pixels.clamped(to: full).isEmpty else {
                throw SegError(.invalid, file: "", "the box \(box.pixels) does not overlap the \(full.width)x\(full.height) image")
            }
        }
        guard prompts.points.contains(where: \.positive) || prompts.box != nil else {
            // Only background clicks: nothing says where the object is.
            return [Candidate(mask: Mask(width: full.width, height: full.height), score: 0)]
        }
        let fineSize = prepared.workingSize
        var previousFine: Mask?
        if configuration.reusePrevious || configuration.previousWeight > 0 || configuration.hypotheses,
           case .mask(let m)? = previous?.feedback {
            previousFine = m.size == fineSize ? m : try m.resizedNearest(to: fineSize)
        }

        let label: [UInt8]
        let score: Float
        if let coarse = prepared.coarse {
            let previousCoarse = try previousFine.map { try $0.resizedNearest(to: PixelSize(width: coarse.width, height: coarse.height)).bits }
            var run = LevelCut(level: coarse, imageSize: full, configuration: configuration, cache: prepared.flowCache)
            let rough = run.segment(prompts: prompts, previous: previousCoarse)
            let up = try Mask(width: coarse.width, height: coarse.height, bits: rough).resizedNearest(to: fineSize)
            var fine = LevelCut(level: prepared.fine, imageSize: full, configuration: configuration, cache: nil)
            let scale = Double(prepared.fine.width) / Double(coarse.width)
            label = try fine.refine(prompts: prompts, rough: up, bandWidth: configuration.band * scale + 1)
            score = run.agreement
        } else {
            var run = LevelCut(level: prepared.fine, imageSize: full, configuration: configuration, cache: prepared.flowCache)
            label = run.segment(prompts: prompts, previous: previousFine?.bits)
            score = run.agreement
        }
        let small = Mask(width: fineSize.width, height: fineSize.height, bits: label)
        let mask = small.size == full ? small : try small.resizedNearest(to: full)
        return [Candidate(mask: mask, score: score, feedback: .mask(small))]
    }
}

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

    /// The pixels of the hard disk of one click.
    func seedPixels(of p: PromptPoint, in hard: [UInt8]) -> [Int32] {
        let radius = max(1.0, configuration.clickRadius * Double(width) / Double(imageSize.width))
        let ri = Int(radius.rounded(.down))
        let (cx, cy) = level.pixel(of: p, imageSize: imageSize)
        var out: [Int32] = []
        for y in max(0, cy - ri)...min(height - 1, cy + ri) {
            for x in max(0, cx - ri)...min(width - 1, cx + ri) {
                let dx = Double(x - cx), dy = Double(y - cy)
                if dx * dx + dy * dy <= radius * radius && hard[y * width + x] == (p.positive ? 1 : 2) {
                    out.append(Int32(y * width + x))
                }
            }
        }
        if out.isEmpty { out.append(Int32(cy * width + cx)) }
        return out
    }

    /// The first guess of the object when nothing else says where it is.
    func initialLabel(prompts: Prompts, previous: [UInt8]?) -> [UInt8] {
        if let previous, configuration.reusePrevious, previous.count == n { return previous }
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

    /// Extra unary costs (object, background) from where the clicks are and from the previous mask.
    func priors(prompts: Prompts, hard: [UInt8], previous: [UInt8]?) -> (fg: [Float], bg: [Float]) {
        var fg = [Float](repeating: 0, count: n)
        var bg = [Float](repeating: 0, count: n)
        let positives = (0..<n).filter { hard[$0] == 1 }.map { Int32($0) }
        let negatives = (0..<n).filter { hard[$0] == 2 }.map { Int32($0) }
        if configuration.geodesicPrior > 0 && !positives.isEmpty {
            let toObject = GeodesicTree.compute(width: width, height: height, stepCost: level.geodesicStep, sources: positives).distance
            var sources = negatives
            if sources.isEmpty {
                // Without a background click the image border stands in for the background.
                for x in 0..<width { sources.append(Int32(x)); sources.append(Int32((height - 1) * width + x)) }
                for y in 0..<height { sources.append(Int32(y * width)); sources.append(Int32(y * width + width - 1)) }
            }
            let toBackground = GeodesicTree.compute(width: width, height: height, stepCost: level.geodesicStep, sources: sources).distance
            let weight = configuration.geodesicPrior
            for i in 0..<n {
                let a = toObject[i], b = toBackground[i]
                let s = a + b
                let p: Float = s > 0 && s.isFinite ? a / s : 0.5  // 0 at the object clicks, 1 at the background ones
                fg[i] += weight * p
                bg[i] += weight * (1 - p)
            }
        }
        if configuration.clickPrior > 0 {
            let weight = configuration.clickPrior, reach = configuration.clickReach * unit
            for (sources, positive) in [(positives, true), (negatives, false)] where !sources.isEmpty {
                let d = GeodesicTree.compute(width: width, height: height, stepCost: level.geodesicStep, sources: sources).distance
                for i in 0..<n {
                    let cost = weight * expf(-d[i] / reach)
                    if positive { bg[i] += cost } else { fg[i] += cost }
                }
            }
        }
        if configuration.previousWeight > 0, let previous, previous.count == n, let newest = prompts.points.last {
            let reach = GeodesicTree.compute(width: width, height: height, stepCost: level.geodesicStep,
                                             sources: seedPixels(of: newest, in: hard)).distance
            let mu = configuration.previousWeight, sigma = configuration.newClickReach * unit
            for i in 0..<n {
                // Near the newest click the user has just said the old mask is wrong.
                let trust = mu * (1 - expf(-reach[i] / sigma))
                if previous[i] != 0 { bg[i] += trust } else { fg[i] += trust }
            }
        }
        return (fg, bg)
    }

    /// Colour models and cut alternated from an initial guess; with `hypotheses`, also from the
    /// previous answer, keeping whichever ends at the lower energy.
    mutating func segment(prompts: Prompts, previous: [UInt8]?) -> [UInt8] {
        let hard = hardLabels(prompts: prompts)

        // Star centres: the pixels of the positive clicks' hard disks.
        var tree: GeodesicTree?
        if configuration.starConvexity {
            let centres = (0..<n).filter { hard[$0] == 1 }.map { Int32($0) }
            if !centres.isEmpty {
                tree = GeodesicTree.compute(width: width, height: height, stepCost: level.geodesicStep, sources: centres)
            }
        }
        let prior = priors(prompts: prompts, hard: hard, previous: previous)

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
            setSmoothness(solver, tree: nil)
            entry = FlowCache.Entry(solver: solver, terminalSet: [Float](repeating: 0, count: n), infiniteArcs: [])
        }
        entry.infiniteArcs = starArcs(tree)
        let lambda = self.lambda
        level.contrast.withUnsafeBufferPointer { c in
            for a in entry.infiniteArcs { entry.solver.changeCapacity(arc: Int(a), by: Self.infinite - lambda * c[Int(a)]) }
        }

        var first = initialLabel(prompts: prompts, previous: previous)
        for i in 0..<n where hard[i] != 0 { first[i] = hard[i] == 1 ? 1 : 0 }
        var best = alternate(from: first, hard: hard, prior: prior, box: prompts.box != nil, entry: &entry)
        if configuration.hypotheses, let previous, previous.count == n, !configuration.reusePrevious {
            var start = previous
            for i in 0..<n where hard[i] != 0 { start[i] = hard[i] == 1 ? 1 : 0 }
            let other = alternate(from: start, hard: hard, prior: prior, box: prompts.box != nil, entry: &entry)
            if other.energy < best.energy { best = other }
        }
        cache?.put(entry)
        agreement = best.agreement
        return best.label
    }

    struct Outcome {
        var label: [UInt8]
        /// Colour, prior and smoothness cost of `label` under colour models fitted to it.
        var energy: Double
        var agreement: Float
    }

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
        var energy = 0.0
        var agree = 0
        let lambda = self.lambda
        level.grid.topology.arcStart.withUnsafeBufferPointer { start in
            level.grid.topology.head.withUnsafeBufferPointer { head in
                level.contrast.withUnsafeBufferPointer { c in
                    for i in 0..<n {
                        let object = label[i] != 0
                        if hard[i] == 0 { energy += Double(object ? fgCost[i] + prior.fg[i] : bgCost[i] + prior.bg[i]) }
                        if object == (fgCost[i] < bgCost[i]) { agree += 1 }
                        guard object else { continue }
                        for a in Int(start[i])..<Int(start[i + 1]) where label[Int(head[a])] == 0 { energy += Double(lambda * c[a]) }
                    }
                }
            }
        }
        // How far colour alone agrees with the answer: a confidence that drops where object and
        // background share colours and the clicks had to carry the cut.
        return Outcome(label: label, energy: energy, agreement: Float(agree) / Float(max(n, 1)))
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
    func setSmoothness(_ solver: MaxFlowSolver, tree: GeodesicTree?) {
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
