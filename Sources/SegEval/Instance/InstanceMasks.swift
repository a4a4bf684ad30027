import SegCore

extension COCOInputs {
    /// The mask of `results[index]` as the evaluation rasterises it; nil when the detection has no
    /// shape or its image is unknown.
    public func detectionMask(_ index: Int) -> Mask? {
        guard results.detections.indices.contains(index),
              let image = groundTruth.images.first(where: { $0.id == results.detections[index].imageId }) else { return nil }
        return (try? InstanceShapes.detectionRuns(index, image: image, data: self))?.decode()
    }

    /// The detections on the image whose file name has this stem, best score first.
    public func detections(onImageStem stem: String, minimumScore: Double = 0) -> [Int] {
        let ids = Set(groundTruth.images.filter { FileName.stem($0.fileName) == stem }.map(\.id))
        return results.detections.indices.filter { ids.contains(results.detections[$0].imageId) && results.detections[$0].score >= minimumScore }
            .sorted { results.detections[$0].score > results.detections[$1].score }
    }
}
