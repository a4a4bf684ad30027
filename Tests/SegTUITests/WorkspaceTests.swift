import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

@Suite("Workspace configuration and journal")
struct WorkspaceTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-ws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("sample-data/segterm.toml opens with its images, ground truth, predictions and classes")
    func sampleData() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sample-data")
        let config = try WorkspaceConfig.open(folder: root.path)
        #expect(config.images == root.appendingPathComponent("images").path)
        #expect(config.groundTruth == root.appendingPathComponent("instances.json").path)
        #expect(config.predictions.map(\.name) == ["model-a", "model-b"])
        #expect(config.classes == ["background", "cell", "leaf", "stone", "seed"])
        #expect(config.model == "grabcut")
    }

    @Test("a plain folder opens with defaults")
    func plainFolder() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try WorkspaceConfig.open(folder: dir.path)
        #expect(config.images == dir.standardizedFileURL.path)
        // Beside the images, not inside them (#22 item 10): a data set's folder may be shared or read-only.
        #expect(config.output == dir.standardizedFileURL.path + "-segterm-out")
        #expect(config.groundTruth == nil && config.predictions.isEmpty)
    }

    @Test("relative paths resolve from the file's folder; a list of classes works too")
    func relativePaths() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = """
            images = "pics"
            output = "/tmp/out-x"
            classes = ["background", "car"]
            model = "ckpt/sam.pth"
            ignore_value = 128
            [predictions]
            run1 = "preds/run1.json"
            """
        try Data(text.utf8).write(to: dir.appendingPathComponent("segterm.toml"))
        let config = try WorkspaceConfig.open(folder: dir.path)
        let base = dir.standardizedFileURL.path
        #expect(config.images == base + "/pics")
        #expect(config.output == "/tmp/out-x")
        #expect(config.classes == ["background", "car"])
        #expect(config.model == base + "/ckpt/sam.pth")
        #expect(config.ignoreValue == 128)
        #expect(config.predictions.first?.path == base + "/preds/run1.json")
    }

    @Test("bad configuration files are errors naming the file and the key", arguments: [
        ("imagez = \"x\"", "unknown key 'imagez'"),
        ("output = \"x\"", "'images'"),
        ("images = 3", "'images'"),
        ("images = \"x\"\nignore_value = -1", "ignore_value"),
        ("images = \"x\"\npredictions = \"p\"", "predictions"),
        ("images = [", "TOML error"),
        ("images = \"x\"\nclasses = \"missing.txt\"", "no such file"),
        ("images = \"x\"\n[output]\nformats = [\"yolo\", \"pascal\"]", "output.formats[1]"),
        ("images = \"x\"\n[output]\nformats = \"yolo\"", "'output.formats' must be a list"),
        ("images = \"x\"\n[output]\nfolders = \"o\"", "unknown key 'output.folders'"),
    ])
    func badConfig(_ text: String, _ words: String) throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("segterm.toml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SegError.self) { try WorkspaceConfig.load(path) }
        #expect(error?.description.contains(words) == true, "\(error?.description ?? "no error")")
        #expect(error?.file.hasSuffix(".toml") == true || error?.file.hasSuffix("missing.txt") == true)
    }

    @Test("[output] takes a folder and the formats written besides COCO; the session's export writes them from the COCO file")
    func outputFormats() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("images = \"pics\"\n[output]\nfolder = \"out\"\nformats = [\"yolo\", \"labelme\"]\n".utf8)
            .write(to: dir.appendingPathComponent("segterm.toml"))
        let config = try WorkspaceConfig.open(folder: dir.path)
        #expect(config.output == dir.standardizedFileURL.path + "/out")
        #expect(config.outputFormats == [.yolo, .labelme])

        // The export converts what the session wrote (here the sample's COCO file stands for it).
        let writer = OutputWriter(folder: config.output, palette: [])
        try writer.prepareFolders()
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sample-data/instances.json")
        try FileManager.default.copyItem(atPath: sample.path, toPath: writer.cocoPath)
        let lines = writer.exportFormats(config.outputFormats)
        #expect(lines.contains { $0.hasPrefix("yolo: written to") } && lines.contains { $0.hasPrefix("labelme: written to") }, "\(lines)")
        let yolo = try FileManager.default.subpathsOfDirectory(atPath: config.output + "/yolo").filter { $0.hasSuffix(".txt") }
        let labelme = try FileManager.default.subpathsOfDirectory(atPath: config.output + "/labelme").filter { $0.hasSuffix(".json") }
        #expect(yolo.count == 6 && labelme.count == 6, "\(yolo) \(labelme)")
        #expect(FileManager.default.fileExists(atPath: config.output + "/yolo/data.yaml"))
        #expect(writer.exportFormats([]) == [])
    }

    struct Note: Codable, Equatable, Sendable { let n: Int; let text: String }

    @Test("the journal replays what was appended, drops a torn last line, refuses damage in the middle")
    func journal() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("journal.jsonl").path
        #expect(try Journal<Note>.replay(path).isEmpty)
        do {
            let journal = try Journal<Note>(path: path)
            for n in 0..<5 { try journal.append(Note(n: n, text: "line \(n)\nwith a newline")) }
        }
        #expect(try Journal<Note>.replay(path).map(\.n) == [0, 1, 2, 3, 4])
        // Reopening appends after what is there.
        try Journal<Note>(path: path).append(Note(n: 5, text: ""))
        #expect(try Journal<Note>.replay(path).count == 6)

        // A crash in the middle of a write leaves half a line: it is dropped.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"n\":6,\"te".utf8))
        try handle.close()
        #expect(try Journal<Note>.replay(path).map(\.n) == [0, 1, 2, 3, 4, 5])

        // Damage before the end is not silently skipped.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[3] = UInt8(ascii: "#")
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SegError.self) { try Journal<Note>.replay(path) }
        #expect(error?.reason.contains("line 1") == true)
    }
}
