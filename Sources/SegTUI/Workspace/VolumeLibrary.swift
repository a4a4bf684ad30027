import Foundation
import SegCore
import Synchronization

/// The display windows the workbench cycles through (`w`). CT's presets are Hounsfield units;
/// the percentile window (0.5 to 99.5 %) suits MR, which has no absolute scale.
public enum VolumeWindow: String, Sendable, CaseIterable {
    case softTissue = "soft", lung, bone, percentile

    /// The cycle: CT's presets first for a CT data set, else the percentile window first.
    public static func cycle(ct: Bool) -> [VolumeWindow] { ct ? [.softTissue, .lung, .bone, .percentile] : [.percentile, .softTissue, .lung, .bone] }

    public func resolved(percentile: IntensityWindow) -> IntensityWindow {
        switch self {
        case .softTissue: .ctSoftTissue
        case .lung: .ctLung
        case .bone: .ctBone
        case .percentile: percentile
        }
    }

    public var title: String {
        switch self {
        case .softTissue: "soft tissue"
        case .lung: "lung"
        case .bone: "bone"
        case .percentile: "0.5-99.5%"
        }
    }
}

/// One label value's voxels in the shown slice, at the displayed size.
public struct SliceLabelMask: Sendable {
    public var value: UInt16
    public var className: String
    public var mask: Mask
}

/// What the runtime reads for a slice besides the image: the window in numbers, the ground
/// truth's and each prediction set's labels.
public struct SliceLabels: Sendable {
    public var index: Int
    public var window: IntensityWindow
    public var truth: [SliceLabelMask]
    public var predictions: [(name: String, masks: [SliceLabelMask])]
}

/// The volumes of a data set, read when first needed and kept (the last few), turned into the
/// images the models see and the label masks drawn over them. Shared by the model workers (on
/// their queues) and the runtime, behind a lock.
public final class VolumeLibrary: Sendable {
    public let dataSet: VolumeDataSet
    private let limits: NIfTI.Limits
    private let cache = Mutex<VolumeCache>(VolumeCache())
    static let capacity = 6

    public init(dataSet: VolumeDataSet, limits: NIfTI.Limits = .standard) {
        self.dataSet = dataSet
        self.limits = limits
    }

    /// The path the workers open for a slice shown through `window`: the window is part of it,
    /// so a slice prepared under one window is never taken for another (prefetching, the cache).
    public static func openPath(_ entryPath: String, window: VolumeWindow) -> String { entryPath + "@" + window.rawValue }

    /// The case, plane and slice a slice path names (with or without its window).
    func parse(_ path: String) -> (item: VolumeCase, plane: VolumeSliceView.Plane, slice: Int, window: VolumeWindow?)? {
        guard let hash = path.lastIndex(of: "#") else { return nil }
        let image = String(path[..<hash])
        var rest = String(path[path.index(after: hash)...])
        var window: VolumeWindow?
        if let at = rest.lastIndex(of: "@") {
            window = VolumeWindow(rawValue: String(rest[rest.index(after: at)...]))
            rest = String(rest[..<at])
        }
        let parts = rest.split(separator: "/")
        guard parts.count == 2, let plane = VolumeSliceView.Plane(rawValue: String(parts[0])), let k = Int(parts[1]),
              let item = dataSet.cases.first(where: { $0.image == image }) else { return nil }
        return (item, plane, k, window)
    }

    /// The image a model sees for a slice path: the slice windowed to grey, as RGB. Any other
    /// path is an image file.
    public func image(_ path: String, limits fileLimits: ImageFile.Limits) throws -> RGBImage {
        guard let (item, plane, k, window) = parse(path) else { return try ImageFile.read(path, limits: fileLimits).rgbImage() }
        let scan = try scalars(item.image)
        let view = item.view(plane)
        guard let values = view.extract(scan.volume, slice: k) else {
            throw SegError(.invalid, file: item.image, "no \(plane.rawValue) slice \(k)")
        }
        let grey = (window ?? .percentile).resolved(percentile: scan.percentile).grey(values)
        var pixels = [UInt8](repeating: 0, count: grey.count * 3)
        for (i, g) in grey.enumerated() { pixels[3 * i] = g; pixels[3 * i + 1] = g; pixels[3 * i + 2] = g }
        return RGBImage(width: view.width, height: view.height, pixels: pixels)
    }

    /// The loader the model workers use.
    public var loader: ImageLoader { { [self] path, limits in try image(path, limits: limits) } }

    /// The labels and window of the slice at image-list `index` (entry path `path`).
    public func sliceLabels(index: Int, path: String, window: VolumeWindow) throws -> SliceLabels? {
        guard let (item, plane, k, _) = parse(path) else { return nil }
        let view = item.view(plane)
        func masks(_ file: String?) throws -> [SliceLabelMask] {
            guard let file else { return [] }
            let volume = try labels(file)
            guard volume.geometry.size == item.size else {
                throw SegError(.invalid, file: file, "is \(volume.geometry.size.map(String.init).joined(separator: "×")) voxels, its image \(item.size.map(String.init).joined(separator: "×"))")
            }
            guard let plane = view.extract(volume, slice: k) else { return [] }
            let values = Set(plane).subtracting([0]).sorted()
            return values.map { v in
                SliceLabelMask(value: v, className: dataSet.className(of: v),
                               mask: Mask(width: view.width, height: view.height, bits: plane.map { $0 == v ? 1 : 0 }))
            }
        }
        let scan = try scalars(item.image)
        return SliceLabels(index: index, window: window.resolved(percentile: scan.percentile), truth: try masks(item.labels),
                           predictions: try zip(dataSet.predictionNames, item.predictions).map { ($0, try masks($1)) })
    }

    /// The header of a case's image (what a written label volume copies).
    public func header(_ item: VolumeCase) throws -> NIfTIHeader { try NIfTI.readHeader(item.image) }

    struct Scan: Sendable {
        var volume: ScalarVolume
        var percentile: IntensityWindow
    }

    func scalars(_ path: String) throws -> Scan {
        try cache.withLock { cache in
            if let scan = cache.scans[path] { cache.touch(path); return scan }
            let volume = try NIfTI.read(path, limits: limits).scalars()
            let scan = Scan(volume: volume, percentile: IntensityWindow.percentile(volume.voxels))
            cache.scans[path] = scan
            cache.touch(path)
            return scan
        }
    }

    func labels(_ path: String) throws -> LabelVolume {
        try cache.withLock { cache in
            if let volume = cache.labels[path] { cache.touch(path); return volume }
            let volume = try NIfTI.readLabels(path, limits: limits)
            cache.labels[path] = volume
            cache.touch(path)
            return volume
        }
    }
}

/// The volumes read last (images with their percentile window, label volumes), the least
/// recently used dropped beyond the capacity.
struct VolumeCache {
    var scans: [String: VolumeLibrary.Scan] = [:]
    var labels: [String: LabelVolume] = [:]
    var order: [String] = []

    mutating func touch(_ path: String) {
        order.removeAll { $0 == path }
        order.append(path)
        while order.count > VolumeLibrary.capacity {
            let old = order.removeFirst()
            scans[old] = nil
            labels[old] = nil
        }
    }
}
