import Foundation
import Testing
import SegCore
@testable import SegTUI

/// What a terminal says about its limits and looks (issue #22): the largest sixel it draws,
/// its background, whether it keeps 24-bit colour; and what segterm does with the answers.
@Suite("Terminal limits, background and colour depth")
struct TerminalLimitsTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    /// What XTerm(379) as a VT340 at 200×60 `fixed` cells, black on white, answered (recorded).
    static let xterm = "\u{1B}[?2;0;1000;780S\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\\u{1B}P1$r0;48:2::1:2:3m\u{1B}\\"
        + "\u{1B}[?63;1;2;4;6;9;15;16;22;28c"

    @Test("xterm's answers: sixel limit, white background, 24-bit colour kept though TERM=xterm and no COLORTERM")
    func xtermAnswers() {
        let replies = TerminalReplies.parse(Self.bytes(Self.xterm))
        #expect(replies.sixelGeometry?.width == 1000 && replies.sixelGeometry?.height == 780)
        #expect(replies.background == RGB(255, 255, 255))
        #expect(replies.directColor == true)
        let decision = GraphicsDecision.decide(replies: replies, environment: ["TERM": "xterm"], rows: 60, columns: 200,
                                               kernelPixels: (1200, 780))
        #expect(decision.mode == .sixel)
        #expect(decision.sixelLimit == PixelSize(width: 1000, height: 780))
        #expect(decision.truecolor && decision.lightBackground == true)
        #expect(decision.reasons.contains { $0.contains("largest sixel image 1000×780") })
    }

    @Test("other answers: BEL-terminated OSC 11 with 2-digit channels, a palette-mapped colour, a refused query, cut-off replies")
    func otherAnswers() {
        let dark = TerminalReplies.parse(Self.bytes("\u{1B}]11;rgb:1e/1e/2e\u{07}\u{1B}P1$r0;48;5;16m\u{1B}\\\u{1B}[?2;3S\u{1B}[?62;c"))
        #expect(dark.background == RGB(30, 30, 46) && dark.directColor == false && dark.sixelGeometry == nil)
        #expect(GraphicsDecision.decide(replies: dark, environment: [:]).lightBackground == false)
        #expect(GraphicsDecision.decide(replies: dark, environment: [:]).truecolor == false)
        // An invalid DECRQSS (0$r) keeps nothing; a colour in another colour space is not ours.
        #expect(TerminalReplies.parse(Self.bytes("\u{1B}P0$r\u{1B}\\")).directColor == nil)
        #expect(TerminalReplies.parse(Self.bytes("\u{1B}P1$r48;2;3;2;1m\u{1B}\\")).directColor == false)
        #expect(TerminalReplies.parse(Self.bytes("\u{1B}P1$r0;48;2;1;2;3m\u{1B}\\")).directColor == true)
        // Cut off by the timeout, or garbled: ignored, the replies after them still read.
        let cut = TerminalReplies.parse(Self.bytes("\u{1B}]11;rgb:ffff/ff"))
        #expect(cut.background == nil && cut.isEmpty)
        let garbled = TerminalReplies.parse(Self.bytes("\u{1B}]11;rgb:zz/00/00\u{1B}\\\u{1B}[?2;0;x;5S\u{1B}[?62;4c"))
        #expect(garbled.background == nil && garbled.sixelGeometry == nil && garbled.deviceAttributes == [62, 4])
        #expect(TerminalReplies.xColor("rgb:f/8/0") == RGB(255, 136, 0))
    }

    @Test("a sixel limit smaller than a cell means text, with the reason")
    func tinyLimit() {
        let replies = TerminalReplies.parse(Self.bytes("\u{1B}[6;13;6t\u{1B}[?2;0;4;4S\u{1B}[?63;4c"))
        let decision = GraphicsDecision.decide(replies: replies, environment: [:])
        #expect(decision.mode == .text)
        #expect(decision.reasons.contains("text: the terminal's sixel limit is smaller than one cell"))
    }

    @Test("the request asks every question, device attributes last; tmux waits for kitty only when its client may speak it")
    func request() {
        let request = TerminalQuery.request(inTmux: false)
        for part in ["\u{1B}[?2;1;0S", "\u{1B}]11;?\u{1B}\\", "\u{1B}P$qm\u{1B}\\", "\u{1B}[0m"] { #expect(request.contains(part)) }
        #expect(request.hasSuffix("\u{1B}[c"))
        #expect(TerminalProbe.kittyProtocolTerm("xterm-kitty") && TerminalProbe.kittyProtocolTerm("xterm-256color"))
        #expect(!TerminalProbe.kittyProtocolTerm("") && !TerminalProbe.kittyProtocolTerm("xterm") && !TerminalProbe.kittyProtocolTerm("screen-256color"))
    }

    @Test("sixel tiles: whole cells within the limit, counting the last six-pixel band whole")
    func tileSize() {
        let cell = PixelSize(width: 6, height: 13)
        let tile = SixelPresenter.tileSize(limit: PixelSize(width: 1000, height: 780), cell: cell)
        #expect(tile?.width == 996 && tile?.height == 780)
        let odd = SixelPresenter.tileSize(limit: PixelSize(width: 100, height: 100), cell: PixelSize(width: 10, height: 20))
        #expect(odd?.height == 60 || odd?.height == 80)
        #expect(((odd?.height ?? 0) + 5) / 6 * 6 <= 100)
        #expect(SixelPresenter.tileSize(limit: PixelSize(width: 5, height: 100), cell: cell) == nil)
        #expect(SixelPresenter.tileSize(limit: nil, cell: cell) == nil)
    }

    @Test("a pane wider than xterm's limit goes as tiles no larger than the limit, which together paint the whole pane")
    func tiledPane() throws {
        var s = WorkbenchGraphicsTests.state(WorkbenchGraphicsTests.sixel)
        s.columns = 240; s.rows = 70  // an image pane well over 1000 pixels wide
        let limit = PixelSize(width: 600, height: 400)
        let pane = try #require(Workbench.graphics(s).first)
        #expect(pane.size.width > limit.width)
        let out = SixelPresenter(exactColors: [], limit: limit).present(Workbench.graphics(s), repainted: { _ in false })
        let tiles = out.components(separatedBy: "\u{1B}7").filter { !$0.isEmpty }
        #expect(tiles.count > 1)
        var painted = 0
        for tile in tiles {
            let start = try #require(tile.range(of: "\u{1B}P")), end = try #require(tile.range(of: "\u{1B}\\", options: .backwards))
            let decoded = try SixelTests.decode(String(tile[start.lowerBound..<end.upperBound]))
            #expect(decoded.width <= limit.width && (decoded.height + 5) / 6 * 6 <= limit.height, "\(decoded.width)×\(decoded.height)")
            painted += decoded.pixels.count { $0 != nil }
        }
        // Every pixel of the pane, down to the last whole band, painted once.
        let shownHeight = pane.size.height / 6 * 6
        #expect(painted >= pane.size.width * shownHeight && painted <= pane.size.width * pane.size.height, "\(painted)")
    }

    @Test("selected rows stay visible in 8 or 16 colours: reverse video, not a highlight colour that maps to the background")
    func selectionInFewColours() {
        for mode in ColorMode.allCases {
            var s = WorkbenchState(rows: 30, columns: 100, colorMode: mode,
                                   images: [ImageEntry(path: "/a/one.png"), ImageEntry(path: "/a/two.png")],
                                   classes: ["background", "x"], modelName: "m")
            s.showList = true
            let frame = Workbench.render(s)
            var reversed = false, highlighted = false
            for row in 0..<frame.rows {
                for column in 0..<30 where frame[row, column].character == "o" && row < 5 {
                    reversed = reversed || frame[row, column].reverse
                    highlighted = highlighted || frame[row, column].background == Theme.dark.panelHighlight
                }
            }
            let expectReverse = mode == .ansi8 || mode == .none
            #expect(reversed == expectReverse && highlighted == !expectReverse, "\(mode)")
        }
    }
}
