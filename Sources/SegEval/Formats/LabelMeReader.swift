import Foundation
import SegCore

/// Reads LabelMe / X-AnyLabeling JSON (one file per image) into the COCO model.
///
/// One object per (label, group_id) as labelme's `shapes_to_label` groups them: shapes sharing a
/// label and a non-null `group_id` are parts of one object; a shape without `group_id` is an
/// object of its own. Region shapes become COCO polygons as labelme's `labelme2coco.py` writes
/// them: `polygon` (and X-AnyLabeling's `rotation`) as its points; `rectangle` as its four
/// corners (the example script means to, though its `if`/`if`-`else` then overwrites them with
/// the two points); `circle` as labelme2coco's N-gon, N = max(⌊π / arccos(1 − 1/r)⌋, 12).
/// A `mask` shape (a PNG of the box crop) is placed as `shapes_to_label` does,
/// `mask[y1:y2+1, x1:x2+1]` with the points truncated to integers, and makes the object an RLE
/// (with any polygons of the same object rasterised into it). X-AnyLabeling's `score` makes the
/// set predictions, its `difficult` a crowd region. `line`, `linestrip` and `point` shapes are
/// not regions: left out, and said so.
public enum LabelMeReader {
    public static func read(_ path: String, options: FormatOptions = FormatOptions()) throws -> FormatSet {
        let files: [String]
        if FileIO.isDirectory(path) {
            files = FormatFiles.walk(path) { $0.lowercased().hasSuffix(".json") }.map { FormatFiles.join(path, $0) }
        } else {
            files = [path]
        }
        let known = options.classNames.map { names in names.filter { $0 != "__ignore__" && $0 != "_background_" } }
        var parsed: [ParsedFile] = []
        var labels: [String] = []
        var notes = FormatNotes()
        for file in files {
            let p = try parseFile(file, notes: &notes)
            for object in p.objects where !labels.contains(object.label) { labels.append(object.label) }
            parsed.append(p)
        }
        let names = known ?? labels.sorted()
        var categoryOf: [String: Int] = [:]
        for (i, n) in names.enumerated() { categoryOf[n] = i + 1 }
        var images: [COCOImage] = []
        var annotations: [COCOAnnotation] = []
        var hasScores = false
        for p in parsed {
            let imageId = images.count + 1
            images.append(COCOImage(id: imageId, width: p.width, height: p.height, fileName: p.fileName))
            for object in p.objects {
                guard let categoryId = categoryOf[object.label] else {
                    throw SegError(.invalid, file: p.file, "\(object.place): unknown class name \"\(object.label)\" (not in the class list)")
                }
                var segmentation = COCOSegmentation.polygons(object.polygons)
                if !object.masks.isEmpty {
                    var parts = object.masks
                    if !object.polygons.isEmpty {
                        parts.append(try RLE(polygons: object.polygons, height: p.height, width: p.width))
                        notes.add("objects of polygons and masks merged into one mask", at: "\(p.file) \(object.place)")
                    }
                    let rle = try RLE.merge(parts)
                    segmentation = .compressed(height: rle.height, width: rle.width, string: rle.compressedString)
                }
                if object.score != nil { hasScores = true }
                let ann = COCOAnnotation(id: annotations.count + 1, imageId: imageId, categoryId: categoryId,
                                         segmentation: segmentation, isCrowd: object.difficult, score: object.score ?? 1)
                annotations.append(try FormatShapes.completed(ann, height: p.height, width: p.width))
            }
        }
        let categories = names.enumerated().map { COCOCategory(id: $0.offset + 1, name: $0.element) }
        let gt = COCOGroundTruth(file: path, images: images, categories: categories, annotations: annotations)
        return FormatSet(groundTruth: gt, hasScores: hasScores || options.predictions == true, notes: notes.lines)
    }

    struct Object {
        var label: String
        var groupId: Int?
        var place: String
        var polygons: [[Double]] = []
        var masks: [RLE] = []
        var score: Double?
        var difficult = false
    }

    struct ParsedFile {
        var file: String
        var fileName: String
        var width: Int
        var height: Int
        var objects: [Object]
    }

    static func parseFile(_ file: String, notes: inout FormatNotes) throws -> ParsedFile {
        let bytes = try FileIO.read(file, maxBytes: 1 << 31)
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw SegError(.corrupt, file: file, "not JSON: \(error.localizedDescription)")
        }
        guard let doc = root as? [String: Any], let shapes = doc["shapes"] as? [Any] else {
            throw SegError(.invalid, file: file, "not a LabelMe file (no \"shapes\" list)")
        }
        let lines = shapeLines(bytes)
        func place(_ k: Int) -> String { k < lines.count ? "line \(lines[k]): shapes[\(k)]" : "shapes[\(k)]" }
        var height = doc["imageHeight"] as? Int ?? 0
        var width = doc["imageWidth"] as? Int ?? 0
        let imagePath = (doc["imagePath"] as? String ?? "").replacingOccurrences(of: "\\", with: "/")
        if height <= 0 || width <= 0 {
            // No size in the file: the embedded image, else the image beside the JSON.
            if let data = doc["imageData"] as? String, let d = Data(base64Encoded: data, options: .ignoreUnknownCharacters),
               let size = ImageSize.header([UInt8](d)) {
                (width, height) = size
            } else {
                (width, height) = try ImageSize.read(FormatFiles.join(FormatFiles.parent(file), imagePath))
            }
        }
        let fileName = imagePath.isEmpty ? FormatFiles.dropExtension(FileName.last(file)) + ".jpg" : FileName.last(imagePath)
        var objects: [Object] = []
        for (k, any) in shapes.enumerated() {
            func fail(_ reason: String) -> SegError { SegError(.invalid, file: file, "\(place(k)): \(reason)") }
            guard let shape = any as? [String: Any] else { throw fail("a shape is a JSON object") }
            guard let label = shape["label"] as? String else { throw fail("no \"label\"") }
            let type = shape["shape_type"] as? String ?? "polygon"
            guard let rawPoints = shape["points"] as? [Any] else { throw fail("no \"points\" list") }
            var points: [(Double, Double)] = []
            for p in rawPoints {
                guard let xy = p as? [Any], xy.count == 2, let x = number(xy[0]), let y = number(xy[1]), x.isFinite, y.isFinite else {
                    throw fail("points must be [x, y] pairs of numbers")
                }
                points.append((x, y))
            }
            let groupId = shape["group_id"] as? Int
            let score = shape["score"].flatMap(number)
            let difficult = shape["difficult"] as? Bool ?? false
            var polygon: [Double]?
            var mask: RLE?
            switch type {
            case "polygon", "rotation":
                guard points.count >= 3 else { throw fail("a \(type) needs at least 3 points, this one has \(points.count)") }
                polygon = FormatShapes.flat(points)
            case "rectangle":
                guard points.count == 2 || points.count == 4 else { throw fail("a rectangle has 2 points (or X-AnyLabeling's 4), not \(points.count)") }
                let xs = points.map(\.0), ys = points.map(\.1)
                let (x1, x2) = points.count == 2 ? (min(xs[0], xs[1]), max(xs[0], xs[1])) : (xs.min()!, xs.max()!)
                let (y1, y2) = points.count == 2 ? (min(ys[0], ys[1]), max(ys[0], ys[1])) : (ys.min()!, ys.max()!)
                polygon = [x1, y1, x2, y1, x2, y2, x1, y2]
            case "circle":
                guard points.count == 2 else { throw fail("a circle has 2 points (centre, a point on it), not \(points.count)") }
                polygon = circle(points[0], points[1])
            case "mask":
                guard points.count == 2 else { throw fail("a mask has 2 points (its box's corners), not \(points.count)") }
                guard let b64 = shape["mask"] as? String else { throw fail("a mask shape without \"mask\" (base64 PNG)") }
                mask = try placeMask(b64, points, width: width, height: height, fail: fail)
            case "line", "linestrip", "point", "points", "cuboid", "quadrilateral":
                notes.add("\(type) shapes are not regions: left out", at: "\(file) \(place(k))")
                continue
            default:
                throw fail("unknown shape_type \"\(type)\"")
            }
            if let g = groupId, let i = objects.firstIndex(where: { $0.label == label && $0.groupId == g }) {
                if let polygon { objects[i].polygons.append(polygon) }
                if let mask { objects[i].masks.append(mask) }
                if objects[i].score == nil { objects[i].score = score }
                objects[i].difficult = objects[i].difficult || difficult
                continue
            }
            var object = Object(label: label, groupId: groupId, place: place(k), score: score, difficult: difficult)
            if let polygon { object.polygons.append(polygon) }
            if let mask { object.masks.append(mask) }
            objects.append(object)
        }
        return ParsedFile(file: file, fileName: fileName, width: width, height: height, objects: objects)
    }

    static func number(_ any: Any) -> Double? {
        (any as? NSNumber)?.doubleValue
    }

    /// labelme2coco's circle: N points at angles 2π/N·i from the centre, x by sin and y by cos.
    static func circle(_ c: (Double, Double), _ p: (Double, Double)) -> [Double] {
        let r = ((p.0 - c.0) * (p.0 - c.0) + (p.1 - c.1) * (p.1 - c.1)).squareRoot()
        let a = acos(1 - 1 / r)
        let n = a.isFinite && a > 0 ? max(Int(Double.pi / a), 12) : 12
        var out: [Double] = []
        for i in 0..<n {
            let t = 2 * Double.pi / Double(n) * Double(i)
            out.append(c.0 + r * sin(t))
            out.append(c.1 + r * cos(t))
        }
        return out
    }

    /// The crop at `mask[y1:y2+1, x1:x2+1]`, points truncated toward zero (numpy's astype(int)).
    static func placeMask(_ b64: String, _ points: [(Double, Double)], width: Int, height: Int,
                          fail: (String) -> SegError) throws -> RLE {
        guard let data = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else { throw fail("mask is not base64") }
        let crop: RasterImage
        do {
            crop = try ImageFile.decode([UInt8](data))
        } catch {
            throw fail("mask is not a PNG: \(error.reason)")
        }
        let x1 = Int(points[0].0), y1 = Int(points[0].1), x2 = Int(points[1].0), y2 = Int(points[1].1)
        guard x1 >= 0, y1 >= 0, x2 < width, y2 < height, x2 >= x1, y2 >= y1 else {
            throw fail("mask box (\(x1), \(y1))–(\(x2), \(y2)) is not inside the \(width)x\(height) image")
        }
        guard crop.width == x2 - x1 + 1, crop.height == y2 - y1 + 1 else {
            throw fail("mask PNG is \(crop.width)x\(crop.height), its box \(x2 - x1 + 1)x\(y2 - y1 + 1)")
        }
        let labels = crop.labelMap().labels
        var full = Mask(width: width, height: height)
        for y in 0..<crop.height {
            for x in 0..<crop.width where labels[y * crop.width + x] != 0 { full.bits[(y1 + y) * width + x1 + x] = 1 }
        }
        return try RLE(mask: full)
    }

    /// The line of each shape's `"label"` key, in order: LabelMe files are pretty-printed, so the
    /// k-th `"label":` is shapes[k]'s, and an error can name a line.
    static func shapeLines(_ bytes: [UInt8]) -> [Int] {
        let key = Array("\"label\"".utf8)
        var lines: [Int] = []
        var line = 1, i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A { line += 1 }
            else if bytes[i] == 0x22, i + key.count <= bytes.count, Array(bytes[i..<(i + key.count)]) == key {
                var j = i + key.count
                while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: ":") { lines.append(line) }
                i = j
                continue
            }
            i += 1
        }
        return lines
    }

    /// A quick look at a JSON file's start: LabelMe files have `"shapes"` near the top.
    static func looksLikeLabelMe(_ path: String) -> Bool {
        // Only the head: this runs on every JSON file handed to `eval`, results files of gigabytes included.
        guard let bytes = FileIO.head(path, count: 4096) else { return false }
        let head = String(decoding: bytes, as: UTF8.self)
        return head.contains("\"shapes\"") && !head.contains("\"annotations\"")
    }
}
