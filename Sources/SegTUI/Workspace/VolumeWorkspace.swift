import Foundation
import SegCore
import SegEval

/// One case of a volume data set: its image (the first channel), its ground truth and its
/// predictions, and the geometry read from the image's header.
public struct VolumeCase: Sendable, Equatable {
    /// The case id as nnU-Net pairs files: the image's name without `.nii(.gz)` and its `_0000` channel.
    public var name: String
    public var image: String
    public var labels: String?
    /// Per prediction set of the data set (same order), this case's file if the set has one.
    public var predictions: [String?]
    public var size: [Int]
    public var spacing: [Double]
    public var orientation: String
    /// Index in the workbench's image list of this case's first slice (axial 0); then its
    /// coronal and sagittal slices follow.
    public var firstEntry: Int

    public func view(_ plane: VolumeSliceView.Plane) -> VolumeSliceView {
        VolumeSliceView(plane: plane, size: size, spacing: spacing, orientation: orientation)
    }

    /// Where a plane's slices start after `firstEntry`.
    public func offset(_ plane: VolumeSliceView.Plane) -> Int {
        switch plane {
        case .axial: 0
        case .coronal: size[2]
        case .sagittal: size[2] + size[1]
        }
    }

    public var entryCount: Int { size[0] + size[1] + size[2] }
}

/// A folder of NIfTI volumes opened in the workbench: a Decathlon / nnU-Net raw folder
/// (`imagesTr/`, `labelsTr/`, `dataset.json`) or a flat folder of `.nii` / `.nii.gz` files. Each
/// slice of each case along each plane is one entry of the workbench's image list, so prompts,
/// accepts, drafts and visits are journalled per slice as they are per image.
public struct VolumeDataSet: Sendable, Equatable {
    public var cases: [VolumeCase]
    /// Class names, background first (dataset.json's, by label value).
    public var classes: [String]
    /// dataset.json's label value of each class name.
    public var labelValues: [String: UInt16]
    /// Whether dataset.json names the first channel CT (then the CT windows come first).
    public var isCT: Bool
    public var predictionNames: [String]
    /// The file ending written label volumes take (dataset.json's `file_ending`, else `.nii.gz`).
    public var fileEnding: String
    public var source: String

    /// The data set in `folder`, or nil when it holds no NIfTI volumes (a folder of images).
    /// `groundTruth` (`--gt`) and `predictions` (`--pred`) are folders of label volumes named by case.
    public static func detect(folder: String, groundTruth: String?, predictions: [(name: String, path: String)]) throws -> VolumeDataSet? {
        let root = folder.hasSuffix("/") && folder.count > 1 ? String(folder.dropLast()) : folder
        var imagesFolder = root, labelsFolder = groundTruth
        if volumes(in: root + "/imagesTr").count > 0 {
            imagesFolder = root + "/imagesTr"
            if labelsFolder == nil, FileIO.isDirectory(root + "/labelsTr") { labelsFolder = root + "/labelsTr" }
        } else if FileName.last(root) == "imagesTr", labelsFolder == nil {
            let sibling = (root as NSString).deletingLastPathComponent + "/labelsTr"
            if FileIO.isDirectory(sibling) { labelsFolder = sibling }
        }
        let files = volumes(in: imagesFolder)
        guard !files.isEmpty else { return nil }
        var labelValues: [String: UInt16] = [:]
        var isCT = false, fileEnding = ".nii.gz"
        if let json = VolumeDataset.find(near: imagesFolder) {
            let described = try VolumeDataset.load(json)
            fileEnding = described.fileEnding
            for structure in described.structures where !structure.isRegion {
                if let value = structure.labels.first { labelValues[structure.name] = value }
            }
            isCT = try modalityIsCT(json)
        }
        let classes = ["background"] + labelValues.sorted { $0.value < $1.value }.map(\.key)
        // One case per id: the first channel (`_0000`, sorted first) is the one shown.
        var byCase: [(String, String)] = []
        for file in files where !byCase.contains(where: { $0.0 == caseID(file) }) { byCase.append((caseID(file), file)) }
        let labelFiles = labelsFolder.map(volumesByCase) ?? [:]
        let predictionFiles = predictions.map { volumesByCase($0.path) }
        var cases: [VolumeCase] = []
        var next = 0
        for (name, file) in byCase {
            let path = imagesFolder + "/" + file
            let header = try NIfTI.readHeader(path)
            // Sizes from the file: checked (overflow, the reader's limit) before anything uses them,
            // and each axis small enough that its slices can be listed.
            do {
                _ = try header.dataBytes(maxBytes: NIfTI.Limits.standard.maxDataBytes)
            } catch {
                throw error.about(path)
            }
            guard header.size.allSatisfy({ $0 > 0 && $0 <= maxSlices }) else {
                throw SegError(.invalid, file: path, "a volume of \(header.size.map(String.init).joined(separator: "×")) voxels cannot be shown (each axis 1…\(maxSlices))")
            }
            let geometry = NIfTIImage(header: header, data: []).geometry
            let item = VolumeCase(name: name, image: path, labels: labelFiles[name], predictions: predictionFiles.map { $0[name] },
                                  size: geometry.size, spacing: geometry.spacing, orientation: geometry.orientation, firstEntry: next)
            next += item.entryCount
            cases.append(item)
        }
        return VolumeDataSet(cases: cases, classes: classes, labelValues: labelValues, isCT: isCT,
                             predictionNames: predictions.map(\.name), fileEnding: fileEnding, source: imagesFolder)
    }

    /// The most voxels along one axis a shown volume may have (its slices are listed one by one).
    public static let maxSlices = 1 << 15

    /// `.nii` and `.nii.gz` files of a folder, sorted (none when it is not a folder).
    static func volumes(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { NIfTI.isNIfTI($0) && !$0.hasPrefix(".") }.sorted()
    }

    static func volumesByCase(_ folder: String) -> [String: String] {
        var out: [String: String] = [:]
        for file in volumes(in: folder) where out[caseID(file)] == nil { out[caseID(file)] = folder + "/" + file }
        return out
    }

    /// nnU-Net's case id: the name without its extension and its 4-digit channel suffix.
    static func caseID(_ file: String) -> String {
        let name = NIfTI.caseName(file)
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        if parts.count > 1, let last = parts.last, last.count == 4, last.allSatisfy(\.isNumber) { return parts.dropLast().joined(separator: "_") }
        return name
    }

    /// nnU-Net v2's `channel_names` or the Decathlon's `modality`: is channel 0 CT?
    static func modalityIsCT(_ path: String) throws -> Bool {
        let root = try JSONSerialization.jsonObject(with: Data(try FileIO.read(path, maxBytes: 64 << 20))) as? [String: Any]
        let channels = (root?["channel_names"] ?? root?["modality"]) as? [String: Any]
        return (channels?["0"] as? String)?.uppercased() == "CT"
    }

    /// The workbench's image list: every slice of every case, case by case, axial then coronal then sagittal.
    public var entries: [ImageEntry] {
        var out: [ImageEntry] = []
        for item in cases {
            for plane in VolumeSliceView.Plane.allCases {
                for k in 0..<item.size[plane.axes.fixed] {
                    out.append(ImageEntry(path: Self.slicePath(item.image, plane, k), name: "\(item.name) \(plane.rawValue) \(k)"))
                }
            }
        }
        return out
    }

    /// A slice's entry path: the image volume's path, `#`, the plane and the voxel index.
    public static func slicePath(_ image: String, _ plane: VolumeSliceView.Plane, _ k: Int) -> String {
        "\(image)#\(plane.rawValue)/\(k)"
    }

    /// The case, plane and slice an image-list index names.
    public func locate(_ index: Int) -> (case: Int, plane: VolumeSliceView.Plane, slice: Int)? {
        guard let c = cases.lastIndex(where: { $0.firstEntry <= index }) else { return nil }
        let item = cases[c]
        var k = index - item.firstEntry
        for plane in VolumeSliceView.Plane.allCases {
            let n = item.size[plane.axes.fixed]
            if k < n { return (c, plane, k) }
            k -= n
        }
        return nil
    }

    public func index(case c: Int, plane: VolumeSliceView.Plane, slice: Int) -> Int? {
        guard cases.indices.contains(c) else { return nil }
        let item = cases[c]
        guard slice >= 0, slice < item.size[plane.axes.fixed] else { return nil }
        return item.firstEntry + item.offset(plane) + slice
    }

    /// The label value a class is written with: dataset.json's, else the next values after its
    /// largest, in the order the classes were added.
    public func labelValue(of className: String, objectClasses: [String]) -> UInt16 {
        if let value = labelValues[className] { return value }
        let others = objectClasses.filter { labelValues[$0] == nil }
        let base = Int(labelValues.values.max() ?? 0)
        return UInt16(clamping: base + 1 + (others.firstIndex(of: className) ?? others.count))
    }

    /// The class name of a label value (dataset.json's, else "label N").
    public func className(of value: UInt16) -> String {
        labelValues.first { $0.value == value }?.key ?? "label \(value)"
    }
}

extension ImageEntry {
    /// A slice of a volume: its path names the volume and the plane, its name is what the journal
    /// and the status line use.
    init(path: String, name: String) {
        self.path = path
        self.name = name
        stem = name
    }
}
