import ArgumentParser
import Foundation
import SegCore
import SegEval

/// How `noc` and `noc merge` write their report: the table or JSON on stdout, the full JSON to a
/// file, and the paired bootstrap's settings when two models ran.
struct NocReportOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: "Output on stdout: table or json.") var format: Format = .table
    @Option(help: "Also write the full JSON report (with per-image clicks and IoUs) to this file.") var out: String?
    @Option(help: "Bootstrap resamples of the paired difference (two models).") var bootstrap = 1000
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0

    func validate() throws {
        guard bootstrap >= 1 else { throw ValidationError("--bootstrap must be positive") }
    }

    /// One model's report, or two with their paired comparison.
    func emit(_ runs: [(model: String, output: NoCBatch.Output)], images: String, masks: String, ignoreValue: UInt32?,
              maxClicks: Int) throws {
        let reports = runs.map {
            NoCReport(model: $0.model, images: images, masks: masks, ignoreValue: ignoreValue, maxClicks: maxClicks, run: $0.output,
                      perImage: true)
        }
        let json: String
        let table: String
        if reports.count == 2 {
            let paired = try PairedNoC(a: runs[0].output.records, b: runs[1].output.records, maxClicks: maxClicks,
                                       replicates: bootstrap, seed: seed)
            json = try Self.encoded(NoCPairReport(reports[0], reports[1], paired))
            table = NocTable.render(reports[0]) + "\n\n" + NocTable.render(reports[1]) + "\n\n"
                + NocTable.renderPaired(paired, reports[0], reports[1])
        } else {
            json = try Self.encoded(reports[0])
            table = NocTable.render(reports[0])
        }
        if let out { try FileIO.writeAtomically(Array(json.utf8), to: out) }
        print(format == .json ? json : table)
    }

    static func encoded<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// `segterm noc merge PART…`: the partial results of a sharded `noc` put together into the
/// unsharded run's report (README "On a cluster").
struct NocMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segterm noc merge",
        abstract: "Merge the partial results of `segterm noc --shard I/N --partial-out PART` into the whole run's report.",
        discussion: """
            Every shard 0..N-1 must be given exactly once, all from the same run (the same folders, \
            models and settings); every NoC, mean IoU, win and bootstrap interval is the unsharded \
            run's (the timings are the shards' own).
            """
    )

    @Argument(help: "The partial results, one per shard, in any order.")
    var partials: [String]

    @OptionGroup var report: NocReportOptions

    func validate() throws {
        guard !partials.isEmpty else { throw ValidationError("give the partial results to merge") }
    }

    func run() throws {
        let (run, models) = try NoCPartial.merge(partials)
        try report.emit(models, images: run.images, masks: run.masks, ignoreValue: run.ignoreValue, maxClicks: run.maxClicks)
    }
}
