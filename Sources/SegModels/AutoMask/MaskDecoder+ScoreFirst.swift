import SegNN

extension MaskDecoder {
    /// `run` with the score heads before the masks: the two-way transformer, the IoU head, and the
    /// upscaling and hypernetwork only when `keep` accepts one of the wanted masks' IoUs (then only
    /// for the span of the accepted ones). The automatic generator drops a mask whose predicted IoU
    /// is below its threshold before looking at the mask, so a prompt whose masks all fail costs the
    /// transformer alone; the masks that are computed are those of `run`, value for value.
    /// Returns per wanted mask its low-res logits (nil when not computed) and every IoU prediction.
    func runScoreFirst(image: UnsafePointer<Float>, sparse: [Float], masks wanted: Range<Int>, cache: DecoderImageCache?,
                       highRes: HighRes?, keep: (Float) -> Bool, ws: Workspace) -> (lowRes: [[Float]?], iou: [Float]) {
        let (queries, keys) = twoWayTransformer(image: image, sparse: sparse, maskInput: nil, cache: cache, ws: ws)
        let (iou, _) = scoreHeads(queries: queries, ws: ws)
        let accepted = wanted.filter { $0 < iou.count && keep(iou[$0]) }
        var out = [[Float]?](repeating: nil, count: wanted.count)
        guard let first = accepted.first, let last = accepted.last else { return (out, iou) }
        let span = first..<(last + 1)
        let upscaled = upscale(keys, highRes: highRes, ws: ws)
        let planes = hypernetworkMasks(queries: queries, upscaled: upscaled, wanted: span, ws: ws)
        let plane = 16 * grid * grid
        for i in accepted { out[i - wanted.lowerBound] = Array(planes[((i - first) * plane)..<((i - first + 1) * plane)]) }
        return (out, iou)
    }
}
