import Foundation
import SegCore

/// One YOLO segmentation label file: `class x1 y1 … xn yn [confidence]` per line, coordinates
/// normalised to the image. What Ultralytics' loader (`verify_image_label`) refuses is refused
/// here too, with the file and line; a 5-value line (a detection box) is refused outright,
/// since segterm reads segmentation labels and a box row is not a polygon.
struct YOLOLabelLine: Equatable {
    var line: Int
    var classIndex: Int
    var points: [Double]   // normalised, x y pairs
    var confidence: Double?
}

enum YOLOLabels {
    /// Ultralytics accepts coordinates up to 1.01 and down to -0.01 (rounding in exporters);
    /// beyond, its loader drops the image as corrupt.
    static let tolerance = 0.01

    /// `predictions`: nil decides per file (every line odd → a confidence ends each line).
    static func parse(_ text: String, file: String, classCount: Int, predictions: Bool?) throws -> [YOLOLabelLine] {
        var rows: [(Int, [Substring])] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if !fields.isEmpty { rows.append((n + 1, fields)) }
        }
        var withConfidence = predictions
        if withConfidence == nil, let first = rows.first {
            // class + pairs is odd in count; a trailing confidence makes it even.
            withConfidence = first.1.count % 2 == 0 && first.1.count >= 8
        }
        var out: [YOLOLabelLine] = []
        for (line, fields) in rows {
            func fail(_ reason: String) -> SegError { SegError(.invalid, file: file, "line \(line): \(reason)") }
            var values: [Double] = []
            values.reserveCapacity(fields.count)
            for f in fields {
                guard let v = Double(f), v.isFinite else { throw fail("\"\(f)\" is not a number") }
                values.append(v)
            }
            if values.count == 5 {
                throw fail("5 values (class cx cy w h) is a detection box, not a segmentation polygon (class x1 y1 … xn yn, at least 3 points)")
            }
            let conf = withConfidence == true
            let coordinateCount = values.count - 1 - (conf ? 1 : 0)
            guard coordinateCount >= 6 else {
                throw fail("\(values.count) values: a polygon needs a class and at least 3 points (x y)\(conf ? " before the confidence" : "")")
            }
            guard coordinateCount % 2 == 0 else {
                throw fail("\(values.count) values: an odd number of coordinates\(conf ? " (with a confidence at the end)" : " (a confidence at the end? then every line has one)")")
            }
            let c = values[0]
            guard c >= 0, c == c.rounded(), c < Double(Int32.max) else { throw fail("class \(fields[0]) is not a class index") }
            guard Int(c) < classCount else {
                throw fail("class \(Int(c)) is unknown: the names list \(classCount) classes (0…\(classCount - 1))")
            }
            let points = Array(values[1...coordinateCount])
            for (k, v) in points.enumerated() where v < -tolerance || v > 1 + tolerance {
                throw fail("\(k % 2 == 0 ? "x" : "y") = \(fields[k + 1]) is outside [0, 1]: YOLO coordinates are normalised by the image size")
            }
            out.append(YOLOLabelLine(line: line, classIndex: Int(c), points: points, confidence: conf ? values.last : nil))
        }
        return out
    }

    /// Python's `"%g" % value` (six significant digits, C's %g), as Ultralytics writes labels.
    static func g(_ v: Double) -> String {
        String(format: "%g", v)
    }

    static func line(_ values: [Double]) -> String {
        values.map(g).joined(separator: " ")
    }
}
