import Foundation
import SegCore

/// TIDE's per-image outcomes for a shard's images, by the image's position in the ground truth's
/// file order (the order tidecv walks and `TIDE.summarize` adds them in).
struct TIDEPartial: Codable, Sendable {
    var mask: Bool
    var positions: [Int]
    var outcomes: [Outcome]

    struct Outcome: Codable, Sendable {
        var positiveClasses: [Int], positiveCounts: [Int]
        var falseNegativeClasses: [Int], falseNegativeCounts: [Int]
        var pointClasses: [Int], pointScores: Data, pointCorrect: Data
        var errors: [ErrorRecord]
    }

    struct ErrorRecord: Codable, Sendable {
        var type: String
        var detection: Int?, originalClass: Int?, fixedClass: Int?, missedClass: Int?
        var score: UInt64, area: UInt64
    }

    /// tidecv's per-image pass, as `TIDE.evaluate` runs it, over the images `shard` owns.
    init(_ inputs: COCOInputs, mask: Bool, shard: Shard, workers: Int) throws(SegError) {
        let gt = inputs.groundTruth
        let images = gt.images
        let (gts, dts) = TIDE.annotationsByImage(inputs)
        let owned = images.indices.filter { shard.contains(gt.idText(images[$0])) }
        let outcomes = try Parallel.map(owned.count, workers: workers) { (j) throws(SegError) -> TIDE.ImageOutcome in
            let i = owned[j]
            return try TIDE.evaluateImage(images[i], gt: gts[i], dt: dts[i], inputs: inputs, mask: mask, foreground: 0.5,
                                          background: 0.1, maxDets: 100)
        }
        self.mask = mask
        positions = owned
        self.outcomes = outcomes.map(Outcome.init)
    }
}

extension TIDEPartial.Outcome {
    init(_ o: TIDE.ImageOutcome) {
        positiveClasses = o.positives.map(\.cls)
        positiveCounts = o.positives.map(\.count)
        falseNegativeClasses = o.falseNegatives.map(\.cls)
        falseNegativeCounts = o.falseNegatives.map(\.count)
        pointClasses = o.points.map(\.cls)
        pointScores = PartialBlob.data(o.points.map(\.score))
        pointCorrect = PartialBlob.data(o.points.map(\.correct))
        errors = o.errors.map {
            TIDEPartial.ErrorRecord(type: $0.type.rawValue, detection: $0.detection, originalClass: $0.originalClass,
                                    fixedClass: $0.fixedClass, missedClass: $0.missedClass, score: $0.score.bitPattern,
                                    area: $0.area.bitPattern)
        }
    }

    func outcome(file: String) throws -> TIDE.ImageOutcome {
        guard positiveClasses.count == positiveCounts.count, falseNegativeClasses.count == falseNegativeCounts.count else {
            throw SegError(.corrupt, file: file, "TIDE record: class and count lists differ in length")
        }
        let scores = try PartialBlob.doubles(pointScores, count: pointClasses.count, field: "TIDE pointScores", file: file)
        let correct = try PartialBlob.bools(pointCorrect, count: pointClasses.count, field: "TIDE pointCorrect", file: file)
        var out = TIDE.ImageOutcome(positives: zip(positiveClasses, positiveCounts).map { ($0, $1) },
                                    points: pointClasses.indices.map { (pointClasses[$0], scores[$0], correct[$0]) }, errors: [])
        out.falseNegatives = zip(falseNegativeClasses, falseNegativeCounts).map { ($0, $1) }
        out.errors = try errors.map { e in
            guard let type = TIDEResult.ErrorType(rawValue: e.type) else {
                throw SegError(.corrupt, file: file, "TIDE record: unknown error type \(e.type)")
            }
            return TIDE.ErrorRecord(type: type, detection: e.detection, originalClass: e.originalClass,
                                    score: Double(bitPattern: e.score), fixedClass: e.fixedClass, missedClass: e.missedClass,
                                    area: Double(bitPattern: e.area))
        }
        return out
    }
}
