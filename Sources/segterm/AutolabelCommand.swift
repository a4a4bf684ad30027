import ArgumentParser
import Foundation
import SegCore
import SegEval
import SegLabel
import SegModels
import SegNN
import SegTUI

struct Autolabel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Propose masks for a folder of images, to review them in the workbench (open --proposals).",
        discussion: """
            Sources: --boxes turns a detector's COCO results (bbox) into box prompts for the promptable \
            model (each mask keeps its detection's class and score); --pred takes proposals that exist \
            (a proposals file, COCO results with --gt, or a YOLO / LabelMe / VOC / Cityscapes folder). \
            The output is a COCO results list (image_id, category_id, bbox, score, segmentation as \
            compressed RLE) whose entries also carry file_name, category_name and source: `segterm eval \
            --pred` and pycocotools read it as results, `segterm open --proposals` as drafts to review. \
            Resumable: every finished image is recorded in OUT.progress before the next starts, and a \
            rerun with the same options skips those (--restart starts over). Image embeddings go to the \
            embedding cache, so the workbench opens the labelled images without running the encoder.
            """
    )

    @Argument(help: "A folder of images, or a workspace with a segterm.toml.")
    var images: String

    @Option(help: "The promptable model: a SAM / MobileSAM / SAM 2.1 / SAM 3 checkpoint or grabcut (default: the workspace's).")
    var model: String?

    @Option(help: "Where the proposals go (a COCO results JSON).")
    var out: String

    @Option(help: "A detector's COCO results (bbox): each box becomes a box prompt.")
    var boxes: String?

    @Option(name: .customLong("min-score"), help: "With --boxes: leave out detections below this score.")
    var minScore: Double = 0

    @Flag(help: "Segment everything: SAM's (or SAM 2.1's) automatic mask generator on each image, with the official defaults.")
    var everything = false

    @OptionGroup var generator: AutoMaskCLIOptions

    @Option(name: .customLong("class"), help: "With --everything: the class the masks start with (the reviewer changes it).")
    var className = "object"

    @Option(name: .customLong("text"), help: "A phrase for SAM 3 (repeatable): every instance of it is a proposal of that class.")
    var phrases: [String] = []

    @Option(help: "With --text: keep detections scored above this (the official default 0.5).")
    var threshold: Float = SAM3ConceptDetector.defaultThreshold

    @Option(help: "With --text: CLIP's bpe_simple_vocab_16e6.txt.gz (default: beside the checkpoint).")
    var vocab: String?

    @Option(help: "Proposals that exist already: a proposals file, COCO results (with --gt), or a YOLO / LabelMe / VOC / Cityscapes folder.")
    var pred: String?

    @Option(help: "A COCO ground truth that names the images (ids, file names, categories); default: the workspace's, when it is a COCO file.")
    var gt: String?

    @OptionGroup var sharding: ShardOptions

    @Flag(help: "Forget the progress of an earlier run writing the same --out.")
    var restart = false

    @Option(help: "Threads for the model (default: all cores).")
    var threads: Int?

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        let sources = [boxes, pred].compactMap { $0 }.count + (everything ? 1 : 0) + (phrases.isEmpty ? 0 : 1)
        guard sources == 1 else { throw ValidationError("give exactly one source: --boxes FILE, --everything, --text PHRASE or --pred FILE") }
        if phrases.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) { throw ValidationError("--text: a phrase is empty") }
        if !everything && generator.isSet { throw ValidationError("the generator's options go with --everything") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        Threads.configure(threads)
        let config = try WorkspaceConfig.open(folder: images)
        let paths = try WorkbenchSession.listImages(config.images).map(\.path)
        guard !paths.isEmpty else { throw SegError(.invalid, file: config.images, "no PNG, JPEG or BMP images in this folder") }
        let groundTruthFile = gt ?? config.groundTruth.flatMap { $0.lowercased().hasSuffix(".json") ? $0 : nil }
        let groundTruth = try groundTruthFile.map(COCOReader.readGroundTruth)
        // A shard labels its part of the images (split by file name, so any N covers the folder
        // once) into its own file beside --out; `segterm autolabel merge` puts them together.
        let shard = try sharding.resolve() ?? .whole
        let labelImages = shard.select(LabelImages.make(paths: paths, groundTruth: groundTruth)) { $0.fileName }
        let out = shard.isWhole ? self.out : AutolabelMerge.partPath(self.out, shard)
        var categories = LabelCategories(groundTruth: groundTruth, classes: config.classes)
        // Each source gives what names its run (for resuming) and its proposals for one image.
        let fingerprint: String
        let label: (LabelImage) throws -> [Proposal]
        func rgb(_ image: LabelImage) throws -> RGBImage { try ImageFile.read(image.path, limits: imageOptions.limits).rgbImage() }
        let modelSpec = model ?? config.model
        let cache = EmbeddingCache(directory: EmbeddingCache.defaultDirectory)
        var empty = 0
        defer { if empty > 0 { printError("segterm: warning: \(empty) box\(empty == 1 ? "" : "es") gave an empty mask (no proposal)") } }
        if let boxes {
            let detections = try BoxDetections.read(boxes, images: labelImages, minimumScore: minScore)
            let segmenter = try ModelRegistry.segmenter(named: modelSpec, cache: cache)
            fingerprint = "boxes \(try FileDigest.sha256(path: boxes)) min-score \(minScore) model \(modelSpec)"
            label = { image in
                try BoxPromptProposals.make(image, rgb: try rgb(image), boxes: detections[image.fileName] ?? [], model: segmenter,
                                            source: modelSpec, categories: &categories, empty: &empty)
            }
        } else if everything {
            guard !ModelRegistry.isBuiltIn(modelSpec) else {
                throw ValidationError("--everything needs a SAM, MobileSAM or SAM 2.1 checkpoint (--model), not \(modelSpec)")
            }
            let sam = try SAMModel.load(checkpoint: modelSpec)
            let generator = AutomaticMaskGenerator(options: try generator.options(for: sam))
            let name = className
            fingerprint = "everything \(generator.options) class \(className) model \(modelSpec)"
            label = { image in
                try EverythingProposals.make(image, rgb: try rgb(image), generator: generator, model: sam, source: modelSpec,
                                             className: name, categories: &categories)
            }
        } else if !phrases.isEmpty {
            guard let segmenter = try? ModelRegistry.segmenter(for: modelSpec, cache: cache) as? SAMSegmenter else {
                throw ValidationError("--text needs a SAM 3 checkpoint (--model sam3.pt), not \(modelSpec)")
            }
            let concept = try SAM3ConceptDetector(model: segmenter.model, vocabulary: vocab)
            let (phrases, threshold) = (self.phrases, self.threshold)
            fingerprint = "text \(phrases) threshold \(threshold) model \(modelSpec)"
            label = { image in
                try TextProposals.make(image, rgb: try rgb(image), phrases: phrases, segmenter: segmenter, concept: concept,
                                       threshold: threshold, source: modelSpec, categories: &categories)
            }
        } else if let pred {
            let existing = try ExistingProposals.read(pred, images: labelImages, imagesFolder: config.images,
                                                      groundTruth: groundTruth, categories: &categories)
            fingerprint = "pred \(FileIO.isDirectory(pred) ? pred : try FileDigest.sha256(path: pred))"
            label = { image in existing[image.fileName] ?? [] }
        } else {
            throw ValidationError("give a source: --boxes FILE, --everything, --text PHRASE or --pred FILE")
        }
        let summary = try AutoLabelRun.run(images: labelImages, fingerprint: fingerprint, out: out, restart: restart,
                                           progress: ProgressBar("labelling", minimumTotal: 1).callback, label: label)
        for failure in summary.failed { printError("segterm: \(failure.path): \(failure.reason)") }
        print("\(summary.proposals) proposals on \(summary.images) images (\(summary.labelled) labelled now, "
            + "\(summary.alreadyDone) done before, \(summary.failed.count) failed) in \(out)")
        if !summary.failed.isEmpty { throw ExitCode(1) }
    }
}

/// The automatic mask generator's options, by their official names; unset ones keep the official
/// defaults of the model's family (segment-anything 1.0 for SAM and MobileSAM, sam2 for SAM 2.1).
struct AutoMaskCLIOptions: ParsableArguments {
    @Option(name: .customLong("points-per-side"), help: "--everything: points along each side of the grid (official: 32).")
    var pointsPerSide: Int?
    @Option(name: .customLong("points-per-batch"), help: "--everything: points decoded together (official: 64).")
    var pointsPerBatch: Int?
    @Option(name: .customLong("pred-iou-thresh"), help: "--everything: keep masks whose predicted IoU reaches this (SAM 0.88, SAM 2.1 0.8).")
    var predIoUThresh: Float?
    @Option(name: .customLong("stability-score-thresh"), help: "--everything: keep masks at least this stable (official: 0.95).")
    var stabilityScoreThresh: Float?
    @Option(name: .customLong("box-nms-thresh"), help: "--everything: box IoU above which the lower-scored mask goes (official: 0.7).")
    var boxNMSThresh: Float?
    @Option(name: .customLong("crop-n-layers"), help: "--everything: layers of image crops run again (official: 0).")
    var cropNLayers: Int?
    @Option(name: .customLong("min-mask-region-area"), help: "--everything: fill holes and remove islands smaller than this (official: 0).")
    var minMaskRegionArea: Int?

    var isSet: Bool {
        pointsPerSide != nil || pointsPerBatch != nil || predIoUThresh != nil || stabilityScoreThresh != nil || boxNMSThresh != nil
            || cropNLayers != nil || minMaskRegionArea != nil
    }

    func options(for model: SAMModel) throws -> AutoMaskOptions {
        var o = AutoMaskOptions(for: model)
        if let pointsPerSide { o.pointsPerSide = pointsPerSide }
        if let pointsPerBatch { o.pointsPerBatch = pointsPerBatch }
        if let predIoUThresh { o.predIoUThresh = predIoUThresh }
        if let stabilityScoreThresh { o.stabilityScoreThresh = stabilityScoreThresh }
        if let boxNMSThresh { o.boxNMSThresh = boxNMSThresh }
        if let cropNLayers { o.cropNLayers = cropNLayers }
        if let minMaskRegionArea { o.minMaskRegionArea = minMaskRegionArea }
        do {
            try o.validate()
        } catch let error as SegError {
            throw ValidationError(error.reason)
        }
        return o
    }
}

/// `segterm autolabel merge --out PROPOSALS.json PART…`: the proposals of a sharded autolabel run
/// (each shard writes `OUT.shard-I-of-N.json`) in one file, as one process would have written it.
struct AutolabelMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segterm autolabel merge",
        abstract: "Merge the proposals of `segterm autolabel --shard I/N` into one proposals file.",
        discussion: "Every shard 0..N-1 of one run must be given once (their names say which); an image in two parts is an error."
    )

    @Argument(help: "The shards' files (OUT.shard-I-of-N.json), in any order.")
    var parts: [String]

    @Option(help: "Where the merged proposals go.")
    var out: String

    static func partPath(_ out: String, _ shard: Shard) -> String {
        let stem = out.hasSuffix(".json") ? String(out.dropLast(5)) : out
        return "\(stem).shard-\(shard.index)-of-\(shard.count).json"
    }

    /// The shard a part's name gives (nil: not a shard's file).
    static func shard(ofPart path: String) -> Shard? {
        let name = FileName.last(path)
        guard let range = name.range(of: ".shard-", options: .backwards), name.hasSuffix(".json") else { return nil }
        let numbers = name[range.upperBound...].dropLast(5).components(separatedBy: "-of-")
        guard numbers.count == 2, let i = Int(numbers[0]), let n = Int(numbers[1]) else { return nil }
        return try? Shard(index: i, count: n)
    }

    func run() throws {
        try Shard.checkComplete(parts.map { part in
            guard let shard = Self.shard(ofPart: part) else {
                throw SegError(.invalid, file: part, "not a shard's proposals (autolabel --shard writes OUT.shard-I-of-N.json)")
            }
            return (part, shard)
        })
        var all: [Proposal] = []
        var owner: [String: String] = [:]
        for part in parts {
            let proposals = try ProposalFile.read(part)
            for name in Set(proposals.map(\.fileName)) {
                if let other = owner[name] { throw SegError(.invalid, file: part, "\(name) is also in \(other)") }
                owner[name] = part
            }
            all += proposals
        }
        try ProposalFile.write(all, to: out)
        print("\(all.count) proposals on \(owner.count) images from \(parts.count) shards in \(out)")
    }
}
