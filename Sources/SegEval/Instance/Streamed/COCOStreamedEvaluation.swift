import SegCore
import SegConcurrency

#if canImport(Glibc)
/// glibc's `mallopt` (malloc.h, which the Glibc module does not bring in).
@_silgen_name("mallopt")
private func mallocOption(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// The COCO (or LVIS) evaluation of two COCO JSON files in memory that does not grow with the
/// number of images: the first pass (`COCOStreamIndex`) keeps only where each entry starts (and
/// checks every entry, or leaves that to the batches, see there); then one batch of images at a
/// time is parsed again and matched as
/// `COCOEvaluator.match` does, its cells' accumulation tables go to a temporary file
/// (`CellSpill`) and its failures to a collector that keeps the first rows; accumulation then
/// reads one category at a time. The numbers, the counts and the failure table are the in-memory
/// evaluation's (tested against it); what it does not keep is the cells, so it serves the reports
/// of `segterm eval`, not TIDE, comparisons or the workbench, which read every cell.
public enum COCOStreamedEvaluation {
    public struct Result: Sendable {
        /// Its evaluation has no cells (`cells` is empty) and its inputs no annotations.
        public let report: InstanceReport
        public let failures: FailureTable
        /// The first ground-truth annotation with id 0, by its image (pycocotools' quirk, said aloud).
        public let zeroIdImage: Int?
    }

    /// Images per batch: memory holds one batch's parsed entries and cells.
    public static let defaultBatchSize = 1024

    /// `parameters` makes the evaluation's parameters from the ground truth's images and categories
    /// (as `Evaluation.cocoParams` does).
    public static func run(groundTruth gtPath: String, results resultsPath: String, boxesOnly: Bool,
                           failureQuery: FailureQuery, workers: Int = Parallel.coreCount, batchSize: Int = defaultBatchSize,
                           progress: (@Sendable (Int, Int) -> Void)? = nil,
                           parameters: (COCOGroundTruth) throws -> COCOEvalParams) throws -> Result {
        #if canImport(Glibc)
        // One malloc arena for the whole process (M_ARENA_MAX = -8): with one per thread, each
        // batch's memory, allocated and freed on several threads, stayed spread over several
        // heaps, and the peak at 20,000 images was 95–101 MB instead of 86–87 (the threads'
        // caches keep most allocations off the shared lock).
        _ = mallocOption(-8, 1)
        #endif
        var clock = PhaseClock()
        let index = try COCOStreamIndex(groundTruth: gtPath, results: resultsPath, boxesOnly: boxesOnly, batchSize: batchSize,
                                        parameters: parameters)
        clock.lap("first pass (check and index both files)")
        let params = index.params
        var batchParams = params
        batchParams.imageIds = nil  // the index batches only those images
        let gt = index.groundTruth
        let categories = params.useCategories ? gt.categories.sorted { $0.id < $1.id }
            : [COCOCategory(id: COCOInputs.allCategoriesId, name: "all classes")]
        try failureQuery.checkClass(in: categories.map { (id: $0.id, name: $0.name) }, file: gt.file)
        let K = categories.count
        let spill = try CellSpill(categories: K, areaRanges: params.areaRanges.count, thresholds: params.iouThresholds.count)
        var failures = FailureCollector(query: failureQuery)
        let imageRank = FailureTable.nameRanks(index.images.map { $0.fileName.isEmpty ? String($0.id) : $0.fileName })
        var groundTruthPerCategory = [Int](repeating: 0, count: K), detectionsPerCategory = [Int](repeating: 0, count: K)
        var detectionCount = 0
        var zeroIdImage: Int?
        let evaluator = COCOEvaluator(params: batchParams)
        let total = index.images.count
        do {
            for b in index.batches.indices {
                let first = b * batchSize
                let inputs = try index.inputs(ofBatch: b, workers: workers)
                clock.lap("  parse batch")
                let report = progress.map { report in { @Sendable (done: Int, _: Int) in report(first + done, total) } }
                let m = try evaluator.match(inputs, workers: workers, progress: report, shard: .whole)
                // The counts as the report takes them from the inputs the protocol evaluated.
                let counts = InstanceReport.counts(categories: categories, inputs: m.inputs)
                for k in 0..<K {
                    groundTruthPerCategory[k] += counts.groundTruth[k]
                    detectionsPerCategory[k] += counts.detections[k]
                }
                detectionCount += m.inputs.results.detections.count
                if zeroIdImage == nil, let zero = m.inputs.groundTruth.annotations.first(where: { $0.id == 0 }) { zeroIdImage = zero.imageId }
                // The failures' keys and the spill at once: both only read the batch's cells, and
                // one after the other they were about a tenth of a batch's time.
                var keys: InstanceFailureKeys?
                var spillError: SegError?
                ParallelFor.run(2, workers: workers) { task in
                    if task == 0 {
                        keys = InstanceFailureKeys(params: params, images: m.images, categories: categories, cells: m.cells, inputs: m.inputs,
                                                   query: failureQuery, imageRank: Array(imageRank[first..<(first + m.images.count)]))
                    } else {
                        do throws(SegError) { try spill.append(m.cells, imageOffset: first) } catch { spillError = error }
                    }
                }
                if let spillError { throw spillError }
                if let keys { failures.add(keys) }
                m.inputs.releasePages()
                clock.lap("  match, counts, failures, spill")
            }
        } catch {
            // A batch found a bad entry the quick first pass did not check: name the first in file order.
            try index.diagnose()
            throw error
        }
        clock.lap("batches' end")
        let (precision, recall) = try COCOEvaluation.accumulate(params: params, categoryCount: K, workers: workers) { (k) throws(SegError) in
            let cells = try spill.cells(ofCategory: k)
            return COCOEvaluation.accumulateCategory(params: params, cells: cells, members: Array(cells.indices))
        }
        clock.lap("accumulate (from the spill)")
        var header = gt
        header.images = index.images
        var emptyResults = COCOResults(file: resultsPath, detections: [], areaFromBox: index.firstHasBox)
        emptyResults.sources = []
        header.sources = []
        let evaluation = COCOEvaluation(params: params, inputs: COCOInputs(groundTruth: header, results: emptyResults,
                                                                           evaluationProtocol: params.evaluationProtocol),
                                        images: index.images, categories: categories, cells: [], precision: precision, recall: recall)
        let report = InstanceReport(evaluation: evaluation, groundTruthFile: gt.file, predictionsFile: resultsPath,
                                    detectionCount: detectionCount, groundTruthPerCategory: groundTruthPerCategory,
                                    detectionsPerCategory: detectionsPerCategory, notes: [])
        return Result(report: report, failures: failures.table, zeroIdImage: zeroIdImage)
    }
}
