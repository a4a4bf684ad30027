import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

/// Rebinding keys (#22 item 11) and the help that lists what is bound (item 10: it scrolls).
@Suite("Keymap and help")
struct KeymapTests {
    @Test("every action has a description and a default key, and no default key does two things")
    func defaults() {
        var seen: [String: WorkbenchAction] = [:]
        for action in WorkbenchAction.allCases {
            #expect(!action.description.isEmpty && !action.defaultKeys.isEmpty, "\(action)")
            for key in action.defaultKeys {
                #expect(Keymap.isKey(key), "\(key)")
                #expect(seen[key] == nil, "\(key): \(seen[key].map(\.rawValue) ?? "") and \(action.rawValue)")
                seen[key] = action
            }
        }
        let keymap = Keymap()
        #expect(keymap.action(for: "]") == .nextImage && keymap.action(for: "PageDown") == .nextImage)
        #expect(keymap.action(for: "C-r") == .redo && keymap.action(for: "Tab") == .nextCandidate)
    }

    @Test("an override takes its keys from the defaults; conflicts and unknown names are errors")
    func overrides() throws {
        let keymap = try Keymap(overrides: ["next_image": ["n", "Space"], "next_failure": ["N"]])
        #expect(keymap.action(for: "n") == .nextImage && keymap.action(for: "Space") == .nextImage)
        #expect(keymap.action(for: "]") == nil && keymap.action(for: "PageDown") == nil)
        #expect(keymap.action(for: "N") == .nextFailure)
        #expect(keymap.keys(for: .nextImage) == ["Space", "n"] && keymap.keys(for: .previousImage) == ["[", "PageUp"])
        #expect(keymap.helpLines.contains { $0.hasPrefix("Space n") && $0.contains("next image") })
        #expect(throws: Keymap.Problem.unknownAction("next_imag")) { try Keymap(overrides: ["next_imag": ["n"]]) }
        #expect(throws: Keymap.Problem.unknownKey("Ctrl-X", action: "quit")) { try Keymap(overrides: ["quit": ["Ctrl-X"]]) }
        #expect(throws: Keymap.Problem.sameKey("x", ["help", "quit"])) { try Keymap(overrides: ["quit": ["x"], "help": ["x"]]) }
    }

    @Test("the reducer follows the keymap: a rebound key does its new action, the freed default does nothing")
    func reducerUsesKeymap() throws {
        var s = WorkbenchReducerTests.ready()
        s.keymap = try Keymap(overrides: ["next_image": ["n"], "quit": ["C-q"]])
        _ = WorkbenchReducerTests.send(&s, .input(.character("]")))
        #expect(s.current == 0)
        _ = WorkbenchReducerTests.send(&s, .input(.character("n")))
        #expect(s.current == 1)
        _ = WorkbenchReducerTests.send(&s, .input(.character("q")))
        #expect(!s.quit)
        _ = WorkbenchReducerTests.send(&s, .input(.character("\u{11}")))
        #expect(s.quit)
    }

    @Test("in a short terminal the help scrolls to its last line and says how; any other key closes it")
    func helpScrolls() {
        var s = WorkbenchReducerTests.ready(rows: 16, columns: 100)
        _ = WorkbenchReducerTests.send(&s, .input(.character("?")))
        #expect(s.overlay == .help)
        func shown() -> [String] { let b = Workbench.render(s); return (0..<b.rows).map { b.text(row: $0) } }
        #expect(shown().contains { $0.contains("j k PgUp PgDn scroll") })
        #expect(!shown().contains { $0.contains("quit (everything is already saved)") })
        for _ in 0..<60 { _ = WorkbenchReducerTests.send(&s, .input(.character("j"))) }
        #expect(s.overlay == .help)
        // The last action is on screen at the bottom of the scroll, and it goes no further.
        #expect(shown().contains { $0.contains("quit (everything is already saved)") })
        let top = s.helpTop
        _ = WorkbenchReducerTests.send(&s, .input(.key(.pageDown)))
        #expect(s.helpTop == top)
        _ = WorkbenchReducerTests.send(&s, .input(.key(.pageUp)))
        #expect(s.helpTop < top)
        _ = WorkbenchReducerTests.send(&s, .input(.character("x")))
        #expect(s.overlay == .none)
        // Tall enough: everything at once, and any key closes.
        var tall = WorkbenchReducerTests.ready(rows: 80, columns: 120)
        _ = WorkbenchReducerTests.send(&tall, .input(.character("?")))
        let lines = { let b = Workbench.render(tall); return (0..<b.rows).map { b.text(row: $0) } }()
        #expect(lines.contains { $0.contains("press any key") } && lines.contains { $0.contains("positive point at the cursor") })
        _ = WorkbenchReducerTests.send(&tall, .input(.character(" ")))
        #expect(tall.overlay == .none)
    }
}

/// The overlays' own reducers, on their own state (#16 item 3).
@Suite("Class picker and help page reducers")
struct OverlayReducerTests {
    @Test("the picker filters as typed, moves within its choices, picks the highlighted class or the typed name")
    func picker() {
        let classes = ["car", "cart", "cat"]
        var picker = ClassPicker()
        for c in "car" {
            guard case .open(let next) = picker.reduce(.character(c), classes: classes) else { Issue.record("closed on \(c)"); return }
            picker = next
        }
        #expect(ClassPicker.choices(classes, filter: picker.filter) == ["car", "cart"])
        guard case .open(let down) = picker.reduce(.key(.down), classes: classes) else { Issue.record("closed"); return }
        #expect(down.highlighted == 1)
        #expect(down.reduce(.key(.down), classes: classes) == .open(down))  // the last choice stays
        #expect(down.reduce(.key(.enter), classes: classes) == .pick("cart"))
        #expect(ClassPicker(filter: "bus").reduce(.key(.enter), classes: classes) == .pick("bus"))
        #expect(ClassPicker(filter: "  ").reduce(.key(.enter), classes: classes) == .needsName)
        #expect(picker.reduce(.key(.escape), classes: classes) == .cancel)
        #expect(picker.reduce(.key(.backspace), classes: classes) == .open(ClassPicker(filter: "ca")))
    }

    @Test("the help page scrolls within its lines when they do not fit, and any other key closes it")
    func help() {
        let page = HelpPage(top: 0, lines: 50, rows: 20)
        #expect(page.reduce(.character("j")) == 1 && page.reduce(.key(.up)) == 0)
        #expect(page.reduce(.key(.pageDown)) == 19 && HelpPage(top: 25, lines: 50, rows: 20).reduce(.character(" ")) == 30)
        #expect(page.reduce(.mouse(column: 1, row: 1, .motion)) == 0)
        #expect(page.reduce(.character("x")) == nil && page.reduce(.key(.escape)) == nil)
        #expect(HelpPage(top: 0, lines: 10, rows: 20).reduce(.character("j")) == nil)
    }
}
