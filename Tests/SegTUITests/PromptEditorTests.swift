import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

/// The prompt editor as a reducer of its own state: prompts, undo and redo history, refining.
@Suite("Prompt editor")
struct PromptEditorTests {
    /// The editor as the workbench runs it: the outcome's prompts are set as the journal would.
    static func run(_ editor: inout ObjectEditor, _ edit: PromptEdit) -> ObjectEditor.Outcome {
        let outcome = editor.reduce(edit)
        if case .prompts(let p) = outcome { editor.prompts = p }
        return outcome
    }

    @Test("points and a box add up; undo and redo walk the history; a new edit drops the redo history")
    func history() {
        var e = ObjectEditor()
        _ = Self.run(&e, .addPoint(PixelPoint(x: 3, y: 4), positive: true))
        _ = Self.run(&e, .setBox(PixelPoint(x: 1, y: 1), PixelPoint(x: 9, y: 8)))
        _ = Self.run(&e, .addPoint(PixelPoint(x: 5, y: 5), positive: false))
        #expect(e.prompts.points.count == 2 && e.prompts.box == PromptBox(x0: 1, y0: 1, x1: 9, y1: 8))
        _ = Self.run(&e, .undo)
        _ = Self.run(&e, .undo)
        #expect(e.prompts.points.count == 1 && e.prompts.box == nil)
        _ = Self.run(&e, .redo)
        #expect(e.prompts.box != nil && e.redoStack.count == 1)
        _ = Self.run(&e, .addPoint(PixelPoint(x: 0, y: 0), positive: true))
        #expect(e.redoStack.isEmpty)
        #expect(Self.run(&e, .redo) == .unchanged("nothing to redo"))
        for _ in 0..<3 { _ = Self.run(&e, .undo) }
        #expect(e.prompts.isEmpty && Self.run(&e, .undo) == .unchanged("nothing to undo"))
    }

    @Test("refine starts a fresh history on the object's prompts; clear ends refining and can be undone")
    func refineAndClear() {
        var e = ObjectEditor()
        _ = Self.run(&e, .addPoint(PixelPoint(x: 3, y: 4), positive: true))
        var object = Prompts()
        object.points = [PromptPoint(x: 7, y: 7, positive: true)]
        _ = Self.run(&e, .refine(object: 12, prompts: object))
        #expect(e.refining == 12 && e.prompts == object && e.undoStack == [Prompts()])
        _ = Self.run(&e, .clear)
        #expect(e.refining == nil && e.prompts.isEmpty && e.isEmpty)
        _ = Self.run(&e, .undo)
        #expect(e.prompts == object)
    }
}
