/// The help overlay's scrolling, a reducer of its own: it knows its first shown line, how many
/// lines there are and how many fit. When they all fit, any key closes it; else the arrows,
/// j / k, Space, the page keys and the wheel scroll it, and any other key closes it.
public struct HelpPage: Equatable, Sendable {
    public var top = 0
    public let lines: Int
    public let rows: Int

    /// The next first line, or nil: the help closes.
    public func reduce(_ input: InputEvent) -> Int? {
        let last = max(0, lines - rows), page = max(1, rows - 1)
        if case .mouse(_, _, .motion) = input { return top }
        if case .pixelMouse(_, _, .motion) = input { return top }
        guard last > 0 else { return nil }
        switch input {
        case .key(.down), .character("j"): return min(last, top + 1)
        case .key(.up), .character("k"): return max(0, top - 1)
        case .key(.pageDown), .character(" "): return min(last, top + page)
        case .key(.pageUp): return max(0, top - page)
        case .mouse(_, _, .wheelDown): return min(last, top + 3)
        case .mouse(_, _, .wheelUp): return max(0, top - 3)
        default: return nil
        }
    }
}

extension Workbench {
    static func handleHelp(_ input: InputEvent, _ s: inout WorkbenchState) {
        let page = HelpPage(top: s.helpTop, lines: helpLines(s).count, rows: helpRows(s))
        if let top = page.reduce(input) { s.helpTop = top } else { s.overlay = .none }
    }
}
