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
            s.cursor = volumeCursor(index, &s) ?? PixelPoint(x: image.width / 2, y: image.height / 2)
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
        case .volumeSlice(let labels):
            showSliceLabels(labels, &s)
        case .cellSizeChanged(let cell):
            s.display = s.display.with(cellPixels: cell)
        case .clock(let now):
            for i in s.lanes.indices {
                guard s.lanes[i].activity == .preparing else {
                    s.lanes[i].preparingSince = nil
                    s.lanes[i].preparingSeconds = 0
                    continue
                }
                let since = s.lanes[i].preparingSince ?? now
                s.lanes[i].preparingSince = since
                s.lanes[i].preparingSeconds = max(0, now - since) / 1000
            }
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
        case .phraseFound(let lane, let index, let phrase, let found, let ms):
            phraseFound(lane: lane, index: index, phrase: phrase, found, milliseconds: ms, &s, &effects)
        case .phraseFailed(let lane, let index, let phrase, let reason):
            if s.lanes.indices.contains(lane) { s.lanes[lane].activity = .failed(reason) }
            if index == s.current { s.message = "\u{201C}\(phrase)\u{201D}: \(reason)" }
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
        case .prompts(let image, let prompts, let refining, let proposal):
            if s.currentEntry?.name == image {
                s.editor.prompts = prompts
                s.editor.refining = refining
                s.editor.fixingProposal = proposal
            } else {
                var draft = s.drafts[image] ?? ObjectEditor()
                draft.prompts = prompts
                draft.refining = refining
                draft.fixingProposal = proposal
                s.drafts[image] = draft
            }
        case .accept(let image, let object, let className, let width, let height, let rle, let prompts, let model, let checkpoint,
                     let checkpointSHA256, let proposal, let fixed):
            guard let path = s.images.first(where: { $0.name == image })?.path,
                  let decoded = try? RLE(compressed: rle, height: height, width: width) else { return }
            remember(image, &s)
            if let proposal, s.proposals[image]?.indices.contains(proposal) == true {
                s.proposals[image]?[proposal].status = fixed == true ? .fixed(object: object) : .accepted(object: object)
            }
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
            remember(image, &s)
            s.accepted[path]?.removeAll { $0.id == object }
        case .reject(let image, let proposal):
            guard s.proposals[image]?.indices.contains(proposal) == true else { return }
            remember(image, &s)
            s.proposals[image]?[proposal].status = .rejected
        case .proposalClass(let image, let proposal, let className):
            guard s.proposals[image]?.indices.contains(proposal) == true else { return }
            remember(image, &s)
            s.proposals[image]?[proposal].className = className
            if !s.classes.contains(className) { s.classes.append(className) }
        case .undoWork, .redoWork:
            let redo = record == .redoWork
            guard let snapshot = redo ? s.redoWork.popLast() : s.undoWork.popLast(),
                  let replaced = restore(snapshot, &s) else { return }
            if redo { s.undoWork.append(replaced) } else { s.redoWork.append(replaced) }
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
        case .found(let image, let phrase, let model, let width, let height, let masks):
            applyFound(image: image, phrase: phrase, model: model, width: width, height: height, masks: masks, &s)
        case .window(let name):
            if let window = VolumeWindow(rawValue: name) { s.volume?.window = window }
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
}
