import CZlib
import Foundation
import Testing
@testable import SegCore

/// Issue #9: small files that claim huge contents are refused with a typed error naming the file,
/// before the claimed memory is allocated (the peak memory of these reads, measured on the real
/// binary, is in EndToEndTests' "resource bombs" suite and FUZZING.md).
@Suite("Resource bombs")
struct ResourceBombTests {
    static func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-bomb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A PNG chunk's CRC (zlib's CRC-32), big-endian as the chunk stores it.
    static func crc32BigEndian(_ bytes: [UInt8]) -> [UInt8] {
        be32(UInt32(truncatingIfNeeded: bytes.withUnsafeBufferPointer { crc32_z(0, $0.baseAddress, $0.count) }))
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// A PNG signature, IHDR and IEND: the header's claim with no pixel data behind it.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be32(13) + Array("IHDR".utf8) + ihdr
            + crc32BigEndian(Array("IHDR".utf8) + ihdr) + be32(0) + Array("IEND".utf8) + crc32BigEndian(Array("IEND".utf8))
    }

    /// A 54-byte BMP header (BITMAPINFOHEADER, 24 bits) claiming width × height, no pixels.
    static func bmpHeader(width: Int32, height: Int32) -> [UInt8] {
        var bmp = [UInt8](repeating: 0, count: 54)
        func put(_ at: Int, _ v: UInt32) { for k in 0..<4 { bmp[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) } }
        bmp[0] = 0x42; bmp[1] = 0x4D
        put(2, 54); put(10, 54); put(14, 40); put(18, UInt32(bitPattern: width)); put(22, UInt32(bitPattern: height))
        bmp[26] = 1; bmp[28] = 24
        return bmp
    }

    /// A real JPEG (a Pillow fixture) with its SOF frame size rewritten. JPEG stores 16-bit sizes,
    /// so 200000 cannot be written; libjpeg-turbo refuses above 65500, so the claim is 65500 × 65500 (4.3 Gpx).
    static func jpegClaiming(width: UInt16, height: UInt16) throws -> [UInt8] {
        var jpeg = try [UInt8](Data(contentsOf: TestPaths.fixture("images", "jpeg_baseline_420.jpg")))
        var i = 2
        while i + 9 < jpeg.count {
            guard jpeg[i] == 0xFF else { i += 1; continue }
            let marker = jpeg[i + 1]
            if (0xC0...0xC3).contains(marker) {
                jpeg[i + 5] = UInt8(height >> 8); jpeg[i + 6] = UInt8(height & 0xFF)
                jpeg[i + 7] = UInt8(width >> 8); jpeg[i + 8] = UInt8(width & 0xFF)
                return jpeg
            }
            i += 2 + Int(jpeg[i + 2]) << 8 + Int(jpeg[i + 3])
        }
        Issue.record("no SOF marker in the fixture")
        return jpeg
    }

    @Test("PNG, JPEG and BMP headers claiming 200000x200000 pixels (JPEG: 65500x65500) are refused from the header")
    func hugeHeaders() throws {
        let cases: [(String, [UInt8], String)] = [
            ("huge.png", Self.pngHeader(width: 200_000, height: 200_000), "200000x200000"),
            ("huge.bmp", Self.bmpHeader(width: 200_000, height: 200_000), "200000x200000"),
            ("huge-topdown.bmp", Self.bmpHeader(width: 200_000, height: -200_000), "200000x200000"),
            ("huge.jpg", try Self.jpegClaiming(width: 65500, height: 65500), "65500x65500"),
        ]
        for (name, bytes, size) in cases {
            let path = try Self.write(bytes, name)
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            let error = #expect(throws: SegError.self, "\(name)") { try ImageFile.read(path) }
            #expect(error?.kind == .tooLarge, "\(name): \(String(describing: error))")
            #expect(error?.file == path, "\(name)")
            #expect(error?.reason.contains(size) == true, "\(name): \(error?.reason ?? "")")
            #expect(error?.reason.contains("limit of 100000000 pixels") == true, "\(name): \(error?.reason ?? "")")
        }
    }

    /// `scripts/make_bomb_fixtures.py`: a 16x16 gray PNG (272 bytes of scanlines) whose IDAT is
    /// 64 MiB of zeros deflated into 65 KB. libpng only warns and reads on; segpng.c refuses it at
    /// the first byte past the declared rows.
    @Test("a PNG whose IDAT inflates past its declared size is refused")
    func idatBomb() throws {
        let path = TestPaths.fixture("bombs", "idat-bomb.png").path
        let started = Date()
        let error = #expect(throws: SegError.self) { try ImageFile.read(path) }
        #expect(error?.kind == .tooLarge, "\(String(describing: error))")
        #expect(error?.file == path)
        #expect(error?.reason.contains("inflates past the size in the header") == true, "\(error?.reason ?? "")")
        // Stopped at the first extra byte, not after inflating 64 MiB.
        #expect(Date().timeIntervalSince(started) < 1)
    }

    /// `under-limit-header.png`: 69 bytes claiming 10000x10000 RGB, under the 100 Mpx limit, with a
    /// 64-byte IDAT. Deflate cannot expand 69 bytes to 300 MB, so it is refused before the output is
    /// allocated (it was allocated, 316 MB peak, before libpng found the data missing).
    @Test("a PNG too small to inflate to the size its header declares is refused before allocating it")
    func headerUnderLimitWithoutData() throws {
        let path = TestPaths.fixture("bombs", "under-limit-header.png").path
        let error = #expect(throws: SegError.self) { try ImageFile.read(path) }
        #expect(error?.kind == .truncated, "\(String(describing: error))")
        #expect(error?.file == path)
        #expect(error?.reason.contains("cannot inflate to the 300010000 bytes of 10000x10000 pixels") == true, "\(error?.reason ?? "")")
        // The bound never refuses a complete file: the most compressible image there is (all zero,
        // deflated at the maximum level by our writer) still reads.
        let zeros = try PNGCodec.encode(RasterImage(width: 3000, height: 2000, colorModel: .gray, fileBitDepth: 8, format: .png,
                                                    samples: .eight([UInt8](repeating: 0, count: 6_000_000))))
        #expect(zeros.count * 1032 + 65536 >= 2000 * 3001)
        #expect(try ImageFile.decode(zeros).width == 3000)
    }

    @Test("RLE counts that sum beyond width x height are refused while decoding, before any mask is made")
    func rleBeyondMask() throws {
        // One count of 2^32-1 over a 10x10 mask, as COCO's compressed string and as a counts list.
        let huge = try RLE(height: 65537, width: 65535, counts: [UInt32.max]).compressedString  // 65537 × 65535 = 2^32 - 1
        let error = #expect(throws: SegError.self) { try RLE(compressed: huge, height: 10, width: 10) }
        #expect(error?.reason.contains("exceed the 10x10 mask") == true, "\(error?.reason ?? "")")
        #expect(throws: SegError.self) { try RLE(height: 10, width: 10, counts: [50, UInt32.max, 50]) }
        // Many counts whose sum passes the total only at the end: refused at the count that passes it.
        let many = try RLE(height: 1000, width: 1000, counts: [UInt32](repeating: 1000, count: 1000)).compressedString
        let late = #expect(throws: SegError.self) { try RLE(compressed: many, height: 100, width: 100) }
        #expect(late?.kind == .corrupt)
    }
}
