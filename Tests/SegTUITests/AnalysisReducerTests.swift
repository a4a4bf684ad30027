import Testing
@testable import SegCore
@testable import SegEval
@testable import SegTUI

/// The metrics view, the failure browser and the compare view as reducers of their own state:
/// each gets its keys and the little it needs to know, and says what the workbench must do.
@Suite("Analysis views' own reducers")
struct AnalysisReducerTests {
    @Test("metrics: Tab wraps over the pages, o cycles the columns then class order, moves stay in the table, Esc closes")
    func metrics() {
        var view = MetricsViewState()
        let table = AnalysisViewTests.evaluation().metrics
        #expect(view.reduce(.character("\t"), pages: 3, table: table) == .open && view.set == 1)
        #expect(view.reduce(.character("\t"), pages: 3, table: table) == .open)
        #expect(view.reduce(.character("\t"), pages: 3, table: table) == .open && view.set == 0)
        _ = view.reduce(.character("o"), pages: 3, table: table)
        _ = view.reduce(.character("o"), pages: 3, table: table)
        #expect(view.sortColumn == 1)
        _ = view.reduce(.character("o"), pages: 3, table: table)
        #expect(view.sortColumn == nil)
        for _ in 0..<5 { _ = view.reduce(.key(.down), pages: 3, table: table) }
        #expect(view.selected == 2)  // three rows
        _ = view.reduce(.key(.pageUp), pages: 3, table: table)
        #expect(view.selected == 0)
        #expect(view.reduce(.key(.escape), pages: 3, table: table) == .close)
    }

    @Test("failures: x while the set is evaluated says so; filters refilter; Enter shows the selected row; Tab starts the next set at its top")
    func failures() {
        var browser = FailureBrowserState()
        #expect(browser.reduce(.character("x"), evaluations: [nil]) == .stillEvaluating)
        let evaluation = AnalysisViewTests.evaluation()
        browser.refilter(evaluation)
        #expect(browser.shown.count == 4)
        _ = browser.reduce(.character("e"), evaluations: [evaluation, nil])  // the first kind present: missed
        #expect(browser.kind == .missed && browser.shown.count == 2)
        _ = browser.reduce(.key(.down), evaluations: [evaluation, nil])
        #expect(browser.reduce(.key(.enter), evaluations: [evaluation, nil]) == .show(position: 1))
        #expect(browser.reduce(.character("x"), evaluations: [evaluation, nil]) == .export)
        _ = browser.reduce(.character("/"), evaluations: [evaluation, nil])
        for c in "car" { _ = browser.reduce(.character(c), evaluations: [evaluation, nil]) }
        #expect(browser.classFilter == "car" && browser.shown.count == 1)  // the missed cart
        #expect(browser.reduce(.key(.enter), evaluations: [evaluation, nil]) == .open && !browser.typing)
        #expect(browser.reduce(.character("\t"), evaluations: [evaluation, nil]) == .open)
        #expect(browser.set == 1 && browser.shown.isEmpty && browser.selected == 0)
        #expect(browser.reduce(.character("q"), evaluations: [evaluation, nil]) == .close)
    }

    @Test("compare: 1 and 2 skip sets without an evaluation and never pick the other side's; zoom keys go to the image pane")
    func compare() {
        var view = CompareViewState()
        view.a = 0
        view.b = 1
        #expect(view.reduce(.character("1"), evaluated: [true, true, false, true]) == .setsChanged)
        #expect(view.a == 3)  // 1 is B, 2 has no evaluation
        #expect(view.reduce(.character("2"), evaluated: [true, true, false, true]) == .setsChanged)
        #expect(view.b == 0)  // 2 skipped, 3 is A
        view.position = 4
        #expect(view.reduce(.character("n"), evaluated: [true, true]) == .show(position: 5))
        #expect(view.reduce(.character("z"), evaluated: [true, true]) == .view(.character("z")))
        #expect(view.reduce(.character("\t"), evaluated: [true, true]) == .open && view.showClasses)
        view.masksA = [(Mask(width: 1, height: 1), 1)]
        #expect(view.reduce(.key(.escape), evaluated: [true, true]) == .close && view.masksA.isEmpty)
    }

    @Test("compare: the order is B − A per image, worst first, images without both scores last")
    func compareOrder() {
        var view = CompareViewState()
        let images = ["a", "b", "c", "d"].map { ImageEntry(path: "/x/\($0).png") }
        let a = ImageScores(metric: "F1", byStem: ["a": 0.5, "b": 0.9, "c": 0.2])
        let b = ImageScores(metric: "F1", byStem: ["a": 0.6, "b": 0.1, "d": 0.3])
        view.reorder(images, a: a, b: b)
        #expect(view.order == [1, 0, 2, 3])
    }
}
