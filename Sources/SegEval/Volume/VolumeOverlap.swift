import SegConcurrency
import SegCore

/// A label or a region (nnU-Net's region-based training: a structure made of several labels).
public struct VolumeStructure: Sendable, Equatable {
    public var name: String
    /// The labels that make it: one for a label, several for a region.
    public var labels: [UInt16]
    /// A region is keyed as a tuple even when it has one label, as nnU-Net keys it.
    public var isRegion: Bool
    /// Its key in nnU-Net's summary.json: `str(label)`, or `str(tuple)` for a region ("(1, 2)").
    public var key: String {
        guard isRegion else { return labels.first.map(String.init) ?? "" }
        return "(" + labels.map(String.init).joined(separator: ", ") + (labels.count == 1 ? ",)" : ")")
    }

    public init(name: String, labels: [UInt16], isRegion: Bool = false) {
        self.name = name
        self.labels = labels
        self.isRegion = isRegion || labels.count != 1
    }
}

/// nnU-Net's `compute_tp_fp_fn_tn` and the Dice / IoU of `compute_metrics` for one structure of
/// one case: voxels where the reference holds the ignore label count nowhere; Dice and IoU are
/// NaN when neither side has the structure (tp + fp + fn = 0), as nnU-Net writes them.
public struct VolumeOverlap: Sendable, Equatable {
    public var tp: Int, fp: Int, fn: Int, tn: Int
    public var nPred: Int { tp + fp }
    public var nRef: Int { tp + fn }
    public var dice: Double { tp + fp + fn == 0 ? .nan : 2 * Double(tp) / Double(2 * tp + fp + fn) }
    public var iou: Double { tp + fp + fn == 0 ? .nan : Double(tp) / Double(tp + fp + fn) }

    /// Every structure's counts from one joint histogram of (reference, prediction) over the
    /// voxels (one pass, split over `workers`), labels outside every structure pooled as "other".
    public static func compute(reference: [UInt16], prediction: [UInt16], structures: [VolumeStructure],
                               ignoreLabel: UInt16?, workers: Int) -> [VolumeOverlap] {
        precondition(reference.count == prediction.count, "VolumeOverlap: sizes differ")
        // Compact codes: 0 = any label in no structure, 1... = the labels named, skip = ignored.
        var code = [UInt16](repeating: 0, count: 65536)
        var named: [UInt16] = []
        for s in structures { for l in s.labels where !named.contains(l) { named.append(l); code[Int(l)] = UInt16(named.count) } }
        let skip = UInt16.max
        if let ignoreLabel { code[Int(ignoreLabel)] = skip }
        let k = named.count + 1
        let chunks = max(1, min(workers * 4, reference.count / (1 << 20) + 1))
        let partial: [[Int]] = ParallelFor.map(chunks, workers: workers) { c in
            let start = reference.count * c / chunks, end = reference.count * (c + 1) / chunks
            var hist = [Int](repeating: 0, count: k * k)
            code.withUnsafeBufferPointer { code in
                reference.withUnsafeBufferPointer { ref in
                    prediction.withUnsafeBufferPointer { pred in
                        hist.withUnsafeMutableBufferPointer { h in
                            for i in start..<end {
                                let r = code[Int(ref[i])]
                                if r == skip { continue }
                                // The ignore label in a prediction is just a label that is no structure.
                                let p = code[Int(pred[i])]
                                h[Int(r) * k + (p == skip ? 0 : Int(p))] += 1
                            }
                        }
                    }
                }
            }
            return hist
        }
        var hist = [Int](repeating: 0, count: k * k)
        for p in partial { for i in 0..<hist.count { hist[i] += p[i] } }
        let total = hist.reduce(0, +)
        return structures.map { s in
            let member = (0..<k).map { c in c > 0 && s.labels.contains(named[c - 1]) }
            var tp = 0, fp = 0, fn = 0
            for r in 0..<k {
                for p in 0..<k {
                    let n = hist[r * k + p]
                    switch (member[r], member[p]) {
                    case (true, true): tp += n
                    case (false, true): fp += n
                    case (true, false): fn += n
                    case (false, false): break
                    }
                }
            }
            return VolumeOverlap(tp: tp, fp: fp, fn: fn, tn: total - tp - fp - fn)
        }
    }
}
