import Foundation
import Testing
import SegCore
@testable import SegTUI

/// What each mode costs on a real sample (sample-data/images/forest-01.png, 480×360, with its
/// object mask): the figures are printed for BENCHMARKS.md; the assertions hold the shape of
/// the budget (a click costs the overlay, not the photo).
@Suite("Graphics budget")
struct GraphicsBudgetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sample-data")

    static func sample() throws -> (photo: RGBImage, mask: Mask) {
        let photo = try ImageFile.read(root.appendingPathComponent("images/forest-01.png").path).rgbImage()
        let mask = try ImageFile.read(root.appendingPathComponent("masks/forest-01.png").path).objectMask().object
        return (photo, mask)
    }

    @Test("overlay helpers: boundary opaque and exact, fill blended, outside untouched")
    func overlay() {
        var mask = Mask(width: 5, height: 5)
        for y in 1..<4 { for x in 1..<4 { mask[x, y] = true } }
        let overlay = RGBAImage(mask: mask, fill: RGB(0, 0, 255), fillAlpha: 128, boundary: RGB(255, 255, 0))
        func px(_ p: (r: UInt8, g: UInt8, b: UInt8, a: UInt8)) -> [UInt8] { [p.r, p.g, p.b, p.a] }
        #expect(px(overlay[1, 1]) == [255, 255, 0, 255] && px(overlay[2, 2]) == [0, 0, 255, 128] && overlay[0, 0].a == 0)
        let frame = overlay.composited(over: RGBImage(width: 5, height: 5, fill: (100, 100, 100)))
        #expect(px(frame[1, 1]) == [255, 255, 0, 255])
        #expect(px(frame[2, 2]) == [50, 50, 178, 255])  // (0·128 + 100·127 + 127)/255 = 50; (255·128 + 12700 + 127)/255 = 178
        #expect(px(frame[0, 0]) == [100, 100, 100, 255])
    }

    @Test("bytes per image and per click, kitty and sixel; encode times")
    func budget() throws {
        let (photo, mask) = try Self.sample()
        #expect(mask.width == photo.width && mask.height == photo.height)
        let fill = RGB(30, 144, 255), boundary = RGB(255, 215, 0)
        let overlay = RGBAImage(mask: mask, fill: fill, fillAlpha: 102, boundary: boundary)
        let clock = ContinuousClock()

        var photoStream = "", overlayStream = ""
        let kittyPhotoTime = try clock.measure { photoStream = try KittyGraphics.transmit(photo, id: 1) }
        let kittyOverlayTime = try clock.measure { overlayStream = try KittyGraphics.transmit(overlay, id: 2) }
        // A click: re-send the overlay (same id replaces it); the placement stays.
        let click = overlayStream.utf8.count

        let frame = overlay.composited(over: photo)
        var sixel = ""
        let sixelTime = clock.measure { sixel = SixelEncoder.encode(frame, exactColors: [boundary]) }
        // A click in sixel mode can keep the palette made for the photo (the mask colours are in it
        // exactly): only the mapping and the output remain.
        var palette = SixelPalette(for: RGBAImage(photo), exact: [boundary])
        var reused = ""
        let paletteTime = clock.measure { palette = SixelPalette(for: RGBAImage(photo), exact: [boundary]) }
        let reusedTime = clock.measure { reused = SixelEncoder.encode(frame, palette: &palette) }
        print("""
            graphics budget (forest-01 480x360, \(mask.bits.reduce(0) { $0 + Int($1) }) mask pixels):
              kitty: photo \(photoStream.utf8.count) B in \(kittyPhotoTime), overlay per click \(click) B in \(kittyOverlayTime)
              sixel: frame \(sixel.utf8.count) B in \(sixelTime) (palette \(paletteTime); with the photo's palette kept: \(reused.utf8.count) B in \(reusedTime))
            """)
        // For a look in a real terminal (scripts/sixel-xterm-check.sh shows it in xterm under Xvfb).
        if let out = ProcessInfo.processInfo.environment["SEGTERM_SIXEL_OUT"] {
            try Data(sixel.utf8).write(to: URL(fileURLWithPath: out))
        }
        #expect(click * 5 < photoStream.utf8.count)
        #expect(sixel.utf8.count > 0)
    }
}
