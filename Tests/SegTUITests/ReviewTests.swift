import Foundation
import Testing
@testable import SegCore
@testable import SegEval
@testable import SegLabel
@testable import SegModels
@testable import SegTUI

/// Reviewing proposals, the brush and the undo of work, driven through the reducer as the
/// terminal would drive them; every change also replayed from its journal records.
@Suite("Reviewing proposals")
struct ReviewTests {
    typealias R = WorkbenchReducerTests

    static func proposal(_ image: String, _ id: Int, _ x: Int, _ y: Int, _ side: Int, score: Double, className: String = "cat") throws -> Proposal {
        try Proposal(imageId: id, fileName: image, categoryId: 1, categoryName: className, mask: R.square(x, y, side), score: score,
                     source: ProposalSource(model: "test.pt", prompt: "box"))
    }

    /// Image a.png with three proposals (scores .9, .6, .3), b.png with one, c.png none.
    static func reviewing() throws -> WorkbenchState {
        var s = R.ready()
        s.proposals = try ReviewProposal.byImage([
            try proposal("a.png", 1, 10, 10, 10, score: 0.6), try proposal("a.png", 1, 40, 10, 10, score: 0.9),
            try proposal("a.png", 1, 70, 50, 8, score: 0.3, className: "car"), try proposal("b.png", 2, 5, 5, 20, score: 0.8),
        ], file: "p.json")
        Workbench.enterProposals(&s)
        return s
    }

    static func key(_ c: Character) -> WorkbenchEvent { .input(.character(c)) }

    /// The state a fresh session reaches by replaying `records` over the same proposals.
    static func replayed(_ records: [WorkRecord]) throws -> WorkbenchState {
        var s = try reviewing()
        for record in records { Workbench.apply(record, to: &s) }
        return s
    }

    @Test("proposals are walked best first; y accepts one as an object with its class, x rejects, counts follow")
    func acceptAndReject() throws {
        var s = try Self.reviewing()
        #expect(s.currentProposal?.score == 0.9)
        // Drawn: the two others in the drafts' style, the one under review last (on top), outlined brightly.
        let drawn = Workbench.overlays(s, theme: .dark)
        #expect(drawn.map(\.mask.area) == [100, 64, 100] && drawn.last?.mask == R.square(40, 10, 10))
        #expect(drawn.last?.boundary == Theme.dark.maskBoundary && drawn.first?.boundary == Theme.dark.boxColor)
        var records = R.records(R.send(&s, Self.key("y")))
        #expect(s.currentObjects.count == 1 && s.currentObjects[0].mask == R.square(40, 10, 10) && s.currentObjects[0].className == "cat")
        #expect(s.currentProposals[0].status == .accepted(object: 1))
        #expect(s.currentProposal?.score == 0.6)
        records += R.records(R.send(&s, Self.key("x")))
        #expect(s.currentProposals[1].status == .rejected)
        #expect(s.imageReviewCounts == { var c = ReviewCounts(); c.accepted = 1; c.rejected = 1; c.left = 1; return c }())
        #expect(s.setReviewCounts.left == 2)
        // The journal alone restores it (accepts carry their masks).
        let back = try Self.replayed(records)
        #expect(back.currentObjects == s.currentObjects && back.currentProposals == s.currentProposals)
        // The drawing follows: the accepted object, and the one left under review; the rejected one is gone.
        #expect(Workbench.overlays(s, theme: .dark).map(\.mask) == [R.square(40, 10, 10), R.square(70, 50, 8)])
    }

    @Test("Y accepts every pending proposal of the image scored at least as high as the current one")
    func acceptAbove() throws {
        var s = try Self.reviewing()
        _ = R.send(&s, Self.key("."))  // to the .6 one
        #expect(s.currentProposal?.score == 0.6)
        _ = R.send(&s, Self.key("Y"))
        #expect(s.currentObjects.count == 2)
        #expect(s.currentProposals.map(\.isPending) == [false, false, true])
        // `.` past the image's last pending proposal goes to the next image that has one.
        _ = R.send(&s, Self.key("x"), Self.key("."))
        #expect(s.current == 1 && s.currentProposal?.score == 0.8)
    }

    @Test("undo covers accept, reject, class change and delete; redo puts them back; both replay from the journal")
    func undoEverything() throws {
        var s = try Self.reviewing()
        var records = R.records(R.send(&s, Self.key("y"), Self.key("x")))
        records += R.records(R.send(&s, Self.key("C"), .input(.character("c")), .input(.character("a")), .input(.character("r")),
                                    .input(.character("t")), .input(.key(.enter))))
        #expect(s.currentProposals[2].className == "cart")
        // Delete the accepted object: select it, d.
        s.selectedObject = 1
        records += R.records(R.send(&s, Self.key("d")))
        #expect(s.currentObjects.isEmpty)
        records += R.records(R.send(&s, Self.key("u")))
        #expect(s.currentObjects.count == 1, "the delete is undone: the object is back")
        records += R.records(R.send(&s, Self.key("u"), Self.key("u")))
        #expect(s.currentProposals[1].isPending, "the rejection is undone")
        #expect(s.currentProposal?.score == 0.6, "the cursor goes back to the proposal the undo made pending")
        records += R.records(R.send(&s, Self.key("u")))
        #expect(s.currentObjects.isEmpty && s.currentProposals.allSatisfy(\.isPending), "the accept is undone")
        records += R.records(R.send(&s, .input(.character("\u{12}"))))  // C-r
        #expect(s.currentObjects.count == 1)
        let back = try Self.replayed(records)
        #expect(back.currentObjects == s.currentObjects && back.currentProposals == s.currentProposals)
        #expect(back.undoWork.count == s.undoWork.count && back.redoWork.count == s.redoWork.count)
        // A new change forgets what could be redone.
        _ = R.send(&s, Self.key("x"))
        #expect(s.redoWork.isEmpty)
    }

    @Test("the brush paints on the proposal under review (accepted as fixed) and then on its object; the eraser takes away; undo restores")
    func brush() throws {
        var s = try Self.reviewing()
        s.cursor = PixelPoint(x: 52, y: 15)  // just right of the 10×10 square at (40, 10)
        var records = R.records(R.send(&s, Self.key("B"), Self.key(" ")))
        #expect(s.currentProposals[0].status == .fixed(object: 1))
        let painted = s.currentObjects[0].mask
        #expect(painted[52, 15] && painted[45, 15] && painted.area > 100)
        s.cursor = PixelPoint(x: 45, y: 15)
        records += R.records(R.send(&s, Self.key("X"), Self.key(" ")))
        #expect(!s.currentObjects[0].mask[45, 15] && s.currentObjects[0].mask[40, 10])
        records += R.records(R.send(&s, .input(.key(.escape)), Self.key("u")))
        #expect(s.currentObjects[0].mask == painted, "undo takes back the erasing")
        let back = try Self.replayed(records)
        #expect(back.currentObjects == s.currentObjects)
        // A stroke: press, drag, release paints the path between.
        var t = try Self.reviewing()
        t.brush = Brush(erase: false, radius: 1)
        var fx: [WorkbenchEffect] = []
        _ = Workbench.handleBrushMouse(.leftPress, PixelPoint(x: 40, y: 30), &t, &fx)
        _ = Workbench.handleBrushMouse(.motion, PixelPoint(x: 60, y: 30), &t, &fx)
        _ = Workbench.handleBrushMouse(.leftRelease, PixelPoint(x: 60, y: 40), &t, &fx)
        let stroke = t.currentObjects[0].mask
        #expect(stroke[50, 30] && stroke[60, 35] && !stroke[50, 40])
    }

    @Test("a click in the proposal's box fixes it: the editor starts from its box and its mask; Enter accepts it as fixed")
    func fixWithClick() throws {
        var s = try Self.reviewing()
        let effects = R.send(&s, .input(.character("+")))  // the cursor (50, 40) is outside the box of (40, 10, 10)
        #expect(s.editor.fixingProposal == nil && s.editor.prompts.box == nil)
        _ = effects
        _ = R.send(&s, .input(.key(.escape)))
        s.cursor = PixelPoint(x: 45, y: 12)
        let fixing = R.send(&s, .input(.character("-")))
        #expect(s.editor.fixingProposal == 0)
        guard let decode = fixing.compactMap({ effect -> (Prompts, Candidate?)? in
            if case .decode(_, _, let p, let previous, _) = effect { (p, previous) } else { nil }
        }).first else {
            Issue.record("no decode")
            return
        }
        #expect(decode.0.box != nil && decode.0.points.count == 1)
        if case .mask(let m)? = decode.1?.feedback { #expect(m == R.square(40, 10, 10)) } else { Issue.record("the proposal's mask is not the previous answer") }
        // The model answers; Enter and the class accept it as the proposal's fix.
        let request = s.lane.awaitedRequest ?? 0
        _ = R.send(&s, .result(lane: 0, request: request, [Candidate(mask: R.square(40, 10, 9), score: 0.9)], milliseconds: 1),
                   .input(.key(.enter)), .input(.key(.enter)))
        #expect(s.currentProposals[0].status == .fixed(object: 1))
        #expect(s.currentObjects.first?.mask == R.square(40, 10, 9) && s.currentObjects.first?.className == "cat")
    }

    @Test("the proposals file round-trips, and pycocotools' keys are where a results reader looks")
    func proposalFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-proposals-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let proposals = [try Self.proposal("a.png", 1, 10, 10, 10, score: 0.6), try Self.proposal("a.png", 1, 40, 10, 10, score: 0.9)]
        try ProposalFile.write(proposals, to: dir + "/p.json")
        let back = try ProposalFile.read(dir + "/p.json")
        #expect(back == [proposals[1], proposals[0]])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/p.json"))) as? [[String: Any]]
        #expect(json?.first?["image_id"] as? Int == 1 && json?.first?["bbox"] as? [Double] == [40, 10, 10, 10])
        try Data("[{\"image_id\": 1}]".utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        #expect { try ProposalFile.read(dir + "/bad.json") } throws: { error in
            "\(error)".contains("bad.json") && "\(error)".contains("entry 0")
        }
    }

    @Test("autolabel's run records each image before the next, skips recorded images on a rerun, and refuses another run's progress")
    func resumableRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-autolabel-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let images = LabelImages.make(paths: ["/x/2.png", "/x/10.png", "/x/7.png"])
        #expect(images.map(\.imageId) == [2, 10, 7], "numeric stems are COCO ids")
        #expect(LabelImages.make(paths: ["/x/a.png", "/x/b.png"]).map(\.imageId) == [1, 2])
        var labelled: [String] = []
        // The run is killed on the third image.
        #expect(throws: SegError.self) {
            _ = try AutoLabelRun.run(images: images, fingerprint: "f", out: dir + "/p.json") { image in
                if image.fileName == "7.png" { throw SegError(.writeFailed, file: "x", "killed") }
                labelled.append(image.fileName)
                return [try Self.proposal(image.fileName, image.imageId, 1, 1, 4, score: 0.5)]
            }
        }
        // Rerun: only the missing image is labelled; the file holds all three, by image id.
        labelled = []
        let summary = try AutoLabelRun.run(images: images, fingerprint: "f", out: dir + "/p.json") { image in
            labelled.append(image.fileName)
            return [try Self.proposal(image.fileName, image.imageId, 1, 1, 4, score: 0.5)]
        }
        #expect(labelled == ["7.png"] && summary.alreadyDone == 2 && summary.labelled == 1)
        #expect(try ProposalFile.read(dir + "/p.json").map(\.imageId) == [2, 7, 10])
        #expect { try AutoLabelRun.run(images: images, fingerprint: "other", out: dir + "/p.json") { _ in [] } } throws: { error in
            "\(error)".contains("--restart")
        }
    }
}
