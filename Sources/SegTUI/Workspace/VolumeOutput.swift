import Foundation
import SegCore

/// Writes the accepted slice masks of a case as one label volume, `<output>/labels/<case>.nii.gz`,
/// with the header and affine of the case's image (`NIfTI.write(like:)`), so the labels sit where
/// the image does and `segterm eval --task volume` or nnU-Net reads them. Rewritten atomically
/// after every accept or delete on one of the case's slices; removed when none is left.
public struct VolumeOutput: Sendable {
    public let folder: String
    public let library: VolumeLibrary

    public init(folder: String, library: VolumeLibrary) {
        self.folder = folder
        self.library = library
    }

    public var labelsFolder: String { folder + "/labels" }

    public func path(_ item: VolumeCase) -> String { labelsFolder + "/" + item.name + library.dataSet.fileEnding }

    /// The label volume of the case whose slice `slicePath` is, from the accepted objects of all its
    /// slices. Objects are painted in the order they were accepted (their revision), so where two
    /// overlap (an axial and a coronal mask) the later accept wins.
    public func labelVolume(_ item: VolumeCase, accepted: [String: [AcceptedObject]], objectClasses: [String]) -> LabelVolume? {
        let dataSet = library.dataSet
        var painted: [(plane: VolumeSliceView.Plane, slice: Int, object: AcceptedObject)] = []
        for plane in VolumeSliceView.Plane.allCases {
            for k in 0..<item.size[plane.axes.fixed] {
                for object in accepted[VolumeDataSet.slicePath(item.image, plane, k)] ?? [] { painted.append((plane, k, object)) }
            }
        }
        guard !painted.isEmpty else { return nil }
        let geometry = VolumeGeometry(size: item.size, spacing: item.spacing, affine: [Double](repeating: 0, count: 16))
        var volume = LabelVolume(geometry: geometry, voxels: [UInt16](repeating: 0, count: geometry.voxelCount))
        for (plane, k, object) in painted.sorted(by: { $0.object.revision < $1.object.revision }) {
            item.view(plane).paste(object.mask, value: dataSet.labelValue(of: object.className, objectClasses: objectClasses),
                                   into: &volume, slice: k)
        }
        return volume
    }

    /// The cases with at least one accepted object on one of their slices.
    public func casesWithWork(_ accepted: [String: [AcceptedObject]]) -> [VolumeCase] {
        var images = Set<String>()
        for (path, objects) in accepted where !objects.isEmpty {
            if let hash = path.lastIndex(of: "#") { images.insert(String(path[..<hash])) }
        }
        return library.dataSet.cases.filter { images.contains($0.image) }
    }

    public func save(slicePath: String, accepted: [String: [AcceptedObject]], objectClasses: [String]) throws {
        guard let (item, _, _, _) = library.parse(slicePath) else { return }
        let target = path(item)
        guard let volume = labelVolume(item, accepted: accepted, objectClasses: objectClasses) else {
            if FileManager.default.fileExists(atPath: target) { try? FileManager.default.removeItem(atPath: target) }
            return
        }
        try NIfTI.write(volume, like: try library.header(item), to: target)
    }
}
