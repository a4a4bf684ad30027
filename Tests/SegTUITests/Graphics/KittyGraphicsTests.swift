import Foundation
import Testing
import SegCore
@testable import SegTUI

@Suite("kitty graphics encoder")
struct KittyGraphicsTests {
    /// One parsed APC graphics command.
    struct Command {
        var keys: [String: String]
        var keyOrder: [String]
        var payload: String?
    }

    /// Splits a stream into `ESC _ G … ESC \` commands; anything between them is an error.
    static func parse(_ stream: String) throws -> [Command] {
        var commands: [Command] = []
        var rest = Substring(stream)
        while !rest.isEmpty {
            guard rest.hasPrefix("\u{1B}_G"), let end = rest.range(of: "\u{1B}\\") else {
                throw ParseError(text: String(rest.prefix(40)))
            }
            let body = rest[rest.index(rest.startIndex, offsetBy: 3)..<end.lowerBound]
            let parts = body.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            var keys: [String: String] = [:], order: [String] = []
            for pair in parts[0].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, keys[String(kv[0])] == nil else { throw ParseError(text: String(pair)) }
                keys[String(kv[0])] = String(kv[1]); order.append(String(kv[0]))
            }
            commands.append(Command(keys: keys, keyOrder: order, payload: parts.count > 1 ? String(parts[1]) : nil))
            rest = rest[end.upperBound...]
        }
        return commands
    }

    struct ParseError: Error { let text: String }

    /// A pseudo-random RGBA image (noise does not compress, so the PNG needs several chunks).
    static func noise(width: Int, height: Int, seed: UInt32) -> RGBAImage {
        var s = seed
        var px = [UInt8](repeating: 0, count: width * height * 4)
        for i in px.indices { s = s &* 1_103_515_245 &+ 12345; px[i] = UInt8(truncatingIfNeeded: s >> 16) }
        return RGBAImage(width: width, height: height, pixels: px)
    }

    @Test("transmit: chunks of ≤4096 base64 bytes, keys on the first, m=1 until the last; the PNG decodes to the same RGBA pixels")
    func transmitRoundTrip() throws {
        let image = Self.noise(width: 64, height: 48, seed: 7)  // ~12 KB of PNG: 4+ chunks
        let stream = try KittyGraphics.transmit(image, id: 42)
        let commands = try Self.parse(stream)
        #expect(commands.count >= 3)
        let first = commands[0]
        #expect(first.keys == ["a": "t", "f": "100", "t": "d", "i": "42", "q": "2", "m": "1"])
        for (k, c) in commands.enumerated() {
            let payload = try #require(c.payload)
            #expect(payload.utf8.count <= 4096)
            let last = k == commands.count - 1
            #expect(c.keys["m"] == (last ? "0" : "1"))
            #expect(c.keys["q"] == "2")
            if k > 0 { #expect(Set(c.keys.keys) == ["m", "q"]) }
            // Every chunk but the last is whole base64 quanta.
            if !last { #expect(payload.utf8.count == 4096) }
        }
        let base64 = commands.compactMap(\.payload).joined()
        let png = try #require(Data(base64Encoded: base64))
        let decoded = try ImageFile.decode([UInt8](png))
        #expect(decoded.width == 64 && decoded.height == 48 && decoded.colorModel == .rgba)
        #expect(decoded.samples == .eight(image.pixels))
    }

    @Test("an opaque photo goes as an RGB PNG (no alpha channel to send), pixels exact")
    func rgbPhoto() throws {
        var photo = RGBImage(width: 7, height: 5)
        for y in 0..<5 { for x in 0..<7 { photo[x, y] = (UInt8(x * 30), UInt8(y * 50), 77) } }
        let commands = try Self.parse(try KittyGraphics.transmit(photo, id: 9))
        let payload = try #require(commands.first?.payload)
        let decoded = try ImageFile.decode([UInt8](try #require(Data(base64Encoded: payload))))
        #expect(decoded.colorModel == .rgb && decoded.samples == .eight(photo.pixels))
    }

    @Test("the photo is padded to whole cells in the terminal's background, so no dark strip shows on a light terminal")
    func paddedInBackground() throws {
        let white = RGB(255, 255, 255)
        let photo = RGBImage(width: 15, height: 25, fill: (10, 20, 30))
        let pane = PaneGraphics(lane: 0, cells: CellRect(column: 0, row: 0, columns: 2, rows: 2), size: PixelSize(width: 15, height: 25),
                                cell: PixelSize(width: 10, height: 20), photoKey: "p", photo: { photo }, enlarged: nil,
                                overlayKey: "o", overlay: { RGBAImage(width: 15, height: 25) })
        let presenter = KittyPresenter(ids: KittyImageIDs(base: 0x100), inTmux: false, placeholders: true, background: white)
        let commands = try Self.parse(presenter.present([pane], repainted: { _ in false }))
        let transmitted = try #require(commands.first { $0.keys["a"] == "t" && $0.keys["i"] == "\(KittyImageIDs(base: 0x100).photo(lane: 0))" })
        let payload = try #require(transmitted.payload)
        let decoded = try ImageFile.decode([UInt8](try #require(Data(base64Encoded: payload))))
        guard case .eight(let px) = decoded.samples else { Issue.record("16-bit"); return }
        #expect(decoded.width == 20 && decoded.height == 40)
        #expect(Array(px[0..<3]) == [10, 20, 30])                                  // the photo
        #expect(Array(px[(39 * 20 + 19) * 3..<(39 * 20 + 19) * 3 + 3]) == [255, 255, 255])  // the padding
    }

    @Test("a small overlay fits one chunk with m=0; its alpha survives")
    func smallOverlay() throws {
        var mask = Mask(width: 5, height: 3)
        mask[1, 1] = true; mask[2, 1] = true
        let overlay = RGBAImage(mask: mask, color: RGB(255, 64, 0), alpha: 160)
        let commands = try Self.parse(try KittyGraphics.transmit(overlay, id: 2))
        #expect(commands.count == 1 && commands[0].keys["m"] == "0")
        let payload = try #require(commands[0].payload)
        let png = try #require(Data(base64Encoded: payload))
        let decoded = try ImageFile.decode([UInt8](png))
        guard case .eight(let px) = decoded.samples else { Issue.record("16-bit"); return }
        #expect(px == overlay.pixels)
        #expect(Array(px[(1 * 5 + 1) * 4..<(1 * 5 + 2) * 4]) == [255, 64, 0, 160])
        #expect(px[3] == 0)
    }

    @Test("placement: overlay above photo by z, cursor kept, optional position; delete by id")
    func placeAndDelete() throws {
        let photo = try Self.parse(KittyGraphics.place(id: 1, columns: 80, rows: 24, z: 0))
        let overlay = try Self.parse(KittyGraphics.place(id: 2, columns: 80, rows: 24, z: 1))
        #expect(photo[0].keys == ["a": "p", "i": "1", "p": "1", "c": "80", "r": "24", "z": "0", "C": "1", "q": "2"])
        #expect(Int(overlay[0].keys["z"]!)! > Int(photo[0].keys["z"]!)!)
        let positioned = KittyGraphics.place(id: 2, columns: 3, rows: 2, z: 1, at: (row: 4, column: 9))
        #expect(positioned.hasPrefix("\u{1B}7\u{1B}[5;10H\u{1B}_G") && positioned.hasSuffix("\u{1B}\\\u{1B}8"))
        let delete = try Self.parse(KittyGraphics.delete(id: 2))
        #expect(delete[0].keys == ["a": "d", "d": "i", "i": "2", "q": "2"])
        #expect(try Self.parse(KittyGraphics.delete(id: 2, freeData: true))[0].keys["d"] == "I")
    }

    @Test("diacritics table: 297 marks, the protocol's first and last ones")
    func diacritics() {
        let codes = KittyDiacritics.codes
        #expect(codes.count == 297)
        #expect(Array(codes.prefix(4)) == [0x0305, 0x030D, 0x030E, 0x0310])
        #expect(codes.last == 0x1D244)
        #expect(codes == codes.sorted() && Set(codes).count == codes.count)
    }

    @Test("unicode placeholders: virtual placement and cells with row/column marks; id in the colour")
    func placeholders() throws {
        let place = try Self.parse(KittyGraphics.placeVirtual(id: 0x0A0B0C, columns: 3, rows: 2))
        #expect(place[0].keys == ["a": "p", "U": "1", "i": "\(0x0A0B0C)", "p": "1", "c": "3", "r": "2", "q": "2"])
        // The overlay rides on the photo's virtual placement, above it.
        let overlay = try Self.parse(KittyGraphics.placeRelative(id: 7, parent: 0x0A0B0C, parentPlacement: 1, columns: 3, rows: 2))
        #expect(overlay[0].keys == ["a": "p", "i": "7", "p": "1", "P": "\(0x0A0B0C)", "Q": "1", "H": "0", "V": "0",
                                    "c": "3", "r": "2", "z": "1", "C": "1", "q": "2"])
        #expect(KittyGraphics.placeholderColor(id: 0x0A0B0C) == RGB(0x0A, 0x0B, 0x0C))
        let cells = try #require(KittyGraphics.placeholderCells(id: 0x0A0B0C, columns: 3, rows: 2))
        #expect(cells.count == 2 && cells.allSatisfy { $0.count == 3 })
        // Row 1, column 2: U+10EEEE, mark 1 (U+030D), mark 2 (U+030E).
        #expect(cells[1][2].unicodeScalars.map(\.value) == [0x10EEEE, 0x030D, 0x030E])
        #expect(cells[0][0].unicodeScalars.map(\.value) == [0x10EEEE, 0x0305, 0x0305])
        // Each cell is one grapheme: a terminal (and ncurses) keeps it in one cell.
        #expect(cells[1][2].count == 1)
        // An id above 24 bits carries its high byte as a third mark.
        let high = try #require(KittyGraphics.placeholderCells(id: 0x0300_0001, columns: 1, rows: 1))
        #expect(high[0][0].unicodeScalars.map(\.value) == [0x10EEEE, 0x0305, 0x0305, 0x0310])
        #expect(KittyGraphics.placeholderCells(id: 1, columns: 298, rows: 1) == nil)
    }

    @Test("tmux passthrough doubles every ESC and round-trips")
    func tmux() throws {
        // Ends with a command's ST (ESC \), which must come out doubled before the wrapper's own.
        let inner = KittyGraphics.place(id: 5, columns: 2, rows: 2, at: (0, 0)) + KittyGraphics.delete(id: 5)
        let wrapped = KittyGraphics.tmuxPassthrough(inner)
        #expect(wrapped.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}7\u{1B}\u{1B}["))
        #expect(wrapped.hasSuffix("\u{1B}\u{1B}\\\u{1B}\\"))
        let escapes = { (s: String) in s.unicodeScalars.filter { $0 == "\u{1B}" }.count }
        #expect(escapes(wrapped) == 2 * escapes(inner) + 2)
        #expect(KittyGraphics.tmuxUnwrap(wrapped) == inner)
        // A single ESC inside would end tmux's passthrough early: refused.
        #expect(KittyGraphics.tmuxUnwrap("\u{1B}Ptmux;\u{1B}_Ga=d\u{1B}\\") == nil)
        #expect(KittyGraphics.tmuxUnwrap(inner) == nil)
    }
}
