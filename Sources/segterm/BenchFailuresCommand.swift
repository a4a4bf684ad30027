import ArgumentParser
import Dispatch
import Foundation
import SegCore
import SegEval
import SegTUI

struct BenchFailures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failures",
        abstract: "Time the failure browser's filters and sorts on a large synthetic failure table."
    )

    @Option(help: "Failure rows.") var rows = 100_000
    @Option(help: "Times each action runs (median and worst are printed).") var repeats = 5

    func validate() throws {
        guard rows >= 0 else { throw ValidationError("--rows must not be negative") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be positive") }
    }

    func run() throws {
        let result = FailureBenchmark.run(rows: rows, repeats: repeats)
        print("failure browser, \(result.rows) rows:")
        print(String(format: "  sort orders, once per evaluated set (background): %.1f ms", result.prepareMilliseconds))
        for action in result.actions {
            print("  " + action.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                  + String(format: " median %6.2f ms   worst %6.2f ms", action.median, action.worst))
        }
    }
}

/// Times the failure browser on a large synthetic failure table: the sort orders computed once
/// when a set is evaluated (in the background), then what a keystroke costs in the browser (filter
/// by class, size and type, change the sort), each a reducer call as the interface makes it.
enum FailureBenchmark {
    struct Result: Sendable {
        var rows: Int
        var prepareMilliseconds: Double
        /// Per browser action: its name and the median and worst time.
        var actions: [(name: String, median: Double, worst: Double)]
    }

    static func run(rows count: Int, repeats: Int = 5) -> Result {
        let classes = (0..<80).map { "class-\($0)" }
        let sizes = SizeBucket.allCases
        var generator = SeededGenerator(seed: 1)
        func next() -> UInt64 { generator.next() }
        let rows = (0..<count).map { i -> FailureRow in
            let kind = FailureRow.Kind.allCases[Int(next() % 6)]
            return FailureRow(kind: kind, image: "images/\(String(format: "%06d", i / 100)).jpg", className: classes[Int(next() % 80)],
                              sizeBucket: sizes[Int(next() % 3)], area: Double(next() % 100_000),
                              iou: kind == .missed ? 0 : Double(next() % 1000) / 1000, score: kind == .missed ? nil : Double(next() % 1000) / 1000,
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
            actions.append((name, times[times.count / 2], times[times.count - 1]))  // repeats ≥ 1: validated
        }
        return Result(rows: count, prepareMilliseconds: prepare, actions: actions)
    }

    static func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }
}
