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
