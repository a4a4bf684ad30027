import SegCore

/// Mouse reports in pixels (SGR-Pixels, mode 1016: `CSI ? 1016 h`): the same `ESC [ < b ; x ; y M|m`
/// as SGR mode 1006, but x and y count terminal pixels (1-based, like cells in 1006), so a click
/// lands on the image pixel under the pointer instead of the centre of a cell.
public struct PixelMouseReport: Equatable, Sendable {
    public var action: MouseAction
    /// 0-based terminal pixels from the top-left corner of the text area.
    public var x: Int
    public var y: Int
    public var shift: Bool, meta: Bool, control: Bool

    public static let enable = "\u{1B}[?1016h"
    public static let disable = "\u{1B}[?1016l"

    /// Parses one report, with or without the leading `ESC`; nil for anything else. Mode 1006's
    /// cell reports have the same form (x and y are then 0-based cells).
    public static func parse(_ text: String) -> PixelMouseReport? {
        var body = Substring(text)
        if body.hasPrefix("\u{1B}") { body = body.dropFirst() }
        guard body.hasPrefix("[<"), let last = body.last, last == "M" || last == "m" else { return nil }
        let fields = body.dropFirst(2).dropLast().split(separator: ";", omittingEmptySubsequences: false).map { Int($0) }
        guard fields.count == 3, let code = fields[0], let x = fields[1], let y = fields[2], code >= 0, x >= 1, y >= 1
        else { return nil }
        let pressed = last == "M"
        let action: MouseAction
        switch (code & ~(4 | 8 | 16), pressed) {  // without shift, meta and control
        case (64, _): action = .wheelUp
        case (65, _): action = .wheelDown
        case (let c, _) where c & 32 != 0: action = .motion
        case (0, true): action = .leftPress
        case (0, false): action = .leftRelease
        case (2, true): action = .rightPress
        case (2, false): action = .rightRelease
        default: return nil
        }
        return PixelMouseReport(action: action, x: x - 1, y: y - 1, shift: code & 4 != 0, meta: code & 8 != 0,
                                control: code & 16 != 0)
    }
}
