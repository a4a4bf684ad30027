import Foundation
import Testing
import SegCore
import SegEval
@testable import SegModels

/// A scene the colour model can separate but a threshold cannot: an orange ellipse with a notch on
/// a background of tiles in several greens, blues and one orange-brown, with per-pixel noise.
func syntheticScene(width: Int = 160, height: Int = 120, seed: UInt64 = 3) -> (image: RGBImage, truth: Mask) {
    var rng = SeededGenerator(seed: seed)
    let palette: [(Double, Double, Double)] = [(40, 110, 50), (70, 140, 60), (30, 80, 120), (60, 100, 160), (120, 80, 40)]
    var tileColour: [[(Double, Double, Double)]] = []
    for _ in 0..<(height / 8 + 1) {
        tileColour.append((0..<(width / 8 + 1)).map { _ in palette[Int.random(in: 0..<palette.count, using: &rng)] })
    }
    var image = RGBImage(width: width, height: height)
    var truth = Mask(width: width, height: height)
    let cx = Double(width) * 0.45, cy = Double(height) * 0.5, rx = Double(width) * 0.25, ry = Double(height) * 0.3
    for y in 0..<height {
        for x in 0..<width {
            let dx = (Double(x) + 0.5 - cx) / rx, dy = (Double(y) + 0.5 - cy) / ry
            // The notch makes the object non-convex, so the right answer is not just "an ellipse".
            let inside = dx * dx + dy * dy <= 1 && !(dx > 0.3 && abs(dy) < 0.2)
            let base = inside ? (230.0, 140.0, 40.0) : tileColour[y / 8][x / 8]
            func noisy(_ v: Double) -> UInt8 { UInt8(clamping: Int((v + Double.random(in: -18...18, using: &rng)).rounded())) }
            image[x, y] = (noisy(base.0), noisy(base.1), noisy(base.2))
            truth[x, y] = inside
        }
    }
    return (image, truth)
}

@Suite("Graph-cut segmenter")
struct GraphCutSegmenterTests {
    @Test("a clear object on a textured background reaches IoU 0.9 within three simulated clicks",
          arguments: [GraphCutSegmenter.Configuration(), { var c = GraphCutSegmenter.Configuration(); c.coarsePixels = 4000; return c }()])
    func syntheticObject(configuration: GraphCutSegmenter.Configuration) throws {
        let (image, truth) = syntheticScene()
        let model = GraphCutSegmenter(configuration: configuration)
        let prepared = try model.prepare(image)
        var previous: Candidate?
        let record = try NoC.run(name: "scene", truth: truth, ignore: nil, maxClicks: 5) { clicks in
            let prompts = Prompts(points: clicks.map { PromptPoint(x: Double($0.x), y: Double($0.y), positive: $0.positive) })
            let best = try #require(try model.segment(prepared, prompts: prompts, previous: previous, multimask: false).best)
            previous = best
            return best.mask
        }
        #expect(record.clicksToReach(0.9, maxClicks: 5) <= 3, "IoU per click: \(record.ious)")
        #expect(record.ious.last ?? 0 >= 0.9)
    }

    @Test("the same prompts give the same mask")
    func deterministic() throws {
        let (image, _) = syntheticScene(seed: 11)
        let model = GraphCutSegmenter()
        let prompts = Prompts(points: [PromptPoint(x: 70, y: 60, positive: true), PromptPoint(x: 150, y: 10, positive: false)])
        let a = try model.segment(try model.prepare(image), prompts: prompts, previous: nil, multimask: false)
        let b = try model.segment(try model.prepare(image), prompts: prompts, previous: nil, multimask: false)
        #expect(a.first?.mask == b.first?.mask)
        #expect((a.first?.mask.area ?? 0) > 1000)
    }

    @Test("a box alone selects the object inside it")
    func box() throws {
        let (image, truth) = syntheticScene(seed: 5)
        let model = GraphCutSegmenter()
        let prepared = try model.prepare(image)
        let result = try #require(try model.segment(prepared, prompts: Prompts(box: PromptBox(x0: 28, y0: 20, x1: 116, y1: 100)),
                                                    previous: nil, multimask: false).best)
        #expect(try result.mask.iou(with: truth) > 0.85)
        // Nothing outside the box.
        for y in 0..<120 { for x in 0..<160 where x < 28 || x > 116 || y < 20 || y > 100 { #expect(!result.mask[x, y]) } }
    }

    @Test("large images are segmented on a working copy and answered at full resolution")
    func workingCopy() throws {
        let (small, truth) = syntheticScene(width: 320, height: 240, seed: 9)
        var config = GraphCutSegmenter.Configuration()
        config.maxWorkingPixels = 20_000
        config.coarsePixels = 5_000
        let model = GraphCutSegmenter(configuration: config)
        let prepared = try model.prepare(small)
        #expect(prepared.workingSize.width * prepared.workingSize.height <= 20_000)
        #expect(prepared.workingSize.width < 320)
        let mask = try #require(try model.segment(prepared, prompts: Prompts(points: [PromptPoint(x: 140, y: 120, positive: true)]),
                                                  previous: nil, multimask: false).best).mask
        #expect(mask.width == 320 && mask.height == 240)
        let iou = try mask.iou(with: truth)
        #expect(iou > 0.8, "IoU \(iou)")
    }

    @Test("points outside the image, bad boxes and empty images are typed errors; background clicks alone give an empty mask")
    func badInput() throws {
        let (image, _) = syntheticScene(width: 40, height: 30)
        let model = GraphCutSegmenter()
        let prepared = try model.prepare(image)
        for p in [PromptPoint(x: 40, y: 3, positive: true), PromptPoint(x: -1, y: 3, positive: true),
                  PromptPoint(x: 3, y: 30, positive: false), PromptPoint(x: .nan, y: 3, positive: true),
                  PromptPoint(x: .infinity, y: 3, positive: true)] {
            #expect(throws: SegError.self) { try model.segment(prepared, prompts: Prompts(points: [p]), previous: nil, multimask: false) }
        }
        #expect(throws: SegError.self) {
            try model.segment(prepared, prompts: Prompts(box: PromptBox(x0: 50, y0: 40, x1: 60, y1: 45)), previous: nil, multimask: false)
        }
        #expect(throws: SegError.self) { try model.prepare(RGBImage(width: 0, height: 0)) }
        let negative = try model.segment(prepared, prompts: Prompts(points: [PromptPoint(x: 3, y: 3, positive: false)]),
                                         previous: nil, multimask: false)
        #expect(negative.first?.mask.area == 0 && negative.first?.mask.width == 40)
        // A previous candidate of another size is ignored, not trusted blindly.
        let stale = Candidate(mask: Mask(width: 7, height: 5), score: 1, feedback: .mask(Mask(width: 7, height: 5)))
        let r = try model.segment(prepared, prompts: Prompts(points: [PromptPoint(x: 18, y: 15, positive: true)]), previous: stale,
                                  multimask: false)
        #expect(r.first?.mask.width == 40)
    }

    /// Two orange disks on grey, far apart.
    static func twoDisks() -> RGBImage {
        var image = RGBImage(width: 80, height: 40, fill: (120, 120, 120))
        for y in 0..<40 {
            for x in 0..<80 {
                let d1 = (x - 18) * (x - 18) + (y - 20) * (y - 20), d2 = (x - 62) * (x - 62) + (y - 20) * (y - 20)
                if d1 <= 100 || d2 <= 100 { image[x, y] = (230, 140, 40) }
            }
        }
        return image
    }

    @Test("star convexity (star=1): every object pixel's parent on the geodesic tree from the positive clicks is object too")
    func starConvexity() {
        let image = Self.twoDisks()
        let prompts = Prompts(points: [PromptPoint(x: 18, y: 20, positive: true), PromptPoint(x: 40, y: 5, positive: false)])
        /// Object pixels whose parent towards the click is background, and the object's area.
        func cut(star: Bool) -> (violations: Int, area: Int, farDisk: Bool) {
            var c = GraphCutSegmenter.Configuration()
            c.starConvexity = star
            c.connected = false  // the connectivity rule alone would drop the far disk too
            let level = GraphCutLevel(image: image, geodesicColor: c.geodesicColor)
            var run = LevelCut(level: level, imageSize: image.size, configuration: c, cache: nil)
            let label = run.segment(prompts: prompts)
            let hard = run.hardLabels(prompts: prompts)
            let tree = GeodesicTree.compute(width: 80, height: 40, stepCost: level.geodesicStep,
                                            sources: (0..<label.count).filter { hard[$0] == 1 }.map { Int32($0) })
            var violations = 0
            for i in label.indices where label[i] != 0 && tree.parent[i] >= 0 {
                let d = Int(tree.parent[i])
                if label[(i / 80 + PixelGrid.dy[d]) * 80 + i % 80 + PixelGrid.dx[d]] == 0 { violations += 1 }
            }
            return (violations, label.filter { $0 != 0 }.count, label[20 * 80 + 62] != 0)
        }
        // Colour alone takes the far disk as well, which no path from the click reaches inside the object.
        let plain = cut(star: false)
        #expect(plain.farDisk && plain.violations > 0)
        let star = cut(star: true)
        #expect(star.violations == 0 && !star.farDisk)
        #expect(star.area > 250)  // the clicked disk (about 317 pixels), not just the click's hard disk
    }

    @Test("model options parse, and unknown keys or bad values are refused")
    func options() throws {
        var c = GraphCutSegmenter.Configuration()
        try c.apply(options: "lambda=30,iterations=2,star=1")
        #expect(c.lambda == 30 && c.iterations == 2 && c.starConvexity)
        for bad in ["lambda", "lambda=-1", "iterations=0", "nope=1", "star=2", "lambda=nan"] {
            var d = GraphCutSegmenter.Configuration()
            #expect(throws: SegError.self, "\(bad)") { try d.apply(options: bad) }
        }
        #expect(ModelRegistry.isBuiltIn("grabcut:lambda=3"))
        #expect(try ModelRegistry.segmenter(named: "grabcut:iterations=2").name == "grabcut")
    }
}

@Suite("Graph-cut building blocks")
struct GraphCutPartsTests {
    @Test("geodesic distance on a flat image is the 8-neighbour path length; a colour wall lengthens it")
    func geodesic() {
        let flat = RGBImage(width: 20, height: 12, fill: (100, 100, 100))
        let level = GraphCutLevel(image: flat, geodesicColor: 1)
        let tree = GeodesicTree.compute(width: 20, height: 12, stepCost: level.geodesicStep, sources: [0])
        // (10, 5): five diagonal steps and five straight ones.
        #expect(abs(tree.distance[5 * 20 + 10] - (5 * Float(2).squareRoot() + 5)) < 1e-4)
        // Its parent is a neighbour one step closer.
        let d = Int(tree.parent[5 * 20 + 10])
        #expect(d >= 0)

        var walled = flat
        for y in 0..<11 { walled[10, y] = (250, 20, 20) }  // a wall with a gap in the last row
        let wl = GraphCutLevel(image: walled, geodesicColor: 1)
        let wt = GeodesicTree.compute(width: 20, height: 12, stepCost: wl.geodesicStep, sources: [0])
        // Crossing the wall costs more than walking around it through the gap, and far more than the flat path.
        #expect(wt.distance[5 * 20 + 15] > tree.distance[5 * 20 + 15] + 5)
    }

    @Test("Lab: white is L 100, black L 0, pure red has its known coordinates")
    func lab() {
        var image = RGBImage(width: 3, height: 1)
        image[0, 0] = (255, 255, 255); image[1, 0] = (0, 0, 0); image[2, 0] = (255, 0, 0)
        let lab = CIELab.convert(image)
        #expect(abs(lab[0] - 100) < 0.01 && abs(lab[1]) < 0.01 && abs(lab[2]) < 0.01)
        #expect(abs(lab[3]) < 0.01)
        // sRGB red: L 53.24, a 80.09, b 67.20 (D65).
        #expect(abs(lab[6] - 53.24) < 0.05 && abs(lab[7] - 80.09) < 0.1 && abs(lab[8] - 67.20) < 0.1)
    }

    @Test("a mixture fitted to two colour clusters scores each cluster's colours as likely, others as unlikely")
    func mixture() throws {
        var rng = SeededGenerator(seed: 1)
        var data: [Float] = []
        for k in 0..<400 {
            let centre: (Float, Float, Float) = k % 2 == 0 ? (30, 10, -20) : (70, -30, 40)
            data += [centre.0 + Float.random(in: -2...2, using: &rng), centre.1 + Float.random(in: -2...2, using: &rng),
                     centre.2 + Float.random(in: -2...2, using: &rng)]
        }
        let model = try #require(data.withUnsafeBufferPointer {
            GaussianMixture.fit(data: $0, indices: (0..<400).map(Int32.init), count: 2, floor: 0.1)
        })
        #expect(model.components.count == 2)
        let near = model.negativeLogLikelihood(30, 10, -20), also = model.negativeLogLikelihood(70, -30, 40)
        let far = model.negativeLogLikelihood(50, -10, 10)
        #expect(near < far - 20 && also < far - 20)
        #expect(data.withUnsafeBufferPointer { GaussianMixture.fit(data: $0, indices: [], count: 3, floor: 1) } == nil)
    }
}
