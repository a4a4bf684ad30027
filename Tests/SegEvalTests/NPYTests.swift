import Foundation
import Testing
import SegCore
@testable import SegEval

/// Semantic predictions saved as `.npy` (mmsegmentation 0.x), written by numpy
/// (scripts/make_npy_fixtures.py) in several dtypes and layouts.
@Suite(".npy label maps")
struct NPYTests {
    @Test("every dtype and layout numpy wrote reads as the PNG it came from")
    func sameLabels() throws {
        for k in 0..<6 {
            let npy = try ImageFile.read(Fixtures.url("semantic", "pred-npy", "img\(k).npy").path).labelMap()
            let png = try ImageFile.read(Fixtures.url("semantic", "pred", "img\(k).png").path).labelMap()
            #expect(npy.width == png.width && npy.height == png.height)
            #expect(npy.labels == png.labels, "img\(k)")
        }
    }

    @Test("eval on the .npy folder gives the numbers of the PNG folder")
    func sameEvaluation() throws {
        func run(_ pred: String) throws -> JSONValue {
            var r = EvalRequest(groundTruth: Fixtures.url("semantic", "gt").path, predictions: Fixtures.url("semantic", pred).path)
            r.classesFile = Fixtures.url("semantic", "classes.txt").path
            r.workers = 2
            return try Evaluation.run(r).output.json
        }
        let png = try run("pred"), npy = try run("pred-npy")
        #expect(png["cumulative"] == npy["cumulative"] && png["confusion"] == npy["confusion"])
        #expect(npy["cumulative"]?["mIoU"] != nil)
    }

    static func npy(descr: String, fortran: Bool = false, shape: String, data: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
    }

    @Test("floats, 3-D arrays, negative labels, truncated data and absurd shapes are errors saying so")
    func badInput() throws {
        let ok = Self.npy(descr: "|u1", shape: "(2, 3)", data: [0, 1, 2, 3, 4, 5])
        #expect(try ImageFile.decode(ok).labelMap().labels == [0, 1, 2, 3, 4, 5])
        let cases: [([UInt8], String)] = [
            (Self.npy(descr: "<f4", shape: "(1, 1)", data: [0, 0, 0, 0]), "dtype is '<f4'"),
            (Self.npy(descr: "|u1", shape: "(2, 2, 3)", data: [UInt8](repeating: 0, count: 12)), "2-D array"),
            (Self.npy(descr: "<i2", shape: "(1, 1)", data: [0xFF, 0xFF]), "label -1"),
            (Self.npy(descr: "<i8", shape: "(4, 4)", data: [UInt8](repeating: 0, count: 20)), "promises 16 values"),
            (Self.npy(descr: "|u1", shape: "(4611686018427387904, 4)", data: []), "above the limit"),
            (Array(ok.prefix(9)), "not a complete .npy header"),
            (Self.npy(descr: "|O", shape: "(1, 1)", data: [0]), "dtype is '|O'"),
        ]
        for (bytes, message) in cases {
            #expect { try ImageFile.decode(bytes) } throws: { "\($0)".contains(message) }
        }
    }
}

/// mmsegmentation's ground-truth options against its own `eval_metrics` (scripts/make_mmseg_fixtures.py).
@Suite("mmsegmentation's label_map and reduce_zero_label")
struct MMSegOptionTests {
    struct Case: Decodable, CustomTestStringConvertible {
        var name: String
        var classes: Int
        var reduceZeroLabel: Bool
        var labelMap: [String: UInt32]
        var aAcc: Double
        var IoU: [Double?]
        var Dice: [Double?]
        var Acc: [Double?]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        struct File: Decodable { var cases: [Case] }
        guard let data = try? Data(contentsOf: Fixtures.url("semantic", "mmseg.json")) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
    }()

    @Test("the fixture has three cases")
    func fixture() { #expect(Self.cases.count == 3) }

    @Test("per-class IoU, Dice, accuracy and aAcc equal mmsegmentation's", arguments: cases)
    func equal(_ c: Case) throws {
        var r = EvalRequest(groundTruth: Fixtures.url("semantic", "gt").path, predictions: Fixtures.url("semantic", "pred").path)
        r.task = .semantic
        r.classNames = (0..<c.classes).map { "class\($0)" }
        r.reduceZeroLabel = c.reduceZeroLabel
        r.labelMap = Dictionary(uniqueKeysWithValues: c.labelMap.map { (UInt32($0.key)!, $0.value) })
        r.workers = 2
        guard case .semantic(let ev) = try Evaluation.run(r).engine else { Issue.record("not semantic"); return }
        let s = ev.cumulative
        func same(_ ours: [Double], _ theirs: [Double?]) -> Bool {
            ours.count == theirs.count && zip(ours, theirs).allSatisfy { a, b in b.map { abs(a - $0) <= 1e-12 } ?? (a <= -1 || a.isNaN) }
        }
        #expect(same(s.iou, c.IoU), "\(s.iou) vs \(c.IoU)")
        #expect(same(s.dice, c.Dice), "\(s.dice) vs \(c.Dice)")
        #expect(same(s.recall, c.Acc), "\(s.recall) vs \(c.Acc)")
        #expect(abs(s.pixelAccuracy - c.aAcc) <= 1e-12)
    }
}

/// torchmetrics' `include_background` (scripts/make_torchmetrics_fixtures.py; torchmetrics
/// computes in float32, so its figures agree to about 1e-7).
@Suite("torchmetrics' include_background")
struct IncludeBackgroundTests {
    struct Case: Decodable { var includeBackground: Bool; var mIoU: Double; var perClass: [Double] }

    static let cases: [Case] = {
        struct File: Decodable { var cases: [Case] }
        guard let data = try? Data(contentsOf: Fixtures.url("semantic", "torchmetrics.json")) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
    }()

    @Test("MeanIoU over (image, class) pairs and per class equal torchmetrics', with and without the background; the means leave class 0 out")
    func equal() throws {
        #expect(Self.cases.count == 2)
        for c in Self.cases {
            var r = EvalRequest(groundTruth: Fixtures.url("semantic", "gt-noignore").path,
                                predictions: Fixtures.url("semantic", "pred-inrange").path)
            r.classNames = ["background", "road", "car", "person"]
            r.includeBackground = c.includeBackground
            r.workers = 2
            let result = try Evaluation.run(r)
            guard case .semantic(let ev) = result.engine else { Issue.record("not semantic"); return }
            #expect(abs(ev.meanIoUOverImageClassPairs - c.mIoU) <= 1e-6, "\(ev.meanIoUOverImageClassPairs) vs \(c.mIoU)")
            let ours = Array(ev.perImageMean.iou[(c.includeBackground ? 0 : 1)...])
            #expect(ours.count == c.perClass.count && zip(ours, c.perClass).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(ours) vs \(c.perClass)")
            let counted = Array(ev.cumulative.iou[(c.includeBackground ? 0 : 1)...]).filter { $0 > -1 }
            #expect(abs(ev.cumulative.meanIoU - counted.reduce(0, +) / Double(counted.count)) <= 1e-12)
            #expect(result.output.json["includeBackground"] == .bool(c.includeBackground))
        }
    }
}
