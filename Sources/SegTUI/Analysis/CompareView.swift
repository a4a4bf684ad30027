import SegCore
import SegEval
import SegModels

/// The compare view (`c`): two prediction sets on the same image, side by side, the images in
/// order of the per-image delta (B − A), largest regression of B first.
public struct CompareViewState: Sendable {
    public var a = 0
    public var b = 1
    /// Image indices, worst delta first; images without a defined delta last.
    public var order: [Int] = []
    public var position = 0
    /// The per-class delta table (Tab) instead of the panes.
    public var showClasses = false
    /// Each set's masks on the current image (detections scoring at least 0.5, or the classes of a
    /// label map, or a binary mask), with the label that colours them.
    public var masksA: [(mask: Mask, label: Int)] = []
    public var masksB: [(mask: Mask, label: Int)] = []
    /// The engine's comparison of A and B, computed in the background when the view opens.
    public var comparison: Comparison?
    /// Why the comparison could not be made, when it could not.
    public var comparisonFailure: String?

    public init() {}

    public static let minimumScore = 0.5

    public enum Outcome: Equatable {
        case open
        case close
        /// Show the image at this position of the order.
        case show(position: Int)
        /// A or B changed: the order and the comparison must be made again.
        case setsChanged
        /// A zoom or pan key, for the image pane's viewport.
        case view(InputEvent)
    }

    /// The view's keys; `evaluated[k]`: whether prediction set k has its evaluation (only those
    /// can be chosen).
    public mutating func reduce(_ input: InputEvent, evaluated: [Bool]) -> Outcome {
        switch input {
        case .character("c"), .character("q"), .key(.escape):
            masksA = []
            masksB = []
            return .close
        case .character("]"), .character("n"), .key(.pageDown): return .show(position: position + 1)
        case .character("["), .character("p"), .key(.pageUp): return .show(position: position - 1)
        case .character("\t"): showClasses.toggle()
        case .character("1"), .character("2"):
            // The next evaluated set for A (1) or B (2), never the same for both.
            func next(_ from: Int, avoiding other: Int) -> Int {
                var k = from
                repeat { k = (k + 1) % evaluated.count } while (k == other || !evaluated[k]) && k != from
                return k
            }
            if input == .character("1") { a = next(a, avoiding: b) } else { b = next(b, avoiding: a) }
            return .setsChanged
        case .character("z"), .character("Z"), .character("0"), .key(.left), .character("h"), .key(.right), .character("l"),
             .key(.up), .character("k"), .key(.down), .character("j"):
            return .view(input)
        default: break
        }
        return .open
    }

    /// Images by B − A of the per-image metric, most negative first; the comparison is dropped.
    public mutating func reorder(_ images: [ImageEntry], a scoresA: ImageScores?, b scoresB: ImageScores?) {
        guard let scoresA, let scoresB else { return }
        func delta(_ i: Int) -> Double? {
            guard let x = scoresA.byStem[images[i].stem], let y = scoresB.byStem[images[i].stem], x >= 0, y >= 0 else { return nil }
            return y - x
        }
        order = images.indices.sorted { i, j in
            switch (delta(i), delta(j)) {
            case let (x?, y?): x != y ? x < y : i < j
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): i < j
            }
        }
        comparison = nil
        comparisonFailure = nil
    }
}

extension Workbench {
    static func openCompare(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard s.predictions.count >= 2 else {
            s.message = "compare needs two prediction sets with ground truth (ground_truth and [predictions] in segterm.toml)"
            return
        }
        // Only evaluated sets can be compared; a set that failed stays out (its message said why).
        let ready = s.predictions.indices.filter { s.predictions[$0].evaluation != nil }
        guard ready.count >= 2 else {
            s.message = s.predictions.contains { !$0.failed && $0.evaluation == nil }
                ? "the prediction sets are still being evaluated" : "fewer than two prediction sets could be evaluated"
            return
        }
        if !ready.contains(s.compareView.a) { s.compareView.a = ready[0] }
        if !ready.contains(s.compareView.b) || s.compareView.b == s.compareView.a { s.compareView.b = ready.first { $0 != s.compareView.a }! }
        reorderCompare(&s)
        s.overlay = .compare
        s.failureFocus = nil
        effects.append(.compare(a: s.compareView.a, b: s.compareView.b))
        showCompared(at: 0, &s, &effects)
    }

    static func reorderCompare(_ s: inout WorkbenchState) {
        s.compareView.reorder(s.images, a: s.predictions[s.compareView.a].scores, b: s.predictions[s.compareView.b].scores)
    }

    static func showCompared(at position: Int, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard s.compareView.order.indices.contains(position) else { return }
        s.compareView.position = position
        let index = s.compareView.order[position]
        if index != s.current { go(to: index, &s, &effects) }
        requestComparedMasks(&s, &effects)
    }

    /// Asks the runtime for each set's masks on the current image once it is loaded: decoding
    /// detections and reading label maps is file and pixel work, kept off the interface's thread.
    static func requestComparedMasks(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        s.compareView.masksA = []
        s.compareView.masksB = []
        guard s.overlay == .compare, let image = s.image, let entry = s.currentEntry else { return }
        effects.append(.loadComparedMasks(index: s.current, stem: entry.stem, size: image.size, a: s.compareView.a, b: s.compareView.b))
    }

    /// Each set's masks on one image, as the compare panes draw them.
    public static func comparedMasks(_ evaluation: SetEvaluation?, stem: String, size: PixelSize) -> [(mask: Mask, label: Int)] {
        (evaluation?.predictionMasks(stem: stem, minimumScore: CompareViewState.minimumScore) ?? []).filter { $0.mask.size == size }
    }

    static func handleCompare(_ input: InputEvent, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        switch s.compareView.reduce(input, evaluated: s.predictions.map { $0.evaluation != nil }) {
        case .open: break
        case .close: s.overlay = .none
        case .show(let position): showCompared(at: position, &s, &effects)
        case .setsChanged:
            reorderCompare(&s)
            effects.append(.compare(a: s.compareView.a, b: s.compareView.b))
            showCompared(at: 0, &s, &effects)
        case .view(let key): moveComparedView(key, &s)
        }
    }

    /// Zoom about the image's centre and pan in large steps: both panes share the viewport.
    static func moveComparedView(_ key: InputEvent, _ s: inout WorkbenchState) {
        switch key {
        case .character("z"): if let image = s.image { zoom(by: 2.0.squareRoot(), around: PixelPoint(x: image.width / 2, y: image.height / 2), &s) }
        case .character("Z"): if let image = s.image { zoom(by: 1 / 2.0.squareRoot(), around: PixelPoint(x: image.width / 2, y: image.height / 2), &s) }
        case .character("0"): s.viewport = .fit
        case .key(.left), .character("h"): moveCursor(-1, 0, large: true, &s)
        case .key(.right), .character("l"): moveCursor(1, 0, large: true, &s)
        case .key(.up), .character("k"): moveCursor(0, -1, large: true, &s)
        case .key(.down), .character("j"): moveCursor(0, 1, large: true, &s)
        default: break
        }
    }

    // MARK: Drawing

    /// The two panes: side by side when each still gets at least 40 columns, else one above the other.
    public static func comparePanes(_ area: CellRect) -> (CellRect, CellRect) {
        let panes = WorkbenchLayout.abPanes(area, equal: false)
        return (panes[0], panes[1])
    }

    static func drawCompare(_ s: WorkbenchState, area: CellRect, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        let v = s.compareView
        let fg = colored ? theme.panelForeground : nil
        for row in area.row..<(area.row + area.rows) {
            buffer.write(String(repeating: " ", count: area.columns), row: row, column: area.column, foreground: fg)
        }
        if v.showClasses {
            drawCompareClasses(s, area: area, into: &buffer, theme: theme, colored: colored)
            return
        }
        let (paneA, paneB) = comparePanes(area)
        for (lane, (pane, set)) in [(paneA, v.a), (paneB, v.b)].enumerated() {
            let name = s.predictions[set].name
            let stem = s.currentEntry?.stem ?? ""
            let value = s.predictions[set].scores?.byStem[stem]
            var header = " \(set == v.a ? "A" : "B") \(name)  \(s.predictions[set].scores?.metric ?? "") \(value.map { $0 < 0 ? "-" : formatMetric($0) } ?? "-")"
            if set == v.b, let x = s.predictions[v.a].scores?.byStem[stem], let y = value, x >= 0, y >= 0 {
                header += String(format: "  \u{0394} %+.3f", y - x)
            }
            if set == v.a { header += "   \(v.position + 1)/\(v.order.count) by \u{0394}  ]/[ next  Tab classes  1/2 sets  c close" }
            buffer.write(String(header.prefix(pane.columns)), row: pane.row, column: pane.column, foreground: fg, bold: true)
            guard let image = s.image, pane.rows > 1 else { continue }
            let imageArea = compareImageArea(pane)
            if s.display.isGraphics {
                // The terminal draws the pixels (`compareGraphics`); kitty's placeholder cells name the image.
                if s.display.mode == .kitty && s.display.placeholders {
                    let shown = s.display.imageLayout(image.size, area: imageArea, viewport: s.viewport)
                    drawKittyPlaceholders(s, lane: lane, cells: s.display.imageCells(shown, in: imageArea), into: &buffer)
                }
                continue
            }
            let layout = s.display.text.imageLayout(image.size, area: imageArea, viewport: s.viewport)
            ImagePainter.paint(image, overlays: compareOverlays(s, set: set, image: image, theme: theme), layout: layout, into: &buffer,
                               area: imageArea, colorMode: s.colorMode, symbols: s.display.symbols,
                               cacheKey: s.imageGeneration > 0 ? "image \(s.imageGeneration)" : nil, cache: s.samples)
        }
        if paneA.row == paneB.row {
            for row in area.row..<(area.row + area.rows) { buffer.write("\u{2502}", row: row, column: paneB.column - 1, foreground: fg) }
        }
    }

    /// A compare pane's image: everything below its header line.
    static func compareImageArea(_ pane: CellRect) -> CellRect {
        CellRect(column: pane.column, row: pane.row + 1, columns: pane.columns, rows: pane.rows - 1)
    }

    /// Set `set`'s masks in their class colours, and the ground truth outlined.
    static func compareOverlays(_ s: WorkbenchState, set: Int, image: RGBImage, theme: Theme) -> [MaskOverlay] {
        let masks = set == s.compareView.a ? s.compareView.masksA : s.compareView.masksB
        var overlays = masks.enumerated().map { i, entry in
            MaskOverlay(mask: entry.mask, fill: theme.classColor(entry.label), fillOpacity: 0.45, boundary: theme.classColor(entry.label),
                        boundaryOpacity: 0.9, cacheKey: s.imageGeneration > 0 ? "compare \(set) \(i) on image \(s.imageGeneration)" : nil)
        }
        for (i, object) in (s.groundTruth ?? []).enumerated() where object.mask.size == image.size {
            overlays.append(MaskOverlay(mask: object.mask, fill: theme.maskBoundary, fillOpacity: 0, boundary: theme.maskBoundary,
                                        boundaryOpacity: 1, cacheKey: s.imageGeneration > 0 ? "ground truth \(i) on image \(s.imageGeneration)" : nil))
        }
        return overlays
    }

    /// The compare view's two images in the terminal's own pixels (kitty, sixel), as the main
    /// pane's: the photo once per image and zoom, each set's masks as the overlay above it.
    static func compareGraphics(_ s: WorkbenchState, image: RGBImage, theme: Theme) -> [PaneGraphics] {
        let v = s.compareView
        guard !v.showClasses, s.predictions.indices.contains(v.a), s.predictions.indices.contains(v.b) else { return [] }
        let (paneA, paneB) = comparePanes(WorkbenchLayout(s).screenAboveStatus)
        let grid = s.display
        return [(paneA, v.a), (paneB, v.b)].enumerated().compactMap { lane, entry in
            let (pane, set) = entry
            guard pane.rows > 1 else { return nil }
            let imageArea = compareImageArea(pane)
            let shown = grid.imageLayout(image.size, area: imageArea, viewport: s.viewport)
            guard shown.shownWidth > 0, shown.shownHeight > 0 else { return nil }
            let samples = ImageSampler.Grid(shown, imageWidth: image.width, imageHeight: image.height)
            let photoCache = s.imageGeneration > 0 ? "image \(s.imageGeneration)" : nil
            let masks = compareOverlays(s, set: set, image: image, theme: theme)
            let maskKeys = masks.map(\.cacheKey)
            return PaneGraphics(
                lane: lane, cells: grid.imageCells(shown, in: imageArea), size: PixelSize(width: shown.shownWidth, height: shown.shownHeight),
                cell: PixelSize(width: grid.cellWidth, height: grid.cellHeight),
                photoKey: "\(photoCache ?? "pixels \(image.pixels.hashValue)") \(shown)",
                photo: { photoPixels(image, layout: shown, grid: samples, cacheKey: photoCache, cache: s.samples) },
                enlarged: nil,
                overlayKey: maskKeys.contains(where: { $0 == nil }) ? nil : "compare \(set) \(shown) \(maskKeys)",
                overlay: { maskPixels(masks, image: image, layout: shown, grid: samples, cache: s.samples) })
        }
    }

    static func drawCompareClasses(_ s: WorkbenchState, area: CellRect, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        let v = s.compareView
        let fg = colored ? theme.panelForeground : nil
        var row = area.row
        func put(_ text: String, bold: Bool = false) {
            guard row < area.row + area.rows else { return }
            buffer.write(String(text.prefix(area.columns)), row: row, column: area.column, foreground: fg, bold: bold)
            row += 1
        }
        put(" Per class: B \(s.predictions[v.b].name) \u{2212} A \(s.predictions[v.a].name)   Tab images  c close", bold: true)
        guard let c = v.comparison else {
            put(v.comparisonFailure.map { " cannot compare: \($0)" } ?? " comparing\u{2026} (bootstrap over images)")
            return
        }
        put(String(format: " %@: A %@  B %@  \u{0394} %+.4f   95%% CI [%+.4f, %+.4f]  (%d bootstrap replicates, seed %llu)",
                   c.headlineName, formatMetric(c.headline.a), formatMetric(c.headline.b), c.headline.delta,
                   c.interval.low, c.interval.high, c.replicates, c.seed))
        put("")
        let metrics = c.perClass.first?.metrics.map(\.0).prefix(6) ?? []
        put(" " + "class".padding(toLength: 16, withPad: " ", startingAt: 0) + metrics.map { " " + ("\u{0394}" + $0).leftPadded(to: 8) }.joined(), bold: true)
        for entry in c.perClass {
            let values = entry.metrics.prefix(6).map { " " + ($0.1.delta.isNaN ? "-" : String(format: "%+.3f", $0.1.delta)).leftPadded(to: 8) }
            put(" " + String(entry.name.prefix(16)).padding(toLength: 16, withPad: " ", startingAt: 0) + values.joined())
        }
    }
}
