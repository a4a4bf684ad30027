import CCurses

/// The one place that talks to ncurses: it starts and restores the terminal, turns key and mouse
/// input into `InputEvent`s and writes a `CellBuffer`, cell by cell where it changed.
public final class CursesTerminal {
    public enum ColorRequest: String, Sendable, CaseIterable { case auto, direct, palette256 = "256", ansi8 = "8", none }

    public private(set) var colorMode: ColorMode = .none
    private var pairs = ColorPairs(capacity: 0)
    private var lastFrame: CellBuffer?
    private var colorShift: UInt8 = 0  // bits dropped from each channel when pairs run short
    /// A key that arrived glued to an Escape (Esc then a quick key reads as ESC x): returned next.
    private var pendingInput: InputEvent?
    /// Bytes the last `draw` wrote to the terminal (measured only when `measuresOutput` is set).
    public private(set) var lastFrameBytes = 0
    /// `--debug-io`: count the bytes each frame sends (what a click costs over SSH).
    public var measuresOutput = false
    /// Draws the panes' pixels after the cells (kitty or sixel); nil in text mode.
    public var graphics: GraphicsPresenter? {
        didSet {
            // Killed by a signal, the terminal still gets the graphics taken off it.
            var bytes = Array((graphics?.finish() ?? "").utf8)
            bytes.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { segcurses_set_exit_bytes($0.baseAddress, $0.count) }
            }
        }
    }
    /// Mouse reports come in pixels (mode 1016), once `enablePixelMouse` turned them on.
    public private(set) var reportsPixels = false

    /// Starts full-screen mode. `environment` decides colour support (`NO_COLOR`, `COLORTERM`, `TERM`);
    /// `truecolor`: the terminal showed it keeps 24-bit colour (`GraphicsDecision.truecolor`,
    /// which reads COLORTERM and asks the terminal), nil: COLORTERM alone decides.
    public init(colors request: ColorRequest, environment: [String: String], truecolor: Bool? = nil) throws {
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let wantsColor = request != .none && !(request == .auto && noColor)
        var caps = segcurses_caps()
        let colorterm = environment["COLORTERM"]?.lowercased() ?? ""
        let termName = Self.directColorTermName(request: request, term: environment["TERM"] ?? "",
                                                truecolor: truecolor ?? (colorterm == "truecolor" || colorterm == "24bit"))
        var started = termName.map { name in name.withCString { segcurses_start($0, wantsColor ? 1 : 0, &caps) } } ?? -1
        if started != 0 { started = segcurses_start(nil, wantsColor ? 1 : 0, &caps) }
        guard started == 0 else {
            throw TerminalError.cannotStart(environment["TERM"] ?? "(TERM unset)")
        }
        colorMode = Self.colorMode(request: request, wantsColor: wantsColor, caps: caps)
        pairs = ColorPairs(capacity: Int(caps.color_pairs))
    }

    public enum TerminalError: Error, CustomStringConvertible {
        case cannotStart(String)
        public var description: String {
            switch self {
            case .cannotStart(let term): "cannot start the terminal interface (TERM=\(term))"
            }
        }
    }

    deinit { segcurses_stop() }

    public func stop() { segcurses_stop() }

    public var size: (rows: Int, columns: Int) {
        var rows: Int32 = 0, cols: Int32 = 0
        segcurses_size(&rows, &cols)
        return (Int(rows), Int(cols))
    }

    /// Terminals that show 24-bit colour (COLORTERM says so, or they kept one when asked) while
    /// their terminfo entry knows 256 colours or fewer (`TERM=xterm`): use the matching `-direct`
    /// entry, which ncurses ships.
    static func directColorTermName(request: ColorRequest, term: String, truecolor: Bool) -> String? {
        guard request == .auto || request == .direct else { return nil }
        guard truecolor || request == .direct else { return nil }
        if term.hasSuffix("-direct") { return nil }
        for family in ["xterm", "tmux", "screen", "kitty", "alacritty", "foot", "konsole", "vte", "iterm2", "st"] where term.hasPrefix(family) {
            return family == "screen" ? "tmux-direct" : "\(family)-direct"
        }
        return nil
    }

    static func colorMode(request: ColorRequest, wantsColor: Bool, caps: segcurses_caps) -> ColorMode {
        guard wantsColor, caps.has_colors != 0, caps.color_pairs > 1 else { return .none }
        let available: ColorMode = caps.direct_color != 0 ? .direct : caps.colors >= 256 ? .palette256 : caps.colors >= 8 ? .ansi8 : .none
        let order: [ColorMode] = [.direct, .palette256, .ansi8, .none]
        let asked: ColorMode = switch request {
        case .auto, .direct: .direct
        case .palette256: .palette256
        case .ansi8: .ansi8
        case .none: .none
        }
        // Never more than the terminal can show.
        return order[max(order.firstIndex(of: asked)!, order.firstIndex(of: available)!)]
    }

    /// Asks for mouse reports in terminal pixels (SGR-Pixels, 1016). Only for a terminal that said
    /// it knows the mode: one that does not would go on sending cells, read here as pixels.
    public func enablePixelMouse() {
        writeRaw(PixelMouseReport.enable)
        reportsPixels = true
    }

    /// Bytes past ncurses, after what it has buffered.
    public func writeRaw(_ text: String) {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { segcurses_write_raw($0.baseAddress, $0.count) }
        }
    }

    /// Takes the graphics off the terminal (before `stop`).
    public func finishGraphics() {
        if let graphics { writeRaw(graphics.finish()) }
    }

    /// Writes the cells that differ from the last frame (all of them after a resize), refreshes,
    /// then lets `graphics` draw `panes` over them.
    public func draw(_ frame: CellBuffer, graphics panes: [PaneGraphics] = []) {
        var full = lastFrame.map { $0.rows != frame.rows || $0.columns != frame.columns } ?? true
        if let graphics, graphics.needsClear(for: panes) {
            full = true
            lastFrame = nil
        }
        if full { segcurses_clear() }
        // A frame with more colour combinations than the terminal has pairs is drawn again with
        // coarser colours; a pair redefined mid-frame would recolour cells already on screen.
        var shift = colorShift
        while true {
            pairs.beginFrame()
            if pairsFit(frame, shift: shift) { break }
            shift += 1
        }
        if shift != colorShift || pairs.wasReset {
            colorShift = shift
            lastFrame = nil
        }
        let previous = full ? nil : lastFrame
        let written = measuresOutput ? ThreadOutput.bytesWritten() : nil
        defer { if let written, let now = ThreadOutput.bytesWritten() { lastFrameBytes = now - written } }
        // Which cells ncurses writes this frame: text written over a sixel covers its pixels.
        var changed = graphics == nil ? [] : [Bool](repeating: previous == nil, count: frame.rows * frame.columns)
        for row in 0..<frame.rows {
            for col in 0..<frame.columns {
                let cell = frame[row, col]
                if let previous, previous[row, col] == cell { continue }
                if !changed.isEmpty { changed[row * frame.columns + col] = true }
                let pair = Int32(pairs.pair(foreground: number(cell.foreground, shift: shift), background: number(cell.background, shift: shift)) ?? 0)
                if cell.marks.isEmpty {
                    segcurses_put(Int32(row), Int32(col), cell.character.value, pair, cell.bold ? 1 : 0, cell.reverse ? 1 : 0)
                } else {
                    let text = [cell.character.value] + cell.marks.map(\.value)
                    segcurses_put_text(Int32(row), Int32(col), text, Int32(text.count), pair, cell.bold ? 1 : 0, cell.reverse ? 1 : 0)
                }
            }
        }
        segcurses_refresh()
        lastFrame = frame
        guard let graphics else { return }
        writeRaw(graphics.present(panes) { rect in
            let rows = max(rect.row, 0)..<max(min(rect.row + rect.rows, frame.rows), max(rect.row, 0))
            let columns = max(rect.column, 0)..<max(min(rect.column + rect.columns, frame.columns), max(rect.column, 0))
            for row in rows {
                for col in columns where changed[row * frame.columns + col] {
                    return true
                }
            }
            return false
        })
    }

    /// Allocates the pairs the frame needs; false when there are not enough at this colour depth.
    private func pairsFit(_ frame: CellBuffer, shift: UInt8) -> Bool {
        guard colorMode != .none else { return true }
        for cell in frame.cells {
            if pairs.pair(foreground: number(cell.foreground, shift: shift), background: number(cell.background, shift: shift)) == nil {
                pairs.reset()
                return false
            }
        }
        return true
    }

    /// The terminal's colour number for an RGB colour in the current mode (-1: default colour).
    private func number(_ color: RGB?, shift: UInt8) -> Int32 {
        guard let color, colorMode != .none else { return -1 }
        switch colorMode {
        case .direct:
            let keep: UInt8 = shift == 0 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << shift)
            let value = Int32(color.r & keep) << 16 | Int32(color.g & keep) << 8 | Int32(color.b & keep)
            // Direct-colour terminfo maps numbers below 8 to the ANSI colours.
            return max(value, 8)
        case .palette256: return Int32(TerminalPalette.xterm256(color))
        case .ansi8: return Int32(TerminalPalette.ansi8(color))
        case .none: return -1
        }
    }

    /// Waits up to `timeoutMilliseconds` (negative: forever) for input.
    public func read(timeoutMilliseconds: Int) -> InputEvent? {
        if let pending = pendingInput {
            pendingInput = nil
            return pending
        }
        var event = segcurses_event()
        segcurses_read(Int32(timeoutMilliseconds), &event)
        switch Int(event.kind) {
        case Int(SEGCURSES_CHAR):
            if event.value == 27 { return readEscapeSequence() }
            return Self.characterEvent(event.value)
        case Int(SEGCURSES_KEY):
            return Self.specialKeys[Int32(bitPattern: event.value)].map { .key($0) }
        case Int(SEGCURSES_HANGUP):
            return .hangup
        case Int(SEGCURSES_RESIZE):
            let (rows, columns) = size
            return .resize(rows: rows, columns: columns)
        case Int(SEGCURSES_MOUSE):
            guard let action = Self.mouseAction(event.mouse_buttons) else { return nil }
            // In pixel mode ncurses parses the same SGR reports, and its "cells" are pixels.
            if reportsPixels { return .pixelMouse(x: Int(event.mouse_x), y: Int(event.mouse_y), action) }
            return .mouse(column: Int(event.mouse_x), row: Int(event.mouse_y), action)
        default:
            return nil
        }
    }

    /// After ESC: an SGR mouse report (`ESC [ < b ; x ; y M|m`) that ncurses passed through as
    /// characters, or the Escape key on its own. Other unknown sequences are dropped.
    private func readEscapeSequence() -> InputEvent? {
        var text = ""
        while text.count < 24 {
            var next = segcurses_event()
            segcurses_read(text.isEmpty ? 0 : 5, &next)
            guard Int(next.kind) == Int(SEGCURSES_CHAR), let scalar = Unicode.Scalar(next.value) else { break }
            text.unicodeScalars.append(scalar)
            if text == "[" || text == "[<" { continue }
            if text.count == 1 {
                // Esc and then a key typed fast (Esc to drop the brush, x to reject) arrive as one
                // ESC x; segterm binds no Alt keys, so they are the two keys they were.
                pendingInput = Self.characterEvent(next.value)
                return .key(.escape)
            }
            if !text.hasPrefix("[<") { return nil }
            if scalar == "M" || scalar == "m" {
                guard reportsPixels else { return Self.parseSGRMouse(text) }
                return PixelMouseReport.parse(text).map { .pixelMouse(x: $0.x, y: $0.y, $0.action) }
            }
        }
        return text.isEmpty ? .key(.escape) : nil
    }

    static func characterEvent(_ value: UInt32) -> InputEvent? {
        if value == 13 || value == 10 { return .key(.enter) }
        if value == 127 || value == 8 { return .key(.backspace) }
        return Unicode.Scalar(value).map { .character(Character($0)) }
    }

    /// `[<b;x;yM` (press or motion) or `[<b;x;ym` (release), x and y 1-based cells: the format
    /// of SGR pixel reports too, so one parser reads both.
    static func parseSGRMouse(_ text: String) -> InputEvent? {
        PixelMouseReport.parse(text).map { .mouse(column: $0.x, row: $0.y, $0.action) }
    }

    private static let specialKeys: [Int32: SpecialKey] = {
        let names: [(String, SpecialKey)] = [
            ("up", .up), ("down", .down), ("left", .left), ("right", .right),
            ("shift-up", .shiftUp), ("shift-down", .shiftDown), ("shift-left", .shiftLeft), ("shift-right", .shiftRight),
            ("page-up", .pageUp), ("page-down", .pageDown), ("home", .home), ("end", .end), ("enter", .enter),
            ("backspace", .backspace), ("delete", .delete),
        ]
        var map: [Int32: SpecialKey] = [:]
        for (name, key) in names {
            let code = segcurses_key_code(name)
            if code >= 0 { map[code] = key }
        }
        return map
    }()

    private static func mouseAction(_ buttons: UInt32) -> MouseAction? {
        let order: [(String, MouseAction)] = [
            ("left-press", .leftPress), ("left-click", .leftClick), ("left-release", .leftRelease),
            ("right-press", .rightPress), ("right-click", .rightClick), ("right-release", .rightRelease),
            ("wheel-up", .wheelUp), ("wheel-down", .wheelDown), ("motion", .motion),
        ]
        for (name, action) in order where buttons & segcurses_mouse_bit(name) != 0 { return action }
        return nil
    }
}

/// Colour pairs (foreground, background) allocated on demand, as extended pairs.
struct ColorPairs {
    let capacity: Int
    private var assigned: [Int64: Int] = [:]
    private var next = 1
    private(set) var wasReset = false

    init(capacity: Int) { self.capacity = capacity }

    mutating func beginFrame() { wasReset = false }

    mutating func reset() {
        assigned.removeAll(keepingCapacity: true)
        next = 1
        wasReset = true
    }

    /// The pair for these colours, defined now if new; nil when every pair is taken.
    mutating func pair(foreground: Int32, background: Int32) -> Int? {
        if foreground == -1 && background == -1 { return 0 }
        let key = Int64(foreground) << 32 | Int64(UInt32(bitPattern: background))
        if let existing = assigned[key] { return existing }
        guard next < capacity else { return nil }
        let pair = next
        next += 1
        segcurses_init_pair(Int32(pair), foreground, background)
        assigned[key] = pair
        return pair
    }
}

/// Bytes this thread has written with write(2) and friends, from /proc/thread-self/io: the
/// terminal output of a frame is what the interface thread writes during its refresh (workers
/// write journals and caches on other threads, which this counter leaves out).
enum ThreadOutput {
    static func bytesWritten() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("wchar:") {
            return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
