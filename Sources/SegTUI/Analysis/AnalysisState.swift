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
        let table = s.predictions.indices.contains(s.metricsView.set) ? s.predictions[s.metricsView.set].evaluation?.metrics : nil
        let columns = table?.columns.count ?? 0
        let rows = table?.rows.count ?? 0
        switch input {
        case .character("m"), .character("q"), .key(.escape): s.overlay = .none
        case .character("\t"):
            s.metricsView.set = (s.metricsView.set + 1) % metricsPages(s)
            s.metricsView.selected = 0
        case .character("o"):
            // Class order, then each column in turn (weakest first).
            let next = (s.metricsView.sortColumn.map { $0 + 1 } ?? 0)
            s.metricsView.sortColumn = next < columns ? next : nil
        case .key(.down), .character("j"): s.metricsView.selected = min(s.metricsView.selected + 1, max(rows - 1, 0))
        case .key(.up), .character("k"): s.metricsView.selected = max(0, s.metricsView.selected - 1)
        case .key(.pageDown): s.metricsView.selected = min(s.metricsView.selected + 10, max(rows - 1, 0))
        case .key(.pageUp): s.metricsView.selected = max(0, s.metricsView.selected - 10)
        default: break
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

    /// Recomputes the rows the filters leave, keeping the selection on the same row when it stays.
    static func refilter(_ s: inout WorkbenchState) {
        var b = s.failureBrowser
        let previous: Int? = b.shown.indices.contains(b.selected) ? b.shown[b.selected] : nil
        guard let evaluation = s.predictions[b.set].evaluation else {
            b.shown = []
            s.failureBrowser = b
            return
        }
        let keys = evaluation.failureKeys
        let needle = b.classFilter.lowercased()
        let classMatches = keys.classNames.map { needle.isEmpty || $0.lowercased().contains(needle) }
        let size = UInt8(FailureBrowserState.sizes.firstIndex(of: b.size) ?? 0)
        let kind = b.kind.map { UInt8($0.index) }
        let range = FailureBrowserState.iouRanges[b.iouRange]
        let order = evaluation.failureOrders[b.sort] ?? Array(evaluation.failures.indices)
        var counts = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
        var shown: [Int] = []
        shown.reserveCapacity(order.count)
        keys.classIndex.withUnsafeBufferPointer { classIndex in
            keys.sizeIndex.withUnsafeBufferPointer { sizeIndex in
                keys.kindIndex.withUnsafeBufferPointer { kindIndex in
                    for i in order where classMatches[Int(classIndex[i])] && (size == 0 || sizeIndex[i] == size)
                        && (kind == nil || kindIndex[i] == kind) && keys.iou[i] >= range.low && keys.iou[i] < range.high {
                        shown.append(i)
                        counts[Int(kindIndex[i])] += 1
                    }
                }
            }
        }
        b.shown = shown
        b.kindCounts = counts
        b.selected = previous.flatMap { b.shown.firstIndex(of: $0) } ?? 0
        s.failureBrowser = b
    }

    static func handleFailures(_ input: InputEvent, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        if s.failureBrowser.typing {
            switch input {
            case .key(.enter), .character("\r"), .character("\n"), .key(.escape): s.failureBrowser.typing = false
            case .key(.backspace), .key(.delete): s.failureBrowser.classFilter = String(s.failureBrowser.classFilter.dropLast())
            case .character(let c) where !c.isNewline: s.failureBrowser.classFilter.append(c)
            default: break
            }
            refilter(&s)
            return
        }
        let count = s.failureBrowser.shown.count
        switch input {
        case .character("f"), .character("q"), .key(.escape): s.overlay = .none
        case .character("/"): s.failureBrowser.typing = true
        case .character("x"):
            guard s.predictions[s.failureBrowser.set].evaluation != nil else {
                s.message = "still evaluating \(s.predictions[s.failureBrowser.set].name)"
                break
            }
            effects.append(.exportFailures(set: s.failureBrowser.set, rows: s.failureBrowser.shown))
            s.message = "writing \(s.failureBrowser.shown.count) failures…"
        case .character("s"):
            let sizes = FailureBrowserState.sizes
            let at = sizes.firstIndex(of: s.failureBrowser.size) ?? 0
            s.failureBrowser.size = sizes[(at + 1) % sizes.count]
            refilter(&s)
        case .character("e"):
            // The kinds this set has, in the engine's order, then all again.
            let kinds: [FailureRow.Kind?] = [nil] + (s.predictions[s.failureBrowser.set].evaluation?.failureKeys.kindsPresent ?? [])
            let at = kinds.firstIndex(of: s.failureBrowser.kind) ?? 0
            s.failureBrowser.kind = kinds[(at + 1) % kinds.count]
            refilter(&s)
        case .character("i"):
            s.failureBrowser.iouRange = (s.failureBrowser.iouRange + 1) % FailureBrowserState.iouRanges.count
            refilter(&s)
        case .character("o"):
            let all = FailureSort.allCases
            s.failureBrowser.sort = all[((all.firstIndex(of: s.failureBrowser.sort) ?? 0) + 1) % all.count]
            refilter(&s)
        case .character("\t"):
            s.failureBrowser.set = (s.failureBrowser.set + 1) % s.predictions.count
            s.failureBrowser.selected = 0
            s.failureBrowser.shown = []  // the old set's rows mean nothing in the new one
            refilter(&s)
        case .key(.down), .character("j"): s.failureBrowser.selected = min(s.failureBrowser.selected + 1, max(count - 1, 0))
        case .key(.up), .character("k"): s.failureBrowser.selected = max(s.failureBrowser.selected - 1, 0)
        case .key(.pageDown): s.failureBrowser.selected = min(s.failureBrowser.selected + 10, max(count - 1, 0))
        case .key(.pageUp): s.failureBrowser.selected = max(s.failureBrowser.selected - 10, 0)
        case .key(.home): s.failureBrowser.selected = 0
        case .key(.end): s.failureBrowser.selected = max(count - 1, 0)
        case .key(.enter), .character("\r"), .character("\n"):
            openFailure(at: s.failureBrowser.selected, &s, &effects)
        default: break
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
