import SegCore
import SegEval
import SegModels

/// A proposed mask under review (from `segterm autolabel`, or any proposals file given to
/// `open --proposals`). The mask stays run-length encoded: a folder may hold hundreds of
/// proposals per image, and only the current image's are drawn.
public struct ReviewProposal: Equatable, Sendable {
    public enum Status: Equatable, Sendable {
        case pending
        /// Accepted as proposed: it became accepted object `object`.
        case accepted(object: Int)
        /// Accepted after a fix (refined with clicks, or painted): object `object`.
        case fixed(object: Int)
        case rejected
    }

    public var className: String
    public var score: Double
    public var rle: RLE
    /// The bounding box, in image pixels (a refine starts from it as a box prompt).
    public var box: PromptBox?
    /// The model and prompt kind that made it ("box", "everything", "text:bus", "pred").
    public var source: ProposalSource
    public var status: Status = .pending

    public init(className: String, score: Double, rle: RLE, box: PromptBox?, source: ProposalSource) {
        self.className = className
        self.score = score
        self.rle = rle
        self.box = box
        self.source = source
    }

    public var isPending: Bool { status == .pending }

    /// Proposals of a file per image file name, each image's best score first (the order a reviewer
    /// walks them). `file` names the proposals file in errors.
    public static func byImage(_ proposals: [Proposal], file: String) throws -> [String: [ReviewProposal]] {
        var result: [String: [ReviewProposal]] = [:]
        for proposal in ProposalFile.ordered(proposals) {
            guard proposal.segmentation.size.count == 2 else {
                throw SegError(.corrupt, file: file, "\(proposal.fileName): segmentation size must be [height, width]")
            }
            let rle = try RLE(compressed: proposal.segmentation.counts, height: proposal.segmentation.size[0],
                              width: proposal.segmentation.size[1])
            let b = proposal.bbox
            let box = b.count == 4 && b[2] > 0 && b[3] > 0 ? PromptBox(x0: b[0], y0: b[1], x1: b[0] + b[2] - 1, y1: b[1] + b[3] - 1) : nil
            result[FileName.last(proposal.fileName), default: []].append(
                ReviewProposal(className: proposal.categoryName, score: proposal.score, rle: rle, box: box, source: proposal.source))
        }
        return result
    }
}

/// Counts of a review, for the status line (an image, or the whole set).
public struct ReviewCounts: Equatable, Sendable {
    public var accepted = 0, rejected = 0, fixed = 0, left = 0

    public init() {}

    public init(_ proposals: [ReviewProposal]) {
        for p in proposals {
            switch p.status {
            case .pending: left += 1
            case .accepted: accepted += 1
            case .fixed: fixed += 1
            case .rejected: rejected += 1
            }
        }
    }

    public static func + (a: ReviewCounts, b: ReviewCounts) -> ReviewCounts {
        var c = a
        c.accepted += b.accepted; c.rejected += b.rejected; c.fixed += b.fixed; c.left += b.left
        return c
    }

    public var total: Int { accepted + rejected + fixed + left }
    public var text: String { "\(accepted) accepted \(rejected) rejected \(fixed) fixed \(left) left" }
}

/// What one undoable action changed: an image's objects and proposals as they were before it.
/// Undo puts them back (and keeps the state it replaced for redo). Masks share storage until
/// changed, so a snapshot costs little.
public struct WorkSnapshot: Sendable {
    public var image: String
    public var objects: [AcceptedObject]
    public var proposals: [ReviewProposal]
}

extension WorkbenchState {
    /// The current image's proposals.
    public var currentProposals: [ReviewProposal] { currentEntry.map { proposals[$0.name] ?? [] } ?? [] }

    /// The proposal under review on the current image (nil: none left, or no proposals).
    public var currentProposal: ReviewProposal? {
        guard let index = proposalCursor, currentProposals.indices.contains(index) else { return nil }
        return currentProposals[index]
    }

    public var imageReviewCounts: ReviewCounts { ReviewCounts(currentProposals) }
    public var setReviewCounts: ReviewCounts { proposals.values.reduce(ReviewCounts()) { $0 + ReviewCounts($1) } }

    /// Whether an image has proposals and none is left to review (the image list marks it).
    public func isReviewed(_ image: ImageEntry) -> Bool? {
        guard let list = proposals[image.name], !list.isEmpty else { return nil }
        return !list.contains(where: \.isPending)
    }
}

extension Workbench {
    /// The most undo steps kept; older ones are forgotten.
    static let undoDepth = 500

    /// Before an undoable record changes `image`: its objects and proposals, for undo.
    static func remember(_ image: String, _ s: inout WorkbenchState) {
        guard let path = s.images.first(where: { $0.name == image })?.path else { return }
        s.undoWork.append(WorkSnapshot(image: image, objects: s.accepted[path] ?? [], proposals: s.proposals[image] ?? []))
        if s.undoWork.count > undoDepth { s.undoWork.removeFirst(s.undoWork.count - undoDepth) }
        s.redoWork.removeAll()
    }

    /// Puts a snapshot back, returning what it replaced.
    static func restore(_ snapshot: WorkSnapshot, _ s: inout WorkbenchState) -> WorkSnapshot? {
        guard let path = s.images.first(where: { $0.name == snapshot.image })?.path else { return nil }
        let replaced = WorkSnapshot(image: snapshot.image, objects: s.accepted[path] ?? [], proposals: s.proposals[snapshot.image] ?? [])
        s.accepted[path] = snapshot.objects
        s.proposals[snapshot.image] = snapshot.proposals
        return replaced
    }

    // MARK: Reviewing (live actions)

    /// Starts the review of the current image: the best pending proposal.
    static func enterProposals(_ s: inout WorkbenchState) {
        s.proposalCursor = s.currentProposals.firstIndex(where: \.isPending)
    }

    /// The next (or previous) pending proposal; past the last of this image, the next image that has one.
    static func stepProposal(_ step: Int, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        let list = s.currentProposals
        if !list.isEmpty {
            let start = s.proposalCursor ?? (step > 0 ? -1 : list.count)
            var i = start + step
            while list.indices.contains(i) {
                if list[i].isPending {
                    s.proposalCursor = i
                    return
                }
                i += step
            }
        }
        // None left this way on this image: the nearest image that has one.
        var index = s.current + step
        while s.images.indices.contains(index) {
            if s.proposals[s.images[index].name]?.contains(where: \.isPending) == true {
                go(to: index, &s, &effects)
                if step < 0 { s.proposalCursor = s.currentProposals.lastIndex(where: \.isPending) }
                return
            }
            index += step
        }
        s.message = s.setReviewCounts.left == 0 ? "every proposal is reviewed" : "no proposal left \(step > 0 ? "after" : "before") this one"
    }

    static func acceptProposal(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry, let index = s.proposalCursor, let proposal = s.currentProposal, proposal.isPending else {
            s.message = "no proposal to accept here"
            return
        }
        let id = nextObjectId(s)
        commitProposalAccept(index, proposal, object: id, fixed: false, mask: nil, prompts: Prompts(box: proposal.box), entry, &s, &effects)
        s.message = "accepted \(proposal.className) #\(id) (score \(String(format: "%.2f", proposal.score)))"
        stepAfterDecision(&s)
    }

    /// Accepts every pending proposal of the image scored at least as high as the current one.
    static func acceptProposalsAbove(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry, let threshold = s.currentProposal?.score else {
            s.message = "no proposal here"
            return
        }
        var count = 0
        for (index, proposal) in s.currentProposals.enumerated() where proposal.isPending && proposal.score >= threshold {
            commitProposalAccept(index, proposal, object: nextObjectId(s), fixed: false, mask: nil, prompts: Prompts(box: proposal.box),
                                 entry, &s, &effects)
            count += 1
        }
        s.message = "accepted \(count) proposals scored \(String(format: "%.2f", threshold)) or more"
        s.proposalCursor = nil
        stepAfterDecision(&s)
    }

    static func rejectProposal(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry, let index = s.proposalCursor, s.currentProposal?.isPending == true else {
            s.message = "no proposal to reject here"
            return
        }
        commit(.reject(image: entry.name, proposal: index), &s, &effects)
        s.message = "rejected"
        stepAfterDecision(&s)
    }

    /// After a decision: the next pending proposal of the image (or none).
    static func stepAfterDecision(_ s: inout WorkbenchState) {
        let list = s.currentProposals
        let from = s.proposalCursor ?? 0
        s.proposalCursor = list.indices.first { $0 >= from && list[$0].isPending } ?? list.firstIndex(where: \.isPending)
    }

    static func nextObjectId(_ s: WorkbenchState) -> Int { (s.currentObjects.map(\.id).max() ?? 0) + 1 }

    /// Records a proposal's acceptance as an accepted object (the mask in the journal, so the
    /// object survives without the proposals file) that names the proposal it came from.
    static func commitProposalAccept(_ index: Int, _ proposal: ReviewProposal, object id: Int, fixed: Bool, mask: Mask?,
                                     prompts: Prompts, _ entry: ImageEntry, _ s: inout WorkbenchState,
                                     _ effects: inout [WorkbenchEffect]) {
        let rle = mask.flatMap { try? RLE(mask: $0) } ?? proposal.rle
        if !s.classes.contains(proposal.className) { commit(.addClass(proposal.className), &s, &effects) }
        commit(.accept(image: entry.name, object: id, className: proposal.className, width: rle.width, height: rle.height,
                       rle: rle.compressedString, prompts: prompts, model: proposal.source.model, proposal: index,
                       fixed: fixed ? true : nil), &s, &effects)
        effects.append(.save(image: entry.path))
    }

    /// Starts fixing the current proposal with clicks: the editor begins from its mask (the models'
    /// previous answer, fed back as mask input) and its box; Enter accepts the fixed mask.
    static func refineProposal(_ s: inout WorkbenchState) {
        guard let index = s.proposalCursor, let proposal = s.currentProposal, proposal.isPending else { return }
        let mask = proposal.rle.decode()
        for i in s.lanes.indices {
            s.lanes[i].reset()
            s.lanes[i].candidates = [Candidate(mask: mask, score: Float(proposal.score), feedback: .mask(mask))]
        }
        // The proposal's box stays a prompt under the clicks (recorded with the first click).
        s.editor = ObjectEditor()
        s.editor.fixingProposal = index
        s.editor.prompts = Prompts(box: proposal.box)
        s.message = "fixing the proposal: click to add or remove parts, Enter accepts, Esc gives up"
    }

    /// Undo of work (accept, delete, reject, class change, brush): the image as it was before.
    static func undoWork(_ redo: Bool, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = (redo ? s.redoWork : s.undoWork).last.flatMap({ snap in s.images.first { $0.name == snap.image } }) else {
            s.message = redo ? "nothing to redo" : "nothing to undo"
            return
        }
        let before = s.proposals[entry.name] ?? []
        commit(redo ? .redoWork : .undoWork, &s, &effects)
        effects.append(.save(image: entry.path))
        if entry.name != s.currentEntry?.name, let index = s.images.firstIndex(of: entry) { go(to: index, &s, &effects) }
        s.selectedObject = nil
        // A proposal the undo made pending again is the one to look at again.
        let after = s.proposals[entry.name] ?? []
        if let back = after.indices.first(where: { after[$0].isPending && before.indices.contains($0) && !before[$0].isPending }) {
            s.proposalCursor = back
        }
        stepAfterDecision(&s)
        s.message = redo ? "redone" : "undone"
    }
}
