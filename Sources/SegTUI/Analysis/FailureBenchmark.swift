import Dispatch
import Foundation
import SegCore
import SegEval

/// Times the failure browser on a large synthetic failure table: the sort orders computed once
/// when a set is evaluated (in the background), then what a keystroke costs in the browser (filter
/// by class, size and type, change the sort), each a reducer call as the interface makes it.
public enum FailureBenchmark {
    public struct Result: Sendable {
        public var rows: Int
        public var prepareMilliseconds: Double
        /// Per browser action: its name and the median and worst time.
        public var actions: [(name: String, median: Double, worst: Double)]
    }

    public static func run(rows count: Int, repeats: Int = 5) -> Result {
        let classes = (0..<80).map { "class-\($0)" }
        let sizes = ["small", "medium", "large"]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return seed
        }
        let rows = (0..<count).map { i -> FailureRow in
            let kind = FailureRow.Kind.allCases[Int(next() % 6)]
            return FailureRow(kind: kind, image: "images/\(String(format: "%06d", i / 100)).jpg", className: classes[Int(next() % 80)],
                              sizeBucket: sizes[Int(next() % 3)], area: Double(next() % 100_000),
                              iou: kind == .missed ? 0 : Double(next() % 1000) / 1000, score: kind == .missed ? -1 : Double(next() % 1000) / 1000,
                              box: COCOBox(x: 0, y: 0, width: 10, height: 10), reference: "results[\(i)]")
        }
        let start = DispatchTime.now()
        let evaluation = SetEvaluation(scores: ImageScores(metric: "F1@.5", byStem: [:]),
                                       metrics: MetricsTable(title: "", rowLabel: "class", columns: [], rows: [], summary: [], errors: []),
                                       failures: rows)
        let prepare = milliseconds(since: start)

        var s = WorkbenchState(rows: 60, columns: 200, colorMode: .direct, images: [ImageEntry(path: "/bench/a.png")], classes: [], modelName: "")
        s.predictions = [PredictionColumn(name: "bench", evaluation: evaluation)]
        let steps: [(String, [InputEvent])] = [
            ("open the browser (f)", [.character("f")]),
            ("size filter (s)", [.character("s")]),
            ("type filter (e)", [.character("e")]),
            ("class filter, one typed character", [.character("/"), .character("c")]),
            ("sort order (o)", [.character("o")]),
            ("move the selection", [.key(.down)]),
            ("draw the browser", []),
        ]
        var actions: [(String, Double, Double)] = []
        for (name, inputs) in steps {
            var times: [Double] = []
            for _ in 0..<repeats {
                var state = s
                if name != "open the browser (f)" { state = Workbench.reduce(state, .input(.character("f"))).0 }
                let t = DispatchTime.now()
                if inputs.isEmpty {
                    _ = Workbench.render(state)
                } else {
                    for input in inputs { state = Workbench.reduce(state, .input(input)).0 }
                }
                times.append(milliseconds(since: t))
            }
            times.sort()
            actions.append((name, times[times.count / 2], times.last!))
        }
        return Result(rows: count, prepareMilliseconds: prepare, actions: actions)
    }

    static func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }
}
