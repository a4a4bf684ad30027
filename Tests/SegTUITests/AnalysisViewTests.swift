import Foundation
import Testing
@testable import SegCore
@testable import SegEval
@testable import SegModels
@testable import SegTUI

/// The metrics view and the failure browser, driven through the reducer and drawn into cells.
@Suite("Workbench metrics view and failure browser")
struct AnalysisViewTests {
    static func row(_ image: String, _ cls: String, _ size: String, area: Double, iou: Double, score: Double?, _ kind: FailureRow.Kind,
                    box: COCOBox? = COCOBox(x: 40, y: 30, width: 10, height: 10), reference: String) -> FailureRow {
        FailureRow(image: image, imageId: nil, classId: nil, className: cls, sizeBucket: SizeBucket(rawValue: size), area: area, iou: iou, score: score,
                   kind: kind, box: box, reference: reference)
    }

    static func evaluation() -> SetEvaluation {
        let metrics = MetricsTable(title: "instance (segm), 3 images, 9 detections", rowLabel: "class", columns: ["AP", "AP50"],
                                   rows: [.init(name: "cat", values: [0.5, 0.8]), .init(name: "car", values: [0.25, nil]),
                                          .init(name: "cart", values: [0.75, 0.9])],
                                   summary: [("AP", 0.5), ("AP50", 0.85)], errors: [("Cls", 0.02), ("Miss", 0.08)])
        let failures = [
            row("images/a.png", "cat", "small", area: 90, iou: 0, score: nil, .missed, reference: "annotation 1"),
            row("images/b.png", "car", "large", area: 9000, iou: 0.3, score: 0.9, .mislocalized, reference: "results[4]"),
            row("images/a.png", "car", "small", area: 100, iou: 0.05, score: 0.7, .background, reference: "results[2]"),
            row("images/c.png", "cart", "small", area: 50, iou: 0, score: nil, .missed, reference: "annotation 7"),
        ]
        return SetEvaluation(scores: ImageScores(metric: "F1@.5", byStem: [:]), metrics: metrics, failures: failures)
    }

    static func state() -> WorkbenchState {
        var s = WorkbenchReducerTests.ready(rows: 30, columns: 120)
        s.predictions = [PredictionColumn(name: "model-a", evaluation: evaluation()), PredictionColumn(name: "model-b")]
        return s
    }

    static func screen(_ s: WorkbenchState) -> [String] {
        let buffer = Workbench.render(s)
        return (0..<s.rows).map { buffer.text(row: $0) }
    }

    @Test("m opens the metrics table; o sorts by each column in turn, weakest first, undefined last; Tab changes set")
    func metrics() {
        var s = Self.state()
        _ = WorkbenchReducerTests.send(&s, .input(.character("m")))
        #expect(s.overlay == .metrics)
        var lines = Self.screen(s)
        #expect(lines.contains { $0.contains("Metrics: model-a") })
        #expect(lines.contains { $0.contains("AP 0.500") && $0.contains("AP50 0.850") })
        let order = { (lines: [String]) in ["cat", "car", "cart"].map { name in lines.firstIndex { $0.contains("\u{2502} \(name) ") } ?? -1 } }
        #expect(order(lines) == order(lines).sorted())  // the engine's order: cat, car, cart
        _ = WorkbenchReducerTests.send(&s, .input(.character("o")))
        #expect(s.metricsView.sortColumn == 0)
        #expect(Workbench.metricsRows(Self.evaluation().metrics, sortColumn: 0).map(\.name) == ["car", "cat", "cart"])
        #expect(Workbench.metricsRows(Self.evaluation().metrics, sortColumn: 1).map(\.name) == ["cat", "cart", "car"])
        lines = Self.screen(s)
        #expect(lines.contains { $0.contains("AP\u{25B2}") })
        #expect(lines.contains { $0.contains("TIDE errors") } && lines.contains { $0.contains("Miss") && $0.contains("8.00") })
        _ = WorkbenchReducerTests.send(&s, .input(.character("o")), .input(.character("o")))
        #expect(s.metricsView.sortColumn == nil)
        _ = WorkbenchReducerTests.send(&s, .input(.character("\t")))
        #expect(Self.screen(s).contains { $0.contains("Metrics: model-b") } && Self.screen(s).contains { $0.contains("evaluating") })
        _ = WorkbenchReducerTests.send(&s, .input(.key(.escape)))
        #expect(s.overlay == .none)
    }

    static let panopticFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SegEvalTests/Fixtures/panoptic")

    @Test("a panoptic set: the metrics view shows PQ/SQ/RQ as panopticapi computes them, per class; masks and ground truth come from the PNGs")
    func panopticSet() throws {
        let gt = Self.panopticFixture.appendingPathComponent("gt.json").path
        let evaluation = try SetEvaluation.compute(groundTruth: gt, predictions: Self.panopticFixture.appendingPathComponent("pred.json").path)
        // The reference: panopticapi's pq_compute on the same files (scripts/, committed as expected.json).
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.panopticFixture.appendingPathComponent("expected.json")))
                                    as? [String: Any])
        let all = try #require(expected["All"] as? [String: Double])
        let table = evaluation.metrics
        #expect(table.columns == ["PQ", "SQ", "RQ"])
        #expect(table.rows.map(\.name) == ["person", "car", "sky", "road", "grass"])
        #expect(abs(try #require(table.summary.first { $0.name == "PQ" }).value - all["PQ"]!) <= 1e-12)
        #expect(abs(try #require(table.summary.first { $0.name == "RQ" }).value - all["RQ"]!) <= 1e-12)
        let perCategory = try #require(expected["perCategory"] as? [String: [String: Double]])
        for (row, id) in zip(table.rows, [1, 2, 10, 11, 12]) {
            let c = try #require(perCategory["\(id)"])
            let denominator = c["tp"]! + 0.5 * c["fp"]! + 0.5 * c["fn"]!
            #expect(abs((row.values[0] ?? -1) - (denominator > 0 ? c["iou"]! / denominator : 0)) <= 1e-12, "\(row.name)")
        }
        #expect(evaluation.scores.metric == "PQ" && evaluation.scores.byStem["p0"] != nil)
        #expect(!evaluation.failures.isEmpty)

        var s = WorkbenchReducerTests.ready(rows: 30, columns: 120)
        s.predictions = [PredictionColumn(name: "panoptic-a", evaluation: evaluation)]
        _ = WorkbenchReducerTests.send(&s, .input(.character("m")))
        let lines = Self.screen(s)
        #expect(lines.contains { $0.contains("Metrics: panoptic-a") })
        #expect(lines.contains { $0.contains(String(format: "PQ %.3f", all["PQ"]!)) })
        // Each class's row shows its PQ, SQ and RQ.
        for row in table.rows {
            let cells = row.values.map { String(format: "%.3f", $0 ?? -1) }.joined(separator: "   ")
            #expect(lines.contains { $0.contains(row.name) && $0.contains(cells) }, "\(row.name): \(lines.joined(separator: "\n"))")
        }

        // The compare view and the failure browser draw the set's segments.
        #expect(!evaluation.predictionMasks(stem: "p0").isEmpty)
        let falsePositive = try #require(evaluation.failures.first { $0.kind == .falsePositiveSegment })
        let mask = try #require(evaluation.predictionMask(for: falsePositive))
        #expect(mask.area == Int(falsePositive.area))
        // The workspace's ground truth reads the panoptic PNGs: one object per segment that is not crowd.
        let truth = try GroundTruthObjects(path: gt)
        let objects = try #require(try truth.objects(forImage: "p0.jpg", width: 64, height: 48))
        #expect(!objects.objects.isEmpty && objects.objects.allSatisfy { $0.mask.area > 0 })
    }

    @Test("a workspace whose ground truth is COCO panoptic opens, scores its prediction set as panoptic and shows the image's segments")
    func panopticWorkspace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-panoptic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        // The fixture's images are p0.jpg … p4.jpg, 64×48; the workspace pairs by stem.
        for k in 0..<5 {
            try ImageFile.writePNG(RGBImage(width: 64, height: 48, fill: (90, 120, 60)), to: images.appendingPathComponent("p\(k).png").path)
        }
        let config = WorkspaceConfig(images: images.path, groundTruth: Self.panopticFixture.appendingPathComponent("gt.json").path,
                                     predictions: [("panoptic-a", Self.panopticFixture.appendingPathComponent("pred.json").path)],
                                     output: dir.appendingPathComponent("out").path)
        let session = try WorkbenchSession(config: config, model: try ModelRegistry.segmenter(named: "grabcut", cache: nil),
                                           theme: .dark, rows: 30, columns: 120, colorMode: .none)
        defer { session.stop() }
        session.settle()
        let evaluation = try #require(session.state.predictions.first?.evaluation, "\(session.state.message ?? "")")
        #expect(evaluation.metrics.columns == ["PQ", "SQ", "RQ"] && evaluation.scores.metric == "PQ")
        #expect(session.state.groundTruth?.isEmpty == false)
    }

    @Test("column charts: eighths of a cell from the bottom, nothing for undefined values")
    func columnCharts() {
        // Two rows: 1.0 fills both, 0.5 the lower one, 0.25 half of the lower, -1 nothing.
        #expect(Workbench.columnChart([1, 0.5, 0.25, -1], height: 2) == ["\u{2588}   ", "\u{2588}\u{2588}\u{2584} "])
    }

    @Test("bars: eighths of a cell, nothing for undefined values")
    func bars() {
        #expect(Workbench.bar(0.5, width: 4) == "\u{2588}\u{2588}  ")
        #expect(Workbench.bar(1 / 16, width: 4) == "\u{258E}   ")  // a quarter cell: two eighths
        #expect(Workbench.bar(-1, width: 3) == "   ")
        #expect(Workbench.bar(2, width: 2) == "\u{2588}\u{2588}")
    }

    @Test("f lists failures worst first; class, size and type filters combine; o changes the order; counts follow")
    func failures() {
        var s = Self.state()
        _ = WorkbenchReducerTests.send(&s, .input(.character("f")))
        #expect(s.overlay == .failures)
        // Lowest IoU first, then the higher score, then the image.
        #expect(s.failureBrowser.shown == [0, 3, 2, 1])
        _ = WorkbenchReducerTests.send(&s, .input(.character("s")))
        #expect(s.failureBrowser.size == .small && s.failureBrowser.shown == [0, 3, 2])
        _ = WorkbenchReducerTests.send(&s, .input(.character("/")), .input(.character("c")), .input(.character("a")), .input(.character("r")))
        #expect(s.failureBrowser.typing && s.failureBrowser.shown == [3, 2])  // "car" matches car and cart
        _ = WorkbenchReducerTests.send(&s, .input(.key(.enter)))
        #expect(!s.failureBrowser.typing)
        _ = WorkbenchReducerTests.send(&s, .input(.character("e")))
        #expect(s.failureBrowser.kind == .missed && s.failureBrowser.shown == [3])
        let lines = Self.screen(s)
        #expect(lines.contains { $0.contains("1 of 4 shown") })
        #expect(lines.contains { $0.contains("class: car") && $0.contains("size: small") && $0.contains("type: missed") })
        #expect(lines.contains { $0.contains("c.png") && $0.contains("cart") && $0.contains("missed") })
        // e cycles through the kinds present (missed, background, mislocalized) back to all; s to all sizes.
        _ = WorkbenchReducerTests.send(&s, .input(.character("e")), .input(.character("e")), .input(.character("e")))
        #expect(s.failureBrowser.kind == nil)
        _ = WorkbenchReducerTests.send(&s, .input(.character("s")), .input(.character("s")), .input(.character("s")))
        _ = WorkbenchReducerTests.send(&s, .input(.character("/")), .input(.key(.backspace)), .input(.key(.backspace)), .input(.key(.backspace)),
                                       .input(.key(.enter)))
        #expect(s.failureBrowser.shown == [0, 3, 2, 1])
        // i: IoU below 0.1, then 0.1 to 0.5, then at least 0.5, then any.
        _ = WorkbenchReducerTests.send(&s, .input(.character("i")))
        #expect(s.failureBrowser.shown == [0, 3, 2])
        _ = WorkbenchReducerTests.send(&s, .input(.character("i")))
        #expect(s.failureBrowser.shown == [1])
        _ = WorkbenchReducerTests.send(&s, .input(.character("i")), .input(.character("i")))
        #expect(s.failureBrowser.iouRange == 0 && s.failureBrowser.shown.count == 4)
        _ = WorkbenchReducerTests.send(&s, .input(.character("o")))
        #expect(s.failureBrowser.sort == .score && s.failureBrowser.shown == [1, 2, 0, 3])
    }

    @Test("Enter opens the failure on its image, zoomed on its box; n and p walk the list; moving away forgets it")
    func openFailure() {
        var s = Self.state()
        _ = WorkbenchReducerTests.send(&s, .input(.character("f")))
        // The first row is on a.png, the current image: no image load, the view zooms at once; the
        // prediction's mask is asked of the background and shown when it comes (if still wanted).
        var effects = WorkbenchReducerTests.send(&s, .input(.key(.enter)))
        #expect(s.overlay == .none && s.failureFocus?.row.reference == "annotation 1")
        guard case .loadFailureMask(0, let row)? = effects.first, effects.count == 1 else {
            Issue.record("expected one mask load: \(effects)")
            return
        }
        let mask = WorkbenchReducerTests.square(40, 30, 10)
        _ = WorkbenchReducerTests.send(&s, .failureMask(set: 0, index: row + 1, mask))
        #expect(s.failureFocus?.prediction == nil)
        _ = WorkbenchReducerTests.send(&s, .failureMask(set: 0, index: row, mask))
        #expect(s.failureFocus?.prediction == mask)
        #expect(s.viewport.centerX == 45 && s.viewport.centerY == 35 && s.viewport.zoom > 1)
        #expect(Workbench.statusText(s, layout: WorkbenchLayout(s)).contains("failure 1/4 missed cat small IoU 0.00"))
        // n: the next row is on c.png: the image opens, and the zoom waits for it.
        effects = WorkbenchReducerTests.send(&s, .input(.character("n")))
        #expect(s.current == 2 && s.failureFocus?.position == 1)
        #expect(effects.contains { if case .open(2, _) = $0 { true } else { false } })
        _ = WorkbenchReducerTests.send(&s, .imageLoaded(index: 2, RGBImage(width: 100, height: 80)))
        #expect(s.viewport.centerX == 45 && s.viewport.zoom > 1)
        _ = WorkbenchReducerTests.send(&s, .input(.character("p")))
        #expect(s.current == 0 && s.failureFocus?.position == 0)
        _ = WorkbenchReducerTests.send(&s, .input(.character("p")))
        #expect(s.message == "first failure")
        _ = WorkbenchReducerTests.send(&s, .input(.character("]")))
        #expect(s.failureFocus == nil && s.viewport == .fit)
    }

    @Test("without prediction sets, m and f say how to add them")
    func noSets() {
        var s = WorkbenchReducerTests.ready()
        _ = WorkbenchReducerTests.send(&s, .input(.character("m")))
        #expect(s.overlay == .none && s.message?.contains("[predictions]") == true)
        _ = WorkbenchReducerTests.send(&s, .input(.character("f")))
        #expect(s.overlay == .none)
    }

    @Test("c orders the images by B − A, worst first, undefined last; panes sit side by side or stacked")
    func compare() {
        var s = Self.state()
        #expect(s.predictions[1].evaluation == nil)
        var effects = WorkbenchReducerTests.send(&s, .input(.character("c")))
        #expect(s.overlay == .none && s.message == "the prediction sets are still being evaluated")
        let scoresB = ImageScores(metric: "F1@.5", byStem: ["a": 0.9, "b": 0.2, "c": 0.5])
        var a = Self.evaluation()
        a.scores = ImageScores(metric: "F1@.5", byStem: ["a": 0.5, "b": 0.6, "c": -1])
        s.predictions[0].evaluation = a
        s.predictions[1].evaluation = SetEvaluation(scores: scoresB, metrics: a.metrics, failures: [])
        effects = WorkbenchReducerTests.send(&s, .input(.character("c")))
        #expect(s.overlay == .compare)
        // b.png loses 0.4, a.png gains 0.4, c.png has no A value.
        #expect(s.compareView.order == [1, 0, 2])
        #expect(s.current == 1)
        #expect(effects.contains { if case .compare(0, 1) = $0 { true } else { false } })
        _ = WorkbenchReducerTests.send(&s, .input(.character("]")))
        #expect(s.current == 0 && s.compareView.position == 1)
        _ = WorkbenchReducerTests.send(&s, .input(.character("\t")))
        #expect(s.compareView.showClasses)
        #expect(Self.screen(s).contains { $0.contains("comparing") })
        _ = WorkbenchReducerTests.send(&s, .input(.key(.escape)))
        #expect(s.overlay == .none)

        let wide = Workbench.comparePanes(CellRect(column: 0, row: 0, columns: 120, rows: 30))
        #expect(wide.0.row == wide.1.row && wide.0.columns + wide.1.columns + 1 == 120)
        let narrow = Workbench.comparePanes(CellRect(column: 0, row: 0, columns: 60, rows: 30))
        #expect(narrow.0.column == narrow.1.column && narrow.1.row == 15)
    }

    @Test("a noc report is the metrics view's last page; a broken one is an error naming the file")
    func nocPage() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-noc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("noc.json").path
        try Data(#"{"model": "grabcut", "images": 50, "noc85": 2.88, "noc90": 3.62, "over_max_90": 0, "miou_at": [0.75, 0.82, 0.9]}"#.utf8)
            .write(to: URL(fileURLWithPath: good))
        let curve = try NocCurve.load(good)
        #expect(curve == [NocCurve(model: "grabcut", objects: 50, noc85: 2.88, noc90: 3.62, overMax90: 0, meanIoU: [0.75, 0.82, 0.9])])
        let bad = folder.appendingPathComponent("bad.json").path
        try Data(#"{"model": "grabcut", "noc90": 3}"#.utf8).write(to: URL(fileURLWithPath: bad))
        #expect { try NocCurve.load(bad) } throws: { "\($0)".contains(bad) && "\($0)".contains("miou_at") }
        // A count that is no count is an error, not a trap.
        try Data(#"{"model": "m", "images": 1e300, "noc85": 1, "noc90": 1, "over_max_90": 0, "miou_at": [0.5]}"#.utf8)
            .write(to: URL(fileURLWithPath: bad))
        #expect { try NocCurve.load(bad) } throws: { "\($0)".contains("'images' must be a count") }
        // A run with two models gives two pages.
        let pair = folder.appendingPathComponent("pair.json").path
        try Data(#"{"models": [{"model": "a", "images": 2, "noc85": 1, "noc90": 2, "over_max_90": 0, "miou_at": [0.9]},{"model": "b", "images": 2, "noc85": 1, "noc90": 3, "over_max_90": 1, "miou_at": [0.8]}], "paired": {}}"#.utf8)
            .write(to: URL(fileURLWithPath: pair))
        #expect(try NocCurve.load(pair).map(\.model) == ["a", "b"])
        // A report as segterm noc wrote it before the report became one Codable type (every key, per_image included).
        let old = folder.appendingPathComponent("old.json").path
        try Data(#"""
            {"ignore_value": 128, "images": 2, "images_dir": "/data/images", "masks_dir": "/data/masks", "max_clicks": 3,
             "miou_at": [0.5, 0.8, 0.91], "model": "grabcut", "noc85": 2.5, "noc90": 3, "noc90_at_max": 2, "over_max_90": 1,
             "per_image": [{"clicks": [{"positive": true, "x": 4, "y": 5}], "ious": [0.5], "name": "alpha", "prepare_s": 0.01, "seconds": [0.002]}],
             "prepare_s": 0.01, "spc": 0.002}
            """#.utf8).write(to: URL(fileURLWithPath: old))
        #expect(try NocCurve.load(old) == [NocCurve(model: "grabcut", objects: 2, noc85: 2.5, noc90: 3, overMax90: 1, meanIoU: [0.5, 0.8, 0.91])])
        let report = try JSONDecoder().decode(NoCReport.self, from: Data(contentsOf: URL(fileURLWithPath: old)))
        #expect(report.ignoreValue == 128 && report.nocAtMax90 == 2 && report.perImage?.first?.clicks.first == .init(x: 4, y: 5, positive: true))

        var s = Self.state()
        s.noc = curve
        _ = WorkbenchReducerTests.send(&s, .input(.character("m")), .input(.character("\t")), .input(.character("\t")))
        #expect(s.metricsView.set == 2)
        let lines = Self.screen(s)
        #expect(lines.contains { $0.contains("Interactive benchmark: grabcut") })
        #expect(lines.contains { $0.contains("NoC@85 2.88   NoC@90 3.62") })
        _ = WorkbenchReducerTests.send(&s, .input(.character("\t")))
        #expect(s.metricsView.set == 0)
        // Without prediction sets, m opens on the curve.
        var plain = WorkbenchReducerTests.ready()
        plain.noc = curve
        _ = WorkbenchReducerTests.send(&plain, .input(.character("m")))
        #expect(plain.overlay == .metrics && Self.screen(plain).contains { $0.contains("Interactive benchmark") })
    }

    @Test("Tab to another set starts at its top; n walks the list the browser shows after a filter change")
    func browserAfterChanges() {
        var s = Self.state()
        var b = Self.evaluation()
        b.failures = Array(b.failures.reversed())
        s.predictions[1].evaluation = SetEvaluation(scores: b.scores, metrics: b.metrics, failures: b.failures)
        _ = WorkbenchReducerTests.send(&s, .input(.character("f")), .input(.character("\t")))
        #expect(s.failureBrowser.set == 1 && s.failureBrowser.selected == 0)
        _ = WorkbenchReducerTests.send(&s, .input(.character("\t")))
        // Open the second row (c.png's missed cart), then narrow the browser to small rows.
        _ = WorkbenchReducerTests.send(&s, .input(.key(.down)), .input(.key(.enter)))
        #expect(s.failureFocus?.row.reference == "annotation 7")
        _ = WorkbenchReducerTests.send(&s, .input(.character("f")), .input(.character("s")), .input(.character("f")))
        #expect(s.failureBrowser.shown == [0, 3, 2] && s.failureBrowser.selected == 1)
        #expect(Workbench.statusText(s, layout: WorkbenchLayout(s)).contains("failure 2/3"))
        _ = WorkbenchReducerTests.send(&s, .input(.character("n")))
        #expect(s.failureFocus?.row.reference == "results[2]")
    }

    @Test("compare leaves out a set that failed; a failed comparison says why")
    func compareWithFailedSet() {
        var s = Self.state()
        s.predictions.append(PredictionColumn(name: "model-c", evaluation: Self.evaluation()))
        s.predictions[1].failed = true
        var effects = WorkbenchReducerTests.send(&s, .input(.character("c")))
        #expect(s.overlay == .compare && s.compareView.a == 0 && s.compareView.b == 2)
        #expect(effects.contains { if case .compare(0, 2) = $0 { true } else { false } })
        // 2 chooses the next evaluated set for B: the failed one is skipped, A is never B.
        effects = WorkbenchReducerTests.send(&s, .input(.character("2")))
        #expect(s.compareView.b == 2)
        _ = WorkbenchReducerTests.send(&s, .compareFailed(a: 0, b: 2, "not the same images"), .input(.character("\t")))
        #expect(Self.screen(s).contains { $0.contains("cannot compare: not the same images") })
    }
}
