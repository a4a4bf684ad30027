import SegCore

/// The first pass of the streamed evaluation (`COCOStreamedEvaluation`): both COCO files read
/// once, and of each annotation and detection only where it starts in its file, grouped by batch
/// of images. The second pass reads a batch's entries again from the mapped files, so that no more
/// than one batch is ever parsed at a time.
///
/// The first pass is quick when it can be: of each entry it reads only the image id (and a ground
/// truth's id, checked unique) and skips the rest unchecked, and each batch checks its entries as
/// it parses them (`COCOReader`'s checks). When a batch then fails, `diagnose` runs the checking
/// pass, so that the error named is the first bad entry in file order, as the whole-file reader
/// names it. Anything the quick pass does not handle (string image ids, `--image-ids`, any
/// problem) goes straight to the checking pass.
struct COCOStreamIndex {
    /// Entries of one batch of images, in file order: where each starts in its file and its
    /// position in the file's list (what messages and references name). Both only grow, so each
    /// entry is kept as the two steps from the previous one, LEB128-coded: about 3 bytes instead of
    /// 12 (a million detections are 3 MB, not 12 plus the arrays' slack).
    struct EntryList: Sequence {
        private var steps: [UInt8] = []
        private var lastOffset = 0, lastPosition = 0
        private(set) var count = 0

        mutating func append(offset: Int, position: Int) {
            precondition(offset >= lastOffset && position >= lastPosition, "entries out of file order")
            Self.put(offset - lastOffset, &steps)
            Self.put(position - lastPosition, &steps)
            lastOffset = offset
            lastPosition = position
            count += 1
        }

        private static func put(_ value: Int, _ bytes: inout [UInt8]) {
            var v = UInt(value)
            while v >= 0x80 {
                bytes.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }

        func makeIterator() -> Iterator { Iterator(steps: steps) }

        struct Iterator: IteratorProtocol {
            let steps: [UInt8]
            var at = 0, offset = 0, position = 0

            init(steps: [UInt8]) { self.steps = steps }

            mutating func next() -> (offset: Int, position: Int)? {
                guard at < steps.count else { return nil }
                offset += take()
                position += take()
                return (offset, position)
            }

            private mutating func take() -> Int {
                var value: UInt = 0, shift: UInt = 0
                while at < steps.count {
                    let byte = steps[at]
                    at += 1
                    value |= UInt(byte & 0x7F) << shift
                    if byte < 0x80 { break }
                    shift += 7
                }
                return Int(value)
            }
        }
    }

    struct Batch {
        var groundTruth = EntryList()
        var detections = EntryList()
    }

    /// The ground truth's images and categories, and its string ids' names; no annotations.
    let groundTruth: COCOGroundTruth
    let gtFile: MappedInputFile
    let resultsFile: MappedInputFile
    let resultsPath: String
    /// The images evaluated (all, or `--image-ids`), sorted by id: pycocotools' `imgIds` order.
    /// Batch b holds images[b * batchSize ..< (b + 1) * batchSize].
    let images: [COCOImage]
    let batchSize: Int
    private(set) var batches: [Batch] = []
    /// pycocotools' `loadRes` takes detections' areas from their boxes when the first has one.
    private(set) var firstHasBox = false
    /// The string ids' names → the numbers the evaluation uses (empty for numeric ids).
    private let numberOfName: [String: Int]

    /// The evaluation's parameters, made from the ground truth's images and categories.
    let params: COCOEvalParams
    /// Whether the first pass checked every entry; else each batch checks its own.
    private(set) var entriesChecked = true
    private let annotationsAt: Int?
    private let boxesOnly: Bool
    /// What a batch checks its entries against when the first pass did not (fresh for each batch).
    private let groundTruthCheck: COCOReader.GroundTruthCheck
    private var resultCheck: COCOReader.ResultCheck?

    /// `boxesOnly` as `COCOReader.readBoth`'s. `parameters` makes the evaluation's parameters from
    /// the ground truth's header; only the images of their `imageIds`, when given, are batched (an
    /// id not in the ground truth is an error, as in `COCOInputs.keepImages`).
    init(groundTruth gtPath: String, results resultsPath: String, boxesOnly: Bool, batchSize: Int,
         parameters: (COCOGroundTruth) throws -> COCOEvalParams) throws {
        precondition(batchSize > 0, "batch size must be positive")
        gtFile = try MappedInputFile(gtPath)
        resultsFile = try MappedInputFile(resultsPath)
        self.resultsPath = resultsPath
        self.batchSize = batchSize
        let header: (gt: COCOGroundTruth, annotationsAt: Int?)
        do throws(SegError) {
            // The annotations skipped unchecked, or, at any problem, checked for its exact message.
            if let quick = try? Self.readHeader(gtFile, file: gtPath, quick: true) {
                header = quick
            } else {
                do throws(SegError) {
                    header = try Self.readHeader(gtFile, file: gtPath, quick: false)
                } catch {
                    // The whole-file reader's message: it reads each annotation as it goes, so it
                    // names a bad entry before a later syntax error, and a syntax error in the
                    // words of the field it expected (skipping names it in general ones).
                    _ = try COCOReader.parseGroundTruthBytes(gtFile.bytes, file: gtPath, source: nil)
                    throw error
                }
            }
        } catch {
            throw error.about(gtPath)
        }
        var clock = PhaseClock()
        clock.lap("  ground truth's images and categories")
        var gt = header.gt
        gt.sources = [gtFile]
        groundTruth = gt
        var names: [String: Int] = [:]
        for (number, name) in gt.imageIdNames { names[name] = number }
        numberOfName = names
        params = try parameters(gt)
        var sorted = gt.images.sorted { $0.id < $1.id }
        if let imageIds = params.imageIds {
            let known = Set(sorted.map(\.id))
            if let missing = imageIds.first(where: { !known.contains($0) }) {
                throw SegError(.invalid, file: gtPath, "image id \(missing) (of --image-ids) is not in the ground truth")
            }
            let wanted = Set(imageIds)
            sorted = sorted.filter { wanted.contains($0.id) }
        }
        images = sorted
        let batchOfImage = Self.batchOfImage(sorted, batchSize: batchSize)
        let batchCount = (sorted.count + batchSize - 1) / batchSize
        annotationsAt = header.annotationsAt
        self.boxesOnly = boxesOnly
        groundTruthCheck = try COCOReader.GroundTruthCheck(gt)
        if params.imageIds == nil, let quick = quickScanBoth(batchOfImage: batchOfImage, batchCount: batchCount) {
            batches = (0..<batchCount).map { Batch(groundTruth: quick.gt[$0], detections: quick.results[$0]) }
            firstHasBox = quick.firstHasBox
            entriesChecked = false
        } else {
            // The two files at once: the ground truth's annotations on one thread, the results on the other.
            let (gtLists, results) = try Self.scanBoth(self, annotationsAt: header.annotationsAt, batchOfImage: batchOfImage,
                                                       batchCount: batchCount, boxesOnly: boxesOnly)
            batches = (0..<batchCount).map { Batch(groundTruth: gtLists[$0], detections: results.lists[$0]) }
            firstHasBox = results.firstHasBox
        }
        resultCheck = COCOReader.ResultCheck(groundTruth: groundTruth, firstHasBox: firstHasBox, file: resultsPath,
                                             checkMaskSizes: !(boxesOnly && firstHasBox))
        gtFile.releaseAll()
        resultsFile.releaseAll()
    }

    /// How many images the ground truth lists (its header read and checked, the annotations skipped).
    /// How many entries the ground truth's "images" list has, counted up to `limit + 1` (the
    /// question is only whether a set fits in one batch); nil when the file's top level cannot
    /// be read that far, for the readers to name the problem. The entries are skipped, not
    /// read: at 1,000 images reading them whole cost 2 % of the run.
    static func imageCount(_ gtPath: String, atMost limit: Int = .max) -> Int? {
        guard let file = try? MappedInputFile(gtPath) else { return nil }
        var json = JSONCursor(file.bytes)
        do throws(SegError) {
            var object = try json.beginObject()
            while let key = try json.nextKey(&object) {
                guard json.key(key, is: "images") else {
                    try json.skipValue()
                    continue
                }
                var array = try json.beginArray()
                var count = 0
                while try json.nextElement(&array) {
                    count += 1
                    if count > limit { return count }
                    try json.skipValue()
                }
                return count
            }
        } catch {
            return nil
        }
        return nil
    }

    /// After a batch failed, when the first pass was the quick one: the checking pass, which
    /// throws the first bad entry in file order (what the whole-file reader names), if any.
    func diagnose() throws {
        guard !entriesChecked else { return }
        _ = try Self.scanBoth(self, annotationsAt: annotationsAt, batchOfImage: Self.batchOfImage(images, batchSize: batchSize),
                              batchCount: batches.count, boxesOnly: boxesOnly)
    }

    /// Each evaluated image's batch, by image id (`images` in batch order).
    private static func batchOfImage(_ images: [COCOImage], batchSize: Int) -> [Int: Int32] {
        var batchOfImage: [Int: Int32] = [:]
        batchOfImage.reserveCapacity(images.count)
        for (i, image) in images.enumerated() { batchOfImage[image.id] = Int32(i / batchSize) }
        return batchOfImage
    }

    /// The quick pass over both files at once; nil when either meets anything it does not handle.
    private func quickScanBoth(batchOfImage: [Int: Int32], batchCount: Int) -> (gt: [EntryList], results: [EntryList], firstHasBox: Bool)? {
        enum Scanned { case groundTruth([EntryList]), results([EntryList], Bool), failed }
        let scanned = try? Parallel.map(2, workers: 2, block: 1) { (task) throws(SegError) -> Scanned in
            if task == 0 {
                return quickScanAnnotations(at: annotationsAt, batchOfImage: batchOfImage, batchCount: batchCount).map { .groundTruth($0) } ?? .failed
            }
            let results = scanResultsInHalves(batchOfImage: batchOfImage, batchCount: batchCount, boxesOnly: boxesOnly, quick: true)
                ?? quickScanResults(batchOfImage: batchOfImage, batchCount: batchCount)
            return results.map { .results($0.lists, $0.firstHasBox) } ?? .failed
        }
        guard let scanned, case .groundTruth(let gt) = scanned[0], case .results(let lists, let firstHasBox) = scanned[1] else { return nil }
        return (gt, lists, firstHasBox)
    }

    private static func scanBoth(_ index: COCOStreamIndex, annotationsAt: Int?, batchOfImage: [Int: Int32], batchCount: Int,
                                 boxesOnly: Bool) throws -> ([EntryList], (lists: [EntryList], firstHasBox: Bool)) {
        enum Scanned { case groundTruth([EntryList]), results([EntryList], Bool) }
        let scanned = try Parallel.map(2, workers: 2, block: 1) { (task) throws(SegError) -> Scanned in
            if task == 0 {
                do throws(SegError) {
                    return .groundTruth(try index.scanAnnotations(at: annotationsAt, batchOfImage: batchOfImage, batchCount: batchCount))
                } catch {
                    throw error.about(index.groundTruth.file)
                }
            }
            do throws(SegError) {
                let (lists, firstHasBox) = try index.scanResults(batchOfImage: batchOfImage, batchCount: batchCount, boxesOnly: boxesOnly)
                return .results(lists, firstHasBox)
            } catch {
                throw error.about(index.resultsPath)
            }
        }
        // A ground-truth error is reported first, as when the ground truth is read before the results.
        guard case .groundTruth(let gt) = scanned[0], case .results(let lists, let firstHasBox) = scanned[1] else {
            preconditionFailure("scanBoth: tasks out of order")
        }
        return (gt, (lists, firstHasBox))
    }

    // MARK: Ground truth

    /// Images and categories (checked, string ids numbered), and where the annotations list starts.
    /// `quick`: the annotations skipped without checking their syntax (`JSONCursor.skipUnchecked`).
    static func readHeader(_ source: MappedInputFile, file: String, quick: Bool) throws(SegError) -> (gt: COCOGroundTruth, annotationsAt: Int?) {
        var annotationsAt: Int?
        var released = 0
        let top = try COCOReader.walkGroundTruth(source.bytes, file: file) { (json, _) throws(SegError) in
            annotationsAt = json.position
            // Skipped entry by entry, handing back the pages passed: the annotations are most
            // of the file.
            var array = try json.beginArray()
            while try json.nextElement(&array) {
                if quick { try json.skipUnchecked() } else { try json.skipValue() }
                COCOReader.releaseBehind(json.position, &released, source)
            }
        }
        source.releaseAll()
        var gt = COCOGroundTruth(file: file, images: top.images, categories: top.categories, annotations: [])
        var ids = top.ids
        try ids.resolve(&gt)
        _ = try COCOReader.GroundTruthCheck(gt)
        return (gt, annotationsAt)
    }

    /// Every annotation checked and placed in its image's batch.
    private func scanAnnotations(at start: Int?, batchOfImage: [Int: Int32], batchCount: Int) throws(SegError) -> [EntryList] {
        var lists = [EntryList](repeating: EntryList(), count: batchCount)
        guard let start else { return lists }
        var check = try COCOReader.GroundTruthCheck(groundTruth)
        var ids = StringImageIds()
        var json = JSONCursor(gtFile.bytes)
        json.position = start
        var released = 0
        var array = try json.beginArray()
        var i = 0
        while try json.nextElement(&array) {
            let offset = json.position
            var ann = try COCOReader.readAnnotation(&json, entry: "annotations[\(i)]", isResult: false, ids: &ids, source: gtFile)
            ann.imageId = try groundTruthImageNumber(ann, index: i, ids: ids)
            try check.check(ann, index: i)
            if let b = batchOfImage[ann.imageId] { lists[Int(b)].append(offset: offset, position: i) }
            COCOReader.releaseBehind(json.position, &released, gtFile)
            i += 1
        }
        return lists
    }

    /// The quick pass over the annotations: each placed in its image's batch, its id checked
    /// unique; nil at a string image id, an unknown image, a missing or repeated id, bad syntax.
    private func quickScanAnnotations(at start: Int?, batchOfImage: [Int: Int32], batchCount: Int) -> [EntryList]? {
        var lists = [EntryList](repeating: EntryList(), count: batchCount)
        guard let start else { return lists }
        var json = JSONCursor(gtFile.bytes)
        json.position = start
        var released = 0
        var ids = Set<Int>()
        do throws(SegError) {
            var array = try json.beginArray()
            var i = 0
            while try json.nextElement(&array) {
                let offset = json.position
                let entry = try json.quickEntry()
                guard let image = entry.imageId, let b = batchOfImage[image], let id = entry.id, ids.insert(id).inserted else { return nil }
                lists[Int(b)].append(offset: offset, position: i)
                COCOReader.releaseBehind(json.position, &released, gtFile)
                i += 1
            }
        } catch {
            return nil
        }
        return lists
    }

    /// An annotation's image as a number (`StringImageIds.resolve`'s rules for string ids).
    private func groundTruthImageNumber(_ ann: COCOAnnotation, index i: Int, ids: StringImageIds) throws(SegError) -> Int {
        guard StringImageIds.isProvisional(ann.imageId) else { return ann.imageId }
        let name = ids.name(ann.imageId)
        guard !numberOfName.isEmpty else {
            let number = groundTruth.images.first.map { String($0.id) } ?? "?"
            throw SegError(.invalid, file: groundTruth.file, "image ids mix numbers (\(number)) and strings: pycocotools cannot sort them either")
        }
        guard let number = numberOfName[name] else {
            throw SegError(.invalid, file: groundTruth.file, "annotations[\(i)] (id \(ann.id)): unknown image id \"\(name)\"")
        }
        return number
    }

    // MARK: Results

    /// Every detection checked (`COCOReader.ResultCheck`) and placed in its image's batch: in two
    /// halves at once when the file allows, else in one pass.
    private func scanResults(batchOfImage: [Int: Int32], batchCount: Int, boxesOnly: Bool) throws(SegError)
        -> (lists: [EntryList], firstHasBox: Bool) {
        if let halves = scanResultsInHalves(batchOfImage: batchOfImage, batchCount: batchCount, boxesOnly: boxesOnly, quick: false) {
            return halves
        }
        var lists = [EntryList](repeating: EntryList(), count: batchCount)
        var firstHasBox = false
        var check: COCOReader.ResultCheck?
        var json = JSONCursor(resultsFile.bytes)
        func readList(_ json: inout JSONCursor) throws(SegError) {
            var array = try json.beginArray()
            _ = try scanDetections(&json, &array, from: 0, stopAtComma: nil, check: &check, firstHasBox: &firstHasBox, boxesOnly: boxesOnly,
                                   batchOfImage: batchOfImage, quick: false, into: &lists)
        }
        try COCOReader.resultList(&json, readList)
        try json.expectEnd()
        return (lists, firstHasBox)
    }

    /// The results list read as two halves on two threads, split at a boundary between two
    /// detections past the middle (`COCOReader.middleBoundary`, as the whole-file reader does).
    /// nil when there is no such boundary, or when anything is wrong: the one-pass scan then
    /// names the first bad entry exactly (the second half counts its entries from 0).
    /// `quick`: the quick pass (`quickEntry`), the entries placed but not checked.
    private func scanResultsInHalves(batchOfImage: [Int: Int32], batchCount: Int, boxesOnly: Bool,
                                     quick: Bool) -> (lists: [EntryList], firstHasBox: Bool)? {
        let bytes = resultsFile.bytes
        // The head as long as the tail and the ground truth together (as the whole-file reader
        // splits): the worker that reads the ground truth then takes the tail, and both end together.
        guard let split = COCOReader.middleBoundary(bytes, near: min(bytes.count - 1, (bytes.count + gtFile.bytes.count) / 2)) else { return nil }
        // Every check needs to know whether the first detection has a box.
        var peek = JSONCursor(bytes)
        var peekIds = StringImageIds()
        guard var peekArray = try? peek.beginArray(), (try? peek.nextElement(&peekArray)) == true,
              let first = try? COCOReader.readAnnotation(&peek, entry: "results[0]", isResult: true, ids: &peekIds) else { return nil }
        let firstHasBox = first.bbox != nil
        let halves = try? Parallel.map(2, workers: 2, block: 1) { (half) throws(SegError) -> (lists: [EntryList], count: Int) in
            var lists = [EntryList](repeating: EntryList(), count: batchCount)
            var check: COCOReader.ResultCheck?
            var hasBox = firstHasBox
            var json = JSONCursor(resultsFile.bytes)
            var array: JSONCursor.ArrayState
            if half == 0 {
                array = try json.beginArray()
            } else {
                json.position = split.brace
                array = JSONCursor.ArrayState(first: true)
                check = COCOReader.ResultCheck(groundTruth: groundTruth, firstHasBox: firstHasBox, file: resultsPath,
                                               checkMaskSizes: !(boxesOnly && firstHasBox))
            }
            let count = try scanDetections(&json, &array, from: 0, stopAtComma: half == 0 ? split.comma : nil, check: &check,
                                           firstHasBox: &hasBox, boxesOnly: boxesOnly, batchOfImage: batchOfImage, quick: quick, into: &lists)
            if half == 1 { try json.expectEnd() }
            return (lists, count)
        }
        guard let halves, halves.count == 2 else { return nil }
        var lists = halves[0].lists
        let headCount = halves[0].count
        for b in 0..<batchCount {
            for entry in halves[1].lists[b] { lists[b].append(offset: entry.offset, position: entry.position + headCount) }
        }
        return (lists, firstHasBox)
    }

    /// Detections from the cursor (inside the results array) to its end, or to the element that
    /// ends at `stopAtComma`; numbered from `first`. Returns how many it read. `quick`: only each
    /// entry's image read (`quickEntry`), any problem thrown as is (the caller then checks).
    private func scanDetections(_ json: inout JSONCursor, _ array: inout JSONCursor.ArrayState, from first: Int, stopAtComma: Int?,
                                check: inout COCOReader.ResultCheck?, firstHasBox: inout Bool, boxesOnly: Bool,
                                batchOfImage: [Int: Int32], quick: Bool, into lists: inout [EntryList]) throws(SegError) -> Int {
        var ids = StringImageIds()
        var released = json.position
        var i = first
        while try json.nextElement(&array) {
            if quick {
                _ = try quickPlace(&json, position: i, batchOfImage: batchOfImage, into: &lists)
            } else {
                let offset = json.position
                var d = try COCOReader.readAnnotation(&json, entry: "results[\(i)]", isResult: true, ids: &ids, source: resultsFile)
                if check == nil {
                    // `'bbox' in anns[0] and not anns[0]['bbox'] == []`: an empty list counts as absent.
                    firstHasBox = d.bbox != nil
                    check = COCOReader.ResultCheck(groundTruth: groundTruth, firstHasBox: firstHasBox, file: resultsPath,
                                                   checkMaskSizes: !(boxesOnly && firstHasBox))
                }
                d.imageId = try resultImageNumber(d, index: i, ids: ids)
                try check?.check(&d, index: i)
                if let b = batchOfImage[d.imageId] { lists[Int(b)].append(offset: offset, position: i) }
            }
            COCOReader.releaseBehind(json.position, &released, resultsFile)
            i += 1
            if let stop = stopAtComma {
                _ = json.peek()
                if json.position == stop { return i - first }
                if json.position > stop { throw json.error("the split guess was not a boundary") }
            }
        }
        if stopAtComma != nil { throw json.error("the split guess was not reached") }
        return i - first
    }

    /// The quick pass over a results file in one piece (too small to split, or a list wrapped in
    /// an object); nil at anything it does not handle.
    private func quickScanResults(batchOfImage: [Int: Int32], batchCount: Int) -> (lists: [EntryList], firstHasBox: Bool)? {
        var lists = [EntryList](repeating: EntryList(), count: batchCount)
        var firstHasBox = false
        var json = JSONCursor(resultsFile.bytes)
        var released = 0
        do throws(SegError) {
            try COCOReader.resultList(&json) { (json) throws(SegError) in
                var array = try json.beginArray()
                var i = 0
                while try json.nextElement(&array) {
                    let hasBox = try quickPlace(&json, position: i, batchOfImage: batchOfImage, into: &lists)
                    if i == 0 { firstHasBox = hasBox }
                    COCOReader.releaseBehind(json.position, &released, resultsFile)
                    i += 1
                }
            }
            try json.expectEnd()
        } catch {
            return nil
        }
        return (lists, firstHasBox)
    }

    /// One detection of the quick pass placed in its image's batch; whether it has a box.
    private func quickPlace(_ json: inout JSONCursor, position: Int, batchOfImage: [Int: Int32],
                            into lists: inout [EntryList]) throws(SegError) -> Bool {
        let offset = json.position
        let entry = try json.quickEntry()
        guard let image = entry.imageId, let b = batchOfImage[image] else { throw json.error("an entry the quick pass does not place") }
        lists[Int(b)].append(offset: offset, position: position)
        return entry.hasBox
    }

    private func resultImageNumber(_ d: COCOAnnotation, index i: Int, ids: StringImageIds) throws(SegError) -> Int {
        guard StringImageIds.isProvisional(d.imageId) else { return d.imageId }
        let name = ids.name(d.imageId)
        guard let number = numberOfName[name] else {
            throw SegError(.invalid, file: resultsPath, "results[\(i)]: image id \"\(name)\" is not in the ground truth \(groundTruth.file)")
        }
        return number
    }

    // MARK: Second pass

    /// Batch b's ground truth and detections parsed again, as the whole-file reader gives them
    /// (detections numbered by their place in the file, `id` = position + 1): the ground truth and
    /// four pieces of the detections on `workers` threads.
    func inputs(ofBatch b: Int, workers: Int) throws -> COCOInputs {
        let batch = batches[b]
        let first = b * batchSize
        var gt = groundTruth
        gt.images = Array(images[first..<min(first + batchSize, images.count)])
        // The detections in four pieces beside the ground truth: with two, the worker that also
        // read the ground truth finished last.
        let entries = Array(batch.detections), pieceCount = 4
        let pieces = (0..<pieceCount).map { entries[(entries.count * $0 / pieceCount)..<(entries.count * ($0 + 1) / pieceCount)] }
        var parsed = try Parallel.map(1 + pieceCount, workers: workers, block: 1) { (task) throws(SegError) -> [COCOAnnotation] in
            if task == 0 { return try read(ArraySlice(Array(batch.groundTruth)), from: gtFile, file: groundTruth.file, isResult: false) }
            return try read(pieces[task - 1], from: resultsFile, file: resultsPath, isResult: true)
        }
        gt.annotations = parsed[0]
        var detections = parsed[1]
        parsed[1] = []
        detections.reserveCapacity(entries.count)  // once, not once per piece
        for p in 2...pieceCount { COCOReader.appendMoving(&parsed[p], to: &detections) }
        var results = COCOResults(file: resultsPath, detections: detections, areaFromBox: firstHasBox)
        results.sources = [resultsFile]
        return COCOInputs(groundTruth: gt, results: results)
    }

    private func read(_ entries: ArraySlice<(offset: Int, position: Int)>, from source: MappedInputFile, file: String,
                      isResult: Bool) throws(SegError) -> [COCOAnnotation] {
        var out: [COCOAnnotation] = []
        out.reserveCapacity(entries.count)
        var ids = StringImageIds()
        var json = JSONCursor(source.bytes)
        // The checks the quick first pass left to the batch (each entry is in one batch only).
        var gtCheck = entriesChecked || isResult ? nil : groundTruthCheck
        let detectionCheck = entriesChecked || !isResult ? nil : resultCheck
        do {
            for (offset, position) in entries {
                json.position = offset
                var ann = try COCOReader.readAnnotation(&json, entry: isResult ? "results[\(position)]" : "annotations[\(position)]",
                                                        isResult: isResult, ids: &ids, source: source)
                if StringImageIds.isProvisional(ann.imageId), let number = numberOfName[ids.name(ann.imageId)] { ann.imageId = number }
                if isResult {
                    ann.id = position + 1
                    ann.isCrowd = false
                }
                ann.filePosition = Int32(truncatingIfNeeded: position)
                try gtCheck?.check(ann, index: position)
                try detectionCheck?.check(&ann, index: position)
                out.append(ann)
            }
        } catch {
            throw error.about(file)
        }
        return out
    }
}

extension JSONCursor {
    /// The quick first pass's view of an entry (the cursor at its '{'): its "image_id" when a
    /// number, its "id", and whether its "bbox" is there (neither null nor `[]`, `readBox`'s
    /// rule); every other value skipped unchecked (`skipUnchecked`).
    fileprivate mutating func quickEntry() throws(SegError) -> (imageId: Int?, id: Int?, hasBox: Bool) {
        var imageId: Int?, id: Int?
        var hasBox = false
        var object = try beginObject()
        while let name = try nextKey(&object) {
            if key(name, is: "image_id") {
                guard peek() != UInt8(ascii: "\"") else { return (nil, nil, false) }
                imageId = try integer()
            } else if key(name, is: "id") {
                id = try integer()
            } else if key(name, is: "bbox") {
                let start = position
                if null() {
                    hasBox = false
                } else {
                    position += 1
                    hasBox = peek() != UInt8(ascii: "]")
                    position = start
                    try skipUnchecked()
                }
            } else {
                try skipUnchecked()
            }
        }
        return (imageId, id, hasBox)
    }
}
