// libFuzzer target: a COCO panoptic annotation (its `segments_info`) with the PNG it describes, as
// `segterm eval` reads a pair. Input: two length bytes (little-endian), that many bytes of panoptic
// JSON, then the PNG. The PNG's RGB ids are matched against the first annotation's segments as
// ground truth and, from the same PNG, as a prediction (the second annotation's segments when there
// is one), through the evaluator's per-image code: pair counting, PQ counts, failure boxes.
@testable import SegCore
@testable import SegEval

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPanoptic(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let length = min(Int(bytes[0]) | Int(bytes[1]) << 8, size - 2)
    let json = Array(bytes[2..<(2 + length)])
    let png = Array(bytes[(2 + length)...])
    guard let file = try? PanopticFile.parse(json, file: "fuzz.json"), let gt = file.annotations.first else { return 0 }
    let pred = file.annotations.count > 1 ? file.annotations[1] : gt
    // The CLI's limit is 100 Mpx; a lower one keeps each run fast (the check itself is the same).
    guard let image = try? ImageFile.decode(png, limits: ImageFile.Limits(maxPixels: 4_000_000)) else { return 0 }
    let ids = image.labelMap(reducing: .packedRGB)
    var categories: [Int: Int] = [:]
    for (k, c) in file.categories.enumerated() { categories[c.id] = k }
    _ = try? PanopticEvaluator.evaluateImage(gt: gt, pred: pred, gtIds: ids, predIds: ids, categories: categories,
                                             gtFile: "gt.png", predFile: "pred.png")
    return 0
}
