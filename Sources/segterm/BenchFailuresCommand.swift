import ArgumentParser
import Foundation
import SegTUI

struct BenchFailures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failures",
        abstract: "Time the failure browser's filters and sorts on a large synthetic failure table."
    )

    @Option(help: "Failure rows.") var rows = 100_000
    @Option(help: "Times each action runs (median and worst are printed).") var repeats = 5

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
