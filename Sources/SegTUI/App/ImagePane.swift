import SegCore
import SegModels

/// The main view's work on the current image: prompts and the models' answers to them,
/// accepting and refining objects, moving between images, the cursor and the zoom.
extension Workbench {
    // MARK: Prompts

    /// A prompt edit: the editor reduces it, and when the prompts change the journal records them
    /// and the models are asked again (or, with no prompts left, their answers are dropped).
    static func editPrompts(_ edit: PromptEdit, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        switch edit {
        case .addPoint, .setBox: guard s.image != nil else { return }
        default: break
        }
        guard let entry = s.currentEntry else { return }
        switch s.editor.reduce(edit) {
        case .unchanged(let why): s.message = why
        case .prompts(let prompts):
            commit(.prompts(image: entry.name, prompts: prompts, refining: s.editor.refining, proposal: s.editor.fixingProposal), &s, &effects)
            if prompts.isEmpty {
                for i in s.lanes.indices {
                    s.lanes[i].reset()  // anything in flight is now stale
                    if s.lanes[i].prepared { s.lanes[i].activity = .idle }
                }
            } else {
                requestDecode(&s, &effects)
            }
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

    // MARK: Objects

    static func startAccept(_ s: inout WorkbenchState) {
        guard s.lane.currentMask != nil else {
            s.message = s.isAB && s.lanes.contains(where: { $0.currentMask != nil })
                ? "\(s.lane.name) has no mask: Tab chooses the other model" : "nothing to accept: click the object first"
            return
        }
        let refinedClass = s.editor.refining.flatMap { id in s.currentObjects.first { $0.id == id }?.className }
            ?? s.editor.fixingProposal.flatMap { s.currentProposals.indices.contains($0) ? s.currentProposals[$0].className : nil }
        let highlighted = refinedClass.flatMap { s.objectClasses.firstIndex(of: $0) } ?? 0
        s.overlay = .classPicker(filter: "", highlighted: highlighted)
    }

    static func accept(className: String, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry, let mask = s.lane.currentMask, let rle = try? RLE(mask: mask) else { return }
        if !s.classes.contains(className) { commit(.addClass(className), &s, &effects) }
        let id = s.editor.refining ?? ((s.currentObjects.map(\.id).max() ?? 0) + 1)
        // A proposal being fixed becomes this object: its review says so.
        let fixing = s.editor.fixingProposal.flatMap { s.currentProposals.indices.contains($0) ? $0 : nil }
        commit(.accept(image: entry.name, object: id, className: className, width: mask.width, height: mask.height,
                       rle: rle.compressedString, prompts: s.editor.prompts, model: s.lane.name, checkpoint: s.lane.checkpoint,
                       checkpointSHA256: s.lane.checkpointSHA256, proposal: fixing, fixed: fixing == nil ? nil : true), &s, &effects)
        if fixing != nil { stepAfterDecision(&s) }
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
        for i in s.lanes.indices {
            s.lanes[i].reset()
            s.lanes[i].candidates = [Candidate(mask: object.mask, score: 1, feedback: .mask(object.mask))]
        }
        s.selectedObject = nil
        editPrompts(.refine(object: id, prompts: object.prompts), &s, &effects)
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
        enterProposals(&s)
        s.groundTruth = nil
        s.unloadImage()
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

extension WorkbenchState {
    /// Drops the shown image before another is loaded: every lane starts over and waits for it.
    mutating func unloadImage() {
        image = nil
        imageError = nil
        for i in lanes.indices {
            lanes[i].reset()
            lanes[i].prepared = false
            lanes[i].activity = .loading
        }
    }
}
