extension FailureRow {
    /// A row made outside the engine (benchmarks, other front ends).
    public init(kind: Kind, image: String, className: String, sizeBucket: SizeBucket?, area: Double, iou: Double, score: Double?,
                box: COCOBox?, reference: String, classId: Int? = nil, imageId: Int? = nil) {
        self.init(image: image, imageId: imageId, classId: classId, className: className, sizeBucket: sizeBucket, area: area,
                  iou: iou, score: score, kind: kind, box: box, reference: reference)
    }
}
