import Foundation
import Testing
@testable import SegCore

/// The real `segterm` binary, as a user runs it: exit codes, messages, output.
enum Binary {
    /// The binary built beside this test bundle (same configuration), else the debug or release build.
    static let path: String? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [here.appendingPathComponent("segterm"), here.deletingLastPathComponent().appendingPathComponent("segterm"),
                          root.appendingPathComponent(".build/debug/segterm"), root.appendingPathComponent(".build/release/segterm")]
        return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Result { let status: Int32; let stdout: String; let stderr: String }

    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path ?? "/nonexistent/segterm")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-e2e-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

@Suite("segterm command line", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct CLITests {
    @Test("--version and --help on every subcommand exit 0")
    func help() throws {
        #expect(try Binary.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        for command in [["--help"], ["info", "--help"], ["view", "--help"]] {
            let result = try Binary.run(command)
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("USAGE"), "\(command)")
        }
    }

    @Test("usage errors exit 2")
    func usage() throws {
        #expect(try Binary.run(["info"]).status == 2)
        #expect(try Binary.run(["info", "--format", "xml", "a.png"]).status == 2)
        #expect(try Binary.run(["no-such-command"]).status == 2)
        #expect(try Binary.run(["info", "--max-pixels", "0", "a.png"]).status == 2)
    }

    @Test("bad input exits 1 with 'segterm: <file>: <reason>'")
    func badInput() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = folder.appendingPathComponent("broken.png").path
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: URL(fileURLWithPath: broken))
        let result = try Binary.run(["info", broken])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("segterm: \(broken): PNG header:"), "\(result.stderr)")

        let missing = try Binary.run(["info", "/nonexistent/a.png"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "segterm: /nonexistent/a.png: no such file\n")

        // view checks its files before it touches the terminal.
        let view = try Binary.run(["view", broken])
        #expect(view.status == 1)
        #expect(view.stderr.contains(broken))
    }

    @Test("info reports size, channels, depth and mask values, as text and JSON")
    func info() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mask.png").path
        try ImageFile.writePNG(LabelMap(width: 3, height: 2, labels: [0, 0, 0, 128, 255, 255]), to: path)
        let text = try Binary.run(["info", path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("size       3x2"))
        #expect(text.stdout.contains("channels   1 (gray)"))
        #expect(text.stdout.contains("values     3 distinct"))

        let json = try Binary.run(["info", "--format", "json", path])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let first = try #require(parsed?.first)
        #expect(first["width"] as? Int == 3)
        #expect(first["bitDepth"] as? Int == 8)
        let values = first["values"] as? [[String: Any]]
        #expect(values?.map { ($0["value"] as? [Int]) ?? [] } == [[0], [128], [255]])
        #expect(values?.map { $0["count"] as? Int ?? 0 } == [3, 1, 2])
    }
}
