import Foundation
import SegCore

/// What an nnU-Net / Decathlon `dataset.json` says about evaluation: the structures (nnU-Net v2's
/// `"labels": {"name": value or [values]}`, or the Decathlon's `{"0": "background", "1": "liver"}`),
/// the ignore label (v2's `"ignore"` entry) and the file ending.
public struct VolumeDataset: Sendable, Equatable {
    /// The foreground labels or regions, in the order nnU-Net evaluates them.
    public var structures: [VolumeStructure]
    public var ignoreLabel: UInt16?
    public var fileEnding: String

    public init(structures: [VolumeStructure], ignoreLabel: UInt16? = nil, fileEnding: String = ".nii.gz") {
        self.structures = structures
        self.ignoreLabel = ignoreLabel
        self.fileEnding = fileEnding
    }

    /// `dataset.json` in the ground-truth folder or the folder above it (labelsTr's parent).
    public static func find(near groundTruth: String) -> String? {
        let folder = groundTruth.hasSuffix("/") ? String(groundTruth.dropLast()) : groundTruth
        for candidate in [folder + "/dataset.json", (folder as NSString).deletingLastPathComponent + "/dataset.json"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }

    public static func load(_ path: String) throws -> VolumeDataset {
        let bytes = try FileIO.read(path, maxBytes: 64 << 20)
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let labels = root["labels"] as? [String: Any] else {
            throw SegError(.invalid, file: path, "not a dataset.json: no \"labels\" object")
        }
        var structures: [VolumeStructure] = []
        var ignore: UInt16?
        func value(_ any: Any, _ what: String) throws -> UInt16 {
            guard let n = any as? Int, n >= 0, n <= 65535 else { throw SegError(.invalid, file: path, "labels: \(what) is not a label value in 0...65535") }
            return UInt16(n)
        }
        if labels.keys.allSatisfy({ Int($0) != nil }) {
            // Decathlon: value → name.
            for (key, name) in labels.sorted(by: { Int($0.key) ?? 0 < Int($1.key) ?? 0 }) {
                let v = try value(Int(key) as Any, key)
                if v != 0 { structures.append(VolumeStructure(name: "\(name)", labels: [v])) }
            }
        } else {
            // nnU-Net v2: name → value or [values]; JSONSerialization loses the key order, so
            // structures are ordered by their (first) value, as nnU-Net's label manager sorts them.
            var found: [(VolumeStructure, Int)] = []
            for (name, entry) in labels {
                if name == "ignore" { ignore = try value(entry, name); continue }
                if let list = entry as? [Any] {
                    let values = try list.map { try value($0, name) }
                    if values != [0] { found.append((VolumeStructure(name: name, labels: values, isRegion: true), Int(values.first ?? 0))) }
                } else {
                    let v = try value(entry, name)
                    if v != 0 { found.append((VolumeStructure(name: name, labels: [v]), Int(v))) }
                }
            }
            structures = found.sorted { $0.1 < $1.1 }.map(\.0)
        }
        guard !structures.isEmpty else { throw SegError(.invalid, file: path, "labels: no foreground label") }
        return VolumeDataset(structures: structures, ignoreLabel: ignore, fileEnding: root["file_ending"] as? String ?? ".nii.gz")
    }
}
