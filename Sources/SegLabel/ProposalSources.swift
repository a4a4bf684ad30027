import Foundation
import SegCore
import SegEval
import SegModels

/// The images of a folder with the ids the proposals give them: the ground truth's ids when a COCO
/// file names the images, else the file stem when every stem is a number (COCO's own naming,
/// `000000397133.jpg` is image 397133, so a detector's results on COCO-style files pair without
/// a ground truth), else the position in the sorted list, from 1 (as the workbench's outputs number them).
public enum LabelImages {
    public static func make(paths: [String], groundTruth: COCOGroundTruth? = nil) -> [LabelImage] {
        let names = paths.map(FileName.last)
        if let groundTruth {
            var ids: [String: Int] = [:]
            for image in groundTruth.images { ids[FileName.last(image.fileName)] = image.id }
            let next = (groundTruth.images.map(\.id).max() ?? 0) + 1
            var extra = 0
            return zip(paths, names).map { path, name in
                if let id = ids[name] { return LabelImage(path: path, fileName: name, imageId: id) }
                extra += 1
                return LabelImage(path: path, fileName: name, imageId: next + extra - 1)
            }
        }
        let stems = names.map { Int(FileName.stem($0)) }
        if !stems.contains(nil), Set(stems.compactMap { $0 }).count == stems.count {
            return zip(paths, stems).map { LabelImage(path: $0, fileName: FileName.last($0), imageId: $1 ?? 0) }
        }
        return paths.enumerated().map { LabelImage(path: $1, fileName: FileName.last($1), imageId: $0 + 1) }
    }
}

/// The class names of the proposals and their COCO ids: the ground truth's categories when given,
/// else the workspace's class list in order from 1, with names first seen added after.
public struct LabelCategories: Sendable {
    public private(set) var names: [Int: String] = [:]
    public private(set) var ids: [String: Int] = [:]

    public init(groundTruth: COCOGroundTruth? = nil, classes: [String] = []) {
        if let groundTruth {
            for category in groundTruth.categories { add(category.name, id: category.id) }
        } else {
            for name in classes where name.lowercased() != "background" { add(name, id: (ids.values.max() ?? 0) + 1) }
        }
    }

    mutating func add(_ name: String, id: Int) {
        if ids[name] == nil { ids[name] = id }
        if names[id] == nil { names[id] = name }
    }

    /// The id of `name`, given the next free one when new.
    public mutating func id(of name: String) -> Int {
        if let id = ids[name] { return id }
        let id = (names.keys.max() ?? 0) + 1
        add(name, id: id)
        return id
    }

    /// The name of category `id` (an unnamed id is called by its number).
    public mutating func name(of id: Int) -> String {
        if let name = names[id] { return name }
        let name = "category \(id)"
        add(name, id: id)
        return name
    }
}

/// A detector's box on an image: the box prompt of a proposal.
public struct DetectedBox: Sendable, Equatable {
    public var box: PromptBox
    public var categoryId: Int
    public var score: Double
}

/// `--boxes`: a detector's COCO results (bbox [x, y, w, h]). Entries are paired with images by their
/// `file_name` when they carry one, else by `image_id`.
public enum BoxDetections {
    struct Entry: Decodable {
        var image_id: Int?
        var file_name: String?
        var category_id: Int
        var bbox: [Double]
        var score: Double?
    }

    /// Per image file name, the boxes with at least `minimumScore`, best first.
    public static func read(_ path: String, images: [LabelImage], minimumScore: Double = 0) throws -> [String: [DetectedBox]] {
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(try FileIO.read(path)))
        } catch let error as DecodingError {
            throw SegError(.corrupt, file: path, "not a COCO results list with bbox: \(ProposalFile.describe(error))")
        }
        var byId: [Int: String] = [:]
        for image in images { byId[image.imageId] = image.fileName }
        let names = Set(images.map(\.fileName))
        var result: [String: [DetectedBox]] = [:]
        var unknown = Set<String>()
        for (i, entry) in entries.enumerated() {
            guard entry.bbox.count == 4, entry.bbox.allSatisfy(\.isFinite), entry.bbox[2] >= 0, entry.bbox[3] >= 0 else {
                throw SegError(.corrupt, file: path, "entry \(i): bbox must be four finite numbers [x, y, width, height]")
            }
            let score = entry.score ?? 1
            guard score >= minimumScore else { continue }
            let name = entry.file_name.map(FileName.last) ?? entry.image_id.flatMap { byId[$0] }
            guard let name, names.contains(name) else {
                unknown.insert(entry.file_name ?? entry.image_id.map { "image_id \($0)" } ?? "entry \(i)")
                continue
            }
            let b = entry.bbox
            result[name, default: []].append(DetectedBox(box: PromptBox(x0: b[0], y0: b[1], x1: b[0] + b[2], y1: b[1] + b[3]),
                                                         categoryId: entry.category_id, score: score))
        }
        if !entries.isEmpty, result.isEmpty {
            throw SegError(.invalid, file: path, "no entry names an image of the folder (e.g. \(unknown.sorted().prefix(3).joined(separator: ", "))): "
                + "give the ground truth with --gt so image ids find their files")
        }
        for name in result.keys { result[name]?.sort { $0.score > $1.score } }
        return result
    }
}

/// Proposals from box prompts: one decode per detected box on the prepared image; the mask keeps
/// the detection's class and score.
public enum BoxPromptProposals {
    /// `empty`: counts the boxes whose mask came out empty (left out: nothing to review).
    public static func make(_ image: LabelImage, rgb: RGBImage, boxes: [DetectedBox], model: AnySegmenter, source: String,
                            categories: inout LabelCategories, empty: inout Int) throws -> [Proposal] {
        guard !boxes.isEmpty else { return [] }
        let prepared = try model.prepare(rgb)
        var proposals: [Proposal] = []
        for detected in boxes {
            let candidates = try model.segment(prepared, prompts: Prompts(box: detected.box), previous: nil, multimask: false)
            guard let best = candidates.best, best.mask.area > 0 else {
                empty += 1
                continue
            }
            proposals.append(try Proposal(imageId: image.imageId, fileName: image.fileName, categoryId: detected.categoryId,
                                          categoryName: categories.name(of: detected.categoryId), mask: best.mask,
                                          score: detected.score, source: ProposalSource(model: source, prompt: "box")))
        }
        return proposals
    }
}

/// `--everything`: the automatic mask generator (SAM's or SAM 2.1's, as the official ones) on the
/// whole image. The masks have no class: they are called `className` (the reviewer gives each its
/// class), and their score is the predicted IoU.
public enum EverythingProposals {
    public static func make(_ image: LabelImage, rgb: RGBImage, generator: AutomaticMaskGenerator, model: SAMModel, source: String,
                            className: String, categories: inout LabelCategories,
                            progress: (@Sendable (AutoMaskProgress) -> Void)? = nil) throws -> [Proposal] {
        let masks = try generator.generate(model: model, image: rgb, progress: progress)
        let id = categories.id(of: className)
        return masks.map { mask in
            Proposal(imageId: image.imageId, fileName: image.fileName, categoryId: id, categoryName: className, rle: mask.segmentation,
                     score: Double(mask.predictedIoU), source: ProposalSource(model: source, prompt: "everything"))
        }
    }
}

/// `--text PHRASE` (repeatable): SAM 3's concept prompts; every instance of each phrase is a
/// proposal of that class, scored as the official processor scores it. The image is prepared once
/// (through the embedding cache) for all phrases; each phrase's text features are computed once.
public enum TextProposals {
    public static func make(_ image: LabelImage, rgb: RGBImage, phrases: [String], segmenter: SAMSegmenter,
                            concept: SAM3ConceptDetector, threshold: Float, source: String,
                            categories: inout LabelCategories) throws -> [Proposal] {
        let prepared = try segmenter.prepare(rgb)
        var proposals: [Proposal] = []
        for phrase in phrases {
            let id = categories.id(of: phrase)
            for detection in try concept.detect(prepared: prepared, phrase: phrase, threshold: threshold) where detection.mask.area > 0 {
                proposals.append(try Proposal(imageId: image.imageId, fileName: image.fileName, categoryId: id, categoryName: phrase,
                                              mask: detection.mask, score: Double(detection.score),
                                              source: ProposalSource(model: source, prompt: "text:" + phrase)))
            }
        }
        return proposals
    }
}

/// `--pred`: proposals that exist already, to review them. A segterm proposals file is taken as it
/// is; a COCO results file (with the ground truth that names its images) or a folder of another
/// format is read into masks.
public enum ExistingProposals {
    /// Per image file name, the proposals of `path`.
    public static func read(_ path: String, images: [LabelImage], imagesFolder: String, groundTruth: COCOGroundTruth?,
                            categories: inout LabelCategories) throws -> [String: [Proposal]] {
        let names = Set(images.map(\.fileName))
        if !FileIO.isDirectory(path), let proposals = try? ProposalFile.read(path) {
            return Dictionary(grouping: proposals.filter { names.contains($0.fileName) }, by: \.fileName)
        }
        let set: COCOGroundTruth
        let detections: [COCOAnnotation]
        if FileIO.isDirectory(path) || groundTruth == nil {
            let read = try Formats.read(path, options: FormatOptions(imagesFolder: imagesFolder))
            set = read.groundTruth
            detections = read.groundTruth.annotations
        } else if let groundTruth {
            set = groundTruth
            detections = try COCOReader.readResults(path, groundTruth: groundTruth).detections
        } else {
            return [:]
        }
        let byId = Dictionary(set.images.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let ids = Dictionary(images.map { ($0.fileName, $0.imageId) }, uniquingKeysWith: { a, _ in a })
        var result: [String: [Proposal]] = [:]
        for detection in detections {
            guard let image = byId[detection.imageId], names.contains(FileName.last(image.fileName)),
                  let mask = try mask(detection.segmentation, image: image, file: path) else { continue }
            let name = FileName.last(image.fileName)
            let category = set.categories.first { $0.id == detection.categoryId }?.name ?? categories.name(of: detection.categoryId)
            result[name, default: []].append(try Proposal(imageId: ids[name] ?? image.id, fileName: name,
                                                          categoryId: categories.id(of: category), categoryName: category, mask: mask,
                                                          score: detection.score, source: ProposalSource(model: path, prompt: "pred")))
        }
        return result
    }

    static func mask(_ segmentation: COCOSegmentation, image: COCOImage, file: String) throws -> Mask? {
        let rle: RLE
        switch segmentation {
        case .none: return nil
        case .polygons(let polygons): rle = try RLE(polygons: polygons, height: image.height, width: image.width)
        case .counts(let h, let w, let counts): rle = try RLE(height: h, width: w, counts: counts)
        case .compressed(let h, let w, let string): rle = try RLE(compressed: string, height: h, width: w)
        case .compressedText(let text): rle = try text.decode()
        }
        guard rle.width == image.width, rle.height == image.height else {
            throw SegError(.corrupt, file: file, "\(image.fileName): a mask of \(rle.width)x\(rle.height) on a \(image.width)x\(image.height) image")
        }
        return rle.decode()
    }
}
