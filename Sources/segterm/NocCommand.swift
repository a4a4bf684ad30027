import ArgumentParser
import Foundation
import SegCore
import SegEval
import SegModels
import SegNN
#if canImport(Glibc)
import Glibc
#endif

struct Noc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noc",
        abstract: "The interactive benchmark: simulated clicks until 85 % and 90 % IoU (NoC), as RITM evaluates.",
        discussion: """
            Images and masks are paired by file stem. A mask pixel is object when its value (gray \
            level, palette index, largest colour channel) is non-zero and not --ignore-value; ignore \
            pixels count neither in IoU nor as click candidates. Each click goes to the interior-most \
            point of the larger error region (exact EDT, one pixel of zero padding, ties to the first \
            pixel in row-major order); every object gets --max-clicks clicks. Images run in parallel \
            on up to two cores. The JSON report has noc85, noc90, over_max_90 (never reach 90 %), \
            noc90_at_max (NoC@90 equal to the limit, RITM's count), miou_at, spc (seconds per click), \
            prepare_s and per_image. With two --model options, both models run on the same objects \
            under the same protocol, and the report adds the paired difference in clicks to 90 % \
            (B − A) with a seeded bootstrap interval, and the objects where each model wins most: \
            the JSON is {"models": [A, B], "paired": {...}}. On a cluster: --shard I/N --partial-out PART \
            per shard, then `segterm noc merge PART…` (README "On a cluster").
            """,
        subcommands: [NocMerge.self]
    )

    @Option(help: "Folder of images.") var images: String
    @Option(help: "Folder of masks, paired with the images by file stem.") var masks: String
    @Option(name: .customLong("model"),
            help: "The model: grabcut (settings as grabcut:key=value,…), or a SAM / MobileSAM checkpoint; twice to compare two.")
    var models: [String] = []
    @Option(help: "Mask value that marks pixels to ignore (128 for the GrabCut set).") var ignoreValue: UInt32?
    @Option(help: "Clicks per object.") var maxClicks = 20
    @Option(help: "Only the first N pairs (in stem order).") var limit: Int?
    @Option(help: "Images processed at once (at most the number of cores).") var jobs = 2
    @OptionGroup var report: NocReportOptions
    @OptionGroup var sharding: ShardOptions
    @Option(help: "Write this shard's records for `segterm noc merge` to this file instead of the report.")
    var partialOut: String?
    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        guard maxClicks >= 1 && maxClicks <= 1000 else { throw ValidationError("--max-clicks must be in 1…1000") }
        if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be positive") }
        guard models.count <= 2 else { throw ValidationError("give one --model, or two to compare them") }
    }

    func run() throws {
        let imageFiles = try listFolder(images)
        let maskFiles = try listFolder(masks)
        var (pairs, unmatched, _) = try StemPairing.pair(images: imageFiles, masks: maskFiles)
        for m in unmatched { printError("segterm: \(masks)/\(m): no image with this stem, skipped") }
        guard !pairs.isEmpty else { throw SegError(.invalid, file: masks, "no mask pairs with an image in \(images)") }
        if let limit { pairs = Array(pairs.prefix(limit)) }
        let shard = try sharding.resolve()
        if shard != nil && partialOut == nil { throw ValidationError("--shard writes a partial result: give --partial-out PART") }
        // The split is by stem, so every shard agrees on it whatever order the folder lists in.
        let owned = (shard ?? .whole).select(pairs) { $0.stem }
        let specs = models.isEmpty ? ["grabcut"] : models
        // Fingerprinted before the long run, so a folder changed while it runs does not pass as the one clicked.
        let fingerprint = try partialOut.map { _ in
            try NoCPartial.fingerprint(images: images, masks: masks, models: specs, maxClicks: maxClicks, ignoreValue: ignoreValue,
                                       limit: limit, objects: pairs.count)
        }

        let workers = min(jobs, Threads.coreCount)
        let runs = try specs.map { model in
            // Neural models run their own threads inside each call: share the cores with the image workers.
            if !ModelRegistry.isBuiltIn(model) { Threads.configure(max(1, Threads.coreCount / workers)) }
            let segmenter = try ModelRegistry.segmenter(named: model)
            let batch = NoCBatch(pairs: owned, imageFolder: images, maskFolder: masks, ignoreValue: ignoreValue,
                                 maxClicks: maxClicks, limits: imageOptions.limits, jobs: workers)
            let output = try batch.run(progress: isatty(2) != 0 ? ProgressBar("clicking", minimumTotal: 1).callback : nil) { image, path in
                try Self.session(segmenter, image, path)
            }
            return (model: model, output: output)
        }
        if let partialOut, let fingerprint {
            let runs = runs.map { NoCPartial.Run(model: $0.model, output: $0.output) }
            try NoCPartial(shard: shard ?? .whole, fingerprint: fingerprint, runs: runs).write(to: partialOut)
            print("shard \(shard ?? .whole): \(owned.count) of \(pairs.count) objects in \(partialOut)")
            return
        }
        try report.emit(runs, images: images, masks: masks, ignoreValue: ignoreValue, maxClicks: maxClicks)
    }

    /// One image prepared for the model: each call segments with the clicks so far, the previous
    /// mask as the model's hint.
    static func session(_ segmenter: AnySegmenter, _ image: RGBImage, _ path: String) throws -> NoCBatch.Session {
        let prepared: AnySegmenter.Prepared
        do { prepared = try segmenter.prepare(image) } catch let error as SegError { throw error.about(path) }
        var previous: Candidate?
        return { clicks in
            let prompts = Prompts(points: clicks.map { PromptPoint(x: Double($0.x), y: Double($0.y), positive: $0.positive) })
            let candidates: [Candidate]
            do {
                candidates = try segmenter.segment(prepared, prompts: prompts, previous: previous, multimask: false)
            } catch let error as SegError { throw error.about(path) }
            guard let best = candidates.best else { throw SegError(.invalid, file: path, "the model returned no mask") }
            previous = best
            return best.mask
        }
    }

    func listFolder(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SegError(.notFound, file: path, "no such folder")
        }
        guard isDirectory.boolValue else { throw SegError(.invalid, file: path, "not a folder") }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw SegError(.unreadable, file: path, "cannot list the folder")
        }
    }
}

/// The table and the mIoU-per-click chart for the terminal.
enum NocTable {
    static func render(_ report: NoCReport) -> String {
        let maxClicks = report.maxClicks ?? report.meanIoU.count
        var lines: [String] = []
        let ignore = report.ignoreValue.map { ", ignore value \($0)" } ?? ""
        lines.append("model \(report.model): \(report.objects) objects, \(maxClicks) clicks each\(ignore)")
        lines.append(String(format: "  NoC@85 %.2f   NoC@90 %.2f   never 90%%: %d (NoC@90 = %d: %d)",
                            report.noc85, report.noc90, report.overMax90, maxClicks, report.nocAtMax90 ?? 0))
        let marks = [1, 3, 5, 10, 20].filter { $0 <= min(maxClicks, report.meanIoU.count) }
        lines.append("  mIoU@" + marks.map(String.init).joined(separator: "/") + "  "
                     + marks.map { String(format: "%.3f", report.meanIoU[$0 - 1]) }.joined(separator: " / "))
        lines.append(String(format: "  %.1f ms per click, %.0f ms to prepare an image", (report.secondsPerClick ?? 0) * 1000,
                            (report.prepareSeconds ?? 0) * 1000))
        lines.append("")
        lines.append(contentsOf: chart(report.meanIoU))
        return lines.joined(separator: "\n")
    }

    /// The paired part of an A/B run.
    static func renderPaired(_ p: PairedNoC, _ a: NoCReport, _ b: NoCReport) -> String {
        var lines = ["B \(b.model) against A \(a.model), clicks to 90 % per object (B − A; negative: B needs fewer)"]
        lines.append(String(format: "  mean %+.2f clicks, 95%% CI [%+.2f, %+.2f] (%d bootstrap resamples of the objects, seed %llu)",
                            p.meanDelta, p.interval.low, p.interval.high, p.replicates, p.seed))
        lines.append(String(format: "  B wins on %d objects, A on %d, tied on %d; seconds per click: A %.4f, B %.4f",
                            p.differences.filter { $0.delta < 0 }.count, p.differences.filter { $0.delta > 0 }.count,
                            p.differences.filter { $0.delta == 0 }.count, a.secondsPerClick ?? 0, b.secondsPerClick ?? 0))
        for (title, rows) in [("  where B wins most:", p.bWins(5)), ("  where A wins most:", p.aWins(5))] where !rows.isEmpty {
            lines.append(title + " " + rows.map { "\($0.name) (\($0.a) → \($0.b))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    /// Mean IoU after each click as columns of eighth-blocks, from the lowest value (rounded down to
    /// a tenth) to 1.
    static func chart(_ values: [Double], rows: Int = 8) -> [String] {
        guard !values.isEmpty else { return [] }
        let low = max(0, ((values.min() ?? 0) * 10).rounded(.down) / 10)
        let span = max(1e-9, 1 - low)
        let blocks = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        var out: [String] = ["  mean IoU per click"]
        for r in stride(from: rows - 1, through: 0, by: -1) {
            let level = low + span * Double(r + 1) / Double(rows)
            var line = String(format: "  %.2f ┤", level)
            for v in values {
                let eighths = Int((((v - low) / span) * Double(rows * 8)).rounded())
                let inRow = min(8, max(0, eighths - r * 8))
                line += blocks[inRow] + blocks[inRow] + " "
            }
            out.append(line)
        }
        out.append("       └" + String(repeating: "───", count: values.count))
        out.append("        " + (1...values.count).map { $0 % 5 == 0 || $0 == 1 ? String(format: "%-3d", $0) : "   " }.joined())
        return out
    }
}
