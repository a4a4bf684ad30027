import SegCore
import SegModels

/// Input in the workbench: the overlay that is open takes it (each with a reducer of its own),
/// else the keymap turns keys into the main view's actions, and the mouse makes prompts.
extension Workbench {
    // MARK: Input

    static func handleInput(_ input: InputEvent, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        if case .pixelMouse(let x, let y, let action) = input {
            // The image takes the pixel under the pointer; everything else is laid out in cells.
            guard let cell = s.display.cellPixels, cell.width > 0, cell.height > 0 else { return }
            let column = x / cell.width, row = y / cell.height
            if s.overlay == .none {
                let pixel = WorkbenchLayout(s).imagePixel(terminalX: x, terminalY: y, s)
                handleMouse(column: column, row: row, action, pixel: .some(pixel), &s, &effects)
            } else {
                handleInput(.mouse(column: column, row: row, action), &s, &effects)
            }
            return
        }
        if case .resize(let rows, let columns) = input {
            s.rows = rows
            s.columns = columns
            return
        }
        if case .hangup = input {
            s.quit = true  // everything is already saved
            return
        }
        switch s.overlay {
        case .help:
            handleHelp(input, &s)
            return
        case .classPicker(let filter, let highlighted):
            handlePicker(input, filter: filter, highlighted: highlighted, &s, &effects)
            return
        case .metrics:
            handleMetrics(input, &s)
            return
        case .failures:
            handleFailures(input, &s, &effects)
            return
        case .compare:
            handleCompare(input, &s, &effects)
            return
        case .phrase(let typed):
            handlePhrase(input, typed: typed, &s, &effects)
            return
        case .none:
            break
        }
        switch input {
        case .character(let c): handleCharacter(c, &s, &effects)
        case .key(let key): handleKey(key, &s, &effects)
        case .mouse(let column, let row, let action): handleMouse(column: column, row: row, action, &s, &effects)
        case .resize, .hangup, .pixelMouse: break
        }
    }

    static func handleCharacter(_ c: Character, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        if let action = Keymap.name(of: c).flatMap(s.keymap.action(for:)) { perform(action, &s, &effects) }
    }

    static func handleKey(_ key: SpecialKey, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        if let action = s.keymap.action(for: Keymap.name(of: key)) { perform(action, &s, &effects) }
    }

    /// What each action of the main view does (which key does it is the keymap's business).
    static func perform(_ action: WorkbenchAction, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        switch action {
        case .quit: s.quit = true
        case .nextImage: go(to: s.current + 1, &s, &effects)
        case .previousImage: go(to: s.current - 1, &s, &effects)
        case .firstImage: go(to: 0, &s, &effects)
        case .lastImage: go(to: s.images.count - 1, &s, &effects)
        case .cursorLeft: moveCursor(-1, 0, large: false, fine: true, &s)
        case .cursorRight: moveCursor(1, 0, large: false, fine: true, &s)
        case .cursorUp: moveCursor(0, -1, large: false, fine: true, &s)
        case .cursorDown: moveCursor(0, 1, large: false, fine: true, &s)
        case .stepLeft: moveCursor(-1, 0, large: false, &s)
        case .stepRight: moveCursor(1, 0, large: false, &s)
        case .stepUp: moveCursor(0, -1, large: false, &s)
        case .stepDown: moveCursor(0, 1, large: false, &s)
        case .jumpLeft: moveCursor(-1, 0, large: true, &s)
        case .jumpRight: moveCursor(1, 0, large: true, &s)
        case .jumpUp: moveCursor(0, -1, large: true, &s)
        case .jumpDown: moveCursor(0, 1, large: true, &s)
        case .positivePoint, .negativePoint:
            fixProposalUnder(s.cursor, &s)
            editPrompts(.addPoint(s.cursor, positive: action == .positivePoint), &s, &effects)
        case .boxCorner:
            if let start = s.boxStart {
                s.boxStart = nil
                editPrompts(.setBox(start, s.cursor), &s, &effects)
            } else {
                s.boxStart = s.cursor
                s.message = "box: move to the opposite corner and press \(s.keymap.keys(for: .boxCorner).first ?? "b") again"
            }
        // Undo takes back prompts while an object is being made, else the last change of work.
        case .undo: if s.editor.undoStack.isEmpty { undoWork(false, &s, &effects) } else { editPrompts(.undo, &s, &effects) }
        case .redo: if s.editor.redoStack.isEmpty { undoWork(true, &s, &effects) } else { editPrompts(.redo, &s, &effects) }
        case .clear:
            if s.brush != nil {
                s.brush = nil
                s.stroke = []
                s.message = "brush off"
            } else if s.boxStart != nil || s.dragStart != nil {
                s.boxStart = nil
                s.dragStart = nil
            } else if !s.editor.isEmpty {
                editPrompts(.clear, &s, &effects)
            } else {
                s.selectedObject = nil
            }
        case .nextCandidate:
            // Two models: it chooses whose mask Enter accepts. One model: its next candidate, or the next object.
            if s.isAB {
                s.chosenLane = (s.chosenLane + 1) % s.lanes.count
            } else if !nextCandidate(&s) {
                candidateOrObject(&s)
            }
        case .cycleCandidate: if !nextCandidate(&s) { candidateOrObject(&s) }
        case .chooseA: s.chosenLane = 0
        case .chooseB: if s.lanes.count > 1 { s.chosenLane = 1 }
        case .opacity: s.opacityStep = (s.opacityStep + 1) % WorkbenchState.opacitySteps.count
        case .zoomIn: zoom(by: 2.0.squareRoot(), around: s.cursor, &s)
        case .zoomOut: zoom(by: 1 / 2.0.squareRoot(), around: s.cursor, &s)
        case .fit: s.viewport = .fit
        case .help:
            s.helpTop = 0
            s.overlay = .help
        case .metrics: openMetrics(&s)
        case .failures: openFailures(&s)
        case .compare: openCompare(&s, &effects)
        case .nextFailure, .previousFailure:
            if !stepFailure(action == .nextFailure ? 1 : -1, &s, &effects) {
                s.message = "\(s.keymap.keys(for: .nextFailure).first ?? "n") / \(s.keymap.keys(for: .previousFailure).first ?? "p") "
                    + "walk the failures opened from the browser (\(s.keymap.keys(for: .failures).first ?? "f"))"
            }
        case .delete: deleteSelected(&s, &effects)
        case .refine: if s.selectedObject == nil && s.currentProposal?.isPending == true { refineProposal(&s) } else { refineSelected(&s, &effects) }
        case .nextProposal: stepProposal(1, &s, &effects)
        case .previousProposal: stepProposal(-1, &s, &effects)
        case .acceptProposal: acceptProposal(&s, &effects)
        case .rejectProposal: rejectProposal(&s, &effects)
        case .acceptAbove: acceptProposalsAbove(&s, &effects)
        case .proposalClass:
            guard let index = s.proposalCursor, s.currentProposal?.isPending == true else { s.message = "no proposal here"; break }
            s.reclassifying = index
            let highlighted = s.objectClasses.firstIndex(of: s.currentProposals[index].className) ?? 0
            s.overlay = .classPicker(filter: "", highlighted: highlighted)
        case .brush: toggleBrush(erase: false, &s)
        case .eraser: toggleBrush(erase: true, &s)
        case .brushSmaller: resizeBrush(-1, &s)
        case .brushLarger: resizeBrush(1, &s)
        case .paint:
            if s.brush == nil { s.message = "B: brush, X: eraser" } else { applyStroke([s.cursor], &s, &effects) }
        case .toggleList: s.showList.toggle()
        case .findPhrase: startPhrase(&s)
        case .accept: startAccept(&s)
        case .nextSlice, .previousSlice, .cycleAxis, .cycleWindow, .nextCase, .previousCase: performVolume(action, &s, &effects)
        }
    }

    /// `pixel`: the image pixel under the pointer when the terminal reports pixels (else the one
    /// under the cell's centre).
    static func handleMouse(column: Int, row: Int, _ action: MouseAction, pixel exact: PixelPoint?? = nil, _ s: inout WorkbenchState,
                            _ effects: inout [WorkbenchEffect]) {
        let layout = WorkbenchLayout(s)
        if let listRow = layout.listRow(column: column, row: row) {
            if action == .leftPress || action == .leftClick, let index = layout.imageIndex(listRow: listRow, s) {
                go(to: index, &s, &effects)
            }
            return
        }
        let pixel: PixelPoint? = exact ?? layout.imagePixel(column: column, row: row, s)
        if s.brush != nil, handleBrushMouse(action, pixel, &s, &effects) { return }
        switch action {
        case .leftPress:
            s.dragStart = pixel
        case .leftClick:
            if let pixel { click(pixel, &s, &effects) }
        case .motion:
            if s.dragStart != nil, let pixel { s.cursor = pixel }
        case .leftRelease:
            guard let start = s.dragStart else { break }
            s.dragStart = nil
            guard let end = pixel ?? Optional(s.cursor) else { break }
            // A drag of at least two cells is a box; less is a click.
            let cellsApart = max(Double(abs(end.x - start.x)) * layout.image.scaleX, Double(abs(end.y - start.y)) * layout.image.scaleY)
            if cellsApart >= 2 { editPrompts(.setBox(start, end), &s, &effects) } else { click(start, &s, &effects) }
        case .rightPress, .rightClick:
            if let pixel {
                fixProposalUnder(pixel, &s)
                editPrompts(.addPoint(pixel, positive: false), &s, &effects)
            }
        case .rightRelease:
            break
        case .wheelUp:
            if let pixel { zoom(by: 2.0.squareRoot(), around: pixel, &s) }
        case .wheelDown:
            if let pixel { zoom(by: 1 / 2.0.squareRoot(), around: pixel, &s) }
        }
        if let pixel, action != .motion { s.cursor = pixel }
    }

    /// With the brush on, the left button paints: press starts a stroke, motion extends it, release
    /// applies it. Other actions (the wheel's zoom) go on as usual: false.
    static func handleBrushMouse(_ action: MouseAction, _ pixel: PixelPoint?, _ s: inout WorkbenchState,
                                 _ effects: inout [WorkbenchEffect]) -> Bool {
        switch action {
        case .leftPress:
            s.stroke = pixel.map { [$0] } ?? []
        case .motion:
            if !s.stroke.isEmpty, let pixel { s.stroke.append(pixel) }
        case .leftRelease, .leftClick:
            if let pixel, s.stroke.last != pixel { s.stroke.append(pixel) }
            let points = s.stroke
            s.stroke = []
            applyStroke(points, &s, &effects)
        default:
            return false
        }
        if let pixel { s.cursor = pixel }
        return true
    }

    /// A left click: selects an accepted object under it when nothing is being made, else a positive point.
    static func click(_ pixel: PixelPoint, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        if s.editor.isEmpty, let hit = s.currentObjects.last(where: { $0.mask[pixel.x, pixel.y] }) {
            s.selectedObject = hit.id
            s.message = "selected \(hit.className) #\(hit.id): e refines, d deletes, Esc deselects"
            return
        }
        fixProposalUnder(pixel, &s)
        editPrompts(.addPoint(pixel, positive: true), &s, &effects)
    }

    /// A click in the box of the proposal under review fixes that proposal (its mask and box are
    /// where the clicks start); elsewhere it starts a new object, as without proposals.
    static func fixProposalUnder(_ pixel: PixelPoint, _ s: inout WorkbenchState) {
        guard s.editor.isEmpty, let proposal = s.currentProposal, proposal.isPending, let box = proposal.box else { return }
        let marginX = (box.x1 - box.x0) * 0.1 + 2, marginY = (box.y1 - box.y0) * 0.1 + 2
        let x = Double(pixel.x), y = Double(pixel.y)
        guard x >= box.x0 - marginX, x <= box.x1 + marginX, y >= box.y0 - marginY, y <= box.y1 + marginY else { return }
        refineProposal(&s)
    }
}
