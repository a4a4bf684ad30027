import SegCore
import SegModels

/// The workbench's reducer: a pure function from state and event to the next state and the
/// effects the runtime must carry out. The journal records come first among the effects, so an
/// action reaches the disk before anything shows it.
public enum Workbench {
    public static func reduce(_ state: WorkbenchState, _ event: WorkbenchEvent) -> (WorkbenchState, [WorkbenchEffect]) {
        var s = state
        var effects: [WorkbenchEffect] = []
        switch event {
        case .input(let input):
            s.message = nil
            handleInput(input, &s, &effects)
        case .imageLoaded(let index, let image):
            guard index == s.current else { break }
            s.image = image
            s.imagesLoaded += 1
            s.imageGeneration = s.imagesLoaded
            focusViewport(&s)
            requestComparedMasks(&s, &effects)
            s.imageError = nil
            for i in s.lanes.indices where !s.lanes[i].prepared { s.lanes[i].activity = .preparing }
            s.cursor = PixelPoint(x: image.width / 2, y: image.height / 2)
        case .imageFailed(let index, let reason):
            guard index == s.current else { break }
            s.imageError = reason
            for i in s.lanes.indices { s.lanes[i].activity = .failed(reason) }
        case .prepared(let lane, let index, let ms), .preparedAhead(let lane, let index, let ms):
            guard index == s.current, s.lanes.indices.contains(lane) else { break }
            s.lanes[lane].prepared = true
            if case .preparedAhead = event { s.lanes[lane].activity = .readyAhead(milliseconds: ms) } else {
                s.lanes[lane].activity = .ready(milliseconds: ms)
            }
            if !s.editor.prompts.isEmpty { requestDecode(&s, &effects, lanes: [lane]) }
        case .prepareFailed(let lane, let index, let reason):
            guard index == s.current, s.lanes.indices.contains(lane) else { break }
            s.lanes[lane].activity = .failed(reason)
        case .result(let lane, let request, let candidates, let ms):
            // A result for anything but the request the lane waits for is stale: drop it, never draw it.
            guard s.lanes.indices.contains(lane), request == s.lanes[lane].awaitedRequest else { break }
            s.lanes[lane].candidates = candidates
            s.lanes[lane].groundTruthMatches = []
            s.lanes[lane].candidatesRequest = request
            s.lanes[lane].selectedCandidate = candidates.indices.max { candidates[$0].score < candidates[$1].score } ?? 0
            s.lanes[lane].activity = .done(milliseconds: ms)
        case .resultFailed(let lane, let request, let reason):
            guard s.lanes.indices.contains(lane), request == s.lanes[lane].awaitedRequest else { break }
            s.lanes[lane].activity = .failed(reason)
        case .groundTruthLoaded(let index, let objects):
            guard index == s.current else { break }
            s.groundTruth = objects
        case .groundTruthFailed(let index, let reason):
            guard index == s.current else { break }
            s.groundTruth = nil
            s.message = "ground truth: \(reason)"
        case .setEvaluated(let set, let evaluation):
            if let at = s.predictions.firstIndex(where: { $0.name == set }) {
                s.predictions[at].evaluation = evaluation
                if s.overlay == .failures && s.failureBrowser.set == at { refilter(&s) }
            }
        case .predictionScoresFailed(let set, let reason):
            if let at = s.predictions.firstIndex(where: { $0.name == set }) { s.predictions[at].failed = true }
            s.message = "predictions \(set): \(reason)"
        case .notice(let text):
            s.message = text
        case .cellSizeChanged(let cell):
            s.display = s.display.with(cellPixels: cell)
        case .terminalOutput(let lastFrame, let sinceInput):
            s.debugIO = "io \(lastFrame) B last frame, \(sinceInput) B since the last input"
        case .checkpointHashed(let path, let sha256):
            let waiting = s.images.first { s.accepted[$0.path]?.contains { $0.checkpoint == path && $0.checkpointSHA256 == nil } == true }
            commit(.checkpointDigest(path: path, sha256: sha256), &s, &effects)
            // Objects accepted before the digest was known: their COCO entries get it now.
            if let waiting { effects.append(.save(image: waiting.path)) }
        case .failureMask(let set, let index, let mask):
            guard s.failureFocus?.set == set, s.failureFocus?.index == index else { break }  // the user moved on
            s.failureFocus?.prediction = mask
        case .compared(let a, let b, let comparison):
            if s.compareView.a == a && s.compareView.b == b { s.compareView.comparison = comparison }
        case .comparedMasks(let index, let a, let b, let masksA, let masksB):
            guard s.overlay == .compare, index == s.current, s.compareView.a == a, s.compareView.b == b else { break }
            s.compareView.masksA = masksA
            s.compareView.masksB = masksB
        case .compareFailed(let a, let b, let reason):
            if s.compareView.a == a && s.compareView.b == b { s.compareView.comparisonFailure = reason }
        case .groundTruthMatches(let lane, let request, let matches):
            guard s.lanes.indices.contains(lane), request == s.lanes[lane].candidatesRequest,
                  matches.count == s.lanes[lane].candidates.count else { break }
            s.lanes[lane].groundTruthMatches = matches
        }
        return (s, effects)
    }

    // MARK: Records (shared by live actions and journal replay)

    /// Applies a journal record to the state. Live actions call this right after recording.
    public static func apply(_ record: WorkRecord, to s: inout WorkbenchState) {
        switch record {
        case .prompts(let image, let prompts, let refining):
            if s.currentEntry?.name == image {
                s.editor.prompts = prompts
                s.editor.refining = refining
            } else {
                var draft = s.drafts[image] ?? ObjectEditor()
                draft.prompts = prompts
                draft.refining = refining
                s.drafts[image] = draft
            }
        case .accept(let image, let object, let className, let width, let height, let rle, let prompts, let model, let checkpoint,
                     let checkpointSHA256):
            guard let path = s.images.first(where: { $0.name == image })?.path,
                  let decoded = try? RLE(compressed: rle, height: height, width: width) else { return }
            var objects = s.accepted[path] ?? []
            s.acceptCount += 1
            let accepted = AcceptedObject(id: object, className: className, mask: decoded.decode(), prompts: prompts,
                                          revision: s.acceptCount, model: model, checkpoint: checkpoint,
                                          checkpointSHA256: checkpointSHA256)
            if let at = objects.firstIndex(where: { $0.id == object }) { objects[at] = accepted } else { objects.append(accepted) }
            s.accepted[path] = objects
            if !s.classes.contains(className) { s.classes.append(className) }
            if s.currentEntry?.name == image {
                s.editor = ObjectEditor()
                resetLanes(&s)
            } else {
                s.drafts[image] = nil
            }
        case .delete(let image, let object):
            guard let path = s.images.first(where: { $0.name == image })?.path else { return }
            s.accepted[path]?.removeAll { $0.id == object }
        case .addClass(let name):
            if !s.classes.contains(name) { s.classes.append(name) }
        case .checkpointDigest(let path, let sha256):
            for i in s.lanes.indices where s.lanes[i].checkpoint == path { s.lanes[i].checkpointSHA256 = sha256 }
            for (image, objects) in s.accepted {
                s.accepted[image] = objects.map { object in
                    var object = object
                    if object.checkpoint == path && object.checkpointSHA256 == nil { object.checkpointSHA256 = sha256 }
                    return object
                }
            }
        case .visit(let image):
            guard let index = s.images.firstIndex(where: { $0.name == image }), index != s.current else { return }
            // Prompts in progress belong to the image they were made on: they stay its draft, and
            // the visited image's own draft (if any) comes back. Live moves and journal replay
            // both pass here, so a reopened session cannot carry one image's prompts to another.
            if let entry = s.currentEntry { s.drafts[entry.name] = s.editor.isEmpty ? nil : s.editor }
            s.current = index
            s.editor = s.drafts[image] ?? ObjectEditor()
        }
    }

    /// Records and applies.
    static func commit(_ record: WorkRecord, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        effects.append(.record(record))
        apply(record, to: &s)
    }

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
        case .positivePoint: addPoint(s.cursor, positive: true, &s, &effects)
        case .negativePoint: addPoint(s.cursor, positive: false, &s, &effects)
        case .boxCorner:
            if let start = s.boxStart {
                s.boxStart = nil
                setBox(from: start, to: s.cursor, &s, &effects)
            } else {
                s.boxStart = s.cursor
                s.message = "box: move to the opposite corner and press \(s.keymap.keys(for: .boxCorner).first ?? "b") again"
            }
        case .undo: undo(&s, &effects)
        case .redo: redo(&s, &effects)
        case .clear:
            if s.boxStart != nil || s.dragStart != nil {
                s.boxStart = nil
                s.dragStart = nil
            } else if !s.editor.isEmpty {
                clearEditor(&s, &effects)
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
        case .refine: refineSelected(&s, &effects)
        case .toggleList: s.showList.toggle()
        case .accept: startAccept(&s)
        }
    }

    /// The help lists every action; when it is taller than the terminal the arrows, j / k,
    /// Space, the page keys and the wheel scroll it, and any other key closes it.
    static func handleHelp(_ input: InputEvent, _ s: inout WorkbenchState) {
        let page = max(1, Workbench.helpRows(s) - 1)
        let last = max(0, Workbench.helpLines(s).count - Workbench.helpRows(s))
        guard last > 0 else {
            // All of it in view: any key closes it, as it always did.
            if case .mouse(_, _, .motion) = input { return }
            if case .pixelMouse(_, _, .motion) = input { return }
            s.overlay = .none
            return
        }
        switch input {
        case .key(.down), .character("j"): s.helpTop = min(last, s.helpTop + 1)
        case .key(.up), .character("k"): s.helpTop = max(0, s.helpTop - 1)
        case .key(.pageDown), .character(" "): s.helpTop = min(last, s.helpTop + page)
        case .key(.pageUp): s.helpTop = max(0, s.helpTop - page)
        case .mouse(_, _, .wheelDown): s.helpTop = min(last, s.helpTop + 3)
        case .mouse(_, _, .wheelUp): s.helpTop = max(0, s.helpTop - 3)
        case .mouse(_, _, .motion), .pixelMouse(_, _, .motion): break
        default: s.overlay = .none
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
            if cellsApart >= 2 { setBox(from: start, to: end, &s, &effects) } else { click(start, &s, &effects) }
        case .rightPress, .rightClick:
            if let pixel { addPoint(pixel, positive: false, &s, &effects) }
        case .rightRelease:
            break
        case .wheelUp:
            if let pixel { zoom(by: 2.0.squareRoot(), around: pixel, &s) }
        case .wheelDown:
            if let pixel { zoom(by: 1 / 2.0.squareRoot(), around: pixel, &s) }
        }
        if let pixel, action != .motion { s.cursor = pixel }
    }

    /// A left click: selects an accepted object under it when nothing is being made, else a positive point.
    static func click(_ pixel: PixelPoint, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        if s.editor.isEmpty, let hit = s.currentObjects.last(where: { $0.mask[pixel.x, pixel.y] }) {
            s.selectedObject = hit.id
            s.message = "selected \(hit.className) #\(hit.id): e refines, d deletes, Esc deselects"
            return
        }
        addPoint(pixel, positive: true, &s, &effects)
    }

    // MARK: Prompts

    static func addPoint(_ p: PixelPoint, positive: Bool, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard s.image != nil else { return }
        var prompts = s.editor.prompts
        prompts.points.append(PromptPoint(x: Double(p.x), y: Double(p.y), positive: positive))
        changePrompts(to: prompts, &s, &effects)
    }

    static func setBox(from a: PixelPoint, to b: PixelPoint, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard s.image != nil else { return }
        var prompts = s.editor.prompts
        prompts.box = PromptBox(x0: Double(a.x), y0: Double(a.y), x1: Double(b.x), y1: Double(b.y))
        changePrompts(to: prompts, &s, &effects)
    }

    static func changePrompts(to prompts: Prompts, recordUndo: Bool = true, _ s: inout WorkbenchState,
                              _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry else { return }
        if recordUndo {
            s.editor.undoStack.append(s.editor.prompts)
            s.editor.redoStack.removeAll()
        }
        commit(.prompts(image: entry.name, prompts: prompts, refining: s.editor.refining), &s, &effects)
        if prompts.isEmpty {
            for i in s.lanes.indices {
                s.lanes[i].reset()  // anything in flight is now stale
                if s.lanes[i].prepared { s.lanes[i].activity = .idle }
            }
        } else {
            requestDecode(&s, &effects)
        }
    }

    /// Asks each model (or those given) for its answer to the editor's prompts: the same prompts
    /// go to every model, each on its own worker, each refining its own previous answer.
    static func requestDecode(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect], lanes: [Int]? = nil) {
        s.latestRequest += 1
        // One point alone is ambiguous (a part or the whole?): ask for every candidate, as SAM's authors advise.
        let multimask = s.editor.prompts.points.count == 1 && s.editor.prompts.box == nil
        for i in lanes ?? Array(s.lanes.indices) {
            s.lanes[i].awaitedRequest = s.latestRequest
            guard s.lanes[i].prepared else { continue }  // decoded once the image is prepared
            effects.append(.decode(lane: i, request: s.latestRequest, prompts: s.editor.prompts,
                                   previous: s.lanes[i].currentCandidate, multimask: multimask))
            s.lanes[i].activity = .working
        }
    }

    /// Forgets every model's answer and the requests in flight.
    static func resetLanes(_ s: inout WorkbenchState) {
        for i in s.lanes.indices { s.lanes[i].reset() }
    }

    /// Shows the chosen model's next candidate; false when it has only one.
    static func nextCandidate(_ s: inout WorkbenchState) -> Bool {
        guard s.lane.candidates.count > 1 else { return false }
        s.lane.selectedCandidate = (s.lane.selectedCandidate + 1) % s.lane.candidates.count
        return true
    }

    static func undo(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let previous = s.editor.undoStack.popLast() else { s.message = "nothing to undo"; return }
        s.editor.redoStack.append(s.editor.prompts)
        changePrompts(to: previous, recordUndo: false, &s, &effects)
    }

    static func redo(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let next = s.editor.redoStack.popLast() else { s.message = "nothing to redo"; return }
        s.editor.undoStack.append(s.editor.prompts)
        changePrompts(to: next, recordUndo: false, &s, &effects)
    }

    static func clearEditor(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        s.editor.refining = nil
        changePrompts(to: Prompts(), &s, &effects)
    }

    // MARK: Objects

    static func startAccept(_ s: inout WorkbenchState) {
        guard s.lane.currentMask != nil else {
            s.message = s.isAB && s.lanes.contains(where: { $0.currentMask != nil })
                ? "\(s.lane.name) has no mask: Tab chooses the other model" : "nothing to accept: click the object first"
            return
        }
        let refinedClass = s.editor.refining.flatMap { id in s.currentObjects.first { $0.id == id }?.className }
        let highlighted = refinedClass.flatMap { s.objectClasses.firstIndex(of: $0) } ?? 0
        s.overlay = .classPicker(filter: "", highlighted: highlighted)
    }

    /// Classes shown in the picker for a typed filter (case-insensitive substring).
    public static func pickerChoices(_ s: WorkbenchState, filter: String) -> [String] {
        let needle = filter.lowercased()
        return s.objectClasses.filter { needle.isEmpty || $0.lowercased().contains(needle) }
    }

    static func handlePicker(_ input: InputEvent, filter: String, highlighted: Int, _ s: inout WorkbenchState,
                             _ effects: inout [WorkbenchEffect]) {
        let choices = pickerChoices(s, filter: filter)
        switch input {
        case .key(.escape):
            s.overlay = .none
        case .key(.up):
            s.overlay = .classPicker(filter: filter, highlighted: max(0, highlighted - 1))
        case .key(.down), .character("\t"):
            s.overlay = .classPicker(filter: filter, highlighted: min(max(choices.count - 1, 0), highlighted + 1))
        case .key(.backspace), .key(.delete):
            s.overlay = .classPicker(filter: String(filter.dropLast()), highlighted: 0)
        case .key(.enter), .character("\r"), .character("\n"):
            let typed = filter.trimmingCharacters(in: .whitespaces)
            let name = choices.indices.contains(highlighted) ? choices[highlighted] : typed
            guard !name.isEmpty else { s.message = "type a class name"; return }
            s.overlay = .none
            accept(className: name, &s, &effects)
        case .character(let c) where !c.isNewline && c != "\u{1B}":
            s.overlay = .classPicker(filter: filter + String(c), highlighted: 0)
        default:
            break
        }
    }

    static func accept(className: String, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry, let mask = s.lane.currentMask, let rle = try? RLE(mask: mask) else { return }
        if !s.classes.contains(className) { commit(.addClass(className), &s, &effects) }
        let id = s.editor.refining ?? ((s.currentObjects.map(\.id).max() ?? 0) + 1)
        commit(.accept(image: entry.name, object: id, className: className, width: mask.width, height: mask.height,
                       rle: rle.compressedString, prompts: s.editor.prompts, model: s.lane.name, checkpoint: s.lane.checkpoint,
                       checkpointSHA256: s.lane.checkpointSHA256), &s, &effects)
        effects.append(.save(image: entry.path))
        s.selectedObject = nil
        for i in s.lanes.indices where s.lanes[i].prepared { s.lanes[i].activity = .idle }
        s.message = "accepted \(className) #\(id)" + (s.isAB ? " from \(s.lane.name)" : "")
    }

    static func deleteSelected(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry, let id = s.selectedObject else { s.message = "select an object first (click it or Tab)"; return }
        commit(.delete(image: entry.name, object: id), &s, &effects)
        effects.append(.save(image: entry.path))
        s.selectedObject = nil
        s.message = "deleted #\(id)"
    }

    /// Puts the selected object back into the editor with its prompts, to refine it.
    static func refineSelected(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let id = s.selectedObject, let object = s.currentObjects.first(where: { $0.id == id }) else { return }
        s.editor = ObjectEditor()
        s.editor.refining = id
        for i in s.lanes.indices {
            s.lanes[i].reset()
            s.lanes[i].candidates = [Candidate(mask: object.mask, score: 1, feedback: .mask(object.mask))]
        }
        s.selectedObject = nil
        changePrompts(to: object.prompts, &s, &effects)
    }

    /// Tab or ` with no other candidate to show: with a mask in progress, say there is only
    /// the one (a silent key reads as a broken one); else select the next accepted object.
    static func candidateOrObject(_ s: inout WorkbenchState) {
        if s.lane.candidates.count == 1 && !s.editor.isEmpty {
            s.message = "\(s.lane.name) gave one mask for these prompts: there is no other candidate"
        } else if s.currentObjects.isEmpty {
            s.message = s.editor.isEmpty ? "no candidates or objects yet: click an object" : "no candidate mask yet"
        } else {
            cycleSelection(&s)
        }
    }

    static func cycleSelection(_ s: inout WorkbenchState) {
        let ids = s.currentObjects.map(\.id)
        guard !ids.isEmpty else { return }
        if let current = s.selectedObject, let at = ids.firstIndex(of: current) {
            s.selectedObject = ids[(at + 1) % ids.count]
        } else {
            s.selectedObject = ids[0]
        }
    }

    // MARK: Navigation

    static func go(to index: Int, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard s.images.indices.contains(index), index != s.current || s.image == nil else { return }
        let entry = s.images[index]
        commit(.visit(image: entry.name), &s, &effects)  // moves the prompts in progress to their image's draft
        s.groundTruth = nil
        s.image = nil
        s.imageError = nil
        for i in s.lanes.indices {
            s.lanes[i].reset()
            s.lanes[i].prepared = false
            s.lanes[i].activity = .loading
        }
        s.selectedObject = nil
        s.boxStart = nil
        s.viewport = .fit
        s.failureFocus = nil
        effects.append(.open(index: index, path: entry.path))
        // The next images in the list are the likeliest next moves.
        if s.prefetchDepth > 0 {
            let next = s.images[(index + 1)...].prefix(s.prefetchDepth).map(\.path)
            effects.append(.prefetch(paths: next))
        }
    }

    /// `fine`: one image pixel at any zoom (arrows); else one display pixel, at least one image
    /// pixel (h j k l). `large`: eight display pixels (Shift).
    static func moveCursor(_ dx: Int, _ dy: Int, large: Bool, fine: Bool = false, _ s: inout WorkbenchState) {
        guard let image = s.image else { return }
        let layout = WorkbenchLayout(s).image
        func step(_ scale: Double) -> Int { fine && !large ? 1 : max(1, Int((1 / scale).rounded())) * (large ? 8 : 1) }
        s.cursor.x = min(max(s.cursor.x + dx * step(layout.scaleX), 0), image.width - 1)
        s.cursor.y = min(max(s.cursor.y + dy * step(layout.scaleY), 0), image.height - 1)
        keepCursorVisible(&s)
    }

    /// Zooms so that the image pixel `anchor` stays at the same place on the screen.
    static func zoom(by factor: Double, around anchor: PixelPoint, _ s: inout WorkbenchState) {
        guard let image = s.image else { return }
        let layout = WorkbenchLayout(s)
        let before = layout.image
        let newZoom = min(max(s.viewport.zoom * factor, 1), 64)
        guard newZoom != s.viewport.zoom else { return }
        let after = layout.grid.imageLayout(image.size, area: layout.imageArea, viewport: Viewport(zoom: newZoom))
        let ax = Double(anchor.x) + 0.5, ay = Double(anchor.y) + 0.5
        // The anchor's position in the view, in display pixels, before the zoom…
        let screenX = Double(before.offsetX) + (ax - before.originX) * before.scaleX
        let screenY = Double(before.offsetY) + (ay - before.originY) * before.scaleY
        // …is where it must be after: solve for the new origin, then give the viewport its centre.
        let originX = ax - (screenX - Double(after.offsetX)) / after.scaleX
        let originY = ay - (screenY - Double(after.offsetY)) / after.scaleY
        s.viewport = Viewport(zoom: newZoom,
                              centerX: originX + Double(after.shownWidth) / after.scaleX / 2,
                              centerY: originY + Double(after.shownHeight) / after.scaleY / 2)
    }

    static func keepCursorVisible(_ s: inout WorkbenchState) {
        let layout = WorkbenchLayout(s).image
        guard s.viewport.zoom > 1 else { return }
        let x = Double(s.cursor.x) + 0.5, y = Double(s.cursor.y) + 0.5
        let spanX = Double(layout.shownWidth) / layout.scaleX, spanY = Double(layout.shownHeight) / layout.scaleY
        var cx = layout.originX + spanX / 2, cy = layout.originY + spanY / 2
        if x < layout.originX || x > layout.originX + spanX { cx = x }
        if y < layout.originY || y > layout.originY + spanY { cy = y }
        s.viewport.centerX = cx
        s.viewport.centerY = cy
    }
}
