import Foundation
import SegCore

/// One shard's panoptic records: the whole run's categories and image list (every shard reads
/// the same JSON files), and for each owned image, by its pair index, the per-category PQ counts
/// and the failure segments. The merge adds the counts per category in pair order, as the
/// unsharded run does.
struct PanopticPartial: Codable, Sendable {
    var categoryIds: [Int], categoryNames: [String], categorySupercategories: [String], categoryIsThing: [Bool?]
    var imageIds: [Int], imageFileNames: [String], predictionFiles: [String]
    var images: [Image]

    struct Image: Codable, Sendable {
        var index: Int
        var countCategories: [Int], countIoUs: [UInt64], countTP: [Int], countFP: [Int], countFN: [Int]
        var failures: [Failure]
    }

    struct Failure: Codable, Sendable {
        var imageId: Int, fileName: String, categoryId: Int, segmentId: UInt32, kind: String, area: Int, iou: UInt64
        var box: [UInt64]?
    }

    init(run: PanopticEvaluator.Run, owned: [Int], results: [PanopticImageResult]) {
        categoryIds = run.categories.map(\.id)
        categoryNames = run.categories.map(\.name)
        categorySupercategories = run.categories.map(\.supercategory)
        categoryIsThing = run.categories.map(\.isThing)
        imageIds = run.pairs.map(\.0.imageId)
        imageFileNames = run.pairs.map(\.0.fileName)
        predictionFiles = run.pairs.map { run.predDir + "/" + $0.1.fileName }
        images = zip(owned, results).map { index, r in
            let keys = r.counts.keys.sorted()
            return Image(index: index, countCategories: keys, countIoUs: keys.map { r.counts[$0]?.iou.bitPattern ?? 0 },
                         countTP: keys.map { r.counts[$0]?.tp ?? 0 }, countFP: keys.map { r.counts[$0]?.fp ?? 0 },
                         countFN: keys.map { r.counts[$0]?.fn ?? 0 },
                         failures: r.failures.map { f in
                             Failure(imageId: f.imageId, fileName: f.fileName, categoryId: f.categoryId, segmentId: f.segmentId,
                                     kind: f.kind.rawValue, area: f.area, iou: f.iou.bitPattern,
                                     box: f.box.map { [$0.x, $0.y, $0.width, $0.height].map(\.bitPattern) })
                         })
        }
    }

    static func merge(_ parts: [(path: String, partial: PanopticPartial)], groundTruth: String, predictions: String,
                      query: FailureQuery) throws -> EvaluationResult {
        let head = parts[0].partial, file = parts[0].path
        let K = head.categoryIds.count, n = head.imageIds.count
        guard head.categoryNames.count == K, head.categorySupercategories.count == K, head.categoryIsThing.count == K,
              head.imageFileNames.count == n, head.predictionFiles.count == n else {
            throw SegError(.corrupt, file: file, "the category or image lists differ in length")
        }
        var results = [PanopticImageResult?](repeating: nil, count: n)
        for (path, part) in parts {
            guard part.categoryIds == head.categoryIds, part.imageIds == head.imageIds else {
                throw SegError(.invalid, file: path, "its categories or images differ from \(file)'s though the inputs are the same")
            }
            for image in part.images {
                let m = image.countCategories.count
                guard image.index >= 0, image.index < n, [image.countIoUs.count, image.countTP.count, image.countFP.count,
                                                           image.countFN.count].allSatisfy({ $0 == m }),
                      image.countCategories.allSatisfy({ $0 >= 0 && $0 < K }) else {
                    throw SegError(.corrupt, file: path, "an image record is out of range or its lists differ in length")
                }
                guard results[image.index] == nil else { throw SegError(.invalid, file: path, "image \(head.imageIds[image.index]) is in two partials") }
                var counts: [Int: PQCounts] = [:]
                for j in 0..<m {
                    counts[image.countCategories[j]] = PQCounts(iou: Double(bitPattern: image.countIoUs[j]), tp: image.countTP[j],
                                                                fp: image.countFP[j], fn: image.countFN[j])
                }
                let failures = try image.failures.map { f in
                    guard let kind = FailureRow.Kind(rawValue: f.kind), f.box.map({ $0.count == 4 }) ?? true else {
                        throw SegError(.corrupt, file: path, "a failure record of an unknown kind \(f.kind) or a bad box")
                    }
                    let box = f.box.map { b in
                        COCOBox(x: Double(bitPattern: b[0]), y: Double(bitPattern: b[1]), width: Double(bitPattern: b[2]), height: Double(bitPattern: b[3]))
                    }
                    return PanopticSegmentFailure(imageId: f.imageId, fileName: f.fileName, categoryId: f.categoryId, segmentId: f.segmentId,
                                                  kind: kind, area: f.area, iou: Double(bitPattern: f.iou), box: box)
                }
                results[image.index] = PanopticImageResult(counts: counts, failures: failures)
            }
        }
        if let lost = results.firstIndex(where: { $0 == nil }) {
            throw SegError(.invalid, file: file, "image \(head.imageIds[lost]) is in no shard: the partials do not cover the run")
        }
        let categories = (0..<K).map { COCOCategory(id: head.categoryIds[$0], name: head.categoryNames[$0],
                                                    supercategory: head.categorySupercategories[$0], isThing: head.categoryIsThing[$0]) }
        let evaluation = PanopticEvaluator.Run.combine(results.compactMap { $0 }, images: Array(zip(head.imageIds, head.imageFileNames)),
                                                       predictionFiles: head.predictionFiles, categories: categories)
        let failures = try FailureTable.panoptic(evaluation, query: query, file: groundTruth)
        return EvaluationResult(groundTruth: groundTruth, predictions: predictions, engine: .panoptic(evaluation), failures: failures)
    }
}
