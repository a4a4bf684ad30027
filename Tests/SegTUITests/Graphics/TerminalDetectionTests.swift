import Testing
import SegCore
@testable import SegTUI

@Suite("Terminal detection")
struct TerminalDetectionTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let kittyOK = "\u{1B}_Gi=31;OK\u{1B}\\"
    static let env = ["TERM": "xterm-256color", "COLORTERM": "truecolor"]

    @Test("kitty: OK to the graphics query, cell size from CSI 6 t, in any order and among typed keys")
    func kitty() {
        let reply = Self.bytes("x" + Self.kittyOK + "\u{1B}[6;20;10t" + "\u{1B}[4;480;800t" + "q\u{1B}[?62;22;52c")
        let replies = TerminalReplies.parse(reply)
        #expect(replies.kittyStatus == "OK")
        #expect(replies.cellPixels?.width == 10 && replies.cellPixels?.height == 20)
        #expect(replies.windowPixels?.width == 800 && replies.windowPixels?.height == 480)
        #expect(replies.deviceAttributes == [62, 22, 52])
        #expect(TerminalQuery.isComplete(reply))
        let decision = GraphicsDecision.decide(replies: replies, environment: ["TERM": "xterm-kitty", "COLORTERM": "truecolor"])
        #expect(decision.mode == .kitty && decision.truecolor && !decision.inTmux)
        #expect(decision.reasons.contains("kitty graphics query answered OK"))
    }

    @Test("sixel: attribute 4 in the device attributes (xterm -ti vt340), cell size from the window size")
    func sixel() {
        let replies = TerminalReplies.parse(Self.bytes("\u{1B}[4;600;800t\u{1B}[?63;1;2;4;6;9;15;22c"))
        #expect(replies.hasSixel && replies.kittyStatus == nil && replies.cellPixels == nil)
        let decision = GraphicsDecision.decide(replies: replies, environment: Self.env, rows: 30, columns: 100)
        #expect(decision.mode == .sixel)
        #expect(decision.cellPixels?.width == 8 && decision.cellPixels?.height == 20)
        #expect(decision.reasons.contains { $0.contains("CSI 14 t") })
        // Without any size, sixel cannot be fitted to cells: text, and it says why.
        let blind = GraphicsDecision.decide(replies: TerminalReplies.parse(Self.bytes("\u{1B}[?63;4c")), environment: Self.env)
        #expect(blind.mode == .text && blind.reasons.last?.contains("cell size") == true)
    }

    @Test("no reply at all (timeout): text, and the reasons say the terminal was silent")
    func silent() {
        let replies = TerminalReplies.parse([])
        #expect(replies.isEmpty && !TerminalQuery.isComplete([]))
        let decision = GraphicsDecision.decide(replies: replies, environment: ["TERM": "xterm-kitty"])
        #expect(decision.mode == .text && !decision.truecolor)
        #expect(decision.reasons.contains("the terminal answered no query before the timeout"))
        // TERM says kitty, but nothing confirmed it: never guessed.
        #expect(decision.reasons.last?.contains("never guessed") == true)
    }

    @Test("kitty refusal, garbled and cut-off replies are not trusted")
    func garbled() {
        let refused = TerminalReplies.parse(Self.bytes("\u{1B}_Gi=31;ENOTSUPPORTED:no\u{1B}\\\u{1B}[?62;c"))
        #expect(refused.kittyStatus == "ENOTSUPPORTED:no")
        #expect(refused.deviceAttributes == [62])  // kitty's own reply ends in ';' (seen from kitty 0.26.5)
        #expect(GraphicsDecision.decide(replies: refused, environment: Self.env).mode == .text)
        // Another program's image id, an unterminated APC, a CSI cut off by the timeout.
        let other = TerminalReplies.parse(Self.bytes("\u{1B}_Gi=7;OK\u{1B}\\\u{1B}_Gi=31;OK"))
        #expect(other.kittyStatus == nil)
        let cut = TerminalReplies.parse(Self.bytes("\u{1B}[?63;4"))
        #expect(cut.deviceAttributes == nil && cut.isEmpty)
        let letters = TerminalReplies.parse(Self.bytes("\u{1B}[?6x;4c\u{1B}[6;0;10t\u{1B}[6;20t"))
        #expect(letters.isEmpty)
        // A garbled prefix does not hide a good reply after it.
        let recovered = TerminalReplies.parse(Self.bytes("\u{1B}[?6\u{1B}[?62;4c"))
        #expect(recovered.deviceAttributes == [62, 4])
    }

    @Test("--graphics overrides whatever was detected")
    func override() {
        let replies = TerminalReplies.parse(Self.bytes(Self.kittyOK + "\u{1B}[?62;4c"))
        let forced = GraphicsDecision.decide(replies: replies, environment: Self.env, override: .sixel)
        #expect(forced.mode == .sixel && forced.reasons.contains("--graphics sixel: forced"))
        #expect(GraphicsDecision.decide(replies: replies, environment: Self.env, override: .text).mode == .text)
    }

    @Test("tmux: the kitty query goes through passthrough, TMUX is noticed, tmux's own DA answers")
    func tmux() {
        let request = TerminalQuery.request(inTmux: true)
        #expect(request.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}_Gi=31,"))
        // The other queries are the same as outside tmux (tmux answers them itself), DA last.
        let others = String(String.UnicodeScalarView(TerminalQuery.request(inTmux: false).unicodeScalars
            .dropFirst(TerminalQuery.kittyQuery.unicodeScalars.count)))
        #expect(others.hasPrefix("\u{1B}[16t\u{1B}[14t\u{1B}[?1016$p\u{1B}[>q") && others.hasSuffix("\u{1B}[c"))
        #expect(request.hasSuffix(others))
        let tail = others.unicodeScalars.count
        let wrapped = String(String.UnicodeScalarView(request.unicodeScalars.dropLast(tail)))
        #expect(KittyGraphics.tmuxUnwrap(wrapped) == TerminalQuery.kittyQuery)
        #expect(TerminalQuery.request(inTmux: false).hasPrefix(TerminalQuery.kittyQuery))
        // tmux answers the device attributes itself, before the outer terminal's kitty answer.
        #expect(!TerminalQuery.isComplete(Self.bytes("\u{1B}[?1;2;4c"), inTmux: true))
        #expect(TerminalQuery.isComplete(Self.bytes("\u{1B}[?1;2;4c" + Self.kittyOK), inTmux: true))
        #expect(TerminalQuery.isComplete(Self.bytes("\u{1B}[?1;2;4c"), inTmux: false))
        let env = ["TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,123,0", "COLORTERM": "truecolor"]
        let replies = TerminalReplies.parse(Self.bytes(Self.kittyOK + "\u{1B}[6;18;9t\u{1B}[?1;2;4c"))
        let decision = GraphicsDecision.decide(replies: replies, environment: env)
        #expect(decision.inTmux && decision.mode == .kitty)
        #expect(decision.reasons.contains { $0.contains("allow-passthrough") })
        // tmux without kitty behind it, built with sixel: sixel.
        let sixelTmux = GraphicsDecision.decide(replies: TerminalReplies.parse(Self.bytes("\u{1B}[6;18;9t\u{1B}[?1;2;4c")), environment: env)
        #expect(sixelTmux.mode == .sixel && sixelTmux.cellPixels?.height == 18)
    }
}
