import Foundation
import SegCore
import SegTUI

/// Starts the full-screen terminal for what the probe found: the colours, and the presenter that
/// draws images in the terminal's own pixels (kitty or sixel), or none for text symbols.
/// `segterm open` and `segterm view` start the same way.
enum TerminalStart {
    /// The colours sixel keeps exact: the masks', the points' and the box's, as the theme draws them.
    static func exactColors(_ theme: Theme) -> [RGB] {
        [theme.maskBoundary, theme.positivePoint, theme.negativePoint, theme.boxColor, RGB(0, 0, 0)] + theme.classPalette
    }

    static func start(_ decision: GraphicsDecision, symbols: BlockSymbols, color: CursesTerminal.ColorRequest,
                      theme: Theme, environment: [String: String]) throws -> (terminal: CursesTerminal, display: DisplayGrid) {
        // kitty chosen without a known cell size (forced, or behind a tmux that does not say)
        // draws at a common cell size: the terminal scales the image to its cells. A sixel image
        // is drawn pixel for pixel, so a guessed size would run past its cells: text instead.
        let cell = decision.cellPixels.map { PixelSize(width: $0.width, height: $0.height) }
            ?? (decision.mode == .kitty ? DisplayGrid.assumedCell : nil)
        var display = DisplayGrid(mode: decision.mode, symbols: symbols, cellPixels: cell,
                                  imageIDBase: KittyImageIDs.forProcess(getpid()), placeholders: decision.kittyPlaceholders)
        // kitty's placeholder cells name their image by a 24-bit foreground colour.
        let placeholders = display.mode == .kitty && display.placeholders
        let colors = placeholders && color == .auto ? .direct : color
        let terminal = try CursesTerminal(colors: colors, environment: environment, truecolor: decision.truecolor)
        if placeholders && terminal.colorMode != .direct {
            // Without 24-bit colour the placeholder cells cannot name the image.
            display = DisplayGrid(mode: .text, symbols: symbols, cellPixels: cell)
        }
        switch display.mode {
        case .kitty:
            terminal.graphics = KittyPresenter(ids: KittyImageIDs(base: display.imageIDBase), inTmux: decision.inTmux,
                                               placeholders: display.placeholders, background: decision.background ?? RGB(0, 0, 0))
        case .sixel: terminal.graphics = SixelPresenter(exactColors: exactColors(theme), limit: decision.sixelLimit)
        case .text: break
        }
        if decision.pixelMouse { terminal.enablePixelMouse() }
        return (terminal, display)
    }

    /// Text mode's symbols when not chosen: half blocks on the Linux console, else quadrants.
    static func defaultSymbols(_ environment: [String: String]) -> BlockSymbols {
        environment["TERM"] == "linux" ? .halfBlocks : DisplayGrid.textDefault.symbols
    }
}
