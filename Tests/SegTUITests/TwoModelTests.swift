import Foundation
import Testing
@testable import SegCore
@testable import SegModels
@testable import SegEval
@testable import SegTUI

/// Two models answering the same prompts (A/B): the reducer with results in any order, a failing
/// model, a slow one, the choice of whose mask Enter accepts; and the two panes it draws.
@Suite("Two models side by side")
struct TwoModelTests {
    typealias R = WorkbenchReducerTests

    /// Image a.png (100×80) loaded, both models prepared, in a 160×40 terminal.
    static func ready(columns: Int = 160) -> WorkbenchState {
        var s = WorkbenchState(rows: 40, columns: columns, colorMode: .direct, images: R.images,
                               classes: ["background", "cat"], modelNames: ["grabcut", "mobile_sam"])
        s.image = RGBImage(width: 100, height: 80, fill: (90, 90, 90))
        for i in 0..<2 {
            s.lanes[i].prepared = true
            s.lanes[i].activity = .ready(milliseconds: 5)
        }
        s.cursor = PixelPoint(x: 50, y: 40)
        return s
    }

    static func decodes(_ effects: [WorkbenchEffect]) -> [(lane: Int, request: Int)] {
        effects.compactMap { if case .decode(let lane, let r, _, _, _) = $0 { (lane, r) } else { nil } }
    }

    @Test("a prompt goes to both models; answers arriving in either order each land in their own lane")
    func bothModelsAnswer() {
        for bFirst in [false, true] {
            var s = Self.ready()
            let first = Self.decodes(R.send(&s, .input(.character("+"))))
            #expect(first.map(\.lane) == [0, 1] && first[0].request == first[1].request)
            let request = first[0].request
            let a = WorkbenchEvent.result(lane: 0, request: request, [Candidate(mask: R.square(0, 0, 10), score: 0.9)], milliseconds: 40)
            let b = WorkbenchEvent.result(lane: 1, request: request, [Candidate(mask: R.square(20, 20, 5), score: 0.8)], milliseconds: 900)
            _ = bFirst ? R.send(&s, b, a) : R.send(&s, a, b)
            #expect(s.lanes[0].currentMask?.area == 100 && s.lanes[1].currentMask?.area == 25)
            #expect(s.lanes[0].activity == .done(milliseconds: 40) && s.lanes[1].activity == .done(milliseconds: 900))
        }
    }

    @Test("a slow model never holds the fast one back, and its late answer to an old prompt is dropped")
    func slowModel() {
        var s = Self.ready()
        let r1 = Self.decodes(R.send(&s, .input(.character("+"))))[0].request
        _ = R.send(&s, .result(lane: 0, request: r1, [Candidate(mask: R.square(0, 0, 4), score: 1)], milliseconds: 30))
        #expect(s.lanes[0].currentMask?.area == 16 && s.lanes[1].activity == .working)
        // A second click before the slow model answered the first.
        s.cursor = PixelPoint(x: 10, y: 10)
        let second = Self.decodes(R.send(&s, .input(.character("+"))))
        let r2 = second[0].request
        #expect(second.count == 2 && r2 > r1)
        _ = R.send(&s, .result(lane: 0, request: r2, [Candidate(mask: R.square(0, 0, 6), score: 1)], milliseconds: 30))
        // The slow model's answer to the first click is stale: drawn never.
        _ = R.send(&s, .result(lane: 1, request: r1, [Candidate(mask: R.square(0, 0, 9), score: 1)], milliseconds: 2000))
        #expect(s.lanes[0].currentMask?.area == 36 && s.lanes[1].candidates.isEmpty && s.lanes[1].activity == .working)
        _ = R.send(&s, .result(lane: 1, request: r2, [Candidate(mask: R.square(0, 0, 7), score: 1)], milliseconds: 2000))
        #expect(s.lanes[1].currentMask?.area == 49)
    }

    @Test("one model failing leaves the other's answer, and Enter takes whichever has a mask when chosen")
    func oneModelFails() {
        var s = Self.ready()
        let r = Self.decodes(R.send(&s, .input(.character("+"))))[0].request
        _ = R.send(&s, .resultFailed(lane: 0, request: r, "out of memory"),
                   .result(lane: 1, request: r, [Candidate(mask: R.square(5, 5, 5), score: 1)], milliseconds: 80))
        #expect(s.lanes[0].activity == .failed("out of memory") && s.lanes[1].currentMask?.area == 25)
        _ = R.send(&s, .input(.key(.enter)))
        #expect(s.overlay == .none && s.message?.contains("Tab") == true)
        _ = R.send(&s, .input(.character("\t")))
        #expect(s.chosenLane == 1)
        _ = R.send(&s, .input(.key(.enter)))
        let effects = R.send(&s, .input(.key(.enter)))
        guard case .accept(_, 1, "cat", _, _, _, _, let model, _, _, _, _) = R.records(effects).first else {
            Issue.record("no accept record in \(effects)")
            return
        }
        #expect(model == "mobile_sam" && s.currentObjects.first?.model == "mobile_sam")
        #expect(s.lanes.allSatisfy { $0.candidates.isEmpty })
    }

    @Test("a model prepared later decodes the prompts then, without disturbing the other's request")
    func preparedLater() {
        var s = Self.ready()
        s.lanes[1].prepared = false
        s.lanes[1].activity = .preparing
        let first = Self.decodes(R.send(&s, .input(.character("+"))))
        #expect(first.map(\.lane) == [0])
        let later = Self.decodes(R.send(&s, .prepared(lane: 1, index: 0, milliseconds: 1200)))
        #expect(later.map(\.lane) == [1])
        // Model A's answer to its request still counts.
        _ = R.send(&s, .result(lane: 0, request: first[0].request, [Candidate(mask: R.square(0, 0, 3), score: 1)], milliseconds: 9))
        #expect(s.lanes[0].currentMask?.area == 9)
    }

    @Test("a heavy model's lane counts the seconds it has been preparing; clicks meanwhile wait for it, then decode")
    func preparingSeconds() {
        var s = Self.ready()
        s.lanes[1].prepared = false
        s.lanes[1].activity = .preparing
        _ = R.send(&s, .clock(milliseconds: 10_000), .clock(milliseconds: 12_400))
        #expect(s.lanes[1].preparingSeconds == 2 && s.lanes[0].preparingSince == nil)
        #expect(Workbench.activityText(s.lanes[1]) == "preparing image\u{2026} 2 s")
        let first = Self.decodes(R.send(&s, .input(.character("+"))))
        #expect(first.map(\.lane) == [0], "the unprepared model gets no request yet")
        let later = Self.decodes(R.send(&s, .prepared(lane: 1, index: 0, milliseconds: 41_000), .clock(milliseconds: 13_000)))
        #expect(later.map(\.lane) == [1] && s.lanes[1].preparingSince == nil && s.lanes[1].preparingSeconds == 0)
    }

    @Test("1 and 2 choose the model; Tab alternates; ` walks the chosen model's candidates")
    func choosing() {
        var s = Self.ready()
        let r = Self.decodes(R.send(&s, .input(.character("+"))))[0].request
        _ = R.send(&s, .result(lane: 1, request: r, [Candidate(mask: R.square(0, 0, 2), score: 0.2),
                                                     Candidate(mask: R.square(0, 0, 4), score: 0.9)], milliseconds: 1))
        _ = R.send(&s, .input(.character("2")))
        #expect(s.chosenLane == 1 && s.lane.selectedCandidate == 1)
        _ = R.send(&s, .input(.character("`")))
        #expect(s.lane.selectedCandidate == 0 && s.chosenLane == 1)
        _ = R.send(&s, .input(.character("\t")))
        #expect(s.chosenLane == 0)
        _ = R.send(&s, .input(.character("1")))
        #expect(s.chosenLane == 0)
    }

    @Test("an accept record written before two-model sessions (no model) still replays; a new one keeps its model")
    func journalCompatibility() throws {
        let rle = try RLE(mask: R.square(0, 0, 3)).compressedString
        let old = #"{"accept":{"image":"a.png","object":1,"className":"cat","width":100,"height":80,"rle":"\#(rle)","prompts":{"points":[]}}}"#
        let record = try JSONDecoder().decode(WorkRecord.self, from: Data(old.utf8))
        guard case .accept(_, 1, "cat", 100, 80, _, _, let model, _, _, _, _) = record else {
            Issue.record("\(record)")
            return
        }
        #expect(model == nil)
        let new = WorkRecord.accept(image: "a.png", object: 2, className: "cat", width: 100, height: 80, rle: rle, prompts: Prompts(),
                                    model: "mobile_sam")
        #expect(try JSONDecoder().decode(WorkRecord.self, from: JSONEncoder().encode(new)) == new)
    }

    @Test("two panes of equal size show the same pixels, each with its model's mask and header; clicks land in either")
    func panes() {
        for columns in [160, 70] {
            var s = Self.ready(columns: columns)
            let layout = WorkbenchLayout(s)
            #expect(layout.paneAreas.count == 2 && layout.paneHeaders.count == 2)
            let (a, b) = (layout.paneAreas[0], layout.paneAreas[1])
            #expect(a.columns == b.columns && a.rows == b.rows)
            #expect(columns == 160 ? a.row == b.row : a.column == b.column)
            // The same image pixel maps back from both panes.
            let p = PixelPoint(x: 30, y: 20)
            for k in 0..<2 {
                let cell = layout.pane(k).cell(for: p)!
                #expect(layout.paneAreas[k].contains(column: cell.column, row: cell.row))
                #expect(layout.imagePixel(column: cell.column, row: cell.row, s) == p || min(layout.image.scaleX, layout.image.scaleY) < 2)
            }
            let r = Self.decodes(R.send(&s, .input(.character("+"))))[0].request
            _ = R.send(&s, .result(lane: 0, request: r, [Candidate(mask: R.square(0, 0, 50), score: 1)], milliseconds: 12),
                       .result(lane: 1, request: r, [Candidate(mask: R.square(60, 40, 30), score: 1)], milliseconds: 700))
            let buffer = Workbench.render(s)
            func header(_ k: Int) -> String {
                let h = layout.paneHeaders[k]
                return String(buffer.text(row: h.row).unicodeScalars.dropFirst(h.column).prefix(h.columns))
            }
            let (headerA, headerB) = (header(0), header(1))
            #expect(headerA.contains("A grabcut") && headerA.contains("done in 12 ms") && headerA.contains("2500 px") && headerA.contains("Enter"))
            #expect(headerB.contains("B mobile_sam") && headerB.contains("done in 700 ms") && headerB.contains("900 px"))
            // Pane A is tinted by its mask at the top left, pane B at the bottom right, and not the other way round.
            let topLeft = PixelPoint(x: 10, y: 10), bottomRight = PixelPoint(x: 80, y: 60)
            let plain = Workbench.render(Self.ready(columns: columns))
            func changed(_ k: Int, _ p: PixelPoint) -> Bool {
                let c = layout.pane(k).cell(for: p)!
                return buffer[c.row, c.column] != plain[c.row, c.column]
            }
            #expect(changed(0, topLeft) && !changed(0, bottomRight))
            #expect(changed(1, bottomRight) && !changed(1, topLeft))
        }
    }
}
