/// How many colours the terminal can show, which decides how a frame is drawn.
public enum ColorMode: String, Sendable, CaseIterable {
    case direct      // 24-bit RGB
    case palette256  // the xterm 256-colour palette
    case ansi8       // the 8 basic colours
    case none        // no colour at all (NO_COLOR, or a monochrome terminal)
}

/// Colours of the interface; the mask colours are chosen to stand out on photographs.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var maskFill: RGB
    public var maskBoundary: RGB
    /// How strongly the mask colour covers the image inside the mask (0–1).
    public var maskOpacity: Double
    public var boundaryOpacity: Double
    public var statusForeground: RGB
    public var statusBackground: RGB
    /// Colours of accepted objects by class, in class order (repeating when there are more classes).
    public var classPalette: [RGB] = Theme.okabeIto
    public var positivePoint = RGB(0, 230, 90)
    public var negativePoint = RGB(255, 60, 60)
    public var boxColor = RGB(255, 255, 255)
    public var panelForeground = RGB(200, 200, 210)
    public var panelHighlight = RGB(60, 60, 90)
    /// Selected rows in reverse video instead of `panelHighlight`: in 8 or 16 colours a highlight
    /// colour becomes the background's own black or white and the selection disappears.
    public var highlightByReverse = false

    /// This theme as drawn in `mode`.
    public func adapted(to mode: ColorMode) -> Theme {
        var theme = self
        theme.highlightByReverse = mode == .ansi8 || mode == .none
        return theme
    }

    /// A row's background and reverse flag: `selected` rows stand out in every colour mode.
    public func row(selected: Bool, colored: Bool, background: RGB? = nil) -> (background: RGB?, reverse: Bool) {
        guard selected else { return (colored ? background : nil, false) }
        return colored && !highlightByReverse ? (panelHighlight, false) : (nil, true)
    }

    /// Okabe & Ito's palette, told apart with every common colour-vision deficiency.
    public static let okabeIto: [RGB] = [RGB(230, 159, 0), RGB(86, 180, 233), RGB(0, 158, 115), RGB(240, 228, 66),
                                         RGB(0, 114, 178), RGB(213, 94, 0), RGB(204, 121, 167), RGB(153, 153, 153)]

    public func classColor(_ index: Int) -> RGB { classPalette.isEmpty ? maskFill : classPalette[abs(index) % classPalette.count] }

    public init(name: String, maskFill: RGB, maskBoundary: RGB, maskOpacity: Double, boundaryOpacity: Double,
                statusForeground: RGB, statusBackground: RGB) {
        self.name = name
        self.maskFill = maskFill
        self.maskBoundary = maskBoundary
        self.maskOpacity = maskOpacity
        self.boundaryOpacity = boundaryOpacity
        self.statusForeground = statusForeground
        self.statusBackground = statusBackground
    }

    public static let dark = Theme(name: "dark", maskFill: RGB(0, 200, 255), maskBoundary: RGB(255, 230, 0),
                                   maskOpacity: 0.45, boundaryOpacity: 0.9,
                                   statusForeground: RGB(230, 230, 230), statusBackground: RGB(40, 40, 60))
}
