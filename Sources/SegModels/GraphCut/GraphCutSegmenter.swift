import Foundation
import SegCore

/// The classical interactive segmenter: GrabCut-style colour mixtures, a contrast-sensitive
/// 8-connected smoothness term and exact minimum cuts, driven by clicks (hard constraints) and an
/// optional box. It needs no weights, so it is the model segterm uses by default.
public struct GraphCutSegmenter: PromptableSegmenter {
    public struct Configuration: Sendable, Equatable {
        /// Images with more pixels are segmented on an area-downsampled working copy.
        public var maxWorkingPixels = 400_000
        /// Gaussians per colour model.
        public var components = 5
        /// Colour-model / cut rounds per click.
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
        /// Colour weight κ of the geodesic distance used by the star-convexity prior (0 = Euclidean).
        public var geodesicColor: Float = 0
        /// Samples per colour model fit at most (a deterministic stride over the region).
        public var maxSamples = 40_000

        public init() {}
    }

    public var configuration: Configuration
    public var name: String { "grabcut" }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: Prepare

    public struct Prepared: Sendable {
        /// Size of the image the prompts and masks refer to.
        public let imageSize: PixelSize
        /// Size of the working copy the energy lives on.
        public let workingSize: PixelSize
        let lab: [Float]
        let grid: PixelGrid
        /// Per arc: exp(−β‖Δlab‖²) / length, the contrast-sensitive smoothness weight before λ.
        let contrast: [Float]
        /// Per pixel × 4 forward neighbours (right, down-left, down, down-right): geodesic step cost.
        let geodesicStep: [Float]
    }

    public func prepare(_ image: RGBImage) throws -> Prepared {
        guard image.width > 0, image.height > 0 else {
            throw SegError(.invalid, file: "", "the image is empty (\(image.width)x\(image.height))")
        }
        let working = try Self.workingCopy(of: image, maxPixels: configuration.maxWorkingPixels)
        let w = working.width, h = working.height, n = w * h
        let lab = CIELab.convert(working)
        let grid = PixelGrid(width: w, height: h)

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
        grid.arc.withUnsafeBufferPointer { arc in
            squared.withUnsafeBufferPointer { sq in
                contrast.withUnsafeMutableBufferPointer { c in
                    for i in 0..<n {
                        for d in 0..<8 {
                            let a = Int(arc[i * 8 + d])
                            if a >= 0 { c[a] = expf(-beta * sq[a]) / PixelGrid.length[d] }
                        }
                    }
                }
            }
        }

        // Geodesic steps towards the forward neighbours (right, down-left, down, down-right).
        let kappa2 = configuration.geodesicColor * configuration.geodesicColor
        var step = [Float](repeating: .infinity, count: n * 4)
        let forward = [4, 5, 6, 7]
        grid.arc.withUnsafeBufferPointer { arc in
            squared.withUnsafeBufferPointer { sq in
                for i in 0..<n {
                    for (k, d) in forward.enumerated() {
                        let a = Int(arc[i * 8 + d])
                        if a >= 0 {
                            let len = PixelGrid.length[d]
                            step[i * 4 + k] = (len * len + kappa2 * sq[a]).squareRoot()
                        }
                    }
                }
            }
        }
        return Prepared(imageSize: image.size, workingSize: PixelSize(width: w, height: h), lab: lab, grid: grid,
                        contrast: contrast, geodesicStep: step)
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
            let clamped = box.pixels.clamped(to: full)
            guard !clamped.isEmpty else {
                throw SegError(.invalid, file: "", "the box \(box.pixels) does not overlap the \(full.width)x\(full.height) image")
            }
        }
        let hasPositive = prompts.points.contains { $0.positive }
        guard hasPositive || prompts.box != nil else {
            // Only background clicks: nothing says where the object is.
            return [Candidate(mask: Mask(width: full.width, height: full.height), score: 0)]
        }
        var run = GraphCutRun(prepared: prepared, configuration: configuration)
        let working = run.segment(prompts: prompts)
        let small = Mask(width: prepared.workingSize.width, height: prepared.workingSize.height, bits: working)
        let mask = small.size == full ? small : try small.resizedNearest(to: full)
        return [Candidate(mask: mask, score: 1, feedback: .mask(small))]
    }

    /// The image itself, or an area-averaged copy with at most `maxPixels` pixels and the same
    /// aspect ratio: the cut's cost grows faster than linearly with the pixel count, and the
    /// colour models gain nothing from more samples.
    static func workingCopy(of image: RGBImage, maxPixels: Int) throws -> RGBImage {
        let n = image.width * image.height
        guard maxPixels > 0, n > maxPixels else { return image }
        let scale = (Double(maxPixels) / Double(n)).squareRoot()
        let w = max(1, Int((Double(image.width) * scale).rounded(.down)))
        let h = max(1, Int((Double(image.height) * scale).rounded(.down)))
        return try image.resizedArea(to: PixelSize(width: w, height: h))
    }
}

/// One click's worth of work on a prepared image.
struct GraphCutRun {
    let prepared: GraphCutSegmenter.Prepared
    let configuration: GraphCutSegmenter.Configuration
    let width: Int
    let height: Int
    var n: Int { width * height }

    static let infinite: Float = 1e9

    init(prepared: GraphCutSegmenter.Prepared, configuration: GraphCutSegmenter.Configuration) {
        self.prepared = prepared
        self.configuration = configuration
        width = prepared.workingSize.width
        height = prepared.workingSize.height
    }

    /// Working-resolution position of a full-resolution point (pixel centres line up).
    func toWorking(_ p: PromptPoint) -> (x: Int, y: Int) {
        let sx = Double(width) / Double(prepared.imageSize.width)
        let sy = Double(height) / Double(prepared.imageSize.height)
        let x = min(width - 1, max(0, Int((p.pixel.x.toDouble + 0.5) * sx)))
        let y = min(height - 1, max(0, Int((p.pixel.y.toDouble + 0.5) * sy)))
        return (x, y)
    }

    /// Hard labels: 0 free, 1 object, 2 background. Clicks are painted in order, so a later click
    /// wins where disks overlap; the clicked pixel itself always carries its click's label.
    func hardLabels(prompts: Prompts) -> [UInt8] {
        var hard = [UInt8](repeating: 0, count: n)
        if let box = prompts.box {
            // GrabCut's box: everything outside is background.
            let b = box.pixels.clamped(to: prepared.imageSize)
            let sx = Double(width) / Double(prepared.imageSize.width)
            let sy = Double(height) / Double(prepared.imageSize.height)
            let x0 = Int(Double(b.minX) * sx), x1 = Int((Double(b.maxX) * sx).rounded(.up))
            let y0 = Int(Double(b.minY) * sy), y1 = Int((Double(b.maxY) * sy).rounded(.up))
            for y in 0..<height {
                for x in 0..<width where x < x0 || x >= x1 || y < y0 || y >= y1 { hard[y * width + x] = 2 }
            }
        }
        let scale = Double(width) / Double(prepared.imageSize.width)
        let r = max(1.0, configuration.clickRadius * scale)
        let ri = Int(r.rounded(.down))
        for p in prompts.points {
            let (cx, cy) = toWorking(p)
            let v: UInt8 = p.positive ? 1 : 2
            for y in max(0, cy - ri)...min(height - 1, cy + ri) {
                for x in max(0, cx - ri)...min(width - 1, cx + ri) {
                    let dx = Double(x - cx), dy = Double(y - cy)
                    if dx * dx + dy * dy <= r * r { hard[y * width + x] = v }
                }
            }
            hard[cy * width + cx] = v
        }
        return hard
    }

    mutating func segment(prompts: Prompts) -> [UInt8] {
        let hard = hardLabels(prompts: prompts)
        var label = [UInt8](repeating: 0, count: n)
        if let box = prompts.box {
            let b = box.pixels.clamped(to: prepared.imageSize)
            let sx = Double(width) / Double(prepared.imageSize.width)
            let sy = Double(height) / Double(prepared.imageSize.height)
            let x0 = Int(Double(b.minX) * sx), x1 = Int((Double(b.maxX) * sx).rounded(.up))
            let y0 = Int(Double(b.minY) * sy), y1 = Int((Double(b.maxY) * sy).rounded(.up))
            for y in max(0, y0)..<min(height, y1) { for x in max(0, x0)..<min(width, x1) { label[y * width + x] = 1 } }
        } else if let first = prompts.points.first(where: { $0.positive }) {
            let (cx, cy) = toWorking(first)
            let r = configuration.initialRadius * Double(width * width + height * height).squareRoot()
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Double(x - cx), dy = Double(y - cy)
                    if dx * dx + dy * dy <= r * r { label[y * width + x] = 1 }
                }
            }
        }
        for i in 0..<n where hard[i] != 0 { label[i] = hard[i] == 1 ? 1 : 0 }

        // Star centres: the pixels of the positive clicks' hard disks.
        var tree: GeodesicTree?
        if configuration.starConvexity {
            var centres: [Int32] = []
            for i in 0..<n where hard[i] == 1 { centres.append(Int32(i)) }
            if !centres.isEmpty {
                tree = GeodesicTree.compute(width: width, height: height, stepCost: prepared.geodesicStep, sources: centres)
            }
        }

        let solver = MaxFlowSolver(topology: prepared.grid.topology)
        var fgCost = [Float](repeating: 0, count: n)
        var bgCost = [Float](repeating: 0, count: n)
        // The terminal capacity difference each node has in the graph now; later rounds add only
        // the change, so the flow of the previous round is kept (the residual graph of a maximum
        // flow stays valid when terminal capacities change, Kohli & Torr 2005) and the next cut
        // needs a fraction of the augmentations.
        var inGraph = [Float](repeating: 0, count: n)
        for round in 0..<max(1, configuration.iterations) {
            guard let fg = fitModel(label: label, value: 1), let bg = fitModel(label: label, value: 0) else { break }
            prepared.lab.withUnsafeBufferPointer { z in
                fgCost.withUnsafeMutableBufferPointer { fg.negativeLogLikelihood(data: z, into: $0) }
                bgCost.withUnsafeMutableBufferPointer { bg.negativeLogLikelihood(data: z, into: $0) }
            }
            if round == 0 {
                solver.reset()
                let lambda = configuration.lambda
                prepared.contrast.withUnsafeBufferPointer { c in
                    for a in 0..<c.count { solver.capacity[a] = lambda * c[a] }
                }
                if let tree {
                    prepared.grid.arc.withUnsafeBufferPointer { arc in
                        tree.parent.withUnsafeBufferPointer { parent in
                            for i in 0..<n where parent[i] >= 0 {
                                let a = Int(arc[i * 8 + Int(parent[i])])
                                if a >= 0 { solver.capacity[a] = Self.infinite }
                            }
                        }
                    }
                }
            }
            for i in 0..<n {
                let want: Float
                switch hard[i] {
                case 1: want = Self.infinite
                case 2: want = -Self.infinite
                default: want = bgCost[i] - fgCost[i]
                }
                solver.terminal[i] += want - inGraph[i]
                inGraph[i] = want
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            solver.solve()
            if ProcessInfo.processInfo.environment["SEGTERM_DEBUG"] != nil {
                let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                FileHandle.standardError.write(Data("maxflow \(ms) ms aug \(solver.statAugment) path \(solver.statPath) orphans \(solver.statOrphans) grow \(solver.statGrow)\n".utf8))
            }
            var changed = 0
            for i in 0..<n {
                let v: UInt8 = solver.isSource(i) ? 1 : 0
                if v != label[i] { changed += 1; label[i] = v }
            }
            if changed == 0 { break }
        }
        return label
    }

    /// The colour model of the pixels labelled `value`, from at most `maxSamples` of them.
    func fitModel(label: [UInt8], value: UInt8) -> GaussianMixture? {
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
        return prepared.lab.withUnsafeBufferPointer { z in
            GaussianMixture.fit(data: z, indices: indices, count: configuration.components, floor: configuration.covarianceFloor)
        }
    }
}

private extension Int {
    var toDouble: Double { Double(self) }
}
