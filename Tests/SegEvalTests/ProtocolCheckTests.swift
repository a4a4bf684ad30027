import Foundation
import Testing
@testable import SegCore
@testable import SegEval

enum SharedPaths {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// ../shared beside the repository (or SEGTERM_SHARED).
    static let shared: URL = {
        if let path = ProcessInfo.processInfo.environment["SEGTERM_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()
    static let protocolCheck = shared.appendingPathComponent("reference/noc_protocol_check.json")
    static var available: Bool {
        FileManager.default.fileExists(atPath: protocolCheck.path)
            && FileManager.default.fileExists(atPath: shared.appendingPathComponent("datasets/GrabCut/masks").path)
    }
}

/// scipy.ndimage.binary_erosion(mask, structure=ones((3, 3)), iterations=k) with its default
/// border_value=0: a pixel survives a round when its whole 3×3 neighbourhood is set, pixels
/// outside the image counting as unset.
func erode(_ m: Mask, iterations: Int) -> Mask {
    var current = m
    for _ in 0..<iterations {
        var next = Mask(width: m.width, height: m.height)
        for y in 0..<m.height {
            for x in 0..<m.width where current[x, y] {
                var keep = true
                for dy in -1...1 { for dx in -1...1 {
                    let nx = x + dx, ny = y + dy
                    if nx < 0 || ny < 0 || nx >= m.width || ny >= m.height || !current[nx, ny] { keep = false }
                } }
                if keep { next[x, y] = true }
            }
        }
        current = next
    }
    return current
}

@Suite("Protocol check against the reference (noc_protocol_check.json)",
       .enabled(if: SharedPaths.available, "../shared/reference or ../shared/datasets is absent: skipped"))
struct ProtocolCheckTests {
    struct Check: Decodable {
        struct Entry: Decodable {
            struct Click: Decodable { let x: Int; let y: Int; let positive: Bool; let dist: Double; let iou_after: Double }
            let mask: String
            let width: Int
            let height: Int
            let clicks: [Click]
        }
        let sets: [String: [String: Entry]]
    }

    @Test("the first three clicks of 20 objects, with the eroded-truth dummy predictor, match exactly")
    func matchesReference() throws {
        let check = try JSONDecoder().decode(Check.self, from: Data(contentsOf: SharedPaths.protocolCheck))
        var compared = 0
        for (set, entries) in check.sets {
            let ignoreValue: UInt32? = set == "GrabCut" ? 128 : nil
            for (stem, entry) in entries {
                let path = SharedPaths.shared.appendingPathComponent("datasets/\(set)/masks/\(entry.mask)").path
                let (truth, ignored) = try ImageFile.read(path).objectMask(ignoreValue: ignoreValue)
                #expect(truth.width == entry.width && truth.height == entry.height)
                let eroded = erode(truth, iterations: 3)
                var simulator = try ClickSimulator(truth: truth, ignore: ignoreValue == nil ? nil : ignored)
                var prediction = Mask(width: truth.width, height: truth.height)
                for (k, expected) in entry.clicks.enumerated() {
                    let click = try simulator.click(after: prediction)
                    prediction = eroded
                    let iou = try prediction.iou(with: truth, ignoring: ignoreValue == nil ? nil : ignored)
                    #expect(click.x == expected.x && click.y == expected.y && click.positive == expected.positive,
                            "\(set)/\(stem) click \(k + 1): got (\(click.x), \(click.y), \(click.positive)), expected (\(expected.x), \(expected.y), \(expected.positive))")
                    #expect(abs(click.distance - expected.dist) < 1e-6, "\(set)/\(stem) click \(k + 1): distance")
                    #expect(abs(iou - expected.iou_after) < 1e-6, "\(set)/\(stem) click \(k + 1): IoU \(iou) vs \(expected.iou_after)")
                    compared += 1
                }
            }
        }
        #expect(compared == 60)
    }
}
