import SegCore

/// Reads COCO instances and results files with the pull parser, checking what pycocotools would
/// silently drop or crash on (unknown images and categories, malformed RLE, sizes that contradict
/// the image, scores that are not numbers). Errors name the file and the entry.
public enum COCOReader {
    public static func readGroundTruth(_ path: String) throws -> COCOGroundTruth {
        let bytes = try FileIO.read(path)
        do {
            return try parseGroundTruth(bytes, file: path)
        } catch {
            throw error.about(path)
        }
    }

    public static func readResults(_ path: String, groundTruth: COCOGroundTruth) throws -> COCOResults {
        let bytes = try FileIO.read(path)
        do {
            return try parseResults(bytes, file: path, groundTruth: groundTruth)
        } catch {
            throw error.about(path)
        }
    }

    /// Both files, parsed at the same time on two threads (the results are checked against the
    /// ground truth once both are read).
    /// `boxesOnly`: the evaluation matches boxes (iouType bbox), so when the detections carry boxes
    /// their masks are never decoded and a mask encoded at another size than its image is no error.
    public static func readBoth(groundTruth gtPath: String, results resultsPath: String,
                                boxesOnly: Bool = false) throws -> (COCOGroundTruth, COCOResults) {
        // Both files mapped, not copied: the RLE texts stay in the mappings (`RLEText`), and the
        // parsers hand back the pages they have passed, so the resident size does not hold the files.
        let gtFile = try MappedInputFile(gtPath), resultsFile = try MappedInputFile(resultsPath)
        let resultsBytes = resultsFile.bytes
        // The results file is parsed in two parts at once when a boundary between two detections
        // can be found near the split point; the first part confirms the guess by ending exactly
        // there. One worker reads the ground truth, the other the first part, and whichever is
        // done first the second part: the first part is made as long as the ground truth and the
        // second part together, so that both workers finish together.
        let split = middleBoundary(resultsBytes, near: min(resultsBytes.count - 1, (resultsBytes.count + gtFile.bytes.count) / 2))
        let tasks = split == nil ? 2 : 3
        var parsed = try Parallel.map(tasks, workers: 2, block: 1) { (i) throws(SegError) -> ParsedFile in
            if i == 0 {
                do throws(SegError) {
                    return .groundTruth(try parseGroundTruthBytes(gtFile.bytes, file: gtPath, source: gtFile))
                } catch {
                    throw error.about(gtPath)
                }
            }
            if let split {
                if i == 1 {
                    guard let head = try? parseResultList(resultsFile.bytes, stopAtComma: split.comma, source: resultsFile) else { return .failed }
                    return .results(detections: head.detections, firstHasBox: head.firstHasBox, ids: head.ids)
                }
                guard let tail = try? parseResultTail(resultsFile.bytes, from: split.brace, source: resultsFile) else { return .failed }
                return .results(detections: tail.detections, firstHasBox: false, ids: tail.ids)
            }
            do throws(SegError) {
                let list = try parseResultList(resultsFile.bytes, source: resultsFile)
                return .results(detections: list.detections, firstHasBox: list.firstHasBox, ids: list.ids)
            } catch {
                throw error.about(resultsPath)
            }
        }
        guard case .groundTruth(var gt) = parsed[0] else { preconditionFailure("readBoth: results out of order") }
        var detections: [COCOAnnotation] = []
        var firstHasBox = false
        if tasks == 3, case .results(_, let box, let headIds) = parsed[1], case .results(_, _, let tailIds) = parsed[2] {
            // Taken out of `parsed` so that the head is uniquely referenced and grows in place:
            // 50,000 annotations copied twice showed up in the profile.
            detections = takeDetections(&parsed[1])
            var tail = takeDetections(&parsed[2])
            // Each half numbered its string ids on its own: map both before joining.
            try headIds.resolve(&detections, groundTruth: gt, file: resultsPath)
            try tailIds.resolve(&tail, groundTruth: gt, file: resultsPath, offset: detections.count)
            appendMoving(&tail, to: &detections)
            firstHasBox = box
        } else if tasks == 2, case .results(_, let box, let ids) = parsed[1] {
            detections = takeDetections(&parsed[1])
            try ids.resolve(&detections, groundTruth: gt, file: resultsPath)
            firstHasBox = box
        } else {
            // The guess was wrong or a half has an error: read it whole for the exact message.
            do throws(SegError) {
                let list = try parseResultList(resultsBytes, source: resultsFile)
                detections = list.detections
                firstHasBox = list.firstHasBox
                try list.ids.resolve(&detections, groundTruth: gt, file: resultsPath)
            } catch {
                throw error.about(resultsPath)
            }
        }
        try checkResults(&detections, firstHasBox: firstHasBox, file: resultsPath, groundTruth: gt,
                         checkMaskSizes: !(boxesOnly && firstHasBox))
        gtFile.releaseAll()
        resultsFile.releaseAll()
        gt.sources = [gtFile]
        var results = COCOResults(file: resultsPath, detections: detections, areaFromBox: firstHasBox)
        results.sources = [resultsFile]
        return (gt, results)
    }

    /// The detections of a parsed part, leaving `.failed` in its place so that the caller holds
    /// the only reference.
    static func takeDetections(_ slot: inout ParsedFile) -> [COCOAnnotation] {
        guard case .results(let list, _, _) = slot else { return [] }
        slot = .failed
        return list
    }

    /// Moves every element of `source` to the end of `list`, leaving reference-free placeholders
    /// behind: appending copies would retain each annotation's payload and freeing the source
    /// would release it again, 25,000 times each for the second half of a results file.
    static func appendMoving(_ source: inout [COCOAnnotation], to list: inout [COCOAnnotation]) {
        list.reserveCapacity(list.count + source.count)
        source.withUnsafeMutableBufferPointer { src in
            guard let base = src.baseAddress else { return }
            for i in 0..<src.count {
                list.append((base + i).move())
                (base + i).initialize(to: COCOAnnotation(id: 0, imageId: 0, categoryId: 0))
            }
        }
    }

    /// A `}`, `,`, `{` sequence after the middle of a top-level array (or after `near`): (index of the comma, of the brace).
    /// `near`: where to start looking (the middle by default).
    static func middleBoundary(_ bytes: UnsafeBufferPointer<UInt8>, near: Int? = nil) -> (comma: Int, brace: Int)? {
        guard bytes.count > 1 << 20 else { return nil }
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x0A || bytes[start] == 0x0D || bytes[start] == 0x09 { start += 1 }
        guard start < bytes.count, bytes[start] == UInt8(ascii: "[") else { return nil }
        var i = max(start, near ?? bytes.count / 2)
        while i + 2 < bytes.count {
            if bytes[i] == UInt8(ascii: "}") {
                var j = i + 1
                while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x0A || bytes[j] == 0x0D || bytes[j] == 0x09 { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: ",") {
                    var k = j + 1
                    while k < bytes.count, bytes[k] == 0x20 || bytes[k] == 0x0A || bytes[k] == 0x0D || bytes[k] == 0x09 { k += 1 }
                    if k < bytes.count, bytes[k] == UInt8(ascii: "{") { return (j, k) }
                }
            }
            i += 1
        }
        return nil
    }

    /// Detections from `brace` (the start of one) to the end of the top-level array.
    static func parseResultTail(_ buffer: UnsafeBufferPointer<UInt8>, from brace: Int,
                                source: MappedInputFile) throws(SegError) -> (detections: [COCOAnnotation], ids: StringImageIds) {
        var detections: [COCOAnnotation] = []
        var ids = StringImageIds()
        var json = JSONCursor(buffer)
        json.position = brace
        var released = brace
        var array = JSONCursor.ArrayState(first: true)
        while try json.nextElement(&array) {
            detections.append(try readAnnotation(&json, entry: "results[?]", isResult: true, ids: &ids, source: source))
            releaseBehind(json.position, &released, source)
            reserveByEstimate(&detections, start: brace, position: json.position, end: buffer.count)
        }
        try json.expectEnd()
        return (detections, ids)
    }

    /// After the first 256 detections, room for the rest of the bytes at their average size (and
    /// a tenth more): a list that grows by doubling copies itself and, at a million detections,
    /// holds its old and new storage at once (hundreds of MB). Room never touched is address
    /// space, not resident memory.
    @inline(__always)
    static func reserveByEstimate(_ list: inout [COCOAnnotation], start: Int, position: Int, end: Int) {
        guard list.count == 256, position > start else { return }
        let perDetection = max(1, (position - start) / 256)
        list.reserveCapacity((end - start) / perDetection * 11 / 10 + 256)
    }

    /// Hands back the pages a parser has passed, every 8 MB.
    @inline(__always)
    static func releaseBehind(_ position: Int, _ released: inout Int, _ source: MappedInputFile?) {
        guard let source, position - released >= 8 << 20 else { return }
        source.release(released..<position)
        released = position
    }

    enum ParsedFile: Sendable {
        case groundTruth(COCOGroundTruth)
        case results(detections: [COCOAnnotation], firstHasBox: Bool, ids: StringImageIds)
        case failed
    }

    // MARK: Ground truth

    public static func parseGroundTruth(_ bytes: [UInt8], file: String = "") throws(SegError) -> COCOGroundTruth {
        do {
            return try bytes.withUnsafeBufferPointer { (buffer) throws(SegError) in
                try parseGroundTruthBytes(buffer, file: file, source: nil)
            }
        } catch {
            throw error.about(file)
        }
    }

    /// `source`: the mapping `buffer` lies in, when RLE texts may stay there.
    static func parseGroundTruthBytes(_ buffer: UnsafeBufferPointer<UInt8>, file: String,
                                      source: MappedInputFile?) throws(SegError) -> COCOGroundTruth {
        var annotations: [COCOAnnotation] = []
        var released = 0
        var top = try walkGroundTruth(buffer, file: file) { (json, ids) throws(SegError) in
            annotations = []
            var array = try json.beginArray()
            while try json.nextElement(&array) {
                var ann = try readAnnotation(&json, entry: "annotations[\(annotations.count)]", isResult: false, ids: &ids, source: source)
                ann.filePosition = Int32(truncatingIfNeeded: annotations.count)
                annotations.append(ann)
                releaseBehind(json.position, &released, source)
            }
        }
        var gt = COCOGroundTruth(file: file, images: top.images, categories: top.categories, annotations: annotations)
        try top.ids.resolve(&gt)
        try validate(gt)
        return gt
    }

    /// The top level of a ground-truth file, for the whole reader and the streamed index alike:
    /// its images and categories read, the "annotations" list handed to `annotations` (the
    /// cursor at its '['; it reads or skips the whole list), anything else skipped, and the two
    /// lists every COCO instances file has required.
    static func walkGroundTruth(_ buffer: UnsafeBufferPointer<UInt8>, file: String,
                                annotations: (inout JSONCursor, inout StringImageIds) throws(SegError) -> Void) throws(SegError)
        -> (images: [COCOImage], categories: [COCOCategory], ids: StringImageIds) {
        var images: [COCOImage] = []
        var categories: [COCOCategory] = []
        var sawImages = false, sawCategories = false
        var ids = StringImageIds()
        var json = JSONCursor(buffer)
        guard json.peek() == UInt8(ascii: "{") else { throw json.error("a COCO instances file is a JSON object") }
        var object = try json.beginObject()
        while let key = try json.nextKey(&object) {
            if json.key(key, is: "images") {
                sawImages = true
                var array = try json.beginArray()
                while try json.nextElement(&array) { images.append(try readImage(&json, index: images.count, ids: &ids)) }
            } else if json.key(key, is: "annotations") {
                _ = json.peek()
                try annotations(&json, &ids)
            } else if json.key(key, is: "categories") {
                sawCategories = true
                var array = try json.beginArray()
                while try json.nextElement(&array) { categories.append(try readCategory(&json, index: categories.count)) }
            } else {
                try json.skipValue()
            }
        }
        try json.expectEnd()
        guard sawImages else { throw SegError(.invalid, file: file, "no \"images\" list (not a COCO instances file)") }
        guard sawCategories else { throw SegError(.invalid, file: file, "no \"categories\" list") }
        return (images, categories, ids)
    }

    static func validate(_ gt: COCOGroundTruth) throws(SegError) {
        var check = try GroundTruthCheck(gt)
        for (i, ann) in gt.annotations.enumerated() { try check.check(ann, index: i) }
    }

    /// The ground truth's images and categories checked (unique ids, sane sizes), and what each
    /// annotation is then checked against; `check` is called once per annotation, in file order.
    struct GroundTruthCheck {
        let file: String
        let imageSizes: [Int: (Int, Int)]
        let categoryIds: Set<Int>
        private var annotationIds = Set<Int>()

        init(_ gt: COCOGroundTruth) throws(SegError) {
            file = gt.file
            var imageSizes: [Int: (Int, Int)] = [:]
            for (i, image) in gt.images.enumerated() {
                guard imageSizes[image.id] == nil else { throw SegError(.invalid, file: file, "images[\(i)]: duplicate image id \(image.id)") }
                guard image.width > 0, image.height > 0, image.width <= 1 << 20, image.height <= 1 << 20 else {
                    throw SegError(.invalid, file: file, "images[\(i)] (id \(image.id)): bad size \(image.width)x\(image.height)")
                }
                imageSizes[image.id] = (image.height, image.width)
            }
            var categoryIds = Set<Int>()
            for (i, category) in gt.categories.enumerated() {
                guard categoryIds.insert(category.id).inserted else {
                    throw SegError(.invalid, file: file, "categories[\(i)]: duplicate category id \(category.id)")
                }
            }
            self.imageSizes = imageSizes
            self.categoryIds = categoryIds
        }

        mutating func check(_ ann: COCOAnnotation, index i: Int) throws(SegError) {
            func entry() -> String { "annotations[\(i)] (id \(ann.id))" }
            guard annotationIds.insert(ann.id).inserted else { throw SegError(.invalid, file: file, "\(entry()): duplicate annotation id") }
            guard let size = imageSizes[ann.imageId] else { throw SegError(.invalid, file: file, "\(entry()): unknown image id \(ann.imageId)") }
            guard categoryIds.contains(ann.categoryId) else {
                throw SegError(.invalid, file: file, "\(entry()): unknown category id \(ann.categoryId)")
            }
            try checkShape(ann, imageSize: size, entry: entry(), file: file)
        }
    }

    // MARK: Results

    public static func parseResults(_ bytes: [UInt8], file: String = "", groundTruth gt: COCOGroundTruth) throws(SegError) -> COCOResults {
        do {
            return try parseResultsBytes(bytes, file: file, groundTruth: gt)
        } catch {
            throw error.about(file)
        }
    }

    static func parseResultsBytes(_ bytes: [UInt8], file: String, groundTruth gt: COCOGroundTruth) throws(SegError) -> COCOResults {
        var (detections, firstHasBox, ids) = try bytes.withUnsafeBufferPointer { (buffer) throws(SegError) in
            try parseResultList(buffer, source: nil)
        }
        try ids.resolve(&detections, groundTruth: gt, file: file)
        try checkResults(&detections, firstHasBox: firstHasBox, file: file, groundTruth: gt)
        return COCOResults(file: file, detections: detections, areaFromBox: firstHasBox)
    }

    /// With `stopAtComma`, reading stops (successfully) when an element ends exactly at that comma
    /// and fails if it is passed without ending there.
    static func parseResultList(_ buffer: UnsafeBufferPointer<UInt8>, stopAtComma: Int? = nil, source: MappedInputFile?) throws(SegError)
        -> (detections: [COCOAnnotation], firstHasBox: Bool, ids: StringImageIds) {
        var detections: [COCOAnnotation] = []
        var firstHasBox = false
        var ids = StringImageIds()
        do {
            var json = JSONCursor(buffer)
            var released = 0
            func readList(_ json: inout JSONCursor) throws(SegError) {
                let arrayStart = json.position
                var array = try json.beginArray()
                while try json.nextElement(&array) {
                    let index = detections.count
                    let d = try readAnnotation(&json, entry: "results[\(index)]", isResult: true, ids: &ids, source: source)
                    releaseBehind(json.position, &released, source)
                    // `'bbox' in anns[0] and not anns[0]['bbox'] == []`: an empty list counts as absent.
                    if index == 0 { firstHasBox = d.bbox != nil }
                    detections.append(d)
                    // The head of a split file keeps room for the tail too, which is moved onto it.
                    reserveByEstimate(&detections, start: arrayStart, position: json.position, end: buffer.count)
                    if let stop = stopAtComma {
                        _ = json.peek()
                        if json.position == stop { return }
                        if json.position > stop { throw json.error("the split guess was not a boundary") }
                    }
                }
                if stopAtComma != nil { throw json.error("the split guess was not reached") }
            }
            try resultList(&json, readList)
            if stopAtComma == nil { try json.expectEnd() }
        }
        return (detections, firstHasBox, ids)
    }

    /// A results file's list, at the cursor: a JSON array of detections, or one wrapped as
    /// `{"annotations": [...]}` as some tools write it; `readList` reads the array itself.
    static func resultList(_ json: inout JSONCursor, _ readList: (inout JSONCursor) throws(SegError) -> Void) throws(SegError) {
        if json.peek() == UInt8(ascii: "[") {
            try readList(&json)
        } else if json.peek() == UInt8(ascii: "{") {
            var object = try json.beginObject()
            var found = false
            while let key = try json.nextKey(&object) {
                if json.key(key, is: "annotations") { found = true; try readList(&json) } else { try json.skipValue() }
            }
            guard found else { throw json.error("a COCO results file is a JSON array of detections") }
        } else {
            throw json.error("a COCO results file is a JSON array of detections")
        }
    }

    /// Checks the detections against the ground truth and numbers them as loadRes does, in place
    /// (the list is the only copy). Each detection's check is independent of the others, so a
    /// long list is checked in two halves at once; if either finds a problem the list is checked
    /// again in order, so that the message names the first bad entry.
    static func checkResults(_ detections: inout [COCOAnnotation], firstHasBox: Bool, file: String,
                             groundTruth gt: COCOGroundTruth, checkMaskSizes: Bool = true) throws(SegError) {
        let check = ResultCheck(groundTruth: gt, firstHasBox: firstHasBox, file: file, checkMaskSizes: checkMaskSizes)
        let n = detections.count
        if n >= 8192 {
            let clean = detections.withUnsafeMutableBufferPointer { buffer in
                let shared = SharedBuffer(buffer: buffer)
                return (try? Parallel.map(2, workers: 2, block: 1) { (half) throws(SegError) -> Bool in
                    for i in (half == 0 ? 0..<(n / 2) : (n / 2)..<n) { try check.check(&shared.buffer[i], index: i) }
                    return true
                }) != nil
            }
            if clean { return }
        }
        for i in 0..<n { try check.check(&detections[i], index: i) }
    }

    /// A buffer the two halves of `checkResults` write to, each its own range.
    struct SharedBuffer: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<COCOAnnotation>
    }

    /// What a detection is checked against: the ground truth's image sizes and categories.
    struct ResultCheck: Sendable {
        let imageSizes: [Int: (Int, Int)]
        let categoryIds: Set<Int>
        let firstHasBox: Bool
        let file: String
        let groundTruthFile: String
        let checkMaskSizes: Bool

        init(groundTruth gt: COCOGroundTruth, firstHasBox: Bool, file: String, checkMaskSizes: Bool = true) {
            var sizes: [Int: (Int, Int)] = [:]
            for image in gt.images { sizes[image.id] = (image.height, image.width) }
            imageSizes = sizes
            categoryIds = Set(gt.categories.map(\.id))
            self.firstHasBox = firstHasBox
            self.file = file
            groundTruthFile = gt.file
            self.checkMaskSizes = checkMaskSizes
        }

        func check(_ d: inout COCOAnnotation, index i: Int) throws(SegError) {
            // Named only when something is wrong: formatting 50,000 names costs milliseconds.
            func entry() -> String { "results[\(i)]" }
            guard let size = imageSizes[d.imageId] else {
                throw SegError(.invalid, file: file, "\(entry()): image id \(d.imageId) is not in the ground truth \(groundTruthFile)")
            }
            guard categoryIds.contains(d.categoryId) else {
                throw SegError(.invalid, file: file, "\(entry()): category id \(d.categoryId) is not in the ground truth \(groundTruthFile)")
            }
            guard d.score.isFinite else { throw SegError(.invalid, file: file, "\(entry()): score is \(d.score), not a finite number") }
            if firstHasBox && d.bbox == nil { throw SegError(.invalid, file: file, "\(entry()): no \"bbox\" (the first detection has one)") }
            if !d.segmentation.isPresent && d.bbox == nil {
                throw SegError(.invalid, file: file, "\(entry()): neither \"segmentation\" nor \"bbox\"")
            }
            try COCOReader.checkShape(d, imageSize: size, entry: entry(), file: file, checkMaskSize: checkMaskSizes)
            d.id = i + 1
            d.filePosition = Int32(truncatingIfNeeded: i)
            d.isCrowd = false
        }
    }

    // MARK: Entries

    static func checkShape(_ ann: COCOAnnotation, imageSize: (Int, Int), entry: @autoclosure () -> String, file: String,
                           checkMaskSize: Bool = true) throws(SegError) {
        switch ann.segmentation {
        case .counts(let h, let w, let counts):
            guard !checkMaskSize || (h == imageSize.0 && w == imageSize.1) else {
                throw SegError(.invalid, file: file, "\(entry()): RLE size \(h)x\(w) (height x width) differs from the image's \(imageSize.0)x\(imageSize.1)")
            }
            var total = 0
            for c in counts { total += Int(c) }
            guard total == h * w else {
                throw SegError(.invalid, file: file, "\(entry()): RLE counts add up to \(total), not height*width = \(h * w)")
            }
        case .compressedText(let text):
            let h = Int(text.height), w = Int(text.width)
            guard !checkMaskSize || (h == imageSize.0 && w == imageSize.1) else {
                throw SegError(.invalid, file: file, "\(entry()): RLE size \(h)x\(w) (height x width) differs from the image's \(imageSize.0)x\(imageSize.1)")
            }
        case .compressed(let h, let w, _):
            guard !checkMaskSize || (h == imageSize.0 && w == imageSize.1) else {
                throw SegError(.invalid, file: file, "\(entry()): RLE size \(h)x\(w) (height x width) differs from the image's \(imageSize.0)x\(imageSize.1)")
            }
        case .polygons(let polygons):
            for (k, p) in polygons.enumerated() {
                guard p.allSatisfy(\.isFinite) else { throw SegError(.invalid, file: file, "\(entry()): polygon \(k) has a coordinate that is not a finite number") }
            }
        case .none: break
        }
        if let b = ann.bbox, !(b.x.isFinite && b.y.isFinite && b.width.isFinite && b.height.isFinite) {
            throw SegError(.invalid, file: file, "\(entry()): bbox has a value that is not a finite number")
        }
        if let a = ann.area, !a.isFinite { throw SegError(.invalid, file: file, "\(entry()): area is not a finite number") }
    }

    static func readImage(_ json: inout JSONCursor, index: Int, ids: inout StringImageIds) throws(SegError) -> COCOImage {
        var id: Int?, width: Int?, height: Int?
        var fileName = ""
        var negative: [Int]?, notExhaustive: [Int]?
        var object = try json.beginObject()
        while let key = try json.nextKey(&object) {
            if json.key(key, is: "id") { id = try Self.imageId(&json, &ids) }
            else if json.key(key, is: "width") { width = try json.integer() }
            else if json.key(key, is: "height") { height = try json.integer() }
            else if json.key(key, is: "file_name") { fileName = json.null() ? "" : try json.string() }
            else if json.key(key, is: "neg_category_ids") { negative = try readIntegers(&json) }
            else if json.key(key, is: "not_exhaustive_category_ids") { notExhaustive = try readIntegers(&json) }
            else { try json.skipValue() }
        }
        guard let id else { throw SegError(.invalid, file: "", "images[\(index)]: no \"id\"") }
        guard let width, let height else { throw SegError(.invalid, file: "", "images[\(index)] (id \(id)): no \"width\" or \"height\"") }
        return COCOImage(id: id, width: width, height: height, fileName: fileName, negativeCategoryIds: negative,
                         notExhaustiveCategoryIds: notExhaustive)
    }

    /// A list of integers (LVIS's category id lists); null reads as absent.
    static func readIntegers(_ json: inout JSONCursor) throws(SegError) -> [Int]? {
        if json.null() { return nil }
        var values: [Int] = []
        var array = try json.beginArray()
        while try json.nextElement(&array) { values.append(try json.integer()) }
        return values
    }

    static func readCategory(_ json: inout JSONCursor, index: Int) throws(SegError) -> COCOCategory {
        var id: Int?
        var name = "", supercategory = ""
        var isThing: Bool?
        var frequency: String?
        var object = try json.beginObject()
        while let key = try json.nextKey(&object) {
            if json.key(key, is: "id") { id = try json.integer() }
            else if json.key(key, is: "name") { name = json.null() ? "" : try json.string() }
            else if json.key(key, is: "supercategory") { supercategory = json.null() ? "" : try json.string() }
            else if json.key(key, is: "isthing") { isThing = try readFlag(&json) }
            else if json.key(key, is: "frequency") { frequency = json.null() ? nil : try json.string() }
            else { try json.skipValue() }
        }
        guard let id else { throw SegError(.invalid, file: "", "categories[\(index)]: no \"id\"") }
        if let frequency, !["r", "c", "f"].contains(frequency) {
            throw SegError(.invalid, file: "", "categories[\(index)] (id \(id)): frequency \"\(frequency)\" is not r, c or f")
        }
        return COCOCategory(id: id, name: name.isEmpty ? "\(id)" : name, supercategory: supercategory, isThing: isThing,
                            frequency: frequency)
    }

    static func readFlag(_ json: inout JSONCursor) throws(SegError) -> Bool {
        let c = json.peek()
        if c == UInt8(ascii: "t") || c == UInt8(ascii: "f") { return try json.bool() }
        return try json.double() != 0
    }

    /// `entry` (e.g. "results[17]") is formatted only for an error message.
    /// An image id: a number, or a string (see `StringImageIds`).
    @inline(__always)
    static func imageId(_ json: inout JSONCursor, _ ids: inout StringImageIds) throws(SegError) -> Int {
        if json.peek() == UInt8(ascii: "\"") { return ids.provisional(try json.string()) }
        return try json.integer()
    }

    static func readAnnotation(_ json: inout JSONCursor, entry: @autoclosure () -> String, isResult: Bool,
                               ids: inout StringImageIds, source: MappedInputFile? = nil) throws(SegError) -> COCOAnnotation {
        var id: Int?, imageId: Int?, categoryId: Int?
        var segmentation = COCOSegmentation.none
        var bbox: COCOBox?
        var area: Double?
        var isCrowd = false, ignore = false
        var score: Double?
        var object = try json.beginObject()
        while let key = try json.nextKey(&object) {
            if json.key(key, is: "image_id") { imageId = try Self.imageId(&json, &ids) }
            else if json.key(key, is: "category_id") { categoryId = try json.integer() }
            else if json.key(key, is: "segmentation") { segmentation = try readSegmentation(&json, entry: entry(), source: source) }
            else if json.key(key, is: "score") { score = try json.double() }
            else if json.key(key, is: "bbox") { bbox = try readBox(&json, entry: entry()) }
            else if json.key(key, is: "id") { id = try json.integer() }
            else if json.key(key, is: "area") { area = json.null() ? nil : try json.double() }
            else if json.key(key, is: "iscrowd") { isCrowd = try readFlag(&json) }
            else if json.key(key, is: "ignore") { ignore = json.null() ? false : try readFlag(&json) }
            else { try json.skipValue() }
        }
        func name() -> String { id.map { "\(entry()) (id \($0))" } ?? entry() }
        guard let imageId else { throw SegError(.invalid, file: "", "\(name()): no \"image_id\"") }
        guard let categoryId else { throw SegError(.invalid, file: "", "\(name()): no \"category_id\"") }
        if isResult {
            guard let score else { throw SegError(.invalid, file: "", "\(name()): no \"score\"") }
            return COCOAnnotation(id: 0, imageId: imageId, categoryId: categoryId, segmentation: segmentation, bbox: bbox,
                                  area: nil, isCrowd: false, score: score)
        }
        guard let id else { throw SegError(.invalid, file: "", "\(entry()): no \"id\"") }
        return COCOAnnotation(id: id, imageId: imageId, categoryId: categoryId, segmentation: segmentation, bbox: bbox,
                              area: area, isCrowd: isCrowd, ignore: ignore, score: 1)
    }

    static func readBox(_ json: inout JSONCursor, entry: @autoclosure () -> String) throws(SegError) -> COCOBox? {
        if json.null() { return nil }
        // Four numbers into a tuple: an array per box was 50,000 allocations for a results file.
        var values: (Double, Double, Double, Double) = (0, 0, 0, 0)
        var count = 0
        var array = try json.beginArray()
        while try json.nextElement(&array) {
            let v = try json.double()
            switch count {
            case 0: values.0 = v
            case 1: values.1 = v
            case 2: values.2 = v
            case 3: values.3 = v
            default: throw SegError(.invalid, file: "", "\(entry()): bbox has more than 4 numbers")
            }
            count += 1
        }
        if count == 0 { return nil }
        guard count == 4 else { throw SegError(.invalid, file: "", "\(entry()): bbox has \(count) numbers, not 4") }
        return COCOBox(x: values.0, y: values.1, width: values.2, height: values.3)
    }

    /// With `source` (the mapping the cursor reads), compressed RLE text stays in the file (`RLEText`).
    static func readSegmentation(_ json: inout JSONCursor, entry: @autoclosure () -> String,
                                 source: MappedInputFile? = nil) throws(SegError) -> COCOSegmentation {
        if json.null() { return .none }
        if json.peek() == UInt8(ascii: "[") {
            var polygons: [[Double]] = []
            var outer = try json.beginArray()
            while try json.nextElement(&outer) {
                var polygon: [Double] = []
                var inner = try json.beginArray()
                while try json.nextElement(&inner) { polygon.append(try json.double()) }
                polygons.append(polygon)
            }
            if polygons.isEmpty { return .none }
            return .polygons(polygons)
        }
        var height = -1, width = -1
        var string: String?
        var textRange: Range<Int>?
        var counts: [UInt32]?
        var object = try json.beginObject()
        while let key = try json.nextKey(&object) {
            if json.key(key, is: "size") {
                var array = try json.beginArray()
                var size = (-1, -1), count = 0
                while try json.nextElement(&array) {
                    let v = try json.integer()
                    if count == 0 { size.0 = v } else if count == 1 { size.1 = v }
                    count += 1
                    if count > 2 { break }
                }
                guard count == 2, size.0 >= 0, size.1 >= 0 else {
                    throw SegError(.invalid, file: "", "\(entry()): RLE \"size\" must be [height, width]")
                }
                height = size.0; width = size.1
            } else if json.key(key, is: "counts") {
                if json.peek() == UInt8(ascii: "\"") {
                    if source != nil { textRange = try json.rawStringRange() } else { string = try json.string() }
                } else {
                    var list: [UInt32] = []
                    var array = try json.beginArray()
                    while try json.nextElement(&array) {
                        let v = try json.integer()
                        guard v >= 0, v <= Int(UInt32.max) else { throw SegError(.invalid, file: "", "\(entry()): RLE count \(v) out of range") }
                        list.append(UInt32(v))
                    }
                    counts = list
                }
            } else {
                try json.skipValue()
            }
        }
        guard height >= 0 else { throw SegError(.invalid, file: "", "\(entry()): RLE without \"size\"") }
        if let string { return .compressed(height: height, width: width, string: string) }
        if let textRange, let source {
            let text: RLEText
            do {
                text = try RLEText(source: source, range: textRange, height: height, width: width)
            } catch {
                throw SegError(error.kind, file: "", "\(entry()): \(error.reason)")
            }
            return .compressedText(text)
        }
        if let counts { return .counts(height: height, width: width, counts: counts) }
        throw SegError(.invalid, file: "", "\(entry()): RLE without \"counts\"")
    }
}
