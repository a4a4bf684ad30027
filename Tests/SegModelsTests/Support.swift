import Foundation
import SegCore
import SegNN
@testable import SegModels

/// Where the shared benchmark data lives: `../shared` next to the repository root.
enum Shared {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var samReference: URL? {
        let u = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/sam")
        return FileManager.default.fileExists(atPath: u.appendingPathComponent("prompts.json").path) ? u : nil
    }
    static let skipMessage = "../shared/reference/sam is absent: SAM parity against the official outputs skipped"

    static var fixtures: URL {
        (Bundle.module.resourceURL ?? repoRoot.appendingPathComponent("Tests/SegModelsTests")).appendingPathComponent("Fixtures")
    }
}

/// A little-endian float32 or int64 `.npy` (v1/v2, C order), as the reference writes them.
struct NPY {
    let shape: [Int]
    let floats: [Float]

    init(path: String) throws {
        let b = try FileIO.read(path)
        guard b.count > 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else { throw SegError(.corrupt, file: path, "not npy") }
        let major = b[6]
        let hlen = major == 1 ? Int(b[8]) | Int(b[9]) << 8 : Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
        let start = major == 1 ? 10 : 12
        let header = String(decoding: b[start..<(start + hlen)], as: UTF8.self)
        guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header.range(of: ")", range: open.upperBound..<header.endIndex) else {
            throw SegError(.unsupported, file: path, "npy header \(header)")
        }
        shape = header[open.upperBound..<close.lowerBound].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let n = shape.reduce(1, *)
        let data = start + hlen
        guard b.count == data + 4 * n else { throw SegError(.truncated, file: path, "npy size") }
        floats = b.withUnsafeBytes { raw in
            (0..<n).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: data + 4 * $0, as: UInt32.self)) }
        }
    }
}

/// max |a − b| and max |b|.
func maxError(_ a: [Float], _ b: [Float]) -> (err: Float, scale: Float) {
    precondition(a.count == b.count, "size mismatch \(a.count) vs \(b.count)")
    var e: Float = 0, s: Float = 0
    for i in 0..<a.count {
        e = max(e, abs(a[i] - b[i]))
        s = max(s, abs(b[i]))
    }
    return (e, s)
}

func loadRGB(_ path: String) throws -> RGBImage { try ImageFile.read(path).rgbImage() }
