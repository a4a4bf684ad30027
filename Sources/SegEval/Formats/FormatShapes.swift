import SegCore

/// Shape helpers the converters share: an annotation's mask as pycocotools rasterises it, and the
/// box and area COCO files carry, derived from that mask so that a converted file agrees with what
/// pycocotools would compute from it.
enum FormatShapes {
    /// The annotation's mask in an image of the given size; a box-only annotation rasterises its box.
    static func rle(_ ann: COCOAnnotation, height: Int, width: Int) throws -> RLE {
        switch ann.segmentation {
        case .polygons(let polygons): return try RLE(polygons: polygons, height: height, width: width)
        case .counts(let h, let w, let counts): return try RLE(height: h, width: w, counts: counts)
        case .compressed(let h, let w, let string): return try RLE(compressed: string, height: h, width: w)
        case .compressedText(let text): return try text.decode()
        case .none:
            guard let b = ann.bbox else { return try RLE(polygons: [], height: height, width: width) }
            return try RLE(bbox: [b.x, b.y, b.width, b.height], height: height, width: width)
        }
    }

    /// Box and area from the mask (pycocotools `toBbox` and `area`).
    static func boxAndArea(_ rle: RLE) -> (COCOBox, Double) {
        let b = rle.boundingBox
        return (COCOBox(x: b[0], y: b[1], width: b[2], height: b[3]), Double(rle.area))
    }

    /// Fills in a missing box and area from the shape.
    static func completed(_ ann: COCOAnnotation, height: Int, width: Int) throws -> COCOAnnotation {
        guard ann.bbox == nil || ann.area == nil else { return ann }
        var a = ann
        let (box, area) = boxAndArea(try rle(ann, height: height, width: width))
        if a.bbox == nil { a.bbox = box }
        if a.area == nil { a.area = area }
        return a
    }

    /// A polygon given as points `[(x, y)]`, flattened as COCO writes it.
    static func flat(_ points: [(Double, Double)]) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(points.count * 2)
        for (x, y) in points { out.append(x); out.append(y) }
        return out
    }
}
