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

    @Test("segment failures (missed, false positive, low-IoU match) with area, IoU and box match the numpy reference")
    func segmentFailures() throws {
        let folder = Fixtures.url("panoptic")
        let expected = try Fixtures.json(folder.appendingPathComponent("segments.json"))
        #expect(expected["lowIoUMatch"] as? Double == PanopticEvaluator.lowIoUMatch)
        let rows = try #require(expected["rows"] as? [[String: Any]])
        let ev = try PanopticEvaluator().evaluate(groundTruth: folder.appendingPathComponent("gt.json").path,
                                                  predictions: folder.appendingPathComponent("pred.json").path)
        func key(_ image: Int, _ kind: String, _ segment: Int) -> String { "\(image)/\(kind)/\(segment)" }
        var ours: [String: PanopticSegmentFailure] = [:]
        for f in ev.segmentFailures { ours[key(f.imageId, f.kind.rawValue, Int(f.segmentId))] = f }
        #expect(ours.count == rows.count && ev.segmentFailures.count == rows.count)
        for r in rows {
            let k = key(r["image_id"] as! Int, r["kind"] as! String, r["segment"] as! Int)
            let f = try #require(ours[k], "\(k) missing")
            #expect(f.categoryId == r["category_id"] as? Int && f.area == r["area"] as? Int, "\(k)")
            #expect(abs(f.iou - (r["iou"] as! Double)) <= 1e-12, "\(k) IoU \(f.iou)")
            let b = r["bbox"] as! [Double]
            #expect(f.box == COCOBox(x: b[0], y: b[1], width: b[2], height: b[3]), "\(k) box")
        }
        #expect(FailureRow.Kind.allCases.enumerated().allSatisfy { $0.offset == $0.element.index })
        let countsOnly = try FailureTable.panoptic(ev, query: FailureQuery(limit: 0))
        #expect(countsOnly.rows.isEmpty && countsOnly.total == rows.count)
        // The table: filters and order.
        let table = try FailureTable.panoptic(ev, query: FailureQuery(kind: .missedSegment))
        #expect(table.total == rows.filter { $0["kind"] as? String == "missed-segment" }.count)
        #expect(table.rows.allSatisfy { $0.kind == .missedSegment })
        #expect(zip(table.rows, table.rows.dropFirst()).allSatisfy { $0.iou <= $1.iou })
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
