import Foundation
import Testing
import SegCore
@testable import SegEval

@Suite("Panoptic quality against the panopticapi rules (numpy)")
struct PanopticTests {
    @Test("PQ/SQ/RQ for all, things, stuff and tp/fp/fn/IoU per category match")
    func agrees() throws {
        let folder = Fixtures.url("panoptic")
        let expected = try Fixtures.json(folder.appendingPathComponent("expected.json"))
        let ev = try PanopticEvaluator().evaluate(groundTruth: folder.appendingPathComponent("gt.json").path,
                                                  predictions: folder.appendingPathComponent("pred.json").path)
        for (name, ours) in [("All", ev.all), ("Things", ev.things), ("Stuff", ev.stuff)] {
            let ref = try #require(expected[name] as? [String: Double])
            #expect(abs(ours.pq - ref["PQ"]!) <= 1e-12 && abs(ours.sq - ref["SQ"]!) <= 1e-12 && abs(ours.rq - ref["RQ"]!) <= 1e-12, "\(name)")
            #expect(Double(ours.n) == ref["N"]!)
        }
        let per = try #require(expected["perCategory"] as? [String: [String: Double]])
        for (k, c) in ev.categories.enumerated() {
            let ref = try #require(per["\(c.id)"])
            #expect(Double(ev.counts[k].tp) == ref["tp"]! && Double(ev.counts[k].fp) == ref["fp"]! && Double(ev.counts[k].fn) == ref["fn"]!, "\(c.name)")
            #expect(abs(ev.counts[k].iou - ref["iou"]!) <= 1e-12)
        }
    }

    @Test("a segment in the PNG but not in the JSON is an error naming the file")
    func missingSegment() throws {
        let gt = PanopticFile.Annotation(imageId: 1, fileName: "a.png", segments: [.init(id: 1, categoryId: 1, area: 2, isCrowd: false)])
        let pred = PanopticFile.Annotation(imageId: 1, fileName: "a.png", segments: [])
        let ids = LabelMap(width: 2, height: 1, labels: [1, 1])
        do {
            _ = try PanopticEvaluator.evaluateImage(gt: gt, pred: pred, gtIds: ids, predIds: ids, categories: [1: 0],
                                                    gtFile: "gt/a.png", predFile: "pred/a.png")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "pred/a.png" && error.reason.contains("segment id 1"))
        }
    }
}
