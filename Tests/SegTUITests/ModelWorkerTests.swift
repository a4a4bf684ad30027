import Dispatch
import Foundation
import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

/// The model worker with the real graph-cut model: what crosses threads (the pending decode slot,
/// the prepared image, the inbox) under concurrent use. CI runs this suite under ThreadSanitizer.
@Suite("Model worker")
struct ModelWorkerTests {
    /// A bright disc on a dark textured background, written as a PNG for the worker to open.
    static func scene(width: Int = 64, height: Int = 48) throws -> String {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let inside = (x - 32) * (x - 32) + (y - 24) * (y - 24) <= 12 * 12
                let noise = UInt8((x * 7 + y * 13) % 20)
                image[x, y] = inside ? (210 + noise / 2, 70 + noise, 40) : (30 + noise, 50 + noise, 35)
            }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-worker-\(UUID().uuidString).png").path
        try ImageFile.writePNG(image, to: path)
        return path
    }

    static func click(_ x: Double, _ y: Double) -> Prompts { Prompts(points: [PromptPoint(x: x, y: y, positive: true)]) }

    @Test("the image is loaded and prepared before decodes run; a burst of requests ends with the newest one's result")
    func latestWins() throws {
        let path = try Self.scene()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let inbox = EventInbox()
        let worker = ModelWorker(model: try ModelRegistry.segmenter(named: "grabcut")) { inbox.post($0) }
        worker.open(index: 0, path: path)
        // Requests from several threads at once while the image is still being prepared; the
        // interface thread's side (taking events) runs meanwhile too.
        let collected = EventInbox()  // what the threads took, in the order they took it
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for k in 0..<10 {
                worker.decode(request: thread * 10 + k, prompts: Self.click(32 + Double(k % 3), 24), previous: nil, multimask: false)
                for event in inbox.takeAll() { collected.post(event) }
            }
        }
        // Then one more from this thread: it is the newest, and it must be answered.
        worker.decode(request: 1000, prompts: Self.click(32, 24), previous: nil, multimask: false)
        worker.waitUntilIdle()
        let taken = collected.takeAll() + inbox.takeAll()

        let loaded = taken.firstIndex { if case .imageLoaded(0, _) = $0 { return true }; return false }
        let prepared = taken.firstIndex { if case .prepared(0, 0, _) = $0 { return true }; return false }
        #expect(loaded != nil && prepared != nil && loaded! < prepared!)
        var answered: [Int] = []
        for event in taken {
            switch event {
            case .result(_, let request, let candidates, _):
                answered.append(request)
                #expect(!candidates.isEmpty && candidates[0].mask.area > 100, "request \(request)")
            case .resultFailed(_, let request, let reason):
                // Only requests that ran before the image was prepared may fail, and say so.
                #expect(reason.contains("not prepared"), "request \(request): \(reason)")
                answered.append(request)
            default: break
            }
        }
        #expect(answered.last == 1000)
        #expect(Set(answered).count == answered.count, "a request answered twice: \(answered)")
    }

    /// The workbench opens the next image and sends that image's first click while the previous
    /// image may still be preparing. A decode queued for the old image must not pick up the new
    /// image's request and run it on the old image's prepared state (a mask of the wrong size, for
    /// the right request id, so the reducer would take it).
    @Test("switching images while decodes are queued: each request runs on the image opened before it")
    func switchingImages() throws {
        let a = try Self.scene(width: 64, height: 48), b = try Self.scene(width: 72, height: 40)
        defer { for p in [a, b] { try? FileManager.default.removeItem(atPath: p) } }
        for _ in 0..<5 {
            let inbox = EventInbox()
            let worker = ModelWorker(model: try ModelRegistry.segmenter(named: "grabcut")) { inbox.post($0) }
            var expected: [Int: PixelSize] = [:]
            for round in 0..<8 {
                let even = round % 2 == 0
                worker.open(index: round % 2, path: even ? a : b)
                expected[round] = even ? PixelSize(width: 64, height: 48) : PixelSize(width: 72, height: 40)
                worker.decode(request: round, prompts: Self.click(30, 22), previous: nil, multimask: even)
            }
            worker.waitUntilIdle()
            let events = inbox.takeAll()
            var results: [Int] = []
            for case .result(_, let request, let candidates, _) in events {
                results.append(request)
                let mask = candidates[0].mask
                #expect(PixelSize(width: mask.width, height: mask.height) == expected[request],
                        "request \(request) ran on a \(mask.width)x\(mask.height) image")
            }
            #expect(results.last == 7, "\(results)")
            #expect(events.filter { if case .prepared = $0 { return true }; return false }.count == 8)
        }
    }
}
