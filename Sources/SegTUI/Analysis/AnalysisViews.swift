import SegCore
import SegEval
import SegModels

/// The metrics view and the failure browser, drawn over everything but the status line.
extension Workbench {
    static let eighths: [Character] = [" ", "\u{258F}", "\u{258E}", "\u{258D}", "\u{258C}", "\u{258B}", "\u{258A}", "\u{2589}", "\u{2588}"]

    /// A horizontal bar of `width` cells for a value in 0...1, in eighths of a cell; blank when
    /// the value is undefined.
    public static func bar(_ value: Double?, width: Int) -> String {
        guard let value, value >= 0, width > 0 else { return String(repeating: " ", count: max(width, 0)) }
        let units = Int((min(value, 1) * Double(width * 8)).rounded())
        var text = String(repeating: "\u{2588}", count: units / 8)
        if units % 8 > 0 { text.append(eighths[units % 8]) }
        return text.padding(toLength: width, withPad: " ", startingAt: 0)
    }

    /// Clears the area and returns a writer of lines from its top (text cut at the area's width).
    private static func panel(_ area: CellRect, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        for row in area.row..<(area.row + area.rows) {
            buffer.write(String(repeating: " ", count: area.columns), row: row, column: area.column,
                         foreground: colored ? theme.panelForeground : nil)
        }
    }

    private static func line(_ text: String, _ row: Int, _ area: CellRect, into buffer: inout CellBuffer, theme: Theme, colored: Bool,
                             bold: Bool = false, highlight: Bool = false) {
        guard row >= area.row, row < area.row + area.rows else { return }
        let style = theme.row(selected: highlight, colored: colored)
        buffer.write(String(text.prefix(area.columns)).padding(toLength: area.columns, withPad: " ", startingAt: 0), row: row,
                     column: area.column, foreground: colored ? theme.panelForeground : nil,
                     background: style.background, bold: bold, reverse: style.reverse)
    }

    // MARK: Metrics

    static func drawMetrics(_ s: WorkbenchState, area: CellRect, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        panel(area, into: &buffer, theme: theme, colored: colored)
        if s.metricsView.set >= s.predictions.count, s.noc.indices.contains(s.metricsView.set - s.predictions.count) {
            drawNoc(s.noc[s.metricsView.set - s.predictions.count], area: area, into: &buffer, theme: theme, colored: colored)
            return
        }
        guard s.predictions.indices.contains(s.metricsView.set) else { return }
        let column = s.predictions[s.metricsView.set]
        var row = area.row
        func put(_ text: String, bold: Bool = false) {
            line(text, row, area, into: &buffer, theme: theme, colored: colored, bold: bold)
            row += 1
        }
        put(" Metrics: \(column.name)   Tab next set  o sort  j/k class  m close", bold: true)
        guard let table = column.evaluation?.metrics else {
            put(column.failed ? " this set could not be evaluated (see the message below)" : " evaluating\u{2026}")
            return
        }
        put(" " + table.title)
        // The headline numbers, as many to a line as fit.
        var summary = " "
        for (name, value) in table.summary {
            let item = "\(name) \(formatMetric(value))   "
            if summary.count + item.count > area.columns { put(summary); summary = " " }
            summary += item
        }
        put(summary)
        put("")

        let nameWidth = min(max(table.rows.map(\.name.count).max() ?? 5, table.rowLabel.count, 5), 20)
        let barColumn = s.metricsView.sortColumn ?? 0
        let barWidth = max(0, min(24, area.columns - 2 - nameWidth - 8 * table.columns.count - 2))
        let headers = table.columns.enumerated().map { i, name in
            (name + (s.metricsView.sortColumn == i ? "\u{25B2}" : "")).leftPadded(to: 7)
        }
        put(" " + table.rowLabel.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + headers.map { " " + $0 }.joined()
            + (barWidth > 0 ? "  " + table.columns[barColumn] : ""), bold: true)
        let rows = metricsRows(table, sortColumn: s.metricsView.sortColumn)
        let selected = min(s.metricsView.selected, max(rows.count - 1, 0))
        let tideLines = table.errors.isEmpty ? 0 : table.errors.count + 2
        let tableTop = row
        let room = max(area.row + area.rows - row - tideLines, 1)
        let first = min(max(0, selected - room / 2), max(rows.count - room, 0))
        let tableWidth = 1 + nameWidth + 8 * table.columns.count + (barWidth > 0 ? 2 + barWidth : 0)
        for (offset, r) in rows[first..<min(rows.count, first + room)].enumerated() {
            var name = r.name
            if name.count > nameWidth { name = String(name.prefix(nameWidth - 1)) + "\u{2026}" }
            let values = r.values.map { " " + ($0.map { formatMetric($0) } ?? "-").leftPadded(to: 7) }.joined()
            line(" " + name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + values
                 + (barWidth > 0 ? "  " + bar(r.values[barColumn], width: barWidth) : ""), row, area, into: &buffer, theme: theme,
                 colored: colored, highlight: first + offset == selected)
            row += 1
        }
        // Charts to the right of the table when there is room: the selected class's
        // precision–recall curve, and the distribution of the per-image metric.
        let chartColumn = area.column + tableWidth + 3
        let chartArea = CellRect(column: chartColumn, row: tableTop - 1, columns: area.column + area.columns - chartColumn,
                                 rows: area.row + area.rows - tableTop + 1)
        // Drawn last, over the full-width lines of the TIDE section.
        defer {
            if chartArea.columns >= 34, rows.indices.contains(selected) {
                drawCharts(selected: rows[selected], scores: column.scores, area: chartArea, into: &buffer, theme: theme, colored: colored)
            }
        }
        guard !table.errors.isEmpty, row + tideLines <= area.row + area.rows else { return }
        put("")
        put(" TIDE errors: AP gained by fixing each (×100)", bold: true)
        let largest = max(table.errors.map(\.gain).max() ?? 0, 1e-9)
        let width = max(0, min(40, area.columns - 20, chartArea.column - area.column - 16))
        for (name, gain) in table.errors {
            put(" " + name.padding(toLength: 6, withPad: " ", startingAt: 0) + String(format: "%6.2f ", gain * 100) + bar(gain / largest, width: width))
        }
    }

    /// Columns of eighth blocks, one per value in 0...1 (negative: empty), `height` rows, top first.
    public static func columnChart(_ values: [Double], height: Int) -> [String] {
        let blocks: [Character] = [" ", "\u{2581}", "\u{2582}", "\u{2583}", "\u{2584}", "\u{2585}", "\u{2586}", "\u{2587}", "\u{2588}"]
        let levels = values.map { $0 < 0 ? 0 : Int((min($0, 1) * Double(height * 8)).rounded()) }
        return (0..<height).map { line in
            let floor = (height - 1 - line) * 8
            return String(levels.map { blocks[min(max($0 - floor, 0), 8)] })
        }
    }

    static func drawCharts(selected: MetricsTable.Row, scores: ImageScores?, area: CellRect, into buffer: inout CellBuffer,
                           theme: Theme, colored: Bool) {
        var row = area.row
        let width = min(area.columns - 6, 50)
        func put(_ text: String, bold: Bool = false) {
            guard row < area.row + area.rows else { return }
            buffer.write(String(text.prefix(area.columns)), row: row, column: area.column,
                         foreground: colored ? theme.panelForeground : nil, bold: bold)
            row += 1
        }
        let height = max(3, min(8, (area.rows - 8) / 2))
        if !selected.precisionCurve.isEmpty {
            put("precision\u{2013}recall, \(selected.name), IoU 0.5", bold: true)
            let curve = selected.precisionCurve
            let sampled = (0..<width).map { c in curve[min(curve.count - 1, Int((Double(c) / Double(max(width - 1, 1)) * Double(curve.count - 1)).rounded()))] }
            for (i, text) in columnChart(sampled, height: height).enumerated() {
                put((i == 0 ? "1.0 \u{2502}" : i == height - 1 ? "  0 \u{2502}" : "    \u{2502}") + text)
            }
            put("    \u{2514}" + String(repeating: "\u{2500}", count: width))
            put("     recall 0" + String(repeating: " ", count: max(0, width - 13)) + "1")
            put("")
        }
        guard let scores, !scores.byStem.isEmpty else { return }
        // Ten bins over 0...1; an undefined per-image value is left out.
        var bins = [Int](repeating: 0, count: 10)
        for v in scores.byStem.values where v >= 0 { bins[min(Int(v * 10), 9)] += 1 }
        let most = max(bins.max() ?? 1, 1)
        put("images by \(scores.metric) (\(bins.reduce(0, +)) images)", bold: true)
        let wide: [Double] = bins.flatMap { count -> [Double] in
            let height = Double(count) / Double(most)
            return [height, height, height, -1]
        }
        for (i, text) in columnChart(wide, height: height).enumerated() {
            put((i == 0 ? String(most).leftPadded(to: 3) + " \u{2502}" : "    \u{2502}") + text)
        }
        put("    \u{2514}" + String(repeating: "\u{2500}", count: 40))
        put("     0                                     1")
    }

    /// The interactive benchmark: NoC and the mean IoU after each click.
    static func drawNoc(_ noc: NocCurve, area: CellRect, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        var row = area.row
        func put(_ text: String, bold: Bool = false) {
            line(text, row, area, into: &buffer, theme: theme, colored: colored, bold: bold)
            row += 1
        }
        put(" Interactive benchmark: \(noc.model)   Tab next page  m close", bold: true)
        put(String(format: " %d objects   NoC@85 %.2f   NoC@90 %.2f   never 90%%: %d", noc.objects, noc.noc85, noc.noc90, noc.overMax90))
        put("")
        put(" mean IoU after each click", bold: true)
        let low = max(0, (noc.meanIoU.min() ?? 0) - 0.05)
        let scaled = noc.meanIoU.map { ($0 - low) / max(1 - low, 1e-9) }
        let perClick = max(1, min(4, (area.columns - 12) / max(noc.meanIoU.count, 1)))
        // Each click a column of bars with a gap after it when there is room.
        let wide: [Double] = scaled.flatMap { (v: Double) -> [Double] in
            perClick > 1 ? Array(repeating: v, count: perClick - 1) + [-1] : [v]
        }
        let height = max(4, min(14, area.rows - 8))
        for (i, text) in columnChart(wide, height: height).enumerated() {
            let label = i == 0 ? " 1.00 " : i == height - 1 ? String(format: " %.2f ", low) : "      "
            put(label + "\u{2502}" + text)
        }
        put("      \u{2514}" + String(repeating: "\u{2500}", count: wide.count))
        put("       click 1" + String(repeating: " ", count: max(0, wide.count - 8 - String(noc.meanIoU.count).count)) + String(noc.meanIoU.count))
    }

    // MARK: Failures

    static func drawFailures(_ s: WorkbenchState, area: CellRect, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        panel(area, into: &buffer, theme: theme, colored: colored)
        let b = s.failureBrowser
        guard s.predictions.indices.contains(b.set) else { return }
        let column = s.predictions[b.set]
        var row = area.row
        func put(_ text: String, bold: Bool = false, highlight: Bool = false) {
            line(text, row, area, into: &buffer, theme: theme, colored: colored, bold: bold, highlight: highlight)
            row += 1
        }
        guard let evaluation = column.evaluation else {
            put(" Failures: \(column.name)", bold: true)
            put(column.failed ? " this set could not be evaluated (see the message below)" : " evaluating\u{2026}")
            return
        }
        put(" Failures: \(column.name)   \(b.shown.count) of \(evaluation.failures.count) shown", bold: true)
        put(" class: " + (b.classFilter.isEmpty && !b.typing ? "all" : b.classFilter + (b.typing ? "\u{2581}" : ""))
            + "   size: \(b.size?.rawValue ?? "all")   type: \(b.kind?.rawValue ?? "all")   IoU: \(FailureBrowserState.iouRanges[b.iouRange].label)"
            + "   sort: \(b.sort.rawValue)")
        put(" " + zip(FailureRow.Kind.allCases, b.kindCounts).filter { $0.1 > 0 }.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: "  "))
        put(" / class  s size  e type  i IoU  o sort  Enter open  x export  Tab set  f close")
        let imageWidth = max(8, min(24, area.columns - 72))
        put(" " + "#".leftPadded(to: 5) + "  " + "image".padding(toLength: imageWidth, withPad: " ", startingAt: 0)
            + " class        size      area    IoU  score  type", bold: true)
        let room = max(area.row + area.rows - row, 1)
        let first = min(max(0, b.selected - room / 2), max(b.shown.count - room, 0))
        for position in first..<min(b.shown.count, first + room) {
            let r = evaluation.failures[b.shown[position]]
            var image = FileName.last(r.image)
            if image.count > imageWidth { image = String(image.prefix(imageWidth - 1)) + "\u{2026}" }
            let text = " " + String(position + 1).leftPadded(to: 5) + "  " + image.padding(toLength: imageWidth, withPad: " ", startingAt: 0)
                + " " + String(r.className.prefix(12)).padding(toLength: 12, withPad: " ", startingAt: 0)
                + " " + (r.sizeBucket?.rawValue ?? "").padding(toLength: 6, withPad: " ", startingAt: 0)
                + String(Int(r.area)).leftPadded(to: 8)
                + (r.iou < 0 ? "-" : formatMetric(r.iou, digits: 2)).leftPadded(to: 7)
                + (r.score.map { formatMetric($0, digits: 2) } ?? "-").leftPadded(to: 7)
                + "  " + r.kind.rawValue
            put(text, highlight: position == b.selected)
        }
    }

    /// The opened failure's box, as corners on the image.
    static func drawFailureBox(_ s: WorkbenchState, layout: WorkbenchLayout, into buffer: inout CellBuffer, theme: Theme, colored: Bool) {
        guard let box = s.failureFocus?.row.box else { return }
        let prompt = PromptBox(x0: box.x, y0: box.y, x1: box.x + box.width, y1: box.y + box.height)
        drawBox(prompt, layout: layout, into: &buffer, color: theme.negativePoint, colored: colored)
    }
}
