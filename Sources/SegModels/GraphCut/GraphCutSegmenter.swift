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
        /// Weight of the local click prior: a pixel geodesically near a click costs this much,
        /// fading as exp(−distance / clickReach), to take the other label.
        public var clickPrior: Float = 20
        /// Geodesic reach of the click prior, in coarse pixels.
        public var clickReach: Float = 20
        /// Scale λ and the geodesic reaches with the level's size (see `LevelCut.unit`).
        public var scaleWithSize = true
        /// Keep only the parts of the object connected to a positive click (or inside the box).
        public var connected = true
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
        // The previous answer is not used: each click's cut starts from the clicks alone. (A
        // previous-mask prior, a start from it and a second hypothesis from it were experiments,
        // off by default and never shown to help; they went with issue #16.)
        let fineSize = prepared.workingSize

        let label: [UInt8]
        let score: Float
        if let coarse = prepared.coarse {
            var run = LevelCut(level: coarse, imageSize: full, configuration: configuration, cache: prepared.flowCache)
            let rough = run.segment(prompts: prompts)
            let up = try Mask(width: coarse.width, height: coarse.height, bits: rough).resizedNearest(to: fineSize)
            var fine = LevelCut(level: prepared.fine, imageSize: full, configuration: configuration, cache: nil)
            let scale = Double(prepared.fine.width) / Double(coarse.width)
            label = try fine.refine(prompts: prompts, rough: up, bandWidth: configuration.band * scale + 1)
            score = run.agreement
        } else {
            var run = LevelCut(level: prepared.fine, imageSize: full, configuration: configuration, cache: prepared.flowCache)
            label = run.segment(prompts: prompts)
            score = run.agreement
        }
        let small = Mask(width: fineSize.width, height: fineSize.height, bits: label)
        let mask = small.size == full ? small : try small.resizedNearest(to: full)
        return [Candidate(mask: mask, score: score, feedback: .mask(small))]
    }
}
