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
        #expect(throws: SegError.self) { try Theme.resolve("no-such-theme", environment: [:]) }
        #expect(try Theme.resolve("dark", environment: [:]) == .dark)
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

    @Test("the compiled-in themes are the files in themes/, and every one resolves by name with no file around (#22 item 6)",
          arguments: ["dark", "light", "high-contrast"])
    func builtIn(_ name: String) throws {
        let file = try String(contentsOf: Self.themes.appendingPathComponent("\(name).toml"), encoding: .utf8)
        #expect(Theme.builtInSources[name] == file, "BuiltInThemes.swift differs from themes/\(name).toml: copy the file's text there")
        let theme = try Theme.resolve(name, environment: [:])
        #expect(theme == (try Theme.load(Self.themes.appendingPathComponent("\(name).toml").path)))
        #expect(theme.name == name)
    }

    @Test("the light theme's panel text is dark and the dark theme's light: readable on their backgrounds")
    func panelContrast() throws {
        func luminance(_ c: RGB) -> Double { 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b) }
        let light = try #require(Theme.builtIn("light")), dark = try #require(Theme.builtIn("dark"))
        #expect(luminance(light.panelForeground) < 80 && luminance(light.panelHighlight) > 150)
        #expect(luminance(dark.panelForeground) > 170 && luminance(dark.panelHighlight) < 90)
        #expect(Theme.automatic(lightBackground: true) == "light" && Theme.automatic(lightBackground: false) == "dark")
        #expect(Theme.automatic(lightBackground: nil) == "dark")
    }

    @Test("the user's themes ($XDG_CONFIG_HOME/segterm/themes) come before the shipped ones")
    func userThemes() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-xdg-\(UUID().uuidString)")
        let folder = home.appendingPathComponent("segterm/themes")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try Data("name = \"light\"\n[mask]\nfill = \"#010203\"\n".utf8).write(to: folder.appendingPathComponent("light.toml"))
        try Data("[panel]\nforeground = \"#102030\"\n".utf8).write(to: folder.appendingPathComponent("mine.toml"))
        let environment = ["XDG_CONFIG_HOME": home.path]
        #expect(try Theme.resolve("light", environment: environment).maskFill == RGB(1, 2, 3))
        #expect(try Theme.resolve("mine", environment: environment).panelForeground == RGB(16, 32, 48))
        #expect(try Theme.resolve("high-contrast", environment: environment) == Theme.builtIn("high-contrast"))
        #expect(Theme.userFolder(environment: ["HOME": "/home/u"]) == "/home/u/.config/segterm/themes")
    }

    @Test("config.toml: defaults for open, a keymap, and clear errors naming the file")
    func userConfig() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-cfg-\(UUID().uuidString)")
        let folder = home.appendingPathComponent("segterm")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let path = folder.appendingPathComponent("config.toml")
        #expect(try UserConfig.load(environment: ["XDG_CONFIG_HOME": home.path]) == UserConfig())
        try Data("""
            theme = "light"
            graphics = "text"
            symbols = "sextants"
            prefetch = 4
            [keys]
            next_image = ["]", "n"]
            accept = "Enter"
            """.utf8).write(to: path)
        let config = try UserConfig.load(environment: ["XDG_CONFIG_HOME": home.path])
        #expect(config.theme == "light" && config.graphics == "text" && config.symbols == .sextants && config.prefetch == 4)
        #expect(config.keys == ["next_image": ["]", "n"], "accept": ["Enter"]])
        let cases: [(String, String)] = [("colour = 1", "unknown key 'colour'"), ("graphics = \"x11\"", "graphics must be one of"),
                                         ("prefetch = 99", "prefetch must be"), ("[keys]\naccept = 3", "keys.accept"),
                                         ("theme = [", "TOML error"), ("[keys]\nnext_imag = \"n\"", "no such action"),
                                         ("[keys]\nquit = \"x\"\nhelp = \"x\"", "more than one action")]
        for (text, words) in cases {
            try Data(text.utf8).write(to: path)
            let error = #expect(throws: SegError.self) { try UserConfig.load(environment: ["XDG_CONFIG_HOME": home.path]) }
            #expect(error?.file == path.path && error?.reason.contains(words) == true, "\(text): \(error?.reason ?? "")")
        }
    }
}
