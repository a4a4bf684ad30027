import SegCore

/// Image ids that are strings ("000123", "frame_0042.jpg"): pycocotools and faster-coco-eval take
/// any id value. While a file is parsed, each distinct string gets a provisional number far below
/// any real id; once the ground truth is read, the strings are numbered in Python's sort order
/// (by Unicode code point, as `sorted(imgIds)` orders them, which is the order the evaluation
/// walks images in), and results are mapped to those numbers by their strings.
struct StringImageIds: Sendable {
    private(set) var names: [String] = []
    private var index: [String: Int] = [:]

    /// Provisional numbers start here: no real id is this low.
    static let base = Int.min / 2

    static func isProvisional(_ id: Int) -> Bool { id < base / 2 }

    mutating func provisional(_ name: String) -> Int {
        if let i = index[name] { return Self.base + i }
        index[name] = names.count
        names.append(name)
        return Self.base + names.count - 1
    }

    func name(_ provisional: Int) -> String { names[provisional - Self.base] }

    var isEmpty: Bool { names.isEmpty }

    /// Python's `str` order: code point by code point.
    static func pythonOrder(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
    }

    /// Numbers the ground truth's string ids (0, 1, … in Python's order) in its images and
    /// annotations, and records them in `imageIdNames`. Ids must be all strings or all numbers.
    func resolve(_ gt: inout COCOGroundTruth) throws(SegError) {
        guard !isEmpty else { return }
        if let number = gt.images.first(where: { !Self.isProvisional($0.id) }) {
            throw SegError(.invalid, file: gt.file, "image ids mix numbers (\(number.id)) and strings: pycocotools cannot sort them either")
        }
        let imageNames = gt.images.map { name($0.id) }
        let order = imageNames.sorted(by: Self.pythonOrder)
        var final: [String: Int] = [:]
        for (rank, n) in order.enumerated() { final[n] = rank }
        for i in gt.images.indices { gt.images[i].id = final[imageNames[i]]! }
        for (i, ann) in gt.annotations.enumerated() where Self.isProvisional(ann.imageId) {
            let n = name(ann.imageId)
            guard let id = final[n] else {
                throw SegError(.invalid, file: gt.file, "annotations[\(i)] (id \(ann.id)): unknown image id \"\(n)\"")
            }
            gt.annotations[i].imageId = id
        }
        gt.imageIdNames = Dictionary(uniqueKeysWithValues: final.map { ($1, $0) })
    }

    /// Maps detections' provisional ids (of this table) to the ground truth's numbers.
    func resolve(_ detections: inout [COCOAnnotation], groundTruth gt: COCOGroundTruth, file: String, offset: Int = 0) throws(SegError) {
        guard !isEmpty else { return }
        var byName: [String: Int] = [:]
        for (id, n) in gt.imageIdNames { byName[n] = id }
        for i in detections.indices where Self.isProvisional(detections[i].imageId) {
            let n = name(detections[i].imageId)
            guard let id = byName[n] else {
                throw SegError(.invalid, file: file, "results[\(offset + i)]: image id \"\(n)\" is not in the ground truth \(gt.file)")
            }
            detections[i].imageId = id
        }
    }
}
