import SegCore

extension TIDE {
    /// Where a detection stands after tidecv's matching.
    enum DetectionState { case unmatched, matched, ignored }

    /// One image as tidecv's `TIDERun._eval_image` walks it: split off the crowd regions, sort the
    /// detections and keep `maxDets`, match greedily by class, ignore detections inside a crowd
    /// region of their class, record the AP points, classify each unmatched detection, decide
    /// which errors a fix turns into true positives, and list the missed ground truth.
    static func evaluateImage(_ image: COCOImage, gt gtAll: [Int], dt dtAll: [Int], inputs: COCOInputs, mask: Bool,
                              foreground: Double, background: Double, maxDets: Int) throws(SegError) -> ImageOutcome {
        let annotations = inputs.groundTruth.annotations
        let gt = gtAll.filter { !annotations[$0].isCrowd }
        var outcome = ImageOutcome(positives: positives(gt, annotations), points: [], errors: [])
        if dtAll.isEmpty {
            outcome.errors = gt.map { missed($0, annotations) }
            outcome.falseNegatives = outcome.positives
            return outcome
        }
        var m = try ImageMatching(image, gt: gt, dt: dtAll, inputs: inputs, mask: mask, maxDets: maxDets)
        m.match(foreground: foreground)
        for r in gtAll where annotations[r].isCrowd {
            try m.ignoreInside(crowd: r, image: image, inputs: inputs, mask: mask, foreground: foreground)
        }
        let detections = inputs.results.detections
        var pending: [(record: ErrorRecord, gt: Int?)] = []
        for d in m.preds.indices {
            if m.state[d] != .ignored {
                outcome.points.append((m.predClass[d], detections[m.preds[d]].score, m.state[d] == .matched))
            }
            if m.state[d] != .matched { pending.append(m.classify(d, foreground: foreground, background: background)) }
        }
        // The fixes, known once every detection of the image is seen (BestGTMatch): only the
        // best-scored error on a ground truth not already matched becomes a true positive.
        for (var record, g) in pending {
            if let g, !m.gtUsed[g], let best = m.best[g], let detection = record.detection, m.preds[best.pred] == detection {
                record.fixedClass = record.type == .classification ? m.gtClass[g] : detections[detection].categoryId
            }
            outcome.errors.append(record)
        }
        var unmatched: [Int: Int] = [:]
        for g in gt.indices where !m.gtUsed[g] { unmatched[m.gtClass[g], default: 0] += 1 }
        outcome.falseNegatives = outcome.positives.compactMap { c, _ in unmatched[c].map { (c, $0) } }
        for g in gt.indices where !m.gtUsed[g] && !m.usable[g] { outcome.errors.append(missed(gt[g], annotations)) }
        return outcome
    }

    /// Ground truth per class, classes in first-seen order (tidecv's `add_gt_positives`).
    static func positives(_ gt: [Int], _ annotations: [COCOAnnotation]) -> [(cls: Int, count: Int)] {
        var out: [(cls: Int, count: Int)] = []
        var index: [Int: Int] = [:]
        for g in gt {
            let c = annotations[g].categoryId
            if let i = index[c] { out[i].count += 1 } else { index[c] = out.count; out.append((c, 1)) }
        }
        return out
    }

    static func missed(_ g: Int, _ annotations: [COCOAnnotation]) -> ErrorRecord {
        ErrorRecord(type: .missed, detection: nil, originalClass: nil, score: 0, fixedClass: nil,
                    missedClass: annotations[g].categoryId, area: box(annotations[g]).area)
    }

    static func box(_ a: COCOAnnotation) -> COCOBox { a.bbox ?? COCOBox(x: 0, y: 0, width: 0, height: 0) }

    /// The detections (best `maxDets` by score) and ground truth (not crowd) of one image, their
    /// IoUs and the matching state.
    struct ImageMatching {
        let annotations: [COCOAnnotation]
        let detections: [COCOAnnotation]
        let preds: [Int]
        let gt: [Int]
        let predShapes: [Shape]
        let iou: [Double]
        let predClass: [Int]
        let gtClass: [Int]
        var state: [DetectionState]
        var gtUsed: [Bool]
        /// Ground truth an unmatched detection could have been (tidecv's `usable`), and the
        /// best-scored such detection of each.
        var usable: [Bool]
        var best: [(pred: Int, score: Double)?]

        init(_ image: COCOImage, gt: [Int], dt: [Int], inputs: COCOInputs, mask: Bool, maxDets: Int) throws(SegError) {
            annotations = inputs.groundTruth.annotations
            let detections = inputs.results.detections
            self.detections = detections
            var preds = dt
            preds.sort { detections[$0].score != detections[$1].score ? detections[$0].score > detections[$1].score : $0 < $1 }
            if preds.count > maxDets { preds.removeSubrange(maxDets...) }
            self.preds = preds
            self.gt = gt
            var predShapes: [Shape] = []
            for d in preds { predShapes.append(try shape(detections[d], index: d, isResult: true, image: image, inputs: inputs, mask: mask)) }
            var gtShapes: [Shape] = []
            for g in gt { gtShapes.append(try shape(annotations[g], index: g, isResult: false, image: image, inputs: inputs, mask: mask)) }
            self.predShapes = predShapes
            iou = ious(predShapes, gtShapes, crowd: false)
            let annotations = self.annotations
            predClass = preds.map { detections[$0].categoryId }
            gtClass = gt.map { annotations[$0].categoryId }
            state = [DetectionState](repeating: .unmatched, count: preds.count)
            gtUsed = [Bool](repeating: false, count: gt.count)
            usable = gtUsed
            best = [(pred: Int, score: Double)?](repeating: nil, count: gt.count)
        }

        func v(_ d: Int, _ g: Int) -> Double { iou.isEmpty ? 0 : iou[d * gt.count + g] }

        /// The first ground truth with the largest `value` (tidecv's argmax), and that value.
        func argmax(_ value: (Int) -> Double) -> (g: Int, value: Double) {
            var best = 0, bestValue = gt.isEmpty ? 0 : value(0)
            for g in gt.indices where value(g) > bestValue { best = g; bestValue = value(g) }
            return (best, bestValue)
        }

        /// Greedy, in score order: each detection takes the free ground truth of its class it
        /// overlaps most, at IoU ≥ `foreground`.
        mutating func match(foreground: Double) {
            guard !gt.isEmpty else { return }
            var taken = [Bool](repeating: false, count: gt.count)
            for d in preds.indices {
                let (g, value) = argmax { taken[$0] || gtClass[$0] != predClass[d] ? 0 : v(d, $0) }
                if value >= foreground { state[d] = .matched; gtUsed[g] = true; taken[g] = true }
            }
        }

        /// An unmatched detection inside a crowd region of its class is neither right nor wrong.
        mutating func ignoreInside(crowd r: Int, image: COCOImage, inputs: COCOInputs, mask: Bool, foreground: Double) throws(SegError) {
            let region = annotations[r]
            let regionShape = try shape(region, index: r, isResult: false, image: image, inputs: inputs, mask: mask)
            let crowdIoU = ious(predShapes, [regionShape], crowd: true)
            for d in preds.indices where state[d] == .unmatched && crowdIoU[d] > foreground && region.categoryId == predClass[d] {
                state[d] = .ignored
            }
        }

        /// tidecv's error tests in its order: localization, classification, duplicate, then
        /// background or both. Returns the error and the ground truth a fix would match.
        mutating func classify(_ d: Int, foreground: Double, background: Double) -> (ErrorRecord, Int?) {
            let det = detections[preds[d]]
            var record = ErrorRecord(type: .background, detection: preds[d],
                                     originalClass: state[d] == .ignored ? nil : predClass[d], score: det.score,
                                     fixedClass: nil, missedClass: nil, area: TIDE.box(det).area)
            if gt.isEmpty { return (record, nil) }
            var (g, value) = argmax { gtClass[$0] == predClass[d] ? v(d, $0) : 0 }
            if background <= value && value <= foreground {
                record.type = .localization; record.area = TIDE.box(annotations[gt[g]]).area
                noteCandidate(d, for: g, score: det.score)
                return (record, g)
            }
            (g, value) = argmax { gtClass[$0] != predClass[d] ? v(d, $0) : 0 }
            if value >= foreground {
                record.type = .classification; record.area = TIDE.box(annotations[gt[g]]).area
                noteCandidate(d, for: g, score: det.score)
                return (record, g)
            }
            (g, value) = argmax { gtUsed[$0] && gtClass[$0] == predClass[d] ? v(d, $0) : 0 }
            if value >= foreground { record.type = .duplicate; return (record, nil) }
            (g, value) = argmax { v(d, $0) }
            record.type = value <= background ? .background : .both
            return (record, nil)
        }

        /// BestGTMatch's bookkeeping: a free ground truth remembers its best-scored candidate.
        mutating func noteCandidate(_ d: Int, for g: Int, score: Double) {
            guard !gtUsed[g] else { return }
            usable[g] = true
            if score > best[g]?.score ?? -1 { best[g] = (d, score) }  // tidecv starts each best score at -1
        }
    }
}
