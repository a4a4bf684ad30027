import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// kitty graphics from the real binary, through tmux's passthrough: tmux records every byte the
/// workbench writes (pipe-pane), the test takes the kitty commands out of tmux's wrapping and
/// decodes their PNGs, and capture-pane shows the placeholder cells tmux carries as text.
@Suite("kitty graphics through tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct KittyInTmuxTests {
    static let columns = 100, rows = 30

    /// One kitty graphics command, with its chunks' payloads joined when it was sent in chunks.
    struct Command {
        var keys: [String: String]
        var payload: String
        /// Bytes of the stream up to the end of this command.
        var end: Int
    }

    /// The kitty commands inside the tmux passthrough sequences of `stream`, chunks joined.
    static func commands(_ stream: [UInt8]) throws -> [Command] {
        let head = Array("\u{1B}Ptmux;".utf8)
        var found: [Command] = []
        var open: Command?  // a transmission whose later chunks are still to come
        var i = 0
        while i + head.count < stream.count {
            guard stream[i] == 0x1B, Array(stream[i..<(i + head.count)]) == head else { i += 1; continue }
            // Inside, every ESC is doubled; a single ESC followed by a backslash ends the sequence.
            var j = i + head.count
            while j + 1 < stream.count, !(stream[j] == 0x1B && stream[j + 1] != 0x1B && stream[j + 1] == UInt8(ascii: "\\")) {
                j += stream[j] == 0x1B ? 2 : 1
            }
            let wrapped = String(decoding: stream[i...(j + 1)], as: UTF8.self)
            let inner = try #require(KittyGraphics.tmuxUnwrap(wrapped), "not a passthrough sequence")
            i = j + 2
            guard inner.hasPrefix("\u{1B}_G"), inner.hasSuffix("\u{1B}\\") else { continue }
            let body = inner.dropFirst(3).dropLast(2)
            let parts = body.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            var keys: [String: String] = [:]
            for pair in parts[0].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { keys[String(kv[0])] = String(kv[1]) }
            }
            let payload = parts.count > 1 ? String(parts[1]) : ""
            if var continued = open, keys["i"] == nil, keys["a"] == nil {
                continued.payload += payload
                continued.end = i
                open = keys["m"] == "1" ? continued : nil
                if open == nil { found.append(continued) }
            } else {
                let command = Command(keys: keys, payload: payload, end: i)
                if keys["m"] == "1" { open = command } else { found.append(command) }
            }
        }
        return found
    }

    /// A transmitted PNG as 8-bit pixels with their channel count.
    /// Waits until the recorded stream has not grown for half a second (at most 10 s): the
    /// frame's graphics follow its text, and pipe-pane's cat writes behind the screen.
    static func waitUntilQuiet(_ stream: URL) {
        func size() -> Int { (try? FileManager.default.attributesOfItem(atPath: stream.path)[.size] as? Int) ?? 0 }
        let deadline = Date().addingTimeInterval(10)
        var last = size(), quietSince = Date()
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            let now = size()
            if now != last { last = now; quietSince = Date() } else if Date().timeIntervalSince(quietSince) >= 0.5 { return }
        }
    }

    static func decodePNG(_ command: Command) throws -> (width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        let data = try #require(Data(base64Encoded: command.payload))
        let raster = try ImageFile.decode([UInt8](data))
        guard case .eight(let pixels) = raster.samples else { throw SegError(.invalid, file: "kitty payload", "not 8-bit") }
        return (raster.width, raster.height, raster.channels, pixels)
    }

    @Test("the photo goes once, the scene pixel for pixel (shown enlarged), under placeholder cells; a click sends only the small overlay, which covers the object; quitting deletes both")
    func kittyThroughTmux() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let stream = root.appendingPathComponent("terminal-output.bin")
        let session = "segterm-e2e-kitty-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        // The pane waits for pipe-pane before starting segterm, so the first frame is recorded too.
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(Self.columns)", "-y", "\(Self.rows)",
                      "sleep 0.5; '\(Binary.path!)' open '\(root.path)' --graphics kitty; echo EXITED $?; sleep 60"])
        try Tmux.run(["set-option", "-t", session, "allow-passthrough", "on"])
        try Tmux.run(["pipe-pane", "-O", "-t", session, "cat > '\(stream.path)'"])
        let ready = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        #expect(ready.contains("grabcut: ready"), "\(ready)")
        Thread.sleep(forTimeInterval: 0.3)  // pipe-pane's cat writes behind the screen

        // Before any click: the photo once, its virtual placement, the overlay placed relative to it.
        let before = try [UInt8](Data(contentsOf: stream))
        let first = try Self.commands(before)
        let virtual = try #require(first.first { $0.keys["U"] == "1" }, "no virtual placement")
        let photoID = try #require(virtual.keys["i"])
        let overlayPlacement = try #require(first.first { $0.keys["P"] == photoID }, "no overlay placed on the photo")
        // The overlay is a grid of tile images, each placed relative to the photo.
        let overlayID = try #require(overlayPlacement.keys["i"])
        let photos = first.filter { $0.keys["a"] == "t" && $0.keys["i"] == photoID }
        #expect(photos.count == 1)
        let photo = try Self.decodePNG(try #require(photos.first))
        let columns = try #require(Int(virtual.keys["c"] ?? "")), rows = try #require(Int(virtual.keys["r"] ?? ""))

        // The cell size the binary drew with (tmux's answer or the one kitty assumes): the first
        // overlay (the cursor ring) is drawn in display pixels, a whole number of cells.
        let ringPlaced = try #require(Int(overlayPlacement.keys["c"] ?? "")), ringRows = try #require(Int(overlayPlacement.keys["r"] ?? ""))
        let ring = try Self.decodePNG(try #require(first.first { $0.keys["a"] == "t" && $0.keys["i"] == overlayID }))
        #expect(ring.width % ringPlaced == 0 && ring.height % ringRows == 0)
        let cell = PixelSize(width: ring.width / ringPlaced, height: ring.height / ringRows)
        // Where the binary put the scene: the same layout for the same terminal and cell size.
        var s = WorkbenchState(rows: Self.rows, columns: Self.columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelName: "")
        s.image = RGBImage(width: 120, height: 90)
        s.display = DisplayGrid(mode: .kitty, cellPixels: cell)
        let layout = WorkbenchLayout(s)
        #expect(layout.imageCells.columns == columns && layout.imageCells.rows == rows, "\(layout.imageCells) vs \(columns)×\(rows), cell \(cell)")
        // The whole scene is shown enlarged, so the photo is the scene itself, pixel for pixel, on a
        // canvas that the placement's cells enlarge by the view's scale.
        #expect(layout.image.scaleX > 4)
        #expect(photo.width == Int((Double(columns * cell.width) / layout.image.scaleX).rounded())
                && photo.height == Int((Double(rows * cell.height) / layout.image.scaleY).rounded()), "\(photo.width)×\(photo.height)")
        let scene = try ImageFile.read(root.appendingPathComponent("images/scene-1.png").path).rgbImage()
        var differing = 0
        for y in 0..<scene.height {
            for x in 0..<scene.width {
                let o = (y * photo.width + x) * photo.channels, expected = scene[x, y]
                if photo.pixels[o] != expected.0 || photo.pixels[o + 1] != expected.1 || photo.pixels[o + 2] != expected.2 { differing += 1 }
            }
        }
        #expect(differing == 0, "\(differing) of the scene's pixels differ in the photo sent")

        // The image area holds one placeholder per cell of the placement (tmux carries them as text).
        let screen = try Tmux.run(["capture-pane", "-p", "-t", session])
        let placeholders = screen.unicodeScalars.filter { $0 == KittyGraphics.placeholder }.count
        #expect(placeholders == columns * rows, "\(placeholders) placeholders for \(columns)×\(rows) cells")

        // A click on the disc: overlay tiles again, never the photo.
        let clickAt = before.count
        let target = try #require(layout.cell(for: PixelPoint(x: 70, y: 45)))
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(target.column + 1);\(target.row + 1)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(target.column + 1);\(target.row + 1)m"])
        let done = try Tmux.waitFor(session) { $0.contains("done in") }
        #expect(done.contains("GT IoU"), "\(done)")
        // The status line is drawn before the overlay is encoded and sent (slower in a debug
        // build or on a loaded machine): wait until the overlay on the terminal covers the disc, 10 s at most.
        func overlayAlpha(_ commands: [Command]) -> (_ x: Double, _ y: Double) -> UInt8? {
            var screen = TileScreen(photo: photoID)
            for command in commands { screen.apply(command) }
            return { x, y in
                screen.alpha(x: Int((x - layout.image.originX) * layout.image.scaleX), y: Int((y - layout.image.originY) * layout.image.scaleY),
                             cell: cell)
            }
        }
        Self.waitUntilQuiet(stream)
        var after = try [UInt8](Data(contentsOf: stream))
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (overlayAlpha(try Self.commands(after))(75.5, 50.5) ?? 0) == 0 {
            Thread.sleep(forTimeInterval: 0.2)
            after = try [UInt8](Data(contentsOf: stream))
        }
        let clickCommands = try Self.commands(Array(after[clickAt...]))
        #expect(!clickCommands.contains { $0.keys["i"] == photoID && $0.keys["a"] == "t" }, "the click re-sent the photo")
        let overlays = clickCommands.filter { $0.keys["a"] == "t" && $0.keys["i"] != photoID }
        #expect(!overlays.isEmpty)
        let photoBytes = photos[0].payload.utf8.count
        let clickBytes = after.count - clickAt
        let overlayBytes = overlays.map(\.payload.utf8.count).reduce(0, +)
        // Beyond the overlays, a click costs the text that changed (status line, cursor) and the commands.
        #expect(clickBytes - overlayBytes < 6000, "a click sent \(clickBytes) B, \(overlayBytes) B of it overlays in \(overlays.count) tiles, \(clickCommands.count) commands")
        // Each tile sent: only the cells it draws in, placed at their offset from the photo's first cell.
        for id in Set(overlays.compactMap { $0.keys["i"] }) {
            let tile = try #require(overlays.last { $0.keys["i"] == id })
            let placed = try #require(clickCommands.last { $0.keys["i"] == id && $0.keys["a"] == "p" })
            #expect(placed.keys["P"] == photoID)
            let image = try Self.decodePNG(tile)
            #expect(image.channels == 4 && image.width == (Int(placed.keys["c"] ?? "") ?? 0) * cell.width
                    && image.height == (Int(placed.keys["r"] ?? "") ?? 0) * cell.height)
        }
        #expect(overlayBytes < photoBytes, "the click re-sent more than the photo's worth of overlay")
        let alpha = overlayAlpha(try Self.commands(after))
        #expect((alpha(75.5, 50.5) ?? 0) > 0, "the mask is not over the disc")
        #expect((alpha(10.5, 80.5) ?? 0) == 0, "the overlay covers the ground far from the disc")

        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        Thread.sleep(forTimeInterval: 0.3)
        let last = try Self.commands(try [UInt8](Data(contentsOf: stream)))
        let deleted = Set(last.filter { $0.keys["a"] == "d" }.compactMap { $0.keys["i"] })
        let sentTiles = Set(last.filter { $0.keys["a"] == "t" && $0.keys["i"] != photoID }.compactMap { $0.keys["i"] })
        #expect(deleted.isSuperset(of: sentTiles.union([photoID])), "quitting left images in the terminal: deleted \(deleted)")
        print("kitty through tmux: photo \(photoBytes) B of base64 (\(photo.width)×\(photo.height)), one click \(clickBytes) B in all, \(overlayBytes) B of it \(overlays.count) overlay tiles")
    }

    @Test("killed by SIGTERM, segterm still deletes its images from the terminal (kitty keeps them until told)")
    func sigterm() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let stream = root.appendingPathComponent("terminal-output.bin")
        let session = "segterm-e2e-kitty-term-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        // `exec` keeps the shell's pid, so the timer kills segterm itself while it owns the terminal.
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(Self.columns)", "-y", "\(Self.rows)",
                      "sleep 0.5; sh -c '(sleep 3; kill -TERM $$) & exec \"\(Binary.path!)\" open \"\(root.path)\" --graphics kitty'; echo EXITED $?; sleep 60"])
        try Tmux.run(["set-option", "-t", session, "allow-passthrough", "on"])
        try Tmux.run(["pipe-pane", "-O", "-t", session, "cat > '\(stream.path)'"])
        let after = try Tmux.waitFor(session, seconds: 20) { $0.contains("EXITED") }
        #expect(after.contains("EXITED 143"), "\(after)")
        Thread.sleep(forTimeInterval: 0.3)
        let commands = try Self.commands(try [UInt8](Data(contentsOf: stream)))
        let photo = try #require(commands.first { $0.keys["U"] == "1" }?.keys["i"], "no image was shown before the signal")
        let deleted = Set(commands.filter { $0.keys["a"] == "d" && $0.keys["d"] == "I" }.compactMap { $0.keys["i"] })
        #expect(deleted.contains(photo), "deleted \(deleted), photo \(photo)")
    }
}

/// The overlay tiles a kitty terminal shows after a stream of commands: each tile's pixels (the
/// last transmitted) where it is placed now, relative to the photo.
struct TileScreen {
    let photo: String
    var images: [String: (width: Int, height: Int, pixels: [UInt8])] = [:]
    var placed: [String: (column: Int, row: Int)] = [:]

    init(photo: String) { self.photo = photo }

    mutating func apply(_ command: KittyInTmuxTests.Command) {
        let keys = command.keys
        guard let id = keys["i"], id != photo else { return }
        switch keys["a"] {
        case "t":
            if let image = try? KittyInTmuxTests.decodePNG(command), image.channels == 4 {
                images[id] = (image.width, image.height, image.pixels)
            }
        case "p": placed[id] = (Int(keys["H"] ?? "") ?? 0, Int(keys["V"] ?? "") ?? 0)
        case "d": placed[id] = nil
        default: break
        }
    }

    /// The alpha at a pixel of the pane, nil where no tile is placed.
    func alpha(x: Int, y: Int, cell: PixelSize) -> UInt8? {
        for (id, at) in placed {
            guard let image = images[id] else { continue }
            let px = x - at.column * cell.width, py = y - at.row * cell.height
            if px >= 0, py >= 0, px < image.width, py < image.height { return image.pixels[(py * image.width + px) * 4 + 3] }
        }
        return nil
    }
}
