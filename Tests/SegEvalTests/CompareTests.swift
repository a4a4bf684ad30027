import Foundation
import Testing
import SegCore
@testable import SegEval

@Suite("Two-run comparison")
struct CompareTests {
    static func sample(_ model: String) throws -> COCOEvaluation {
        let root = Fixtures.repository.appendingPathComponent("sample-data")
        let gt = try COCOReader.readGroundTruth(root.appendingPathComponent("instances.json").path)
        let res = try COCOReader.readResults(root.appendingPathComponent("predictions/\(model).json").path, groundTruth: gt)
        return try COCOEvaluator().evaluate(COCOInputs(groundTruth: gt, results: res))
    }

    @Test("deltas are B − A of each run's own numbers; the seeded interval is reproducible and holds the delta")
    func instance() throws {
        let a = try Self.sample("model-a"), b = try Self.sample("model-b")
        let c1 = Comparison.instance(a, b, replicates: 100, seed: 7)
        let c2 = Comparison.instance(a, b, replicates: 100, seed: 7)
        let c3 = Comparison.instance(a, b, replicates: 100, seed: 8)
        #expect(c1.headline.delta == b.stats[0] - a.stats[0])
        #expect(c1.interval.low == c2.interval.low && c1.interval.high == c2.interval.high)
        #expect(c1.interval != c3.interval)
        #expect(c1.interval.low <= c1.headline.delta && c1.headline.delta <= c1.interval.high)
        for (k, row) in c1.perClass.enumerated() {
            let ap = try #require(row.metrics.first { $0.0 == "AP" }?.1)
            #expect(ap.delta == b.perCategory[k].stats[0] - a.perCategory[k].stats[0])
        }
        // The images are listed worst-for-B first.
        let deltas = c1.perImage.map(\.delta.delta)
        #expect(deltas == deltas.sorted())
    }

    @Test("resampling every image once gives back the run's own AP")
    func identityResample() throws {
        let a = try Self.sample("model-a")
        let ap = Comparison.resampledAP(a, Comparison.cellsByImage(a), [Int](repeating: 1, count: a.images.count))
        #expect(abs(ap - a.stats[0]) < 1e-12)
    }

    @Test("percentiles interpolate linearly like numpy.percentile")
    func percentile() {
        // numpy.percentile([1, 2, 3, 4], [2.5, 97.5]) == [1.075, 3.925]
        #expect(abs(Comparison.percentile([1, 2, 3, 4], 2.5) - 1.075) < 1e-12)
        #expect(abs(Comparison.percentile([1, 2, 3, 4], 97.5) - 3.925) < 1e-12)
    }
}
