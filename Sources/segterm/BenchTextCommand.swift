import ArgumentParser
import Foundation
import SegCore
import SegModels
import SegNN

/// `segterm bench text`: SAM 3's concept prompt on a prepared image, the workbench's and autolabel's
/// per-phrase cost — the text encoder (its cache emptied before every run), the fusion encoder, the
/// decoder, the segmentation head and the kept masks upsampled to the image — as the official
/// `Sam3Processor.set_text_prompt` does on a state from `set_image`
/// (scripts/bench_sam3_text_peers.py times both in one run).
struct BenchText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Time a SAM 3 phrase (and exemplar boxes) on a prepared image: text encoder + detector + kept masks.",
        discussion: "The image is prepared once (not timed in the phrase figures); medians over --runs after --warmup."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "SAM 3 checkpoint (sam3.pt).") var model: String
    @Option(help: "Image (default: synthetic 1024x1024 noise, as bench model).") var image: String?
    @Option(help: "The phrase.") var text = "yellow school bus"
    @Option(help: "Exemplar box X0,Y0,X1,Y1[:0|1] in image pixels (repeatable).") var box: [String] = []
    @Option(help: "Score threshold (the official default 0.5).") var threshold: Float = SAM3ConceptDetector.defaultThreshold
    @Option(help: "CLIP's BPE vocabulary (default: beside the checkpoint).") var vocab: String?
    @Option(help: "Timed runs.") var runs = 5
    @Option(help: "Untimed warm-up runs.") var warmup = 1
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Output format: text or json.") var format: Format = .text
    @Flag(help: "Also print the time per detector phase (text encoder, fusion encoder parts, decoder, segmentation head).")
    var phases = false
    @Option(help: "Keep the prepared image in FILE (raw floats): read it when it is there and belongs to this model, else prepare and write it. Spares the encoder's minutes when measuring the phrase path again.")
    var preparedFile: String?

    func validate() throws {
        guard runs > 0, warmup >= 0 else { throw ValidationError("run counts must be positive") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        Threads.configure(threads)
        let t0 = DispatchTime.now()
        let sam = try SAMModel.load(checkpoint: model)
        let concept = try SAM3ConceptDetector(model: sam, vocabulary: vocab)
        let loadMs = BenchTiming.ms(since: t0)
        let rgb = try BenchTiming.image(image)
        let W = Double(rgb.width), H = Double(rgb.height)
        let exemplars = try box.map { b -> SAM3Exemplar in
            let (r, positive) = try PromptParsing.exemplar(b)
            return SAM3Exemplar(x0: Float(r.x0 / W), y0: Float(r.y0 / H), x1: Float(r.x1 / W), y1: Float(r.y1 / H), positive: positive)
        }
        let tp = DispatchTime.now()
        let stored = preparedFile.flatMap { PreparedFile.read($0, model: sam, image: rgb) }
        let e = try stored ?? sam.prepare(rgb)
        let prepareMs = BenchTiming.ms(since: tp)
        if let preparedFile, stored == nil { PreparedFile.write(e, model: sam, image: rgb, to: preparedFile) }
        var kept = 0
        HieraProfile.reset()
        HieraProfile.enable(phases)
        let phrase = try BenchTiming.time(runs: runs, warmup: warmup) {
            concept.text.forgetPhrases()
            kept = try concept.detect(prepared: e, phrase: text, exemplars: exemplars, threshold: threshold).count
        }
        HieraProfile.enable(false)
        let profile = HieraProfile.report().map { (phase: $0.phase, wallMs: $0.wallMs / Double(runs + warmup), cpuMs: $0.cpuMs / Double(runs + warmup)) }
        let textOnly = try BenchTiming.time(runs: runs, warmup: warmup) {
            concept.text.forgetPhrases()
            _ = try concept.text.features(text)
        }
        // The text features cached, as the second image of a labelling session with the same phrase.
        let cached = try BenchTiming.time(runs: runs, warmup: warmup) {
            _ = try concept.detect(prepared: e, phrase: text, exemplars: exemplars, threshold: threshold)
        }
        struct Report: Encodable {
            let model: String, image: String, width: Int, height: Int, phrase: String, exemplars: Int, threshold: Float
            let threads: Int, blasCore: String, kernels: String, loadMs: Double, prepareMs: Double
            let phraseMs: Double, phraseMinMs: Double, phraseCpuMs: Double
            let textEncoderMs: Double, detectorWithCachedTextMs: Double, kept: Int, runs: Int
            let phases: [Phase]
        }
        struct Phase: Encodable { let phase: String, wallMs: Double, cpuMs: Double }
        let r = Report(model: sam.name, image: image ?? "synthetic 1024x1024", width: rgb.width, height: rgb.height, phrase: text,
                       exemplars: exemplars.count, threshold: threshold, threads: Threads.count, blasCore: SegNN.blasCoreName,
                       kernels: SegNN.kernelName, loadMs: loadMs, prepareMs: prepareMs,
                       phraseMs: phrase.median, phraseMinMs: phrase.min, phraseCpuMs: phrase.cpu,
                       textEncoderMs: textOnly.median, detectorWithCachedTextMs: cached.median, kept: kept, runs: runs,
                       phases: profile.map { Phase(phase: $0.phase, wallMs: $0.wallMs, cpuMs: $0.cpuMs) })
        switch format {
        case .json:
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(r), as: UTF8.self))
        case .text:
            let f = { (v: Double) in String(format: "%.1f", v) }
            print("""
                model            \(r.model) (\(model)), \(r.threads) threads (OpenBLAS \(r.blasCore), kernels \(r.kernels))
                image            \(r.image), \(r.width)x\(r.height); prepared in \(f(prepareMs)) ms (not in the figures below)
                phrase           "\(text)" + \(r.exemplars) exemplar box(es), threshold \(threshold): \(kept) kept
                per phrase       \(f(r.phraseMs)) ms median of \(runs), \(f(r.phraseMinMs)) ms best; CPU \(f(r.phraseCpuMs)) ms (text encoder + detector + kept masks)
                text encoder     \(f(r.textEncoderMs)) ms median
                cached text      \(f(r.detectorWithCachedTextMs)) ms median (detector + kept masks)
                """)
            if !r.phases.isEmpty {
                print("phases per phrase (mean over warm-up and timed runs):")
                print("  phase                                   wall ms     CPU ms")
                for p in r.phases { print("  " + p.phase.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%11.1f%11.1f", p.wallMs, p.cpuMs)) }
                // Indented phases are parts of a phase above (not added again).
                let top = r.phases.filter { !$0.phase.hasPrefix(" ") }
                let w = top.reduce(0) { $0 + $1.wallMs }, c = top.reduce(0) { $0 + $1.cpuMs }
                print("  " + "total".padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%11.1f%11.1f", w, c))
            }
        }
    }
}

/// `--prepared-file`: a prepared SAM 3 image as raw floats after a header naming the model and the
/// image, so that measuring the phrase path again skips the encoder (the embedding cache keeps
/// entries up to 64 MB; SAM 3's with the detector levels are larger). Any mismatch: prepare again.
enum PreparedFile {
    static func header(model: SAMModel, image: RGBImage) -> String {
        "segterm-prepared 1 \(model.fingerprint) \(EmbeddingCache.key(image: image, model: model.fingerprint))\n"
    }

    static func read(_ path: String, model: SAMModel, image: RGBImage) -> SAMEmbedding? {
        guard let bytes = try? FileIO.read(path, maxBytes: 1 << 31) else { return nil }
        let h = Array(header(model: model, image: image).utf8)
        guard bytes.count > h.count, Array(bytes[0..<h.count]) == h, (bytes.count - h.count) % 4 == 0 else { return nil }
        let count = (bytes.count - h.count) / 4
        guard count == model.featureShape.reduce(1, *) else { return nil }
        var floats = [Float](repeating: 0, count: count)
        floats.withUnsafeMutableBytes { dst in bytes[h.count...].withUnsafeBytes { dst.copyMemory(from: $0) } }
        return SAMEmbedding(features: Tensor(shape: model.featureShape, data: floats), originalWidth: image.width, originalHeight: image.height,
                            inputWidth: model.imageSize, inputHeight: model.imageSize, modelFingerprint: model.fingerprint)
    }

    /// A failure to write only costs the next run the encoder.
    static func write(_ e: SAMEmbedding, model: SAMModel, image: RGBImage, to path: String) {
        var bytes = Array(header(model: model, image: image).utf8)
        e.features.data.withUnsafeBytes { bytes.append(contentsOf: $0) }
        try? FileIO.writeAtomically(bytes, to: path)
    }
}
