import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

@Suite("Themes")
struct ThemeTests {
    static let themes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes")

    @Test("every shipped theme loads; dark.toml is the built-in default", arguments: ["dark", "light", "high-contrast"])
    func shipped(_ name: String) throws {
        let theme = try Theme.load(Self.themes.appendingPathComponent("\(name).toml").path)
        #expect(theme.name == name)
        if name == "dark" { #expect(theme == Theme.dark) }
        #expect(theme.maskFill != theme.maskBoundary)
    }

    @Test("broken theme files are errors naming the file and the problem")
    func broken() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-theme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, SegError.Kind, String)] = [
            ("[mask\nfill = 3", .corrupt, "TOML error"),
            ("[mask]\nfill = \"#12345\"", .invalid, "mask.fill"),
            ("[mask]\nfill_opacity = 2.5", .invalid, "mask.fill_opacity"),
            ("[status]\nbackground = 7", .invalid, "status.background"),
        ]
        for (index, (text, kind, words)) in cases.enumerated() {
            let path = folder.appendingPathComponent("t\(index).toml").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: SegError.self) { try Theme.load(path) }
            #expect(error?.kind == kind, "\(text)")
            #expect(error?.file == path)
            #expect(error?.reason.contains(words) == true, "\(error?.reason ?? "")")
        }
        let binary = folder.appendingPathComponent("bin.toml").path
        try Data([0xFF, 0xFE, 0x00, 0x80]).write(to: URL(fileURLWithPath: binary))
        #expect(throws: SegError.self) { try Theme.load(binary) }
        #expect(throws: SegError.self) { try Theme.resolve("no-such-theme", executable: "/nonexistent/bin/segterm") }
        #expect(try Theme.resolve("dark", executable: "/nonexistent/bin/segterm") == .dark)
    }

    @Test("a partial theme keeps the defaults for keys it leaves out")
    func partial() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-partial-\(UUID().uuidString).toml").path
        try Data("[mask]\nfill = \"#010203\"\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let theme = try Theme.load(path)
        #expect(theme.maskFill == RGB(1, 2, 3))
        #expect(theme.maskBoundary == Theme.dark.maskBoundary)
    }
}
