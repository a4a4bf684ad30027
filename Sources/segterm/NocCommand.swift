import ArgumentParser
import Dispatch
import Foundation
import SegCore
import SegEval
import SegModels
import SegNN
import Synchronization
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
            the JSON is {"models": [A, B], "paired": {...}}.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: "Folder of images.") var images: String
    @Option(help: "Folder of masks, paired with the images by file stem.") var masks: String
    @Option(name: .customLong("model"),
            help: "The model: grabcut (settings as grabcut:key=value,…), or a SAM / MobileSAM checkpoint; twice to compare two.")
    var models: [String] = []
    @Option(help: "Bootstrap resamples of the paired difference (two models).") var bootstrap = 1000
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0
    @Option(help: "Mask value that marks pixels to ignore (128 for the GrabCut set).") var ignoreValue: UInt32?
    @Option(help: "Clicks per object.") var maxClicks = 20
    @Option(help: "Output on stdout: table or json.") var format: Format = .table
    @Option(help: "Also write the full JSON report (with per-image clicks and IoUs) to this file.") var out: String?
    @Option(help: "Only the first N pairs (in stem order).") var limit: Int?
    @Option(help: "Images processed at once (at most the number of cores).") var jobs = 2
    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        guard maxClicks >= 1 && maxClicks <= 1000 else { throw ValidationError("--max-clicks must be in 1…1000") }
        if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be positive") }
        guard models.count <= 2 else { throw ValidationError("give one --model, or two to compare them") }
        guard bootstrap >= 1 else { throw ValidationError("--bootstrap must be positive") }
    }

    func run() throws {
        let imageFiles = try listFolder(images)
        let maskFiles = try listFolder(masks)
        var (pairs, unmatched, _) = try StemPairing.pair(images: imageFiles, masks: maskFiles)
        for m in unmatched { printError("segterm: \(masks)/\(m): no image with this stem, skipped") }
        guard !pairs.isEmpty else { throw SegError(.invalid, file: masks, "no mask pairs with an image in \(images)") }
        if let limit { pairs = Array(pairs.prefix(limit)) }

        let workers = min(jobs, Threads.coreCount)
        let reports = try (models.isEmpty ? ["grabcut"] : models).map { model in
            // Neural models run their own threads inside each call: share the cores with the image workers.
            if !ModelRegistry.isBuiltIn(model) { Threads.configure(max(1, Threads.coreCount / workers)) }
            let segmenter = try ModelRegistry.segmenter(named: model)
            let run = try NocRunner(pairs: pairs, imageFolder: images, maskFolder: masks, segmenter: segmenter,
                                    ignoreValue: ignoreValue, maxClicks: maxClicks, limits: imageOptions.limits,
                                    jobs: workers)
                .run(progress: isatty(2) != 0)
            return NocReport(model: model, images: images, masks: masks, ignoreValue: ignoreValue,
                             summary: NoC.Summary(records: run.records, maxClicks: maxClicks),
                             prepareSeconds: run.prepareSeconds, records: run.records)
        }
        let text: String
        if reports.count == 2 {
            let paired = try PairedNoC(a: reports[0].records, b: reports[1].records, maxClicks: maxClicks,
                                       replicates: bootstrap, seed: seed)
            text = format == .json ? try NocReport.encodedPair(reports[0], reports[1], paired)
                : NocTable.render(reports[0]) + "\n\n" + NocTable.render(reports[1]) + "\n\n" + NocTable.renderPaired(paired, reports[0], reports[1])
            if let out { try FileIO.writeAtomically(Array(try NocReport.encodedPair(reports[0], reports[1], paired).utf8), to: out) }
        } else {
            text = format == .json ? try reports[0].encoded(perImage: true) : NocTable.render(reports[0])
            if let out { try FileIO.writeAtomically(Array(try reports[0].encoded(perImage: true).utf8), to: out) }
        }
        print(text)
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

/// Runs the benchmark over image pairs on a few worker threads. Each image is independent, so
/// the records (clicks and IoUs) do not depend on scheduling; only the timings do.
struct NocRunner: Sendable {
    let pairs: [StemPairing.Pair]
    let imageFolder: String
    let maskFolder: String
    let segmenter: AnySegmenter
    let ignoreValue: UInt32?
    let maxClicks: Int
    let limits: ImageFile.Limits
    let jobs: Int

    struct Output {
        var records: [NoC.Record]
        var prepareSeconds: [Double]
    }

    func run(progress: Bool) throws -> Output {
        let count = pairs.count
        let results = Mutex<[Result<(NoC.Record, Double), SegError>?]>(Array(repeating: nil, count: count))
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let bar = progress ? ProgressBar("clicking", minimumTotal: 1) : nil
        bar?.update(0, count)
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while true {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard k < count else { return }
                let outcome: Result<(NoC.Record, Double), SegError>
                do {
                    outcome = .success(try evaluate(pairs[k]))
                } catch let error as SegError {
                    outcome = .failure(error)
                } catch {
                    outcome = .failure(SegError(.invalid, file: pairs[k].image, "\(error)"))
                }
                results.withLock { $0[k] = outcome }
                let finished = done.wrappingAdd(1, ordering: .relaxed).newValue
                bar?.update(finished, count)
            }
        }
        var records: [NoC.Record] = []
        var prepare: [Double] = []
        for r in results.withLock({ $0 }) {
            switch r {
            case .success(let (record, seconds))?: records.append(record); prepare.append(seconds)
            case .failure(let error)?: throw error
            case nil: throw SegError(.invalid, file: imageFolder, "an image was not evaluated")
            }
        }
        return Output(records: records, prepareSeconds: prepare)
    }

    func evaluate(_ pair: StemPairing.Pair) throws -> (NoC.Record, Double) {
        let imagePath = imageFolder + "/" + pair.image
        let maskPath = maskFolder + "/" + pair.mask
        let image = try ImageFile.read(imagePath, limits: limits).rgbImage()
        let (truth, ignored) = try ImageFile.read(maskPath, limits: limits).objectMask(ignoreValue: ignoreValue)
        guard truth.size == image.size else {
            throw SegError(.invalid, file: maskPath, "the mask is \(truth.size) but the image is \(image.size)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let prepared: AnySegmenter.Prepared
        do { prepared = try segmenter.prepare(image) } catch let error as SegError { throw error.about(imagePath) }
        let elapsed = clock.now - start
        var previous: Candidate?
        let record = try NoC.run(name: pair.stem, truth: truth, ignore: ignoreValue == nil ? nil : ignored,
                                 maxClicks: maxClicks) { clicks in
            let prompts = Prompts(points: clicks.map { PromptPoint(x: Double($0.x), y: Double($0.y), positive: $0.positive) })
            let candidates: [Candidate]
            do {
                candidates = try segmenter.segment(prepared, prompts: prompts, previous: previous, multimask: false)
            } catch let error as SegError { throw error.about(imagePath) }
            guard let best = candidates.best else {
                throw SegError(.invalid, file: imagePath, "the model returned no mask")
            }
            previous = best
            return best.mask
        }
        return (record, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}

/// The JSON report: summary keys first-level, then one entry per object.
struct NocReport: Encodable {
    let model: String
    let images: String
    let masks: String
    let ignoreValue: UInt32?
    let summary: NoC.Summary
    let prepareSeconds: [Double]
    let records: [NoC.Record]

    struct Click: Encodable { let x: Int, y: Int, positive: Bool }
    struct PerImage: Encodable {
        let name: String
        let clicks: [Click]
        let ious: [Double]
        let seconds: [Double]
        let prepare_s: Double
    }

    struct Body: Encodable {
        let model: String
        let images_dir: String
        let masks_dir: String
        let ignore_value: UInt32?
        let max_clicks: Int
        let images: Int
        let noc85: Double
        let noc90: Double
        let over_max_90: Int
        let noc90_at_max: Int
        let miou_at: [Double]
        let spc: Double
        let prepare_s: Double
        let per_image: [PerImage]?
    }

    var meanPrepareSeconds: Double { prepareSeconds.isEmpty ? 0 : prepareSeconds.reduce(0, +) / Double(prepareSeconds.count) }

    /// Two runs and their paired comparison: {"models": [A, B], "paired": {...}}.
    static func encodedPair(_ a: NocReport, _ b: NocReport, _ paired: PairedNoC) throws -> String {
        struct Difference: Encodable { let name: String; let a: Int; let b: Int; let delta: Int }
        struct Paired: Encodable {
            let metric = "noc90"
            let mean_delta: Double
            let ci95: [Double]
            let bootstrap: Int
            let seed: UInt64
            let b_wins: [Difference]
            let a_wins: [Difference]
            let per_image: [Difference]
        }
        struct Pair: Encodable { let models: [Body]; let paired: Paired }
        func difference(_ d: PairedNoC.Difference) -> Difference { Difference(name: d.name, a: d.a, b: d.b, delta: d.delta) }
        let body = Pair(models: [a.body(perImage: true), b.body(perImage: true)],
                        paired: Paired(mean_delta: paired.meanDelta, ci95: [paired.interval.low, paired.interval.high],
                                       bootstrap: paired.replicates, seed: paired.seed, b_wins: paired.bWins(5).map(difference),
                                       a_wins: paired.aWins(5).map(difference), per_image: paired.differences.map(difference)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(body), as: UTF8.self)
    }

    func encoded(perImage: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(body(perImage: perImage)), as: UTF8.self)
    }

    func body(perImage: Bool) -> Body {
        let body = Body(model: model, images_dir: images, masks_dir: masks, ignore_value: ignoreValue,
                        max_clicks: summary.maxClicks, images: summary.images, noc85: summary.noc85, noc90: summary.noc90,
                        over_max_90: summary.overMax90, noc90_at_max: summary.nocAtMax90, miou_at: summary.miouAt,
                        spc: summary.secondsPerClick, prepare_s: meanPrepareSeconds,
                        per_image: perImage ? zip(records, prepareSeconds).map { r, p in
                            PerImage(name: r.name, clicks: r.clicks.map { Click(x: $0.x, y: $0.y, positive: $0.positive) },
                                     ious: r.ious, seconds: r.seconds, prepare_s: p)
                        } : nil)
        return body
    }
}

/// The table and the mIoU-per-click chart for the terminal.
enum NocTable {
    static func render(_ report: NocReport) -> String {
        let s = report.summary
        var lines: [String] = []
        let ignore = report.ignoreValue.map { ", ignore value \($0)" } ?? ""
        lines.append("model \(report.model): \(s.images) objects, \(s.maxClicks) clicks each\(ignore)")
        lines.append(String(format: "  NoC@85 %.2f   NoC@90 %.2f   never 90%%: %d (NoC@90 = %d: %d)",
                            s.noc85, s.noc90, s.overMax90, s.maxClicks, s.nocAtMax90))
        let marks = [1, 3, 5, 10, 20].filter { $0 <= s.maxClicks }
        lines.append("  mIoU@" + marks.map(String.init).joined(separator: "/") + "  "
                     + marks.map { String(format: "%.3f", s.miouAt[$0 - 1]) }.joined(separator: " / "))
        lines.append(String(format: "  %.1f ms per click, %.0f ms to prepare an image", s.secondsPerClick * 1000,
                            report.meanPrepareSeconds * 1000))
        lines.append("")
        lines.append(contentsOf: chart(s.miouAt))
        return lines.joined(separator: "\n")
    }

    /// The paired part of an A/B run.
    static func renderPaired(_ p: PairedNoC, _ a: NocReport, _ b: NocReport) -> String {
        var lines = ["B \(b.model) against A \(a.model), clicks to 90 % per object (B − A; negative: B needs fewer)"]
        lines.append(String(format: "  mean %+.2f clicks, 95%% CI [%+.2f, %+.2f] (%d bootstrap resamples of the objects, seed %llu)",
                            p.meanDelta, p.interval.low, p.interval.high, p.replicates, p.seed))
        lines.append(String(format: "  B wins on %d objects, A on %d, tied on %d; seconds per click: A %.4f, B %.4f",
                            p.differences.filter { $0.delta < 0 }.count, p.differences.filter { $0.delta > 0 }.count,
                            p.differences.filter { $0.delta == 0 }.count, a.summary.secondsPerClick, b.summary.secondsPerClick))
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
