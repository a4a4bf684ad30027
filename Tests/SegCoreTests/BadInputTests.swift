import Foundation
import Testing
@testable import SegCore

/// Broken files must give a typed `SegError`, never a crash.
@Suite("Bad input")
struct BadInputTests {
    /// Valid files of every format to break: our own PNG plus the Pillow-made fixtures.
    static func seeds() throws -> [(String, [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        let png = try PNGCodec.encode(PNGRoundTripTests.pattern(width: 9, height: 7, model: .rgb, depth: 8))
        seeds.append(("rgb.png", png))
        let folder = TestPaths.fixture("images", "")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names.sorted() where [".png", ".jpg", ".bmp"].contains(where: name.hasSuffix) {
            seeds.append((name, [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))))
        }
        return seeds
    }

    @Test("every truncation of every fixture is an error or a whole image, never a crash")
    func truncations() throws {
        let seeds = try Self.seeds()
        #expect(seeds.count > 10)
        for (name, bytes) in seeds {
            // Every offset for small files, a spread of offsets for larger ones.
            let step = max(1, bytes.count / 300)
            for cut in stride(from: 0, to: bytes.count, by: step) {
                do {
                    let image = try ImageFile.decode(Array(bytes.prefix(cut)))
                    // A JPEG cut inside trailing bytes after the scan can still be whole.
                    #expect(image.width > 0, "\(name) cut at \(cut)")
                } catch {
                    #expect(!error.reason.isEmpty, "\(name) cut at \(cut)")
                }
            }
        }
    }

    @Test("a truncated PNG says it is truncated")
    func truncatedKind() throws {
        let png = try PNGCodec.encode(PNGRoundTripTests.pattern(width: 40, height: 30, model: .rgb, depth: 8))
        let error = #expect(throws: SegError.self) { try ImageFile.decode(Array(png.prefix(png.count / 2))) }
        #expect(error?.kind == .truncated)
    }

    @Test("bad CRC in a critical chunk is corrupt")
    func badCRC() throws {
        var png = try PNGCodec.encode(PNGRoundTripTests.pattern(width: 5, height: 5, model: .gray, depth: 8))
        png[29] ^= 0xFF  // the last byte of IHDR's CRC (8 signature + 4 length + 4 type + 13 data)
        let error = #expect(throws: SegError.self) { try ImageFile.decode(png) }
        #expect(error?.kind == .corrupt)
        #expect(error?.reason.contains("CRC") == true)
    }

    @Test("random byte flips never crash")
    func bitFlips() throws {
        var rng = SeededGenerator(seed: 7)
        for (_, bytes) in try Self.seeds() {
            for _ in 0..<40 {
                var damaged = bytes
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    let at = Int.random(in: 0..<damaged.count, using: &rng)
                    damaged[at] = UInt8.random(in: 0...255, using: &rng)
                }
                _ = try? ImageFile.decode(damaged)
            }
        }
    }

    @Test("wrong magic, zero size, empty file")
    func wrongMagic() {
        #expect(throws: SegError.self) { try ImageFile.decode([]) }
        #expect((try? ImageFile.decode(Array("GIF89a....".utf8))) == nil)
        let error = #expect(throws: SegError.self) { try ImageFile.decode(Array("hello world".utf8)) }
        #expect(error?.kind == .unsupported)
    }

    @Test("absurd dimensions are refused from the header, before allocating")
    func absurdDimensions() throws {
        // PNG headers claiming 100000 × 100000 and 2^31-1 × 2^31-1 pixels with no data behind them.
        func png(width: [UInt8], height: [UInt8]) -> [UInt8] {
            var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
            let ihdr: [UInt8] = width + height + [8, 2, 0, 0, 0]
            png += ihdr
            png += ResourceBombTests.crc32BigEndian(Array("IHDR".utf8) + ihdr)
            png += [0, 0, 0, 0] + Array("IEND".utf8) + ResourceBombTests.crc32BigEndian(Array("IEND".utf8))
            return png
        }
        let hundredThousand: [UInt8] = [0, 0x01, 0x86, 0xA0]
        let error = #expect(throws: SegError.self) { try ImageFile.decode(png(width: hundredThousand, height: hundredThousand)) }
        #expect(error?.kind == .tooLarge)
        #expect(throws: SegError.self) { try ImageFile.decode(png(width: [0x7F, 0xFF, 0xFF, 0xFF], height: [0x7F, 0xFF, 0xFF, 0xFF])) }

        // The same for BMP (width 2^31-1, height -2^31) and a configured lower limit.
        var bmp = [UInt8](repeating: 0, count: 54)
        bmp[0] = 0x42; bmp[1] = 0x4D
        put32(&bmp, 10, 54); put32(&bmp, 14, 40); put32(&bmp, 18, 0x7FFF_FFFF); put32(&bmp, 22, 0x8000_0000)
        bmp[26] = 1; bmp[28] = 24
        let bmpError = #expect(throws: SegError.self) { try ImageFile.decode(bmp) }
        #expect(bmpError?.kind == .tooLarge)

        let small = try PNGCodec.encode(PNGRoundTripTests.pattern(width: 20, height: 20, model: .gray, depth: 8))
        let limited = #expect(throws: SegError.self) { try ImageFile.decode(small, limits: .init(maxPixels: 399)) }
        #expect(limited?.kind == .tooLarge)
        #expect((try? ImageFile.decode(small, limits: .init(maxPixels: 400))) != nil)
    }

    @Test("1x1 and 65535x1 images decode")
    func extremeShapes() throws {
        for (w, h) in [(1, 1), (65535, 1), (1, 65535)] {
            let png = try PNGCodec.encode(PNGRoundTripTests.pattern(width: w, height: h, model: .gray, depth: 8))
            let image = try ImageFile.decode(png)
            #expect(image.width == w && image.height == h)
        }
    }

    @Test("a missing file and a folder are errors naming the path")
    func paths() throws {
        let missing = #expect(throws: SegError.self) { try ImageFile.read("/nonexistent/segterm/x.png") }
        #expect(missing?.kind == .notFound)
        #expect(missing?.description == "/nonexistent/segterm/x.png: no such file")
        let folder = #expect(throws: SegError.self) { try ImageFile.read("/tmp") }
        #expect(folder?.kind == .unreadable)
    }

    private func put32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
        for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
    }
}

