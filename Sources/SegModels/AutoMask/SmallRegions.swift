import SegCore

/// The two ways the official generators clean up small regions.
enum SmallRegions {
    /// segment-anything's `remove_small_regions` (OpenCV 8-connected components): `.holes` fills
    /// background components smaller than `area`; `.islands` drops foreground components smaller
    /// than `area`, keeping the largest when all are. Returns nil when nothing changed.
    enum Mode { case holes, islands }

    static func remove(_ mask: Mask, area: Int, mode: Mode) throws -> Mask? {
        let working = Mask(width: mask.width, height: mask.height, bits: mask.bits.map { mode == .holes ? ($0 == 0 ? 1 : 0) : ($0 != 0 ? 1 : 0) })
        let cc = try working.connectedComponents(.eight)
        var sizes = [Int](repeating: 0, count: cc.count + 1)
        for l in cc.labels.labels { sizes[Int(l)] += 1 }
        var small = [Bool](repeating: false, count: cc.count + 1)
        var anySmall = false
        for l in 1...max(cc.count, 1) where l <= cc.count && sizes[l] < area { small[l] = true; anySmall = true }
        guard anySmall else { return nil }
        // np.isin(regions, fill_labels): holes fill label 0 (the mask itself) and the small holes;
        // islands keep every label but 0 and the small ones, or else the largest (first of equals).
        var fill = [Bool](repeating: false, count: cc.count + 1)
        switch mode {
        case .holes:
            fill = small
            fill[0] = true
        case .islands:
            for l in 1..<(cc.count + 1) where !small[l] { fill[l] = true }
            if !fill.contains(true) {
                var best = 1
                for l in 1...cc.count where sizes[l] > sizes[best] { best = l }
                fill[best] = true
            }
        }
        return Mask(width: mask.width, height: mask.height, bits: cc.labels.labels.map { fill[Int($0)] ? 1 : 0 })
    }

    /// sam2's `SAM2Transforms.postprocess_masks` filling, on one plane of low-resolution logits:
    /// background components (logit ≤ `threshold`, 8-connected) of at most `maxArea` pixels become
    /// `threshold + 10`, foreground components of at most `maxArea` become `threshold − 10`; both
    /// are found on the plane as it came from the decoder.
    static func fillLowRes(_ plane: [Float], side: Int, threshold: Float, maxArea: Int) throws -> [Float] {
        var out = plane
        for foreground in [false, true] {
            let bits = plane.map { ($0 > threshold) == foreground ? UInt8(1) : 0 }
            let cc = try Mask(width: side, height: side, bits: bits).connectedComponents(.eight)
            guard cc.count > 0 else { continue }
            var sizes = [Int](repeating: 0, count: cc.count + 1)
            for l in cc.labels.labels { sizes[Int(l)] += 1 }
            let value = foreground ? threshold - 10 : threshold + 10
            for (i, l) in cc.labels.labels.enumerated() where l > 0 && sizes[Int(l)] <= maxArea { out[i] = value }
        }
        return out
    }
}
