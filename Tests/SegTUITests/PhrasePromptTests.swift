import Testing
@testable import SegCore
@testable import SegEval
@testable import SegModels
@testable import SegTUI

/// `t`: a phrase typed on the status line; what the model finds becomes the image's proposals,
/// journalled with their masks so a restart (or a replay) gets them back without the model.
@Suite("Finding a phrase")
struct PhrasePromptTests {
    typealias R = WorkbenchReducerTests

    static func key(_ c: Character) -> WorkbenchEvent { .input(.character(c)) }

    static func detection(_ x: Int, _ y: Int, _ side: Int, score: Float, query: Int) -> ConceptDetection {
        ConceptDetection(score: score, box: (Float(x), Float(y), Float(x + side - 1), Float(y + side - 1)),
                         mask: R.square(x, y, side), query: query)
    }

    @Test("t opens the prompt; typing, Backspace and Enter ask the lane that finds phrases, on this image")
    func typing() {
        var s = R.ready()
        s.phraseLane = 0
        let effects = R.send(&s, Self.key("t"), Self.key("b"), Self.key("u"), Self.key("x"), .input(.key(.backspace)), Self.key("s"),
                             .input(.key(.enter)))
        #expect(s.overlay == .none)
        #expect(effects.contains { if case .findPhrase(0, s.current, "bus") = $0 { true } else { false } })
        #expect(s.lane.activity == .working)
        // Esc gives up; Enter on nothing asks for a phrase and stays open.
        _ = R.send(&s, Self.key("t"), Self.key("c"), .input(.key(.escape)))
        #expect(s.overlay == .none)
        let none = R.send(&s, Self.key("t"), Self.key(" "), .input(.key(.enter)))
        #expect(s.overlay == .phrase(" ") && none.isEmpty && s.message?.contains("type what to find") == true)
    }

    @Test("a model that takes no text says so, and nothing opens")
    func noText() {
        var s = R.ready()
        _ = R.send(&s, Self.key("t"))
        #expect(s.overlay == .none && s.message?.contains("SAM 3") == true)
    }

    @Test("found instances become pending proposals of the phrase's class, best first, the best under review; replayed from the journal")
    func found() throws {
        var s = R.ready()
        s.phraseLane = 0
        let records = R.records(R.send(&s, .phraseFound(lane: 0, index: s.current, phrase: "bus", [
            Self.detection(10, 10, 8, score: 0.6, query: 3), Self.detection(40, 30, 12, score: 0.9, query: 7),
        ], milliseconds: 12)))
        #expect(records.count == 1)
        #expect(s.currentProposals.map { Float($0.score) } == [0.9, 0.6] && s.currentProposals.allSatisfy { $0.className == "bus" && $0.isPending })
        #expect(s.currentProposals[0].rle.decode() == R.square(40, 30, 12) && s.currentProposals[0].source.prompt == "text:bus")
        #expect(s.proposalCursor == 0 && s.classes.contains("bus"))
        // Reviewed as any proposal: y accepts it as an object of class "bus".
        let accept = R.records(R.send(&s, Self.key("y")))
        #expect(s.currentObjects.count == 1 && s.currentObjects[0].className == "bus" && s.currentObjects[0].mask == R.square(40, 30, 12))
        // A fresh session replaying the records has the same proposals and object.
        var back = R.ready()
        for record in records + accept { Workbench.apply(record, to: &back) }
        #expect(back.currentProposals == s.currentProposals && back.currentObjects == s.currentObjects)
        // A second phrase adds to the list: the indices the journal names stay what they were.
        _ = R.send(&s, .phraseFound(lane: 0, index: s.current, phrase: "car", [Self.detection(70, 50, 6, score: 0.7, query: 1)],
                                    milliseconds: 5))
        #expect(s.currentProposals.map(\.className) == ["bus", "bus", "car"] && s.proposalCursor == 2)
    }

    @Test("an answer for an image left behind, and nothing found, change no proposals")
    func staleAndEmpty() {
        var s = R.ready()
        s.phraseLane = 0
        _ = R.send(&s, .phraseFound(lane: 0, index: s.current + 1, phrase: "bus", [Self.detection(10, 10, 8, score: 0.6, query: 0)],
                                    milliseconds: 3))
        #expect(s.proposals.isEmpty)
        let effects = R.send(&s, .phraseFound(lane: 0, index: s.current, phrase: "bus", [], milliseconds: 3))
        #expect(s.proposals.isEmpty && R.records(effects).isEmpty && s.message?.contains("no \u{201C}bus\u{201D} found") == true)
        _ = R.send(&s, .phraseFailed(lane: 0, index: s.current, phrase: "bus", "the BPE vocabulary is missing"))
        #expect(s.message?.contains("vocabulary") == true)
    }
}
