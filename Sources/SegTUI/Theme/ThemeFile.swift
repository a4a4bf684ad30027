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
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SegError(.corrupt, file: path, "theme is not UTF-8 text")
        }
        try TOMLPrecheck.check(text, path: path)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw SegError(.corrupt, file: path, "TOML error at line \(error.source.begin.line): \(error.description)")
        }
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
        return theme
    }

    /// A theme by file path, or by name from the first `themes/` folder that has it:
    /// `$SEGTERM_THEMES`, beside the executable (and two levels up, for `.build/release/segterm`
    /// in a checkout), `/usr/local/share/segterm/themes`. The dark theme is built in.
    public static func resolve(_ nameOrPath: String, executable: String = CommandLine.arguments[0]) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") { return try load(nameOrPath) }
        let executableFolder = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        var folders: [String] = []
        if let custom = ProcessInfo.processInfo.environment["SEGTERM_THEMES"] { folders.append(custom) }
        folders += [executableFolder.appendingPathComponent("themes").path,
                    executableFolder.appendingPathComponent("../../themes").standardized.path,
                    "/usr/local/share/segterm/themes"]
        for folder in folders {
            let path = folder + "/" + nameOrPath + ".toml"
            if FileManager.default.fileExists(atPath: path) { return try load(path) }
        }
        if nameOrPath == Theme.dark.name { return .dark }
        throw SegError(.notFound, file: nameOrPath, "no theme of that name in \(folders.joined(separator: ", "))")
    }
}

extension RGB {
    /// "#rrggbb" (the # is optional).
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? hex.dropFirst() : Substring(hex)
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(UInt8(value >> 16), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF))
    }
}
