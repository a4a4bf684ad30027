import Foundation
import SegCore

/// Where a proposal came from: the model file and the kind of prompt that made it, so a reviewer
/// (and a later audit of the labels) knows which masks were whose.
public struct ProposalSource: Codable, Equatable, Sendable {
    /// The model's file (or built-in name, or the prediction file a `--pred` proposal was read from).
    public var model: String
    /// "box", "everything", "text:<phrase>" or "pred".
    public var prompt: String

    public init(model: String, prompt: String) {
        self.model = model
        self.prompt = prompt
    }
}

/// One proposed mask: a COCO result (`image_id`, `category_id`, `bbox`, `score`, `segmentation` as
/// compressed RLE) with the keys pycocotools ignores and segterm reads: the image's `file_name`,
/// the class's `category_name` and the `source`. So the same file is a results file for
/// `segterm eval --pred` (and pycocotools' `loadRes`) and the proposals for `segterm open --proposals`.
public struct Proposal: Codable, Equatable, Sendable {
    public struct RLEText: Codable, Equatable, Sendable {
        /// [height, width], as COCO writes it.
        public var size: [Int]
        public var counts: String
    }

    public var imageId: Int
    public var fileName: String
    public var categoryId: Int
    public var categoryName: String
    /// [x, y, width, height] in image pixels.
    public var bbox: [Double]
    public var score: Double
    public var segmentation: RLEText
    public var source: ProposalSource

    enum CodingKeys: String, CodingKey {
        case imageId = "image_id", fileName = "file_name", categoryId = "category_id", categoryName = "category_name"
        case bbox, score, segmentation, source
    }

    public init(imageId: Int, fileName: String, categoryId: Int, categoryName: String, mask: Mask, score: Double,
                source: ProposalSource) throws {
        self.init(imageId: imageId, fileName: fileName, categoryId: categoryId, categoryName: categoryName, rle: try RLE(mask: mask),
                  score: score, source: source)
    }

    public init(imageId: Int, fileName: String, categoryId: Int, categoryName: String, rle: RLE, score: Double,
                source: ProposalSource) {
        self.imageId = imageId
        self.fileName = fileName
        self.categoryId = categoryId
        self.categoryName = categoryName
        bbox = rle.boundingBox
        self.score = score
        segmentation = RLEText(size: [rle.height, rle.width], counts: rle.compressedString)
        self.source = source
    }

    /// The mask, decoded; `file` names the proposals file in the error.
    public func mask(file: String) throws -> Mask {
        guard segmentation.size.count == 2 else {
            throw SegError(.corrupt, file: file, "\(fileName): segmentation size must be [height, width]")
        }
        return try RLE(compressed: segmentation.counts, height: segmentation.size[0], width: segmentation.size[1]).decode()
    }
}

/// A proposals file: the COCO results list of `Proposal`s, read and written whole.
public enum ProposalFile {
    public static func read(_ path: String) throws -> [Proposal] {
        let bytes = try FileIO.read(path)
        do {
            return try JSONDecoder().decode([Proposal].self, from: Data(bytes))
        } catch let error as DecodingError {
            throw SegError(.corrupt, file: path, "not a segterm proposals file (a COCO results list with file_name, "
                + "category_name and source on each entry): \(describe(error))")
        }
    }

    /// Written atomically, sorted by image then score (highest first), one entry a line.
    public static func write(_ proposals: [Proposal], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = "[\n"
        for (i, proposal) in ordered(proposals).enumerated() {
            text += String(decoding: try encoder.encode(proposal), as: UTF8.self)
            text += i + 1 < proposals.count ? ",\n" : "\n"
        }
        text += "]\n"
        try FileIO.writeAtomically(Array(text.utf8), to: path)
    }

    /// By image id, then by score (highest first); stable for equal scores.
    public static func ordered(_ proposals: [Proposal]) -> [Proposal] {
        proposals.enumerated().sorted { a, b in
            if a.element.imageId != b.element.imageId { return a.element.imageId < b.element.imageId }
            if a.element.score != b.element.score { return a.element.score > b.element.score }
            return a.offset < b.offset
        }.map(\.element)
    }

    public static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            "missing \"\(key.stringValue)\"" + at(context)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type" + at(context)
        case .dataCorrupted(let context):
            context.codingPath.isEmpty ? "not valid JSON" : "bad value" + at(context)
        @unknown default:
            "unreadable"
        }
    }

    private static func at(_ context: DecodingError.Context) -> String {
        guard let index = context.codingPath.first?.intValue else { return "" }
        let key = context.codingPath.dropFirst().map(\.stringValue).joined(separator: ".")
        return " in entry \(index)" + (key.isEmpty ? "" : " (\(key))")
    }
}
