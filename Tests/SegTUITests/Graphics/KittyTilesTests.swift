import Foundation
import Testing
@testable import SegCore
@testable import SegEval
@testable import SegTUI

/// The kitty overlay as tiles redrawn where the overlay changed: a terminal that applies the
/// commands (a small model of kitty below) must show, after every keystroke, exactly the overlay
/// composed from nothing — and a review keystroke must not re-send the tiles it did not touch.
@Suite("kitty overlay tiles")
struct KittyTilesTests {
    typealias R = WorkbenchReducerTests

    /// What a kitty terminal keeps of the overlay: each image's pixels by id, and where each
    /// tile image is placed (in cells from the photo's first cell).
    struct Screen {
        var images: [String: RGBAImage] = [:]
        var placed: [String: (column: Int, row: Int)] = [:]
        var pending: (id: String, base64: String)?

        mutating func apply(_ stream: String, photo: String) throws {
            for command in try KittyGraphicsTests.parse(stream) {
                let keys = command.keys
                if keys["a"] == "t" || (keys["a"] == nil && pending != nil) {
                    if keys["a"] == "t" { pending = (keys["i"] ?? "", "") }
                    pending?.base64 += command.payload ?? ""
                    if keys["m"] == "0", let done = pending {
                        pending = nil
                        guard done.id != photo else { continue }
                        let png = try #require(Data(base64Encoded: done.base64))
                        let decoded = try ImageFile.decode([UInt8](png))
                        guard case .eight(let px) = decoded.samples, decoded.colorModel == .rgba else { Issue.record("not RGBA"); continue }
                        images[done.id] = RGBAImage(width: decoded.width, height: decoded.height, pixels: px)
                        placed[done.id] = nil  // a new transmission replaces the image and its placements
                    }
                } else if keys["a"] == "p", let id = keys["i"], id != photo, keys["U"] == nil {
                    placed[id] = (Int(keys["H"] ?? "") ?? -1, Int(keys["V"] ?? "") ?? -1)
                } else if keys["a"] == "d", let id = keys["i"] {
                    placed[id] = nil
                }
            }
        }

        /// The overlay as the terminal shows it over the pane's cells.
        func overlay(width: Int, height: Int, cell: PixelSize) -> RGBAImage {
            var out = RGBAImage(width: width, height: height)
            for (id, at) in placed {
                guard let image = images[id] else { continue }
                out.paste(image, x: at.column * cell.width, y: at.row * cell.height)
            }
            return out
        }
    }

    /// 60 proposals (discs of many sizes, seeded) over a 100×80 image, reviewed in a kitty terminal.
    static func reviewing(_ display: DisplayGrid = DisplayGrid(mode: .kitty, cellPixels: PixelSize(width: 10, height: 20),
                                                               imageIDBase: 0x10_00_00)) throws -> WorkbenchState {
        var s = R.ready(rows: 40, columns: 120)
        s.imagesLoaded += 1
        s.imageGeneration = s.imagesLoaded
        s.display = display
        var rng = SeededGenerator(seed: 3)
        var proposals: [Proposal] = []
        for i in 0..<60 {
            let r = 2 + Int(rng.next() % (i % 7 == 0 ? 30 : 8)), cx = Int(rng.next() % 100), cy = Int(rng.next() % 80)
            var mask = Mask(width: 100, height: 80)
            for y in max(0, cy - r)..<min(80, cy + r) { for x in max(0, cx - r)..<min(100, cx + r) where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r { mask[x, y] = true } }
            guard mask.area > 0 else { continue }
            proposals.append(try Proposal(imageId: 1, fileName: "a.png", categoryId: 1, categoryName: "cat", mask: mask,
                                          score: Double(rng.next() % 1000) / 1000, source: ProposalSource(model: "t.pt", prompt: "box")))
        }
        s.proposals = try ReviewProposal.byImage(proposals, file: "p.json")
        Workbench.enterProposals(&s)
        return s
    }

    @Test("after each review keystroke the tiles on the terminal equal the overlay composed whole; a keystroke re-sends a few tiles")
    func incrementalEqualsWhole() throws {
        var s = try Self.reviewing()
        let ids = KittyImageIDs(base: s.display.imageIDBase), photo = "\(ids.photo(lane: 0))"
        let presenter = KittyPresenter(ids: ids, inTmux: false, placeholders: true)
        var screen = Screen()
        func check(_ what: String) throws -> Int {
            let pane = try #require(Workbench.graphics(s).first)
            let stream = presenter.present([pane], repainted: { _ in false })
            try screen.apply(stream, photo: photo)
            let width = pane.cells.columns * pane.cell.width, height = pane.cells.rows * pane.cell.height
            let expected = pane.overlay().padded(width: width, height: height)
            let shown = screen.overlay(width: width, height: height, cell: pane.cell)
            let differing = (0..<(width * height)).filter { i in shown.pixels[(i * 4)..<(i * 4 + 4)] != expected.pixels[(i * 4)..<(i * 4 + 4)] }
            #expect(differing.isEmpty, "\(what): \(differing.count) pixels differ, first at \(differing.first.map { ($0 % width, $0 / width) } as Any)")
            return KittyPresenterTests.transmitted(KittyPresenterTests.commands(stream)).count
        }
        let first = try check("first frame")
        var tilesPerKey: [Int] = []
        for (k, key) in ["y", "x", "y", ".", "y", "x", ",", "x", "Y", "u", "y", "l", "y"].enumerated() {
            _ = R.send(&s, .input(.character(Character(key))))
            tilesPerKey.append(try check("key \(k) '\(key)'"))
        }
        // The view over the pane and back: nothing re-sent, the same pixels.
        s.overlay = .help
        _ = presenter.present(Workbench.graphics(s), repainted: { _ in false })
        s.overlay = .none
        #expect(try check("back from help") == 0)
        // Single accepts and rejects send a part of what the first frame did.
        #expect(first > 20 && tilesPerKey.max()! < first, "first \(first), per key \(tilesPerKey)")
    }

    @Test("sixel: after each review keystroke the frame kept is the one composed whole, and only the changed boxes are sent")
    func sixelPatchedEqualsWhole() throws {
        var s = try Self.reviewing(DisplayGrid(mode: .sixel, cellPixels: PixelSize(width: 10, height: 20)))
        let presenter = SixelPresenter(exactColors: [])
        let first = presenter.present(Workbench.graphics(s), repainted: { _ in false }).utf8.count
        var sent: [Int] = []
        for (k, key) in ["y", "x", "y", ".", "y", "x", ",", "x", "Y", "u", "y", "l", "y"].enumerated() {
            _ = R.send(&s, .input(.character(Character(key))))
            let pane = try #require(Workbench.graphics(s).first)
            sent.append(presenter.present([pane], repainted: { _ in false }).utf8.count)
            let whole = pane.overlay().composited(over: pane.photo())
            #expect(presenter.shownFrame(lane: 0) == whole, "key \(k) '\(key)': the patched frame differs from the whole one")
        }
        #expect(sent.max()! < first, "first frame \(first) B, keystrokes \(sent)")
    }

    @Test("damage: the boxes of parts only one frame has; reordered common parts mean everything")
    func damage() {
        let a = OverlayPart(key: "a", box: PixelBox(minX: 0, minY: 0, maxX: 5, maxY: 5))
        let b = OverlayPart(key: "b", box: PixelBox(minX: 10, minY: 0, maxX: 15, maxY: 5))
        let c = OverlayPart(key: "c", box: PixelBox(minX: 20, minY: 0, maxX: 25, maxY: 5))
        #expect(OverlayDamage.boxes(from: [a, b], to: [a, b]) == [])
        #expect(OverlayDamage.boxes(from: [a, b], to: [a, c]) == [b.box, c.box])
        #expect(OverlayDamage.boxes(from: [a, b], to: [b]) == [a.box])
        #expect(OverlayDamage.boxes(from: [a, b], to: [b, a]) == nil)
        // The same part twice is two parts: dropping one copy is a change.
        #expect(OverlayDamage.boxes(from: [a, a], to: [a]) == [a.box])
        let tiles = OverlayTiles(cells: CellRect(column: 3, row: 2, columns: 200, rows: 60), cell: PixelSize(width: 10, height: 20))
        #expect(tiles.tileColumns == 13 && tiles.tileRows == 4 && tiles.count == 16 * 15)
        #expect(tiles.touched(by: [PixelBox(minX: 0, minY: 0, maxX: 130, maxY: 80)]) == [0])
        #expect(tiles.touched(by: [PixelBox(minX: 125, minY: 75, maxX: 135, maxY: 85)]) == [0, 1, 16, 17])
        #expect(tiles.cells(of: 15) == CellRect(column: 195, row: 0, columns: 5, rows: 4))
        // A small pane: tiles of at least 6 × 3 cells.
        let small = OverlayTiles(cells: CellRect(column: 0, row: 0, columns: 40, rows: 20), cell: PixelSize(width: 10, height: 20))
        #expect(small.tileColumns == 6 && small.tileRows == 3 && small.count == 7 * 7)
    }
}
