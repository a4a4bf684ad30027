import Foundation
import SegCore
import Yams

/// The part of an Ultralytics `data.yaml` segterm needs: class names (`names` as a list, or as a
/// mapping from class index to name) and where the images are (`path`, `train`, `val`, `test`).
/// Parsed with Yams' node API so that an error can name the line.
struct YOLODataYAML {
    var names: [String]
    /// Image folders (or list files) named by `train` / `val` / `test`, resolved against `path`.
    var imageSources: [String]

    static func read(_ file: String) throws -> YOLODataYAML {
        let text = try FormatFiles.readText(file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw SegError(.corrupt, file: file, "not YAML: \(error)")
        }
        guard let map = root?.mapping else { throw SegError(.invalid, file: file, "a data.yaml is a mapping (names:, path:, train:, ...)") }
        guard let namesNode = map["names"] else {
            throw SegError(.invalid, file: file, "no \"names\": the class names (a list, or index: name lines) are needed")
        }
        let names = try readNames(namesNode, file: file)
        var base = FormatFiles.parent(file)
        // `path` is the data set's root; Ultralytics resolves a relative one against its datasets
        // folder, which segterm does not have: the YAML's own folder is the honest guess.
        if let p = map["path"]?.string, !p.isEmpty { base = FormatFiles.join(base, p) }
        var sources: [String] = []
        for key in ["train", "val", "test"] {
            guard let node = map[key] else { continue }
            let values = node.sequence.map { $0.compactMap(\.string) } ?? node.string.map { [$0] } ?? []
            for v in values where !v.isEmpty {
                let full = FormatFiles.join(base, v)
                if !sources.contains(full) { sources.append(full) }
            }
        }
        return YOLODataYAML(names: names, imageSources: sources)
    }

    static func readNames(_ node: Node, file: String) throws -> [String] {
        let line = node.mark.map { "line \($0.line): " } ?? ""
        if let list = node.sequence {
            return try list.enumerated().map { i, item in
                guard let s = item.string, !s.isEmpty else {
                    throw SegError(.invalid, file: file, "\(item.mark.map { "line \($0.line): " } ?? line)names[\(i)] is not a name")
                }
                return s
            }
        }
        if let map = node.mapping {
            var byIndex: [Int: String] = [:]
            for (key, value) in map {
                let at = key.mark.map { "line \($0.line): " } ?? line
                guard let k = key.int, k >= 0 else { throw SegError(.invalid, file: file, "\(at)names key \"\(key.string ?? "?")\" is not a class index") }
                guard let v = value.string, !v.isEmpty else { throw SegError(.invalid, file: file, "\(at)names[\(k)] is not a name") }
                guard byIndex.updateValue(v, forKey: k) == nil else { throw SegError(.invalid, file: file, "\(at)class index \(k) named twice") }
            }
            guard byIndex.count == (byIndex.keys.max() ?? -1) + 1 else {
                throw SegError(.invalid, file: file, "\(line)names skip a class index (0..\(byIndex.keys.max() ?? 0) expected)")
            }
            return (0..<byIndex.count).map { byIndex[$0]! }
        }
        throw SegError(.invalid, file: file, "\(line)\"names\" is neither a list nor index: name lines")
    }

    /// The YAML segterm writes: Ultralytics' layout with `names` as a mapping, as its own data
    /// sets (coco8-seg.yaml) do.
    static func text(names: [String]) -> String {
        var out = "# Written by segterm convert. Images belong in images/ beside labels/.\n"
        out += "path: .\ntrain: images\nval: images\n\nnames:\n"
        for (i, name) in names.enumerated() { out += "  \(i): \(quoted(name))\n" }
        return out
    }

    /// Plain when the name cannot be read as anything but a string, else double-quoted.
    static func quoted(_ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { s in
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_" || s == "-"
        } && !["true", "false", "yes", "no", "null", "on", "off", "y", "n"].contains(name.lowercased()) && Double(name) == nil
        if plain { return name }
        return "\"" + name.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"") + "\""
    }
}

/// `classes.txt`: one name per line (what labelImg and many exporters write beside YOLO labels).
enum YOLOClassList {
    static func read(_ file: String) throws -> [String] {
        let lines = try FormatFiles.readText(file).split(separator: "\n", omittingEmptySubsequences: false)
        var names: [String] = []
        for line in lines {
            let name = line.trimmingCharacters(whereSpace: true)
            if !name.isEmpty { names.append(name) }
        }
        guard !names.isEmpty else { throw SegError(.invalid, file: file, "no class names") }
        return names
    }
}

extension String {
    func replacingAll(_ a: String, _ b: String) -> String {
        guard !a.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: a) {
            out += rest[..<r.lowerBound]
            out += b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func trimmingCharacters(whereSpace: Bool) -> String {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
