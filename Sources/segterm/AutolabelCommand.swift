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

    @Option(help: "Proposals that exist already: a proposals file, COCO results (with --gt), or a YOLO / LabelMe / VOC / Cityscapes folder.")
    var pred: String?

    @Option(help: "A COCO ground truth that names the images (ids, file names, categories); default: the workspace's, when it is a COCO file.")
    var gt: String?

    @Flag(help: "Forget the progress of an earlier run writing the same --out.")
    var restart = false

    @Option(help: "Threads for the model (default: all cores).")
    var threads: Int?

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        let sources = [boxes, pred].compactMap { $0 }
        guard sources.count == 1 else { throw ValidationError("give exactly one source: --boxes FILE or --pred FILE") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        Threads.configure(threads)
        let config = try WorkspaceConfig.open(folder: images)
        let paths = try WorkbenchSession.listImages(config.images).map(\.path)
        guard !paths.isEmpty else { throw SegError(.invalid, file: config.images, "no PNG, JPEG or BMP images in this folder") }
        let groundTruthFile = gt ?? config.groundTruth.flatMap { $0.lowercased().hasSuffix(".json") ? $0 : nil }
        let groundTruth = try groundTruthFile.map(COCOReader.readGroundTruth)
        let labelImages = LabelImages.make(paths: paths, groundTruth: groundTruth)
        var categories = LabelCategories(groundTruth: groundTruth, classes: config.classes)
        let bar = ProgressBar("labelling", minimumTotal: 1)
        let summary: AutoLabelRun.Summary
        if let boxes {
            let modelSpec = model ?? config.model
            let detections = try BoxDetections.read(boxes, images: labelImages, minimumScore: minScore)
            let segmenter = try ModelRegistry.segmenter(named: modelSpec, cache: EmbeddingCache(directory: EmbeddingCache.defaultDirectory))
            let fingerprint = "boxes \(try FileDigest.sha256(path: boxes)) min-score \(minScore) model \(modelSpec)"
            var empty = 0
            defer {
                if empty > 0 { printError("segterm: warning: \(empty) box\(empty == 1 ? "" : "es") gave an empty mask (no proposal)") }
            }
            summary = try AutoLabelRun.run(images: labelImages, fingerprint: fingerprint, out: out, restart: restart,
                                           progress: bar.callback) { image in
                let rgb = try ImageFile.read(image.path, limits: imageOptions.limits).rgbImage()
                return try BoxPromptProposals.make(image, rgb: rgb, boxes: detections[image.fileName] ?? [], model: segmenter,
                                                   source: modelSpec, categories: &categories, empty: &empty)
            }
        } else if let pred {
            let existing = try ExistingProposals.read(pred, images: labelImages, imagesFolder: config.images,
                                                      groundTruth: groundTruth, categories: &categories)
            let fingerprint = "pred \(FileIO.isDirectory(pred) ? pred : try FileDigest.sha256(path: pred))"
            summary = try AutoLabelRun.run(images: labelImages, fingerprint: fingerprint, out: out, restart: restart,
                                           progress: bar.callback) { image in existing[image.fileName] ?? [] }
        } else {
            throw ValidationError("give a source: --boxes FILE or --pred FILE")
        }
        for failure in summary.failed { printError("segterm: \(failure.path): \(failure.reason)") }
        print("\(summary.proposals) proposals on \(summary.images) images (\(summary.labelled) labelled now, "
            + "\(summary.alreadyDone) done before, \(summary.failed.count) failed) in \(out)")
        if !summary.failed.isEmpty { throw ExitCode(1) }
    }
}
