import Foundation
import Testing
@testable import SegCore

@Suite("PNG round trips")
struct PNGRoundTripTests {
    /// Every colour type and bit depth segterm writes, with content that exercises every sample value range.
    static let cases: [(RasterImage.ColorModel, Int)] = [
        (.gray, 8), (.gray, 16), (.grayAlpha, 8), (.grayAlpha, 16), (.rgb, 8), (.rgb, 16),
        (.rgba, 8), (.rgba, 16), (.palette, 8),
    ]

    static func pattern(width: Int, height: Int, model: RasterImage.ColorModel, depth: Int) -> RasterImage {
        let count = width * height * model.channels
        var rng = SystemRandomNumberGenerator()
        if depth == 16 {
            let s = (0..<count).map { i in i % 7 == 0 ? UInt16.max : UInt16.random(in: 0...UInt16.max, using: &rng) }
            return RasterImage(width: width, height: height, colorModel: model, fileBitDepth: 16, format: .png, samples: .sixteen(s))
        }
        var palette: [RasterImage.PaletteEntry] = []
        if model == .palette {
            for i in 0..<200 {
                let alpha: UInt8 = i == 3 ? 0 : 255
                palette.append(RasterImage.PaletteEntry(r: UInt8(i), g: UInt8(255 - i), b: UInt8((i * 7) & 255), a: alpha))
            }
        }
        let s = (0..<count).map { i in model == .palette ? UInt8(i % 200) : UInt8.random(in: 0...255, using: &rng) }
        return RasterImage(width: width, height: height, colorModel: model, fileBitDepth: 8, format: .png,
                           samples: .eight(s), palette: palette)
    }

    @Test("write then read gives the same samples", arguments: cases.indices)
    func roundTrip(_ index: Int) throws {
        let (model, depth) = Self.cases[index]
        for (width, height) in [(1, 1), (17, 5), (3, 64)] {
            let image = Self.pattern(width: width, height: height, model: model, depth: depth)
            let folder = TestPaths.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("out.png").path
            try ImageFile.writePNG(image, to: path)
            let back = try ImageFile.read(path)
            #expect(back.colorModel == model)
            #expect(back.fileBitDepth == depth)
            #expect(back.size == image.size)
            #expect(back.samples == image.samples)
            if model == .palette { #expect(back.palette == image.palette) }
        }
    }

    @Test("label maps pick 8 or 16 bits by their largest value")
    func labelMapDepth() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let small = LabelMap(width: 3, height: 2, labels: [0, 1, 2, 255, 7, 0])
        let large = LabelMap(width: 3, height: 2, labels: [0, 1, 300, 65535, 7, 0])
        try ImageFile.writePNG(small, to: folder.appendingPathComponent("a.png").path)
        try ImageFile.writePNG(large, to: folder.appendingPathComponent("b.png").path)
        let a = try ImageFile.read(folder.appendingPathComponent("a.png").path)
        let b = try ImageFile.read(folder.appendingPathComponent("b.png").path)
        #expect(a.fileBitDepth == 8 && a.labelMap() == small)
        #expect(b.fileBitDepth == 16 && b.labelMap() == large)
        #expect(throws: SegError.self) {
            try ImageFile.writePNG(LabelMap(width: 1, height: 1, labels: [70000]), to: folder.appendingPathComponent("c.png").path)
        }
    }

    @Test("a mask is written as 0/255 gray and reads back as the same mask")
    func maskRoundTrip() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let mask = Mask(width: 4, height: 3, bits: [0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1])
        let path = folder.appendingPathComponent("m.png").path
        try ImageFile.writePNG(mask, to: path)
        let raster = try ImageFile.read(path)
        #expect(Set(raster.allSamples) == [0, 255])
        #expect(raster.objectMask().object == mask)
        // No temporary file is left behind by the atomic write.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.png"])
    }
}

/// Decoding checked against what Pillow decodes (scripts/make_image_fixtures.py wrote the expected values).
@Suite("Decoders agree with Pillow")
struct PillowFixtureTests {
    struct Expected: Decodable {
        let file: String
        let width: Int
        let height: Int
        let mode: String
        let channels: Int
        let sample_bytes: Int?
        let endianness: String?
        let values: String
        let tolerance: Int?
        let palette: [[Int]]?
    }

    struct Index: Decodable {
        struct Entry: Decodable { let name: String; let expected: String; let kind: String }
        let fixtures: [Entry]
    }

    static let entries: [String] = {
        guard let data = try? Data(contentsOf: TestPaths.fixture("images", "INDEX.json")),
              let index = try? JSONDecoder().decode(Index.self, from: data) else { return [] }
        return index.fixtures.map(\.expected)
    }()

    @Test("fixture index is present")
    func indexPresent() { #expect(Self.entries.count >= 30) }

    @Test("decoded pixels match Pillow", arguments: entries)
    func matchesPillow(_ expectedName: String) throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: TestPaths.fixture("images", expectedName)))
        let tolerance = expected.tolerance ?? 0
        if tolerance < 0 { return }  // no exact reference (CMYK): decoding must still succeed
        let image = try ImageFile.read(TestPaths.fixture("images", expected.file).path)
        #expect(image.width == expected.width && image.height == expected.height, "\(expected.file)")
        guard let raw = Data(base64Encoded: expected.values) else {
            Issue.record("bad base64 in \(expectedName)")
            return
        }
        let bytes = [UInt8](raw)
        var reference: [UInt32]
        if expected.sample_bytes == 2 {
            let big = expected.endianness != "little"
            reference = stride(from: 0, to: bytes.count - 1, by: 2).map { i in
                big ? UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]) : UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i])
            }
        } else {
            reference = bytes.map(UInt32.init)
        }
        // segterm reads an all-gray BMP palette as gray levels where Pillow keeps indices ("P"):
        // compare levels, looked up in Pillow's palette.
        if expected.mode == "P", image.colorModel == .gray, let palette = expected.palette {
            reference = reference.map { Int($0) < palette.count ? UInt32(palette[Int($0)][0]) : 0 }
        }
        let ours = image.allSamples
        #expect(ours.count == reference.count, "\(expected.file): \(ours.count) samples, Pillow \(reference.count)")
        guard ours.count == reference.count else { return }
        var worst: UInt32 = 0, mismatches = 0
        for (a, b) in zip(ours, reference) {
            let d = a > b ? a - b : b - a
            if d > UInt32(tolerance) { mismatches += 1 }
            worst = max(worst, d)
        }
        #expect(mismatches == 0, "\(expected.file): \(mismatches) samples differ by more than \(tolerance) (worst \(worst))")
    }
}

@Suite("File digests")
struct FileDigestTests {
    @Test("SHA-256 of a file equals FIPS 180-2's vectors (empty, \"abc\", a million a's)")
    func sha256() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-sha-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(Data, String)] = [
            (Data(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (Data("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (Data(repeating: UInt8(ascii: "a"), count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (index, (bytes, digest)) in cases.enumerated() {
            let path = folder.appendingPathComponent("f\(index)").path
            try bytes.write(to: URL(fileURLWithPath: path))
            #expect(try FileDigest.sha256(path: path) == digest)
        }
        #expect(throws: SegError.self) { try FileDigest.sha256(path: folder.appendingPathComponent("missing").path) }
    }
}
