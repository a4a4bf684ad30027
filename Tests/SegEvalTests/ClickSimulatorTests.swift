import Foundation
import Testing
@testable import SegCore
@testable import SegEval

/// Builds a mask from rows of characters: "#" set, anything else unset.
func mask(_ rows: [String]) -> Mask {
    let h = rows.count, w = rows.first?.count ?? 0
    var m = Mask(width: w, height: h)
    for (y, row) in rows.enumerated() {
        for (x, c) in row.enumerated() where c == "#" { m[x, y] = true }
    }
    return m
}

@Suite("Click simulator (RITM protocol)")
struct ClickSimulatorTests {
    @Test("the first click is positive at the object's most interior point, the first in row-major order among ties")
    func firstClick() throws {
        // A 5×3 block: the middle row's pixels x = 3, 4, 5 are all 2 from the outside
        // ((3,3) to (3,1) or (1,3)); the first of them in row-major order is (3, 3).
        let truth = mask([".........",
                          ".........",
                          "..#####..",
                          "..#####..",
                          "..#####..",
                          ".........",
                          "........."])
        var sim = try ClickSimulator(truth: truth)
        let click = try sim.click(after: Mask(width: 9, height: 7))
        #expect(click == SimulatedClick(x: 3, y: 3, positive: true, distance: 2))
    }

    @Test("the image border counts as outside the error region (one pixel of zero padding)")
    func padding() throws {
        // Without padding the corner block's farthest pixel would be (0, 0), 3 from the inside
        // edge; with padding every pixel is at most 2 from outside, the first being (1, 1).
        let truth = mask(["###.",
                          "###.",
                          "###.",
                          "...."])
        var sim = try ClickSimulator(truth: truth)
        let click = try sim.click(after: Mask(width: 4, height: 4))
        #expect(click == SimulatedClick(x: 1, y: 1, positive: true, distance: 2))
    }

    @Test("a larger false-positive region gives a negative click; equal maxima go negative too")
    func signOfLaterClicks() throws {
        let truth = mask(["#####......",
                          "#####......",
                          "#####......",
                          "...........",
                          "..........."])
        // The prediction misses the object's right column (fn width 1) and adds a 3×3 block (fp).
        let prediction = mask(["####.......",
                               "####...###.",
                               "####...###.",
                               ".......###.",
                               "..........."])
        var sim = try ClickSimulator(truth: truth)
        let click = try sim.click(after: prediction)
        #expect(click == SimulatedClick(x: 8, y: 2, positive: false, distance: 2))

        // fn and fp both single pixels: max distances are equal (1 = 1), so the click is negative.
        let truth2 = mask(["#....", ".....", "....."])
        let prediction2 = mask([".....", ".....", "....#"])
        var sim2 = try ClickSimulator(truth: truth2)
        #expect(try sim2.click(after: prediction2) == SimulatedClick(x: 4, y: 2, positive: false, distance: 1))
    }

    @Test("clicked pixels are zeroed, so the same errors give a different next click")
    func clickedPixelsZeroed() throws {
        let truth = mask(["......",
                          ".####.",
                          ".####.",
                          "......"])
        var sim = try ClickSimulator(truth: truth)
        let empty = Mask(width: 6, height: 4)
        // All eight object pixels are 1 from outside: row-major order gives (1,1), then (2,1), (3,1).
        #expect(try sim.click(after: empty) == SimulatedClick(x: 1, y: 1, positive: true, distance: 1))
        #expect(try sim.click(after: empty) == SimulatedClick(x: 2, y: 1, positive: true, distance: 1))
        #expect(try sim.click(after: empty) == SimulatedClick(x: 3, y: 1, positive: true, distance: 1))
    }

    @Test("ignore pixels are neither errors nor click candidates, and do not count in IoU")
    func ignoreRegion() throws {
        let truth = mask(["#######",
                          "#######",
                          "#######",
                          "#######",
                          "#######"])
        // The ignore region covers the object's interior, so only its outer ring can be clicked:
        // (0,0) is 1 from the padding, as is every ring pixel. Without the ignore region, the
        // pixels (2..4, 2) are all 3 from the padding (above, below; 3 to 5 from the sides), and
        // the first of them is (2, 2).
        let ignore = mask([".......",
                           ".#####.",
                           ".#####.",
                           ".#####.",
                           "......."])
        var sim = try ClickSimulator(truth: truth, ignore: ignore)
        let click = try sim.click(after: Mask(width: 7, height: 5))
        #expect(click == SimulatedClick(x: 0, y: 0, positive: true, distance: 1))
        var plain = try ClickSimulator(truth: truth)
        #expect(try plain.click(after: Mask(width: 7, height: 5)) == SimulatedClick(x: 2, y: 2, positive: true, distance: 3))

        // A prediction equal to the truth on the ring only: IoU 1 outside the ignore region.
        let ring = mask(["#######", "#.....#", "#.....#", "#.....#", "#######"])
        #expect(try ring.iou(with: truth, ignoring: ignore) == 1)
    }

    @Test("a perfect prediction still yields a click: negative at (0, 0), as numpy's argmax")
    func perfectPrediction() throws {
        let truth = mask(["...", ".#.", "..."])
        var sim = try ClickSimulator(truth: truth)
        #expect(try sim.click(after: truth) == SimulatedClick(x: 0, y: 0, positive: false, distance: 0))
    }

    @Test("mismatched sizes and empty masks are typed errors")
    func badInput() throws {
        let truth = mask(["##", "##"])
        #expect(throws: SegError.self) { try ClickSimulator(truth: truth, ignore: Mask(width: 3, height: 2)) }
        #expect(throws: SegError.self) { try ClickSimulator(truth: Mask(width: 0, height: 0)) }
        var sim = try ClickSimulator(truth: truth)
        #expect(throws: SegError.self) { try sim.click(after: Mask(width: 2, height: 3)) }
        #expect(throws: SegError.self) {
            try NoC.run(name: "x", truth: truth, ignore: nil, maxClicks: 3) { _ in Mask(width: 1, height: 1) }
        }
        #expect(throws: SegError.self) {
            try NoC.run(name: "x", truth: truth, ignore: nil, maxClicks: 0) { _ in truth }
        }
    }
}

@Suite("NoC bookkeeping")
struct NoCTests {
    @Test("every object gets exactly the click limit, and NoC is the first click reaching the threshold")
    func cap() throws {
        let truth = mask(["........",
                          ".######.",
                          ".######.",
                          ".######.",
                          "........"])
        // A predictor that grows the object by one column per click: IoU 1/6, 2/6, …, 6/6 (18 pixels).
        var calls = 0
        let growing = try NoC.run(name: "grow", truth: truth, ignore: nil, maxClicks: 20) { clicks in
            calls += 1
            #expect(clicks.count == calls)
            var m = Mask(width: 8, height: 5)
            for x in 1...min(6, clicks.count) { for y in 1...3 { m[x, y] = true } }
            return m
        }
        #expect(calls == 20)
        #expect(growing.ious.count == 20 && growing.clicks.count == 20)
        #expect(abs(growing.ious[0] - 1.0 / 6) < 1e-12)
        #expect(growing.clicksToReach(0.85, maxClicks: 20) == 6)  // 5/6 = 0.833 < 0.85
        #expect(growing.clicksToReach(0.90, maxClicks: 20) == 6)

        // A predictor that never finds the object: NoC is the limit and it counts as never reaching 90 %.
        let never = try NoC.run(name: "never", truth: truth, ignore: nil, maxClicks: 20) { _ in Mask(width: 8, height: 5) }
        #expect(never.clicksToReach(0.90, maxClicks: 20) == 20)
        #expect(never.ious.allSatisfy { $0 == 0 })

        // Reaching 90 % exactly at the last click: NoC@90 = 20, but not "never".
        let late = try NoC.run(name: "late", truth: truth, ignore: nil, maxClicks: 20) { clicks in
            clicks.count == 20 ? truth : Mask(width: 8, height: 5)
        }
        let summary = NoC.Summary(records: [growing, never, late], maxClicks: 20)
        #expect(summary.noc90 == (6 + 20 + 20) / 3.0)
        #expect(summary.noc85 == (6 + 20 + 20) / 3.0)
        #expect(summary.overMax90 == 1)
        #expect(summary.nocAtMax90 == 2)
        #expect(summary.miouAt.count == 20)
        #expect(abs(summary.miouAt[19] - (1 + 0 + 1) / 3.0) < 1e-12)
        #expect(abs(summary.miouAt[0] - (1.0 / 6) / 3) < 1e-12)
    }

    @Test("after a perfect prediction the simulated user keeps clicking to the limit")
    func clicksAfterSuccess() throws {
        let truth = mask(["....", ".##.", ".##.", "...."])
        let record = try NoC.run(name: "t", truth: truth, ignore: nil, maxClicks: 4) { _ in truth }
        #expect(record.clicks.first == SimulatedClick(x: 1, y: 1, positive: true, distance: 1))
        #expect(record.clicks.dropFirst().allSatisfy { $0.x == 0 && $0.y == 0 && !$0.positive })
        #expect(record.clicksToReach(0.9, maxClicks: 4) == 1)
    }
}

@Suite("Pairing by stem")
struct StemPairingTests {
    @Test("stems match across extensions, case-insensitively for the extension only")
    func pairs() throws {
        let (pairs, unmatchedMasks, unmatchedImages) = try StemPairing.pair(
            images: ["b.JPG", "a.jpg", "c.png", "notes.txt", "D.bmp"],
            masks: ["a.bmp", "b.png", "d.png", "e.PNG", "README"])
        #expect(pairs.map(\.stem) == ["a", "b"])
        #expect(pairs[1].image == "b.JPG" && pairs[1].mask == "b.png")
        #expect(unmatchedMasks == ["d.png", "e.PNG"])
        #expect(unmatchedImages == ["D.bmp", "c.png"])
        #expect(throws: SegError.self) { try StemPairing.pair(images: ["a.jpg", "a.png"], masks: ["a.bmp"]) }
    }
}

@Suite("Paired NoC of two models")
struct PairedNoCTests {
    static func record(_ name: String, _ ious: [Double]) -> NoC.Record {
        NoC.Record(name: name, clicks: [], ious: ious, seconds: [])
    }

    @Test("differences in clicks to 90 %, their mean, the winners, and a bootstrap interval that brackets the mean")
    func paired() throws {
        let a = [Self.record("x", [0.5, 0.95]), Self.record("y", [0.2, 0.3, 0.4]), Self.record("z", [0.91])]
        let b = [Self.record("z", [0.5, 0.6, 0.92]), Self.record("x", [0.93]), Self.record("y", [0.95])]
        let p = try PairedNoC(a: a, b: b, maxClicks: 3, replicates: 200, seed: 7)
        // x: 2 → 1, y: never (3) → 1, z: 1 → 3.
        #expect(p.differences.map(\.delta) == [-1, -2, 2])
        #expect(p.meanDelta == -1.0 / 3)
        #expect(p.bWins(5).map(\.name) == ["y", "x"] && p.aWins(5).map(\.name) == ["z"])
        #expect(p.interval.low <= p.meanDelta && p.meanDelta <= p.interval.high)
        #expect(p.interval.low >= -2 && p.interval.high <= 2)
        #expect(try PairedNoC(a: a, b: b, maxClicks: 3, replicates: 200, seed: 7) == p)
        #expect(throws: SegError.self) { try PairedNoC(a: a, b: [Self.record("x", [1])], maxClicks: 3) }
    }
}
