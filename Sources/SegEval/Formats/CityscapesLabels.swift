/// Cityscapes' label table (cityscapesscripts/helpers/labels.py): name, label id (the
/// `*_labelIds.png` value), train id (`*_labelTrainIds.png`, 255 = ignored), whether the class has
/// instances (values ≥ 1000 in `*_instanceIds.png`) and whether evaluation ignores it.
/// `license plate` (id −1) never appears in the PNGs and is left out.
public struct CityscapesLabel: Sendable, Equatable {
    public let name: String
    public let id: Int
    public let trainId: Int
    public let hasInstances: Bool
    public let ignoreInEval: Bool
}

public enum CityscapesLabels {
    public static let all: [CityscapesLabel] = [
        .init(name: "unlabeled", id: 0, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "ego vehicle", id: 1, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "rectification border", id: 2, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "out of roi", id: 3, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "static", id: 4, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "dynamic", id: 5, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "ground", id: 6, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "road", id: 7, trainId: 0, hasInstances: false, ignoreInEval: false),
        .init(name: "sidewalk", id: 8, trainId: 1, hasInstances: false, ignoreInEval: false),
        .init(name: "parking", id: 9, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "rail track", id: 10, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "building", id: 11, trainId: 2, hasInstances: false, ignoreInEval: false),
        .init(name: "wall", id: 12, trainId: 3, hasInstances: false, ignoreInEval: false),
        .init(name: "fence", id: 13, trainId: 4, hasInstances: false, ignoreInEval: false),
        .init(name: "guard rail", id: 14, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "bridge", id: 15, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "tunnel", id: 16, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "pole", id: 17, trainId: 5, hasInstances: false, ignoreInEval: false),
        .init(name: "polegroup", id: 18, trainId: 255, hasInstances: false, ignoreInEval: true),
        .init(name: "traffic light", id: 19, trainId: 6, hasInstances: false, ignoreInEval: false),
        .init(name: "traffic sign", id: 20, trainId: 7, hasInstances: false, ignoreInEval: false),
        .init(name: "vegetation", id: 21, trainId: 8, hasInstances: false, ignoreInEval: false),
        .init(name: "terrain", id: 22, trainId: 9, hasInstances: false, ignoreInEval: false),
        .init(name: "sky", id: 23, trainId: 10, hasInstances: false, ignoreInEval: false),
        .init(name: "person", id: 24, trainId: 11, hasInstances: true, ignoreInEval: false),
        .init(name: "rider", id: 25, trainId: 12, hasInstances: true, ignoreInEval: false),
        .init(name: "car", id: 26, trainId: 13, hasInstances: true, ignoreInEval: false),
        .init(name: "truck", id: 27, trainId: 14, hasInstances: true, ignoreInEval: false),
        .init(name: "bus", id: 28, trainId: 15, hasInstances: true, ignoreInEval: false),
        .init(name: "caravan", id: 29, trainId: 255, hasInstances: true, ignoreInEval: true),
        .init(name: "trailer", id: 30, trainId: 255, hasInstances: true, ignoreInEval: true),
        .init(name: "train", id: 31, trainId: 16, hasInstances: true, ignoreInEval: false),
        .init(name: "motorcycle", id: 32, trainId: 17, hasInstances: true, ignoreInEval: false),
        .init(name: "bicycle", id: 33, trainId: 18, hasInstances: true, ignoreInEval: false),
    ]

    public static func byId(_ id: Int) -> CityscapesLabel? { id >= 0 && id < all.count ? all[id] : nil }
    public static func byName(_ name: String) -> CityscapesLabel? { all.first { $0.name == name } }
    /// The label id of a train id (0…18); nil for 255 and unknown ids.
    public static func labelId(forTrainId t: Int) -> Int? { all.first { $0.trainId == t && t != 255 }?.id }
    /// The train id of a label id: 255 for the ignored ones.
    public static func trainId(forLabelId id: Int) -> Int { byId(id)?.trainId ?? 255 }
}

/// Pascal VOC's 21 classes (index = value in SegmentationClass PNGs; 255 = void, the object
/// boundaries and hard pixels) and its palette (the `bitget` colour map of the devkit).
public enum VOCLabels {
    public static let classes = [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ]
    public static let void: UInt32 = 255

    /// VOClabelcolormap.m: bit j of the index's three low bits goes to bit 7 − j of R, G, B.
    public static let palette: [(UInt8, UInt8, UInt8)] = (0..<256).map { i in
        var r = 0, g = 0, b = 0, c = i
        for j in 0..<8 {
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        }
        return (UInt8(r), UInt8(g), UInt8(b))
    }
}
