import SegCore
import SegModels

/// Where each part of the workbench goes for a terminal size: the image list on the left when
/// there is room, the image beside it, the status line at the bottom. With two models the image
/// area holds two panes of the same size, side by side (stacked on a narrow terminal), each under
/// a header line, showing the same region of the image.
public struct WorkbenchLayout {
    public static let listWidth = 24
    /// Each prediction set shown in the list adds a column of this width (" .82").
    public static let scoreWidth = 5
    public static let shownPredictionSets = 2
    public let list: CellRect?
    /// The class picker is in the list's place, beside the image (which stays in view with its
    /// mask); false when it is open on a terminal too narrow for a side column (a box over it).
    public let pickerBeside: Bool
    /// Where the image of the chosen pane is drawn (the whole area right of the list with one model).
    public private(set) var imageArea: CellRect
    /// Per model, where its pane shows the image.
    public let paneAreas: [CellRect]
    /// Per model, its pane's header line (empty with one model).
    public let paneHeaders: [CellRect]
    public let statusRow: Int
    /// Everything but the status line: where the full-screen views (metrics, failures) draw.
    public let screenAboveStatus: CellRect
    public let image: ImageLayout
    /// Display pixels per cell, and what draws them.
    public let grid: DisplayGrid

    public init(_ s: WorkbenchState) {
        var picking = false
        if case .classPicker = s.overlay { picking = true }
        let showList = (s.showList || picking) && s.columns >= 80
        pickerBeside = picking && showList
        let width = Self.listWidth + Self.scoreWidth * min(s.predictions.count, Self.shownPredictionSets)
        list = showList ? CellRect(column: 0, row: 0, columns: width, rows: s.rows - 1) : nil
        let left = showList ? width + 1 : 0  // one column for the separator
        let view = CellRect(column: left, row: 0, columns: s.columns - left, rows: s.rows - 1)
        screenAboveStatus = CellRect(column: 0, row: 0, columns: s.columns, rows: s.rows - 1)
        statusRow = s.rows - 1
        if s.lanes.count > 1 {
            let panes = Self.abPanes(view)
            paneHeaders = panes.map { CellRect(column: $0.column, row: $0.row, columns: $0.columns, rows: 1) }
            paneAreas = panes.map { CellRect(column: $0.column, row: $0.row + 1, columns: $0.columns, rows: $0.rows - 1) }
        } else {
            paneHeaders = []
            paneAreas = [view]
        }
        imageArea = paneAreas[min(s.chosenLane, paneAreas.count - 1)]
        grid = s.display
        image = grid.imageLayout(s.image?.size ?? PixelSize(width: 1, height: 1), area: imageArea, viewport: s.viewport)
    }

    /// Two panes with a column between them, side by side when each still gets 40 columns, else
    /// one above the other. `equal`: both the same size, so both show exactly the same pixels
    /// (else the second takes what is left).
    static func abPanes(_ view: CellRect, equal: Bool = true) -> [CellRect] {
        if view.columns >= 81 {
            let w = (view.columns - 1) / 2
            return [CellRect(column: view.column, row: view.row, columns: w, rows: view.rows),
                    CellRect(column: view.column + w + 1, row: view.row, columns: equal ? w : view.columns - w - 1, rows: view.rows)]
        }
        let h = view.rows / 2
        return [CellRect(column: view.column, row: view.row, columns: view.columns, rows: h),
                CellRect(column: view.column, row: view.row + h, columns: view.columns, rows: equal ? h : view.rows - h)]
    }

    /// The same layout seen from pane `k`: its `imageArea` is that pane's, so `cell(for:)` and the
    /// drawing of prompts land in it.
    public func pane(_ k: Int) -> WorkbenchLayout {
        var copy = self
        copy.imageArea = paneAreas[k]
        return copy
    }

    /// The image pixel under the centre of a cell of any pane, or nil outside the image: the
    /// centre of the part of the cell that shows the image (with half blocks, an image may begin
    /// or end halfway down a cell).
    public func imagePixel(column: Int, row: Int, _ s: WorkbenchState) -> PixelPoint? {
        guard let size = s.image?.size, let area = paneAreas.first(where: { $0.contains(column: column, row: row) })
        else { return nil }
        let left = (column - area.column) * grid.cellWidth - image.offsetX, top = (row - area.row) * grid.cellHeight - image.offsetY
        let x0 = max(left, 0), x1 = min(left + grid.cellWidth, image.shownWidth)
        let y0 = max(top, 0), y1 = min(top + grid.cellHeight, image.shownHeight)
        guard x0 < x1, y0 < y1 else { return nil }
        return image.imagePixel(shownX: Double(x0 + x1) / 2, shownY: Double(y0 + y1) / 2, imageSize: size)
    }

    /// The image pixel under a mouse report in terminal pixels (0-based from the top-left of the
    /// screen), or nil outside the image or when the cell's pixel size is unknown.
    public func imagePixel(terminalX x: Int, terminalY y: Int, _ s: WorkbenchState) -> PixelPoint? {
        guard let size = s.image?.size, let cell = grid.cellPixels, cell.width > 0, cell.height > 0,
              let area = paneAreas.first(where: { $0.contains(column: x / cell.width, row: y / cell.height) })
        else { return nil }
        // Terminal pixels to display pixels of the pane (the same thing with graphics).
        let dx = (Double(x - area.column * cell.width) + 0.5) * Double(grid.cellWidth) / Double(cell.width)
        let dy = (Double(y - area.row * cell.height) + 0.5) * Double(grid.cellHeight) / Double(cell.height)
        return image.imagePixel(shownX: dx - Double(image.offsetX), shownY: dy - Double(image.offsetY), imageSize: size)
    }

    /// The cell showing an image pixel (its centre), or nil when it is not on screen. `clamped`:
    /// a pixel off screen gets the nearest cell at the edge of the view (a box corner still drawn).
    public func cell(for p: PixelPoint, clamped: Bool = false) -> (column: Int, row: Int)? {
        var dx = (Double(p.x) + 0.5 - image.originX) * image.scaleX
        var dy = (Double(p.y) + 0.5 - image.originY) * image.scaleY
        if clamped {
            dx = min(max(dx, 0), Double(max(image.shownWidth - 1, 0)))
            dy = min(max(dy, 0), Double(max(image.shownHeight - 1, 0)))
        }
        guard dx >= 0, dy >= 0, dx < Double(image.shownWidth), dy < Double(image.shownHeight) else { return nil }
        let column = imageArea.column + (image.offsetX + Int(dx.rounded(.down))) / grid.cellWidth
        let row = imageArea.row + (image.offsetY + Int(dy.rounded(.down))) / grid.cellHeight
        guard imageArea.contains(column: column, row: row) else { return nil }
        return (column, row)
    }

    /// The cells the shown image covers (its last row and column may be covered in part): where
    /// graphics are placed.
    public var imageCells: CellRect { grid.imageCells(image, in: imageArea) }

    /// The list line under a cell (0: the title), or nil outside the list.
    public func listRow(column: Int, row: Int) -> Int? {
        guard let list, list.contains(column: column, row: row) else { return nil }
        return row - list.row
    }

    /// The first image shown in the list, so that the current one is always visible.
    /// The legend of the prediction columns at the bottom of the list, when the list has room.
    public func listLegend(_ s: WorkbenchState) -> [String] {
        guard let list else { return [] }
        let sets = s.predictions.prefix(Self.shownPredictionSets)
        let legend = zip(Self.columnLetters, sets).map { "\($0) \($1.name)" }
            + (sets.first(where: { $0.scores != nil })?.scores.map { ["per image: \($0.metric)"] } ?? [])
        return list.rows > legend.count + 3 ? legend : []
    }

    public static let columnLetters = ["A", "B"]

    public func listTop(_ s: WorkbenchState) -> Int {
        guard let list else { return 0 }
        let visible = max(list.rows - 1 - listLegend(s).count, 1)
        return min(max(0, s.current - visible / 2), max(0, s.images.count - visible))
    }

    public func imageIndex(listRow: Int, _ s: WorkbenchState) -> Int? {
        guard let list, listRow >= 1, listRow < list.rows - listLegend(s).count else { return nil }
        let index = listTop(s) + listRow - 1
        return s.images.indices.contains(index) ? index : nil
    }
}

extension Workbench {
    public static func render(_ s: WorkbenchState, theme: Theme = .dark) -> CellBuffer {
        let theme = theme.adapted(to: s.colorMode)
        var buffer = CellBuffer(rows: s.rows, columns: s.columns)
        guard s.rows > 0, s.columns > 0 else { return buffer }
        if s.isTooSmall {
            let text = "segterm needs at least \(WorkbenchState.minimumSize.columns)x\(WorkbenchState.minimumSize.rows); this terminal is \(s.columns)x\(s.rows)"
            var row = 0
            var rest = Substring(text)
            while !rest.isEmpty && row < s.rows {
                buffer.write(String(rest.prefix(s.columns)), row: row, column: 0)
                rest = rest.dropFirst(s.columns)
                row += 1
            }
            return buffer
        }
        let layout = WorkbenchLayout(s)
        let colored = s.colorMode != .none
        if !s.overlay.coversScreen { drawWorkArea(s, layout: layout, into: &buffer, theme: theme, colored: colored) }
        drawStatus(s, layout: layout, into: &buffer, theme: theme, colored: colored)
        switch s.overlay {
        case .none: break
        case .help: drawHelp(s, into: &buffer, theme: theme, colored: colored)
        case .classPicker(let filter, let highlighted):
            // Beside the image when there is room (drawn with the work area), else over it.
            if !layout.pickerBeside {
                drawPicker(s, filter: filter, highlighted: highlighted, into: &buffer, theme: theme, colored: colored)
            }
        case .phrase: break  // on the status line
        case .metrics: drawMetrics(s, area: layout.screenAboveStatus, into: &buffer, theme: theme, colored: colored)
        case .failures: drawFailures(s, area: layout.screenAboveStatus, into: &buffer, theme: theme, colored: colored)
        case .compare: drawCompare(s, area: layout.screenAboveStatus, into: &buffer, theme: theme, colored: colored)
        }
        return buffer
    }

    /// The image list, each model's pane with its masks and prompts, and the pane headers.
    static func drawWorkArea(_ s: WorkbenchState, layout: WorkbenchLayout, into buffer: inout CellBuffer, theme: Theme,
                             colored: Bool) {
        if let list = layout.list {
            if layout.pickerBeside, case .classPicker(let filter, let highlighted) = s.overlay {
                drawPicker(s, filter: filter, highlighted: highlighted, in: list, into: &buffer, theme: theme, colored: colored)
            } else {
                drawList(s, layout: layout, list: list, into: &buffer, theme: theme, colored: colored)
            }
        }
        for k in layout.paneAreas.indices {
            let pane = layout.pane(k)
            if s.image != nil, s.display.isGraphics {
                // The terminal draws the pixels (`graphics`): kitty's placeholder cells name the image;
                // otherwise the cells stay blank under it.
                if s.display.mode == .kitty && s.display.placeholders {
                    drawKittyPlaceholders(s, lane: k, cells: pane.imageCells, into: &buffer)
                }
            } else if let image = s.image {
                ImagePainter.paint(image, overlays: overlays(s, lane: k, theme: theme), layout: pane.image, into: &buffer,
                                   area: pane.imageArea, colorMode: s.colorMode, symbols: s.display.symbols,
                                   cacheKey: s.imageGeneration > 0 ? "image \(s.imageGeneration)" : nil, cache: s.samples)
                drawPrompts(s, layout: pane, into: &buffer, theme: theme, colored: colored)
                drawFailureBox(s, layout: pane, into: &buffer, theme: theme, colored: colored)
            } else {
                let text = s.imageError.map { "cannot open: \($0)" } ?? "loading \(s.currentEntry?.name ?? "")…"
                buffer.write(String(text.prefix(pane.imageArea.columns)), row: pane.imageArea.row + pane.imageArea.rows / 2,
                             column: pane.imageArea.column + max(0, (pane.imageArea.columns - text.count) / 2))
            }
        }
        drawPaneHeaders(s, layout: layout, into: &buffer, theme: theme, colored: colored)
    }

    /// The cells of model `lane`'s pane that show the photo, as kitty Unicode placeholders.
    static func drawKittyPlaceholders(_ s: WorkbenchState, lane: Int, cells area: CellRect, into buffer: inout CellBuffer) {
        let id = KittyImageIDs(base: s.display.imageIDBase).photo(lane: lane)
        guard let cells = KittyGraphics.placeholderCells(id: id, columns: area.columns, rows: area.rows) else { return }
        let color = KittyGraphics.placeholderColor(id: id)
        let top = area.row, left = area.column
        for (r, line) in cells.enumerated() where top + r < buffer.rows {
            for (c, text) in line.enumerated() where left + c < buffer.columns {
                let scalars = Array(text.unicodeScalars)
                buffer[top + r, left + c] = Cell(scalars[0], marks: Array(scalars.dropFirst()), foreground: color)
            }
        }
    }

    /// Accepted objects in their class colours, the selected one brighter, model `lane`'s mask
    /// being made on top.
    static func overlays(_ s: WorkbenchState, lane: Int = 0, theme: Theme) -> [MaskOverlay] {
        let opacity = WorkbenchState.opacitySteps[s.opacityStep]
        // Cache keys only for images loaded through the reducer, whose generation is unique.
        func key(_ name: String) -> String? { s.imageGeneration > 0 ? "\(name) on image \(s.imageGeneration)" : nil }
        var result: [MaskOverlay] = volumeOverlays(s, theme: theme)
        for object in s.currentObjects where object.id != s.editor.refining {
            let color = theme.classColor(max(0, (s.objectClasses.firstIndex(of: object.className) ?? 0)))
            let selected = object.id == s.selectedObject
            result.append(MaskOverlay(mask: object.mask, fill: color, fillOpacity: selected ? min(1, opacity + 0.3) : opacity,
                                      boundary: selected ? theme.maskBoundary : color, boundaryOpacity: selected ? 1 : 0.8,
                                      cacheKey: key("object \(object.revision)")))
        }
        // Proposals under review: the pending ones in the drafts' style (a faint fill, outlined),
        // the one under review in its class colour with a bright outline. Each is drawn from its
        // runs, cached by its place in the list, so a keystroke redraws only what it changed.
        let proposals = s.currentProposals
        for (i, proposal) in proposals.enumerated() where proposal.isPending && i != s.proposalCursor && i != s.editor.fixingProposal {
            result.append(MaskOverlay(runs: proposal.rle, fill: theme.boxColor, fillOpacity: opacity * 0.3, boundary: theme.boxColor,
                                      boundaryOpacity: 0.9, cacheKey: key("proposal \(i)")))
        }
        if let i = s.proposalCursor, proposals.indices.contains(i), proposals[i].isPending, s.editor.fixingProposal == nil {
            let color = theme.classColor(max(0, s.objectClasses.firstIndex(of: proposals[i].className) ?? 0))
            result.append(MaskOverlay(runs: proposals[i].rle, fill: color, fillOpacity: min(1, opacity + 0.2), boundary: theme.maskBoundary,
                                      boundaryOpacity: 1, cacheKey: key("proposal \(i)")))
        }
        if let focus = s.failureFocus {
            // The failure: the model's mask filled, the ground truth outlined around it.
            if let prediction = focus.prediction, prediction.size == s.image?.size {
                result.append(MaskOverlay(mask: prediction, fill: theme.negativePoint, fillOpacity: 0.45, boundary: theme.negativePoint,
                                          boundaryOpacity: 0.9, cacheKey: key("failure \(focus.set) \(focus.index)")))
            }
            for (i, object) in (s.groundTruth ?? []).enumerated() where object.mask.size == s.image?.size {
                result.append(MaskOverlay(mask: object.mask, fill: theme.positivePoint, fillOpacity: 0, boundary: theme.positivePoint,
                                          boundaryOpacity: 1, cacheKey: key("ground truth \(i)")))
            }
        }
        if s.lanes.indices.contains(lane), let mask = s.lanes[lane].currentMask {
            let answer = s.lanes[lane]
            result.append(MaskOverlay(mask: mask, fill: theme.maskFill, fillOpacity: opacity, boundary: theme.maskBoundary,
                                      boundaryOpacity: theme.boundaryOpacity,
                                      cacheKey: key("lane \(lane) candidate \(answer.candidatesRequest) \(answer.selectedCandidate)")))
        }
        return result
    }

    static let positiveGlyph: Unicode.Scalar = "\u{271A}"  // ✚
    static let negativeGlyph: Unicode.Scalar = "\u{2716}"  // ✖
    static let cursorGlyph: Unicode.Scalar = "\u{25CB}"    // ○

    /// Points, the box and the keyboard cursor, drawn over the image cells they fall in.
    static func drawPrompts(_ s: WorkbenchState, layout: WorkbenchLayout, into buffer: inout CellBuffer, theme: Theme,
                            colored: Bool) {
        func put(_ glyph: Unicode.Scalar, at p: PixelPoint, color: RGB, bold: Bool = true) {
            guard let (column, row) = layout.cell(for: p) else { return }
            let under = buffer[row, column]
            let background = colored ? (under.background ?? under.foreground) : nil
            buffer[row, column] = Cell(glyph, foreground: colored ? color : nil, background: background, bold: bold)
        }
        var boxes: [PromptBox] = []
        if let box = s.editor.prompts.box { boxes.append(box) }
        if let start = s.boxStart ?? s.dragStart {
            boxes.append(PromptBox(x0: Double(start.x), y0: Double(start.y), x1: Double(s.cursor.x), y1: Double(s.cursor.y)))
        }
        for box in boxes { drawBox(box, layout: layout, into: &buffer, color: theme.boxColor, colored: colored) }
        put(cursorGlyph, at: s.cursor, color: theme.maskBoundary, bold: false)
        for point in s.editor.prompts.points {
            put(point.positive ? positiveGlyph : negativeGlyph, at: point.pixel,
                color: point.positive ? theme.positivePoint : theme.negativePoint)
        }
    }

    static func drawBox(_ box: PromptBox, layout: WorkbenchLayout, into buffer: inout CellBuffer, color: RGB, colored: Bool) {
        let pixels = box.pixels
        let corners = [PixelPoint(x: pixels.minX, y: pixels.minY), PixelPoint(x: pixels.maxX - 1, y: pixels.maxY - 1)]
        guard let a = layout.cell(for: corners[0], clamped: true), let b = layout.cell(for: corners[1], clamped: true) else { return }
        func put(_ glyph: Unicode.Scalar, _ column: Int, _ row: Int) {
            guard layout.imageArea.contains(column: column, row: row) else { return }
            let under = buffer[row, column]
            buffer[row, column] = Cell(glyph, foreground: colored ? color : nil, background: colored ? under.background ?? under.foreground : nil)
        }
        for column in a.column...max(a.column, b.column) {
            put("\u{2500}", column, a.row)
            put("\u{2500}", column, b.row)
        }
        for row in a.row...max(a.row, b.row) {
            put("\u{2502}", a.column, row)
            put("\u{2502}", b.column, row)
        }
        put("\u{250C}", a.column, a.row); put("\u{2510}", b.column, a.row)
        put("\u{2514}", a.column, b.row); put("\u{2518}", b.column, b.row)
    }

    static func drawList(_ s: WorkbenchState, layout: WorkbenchLayout, list: CellRect, into buffer: inout CellBuffer,
                         theme: Theme, colored: Bool) {
        let fg = colored ? theme.panelForeground : nil
        let sets = Array(s.predictions.prefix(WorkbenchLayout.shownPredictionSets))
        let columnsText = sets.indices.map { " " + WorkbenchLayout.columnLetters[$0].leftPadded(to: WorkbenchLayout.scoreWidth - 1) }.joined()
        let title = " Images \(s.current + 1)/\(s.images.count)"
        buffer.write(title.padding(toLength: max(list.columns - columnsText.count, 0), withPad: " ", startingAt: 0) + columnsText,
                     row: list.row, column: list.column, foreground: fg, bold: true)
        // A legend under the images says which set each column is and what its number means.
        let legend = layout.listLegend(s)
        let legendRows = legend.count
        let top = layout.listTop(s)
        for line in 1..<max(list.rows - legendRows, 1) {
            let index = top + line - 1
            guard s.images.indices.contains(index) else { break }
            let entry = s.images[index]
            let count = s.accepted[entry.path]?.count ?? 0
            // Reviewing proposals: ● proposals left on the image, ✔ all reviewed.
            let review = s.isReviewed(entry).map { $0 ? "\u{2714}" : "\u{25CF}" } ?? ""
            let mark = (count > 0 ? "\(count)\u{2713}" : "") + review
            let scores = sets.map { " " + Self.scoreText($0, stem: entry.stem).leftPadded(to: WorkbenchLayout.scoreWidth - 1) }.joined()
            let width = list.columns - 2 - mark.count - scores.count
            var name = entry.name
            if name.count > width { name = String(name.prefix(max(width - 1, 0))) + "\u{2026}" }
            let text = (index == s.current ? "\u{25B6}" : " ") + name.padding(toLength: max(width, 0), withPad: " ", startingAt: 0) + " " + mark
                + scores
            let style = theme.row(selected: index == s.current, colored: colored)
            buffer.write(text, row: list.row + line, column: list.column, foreground: fg,
                         background: style.background, reverse: style.reverse)
        }
        for (k, text) in legend.enumerated() {
            buffer.write(" " + text, row: list.row + list.rows - legendRows + k, column: list.column, foreground: fg)
        }
        for row in list.row..<(list.row + list.rows) {
            buffer.write("\u{2502}", row: row, column: list.column + list.columns, foreground: fg)
        }
    }

    /// A prediction set's number for one image: "…" while it is computed, "-" when undefined or
    /// absent, else two decimals without the leading zero (".82", "1.0").
    static func scoreText(_ column: PredictionColumn, stem: String) -> String {
        guard let scores = column.scores else { return column.failed ? "!" : "\u{2026}" }
        guard let value = scores.byStem[stem], value >= 0 else { return "-" }
        if value >= 0.995 { return "1.0" }
        return "." + String(format: "%02d", Int((value * 100).rounded()))
    }

    static func activityText(_ lane: ModelLane) -> String {
        switch lane.activity {
        case .idle: lane.prepared ? "ready" : "idle"
        case .loading: "loading image…"
        case .preparing: lane.preparingSeconds > 0 ? "preparing image… \(lane.preparingSeconds) s" : "preparing image…"
        case .ready(let ms): "ready (prepared in \(ms) ms)"
        case .readyAhead(let ms): "ready (prepared ahead, \(ms) ms)"
        case .working: "working…"
        case .done(let ms): "done in \(ms) ms"
        case .failed(let reason): "failed: \(reason)"
        }
    }

    /// The status line's parts, most important kept: when they do not fit the width, the least
    /// important go first (the image's size, "? help", zoom), so the counts and the model's latency
    /// stay on screen; what still does not fit is cut at the end.
    static func statusText(_ s: WorkbenchState, layout: WorkbenchLayout) -> String {
        // (text, priority): higher stays longer.
        var parts: [(text: String, priority: Int)] = []
        if let volume = volumeStatus(s) {
            parts += volume
        } else if let entry = s.currentEntry {
            parts.append(("\(s.current + 1)/\(s.images.count) \(entry.name)", 8))
        }
        if let image = s.image { parts.append(("\(image.width)x\(image.height)", 1)) }
        // What the user came to this image for goes first, where a narrow terminal still shows it.
        if let focus = s.failureFocus {
            parts.append((failureText(focus, position: s.failureBrowser.selected, of: s.failureBrowser.shown.count), 9))
        }
        if let message = s.message { parts.append((message, 6)) }
        if let debugIO = s.debugIO { parts.append((debugIO, 8)) }  // asked for with --debug-io
        let lane = s.lane
        parts.append(((s.isAB ? "Enter takes \(WorkbenchLayout.columnLetters[s.chosenLane]) " : "") + "\(lane.name): \(activityText(lane))", 8))
        let points = s.editor.prompts.points.count
        if points > 0 || s.editor.prompts.box != nil {
            parts.append(("\(points) pt" + (s.editor.prompts.box != nil ? " + box" : ""), 9))
        }
        if lane.candidates.count > 1 {
            let c = lane.candidates[lane.selectedCandidate]
            parts.append(("mask \(lane.selectedCandidate + 1)/\(lane.candidates.count) score \(String(format: "%.2f", c.score))", 7))
        }
        if let mask = lane.currentMask { parts.append(("\(mask.area) px", 8)) }
        if let match = lane.currentMatch {
            parts.append(("GT IoU \(String(format: "%.3f", match.iou)) \(match.className)", 8))
        } else if let count = s.groundTruthObjects {
            parts.append(("GT \(count) obj", 3))
        }
        parts.append(("objects \(s.currentObjects.count)", 9))
        if !s.proposals.isEmpty {
            if let brush = s.brush { parts.append(("\(brush.erase ? "eraser" : "brush") r\(brush.radius)", 9)) }
            if let proposal = s.currentProposal, let index = s.proposalCursor {
                parts.append(("proposal \(index + 1)/\(s.currentProposals.count) \(proposal.className) "
                    + "\(String(format: "%.2f", proposal.score)) \(proposal.source.prompt)", 9))
            }
            let image = s.imageReviewCounts, set = s.setReviewCounts
            parts.append(("image \(image.accepted)/\(image.rejected)/\(image.fixed)/\(image.left)", 8))
            parts.append(("set \(set.text)", 7))
        } else if let brush = s.brush {
            parts.append(("\(brush.erase ? "eraser" : "brush") r\(brush.radius)", 9))
        }
        parts.append(("zoom \(Int((layout.image.scaleY * 100).rounded()))%", 2))
        parts.append(("? help", 1))
        return " " + fitted(parts, width: s.columns - 1).joined(separator: "  ")
    }

    /// `parts` in their order, without the least important ones (the later of equals first)
    /// until the rest, two spaces apart, fit in `width`.
    static func fitted(_ parts: [(text: String, priority: Int)], width: Int) -> [String] {
        var kept = parts
        func length() -> Int { kept.reduce(0) { $0 + $1.text.count } + 2 * max(kept.count - 1, 0) }
        while length() > width, kept.count > 1 {
            let lowest = kept.map(\.priority).min()!
            kept.remove(at: kept.lastIndex { $0.priority == lowest }!)
        }
        return kept.map(\.text)
    }

    /// With two models, each pane's header: its letter and model, what it is doing, its mask's
    /// size and IoU against the best-matching true object; the chosen one (Enter accepts it) stands out.
    static func drawPaneHeaders(_ s: WorkbenchState, layout: WorkbenchLayout, into buffer: inout CellBuffer, theme: Theme,
                                colored: Bool) {
        for (k, header) in layout.paneHeaders.enumerated() where s.lanes.indices.contains(k) {
            let lane = s.lanes[k], chosen = k == s.chosenLane
            var text = " \(WorkbenchLayout.columnLetters[k]) \(lane.name)  \(activityText(lane))"
            if let mask = lane.currentMask { text += "  \(mask.area) px" }
            if let match = lane.currentMatch { text += "  GT IoU \(String(format: "%.3f", match.iou))" }
            text += chosen ? "  \u{25C0} Enter" : "  (Tab)"
            let fg = colored ? (chosen ? theme.statusForeground : theme.panelForeground) : nil
            let bg = colored && chosen ? theme.statusBackground : nil
            buffer.write(String(text.prefix(header.columns)).padding(toLength: header.columns, withPad: " ", startingAt: 0),
                         row: header.row, column: header.column, foreground: fg, background: bg, bold: chosen,
                         reverse: chosen && !colored)
        }
        // The line between the panes.
        if layout.paneAreas.count == 2 {
            let a = layout.paneAreas[0], b = layout.paneAreas[1]
            let fg = colored ? theme.panelForeground : nil
            if a.row == b.row {
                for row in layout.paneHeaders[0].row..<(a.row + a.rows) { buffer.write("\u{2502}", row: row, column: b.column - 1, foreground: fg) }
            }
        }
    }

    static func drawStatus(_ s: WorkbenchState, layout: WorkbenchLayout, into buffer: inout CellBuffer, theme: Theme,
                           colored: Bool) {
        let fg = colored ? theme.statusForeground : nil, bg = colored ? theme.statusBackground : nil
        buffer.fillRow(layout.statusRow, with: Cell(" ", foreground: fg, background: bg, reverse: !colored))
        if case .phrase(let typed) = s.overlay {
            let hint = "   Enter finds every instance, Esc cancels"
            let text = " find: " + typed + "\u{2581}"
            buffer.write(String((text + (text.count + hint.count < s.columns ? hint : "")).suffix(max(0, s.columns - 1))),
                         row: layout.statusRow, column: 0, foreground: fg, background: bg, bold: true, reverse: !colored)
            return
        }
        buffer.write(statusText(s, layout: layout), row: layout.statusRow, column: 0, foreground: fg, background: bg,
                     reverse: !colored)
    }

    /// Above the keys in the help: what the mouse does (not rebindable).
    static let helpMouseLines = [
        "left click       positive point (on an object, nothing in progress: select it)",
        "right click      negative point",
        "left drag        box",
        "wheel            zoom at the pointer",
        "",
    ]

    /// How many of the help's lines fit at once: the box's rows inside its frame, less the
    /// line that says how to scroll or close.
    static func helpRows(_ s: WorkbenchState) -> Int {
        max(1, min(s.rows - 2, helpLines(s).count + 4) - 3)
    }

    /// The mouse, then every action with the keys that do it now.
    static func helpLines(_ s: WorkbenchState) -> [String] { helpMouseLines + s.keymap.helpLines }

    static func drawBoxFrame(_ lines: [String], title: String? = nil, highlight: Int? = nil, into buffer: inout CellBuffer,
                             theme: Theme, colored: Bool) {
        let width = min(buffer.columns - 2, (lines.map(\.count).max() ?? 0) + 4)
        let height = min(buffer.rows - 2, lines.count + 2)
        guard width > 4, height > 2 else { return }
        let left = (buffer.columns - width) / 2, top = (buffer.rows - height) / 2
        let fg = colored ? theme.statusForeground : nil, bg = colored ? theme.statusBackground : nil
        for row in top..<(top + height) {
            buffer.write(String(repeating: " ", count: width), row: row, column: left, foreground: fg, background: bg)
        }
        buffer.write("\u{250C}" + String(repeating: "\u{2500}", count: width - 2) + "\u{2510}", row: top, column: left, foreground: fg, background: bg)
        buffer.write("\u{2514}" + String(repeating: "\u{2500}", count: width - 2) + "\u{2518}", row: top + height - 1, column: left, foreground: fg, background: bg)
        if let title { buffer.write(" \(title) ", row: top, column: left + 2, foreground: fg, background: bg, bold: true) }
        for (i, line) in lines.prefix(height - 2).enumerated() {
            let row = top + 1 + i
            buffer.write("\u{2502}", row: row, column: left, foreground: fg, background: bg)
            buffer.write("\u{2502}", row: row, column: left + width - 1, foreground: fg, background: bg)
            let style = theme.row(selected: highlight == i, colored: colored, background: bg)
            buffer.write(String(line.prefix(width - 4)), row: row, column: left + 2, foreground: fg,
                         background: style.background, bold: highlight == i, reverse: style.reverse)
        }
    }

    /// The mouse, then every action with the keys that do it now (the user's keymap); a window
    /// of them when the terminal is too short, scrolled with the arrows, j / k and the page keys.
    static func drawHelp(_ s: WorkbenchState, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        let all = helpLines(s)
        let rows = helpRows(s)
        let top = min(s.helpTop, max(0, all.count - rows))
        let shown = Array(all[top..<min(all.count, top + rows)])
        let footer = all.count > rows
            ? "\(top + 1)–\(top + shown.count) of \(all.count): \u{2191}\u{2193} j k PgUp PgDn scroll, any other key closes"
            : "press any key"
        drawBoxFrame(shown + [footer], title: "keys", into: &buffer, theme: theme, colored: colored)
    }

    /// The class picker's lines: the filter, the choices around the highlighted one (at most
    /// `room` of them), and the keys. `highlight`: the line of the highlighted choice.
    static func pickerLines(_ s: WorkbenchState, filter: String, highlighted: Int, room: Int,
                            hint: [String]) -> (lines: [String], highlight: Int?) {
        let choices = pickerChoices(s, filter: filter)
        var lines = ["class: \(filter)\u{2581}", ""]
        let shown = max(1, min(choices.count, room))
        let first = min(max(0, highlighted - shown + 1), max(0, choices.count - shown))
        for choice in choices[first..<min(choices.count, first + shown)] { lines.append(choice) }
        if choices.isEmpty { lines.append(filter.isEmpty ? "(type a class name)" : "Enter: new class \"\(filter)\"") }
        lines += [""] + hint
        return (lines, choices.isEmpty ? nil : 2 + highlighted - first)
    }

    /// Over the image, in a box (a terminal too narrow for a side column).
    static func drawPicker(_ s: WorkbenchState, filter: String, highlighted: Int, into buffer: inout CellBuffer,
                           theme: Theme, colored: Bool) {
        let picker = pickerLines(s, filter: filter, highlighted: highlighted, room: buffer.rows - 8,
                                 hint: ["type to filter, Enter accepts, Esc cancels"])
        drawBoxFrame(picker.lines, title: "accept as", highlight: picker.highlight, into: &buffer, theme: theme, colored: colored)
    }

    /// In the image list's place, so the image and the mask being accepted stay in view.
    static func drawPicker(_ s: WorkbenchState, filter: String, highlighted: Int, in area: CellRect, into buffer: inout CellBuffer,
                           theme: Theme, colored: Bool) {
        let picker = pickerLines(s, filter: filter, highlighted: highlighted, room: area.rows - 7,
                                 hint: ["type to filter", "Enter accepts", "Esc cancels"])
        let fg = colored ? theme.panelForeground : nil
        buffer.write(" accept as".padding(toLength: area.columns, withPad: " ", startingAt: 0), row: area.row, column: area.column,
                     foreground: fg, bold: true)
        for (i, line) in picker.lines.prefix(area.rows - 1).enumerated() {
            let style = theme.row(selected: i == picker.highlight, colored: colored)
            buffer.write(String((" " + line).prefix(area.columns)).padding(toLength: area.columns, withPad: " ", startingAt: 0),
                         row: area.row + 1 + i, column: area.column, foreground: fg, background: style.background,
                         bold: i == picker.highlight, reverse: style.reverse)
        }
    }
}

extension String {
    /// Right-aligned in `width` columns (longer strings are kept whole).
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
