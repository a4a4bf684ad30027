import Foundation
import SegCore
import TOMLKit

/// The user's own defaults, `$XDG_CONFIG_HOME/segterm/config.toml` (by default
/// `~/.config/segterm/config.toml`): what every `segterm open` starts with unless an option says
/// otherwise. Unknown keys are errors, as in `segterm.toml`, so a typo does not pass silently.
///
/// ```toml
/// theme = "auto"          # auto (follow the terminal's background), dark, light, high-contrast, or a file
/// graphics = "auto"       # auto, kitty, sixel, text
/// symbols = "quadrants"   # half, quadrants, sextants (text mode)
/// prefetch = 2            # images prepared ahead
///
/// [keys]                  # action = key, or a list of keys (see the help overlay, `?`)
/// accept = "Enter"
/// next_image = ["]", "n"]
/// ```
public struct UserConfig: Equatable, Sendable {
    public var theme: String?
    public var graphics: String?
    public var symbols: BlockSymbols?
    public var prefetch: Int?
    /// Rebound actions: each action named here takes these keys instead of its defaults.
    public var keys: [String: [String]] = [:]
    /// The defaults with `keys` over them (checked when the file is read).
    public var keymap = Keymap()

    public init() {}

    static let fileName = "config.toml"
    static let knownKeys: Set<String> = ["theme", "graphics", "symbols", "prefetch", "keys"]

    /// `$XDG_CONFIG_HOME/segterm`, or `$HOME/.config/segterm`; nil without either.
    public static func folder(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/segterm" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.config/segterm" }
        return nil
    }

    /// The user's configuration; an absent file is the defaults, a broken one an error naming it.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> UserConfig {
        guard let folder = folder(environment: environment) else { return UserConfig() }
        let path = folder + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return UserConfig() }
        return try load(path: path)
    }

    public static func load(path: String) throws -> UserConfig {
        let table = try TOMLPrecheck.table(try FileIO.read(path, maxBytes: 1 << 20), path: path)
        for key in table.keys where !knownKeys.contains(key) {
            throw SegError(.invalid, file: path, "unknown key '\(key)' (known: \(knownKeys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String, allowed: [String]? = nil) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string, allowed.map({ $0.contains(text) }) ?? true else {
                throw SegError(.invalid, file: path, "\(key) must be " + (allowed.map { "one of " + $0.joined(separator: ", ") } ?? "a string"))
            }
            return text
        }
        var config = UserConfig()
        config.theme = try string("theme")
        config.graphics = try string("graphics", allowed: ["auto"] + GraphicsMode.allCases.map(\.rawValue))
        config.symbols = try string("symbols", allowed: BlockSymbols.allCases.map(\.rawValue)).flatMap(BlockSymbols.init(rawValue:))
        if let value = table["prefetch"] {
            guard let number = value.int, (0...16).contains(number) else {
                throw SegError(.invalid, file: path, "prefetch must be a whole number from 0 to 16")
            }
            config.prefetch = number
        }
        if let value = table["keys"] {
            guard let keys = value.table else { throw SegError(.invalid, file: path, "[keys] must be a table of action = key") }
            for (action, binding) in keys {
                let list = binding.string.map { [$0] } ?? binding.array?.compactMap(\.string)
                guard let list, !list.isEmpty, list.count == (binding.array?.count ?? 1) else {
                    throw SegError(.invalid, file: path, "keys.\(action) must be a key or a list of keys, like \"Enter\" or [\"]\", \"n\"]")
                }
                config.keys[action] = list
            }
            do {
                config.keymap = try Keymap(overrides: config.keys)
            } catch let problem as Keymap.Problem {
                throw SegError(.invalid, file: path, problem.description)
            }
        }
        return config
    }
}
