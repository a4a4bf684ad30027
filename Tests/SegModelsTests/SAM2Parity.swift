import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// Checks a SAM 2.1 model against a folder written by scripts/make_sam2_fixture.py (cases.json,
/// images, the official features and outputs), recording an issue for anything out of tolerance.
/// Returns one row per compared tensor (for the by-hand table in BENCHMARKS.md).
enum SAM2Parity {
    struct Case: Decodable {
        let name: String
        let points: [[Double]]?
        let labels: [Int]?
        let box: [Double]?
        let multimask: Bool
        let mask_from: String?
        let mask_index: Int?
        let stable: Bool?
        /// How far the official output itself moves under a 1e-6 relative perturbation of the embedding.
        let sensitivity: Double?
    }
    struct Entry: Decodable { let file: String; let width: Int; let height: Int; let cases: [Case] }
    struct Row: CustomStringConvertible {
        let name: String, maxAbs: Float, scale: Float, iouAbs: Float, maskPixels: Int, tolerance: Float
        var description: String {
            "| \(name) | \(String(format: "%.2e", maxAbs)) | \(String(format: "%.2e", scale > 0 ? maxAbs / scale : 0)) | \(String(format: "%.2e", iouAbs)) | \(maskPixels) |"
        }
    }

    static let tolerance: Float = 1e-4  // relative to the tensor's max magnitude, as the SAM 1 suites

    static func entries(_ dir: URL) throws -> [String: Entry] {
        try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
    }

    static func check(model: SAMModel, dir: URL) throws -> [Row] {
        func path(_ n: String) -> String { dir.appendingPathComponent(n).path }
        let counts = model.sam2MapCounts, side = model.lowResSide
        var rows: [Row] = []
        for (name, entry) in try entries(dir).sorted(by: { $0.key < $1.key }) {
            let img = try loadRGB(path(entry.file))
            let e = try model.prepare(img)
            let f = e.features.data
            for (part, range) in [("embed", 0..<counts.embed), ("s1", counts.embed..<(counts.embed + counts.s1)),
                                  ("s0", (counts.embed + counts.s1)..<(counts.embed + counts.s1 + counts.s0))] {
                let ref = try NPY(path: path("\(name)_\(part).npy"))
                let (err, scale) = maxError(Array(f[range]), ref.floats)
                #expect(err <= tolerance * scale, "\(name): \(part) error \(err) of \(scale)")
                rows.append(Row(name: "\(name) \(part)", maxAbs: err, scale: scale, iouAbs: 0, maskPixels: 0, tolerance: tolerance))
            }
            var low: [String: SAMPrediction] = [:]
            for c in entry.cases {
                let points = zip(c.points ?? [], c.labels ?? []).map { PromptPoint(x: $0.0[0], y: $0.0[1], positive: $0.1 == 1) }
                let box = c.box.map { PromptBox(x0: $0[0], y0: $0[1], x1: $0[2], y1: $0[3]) }
                var maskInput: [Float]?
                if let from = c.mask_from, let prev = low[from], let idx = c.mask_index {
                    // The official call's own mask input (its earlier low-res output), so that the step is
                    // checked on the same input; ours is checked above to be within tolerance of it.
                    let plane = side * side
                    let official = try NPY(path: path("\(name)_\(from)_lowres.npy")).floats
                    maskInput = Array(official[(idx * plane)..<((idx + 1) * plane)])
                    #expect(prev.iou.indices.max { prev.iou[$0] < prev.iou[$1] } == idx, "\(name)_\(c.name): the refined mask")
                }
                let p = try model.predict(e, points: points, box: box, maskInput: maskInput, multimask: c.multimask, returnLogits: true)
                low[c.name] = p
                let base = "\(name)_\(c.name)"
                let rl = try NPY(path: path("\(base)_lowres.npy"))
                let ri = try NPY(path: path("\(base)_iou.npy"))
                #expect(p.lowResLogits.shape == rl.shape && p.iou.count == ri.floats.count, "\(base): shapes \(p.lowResLogits.shape) vs \(rl.shape)")
                guard p.lowResLogits.shape == rl.shape, p.iou.count == ri.floats.count else { continue }
                // 1e-4, or 4× the reference's own float32 sensitivity for an ill-conditioned prompt.
                let tol = max(tolerance, 4 * Float(c.sensitivity ?? 0))
                let (le, ls) = maxError(p.lowResLogits.data, rl.floats)
                #expect(le <= tol * ls, "\(base): low-res error \(le) of \(ls) (tolerance \(tol))")
                let (ie, iscale) = maxError(p.iou, ri.floats)
                #expect(ie <= tolerance * max(iscale, 1e-3), "\(base): IoU error \(ie) of \(iscale)")
                let ours = p.logits?.data ?? []
                var band = tol * (ours.map { abs($0) }.max() ?? 0)
                if FileManager.default.fileExists(atPath: path("\(base)_logits.npy")) {
                    let rf = try NPY(path: path("\(base)_logits.npy"))
                    let (fe, fs) = maxError(ours, rf.floats)
                    #expect(fe <= tol * fs, "\(base): logits error \(fe) of \(fs)")
                    band = tol * fs
                }
                // Masks: the official ones (logits > 0), stacked vertically in one grey PNG; they may
                // differ only where the logit is within the tolerance of 0.
                let ref = try ImageFile.read(path("\(base)_masks.png")).rgbImage()
                let plane = entry.width * entry.height
                #expect(ref.width == entry.width && ref.height == entry.height * p.masks.count, "\(base): mask count")
                guard ref.pixels.count == 3 * plane * p.masks.count else { continue }
                var bad = 0, differ = 0
                for (m, mask) in p.masks.enumerated() {
                    for i in 0..<plane where (mask.bits[i] != 0) != (ref.pixels[3 * (m * plane + i)] > 127) {
                        differ += 1
                        if abs(ours[m * plane + i]) > band { bad += 1 }
                    }
                }
                #expect(bad == 0, "\(base): \(bad) mask pixels differ outside the near-zero band")
                rows.append(Row(name: base, maxAbs: le, scale: ls, iouAbs: ie, maskPixels: differ, tolerance: tol))
            }
        }
        return rows
    }
}
