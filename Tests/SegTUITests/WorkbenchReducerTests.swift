import Testing
@testable import SegCore
@testable import SegModels
@testable import SegEval
@testable import SegTUI

/// The workbench reducer, driven event by event, as the terminal and the worker would drive it.
@Suite("Workbench reducer")
struct WorkbenchReducerTests {
    static let images = ["a.png", "b.png", "c.png"].map { ImageEntry(path: "/data/" + $0) }

    /// A state whose first image (100×80) is loaded and prepared, in a 100×30 terminal.
    static func ready(rows: Int = 30, columns: Int = 100) -> WorkbenchState {
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: images,
                               classes: ["background", "cat", "car", "cart"], modelName: "test")
        s.image = RGBImage(width: 100, height: 80, fill: (90, 90, 90))
        s.lane.prepared = true
        s.lane.activity = .ready(milliseconds: 5)
        s.cursor = PixelPoint(x: 50, y: 40)
        return s
    }

    static func send(_ s: inout WorkbenchState, _ events: WorkbenchEvent...) -> [WorkbenchEffect] {
        var all: [WorkbenchEffect] = []
        for event in events {
            let (next, effects) = Workbench.reduce(s, event)
            s = next
            all += effects
        }
        return all
    }

    static func decodes(_ effects: [WorkbenchEffect]) -> [(Int, Prompts, Bool)] {
        effects.compactMap { if case .decode(_, let r, let p, _, let m) = $0 { (r, p, m) } else { nil } }
    }

    static func records(_ effects: [WorkbenchEffect]) -> [WorkRecord] {
        effects.compactMap { if case .record(let r) = $0 { r } else { nil } }
    }

    static func square(_ x: Int, _ y: Int, _ side: Int) -> Mask {
        var m = Mask(width: 100, height: 80)
        for yy in y..<(y + side) { for xx in x..<(x + side) { m[xx, yy] = true } }
        return m
    }

    @Test("a left click is a positive point at the pixel under it; the prompt is journalled before the decode")
    func leftClick() {
        var s = Self.ready()
        let layout = WorkbenchLayout(s)
        let (column, row) = layout.cell(for: PixelPoint(x: 30, y: 20))!
        let target = layout.imagePixel(column: column, row: row, s)!
        let effects = Self.send(&s, .input(.mouse(column: column, row: row, .leftClick)))
        #expect(s.editor.prompts.points == [PromptPoint(x: Double(target.x), y: Double(target.y), positive: true)])
        guard case .record(.prompts(let image, let prompts, nil, nil)) = effects.first else {
            Issue.record("the first effect must be the journal record: \(effects)")
            return
        }
        #expect(image == "a.png" && prompts == s.editor.prompts)
        let decode = Self.decodes(effects)
        #expect(decode.count == 1 && decode[0].0 == s.latestRequest && decode[0].2 == true)  // one point: multimask
        #expect(s.lane.activity == .working)
    }

    @Test("press and release apart make a box; right click a negative point")
    func dragAndRightClick() {
        var s = Self.ready()
        let layout = WorkbenchLayout(s)
        let a = layout.cell(for: PixelPoint(x: 10, y: 10))!, b = layout.cell(for: PixelPoint(x: 60, y: 50))!
        _ = Self.send(&s, .input(.mouse(column: a.column, row: a.row, .leftPress)),
                      .input(.mouse(column: b.column, row: b.row, .motion)),
                      .input(.mouse(column: b.column, row: b.row, .leftRelease)))
        let box = s.editor.prompts.box
        #expect(box != nil)
        #expect(box.map { $0.x0 <= 10 && $0.x1 >= 59 && $0.y0 <= 10 && $0.y1 >= 49 } == true)
        #expect(s.editor.prompts.points.isEmpty)
        let c = layout.cell(for: PixelPoint(x: 40, y: 30))!
        _ = Self.send(&s, .input(.mouse(column: c.column, row: c.row, .rightClick)))
        #expect(s.editor.prompts.points.count == 1 && s.editor.prompts.points[0].positive == false)
    }

    @Test("keyboard path: cursor moves, + and - place points, b twice places a box")
    func keyboard() {
        var s = Self.ready()
        let scale = WorkbenchLayout(s).image.scaleX  // half blocks: square display pixels
        let step = max(1, Int((1 / scale).rounded()))
        // Arrows step one image pixel at any zoom; h j k l one display pixel; Shift eight.
        _ = Self.send(&s, .input(.key(.right)), .input(.character("j")))
        #expect(s.cursor == PixelPoint(x: 51, y: 40 + step))
        _ = Self.send(&s, .input(.key(.shiftLeft)))
        #expect(s.cursor.x == 51 - 8 * step)
        _ = Self.send(&s, .input(.character("+")), .input(.character("h")), .input(.character("-")))
        #expect(s.editor.prompts.points.map(\.positive) == [true, false])
        #expect(s.editor.prompts.points[0].pixel.x == s.editor.prompts.points[1].pixel.x + step)
        s.cursor = PixelPoint(x: 5, y: 6)
        _ = Self.send(&s, .input(.character("b")))
        #expect(s.boxStart == PixelPoint(x: 5, y: 6) && s.editor.prompts.box == nil)
        s.cursor = PixelPoint(x: 40, y: 30)
        _ = Self.send(&s, .input(.character("b")))
        #expect(s.editor.prompts.box == PromptBox(x0: 5, y0: 6, x1: 40, y1: 30))
        // The cursor never leaves the image.
        for _ in 0..<100 { _ = Self.send(&s, .input(.key(.shiftRight))) }
        #expect(s.cursor.x == 99)
    }

    @Test("undo and redo walk the prompt history; Esc clears")
    func undoRedo() {
        var s = Self.ready()
        _ = Self.send(&s, .input(.character("+")), .input(.character("l")), .input(.character("+")))
        #expect(s.editor.prompts.points.count == 2)
        _ = Self.send(&s, .input(.character("u")))
        #expect(s.editor.prompts.points.count == 1)
        _ = Self.send(&s, .input(.character("u")))
        #expect(s.editor.prompts.isEmpty)
        let nothing = Self.send(&s, .input(.character("u")))
        #expect(s.message == "nothing to undo" && Self.decodes(nothing).isEmpty)
        _ = Self.send(&s, .input(.character("\u{12}")), .input(.character("\u{12}")))
        #expect(s.editor.prompts.points.count == 2)
        let cleared = Self.send(&s, .input(.key(.escape)))
        #expect(s.editor.prompts.isEmpty && Self.decodes(cleared).isEmpty)
        #expect(Self.records(cleared) == [.prompts(image: "a.png", prompts: Prompts(), refining: nil)])
    }

    @Test("a stale result is dropped; the newest one is shown")
    func latestWins() {
        var s = Self.ready()
        let first = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        let second = Self.decodes(Self.send(&s, .input(.character("-"))))[0].0
        #expect(second > first)
        _ = Self.send(&s, .result(lane: 0, request: first, [Candidate(mask: Self.square(0, 0, 10), score: 0.5)], milliseconds: 3))
        #expect(s.lane.candidates.isEmpty && s.lane.activity == .working)
        _ = Self.send(&s, .result(lane: 0, request: second, [Candidate(mask: Self.square(5, 5, 4), score: 0.5)], milliseconds: 7))
        #expect(s.lane.currentMask?.area == 16 && s.lane.activity == .done(milliseconds: 7))
    }

    @Test("Tab cycles candidates; the best-scored one is selected first")
    func candidates() {
        var s = Self.ready()
        let request = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        let candidates = [Candidate(mask: Self.square(0, 0, 2), score: 0.3), Candidate(mask: Self.square(0, 0, 3), score: 0.9),
                          Candidate(mask: Self.square(0, 0, 4), score: 0.5)]
        _ = Self.send(&s, .result(lane: 0, request: request, candidates, milliseconds: 1))
        #expect(s.lane.selectedCandidate == 1)
        _ = Self.send(&s, .input(.character("\t")))
        #expect(s.lane.currentMask?.area == 16)
        _ = Self.send(&s, .input(.character("\t")))
        #expect(s.lane.currentMask?.area == 4)
    }

    @Test("Tab with a single candidate says so instead of doing nothing; with nothing at all, says what to do (#22 item 12)")
    func singleCandidate() {
        var s = Self.ready()
        _ = Self.send(&s, .input(.character("\t")))
        #expect(s.message?.contains("click an object") == true, "\(s.message ?? "")")
        let request = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        _ = Self.send(&s, .result(lane: 0, request: request, [Candidate(mask: Self.square(0, 0, 2), score: 0.3)], milliseconds: 1))
        _ = Self.send(&s, .input(.character("\t")))
        #expect(s.message?.contains("one mask for these prompts") == true, "\(s.message ?? "")")
        #expect(s.lane.selectedCandidate == 0 && s.lane.currentMask?.area == 4)
    }

    @Test("the ground-truth match follows the selected candidate and shows in the status line; stale matches are dropped")
    func groundTruthMatch() {
        var s = Self.ready()
        _ = Self.send(&s, .groundTruthLoaded(index: 0, objects: [GroundTruthObject(className: "cat", mask: Self.square(0, 0, 3)),
                                                                    GroundTruthObject(className: "car", mask: Self.square(5, 5, 3))]))
        #expect(s.groundTruthObjects == 2)
        let request = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        let candidates = [Candidate(mask: Self.square(0, 0, 2), score: 0.9), Candidate(mask: Self.square(0, 0, 3), score: 0.3)]
        _ = Self.send(&s, .result(lane: 0, request: request, candidates, milliseconds: 1))
        #expect(s.lane.currentMatch == nil)
        _ = Self.send(&s, .groundTruthMatches(lane: 0, request: request - 1, [nil, nil]))
        #expect(s.lane.groundTruthMatches.isEmpty)
        let matches = [GroundTruthMatch(object: 1, className: "cat", iou: 0.9375), GroundTruthMatch(object: 0, className: "car", iou: 0.25)]
        _ = Self.send(&s, .groundTruthMatches(lane: 0, request: request, matches))
        #expect(s.lane.currentMatch == matches[0])
        #expect(Workbench.statusText(s, layout: WorkbenchLayout(s)).contains("GT IoU 0.938 cat"))
        _ = Self.send(&s, .input(.character("\t")))
        #expect(Workbench.statusText(s, layout: WorkbenchLayout(s)).contains("GT IoU 0.250 car"))
        // A new result replaces the candidates: the old matches no longer apply.
        let next = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        _ = Self.send(&s, .result(lane: 0, request: next, [Candidate(mask: Self.square(0, 0, 4), score: 1)], milliseconds: 1))
        #expect(s.lane.currentMatch == nil)
        #expect(!Workbench.statusText(s, layout: WorkbenchLayout(s)).contains("GT IoU"))
        #expect(Workbench.statusText(s, layout: WorkbenchLayout(s)).contains("GT 2 obj"))
        _ = Self.send(&s, .groundTruthFailed(index: 0, "gt.json: bad"))
        #expect(s.groundTruthObjects == nil && s.message == "ground truth: gt.json: bad")
    }

    @Test("Enter asks for the class; typing filters; Enter accepts, journals the mask and saves")
    func accept() throws {
        var s = Self.ready()
        let request = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        _ = Self.send(&s, .result(lane: 0, request: request, [Candidate(mask: Self.square(10, 10, 5), score: 1)], milliseconds: 1))
        _ = Self.send(&s, .input(.key(.enter)))
        #expect(s.overlay == .classPicker(filter: "", highlighted: 0))
        #expect(Workbench.pickerChoices(s, filter: "") == ["cat", "car", "cart"])
        _ = Self.send(&s, .input(.character("c")), .input(.character("a")), .input(.character("r")))
        #expect(Workbench.pickerChoices(s, filter: "car") == ["car", "cart"])
        _ = Self.send(&s, .input(.key(.down)))
        let effects = Self.send(&s, .input(.key(.enter)))
        #expect(s.overlay == .none)
        let objects = s.currentObjects
        #expect(objects.count == 1 && objects[0].className == "cart" && objects[0].mask.area == 25 && objects[0].id == 1)
        guard case .accept(let image, 1, "cart", 100, 80, let rle, _, _, _, _, _, _) = Self.records(effects).first else {
            Issue.record("no accept record in \(effects)")
            return
        }
        #expect(image == "a.png")
        #expect(try RLE(compressed: rle, height: 80, width: 100).decode() == Self.square(10, 10, 5))
        #expect(effects.contains { if case .save(let path) = $0 { path == "/data/a.png" } else { false } })
        #expect(s.editor.isEmpty && s.lane.candidates.isEmpty)
    }

    @Test("a new class typed in the picker is added to the workspace")
    func newClass() {
        var s = Self.ready()
        let request = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        _ = Self.send(&s, .result(lane: 0, request: request, [Candidate(mask: Self.square(1, 1, 3), score: 1)], milliseconds: 1))
        _ = Self.send(&s, .input(.key(.enter)))
        for c in "dog" { _ = Self.send(&s, .input(.character(c))) }
        let effects = Self.send(&s, .input(.key(.enter)))
        #expect(Self.records(effects).first == .addClass("dog"))
        #expect(s.classes.last == "dog" && s.currentObjects.first?.className == "dog")
    }

    @Test("accepted objects are selected by a click, refined with e and deleted with d")
    func selectRefineDelete() {
        var s = Self.ready()
        Workbench.apply(.accept(image: "a.png", object: 4, className: "cat", width: 100, height: 80,
                                rle: try! RLE(mask: Self.square(20, 20, 10)).compressedString,
                                prompts: Prompts(points: [PromptPoint(x: 25, y: 25, positive: true)])), to: &s)
        let cell = WorkbenchLayout(s).cell(for: PixelPoint(x: 25, y: 25))!
        _ = Self.send(&s, .input(.mouse(column: cell.column, row: cell.row, .leftClick)))
        #expect(s.selectedObject == 4 && s.editor.prompts.isEmpty)
        let refine = Self.send(&s, .input(.character("e")))
        #expect(s.editor.refining == 4 && s.editor.prompts.points.count == 1)
        #expect(Self.decodes(refine).count == 1)
        _ = Self.send(&s, .input(.key(.escape)))
        #expect(s.editor.isEmpty)
        _ = Self.send(&s, .input(.character("\t")))
        #expect(s.selectedObject == 4)
        let deleted = Self.send(&s, .input(.character("d")))
        #expect(s.currentObjects.isEmpty && Self.records(deleted) == [.delete(image: "a.png", object: 4)])
    }

    @Test("moving between images opens the next one and keeps unfinished prompts as a draft")
    func navigation() {
        var s = Self.ready()
        _ = Self.send(&s, .input(.character("+")))
        let effects = Self.send(&s, .input(.character("]")))
        #expect(s.current == 1 && s.image == nil && !s.lane.prepared && s.lane.activity == .loading)
        #expect(effects.contains { if case .open(1, "/data/b.png") = $0 { true } else { false } })
        #expect(Self.records(effects) == [.visit(image: "b.png")])
        #expect(s.editor.prompts.isEmpty)
        // A late result for a's request is stale now.
        _ = Self.send(&s, .result(lane: 0, request: s.latestRequest - 1, [Candidate(mask: Self.square(0, 0, 1), score: 1)], milliseconds: 1))
        #expect(s.lane.candidates.isEmpty)
        _ = Self.send(&s, .input(.key(.pageUp)))
        #expect(s.current == 0 && s.editor.prompts.points.count == 1)
        // Loaded and prepared: the draft is decoded again.
        _ = Self.send(&s, .imageLoaded(index: 0, RGBImage(width: 100, height: 80)))
        let prepared = Self.send(&s, .prepared(lane: 0, index: 0, milliseconds: 12))
        #expect(Self.decodes(prepared).count == 1 && s.lane.prepared)
        // Past the ends nothing happens.
        _ = Self.send(&s, .input(.character("[")))
        #expect(s.current == 0)
    }

    @Test("replaying the journal restores accepted objects, classes, drafts and the last image")
    func replay() throws {
        var s = WorkbenchState(rows: 30, columns: 100, colorMode: .direct, images: Self.images, classes: ["background"], modelName: "test")
        let rle = try RLE(mask: Self.square(1, 1, 4)).compressedString
        let records: [WorkRecord] = [
            .visit(image: "b.png"), .addClass("tree"),
            .accept(image: "b.png", object: 1, className: "tree", width: 100, height: 80, rle: rle, prompts: Prompts()),
            .prompts(image: "c.png", prompts: Prompts(points: [PromptPoint(x: 1, y: 2, positive: true)]), refining: nil),
            .accept(image: "b.png", object: 2, className: "tree", width: 100, height: 80, rle: rle, prompts: Prompts()),
            .delete(image: "b.png", object: 1), .visit(image: "c.png"),
        ]
        for r in records { Workbench.apply(r, to: &s) }
        #expect(s.current == 2)
        #expect(s.classes == ["background", "tree"])
        #expect(s.accepted["/data/b.png"]?.map(\.id) == [2])
        #expect(s.drafts["c.png"]?.prompts.points.count == 1)
    }

    @Test("prompts belong to their image: a point on a.png, a move to b.png, replayed, leaves b.png with nothing and a.png with its point (#22 item 7)")
    func promptsStayWithTheirImage() throws {
        // The live session: a click on a.png, then `]`.
        var live = WorkbenchState(rows: 30, columns: 100, colorMode: .direct, images: Self.images, classes: ["background"], modelName: "test")
        var effects: [WorkbenchEffect] = []
        live.current = -1
        Workbench.go(to: 0, &live, &effects)
        let point = Prompts(points: [PromptPoint(x: 3, y: 4, positive: true)])
        Workbench.commit(.prompts(image: "a.png", prompts: point, refining: nil), &live, &effects)
        Workbench.go(to: 1, &live, &effects)
        #expect(live.editor.isEmpty && live.drafts["a.png"]?.prompts == point)
        // The journal of that session, replayed from a fresh state as a reopened workbench does.
        let records = effects.compactMap { effect -> WorkRecord? in if case .record(let r) = effect { r } else { nil } }
        var replayed = WorkbenchState(rows: 30, columns: 100, colorMode: .direct, images: Self.images, classes: ["background"], modelName: "test")
        for r in records { Workbench.apply(r, to: &replayed) }
        #expect(replayed.current == 1)
        #expect(replayed.editor.isEmpty, "b.png got \(replayed.editor.prompts.points.count) point(s) made on a.png")
        #expect(replayed.drafts["a.png"]?.prompts == point && replayed.drafts["b.png"] == nil)
    }

    @Test("each object records its checkpoint; one accepted before the hash is done gets the digest when it comes, in the journal too (#22 item 9)")
    func checkpointDigest() throws {
        var s = Self.ready()
        s.lanes[0].checkpoint = "/models/sam.pth"
        func acceptOne() throws {
            let request = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
            _ = Self.send(&s, .result(lane: 0, request: request, [Candidate(mask: Self.square(0, 0, 4), score: 0.9)], milliseconds: 1))
            _ = Self.send(&s, .input(.key(.enter)))
            _ = Self.send(&s, .input(.key(.enter)))
        }
        try acceptOne()
        var object = try #require(s.currentObjects.first)
        #expect(object.checkpoint == "/models/sam.pth" && object.checkpointSHA256 == nil)
        let effects = Self.send(&s, .checkpointHashed(path: "/models/sam.pth", sha256: "ab12"))
        #expect(Self.records(effects) == [.checkpointDigest(path: "/models/sam.pth", sha256: "ab12")])
        #expect(effects.contains { if case .save = $0 { true } else { false } })
        object = try #require(s.currentObjects.first)
        #expect(object.checkpointSHA256 == "ab12" && s.lane.checkpointSHA256 == "ab12")
        // Accepted afterwards: the digest goes into the accept record itself.
        s.editor = ObjectEditor()
        s.cursor = PixelPoint(x: 50, y: 50)
        let request = Self.decodes(Self.send(&s, .input(.character("+"))))[0].0
        _ = Self.send(&s, .result(lane: 0, request: request, [Candidate(mask: Self.square(40, 40, 4), score: 0.9)], milliseconds: 1))
        _ = Self.send(&s, .input(.key(.enter)))
        let accepted = Self.records(Self.send(&s, .input(.key(.enter))))
        #expect(accepted.contains { if case .accept(_, _, _, _, _, _, _, _, "/models/sam.pth", "ab12", _, _) = $0 { true } else { false } },
                "\(accepted)")
    }

    @Test("zoom keeps the pixel under the cursor where it was on screen")
    func zoomAnchor() {
        var s = Self.ready()
        let anchor = PixelPoint(x: 70, y: 20)
        s.cursor = anchor
        let before = WorkbenchLayout(s).cell(for: anchor)!
        _ = Self.send(&s, .input(.character("z")), .input(.character("z")))
        #expect(s.viewport.zoom > 1.9)
        let after = WorkbenchLayout(s).cell(for: anchor)!
        #expect(abs(after.column - before.column) <= 1 && abs(after.row - before.row) <= 1, "\(before) -> \(after)")
        _ = Self.send(&s, .input(.character("Z")), .input(.character("Z")), .input(.character("Z")))
        #expect(s.viewport.zoom == 1)
    }

    @Test("clicks map to the image pixel under them at many zoom levels and odd terminal sizes",
          arguments: [(41, 13), (80, 24), (97, 33), (240, 70), (123, 45)])
    func clickMapping(_ size: (Int, Int)) {
        var s = Self.ready(rows: size.1, columns: size.0)
        for zoom in [1.0, 1.5, 2.0, 3.7, 8.0, 16.0] {
            s.viewport = Viewport(zoom: zoom, centerX: 37.3, centerY: 51.9)
            let layout = WorkbenchLayout(s)
            for y in stride(from: 0, to: 80, by: 3) {
                for x in stride(from: 0, to: 100, by: 3) {
                    let p = PixelPoint(x: x, y: y)
                    guard let cell = layout.cell(for: p) else { continue }
                    let back = layout.imagePixel(column: cell.column, row: cell.row, s)
                    #expect(back != nil)
                    guard let back else { continue }
                    // A cell covers 1/scale image pixels across and 2/scale down: the click lands in the
                    // same cell's pixels, and exactly on p once a pixel is at least a cell.
                    #expect(layout.cell(for: back)! == cell, "zoom \(zoom) size \(size): \(p) -> \(cell) -> \(back)")
                    if min(layout.image.scaleX, layout.image.scaleY) >= 2 { #expect(back == p, "zoom \(zoom) size \(size): \(p) -> \(back)") }
                }
            }
        }
    }
}

extension WorkbenchEffect: CustomStringConvertible {
    public var description: String {
        switch self {
        case .open(let i, let p): "open(\(i), \(p))"
        case .findPhrase(let lane, let i, let phrase): "findPhrase(lane \(lane), \(i), \(phrase))"
        case .prefetch(let paths): "prefetch(\(paths))"
        case .loadFailureMask(let set, let index): "failureMask(\(set), \(index))"
        case .decode(let lane, let r, let p, _, let m): "decode(lane \(lane)) (\(r), \(p.points.count) pts, multimask \(m))"
        case .record(let r): "record(\(r))"
        case .save(let i): "save(\(i))"
        case .compare(let a, let b): "compare(\(a), \(b))"
        case .exportFailures(let set, let rows): "export(\(set), \(rows.count) rows)"
        case .loadComparedMasks(let index, _, _, let a, let b): "masks(\(index), \(a), \(b))"
        }
    }
}

@Suite("Workbench image list with prediction sets")
struct WorkbenchPredictionListTests {
    @Test("each prediction set adds a column of per-image numbers, a legend, and widens the list")
    func columns() {
        var s = WorkbenchReducerTests.ready(rows: 20, columns: 100)
        s.predictions = [PredictionColumn(name: "model-a"), PredictionColumn(name: "model-b"), PredictionColumn(name: "model-c")]
        let narrow = WorkbenchLayout(WorkbenchReducerTests.ready(rows: 20, columns: 100))
        #expect(WorkbenchLayout(s).list?.columns == narrow.list!.columns + 2 * WorkbenchLayout.scoreWidth)

        let scores = ImageScores(metric: "F1@.5", byStem: ["a": 0.8234, "b": 1, "c": -1])
        let metrics = MetricsTable(title: "", rowLabel: "class", columns: [], rows: [], summary: [], errors: [])
        _ = WorkbenchReducerTests.send(&s, .setEvaluated(set: "model-a", SetEvaluation(scores: scores, metrics: metrics, failures: [])))
        _ = WorkbenchReducerTests.send(&s, .predictionScoresFailed(set: "model-b", "b.json: broken"))
        #expect(s.message == "predictions model-b: b.json: broken")
        let layout = WorkbenchLayout(s)
        var buffer = CellBuffer(rows: s.rows, columns: s.columns)
        Workbench.drawList(s, layout: layout, list: layout.list!, into: &buffer, theme: .dark, colored: false)
        let lines = (0..<s.rows).map { String(buffer.text(row: $0).prefix(layout.list!.columns + 1)) }
        #expect(lines[0].hasSuffix("    A    B\u{2502}"), "\(lines[0])")
        #expect(lines[1].contains("a.png") && lines[1].hasSuffix(" .82    !\u{2502}"), "\(lines[1])")
        #expect(lines[2].hasSuffix(" 1.0    !\u{2502}"), "\(lines[2])")
        #expect(lines[3].hasSuffix("   -    !\u{2502}"), "\(lines[3])")
        #expect(lines[s.rows - 4].hasPrefix(" A model-a") && lines[s.rows - 3].hasPrefix(" B model-b"))
        #expect(lines[s.rows - 2].hasPrefix(" per image: F1@.5"))
        // The legend rows are not image rows.
        #expect(layout.imageIndex(listRow: s.rows - 4, s) == nil)
        #expect(layout.imageIndex(listRow: 2, s) == 1)
    }
}
