import SegCore
import SegEval
import SegModels

/// `t`: a phrase typed on the status line; the model (SAM 3 with its detector) finds every
/// instance on the image, and they join the image's proposals, walked and decided like any other
/// (`y`, `x`, `Y`, clicks to fix). The class is the phrase.
extension Workbench {
    static func startPhrase(_ s: inout WorkbenchState) {
        guard s.phraseLane != nil else {
            s.message = "phrases need a SAM 3 checkpoint with its detector and text encoder (--model sam3.pt)"
            return
        }
        guard s.image != nil else {
            s.message = "the image is not loaded yet"
            return
        }
        s.overlay = .phrase("")
    }

    static func handlePhrase(_ input: InputEvent, typed: String, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        switch input {
        case .key(.escape):
            s.overlay = .none
        case .key(.backspace), .key(.delete):
            s.overlay = .phrase(String(typed.dropLast()))
        case .key(.enter), .character("\r"), .character("\n"):
            let phrase = typed.trimmingCharacters(in: .whitespaces)
            guard !phrase.isEmpty else {
                s.message = "type what to find, e.g. yellow school bus"
                return
            }
            s.overlay = .none
            guard let lane = s.phraseLane, s.lanes.indices.contains(lane) else { return }
            s.lanes[lane].activity = .working
            s.message = "finding \u{201C}\(phrase)\u{201D}\u{2026}"
            effects.append(.findPhrase(lane: lane, index: s.current, phrase: phrase))
        case .character(let c) where !c.isNewline && c != "\u{1B}" && !(c.asciiValue.map { $0 < 0x20 } ?? false):
            s.overlay = .phrase(typed + String(c))
        default:
            break
        }
    }

    /// The model's answer: recorded (masks and all), then the best new one is under review.
    static func phraseFound(lane: Int, index: Int, phrase: String, _ found: [ConceptDetection], milliseconds: Int,
                            _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        if s.lanes.indices.contains(lane) { s.lanes[lane].activity = .done(milliseconds: milliseconds) }
        guard index == s.current, let entry = s.currentEntry, let image = s.image else { return }  // the user moved on
        let masks = found.compactMap { d -> FoundMask? in
            guard d.mask.width == image.width, d.mask.height == image.height, d.mask.area > 0, let rle = try? RLE(mask: d.mask) else {
                return nil
            }
            return FoundMask(score: Double(d.score), rle: rle.compressedString,
                             box: [Double(d.box.x0), Double(d.box.y0), Double(d.box.x1), Double(d.box.y1)])
        }
        guard !masks.isEmpty else {
            s.message = "no \u{201C}\(phrase)\u{201D} found above the score threshold (open --text-threshold)"
            return
        }
        let first = s.currentProposals.count
        commit(.found(image: entry.name, phrase: phrase, model: s.lanes.indices.contains(lane) ? s.lanes[lane].name : "",
                      width: image.width, height: image.height, masks: masks), &s, &effects)
        s.proposalCursor = first
        s.selectedObject = nil
        s.message = "found \(masks.count) \u{201C}\(phrase)\u{201D} (best \(String(format: "%.2f", masks[0].score))): "
            + "y accepts, x rejects, Y accepts all from here"
    }

    /// Replays `.found`: the instances become pending proposals at the end of the image's list,
    /// best first, so the indices that later records name stay what they were.
    static func applyFound(image: String, phrase: String, model: String, width: Int, height: Int, masks: [FoundMask],
                           _ s: inout WorkbenchState) {
        let added = masks.sorted { $0.score > $1.score }.compactMap { found -> ReviewProposal? in
            guard let rle = try? RLE(compressed: found.rle, height: height, width: width) else { return nil }
            let b = found.box
            let box = b.count == 4 ? PromptBox(x0: b[0], y0: b[1], x1: b[2], y1: b[3]) : nil
            return ReviewProposal(className: phrase, score: found.score, rle: rle, box: box,
                                  source: ProposalSource(model: model, prompt: "text:" + phrase))
        }
        s.proposals[image, default: []] += added
        if !s.classes.contains(phrase) { s.classes.append(phrase) }
    }
}
