import Foundation
import SegCore
import TOMLKit

extension Theme {
    /// Reads a theme file (see themes/dark.toml). Keys left out keep the dark theme's values.
    public static func load(_ path: String) throws -> Theme {
        try parse(try FileIO.read(path, maxBytes: 1 << 20), path: path)
    }

    /// `load` on bytes already read (`path` names the file in errors and gives the default name).
    static func parse(_ bytes: [UInt8], path: String) throws -> Theme {
        let table = try TOMLPrecheck.table(bytes, path: path, notText: "theme is not UTF-8 text")
        var theme = Theme.dark
        theme.name = table["name"]?.string ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension

        func color(_ section: String, _ key: String, _ current: RGB) throws -> RGB {
            guard let value = table[section]?[key] else { return current }
            guard let text = value.string, let rgb = RGB(hex: text) else {
                throw SegError(.invalid, file: path, "\(section).\(key) must be a colour like \"#00c8ff\"")
            }
            return rgb
        }
        func opacity(_ section: String, _ key: String, _ current: Double) throws -> Double {
            guard let value = table[section]?[key] else { return current }
            guard let number = value.double ?? value.int.map(Double.init), number >= 0, number <= 1 else {
                throw SegError(.invalid, file: path, "\(section).\(key) must be a number from 0 to 1")
            }
            return number
        }
        theme.maskFill = try color("mask", "fill", theme.maskFill)
        theme.maskBoundary = try color("mask", "boundary", theme.maskBoundary)
        theme.maskOpacity = try opacity("mask", "fill_opacity", theme.maskOpacity)
        theme.boundaryOpacity = try opacity("mask", "boundary_opacity", theme.boundaryOpacity)
        theme.statusForeground = try color("status", "foreground", theme.statusForeground)
        theme.statusBackground = try color("status", "background", theme.statusBackground)
        theme.panelForeground = try color("panel", "foreground", theme.panelForeground)
        theme.panelHighlight = try color("panel", "highlight", theme.panelHighlight)
        return theme
    }

    /// The names `--theme` takes without a file.
    public static var builtInNames: [String] { ["dark", "light", "high-contrast"] }

    /// A shipped theme by name (compiled in; see BuiltInThemes.swift).
    public static func builtIn(_ name: String) -> Theme? {
        builtInSources[name].flatMap { try? parse(Array($0.utf8), path: "\(name).toml") }
    }

    /// The folder of the user's own themes: `$XDG_CONFIG_HOME/segterm/themes`, by default
    /// `~/.config/segterm/themes`.
    public static func userFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        UserConfig.folder(environment: environment).map { $0 + "/themes" }
    }

    /// A theme by file path, or by name: the user's own (`userFolder`, then `$SEGTERM_THEMES`)
    /// first, so a user can restyle a shipped theme, then the shipped ones.
    public static func resolve(_ nameOrPath: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") { return try load(nameOrPath) }
        let folders = [userFolder(environment: environment), environment["SEGTERM_THEMES"]].compactMap { $0 }
        for folder in folders {
            let path = folder + "/" + nameOrPath + ".toml"
            if FileManager.default.fileExists(atPath: path) { return try load(path) }
        }
        if let theme = builtIn(nameOrPath) { return theme }
        throw SegError(.notFound, file: nameOrPath, "no theme of that name: built in are \(builtInNames.joined(separator: ", "))"
                       + (folders.isEmpty ? "" : "; looked in \(folders.joined(separator: ", "))"))
    }

    /// `--theme auto` (the default): light on a light terminal background, dark otherwise.
    public static func automatic(lightBackground: Bool?) -> String { lightBackground == true ? "light" : "dark" }
}

extension RGB {
    /// "#rrggbb" (the # is optional).
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? hex.dropFirst() : Substring(hex)
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(UInt8(value >> 16), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF))
    }
}
