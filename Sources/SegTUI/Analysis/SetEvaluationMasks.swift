import SegCore
import SegEval

extension SetEvaluation {
    /// The predicted mask a failure row is about: the detection of an instance row, the
    /// prediction of the row's class (semantic), the predicted object (binary) or the predicted
    /// segment of a panoptic false positive; nil for a missed object or segment.
    public func predictionMask(for row: FailureRow) -> Mask? {
        switch result?.engine {
        case .instance(_, let inputs, _)?:
            guard row.reference.hasPrefix("results["), let index = Int(row.reference.dropFirst(8).dropLast()) else { return nil }
            return inputs.detectionMask(index)
        case .semantic?, .binary?:
            let masks = predictionMasks(stem: ImageEntry(path: row.image).stem)
            if let classId = row.classId { return masks.first { $0.label == classId }?.mask }
            return masks.first?.mask
        case .panoptic(let ev)?:
            guard row.kind == .falsePositiveSegment, row.reference.hasPrefix("segment "),
                  let id = UInt32(row.reference.dropFirst(8)),
                  let i = ev.images.firstIndex(where: { $0.fileName == row.image }),
                  let ids = Self.segmentIds(ev, i) else { return nil }
            return ids.mask(of: id)
        case .volume?, nil:
            // Volumes are not drawn on photos; the slice viewer (issue #20, item 5) will draw them.
            return nil
        }
    }

    /// What this set predicts on one image, for drawing: the detections scoring at least
    /// `minimumScore` (label: their rank), each predicted class of a label map (label: the class
    /// id), the predicted object of a binary mask, or each panoptic segment (label: its rank in
    /// id order).
    public func predictionMasks(stem: String, minimumScore: Double = 0.5) -> [(mask: Mask, label: Int)] {
        switch result?.engine {
        case .instance(_, let instances, _)?:
            return instances.detections(onImageStem: stem, minimumScore: minimumScore).enumerated()
                .compactMap { rank, d in instances.detectionMask(d).map { ($0, rank) } }
        case .semantic(let ev)?:
            guard let file = ev.images.first(where: { $0.stem == stem })?.predictionFile,
                  let labels = try? ImageFile.read(file).labelMap() else { return [] }
            return Set(labels.labels).filter { $0 != 0 && $0 != ev.ignoreIndex }.sorted().map { (labels.mask(of: $0), Int($0)) }
        case .binary(let ev)?:
            guard let file = ev.images.first(where: { $0.stem == stem })?.predictionFile,
                  let raster = try? ImageFile.read(file) else { return [] }
            return [(raster.objectMask().object, 1)]
        case .panoptic(let ev)?:
            guard let i = ev.images.firstIndex(where: { FileName.stem($0.fileName) == stem }), let ids = Self.segmentIds(ev, i) else { return [] }
            return Set(ids.labels).filter { $0 != 0 }.sorted().enumerated().map { rank, id in (ids.mask(of: id), rank) }
        case .volume?, nil:
            return []
        }
    }

    /// The segment ids of image `i`'s prediction PNG (id = R + 256·G + 256²·B), nil when unreadable.
    static func segmentIds(_ ev: PanopticEvaluation, _ i: Int) -> LabelMap? {
        guard ev.predictionFiles.indices.contains(i) else { return nil }
        return try? ImageFile.read(ev.predictionFiles[i]).labelMap(reducing: .packedRGB)
    }
}
