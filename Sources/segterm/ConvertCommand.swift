import ArgumentParser
import Foundation
import SegCore
import SegEval

extension DatasetFormat: ExpressibleByArgument {}
extension CityscapesFormat.IdKind: ExpressibleByArgument {}

/// `segterm convert`: any format the library reads into the COCO model, then out in any format it
/// writes. The command only parses options and prints what the conversion changed; the
/// converters live in SegEval/Formats.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert annotations between COCO, YOLO segmentation, LabelMe, Pascal VOC and Cityscapes.",
        discussion: """
            Every direction between the five formats exists (read any, write any), through the \
            COCO model. Formats:
            \(DatasetFormat.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))

            What a conversion changes (parts joined into one YOLO line, crowd regions left out, \
            void pixels, scores a PNG cannot hold) is printed on stderr, counted, with the first places.
            """
    )

    @Option(help: "The input's format (default: told from the layout).")
    var from: DatasetFormat?

    @Option(help: "The output's format.")
    var to: DatasetFormat

    @Argument(help: "Input: a COCO JSON file, a YOLO data.yaml or folder, a folder of LabelMe JSON, a VOC or Cityscapes folder.")
    var input: String

    @Argument(help: "Output: a JSON file for COCO, else a folder (created).")
    var output: String

    @Option(name: .customLong("ground-truth"), help: "A COCO ground truth: reads a COCO results list as predictions; maps image and category ids (by file name and class name) when writing COCO predictions; gives image sizes to label files without images.")
    var groundTruth: String?

    @Option(help: "A folder of the images, for sizes when YOLO label files have none beside them.")
    var images: String?

    @Option(help: "Class names, one per line (a classes.txt); for YOLO class index 0 first, for LabelMe id = line number. Names outside it are errors.")
    var classes: String?

    @Flag(help: "Read the input as predictions (a score per object); otherwise told from the data.")
    var predictions = false

    @Option(name: .customLong("cityscapes-ids"), help: "Which Cityscapes semantic PNGs to read when both exist: labelIds or trainIds.")
    var cityscapesIds: CityscapesFormat.IdKind = .labelIds

    func run() throws {
        var options = FormatOptions(imagesFolder: images, predictions: predictions ? true : nil, cityscapesIds: cityscapesIds)
        var gt: COCOGroundTruth?
        if let groundTruth {
            gt = try COCOReader.readGroundTruth(groundTruth)
            options.sizesFrom = gt
        }
        if let classes { options.classNames = try ClassNames.load(classes) }
        let set = try Formats.read(input, format: from, options: options)
        let format = from ?? DatasetFormat.detect(input) ?? .coco
        for note in set.notes { printError("segterm: read: \(note)") }
        var notes: [String]
        if to == .coco, set.hasScores, let gt {
            // Predictions for pycocotools' loadRes: ids of the ground truth, a plain list.
            let results = try set.results(matching: gt)
            let text = try COCOWriter.resultsJSON(results, groundTruth: gt)
            try FileIO.writeAtomically(Array(text.utf8), to: output)
            notes = []
        } else {
            notes = try Formats.write(set, format: to, to: output)
        }
        for note in notes { printError("segterm: write: \(note)") }
        let g = set.groundTruth
        print("\(format.rawValue) → \(to.rawValue): \(g.images.count) images, \(g.annotations.count) \(set.hasScores ? "predictions" : "objects"), \(g.categories.count) classes → \(output)")
    }
}
