import Foundation
import Testing
import SegCore
@testable import SegTUI

@Suite("sixel encoder")
struct SixelTests {
    /// A minimal sixel decoder (DEC STD 070 subset that the encoder may emit, plus what a
    /// careless encoder might: it refuses anything else): returns the painted colour of each
    /// pixel, nil where no sixel painted it.
    struct Decoded {
        var width = 0, height = 0
        var pixels: [RGB?] = []
        var registersUsed: Set<Int> = []
    }

    struct DecodeError: Error { let reason: String }

    static func decode(_ stream: String) throws -> Decoded {
        let bytes = Array(stream.utf8)
        guard bytes.starts(with: Array("\u{1B}P".utf8)), bytes.suffix(2) == [0x1B, UInt8(ascii: "\\")] else {
            throw DecodeError(reason: "not a DCS … ST string")
        }
        guard let q = bytes.firstIndex(of: UInt8(ascii: "q")) else { throw DecodeError(reason: "no q") }
        var i = q + 1
        let end = bytes.count - 2
        func number() -> Int? {
            var value: Int?
            while i < end, (48...57).contains(bytes[i]) { value = (value ?? 0) * 10 + Int(bytes[i] - 48); i += 1 }
            return value
        }
        func numbers() -> [Int] {
            var values: [Int] = []
            repeat {
                if i < end, bytes[i] == UInt8(ascii: ";") { i += 1 }
                values.append(number() ?? 0)
            } while i < end && bytes[i] == UInt8(ascii: ";")
            return values
        }
        var out = Decoded()
        guard i < end, bytes[i] == UInt8(ascii: "\"") else { throw DecodeError(reason: "no raster attributes") }
        i += 1
        let raster = numbers()
        guard raster.count == 4 else { throw DecodeError(reason: "raster attributes \(raster)") }
        out.width = raster[2]; out.height = raster[3]
        out.pixels = Array(repeating: nil, count: out.width * out.height)
        var palette: [Int: RGB] = [:]
        var current = 0, x = 0, band = 0
        func paint(_ char: UInt8, count: Int) throws {
            guard (63...126).contains(char) else { throw DecodeError(reason: "bad sixel byte \(char)") }
            let bits = Int(char - 63)
            guard let color = palette[current] else { throw DecodeError(reason: "register \(current) undefined") }
            for _ in 0..<count {
                for dy in 0..<6 where bits & (1 << dy) != 0 {
                    let y = band * 6 + dy
                    guard x < out.width, y < out.height else { throw DecodeError(reason: "paint outside at \(x),\(y)") }
                    out.pixels[y * out.width + x] = color
                }
                x += 1
            }
            out.registersUsed.insert(current)
        }
        while i < end {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "#"):
                i += 1
                let values = numbers()
                if values.count == 5 {
                    guard values[1] == 2, values[2...].allSatisfy({ $0 <= 100 }) else { throw DecodeError(reason: "colour \(values)") }
                    func byte(_ p: Int) -> UInt8 { UInt8((Double(p) * 255 / 100).rounded()) }
                    palette[values[0]] = RGB(byte(values[2]), byte(values[3]), byte(values[4]))
                } else if values.count != 1 {
                    throw DecodeError(reason: "colour command \(values)")
                }
                current = values[0]
            case UInt8(ascii: "!"):
                i += 1
                guard let n = number(), i < end else { throw DecodeError(reason: "bad repeat") }
                try paint(bytes[i], count: n)
                i += 1
            case UInt8(ascii: "$"): x = 0; i += 1
            case UInt8(ascii: "-"): x = 0; band += 1; i += 1
            default:
                try paint(c, count: 1)
                i += 1
            }
        }
        return out
    }

    /// What a terminal shows for a colour after sixel's percent precision.
    static func shown(_ c: RGB) -> RGB {
        func byte(_ v: UInt8) -> UInt8 { UInt8((Double(SixelEncoder.percent(v)) * 255 / 100).rounded()) }
        return RGB(byte(c.r), byte(c.g), byte(c.b))
    }

    /// A smooth photo-like gradient with a mask region painted in exact colours and a
    /// transparent corner.
    static func scene(width: Int, height: Int, fill: RGB, edge: RGB) -> RGBAImage {
        var image = RGBAImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = (UInt8(x * 255 / (width - 1)), UInt8(y * 255 / (height - 1)), UInt8((x + y) * 2 % 256), 255)
                let dx = x - width / 2, dy = y - height / 2
                let d = dx * dx + dy * dy
                if d < 100 { image[x, y] = (fill.r, fill.g, fill.b, 255) }
                if d >= 100 && d < 130 { image[x, y] = (edge.r, edge.g, edge.b, 255) }
                if x < 3 && y < 3 { image[x, y] = (9, 9, 9, 0) }
            }
        }
        return image
    }

    @Test("a 37×20 scene: mask colours exact (up to sixel's percent precision), the rest close, transparency kept")
    func roundTrip() throws {
        let fill = RGB(30, 144, 255), edge = RGB(255, 215, 0)
        let image = Self.scene(width: 37, height: 20, fill: fill, edge: edge)
        let stream = SixelEncoder.encode(image, exactColors: [fill, edge])
        #expect(stream.hasPrefix("\u{1B}P0;1;0q\"1;1;37;20#"))
        let decoded = try Self.decode(stream)
        #expect(decoded.width == 37 && decoded.height == 20)
        var worst = 0
        for y in 0..<20 {
            for x in 0..<37 {
                let p = image[x, y]
                let got = decoded.pixels[y * 37 + x]
                if p.a < 128 { #expect(got == nil, "(\(x), \(y)) should stay unpainted"); continue }
                let want = RGB(p.r, p.g, p.b)
                guard let got else { Issue.record("(\(x), \(y)) unpainted"); continue }
                if want == fill || want == edge {
                    #expect(got == Self.shown(want), "mask pixel (\(x), \(y))")
                } else {
                    worst = max(worst, abs(Int(got.r) - Int(want.r)), abs(Int(got.g) - Int(want.g)), abs(Int(got.b) - Int(want.b)))
                }
            }
        }
        // 254 registers for a 37×20 gradient: median cut keeps every channel close.
        #expect(worst <= 12, "worst channel error \(worst)")
    }

    @Test("exact colours own registers 0…k-1; no photo pixel is drawn with a mask register unless it has that colour")
    func exactRegisters() throws {
        let fill = RGB(200, 0, 0)
        var image = RGBAImage(width: 8, height: 7)
        for y in 0..<7 { for x in 0..<8 { image[x, y] = (201, 1, 1, 255) } }  // near the mask colour, not it
        image[3, 3] = (200, 0, 0, 255)
        var palette = SixelPalette(for: image, exact: [fill, fill])
        #expect(palette.exactCount == 1 && palette.colors[0] == fill)
        #expect(palette.index(of: fill) == 0)
        #expect(palette.index(of: RGB(201, 1, 1)) != 0)
        #expect(palette.colors.count <= 256)
        let decoded = try Self.decode(SixelEncoder.encode(image, palette: &palette))
        #expect(decoded.pixels[3 * 8 + 3] == Self.shown(fill))
        #expect(decoded.pixels[0] == Self.shown(RGB(201, 1, 1)))
    }

    @Test("runs: a uniform 100-pixel band is one !100 per colour pass")
    func runLength() throws {
        let image = RGBAImage(RGBImage(width: 100, height: 6, fill: (0, 255, 0)))
        let stream = SixelEncoder.encode(image)
        #expect(stream.contains("!100~"))
        #expect(stream.count < 60)
        let decoded = try Self.decode(stream)
        #expect(decoded.pixels.allSatisfy { $0 == RGB(0, 255, 0) })
    }

    @Test("many colours: at most 256 registers, every painted register defined")
    func paletteBound() throws {
        var image = RGBAImage(width: 64, height: 64)
        for y in 0..<64 { for x in 0..<64 { image[x, y] = (UInt8(x * 4), UInt8(y * 4), UInt8((x ^ y) * 4), 255) } }
        let decoded = try Self.decode(SixelEncoder.encode(image, exactColors: [RGB(1, 2, 3)]))
        #expect(decoded.registersUsed.allSatisfy { $0 < 256 })
        #expect(decoded.pixels.allSatisfy { $0 != nil })
    }

    @Test("libsixel's sixel2png decodes our stream to the same pixels as the test decoder (skipped without libsixel-bin)")
    func libsixelDecodes() throws {
        let tool = ["/usr/bin/sixel2png", "/usr/local/bin/sixel2png"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else {
            print("skipped: sixel2png not installed (apt-get install -y libsixel-bin)")
            return
        }
        let fill = RGB(30, 144, 255), edge = RGB(255, 215, 0)
        var image = Self.scene(width: 41, height: 23, fill: fill, edge: edge)
        for y in 0..<3 { for x in 0..<3 { image[x, y].a = 255 } }  // sixel2png writes RGB: no transparency
        let stream = SixelEncoder.encode(image, exactColors: [fill, edge])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(stream.utf8))
        try input.fileHandleForWriting.close()
        let png = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let raster = try ImageFile.decode([UInt8](png)).rgbImage()
        #expect(raster.width == 41 && raster.height == 23)
        let ours = try Self.decode(stream)
        for y in 0..<23 {
            for x in 0..<41 {
                let p = raster[x, y], want = image[x, y]
                let theirs = RGB(p.r, p.g, p.b)
                #expect(ours.pixels[y * 41 + x] == theirs, "(\(x), \(y)): test decoder and libsixel differ")
                if RGB(want.r, want.g, want.b) == fill { #expect(theirs == Self.shown(fill)) }
                if RGB(want.r, want.g, want.b) == edge { #expect(theirs == Self.shown(edge)) }
            }
        }
    }
}
