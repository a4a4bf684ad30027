import SegCore
import SegEval

/// The metrics view (`m`): which prediction set, and how its per-class table is sorted.
public struct MetricsViewState: Equatable, Sendable {
    public var set = 0
    /// nil: the engine's order (class ids); else the index of the metric column.
    public var sortColumn: Int?
    /// The highlighted row (in the shown order), whose precision–recall curve is drawn.
    public var selected = 0

    public init() {}

    public enum Outcome: Equatable { case open, close }

    /// The view's keys, over `pages` pages; `table` is the shown page's (nil for a NoC curve or a
    /// set still being evaluated).
    public mutating func reduce(_ input: InputEvent, pages: Int, table: MetricsTable?) -> Outcome {
        let columns = table?.columns.count ?? 0
        let last = max((table?.rows.count ?? 0) - 1, 0)
        switch input {
        case .character("m"), .character("q"), .key(.escape): return .close
        case .character("\t"):
            set = (set + 1) % max(pages, 1)
            selected = 0
        case .character("o"):
            // Class order, then each column in turn (weakest first).
            let next = (sortColumn.map { $0 + 1 } ?? 0)
            sortColumn = next < columns ? next : nil
        case .key(.down), .character("j"): selected = min(selected + 1, last)
        case .key(.up), .character("k"): selected = max(0, selected - 1)
        case .key(.pageDown): selected = min(selected + 10, last)
        case .key(.pageUp): selected = max(0, selected - 10)
        default: break
        }
        return .open
    }
}

/// How the failure browser orders its rows: as `segterm eval --failure-sort`.
public typealias FailureSort = FailureTable.SortKey

/// The failure browser (`f`): filters that combine, a sort order, and the rows they leave.
public struct FailureBrowserState: Equatable, Sendable {
    public var set = 0
    /// Class names containing this text (case-insensitive); empty: every class.
    public var classFilter = ""
    public var size: SizeBucket?
    public var kind: FailureRow.Kind?
    /// Index into `iouRanges` (0: any IoU).
    public var iouRange = 0
    public var sort: FailureSort = .iou
    /// Typing into the class filter.
    public var typing = false
    public var selected = 0
    /// Indices into the set's failure rows that pass the filters, in the sort order.
    public var shown: [Int] = []
    /// How many of the shown rows are of each kind (in `FailureRow.Kind.allCases` order).
    public var kindCounts: [Int] = []

    public init() {}

    public static let sizes: [SizeBucket?] = [nil] + SizeBucket.allCases
    /// IoU ranges `i` cycles through: [low, high), with their labels.
    public static let iouRanges: [(label: String, low: Double, high: Double)] = [
        ("all", -.infinity, .infinity), ("< 0.1", -.infinity, 0.1), ("0.1\u{2013}0.5", 0.1, 0.5), ("\u{2265} 0.5", 0.5, .infinity),
    ]

    public enum Outcome: Equatable {
        case open
        case close
        /// Export the shown rows (`x`).
        case export
        /// `x` before the set's evaluation has arrived.
        case stillEvaluating
        /// Show the failure at this position of the shown rows on its image.
        case show(position: Int)
    }

    /// The browser's keys; `evaluations` holds each prediction set's evaluation (nil while it runs).
    public mutating func reduce(_ input: InputEvent, evaluations: [SetEvaluation?]) -> Outcome {
        let evaluation = evaluations.indices.contains(set) ? evaluations[set] : nil
        if typing {
            switch input {
            case .key(.enter), .character("\r"), .character("\n"), .key(.escape): typing = false
            case .key(.backspace), .key(.delete): classFilter = String(classFilter.dropLast())
            case .character(let c) where !c.isNewline: classFilter.append(c)
            default: break
            }
            refilter(evaluation)
            return .open
        }
        let last = max(shown.count - 1, 0)
        switch input {
        case .character("f"), .character("q"), .key(.escape): return .close
        case .character("/"): typing = true
        case .character("x"): return evaluation == nil ? .stillEvaluating : .export
        case .character("s"):
            let sizes = Self.sizes
            size = sizes[((sizes.firstIndex(of: size) ?? 0) + 1) % sizes.count]
            refilter(evaluation)
        case .character("e"):
            // The kinds this set has, in the engine's order, then all again.
            let kinds: [FailureRow.Kind?] = [nil] + (evaluation?.failureKeys.kindsPresent ?? [])
            kind = kinds[((kinds.firstIndex(of: kind) ?? 0) + 1) % kinds.count]
            refilter(evaluation)
        case .character("i"):
            iouRange = (iouRange + 1) % Self.iouRanges.count
            refilter(evaluation)
        case .character("o"):
            let all = FailureSort.allCases
            sort = all[((all.firstIndex(of: sort) ?? 0) + 1) % all.count]
            refilter(evaluation)
        case .character("\t"):
            set = (set + 1) % max(evaluations.count, 1)
            selected = 0
            shown = []  // the old set's rows mean nothing in the new one
            refilter(evaluations.indices.contains(set) ? evaluations[set] : nil)
        case .key(.down), .character("j"): selected = min(selected + 1, last)
        case .key(.up), .character("k"): selected = max(selected - 1, 0)
        case .key(.pageDown): selected = min(selected + 10, last)
        case .key(.pageUp): selected = max(selected - 10, 0)
        case .key(.home): selected = 0
        case .key(.end): selected = last
        case .key(.enter), .character("\r"), .character("\n"): return .show(position: selected)
        default: break
        }
        return .open
    }

    /// Recomputes the rows the filters leave, keeping the selection on the same row when it stays.
    public mutating func refilter(_ evaluation: SetEvaluation?) {
        let previous: Int? = shown.indices.contains(selected) ? shown[selected] : nil
        guard let evaluation else {
            shown = []
            return
        }
        let keys = evaluation.failureKeys
        let needle = classFilter.lowercased()
        let classMatches = keys.classNames.map { needle.isEmpty || $0.lowercased().contains(needle) }
        let size = UInt8(Self.sizes.firstIndex(of: self.size) ?? 0)
        let kind = self.kind.map { UInt8($0.index) }
        let range = Self.iouRanges[iouRange]
        let order = evaluation.failureOrders[sort] ?? Array(evaluation.failures.indices)
        var counts = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
        var rows: [Int] = []
        rows.reserveCapacity(order.count)
        keys.classIndex.withUnsafeBufferPointer { classIndex in
            keys.sizeIndex.withUnsafeBufferPointer { sizeIndex in
                keys.kindIndex.withUnsafeBufferPointer { kindIndex in
                    for i in order where classMatches[Int(classIndex[i])] && (size == 0 || sizeIndex[i] == size)
                        && (kind == nil || kindIndex[i] == kind) && keys.iou[i] >= range.low && keys.iou[i] < range.high {
                        rows.append(i)
                        counts[Int(kindIndex[i])] += 1
                    }
                }
            }
        }
        shown = rows
        kindCounts = counts
        selected = previous.flatMap { rows.firstIndex(of: $0) } ?? 0
    }
}

/// A failure opened on its image: `n` / `p` walk the browser's rows from here.
public struct FailureFocus: Equatable, Sendable {
    public var set: Int
    public var position: Int
    public var row: FailureRow
    /// The row's index in its set's failures (names the prediction's mask for the painter's cache).
    public var index: Int
    /// The detection's mask, drawn as a fill (nil for missed objects and non-instance rows).
    public var prediction: Mask?
}

/// The failure rows' class, size bucket and kind as indices.
public struct FailureKeys: Sendable {
    public var classNames: [String]
    public var classIndex: [Int32]
    public var sizeIndex: [UInt8]   // index into FailureBrowserState.sizes (0: none)
    public var kindIndex: [UInt8]   // index into FailureRow.Kind.allCases
    public var iou: [Double]

    init(_ rows: [FailureRow]) {
        var names: [String: Int32] = [:]
        var classNames: [String] = []
        classIndex = rows.map { row in
            if let known = names[row.className] { return known }
            names[row.className] = Int32(classNames.count)
            classNames.append(row.className)
            return Int32(classNames.count - 1)
        }
        self.classNames = classNames
        sizeIndex = rows.map { UInt8(FailureBrowserState.sizes.firstIndex(of: $0.sizeBucket) ?? 0) }
        kindIndex = rows.map { UInt8($0.kind.index) }
        iou = rows.map(\.iou)
        var present = Set<FailureRow.Kind>()
        for i in Set(kindIndex) { present.insert(FailureRow.Kind.allCases[Int(i)]) }
        kindsPresent = FailureRow.Kind.allCases.filter { present.contains($0) }
    }

    /// The kinds that occur, in the engine's order.
    public var kindsPresent: [FailureRow.Kind]
}

extension SetEvaluation {
    /// The failure rows in each sort order, computed once when the set is evaluated, so that
    /// filtering a sorted list is one pass over it (100,000 rows within a frame).
    static func failureOrders(_ rows: [FailureRow]) -> [FailureSort: [Int]] {
        let table = FailureTable(rows: rows)
        return Dictionary(uniqueKeysWithValues: FailureSort.allCases.map { ($0, table.order(by: $0)) })
    }
}

extension Workbench {
    static let noPredictionSets = "no prediction sets to evaluate: they need ground truth (ground_truth and [predictions] in segterm.toml, or --gt and --pred NAME=PATH)"

    // MARK: Metrics view

    /// The metrics view's pages: one per prediction set, then the interactive benchmark's curve.
    static func metricsPages(_ s: WorkbenchState) -> Int { s.predictions.count + s.noc.count }

    static func openMetrics(_ s: inout WorkbenchState) {
        guard metricsPages(s) > 0 else {
            s.message = Self.noPredictionSets
            return
        }
        s.metricsView.set = min(s.metricsView.set, metricsPages(s) - 1)
        s.overlay = .metrics
    }

    static func handleMetrics(_ input: InputEvent, _ s: inout WorkbenchState) {
        let set = s.metricsView.set
        let table = s.predictions.indices.contains(set) ? s.predictions[set].evaluation?.metrics : nil
        switch s.metricsView.reduce(input, pages: metricsPages(s), table: table) {
        case .open: break
        case .close: s.overlay = .none
        }
    }

    /// The rows of the metrics table in the chosen order: undefined values last.
    public static func metricsRows(_ table: MetricsTable, sortColumn: Int?) -> [MetricsTable.Row] {
        guard let c = sortColumn, c < table.columns.count else { return table.rows }
        return table.rows.enumerated().sorted { a, b in
            switch (a.element.values[c], b.element.values[c]) {
            case let (x?, y?): return x != y ? x < y : a.offset < b.offset
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
    }

    // MARK: Failure browser

    static func openFailures(_ s: inout WorkbenchState) {
        guard !s.predictions.isEmpty else {
            s.message = Self.noPredictionSets
            return
        }
        s.failureBrowser.set = min(s.failureBrowser.set, s.predictions.count - 1)
        refilter(&s)
        s.overlay = .failures
    }

    /// The browser's rows again, after its set's evaluation arrived or changed.
    static func refilter(_ s: inout WorkbenchState) {
        s.failureBrowser.refilter(s.predictions[s.failureBrowser.set].evaluation)
    }

    static func handleFailures(_ input: InputEvent, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        let b = s.failureBrowser
        switch s.failureBrowser.reduce(input, evaluations: s.predictions.map(\.evaluation)) {
        case .open: break
        case .close: s.overlay = .none
        case .stillEvaluating: s.message = "still evaluating \(s.predictions[b.set].name)"
        case .export:
            effects.append(.exportFailures(set: b.set, rows: b.shown))
            s.message = "writing \(b.shown.count) failures…"
        case .show(let position): openFailure(at: position, &s, &effects)
        }
    }

    /// Closes the browser and shows the failure on its image, zoomed onto its box.
    static func openFailure(at position: Int, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        let b = s.failureBrowser
        guard b.shown.indices.contains(position), let evaluation = s.predictions[b.set].evaluation else { return }
        let row = evaluation.failures[b.shown[position]]
        let stem = ImageEntry(path: row.image).stem
        guard let index = s.images.firstIndex(where: { $0.stem == stem }) else {
            s.message = "\(row.image) is not in the image folder"
            return
        }
        s.overlay = .none
        s.failureBrowser.selected = position
        if index != s.current { go(to: index, &s, &effects) }
        // The prediction's mask is decoded (or a label map read) on the evaluation queue, not here
        // on the interface's thread; `.failureMask` brings it.
        s.failureFocus = FailureFocus(set: b.set, position: position, row: row, index: b.shown[position], prediction: nil)
        effects.append(.loadFailureMask(set: b.set, index: b.shown[position]))
        focusViewport(&s)
    }

    /// Zooms so the failure's box takes about a third of the view, centred on it.
    static func focusViewport(_ s: inout WorkbenchState) {
        guard let focus = s.failureFocus, let image = s.image, let box = focus.row.box else { return }
        let zoom = min(Double(image.width) / max(box.width * 3, 1), Double(image.height) / max(box.height * 3, 1))
        s.viewport = Viewport(zoom: min(max(zoom, 1), 16), centerX: box.x + box.width / 2, centerY: box.y + box.height / 2)
    }

    /// `n` / `p` with a failure open: the next or previous row of the browser.
    static func stepFailure(_ step: Int, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) -> Bool {
        guard s.failureFocus != nil else { return false }
        // The browser keeps its selection on the opened row through filter and sort changes.
        let next = s.failureBrowser.selected + step
        guard s.failureBrowser.shown.indices.contains(next) else {
            s.message = step > 0 ? "last failure" : "first failure"
            return true
        }
        openFailure(at: next, &s, &effects)
        return true
    }

    static func failureText(_ focus: FailureFocus, position: Int, of total: Int) -> String {
        let r = focus.row
        var parts = ["failure \(position + 1)/\(total)", r.kind.rawValue]
        if !r.className.isEmpty { parts.append(r.className) }
        if let size = r.sizeBucket { parts.append(size.rawValue) }
        if r.iou >= 0 { parts.append("IoU \(formatMetric(r.iou, digits: 2))") }
        if let score = r.score { parts.append("score \(formatMetric(score, digits: 2))") }
        return parts.joined(separator: " ") + "  n/p"
    }
}
