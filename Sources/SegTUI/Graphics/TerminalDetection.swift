import SegCore

/// How the image is drawn.
public enum GraphicsMode: String, Sendable, CaseIterable {
    case kitty, sixel, text
}

/// What the terminal said in answer to `TerminalQuery.request`, parsed from the raw bytes read
/// before the timeout. Anything else in those bytes (keys typed meanwhile, replies we did not
/// ask for, a sequence cut off by the timeout) is skipped.
public struct TerminalReplies: Equatable, Sendable {
    /// Primary device attributes (`CSI ? a ; b ; … c`); nil: no reply.
    public var deviceAttributes: [Int]?
    /// The kitty graphics query's answer: "OK" or the error text; nil: no reply.
    public var kittyStatus: String?
    /// `CSI 6 ; h ; w t`: one cell, in pixels.
    public var cellPixels: (width: Int, height: Int)?
    /// `CSI 4 ; h ; w t`: the text area, in pixels.
    public var windowPixels: (width: Int, height: Int)?
    /// The DECRQM answer for SGR-Pixels mouse reports (mode 1016): whether the terminal knows
    /// the mode; nil: no answer.
    public var pixelMouse: Bool?
    /// The terminal's name and version (XTVERSION, `DCS > | text ST`), e.g. "kitty(0.26.5)".
    public var version: String?
    /// The largest sixel image the terminal draws now, in pixels (XTSMGRAPHICS, `CSI ? 2 ; 0 ; w ; h S`):
    /// xterm draws nothing at all of a bigger one (its `maxGraphicSize`, 1000×1000 by default).
    public var sixelGeometry: (width: Int, height: Int)?
    /// The default background colour (OSC 11), which decides between the light and the dark theme.
    public var background: RGB?
    /// Whether a 24-bit SGR colour survived a round trip (DECRQSS after setting one); nil: no answer.
    public var directColor: Bool?

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.deviceAttributes == b.deviceAttributes && a.kittyStatus == b.kittyStatus
            && a.cellPixels?.width == b.cellPixels?.width && a.cellPixels?.height == b.cellPixels?.height
            && a.windowPixels?.width == b.windowPixels?.width && a.windowPixels?.height == b.windowPixels?.height
            && a.pixelMouse == b.pixelMouse && a.version == b.version
            && a.sixelGeometry?.width == b.sixelGeometry?.width && a.sixelGeometry?.height == b.sixelGeometry?.height
            && a.background == b.background && a.directColor == b.directColor
    }

    /// Whether any reply came at all (a terminal that answers nothing costs only the timeout).
    public var isEmpty: Bool {
        deviceAttributes == nil && kittyStatus == nil && cellPixels == nil && windowPixels == nil && pixelMouse == nil
            && version == nil && sixelGeometry == nil && background == nil && directColor == nil
    }

    public var hasSixel: Bool { deviceAttributes?.contains(4) ?? false }

    public static func parse(_ bytes: [UInt8]) -> TerminalReplies {
        var replies = TerminalReplies()
        var i = 0
        let esc: UInt8 = 0x1B
        while i < bytes.count {
            guard bytes[i] == esc, i + 1 < bytes.count else { i += 1; continue }
            switch bytes[i + 1] {
            case UInt8(ascii: "["):
                // CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E.
                var j = i + 2
                while j < bytes.count, (0x20...0x3F).contains(bytes[j]) { j += 1 }
                guard j < bytes.count, (0x40...0x7E).contains(bytes[j]) else { i += 2; continue }
                let params = String(decoding: bytes[(i + 2)..<j], as: UTF8.self)
                replies.take(csi: params, final: bytes[j])
                i = j + 1
            case UInt8(ascii: "_"), UInt8(ascii: "P"):
                // APC or DCS up to ST (ESC \); an unterminated one is a cut-off reply: ignore it.
                var j = i + 2
                while j + 1 < bytes.count, !(bytes[j] == esc && bytes[j + 1] == UInt8(ascii: "\\")) { j += 1 }
                guard j + 1 < bytes.count else { i += 2; continue }
                let body = String(decoding: bytes[(i + 2)..<j], as: UTF8.self)
                if bytes[i + 1] == UInt8(ascii: "_") {
                    replies.take(apc: body)
                } else if body.hasPrefix(">|") {
                    replies.version = String(body.dropFirst(2))
                } else if body.hasPrefix("1$r") || body.hasPrefix("0$r") {
                    replies.take(decrqss: body)
                }
                i = j + 2
            case UInt8(ascii: "]"):
                // OSC up to ST or BEL.
                var j = i + 2
                while j < bytes.count, bytes[j] != 0x07, !(bytes[j] == esc && j + 1 < bytes.count && bytes[j + 1] == UInt8(ascii: "\\")) {
                    j += 1
                }
                guard j < bytes.count else { i += 2; continue }  // cut off by the timeout
                let body = String(decoding: bytes[(i + 2)..<j], as: UTF8.self)
                if body.hasPrefix("11;") { replies.background = Self.xColor(body.dropFirst(3)) }
                i = j + (bytes[j] == 0x07 ? 1 : 2)
            default:
                i += 1
            }
        }
        return replies
    }

    private mutating func take(csi params: String, final: UInt8) {
        if final == UInt8(ascii: "c"), params.hasPrefix("?") {
            // kitty ends its list with a semicolon (`?62;c`): empty fields are fine, letters are
            // a garbled reply we cannot trust.
            let values = params.dropFirst().split(separator: ";").map { Int($0) }
            if !values.isEmpty, values.allSatisfy({ $0 != nil }) { deviceAttributes = values.compactMap { $0 } }
        } else if final == UInt8(ascii: "y"), params.hasPrefix("?1016;"), params.hasSuffix("$") {
            // `CSI ? 1016 ; Ps $ y`: 0 not recognised, 1 set, 2 reset, 3 permanently set, 4 permanently reset.
            if let value = Int(params.dropFirst(6).dropLast()) { pixelMouse = (1...3).contains(value) }
        } else if final == UInt8(ascii: "S"), params.hasPrefix("?2;") {
            // XTSMGRAPHICS: `? 2 ; status ; width ; height`, status 0 is success.
            let values = params.dropFirst(3).split(separator: ";").map { Int($0) }
            if values.count == 3, values[0] == 0, let w = values[1], let h = values[2], w > 0, h > 0 { sixelGeometry = (w, h) }
        } else if final == UInt8(ascii: "t") {
            let values = params.split(separator: ";").map { Int($0) }
            guard values.count == 3, let kind = values[0], let h = values[1], let w = values[2], w > 0, h > 0 else { return }
            if kind == 6 { cellPixels = (w, h) } else if kind == 4 { windowPixels = (w, h) }
        }
    }

    /// The DECRQSS answer for SGR after `TerminalQuery.colorProbe` set a 24-bit background:
    /// `1$r0;48:2::1:2:3m` (xterm; others write semicolons or no colour-space field) keeps the
    /// colour; a terminal that maps it to its palette answers `48;5;16` or drops it.
    private mutating func take(decrqss body: String) {
        guard body.hasSuffix("m") else { return }
        let fields = body.dropFirst(3).dropLast().split(whereSeparator: { $0 == ";" || $0 == ":" }).map(String.init)
        let probe = TerminalQuery.colorProbeValues.map(String.init)
        directColor = body.hasPrefix("1") && fields.indices.contains { i in
            fields[i] == "48" && i + 1 < fields.count && fields[i + 1] == "2" && Array(fields[(i + 2)...].prefix(3)) == probe
        }
    }

    /// An X11 colour as terminals answer OSC 11: `rgb:rrrr/gggg/bbbb`, 1 to 4 hex digits each.
    static func xColor(_ text: Substring) -> RGB? {
        guard text.hasPrefix("rgb:") else { return nil }
        let parts = text.dropFirst(4).split(separator: "/")
        guard parts.count == 3 else { return nil }
        var channels: [UInt8] = []
        for part in parts {
            guard (1...4).contains(part.count), let value = UInt32(part, radix: 16) else { return nil }
            let max = (UInt32(1) << (4 * UInt32(part.count))) - 1
            channels.append(UInt8((value * 255 + max / 2) / max))
        }
        return RGB(channels[0], channels[1], channels[2])
    }

    private mutating func take(apc body: String) {
        // `G<keys>;<message>`: our query carries i=31 (TerminalQuery.kittyQueryID).
        guard body.hasPrefix("G"), let semicolon = body.firstIndex(of: ";") else { return }
        let keys = body[body.index(after: body.startIndex)..<semicolon].split(separator: ",")
        guard keys.contains("i=\(TerminalQuery.kittyQueryID)") else { return }
        kittyStatus = String(body[body.index(after: semicolon)...])
    }
}

/// The bytes that ask the terminal what it can do. Device attributes go last: every terminal
/// answers them, and answers in order, so once their reply is in, every other reply that will
/// ever come has come (the reader can stop before the timeout).
public enum TerminalQuery {
    static let kittyQueryID = 31

    /// A 1×1 RGB image sent with `a=q`: a kitty-protocol terminal checks it and answers
    /// `ESC _ G i=31;OK ESC \` without storing anything; others ignore the APC.
    public static let kittyQuery = "\u{1B}_Gi=\(kittyQueryID),s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\"

    /// The 24-bit colour set and read back (DECRQSS) to learn whether the terminal keeps 24-bit
    /// colour, which `TERM=xterm` does not say; reset to the default attributes right after.
    static let colorProbeValues = [1, 2, 3]
    static let colorProbe = "\u{1B}[48;2;1;2;3m" + "\u{1B}P$qm\u{1B}\\" + "\u{1B}[0m"

    /// `inTmux`: the kitty query must reach the outer terminal through tmux's passthrough; the
    /// other queries are answered by tmux itself, which knows its own sixel support and sizes.
    /// Asked: kitty graphics, cell and window size in pixels, pixel mouse (DECRQM 1016),
    /// XTVERSION, the sixel size limit (XTSMGRAPHICS), the background colour (OSC 11), 24-bit
    /// colour (DECRQSS), and last the device attributes.
    public static func request(inTmux: Bool) -> String {
        let kitty = inTmux ? KittyGraphics.tmuxPassthrough(kittyQuery) : kittyQuery
        return kitty + "\u{1B}[16t" + "\u{1B}[14t" + "\u{1B}[?1016$p" + "\u{1B}[>q" + "\u{1B}[?2;1;0S"
            + "\u{1B}]11;?\u{1B}\\" + colorProbe + "\u{1B}[c"
    }

    /// Whether the reader can stop waiting: the device attributes reply is the last to come.
    /// Inside tmux it is not: tmux answers it at once, while the kitty query's answer makes the
    /// round trip to the outer terminal, so there the wait ends only with both (or the timeout).
    public static func isComplete(_ bytes: [UInt8], inTmux: Bool = false) -> Bool {
        let replies = TerminalReplies.parse(bytes)
        return replies.deviceAttributes != nil && (!inTmux || replies.kittyStatus != nil)
    }
}

/// The mode segterm draws in and why: `reasons` is what `segterm doctor` prints.
public struct GraphicsDecision: Sendable {
    public var mode: GraphicsMode
    /// One cell in pixels, when known (sixel needs it to size the image).
    public var cellPixels: (width: Int, height: Int)?
    public var truecolor: Bool
    public var inTmux: Bool
    /// Mouse reports in pixels (mode 1016) can be asked for: the terminal said it knows them and
    /// its cell size is known.
    public var pixelMouse: Bool
    /// kitty: show the photo through Unicode placeholder cells (and the overlay placed relative
    /// to it) rather than placing both at their cells directly.
    public var kittyPlaceholders: Bool
    /// The largest sixel image the terminal takes (nil: it did not say; no limit is assumed).
    /// The sixel presenter sends pictures in tiles no larger.
    public var sixelLimit: PixelSize?
    /// The terminal's background colour (OSC 11), nil when it did not say.
    public var background: RGB?
    public var reasons: [String]

    /// Whether the terminal's background is light (by its luminance), nil when unknown: the
    /// workbench's theme follows it unless `--theme` says otherwise.
    public var lightBackground: Bool? { Self.isLight(background) }

    /// `override`: `--graphics kitty|sixel|text` (nil: auto). `rows`/`columns`: the terminal's
    /// size in cells (for a cell size from the window's pixel size when no cell-size reply came);
    /// `kernelPixels`: the window's pixel size from TIOCGWINSZ, used when CSI 14 t got no answer.
    public static func decide(replies: TerminalReplies, environment: [String: String], override: GraphicsMode? = nil,
                              rows: Int? = nil, columns: Int? = nil,
                              kernelPixels: (width: Int, height: Int)? = nil) -> GraphicsDecision {
        var reasons: [String] = []
        let term = environment["TERM"] ?? "", program = environment["TERM_PROGRAM"] ?? ""
        let inTmux = !(environment["TMUX"] ?? "").isEmpty || term.hasPrefix("tmux")
        let colorterm = (environment["COLORTERM"] ?? "").lowercased()
        let saysTruecolor = colorterm == "truecolor" || colorterm == "24bit"
        let truecolor = saysTruecolor || replies.directColor == true
        reasons.append("TERM=\(term.isEmpty ? "(unset)" : term)" + (program.isEmpty ? "" : ", TERM_PROGRAM=\(program)"))
        if saysTruecolor {
            reasons.append("COLORTERM=\(colorterm): 24-bit colour")
        } else if replies.directColor == true {
            reasons.append("24-bit colour: the terminal kept a 24-bit colour (DECRQSS), though COLORTERM does not say so")
        } else {
            reasons.append("no 24-bit colour: COLORTERM does not say so" + (replies.directColor == false ? " and the terminal did not keep one (DECRQSS)" : ""))
        }
        if inTmux { reasons.append("inside tmux: kitty graphics go through its passthrough (needs `set -g allow-passthrough on`)") }

        if replies.isEmpty {
            reasons.append("the terminal answered no query before the timeout")
        } else {
            if let attributes = replies.deviceAttributes {
                reasons.append("device attributes \(attributes.map(String.init).joined(separator: ";")): "
                               + (replies.hasSixel ? "sixel (attribute 4)" : "no sixel (no attribute 4)"))
            } else {
                reasons.append("no device attributes reply")
            }
            if let version = replies.version { reasons.append("terminal \(version) (XTVERSION)") }
            switch replies.kittyStatus {
            case "OK": reasons.append("kitty graphics query answered OK")
            case let status?: reasons.append("kitty graphics query refused: \(status)")
            case nil: reasons.append("no answer to the kitty graphics query")
            }
            if let background = replies.background, let light = Self.isLight(background) {
                reasons.append(String(format: "background #%02x%02x%02x (OSC 11): ", background.r, background.g, background.b)
                               + (light ? "light" : "dark"))
            }
        }

        var cell = replies.cellPixels
        if let c = cell {
            reasons.append("cell size \(c.width)×\(c.height) px (CSI 16 t)")
        } else if let window = replies.windowPixels ?? kernelPixels, let rows, let columns, rows > 0, columns > 0,
                  window.width >= columns, window.height >= rows {
            cell = Self.cellSize(window: window, rows: rows, columns: columns)
            let source = replies.windowPixels != nil ? "CSI 14 t" : "TIOCGWINSZ"
            reasons.append("cell size \(window.width / columns)×\(window.height / rows) px from the window's \(window.width)×\(window.height) px (\(source))")
        } else {
            reasons.append("cell size unknown")
        }

        let limit = replies.sixelGeometry.map { PixelSize(width: $0.width, height: $0.height) }
        if let limit { reasons.append("largest sixel image \(limit.width)×\(limit.height) px (XTSMGRAPHICS): larger pictures go in tiles") }
        // A limit below one cell could not hold even one tile.
        let sixelFits = limit.map { l in cell.map { l.width >= $0.width && l.height >= max($0.height, 6) } ?? true } ?? true

        let mode: GraphicsMode
        if let override {
            mode = override
            reasons.append("--graphics \(override.rawValue): forced")
        } else if replies.kittyStatus == "OK" {
            mode = .kitty
            reasons.append("kitty: the terminal confirmed the kitty graphics protocol")
        } else if replies.hasSixel, cell != nil, sixelFits {
            mode = .sixel
            reasons.append("sixel: the terminal reports sixel and its cell size")
        } else {
            mode = .text
            if replies.hasSixel && !sixelFits { reasons.append("text: the terminal's sixel limit is smaller than one cell") }
            else if replies.hasSixel { reasons.append("text: sixel without a known cell size cannot be fitted to cells") }
            else if term.contains("kitty") || program == "WezTerm" || program == "ghostty" {
                reasons.append("text: TERM/TERM_PROGRAM suggest graphics, but the terminal did not confirm any (never guessed)")
            } else {
                reasons.append("text: no graphics protocol confirmed")
            }
        }
        let pixelMouse = replies.pixelMouse == true && cell != nil
        if let known = replies.pixelMouse {
            reasons.append(known ? (cell != nil ? "mouse in pixels (mode 1016): yes" : "mouse in pixels (mode 1016): known, but the cell size is not")
                                 : "mouse in pixels (mode 1016): not recognised, clicks land on cell centres")
        }
        let placeholders = inTmux || Self.knowsPlaceholders(replies.version)
        if mode == .kitty {
            reasons.append(placeholders
                ? "kitty images through Unicode placeholders" + (inTmux ? " (the way through tmux)" : " (\(replies.version ?? ""))")
                : "kitty images placed at their cells (\(replies.version.map { "\($0) " } ?? "")without Unicode placeholders and relative placements)")
        }
        return GraphicsDecision(mode: mode, cellPixels: cell, truecolor: truecolor, inTmux: inTmux, pixelMouse: pixelMouse,
                                kittyPlaceholders: placeholders, sixelLimit: limit, background: replies.background, reasons: reasons)
    }

    /// Light or dark by relative luminance (Rec. 709), nil for nothing.
    static func isLight(_ color: RGB?) -> Bool? {
        color.map { 0.2126 * Double($0.r) + 0.7152 * Double($0.g) + 0.0722 * Double($0.b) > 127.5 }
    }

    /// One cell's pixels estimated from the text area's (kernel or CSI 14 t) and the grid.
    public static func cellSize(window: (width: Int, height: Int), rows: Int, columns: Int) -> (width: Int, height: Int) {
        (window.width / max(columns, 1), window.height / max(rows, 1))
    }

    /// Terminals known to draw Unicode placeholders with images placed relative to them: kitty
    /// from 0.31 (relative placements; placeholders came in 0.28). Others (WezTerm, Konsole,
    /// Ghostty, whose relative placements are recent, older kitty) get direct placements, which
    /// every kitty-protocol terminal draws.
    static func knowsPlaceholders(_ version: String?) -> Bool {
        guard let version = version?.lowercased() else { return false }
        guard version.hasPrefix("kitty("), let close = version.firstIndex(of: ")") else { return false }
        let numbers = version[version.index(version.startIndex, offsetBy: 6)..<close].split(separator: ".").map { Int($0) ?? 0 }
        return numbers.count >= 2 && (numbers[0], numbers[1]) >= (0, 31)
    }
}
