import Foundation
import SegCore
import SegEval
import TOMLKit

/// What `segterm open` works on, from a folder's `segterm.toml` or from command-line options.
/// Paths are absolute once loaded (relative ones in the file are taken from the file's folder).
public struct WorkspaceConfig: Equatable, Sendable {
    /// Folder of images to label.
    public var images: String
    /// Ground truth: a COCO instances JSON, or a folder of masks / label maps paired by stem.
    public var groundTruth: String?
    /// Named prediction sets (COCO results JSON or folders of label maps), in file order.
    public var predictions: [(name: String, path: String)]
    /// Class names; index 0 is background when the list comes from a text file.
    public var classes: [String]
    /// Where `classes` was written: the class file, or the segterm.toml that lists them (for errors).
    public var classesSource: String?
    /// Where accepted masks, the COCO JSON and the journal go.
    public var output: String
    /// Formats written beside the COCO JSON when a session ends (`[output] formats = ["yolo"]`),
    /// each in `<output>/<format>`.
    public var outputFormats: [DatasetFormat] = []
    /// `grabcut` or a checkpoint path.
    public var model: String
    /// Mask value to ignore in ground-truth masks (e.g. 128 for GrabCut).
    public var ignoreValue: UInt32?
    /// A `segterm noc --out` report whose mean-IoU-per-click curve the metrics view shows.
    public var noc: String?

    public static let fileName = "segterm.toml"
    public static let defaultModel = "grabcut"
    public static let defaultOutputFolder = "segterm-out"

    public init(images: String, groundTruth: String? = nil, predictions: [(name: String, path: String)] = [],
                classes: [String] = [], output: String, model: String = defaultModel, ignoreValue: UInt32? = nil) {
        self.images = images
        self.groundTruth = groundTruth
        self.predictions = predictions
        self.classes = classes
        self.output = output
        self.model = model
        self.ignoreValue = ignoreValue
    }

    public static func == (a: WorkspaceConfig, b: WorkspaceConfig) -> Bool {
        a.images == b.images && a.groundTruth == b.groundTruth && a.classes == b.classes && a.output == b.output
            && a.model == b.model && a.ignoreValue == b.ignoreValue && a.noc == b.noc && a.outputFormats == b.outputFormats
            && a.predictions.map(\.name) == b.predictions.map(\.name) && a.predictions.map(\.path) == b.predictions.map(\.path)
    }

    /// A folder with a `segterm.toml` opens as it describes; a plain folder of images opens with
    /// defaults, its output beside it in `<folder>-segterm-out` (not inside: a data set's folder
    /// is often shared or read-only, and the output's PNGs would join its images).
    public static func open(folder: String) throws -> WorkspaceConfig {
        let root = URL(fileURLWithPath: folder).standardizedFileURL.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder) else {
            throw SegError(.notFound, file: folder, "no such folder")
        }
        guard isFolder.boolValue else { throw SegError(.invalid, file: folder, "is not a folder") }
        let tomlPath = root + "/" + fileName
        if FileManager.default.fileExists(atPath: tomlPath) { return try load(tomlPath) }
        return WorkspaceConfig(images: root, output: plainFolderOutput(root))
    }

    /// Where a plain folder's output goes: `<folder>-segterm-out` beside it.
    static func plainFolderOutput(_ root: String) -> String {
        root == "/" ? "/" + defaultOutputFolder : root + "-" + defaultOutputFolder
    }

    /// Reads a `segterm.toml`. Unknown keys are errors, so a typo does not silently lose a setting.
    public static func load(_ path: String) throws -> WorkspaceConfig {
        try parse(try FileIO.read(path, maxBytes: 1 << 20), path: path)
    }

    /// `output = "folder"`, or an `[output]` table with an optional `folder`.
    static func outputFolder(_ table: TOMLTable, path: String) throws -> String? {
        guard let value = table["output"] else { return nil }
        if let text = value.string, !text.isEmpty { return text }
        guard let output = value.table else {
            throw SegError(.invalid, file: path, "'output' must be a folder path or an [output] table (folder, formats)")
        }
        for key in output.keys where !["folder", "formats"].contains(key) {
            throw SegError(.invalid, file: path, "unknown key 'output.\(key)' (known: folder, formats)")
        }
        guard let folder = output["folder"] else { return nil }
        guard let text = folder.string, !text.isEmpty else { throw SegError(.invalid, file: path, "'output.folder' must be a non-empty string") }
        return text
    }

    /// `[output] formats = ["yolo", "labelme", ...]`: written besides the COCO JSON, which always is.
    static func outputFormats(_ table: TOMLTable, path: String) throws -> [DatasetFormat] {
        guard let list = table["output"]?.table?["formats"] else { return [] }
        guard let array = list.array else { throw SegError(.invalid, file: path, "'output.formats' must be a list of format names") }
        let known = DatasetFormat.allCases.filter { $0 != .coco }
        return try (0..<array.count).map { i in
            guard let name = array[i].string, let format = DatasetFormat(rawValue: name), format != .coco else {
                throw SegError(.invalid, file: path, "output.formats[\(i)] must be one of " + known.map(\.rawValue).joined(separator: ", ")
                               + " (COCO is always written)")
            }
            return format
        }
    }

    /// `load` on bytes already read; `path` names the file in errors and is the base of relative paths.
    static func parse(_ bytes: [UInt8], path: String) throws -> WorkspaceConfig {
        let table = try TOMLPrecheck.table(bytes, path: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL

        let known: Set<String> = ["images", "ground_truth", "predictions", "classes", "output", "model", "ignore_value", "noc"]
        for key in table.keys where !known.contains(key) {
            throw SegError(.invalid, file: path, "unknown key '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string, !text.isEmpty else { throw SegError(.invalid, file: path, "'\(key)' must be a non-empty string") }
            return text
        }
        func resolved(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : base.appendingPathComponent(relative).standardizedFileURL.path
        }

        guard let images = try string("images") else { throw SegError(.invalid, file: path, "'images' (the image folder) is required") }
        var predictions: [(name: String, path: String)] = []
        if let value = table["predictions"] {
            guard let sets = value.table else {
                throw SegError(.invalid, file: path, "'predictions' must be a table of name = \"path\"")
            }
            for key in sets.keys {
                guard let p = sets[key]?.string else { throw SegError(.invalid, file: path, "predictions.\(key) must be a path") }
                predictions.append((key, resolved(p)))
            }
        }
        var classes: [String] = []
        var classesSource: String?
        if let value = table["classes"] {
            classesSource = path
            if let list = value.array {
                classes = try (0..<list.count).map { i in
                    guard let name = list[i].string else { throw SegError(.invalid, file: path, "classes[\(i)] must be a string") }
                    return name
                }
            } else if let file = value.string {
                classes = try ClassList.load(resolved(file))
                classesSource = resolved(file)
            } else {
                throw SegError(.invalid, file: path, "'classes' must be a file path or a list of names")
            }
        }
        var ignoreValue: UInt32?
        if let value = table["ignore_value"] {
            guard let n = value.int, n >= 0, n <= Int(UInt32.max) else {
                throw SegError(.invalid, file: path, "'ignore_value' must be a non-negative integer")
            }
            ignoreValue = UInt32(n)
        }
        // A model is a name ("grabcut") or a checkpoint file, relative to this file like every path.
        var model = try string("model") ?? defaultModel
        if model.contains("/") || model.contains(".") { model = resolved(model) }
        var config = WorkspaceConfig(
            images: resolved(images),
            groundTruth: try string("ground_truth").map(resolved),
            predictions: predictions,
            classes: classes,
            output: resolved(try outputFolder(table, path: path) ?? defaultOutputFolder),
            model: model,
            ignoreValue: ignoreValue
        )
        config.noc = try string("noc").map(resolved)
        config.outputFormats = try outputFormats(table, path: path)
        config.classesSource = classesSource
        return config
    }
}

/// Class names from a text file (one name a line; blank lines and `#` comments skipped) or a JSON
/// array of names (or of COCO-style `{"id", "name"}` objects).
public enum ClassList {
    public static func load(_ path: String) throws -> [String] {
        let bytes = try FileIO.read(path, maxBytes: 16 << 20)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw SegError(.corrupt, file: path, "not UTF-8 text") }
        if path.lowercased().hasSuffix(".json") {
            guard let json = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
                throw SegError(.corrupt, file: path, "not valid JSON")
            }
            if let names = json as? [String] { return names }
            if let objects = json as? [[String: Any]] {
                return try objects.enumerated().map { i, object in
                    guard let name = object["name"] as? String else { throw SegError(.invalid, file: path, "entry \(i) has no \"name\"") }
                    return name
                }
            }
            throw SegError(.invalid, file: path, "expected a JSON array of class names")
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
