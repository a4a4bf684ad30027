import SegCore

/// Writes the COCO model as JSON that pycocotools reads: a ground-truth document (`images`,
/// `categories`, `annotations` with `area`, `bbox`, `iscrowd`) or a results list
/// (`image_id`, `category_id`, `segmentation`, `bbox`, `score`) for `loadRes`.
public enum COCOWriter {
    /// The whole document; when `withScores`, each annotation keeps its `score` (readable by
    /// `COCOReader.readResults`, which accepts `{"annotations": [...]}`).
    public static func groundTruthJSON(_ gt: COCOGroundTruth, withScores: Bool = false) throws -> String {
        let sizes = Dictionary(gt.images.map { ($0.id, ($0.height, $0.width)) }, uniquingKeysWith: { a, _ in a })
        var annotations: [JSONValue] = []
        for ann in gt.annotations {
            let (h, w) = sizes[ann.imageId] ?? (0, 0)
            let a = try FormatShapes.completed(ann, height: h, width: w)
            var pairs: [(String, JSONValue)] = [
                ("id", .integer(a.id)), ("image_id", .integer(a.imageId)), ("category_id", .integer(a.categoryId)),
                ("segmentation", segmentation(a.segmentation)), ("area", .number(a.area ?? 0)), ("bbox", box(a.bbox)),
                ("iscrowd", .integer(a.isCrowd ? 1 : 0)),
            ]
            if withScores { pairs.append(("score", .number(a.score))) }
            annotations.append(.object(pairs))
        }
        let document = JSONValue.object([
            ("images", .array(gt.images.map { image in
                .object([("id", .integer(image.id)), ("file_name", .string(image.fileName)),
                         ("width", .integer(image.width)), ("height", .integer(image.height))])
            })),
            ("categories", .array(gt.categories.map { c in
                .object([("id", .integer(c.id)), ("name", .string(c.name)), ("supercategory", .string(c.supercategory))])
            })),
            ("annotations", .array(annotations)),
        ])
        return document.serialized() + "\n"
    }

    /// A results list as pycocotools' `loadRes` takes it.
    public static func resultsJSON(_ results: COCOResults, groundTruth gt: COCOGroundTruth) throws -> String {
        let sizes = Dictionary(gt.images.map { ($0.id, ($0.height, $0.width)) }, uniquingKeysWith: { a, _ in a })
        var list: [JSONValue] = []
        for d in results.detections {
            let (h, w) = sizes[d.imageId] ?? (0, 0)
            var a = d
            if a.bbox == nil { a.bbox = FormatShapes.boxAndArea(try FormatShapes.rle(d, height: h, width: w)).0 }
            list.append(.object([
                ("image_id", .integer(a.imageId)), ("category_id", .integer(a.categoryId)),
                ("segmentation", segmentation(a.segmentation)), ("bbox", box(a.bbox)), ("score", .number(a.score)),
            ]))
        }
        return JSONValue.array(list).serialized() + "\n"
    }

    static func segmentation(_ s: COCOSegmentation) -> JSONValue {
        switch s {
        case .none: return .array([])
        case .polygons(let polygons): return .array(polygons.map { .array($0.map { .number($0) }) })
        case .counts(let h, let w, let counts):
            // Written compressed: what pycocotools' own `encode` writes, and a tenth of the size.
            if let rle = try? RLE(height: h, width: w, counts: counts) { return compressed(rle) }
            return .object([("size", .array([.integer(h), .integer(w)])), ("counts", .array(counts.map { .integer(Int($0)) }))])
        case .compressed(let h, let w, let string):
            return .object([("size", .array([.integer(h), .integer(w)])), ("counts", .string(string))])
        case .compressedText(let text):
            return .object([("size", .array([.integer(Int(text.height)), .integer(Int(text.width))])), ("counts", .string(text.string))])
        }
    }

    static func compressed(_ rle: RLE) -> JSONValue {
        .object([("size", .array([.integer(rle.height), .integer(rle.width)])), ("counts", .string(rle.compressedString))])
    }

    static func box(_ b: COCOBox?) -> JSONValue {
        guard let b else { return .array([]) }
        return .array([.number(b.x), .number(b.y), .number(b.width), .number(b.height)])
    }
}
