import SegCore
import SegModels

/// The brush and the eraser: hand edits for the boundary pixels no model gets right. A stroke
/// paints (or erases) discs along the dragged path on the selected object, or on the proposal
/// under review (which is then accepted as fixed). Each stroke is one accept record of the edited
/// mask, so it is journalled, replayed and undone like any other accept.
extension Workbench {
    static let brushRadii = [1, 2, 3, 5, 8, 12, 18, 27, 40]

    static func toggleBrush(erase: Bool, _ s: inout WorkbenchState) {
        if s.brush?.erase == erase {
            s.brush = nil
            s.stroke = []
            s.message = "brush off"
            return
        }
        s.brush = Brush(erase: erase, radius: s.brush?.radius ?? 5)
        s.message = brushHelp(s)
    }

    static func resizeBrush(_ step: Int, _ s: inout WorkbenchState) {
        guard var brush = s.brush else { s.message = "B: brush, X: eraser"; return }
        let at = brushRadii.firstIndex { $0 >= brush.radius } ?? brushRadii.count - 1
        brush.radius = brushRadii[min(max(at + step, 0), brushRadii.count - 1)]
        s.brush = brush
        s.message = brushHelp(s)
    }

    static func brushHelp(_ s: WorkbenchState) -> String {
        guard let brush = s.brush else { return "brush off" }
        return "\(brush.erase ? "eraser" : "brush") r=\(brush.radius) px: drag, or Space at the cursor; { } size, Esc off"
    }

    /// The mask a stroke edits, and how to record the edit: an accepted object (selected), else
    /// the pending proposal under review.
    enum StrokeTarget {
        case object(AcceptedObject)
        case proposal(Int, ReviewProposal)
    }

    static func strokeTarget(_ s: WorkbenchState) -> StrokeTarget? {
        if let id = s.selectedObject, let object = s.currentObjects.first(where: { $0.id == id }) { return .object(object) }
        if let index = s.proposalCursor, let proposal = s.currentProposal, proposal.isPending { return .proposal(index, proposal) }
        return nil
    }

    /// Applies the stroke through `points` (image pixels) with the current brush.
    static func applyStroke(_ points: [PixelPoint], _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let brush = s.brush, let entry = s.currentEntry, !points.isEmpty else { return }
        guard let target = strokeTarget(s) else {
            s.message = "select an object (click it or Tab) or review a proposal (.) to paint on"
            return
        }
        switch target {
        case .object(let object):
            let mask = painted(object.mask, points, brush)
            guard mask != object.mask, let rle = try? RLE(mask: mask) else { return }
            commit(.accept(image: entry.name, object: object.id, className: object.className, width: mask.width, height: mask.height,
                           rle: rle.compressedString, prompts: object.prompts, model: object.model, checkpoint: object.checkpoint,
                           checkpointSHA256: object.checkpointSHA256), &s, &effects)
            effects.append(.save(image: entry.path))
            s.selectedObject = object.id
            s.message = "\(brush.erase ? "erased from" : "painted on") #\(object.id): \(mask.area) px"
        case .proposal(let index, let proposal):
            let mask = painted(proposal.rle.decode(), points, brush)
            let id = nextObjectId(s)
            commitProposalAccept(index, proposal, object: id, fixed: true, mask: mask, prompts: Prompts(box: proposal.box), entry,
                                 &s, &effects)
            // Further strokes go on the object the proposal became; the review moves on.
            s.selectedObject = id
            stepAfterDecision(&s)
            s.message = "fixed by hand as #\(id) (\(mask.area) px)"
        }
    }

    /// `mask` with discs of the brush's radius painted (or erased) along the polyline `points`.
    static func painted(_ mask: Mask, _ points: [PixelPoint], _ brush: Brush) -> Mask {
        var out = mask
        let value: UInt8 = brush.erase ? 0 : 1
        let r = brush.radius, r2 = brush.radius * brush.radius
        func dab(_ cx: Int, _ cy: Int) {
            let y0 = max(0, cy - r), y1 = min(out.height - 1, cy + r), x0 = max(0, cx - r), x1 = min(out.width - 1, cx + r)
            guard y0 <= y1, x0 <= x1 else { return }  // the disc lies off the mask
            for y in y0...y1 {
                let dy = y - cy
                for x in x0...x1 where (x - cx) * (x - cx) + dy * dy <= r2 { out.bits[y * out.width + x] = value }
            }
        }
        var previous = points[0]
        dab(previous.x, previous.y)
        for p in points.dropFirst() {
            // Dabs at most half a radius apart, so a fast drag leaves no gaps.
            let steps = max(1, Int((Double(max(abs(p.x - previous.x), abs(p.y - previous.y))) / Double(max(1, r / 2))).rounded(.up)))
            for k in 1...steps {
                dab(previous.x + (p.x - previous.x) * k / steps, previous.y + (p.y - previous.y) * k / steps)
            }
            previous = p
        }
        return out
    }
}
