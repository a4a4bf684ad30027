import Testing
@testable import SegCore
@testable import SegModels

@Suite("Prompts")
struct PromptTests {
    @Test("points fall in the pixel that contains them; boxes normalise their corners")
    func geometry() {
        #expect(PromptPoint(x: 3.99, y: 0, positive: true).pixel == PixelPoint(x: 3, y: 0))
        let box = PromptBox(x0: 10, y0: 8, x1: 2, y1: 3)
        #expect(box.x0 == 2 && box.y1 == 8)
        #expect(box.pixels == PixelBox(minX: 2, minY: 3, maxX: 11, maxY: 9))
    }

    @Test("best picks the highest score, the first among equals")
    func best() {
        let m = Mask(width: 1, height: 1)
        let list = [Candidate(mask: m, score: 0.2), Candidate(mask: Mask(width: 2, height: 1), score: 0.9),
                    Candidate(mask: Mask(width: 3, height: 1), score: 0.9)]
        #expect(list.best?.mask.width == 2)
        #expect([Candidate]().best == nil)
    }
}

/// A model whose answer is a pure function of the prompts: a square around each positive point.
struct SquareModel: PromptableSegmenter {
    let name = "squares"
    func prepare(_ image: RGBImage) throws -> PixelSize { image.size }
    func segment(_ size: PixelSize, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate] {
        var mask = Mask(width: size.width, height: size.height)
        for p in prompts.points where p.positive {
            for y in max(0, p.pixel.y - 1)...min(size.height - 1, p.pixel.y + 1) {
                for x in max(0, p.pixel.x - 1)...min(size.width - 1, p.pixel.x + 1) { mask[x, y] = true }
            }
        }
        return [Candidate(mask: mask, score: 1)]
    }
}

@Suite("AnySegmenter")
struct AnySegmenterTests {
    @Test("erases the model's types and keeps its answers")
    func erased() throws {
        let model = AnySegmenter(SquareModel())
        #expect(model.name == "squares")
        let prepared = try model.prepare(RGBImage(width: 10, height: 10))
        let result = try model.segment(prepared, prompts: Prompts(points: [PromptPoint(x: 5, y: 5, positive: true)]),
                                       previous: nil, multimask: false)
        #expect(result.first?.mask.area == 9)
    }

    @Test("a prepared image from another model is refused, not misread")
    func otherModel() throws {
        struct Other: PromptableSegmenter {
            let name = "other"
            func prepare(_ image: RGBImage) throws -> Int { 1 }
            func segment(_ p: Int, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate] { [] }
        }
        let prepared = try AnySegmenter(Other()).prepare(RGBImage(width: 2, height: 2))
        #expect(throws: SegError.self) {
            try AnySegmenter(SquareModel()).segment(prepared, prompts: Prompts(), previous: nil, multimask: false)
        }
    }
}
