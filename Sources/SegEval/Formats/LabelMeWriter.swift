import Foundation
import SegCore

/// Writes the COCO model as LabelMe JSON, one file per image (`<image stem>.json`), which labelme
/// and X-AnyLabeling open: a polygon annotation as `polygon` shapes (several parts share a
/// `group_id`, so they read back as one object); an RLE as a `mask` shape (its box's corners and
/// a 0/1 PNG of the crop, as labelme saves AI masks); a box-only annotation as a `rectangle`.
/// Predictions carry X-AnyLabeling's `score`; crowd regions its `difficult`. `imageData` is null
/// and `imagePath` the COCO `file_name`: the JSON goes beside the image.
public enum LabelMeWriter {
    public static let version = "5.5.0"

    public static func write(_ set: FormatSet, to folder: String) throws -> [String] {
        let gt = set.groundTruth
        var names: [Int: String] = [:]
        for c in gt.categories { names[c.id] = c.name }
        var byImage: [Int: [COCOAnnotation]] = [:]
        for ann in gt.annotations { byImage[ann.imageId, default: []].append(ann) }
        var notes = FormatNotes()
        for image in gt.images {
            var shapes: [JSONValue] = []
            var group = 0
            for ann in byImage[image.id] ?? [] {
                let label = names[ann.categoryId] ?? "\(ann.categoryId)"
                func shape(_ type: String, _ points: [(Double, Double)], groupId: Int?, mask: String? = nil) -> JSONValue {
                    var pairs: [(String, JSONValue)] = [
                        ("label", .string(label)),
                        ("points", .array(points.map { .array([.number($0.0), .number($0.1)]) })),
                        ("group_id", groupId.map { .integer($0) } ?? .null),
                        ("description", .string("")),
                        ("shape_type", .string(type)),
                        ("flags", .object([])),
                        ("mask", mask.map { .string($0) } ?? .null),
                    ]
                    if set.hasScores { pairs.append(("score", .number(ann.score))) }
                    if ann.isCrowd { pairs.append(("difficult", .bool(true))) }
                    return .object(pairs)
                }
                switch ann.segmentation {
                case .polygons(let polygons):
                    let usable = polygons.filter { $0.count >= 6 }
                    if usable.count < polygons.count {
                        notes.add("polygons of fewer than 3 points left out", at: "\(image.fileName) annotation \(ann.id)")
                    }
                    var gid: Int?
                    if usable.count > 1 { group += 1; gid = group }
                    for p in usable {
                        shapes.append(shape("polygon", stride(from: 0, to: p.count - 1, by: 2).map { (p[$0], p[$0 + 1]) }, groupId: gid))
                    }
                case .counts, .compressed, .compressedText:
                    let m = try FormatShapes.rle(ann, height: image.height, width: image.width).decode()
                    guard let (x0, y0, x1, y1) = bounds(m) else {
                        notes.add("empty masks left out", at: "\(image.fileName) annotation \(ann.id)")
                        continue
                    }
                    let cw = x1 - x0 + 1, ch = y1 - y0 + 1
                    var crop = [UInt8](repeating: 0, count: cw * ch)
                    for y in 0..<ch { for x in 0..<cw { crop[y * cw + x] = m.bits[(y0 + y) * m.width + x0 + x] } }
                    let png = try ImageFile.encodePNG(RasterImage(width: cw, height: ch, colorModel: .gray, fileBitDepth: 8,
                                                                  format: .png, samples: .eight(crop)))
                    shapes.append(shape("mask", [(Double(x0), Double(y0)), (Double(x1), Double(y1))], groupId: nil,
                                        mask: Data(png).base64EncodedString()))
                case .none:
                    guard let b = ann.bbox else { continue }
                    shapes.append(shape("rectangle", [(b.x, b.y), (b.x + b.width, b.y + b.height)], groupId: nil))
                }
            }
            let doc = JSONValue.object([
                ("version", .string(version)), ("flags", .object([])), ("shapes", .array(shapes)),
                ("imagePath", .string(image.fileName)), ("imageData", .null),
                ("imageHeight", .integer(image.height)), ("imageWidth", .integer(image.width)),
            ])
            try FormatFiles.write(doc.serialized() + "\n", to: FormatFiles.join(folder, FormatFiles.dropExtension(image.fileName) + ".json"))
        }
        return notes.lines
    }

    /// The inclusive box of the set pixels, nil for an empty mask.
    static func bounds(_ m: Mask) -> (Int, Int, Int, Int)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for y in 0..<m.height {
            for x in 0..<m.width where m.bits[y * m.width + x] != 0 {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        return x1 < 0 ? nil : (x0, y0, x1, y1)
    }
}
