import Foundation
import Synchronization
import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

/// The built-in model with its `prepare` calls counted: what tells a prefetched image from one
/// prepared on opening.
struct CountingSegmenter: PromptableSegmenter {
    final class Counter: Sendable {
        let prepares = Mutex(0)
    }
    let inner = GraphCutSegmenter()
    let counter = Counter()
    var name: String { "counted grabcut" }

    func prepare(_ image: RGBImage) throws -> GraphCutSegmenter.Prepared {
        counter.prepares.withLock { $0 += 1 }
        return try inner.prepare(image)
    }

    func segment(_ prepared: GraphCutSegmenter.Prepared, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate] {
        try inner.segment(prepared, prompts: prompts, previous: previous, multimask: multimask)
    }
}

@Suite("Prefetching the next images", .serialized)
struct PrefetchTests {
    @Test("moving to an image asks for the next ones in the list; an image prepared ahead is ready at once")
    func reducer() {
        var s = WorkbenchState(rows: 30, columns: 100, colorMode: .direct, images: WorkbenchReducerTests.images,
                               classes: ["background", "cat"], modelName: "test")
        s.prefetchDepth = 2
        func prefetched(_ effects: [WorkbenchEffect]) -> [String]? {
            effects.lazy.compactMap { if case .prefetch(let paths) = $0 { paths } else { nil } }.first
        }
        #expect(prefetched(WorkbenchReducerTests.send(&s, .input(.character("]")))) == ["/data/c.png"])
        #expect(prefetched(WorkbenchReducerTests.send(&s, .input(.key(.home)))) == ["/data/b.png", "/data/c.png"])
        s.prefetchDepth = 0
        #expect(prefetched(WorkbenchReducerTests.send(&s, .input(.character("]")))) == nil)

        _ = WorkbenchReducerTests.send(&s, .imageLoaded(index: 1, RGBImage(width: 100, height: 80)))
        var draft = s
        _ = WorkbenchReducerTests.send(&s, .preparedAhead(lane: 0, index: 1, milliseconds: 900))
        #expect(s.lane.activity == .readyAhead(milliseconds: 900) && s.lane.prepared)
        #expect(Workbench.statusText(s, layout: WorkbenchLayout(s)).contains("prepared ahead, 900 ms"))
        // A draft's prompts are decoded as soon as the image prepared ahead arrives.
        draft.editor.prompts = Prompts(points: [PromptPoint(x: 3, y: 3, positive: true)])
        let effects = WorkbenchReducerTests.send(&draft, .preparedAhead(lane: 0, index: 1, milliseconds: 900))
        #expect(WorkbenchReducerTests.decodes(effects).count == 1 && draft.lane.activity == .working)
    }

    static func scenes(_ count: Int) throws -> (URL, [String]) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-prefetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let paths = try (0..<count).map { n -> String in
            var image = RGBImage(width: 96, height: 72)
            for y in 0..<72 { for x in 0..<96 { image[x, y] = (x - 48) * (x - 48) + (y - 36) * (y - 36) < 300 + 50 * n ? (220, 80, 40) : (30, 60, 40) } }
            let path = root.appendingPathComponent("scene-\(n).png").path
            try ImageFile.writePNG(image, to: path)
            return path
        }
        return (root, paths)
    }

    static func waitUntil(_ seconds: Double = 30, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return true
    }

    @Test("the worker prepares the next images in the background; opening one costs no prepare; a jump elsewhere drops the rest")
    func worker() throws {
        let (root, paths) = try Self.scenes(3)
        defer { try? FileManager.default.removeItem(at: root) }
        let model = CountingSegmenter()
        let inbox = EventInbox()
        let worker = ModelWorker(model: AnySegmenter(model), prefetch: 2) { inbox.post($0) }
        defer { worker.stop() }
        worker.open(index: 0, path: paths[0])
        worker.prefetch([paths[1], paths[2]])
        #expect(Self.waitUntil { worker.prefetcher?.readyPaths == [paths[1], paths[2]] })
        #expect(model.counter.prepares.withLock { $0 } == 3)

        // As the session sends them: the open, and right after it the new list without that image.
        worker.open(index: 1, path: paths[1])
        worker.prefetch([paths[2]])
        worker.waitUntilIdle()
        let events = inbox.takeAll()
        #expect(events.contains { if case .preparedAhead(0, 1, _) = $0 { true } else { false } })
        #expect(events.contains { if case .imageLoaded(1, let image) = $0 { image.width == 96 } else { false } })
        #expect(model.counter.prepares.withLock { $0 } == 3, "opening a prefetched image must not prepare it again")
        // The first click is one decoder call away.
        worker.decode(request: 7, prompts: Prompts(points: [PromptPoint(x: 48, y: 36, positive: true)]), previous: nil, multimask: false)
        worker.waitUntilIdle()
        let result = inbox.takeAll().compactMap { if case .result(0, 7, let c, _) = $0 { c.first?.mask } else { nil } }.first
        #expect((result?.area ?? 0) > 200)

        // The user jumps back to the first image: scene-2 is no longer wanted and goes.
        worker.prefetch([paths[0]])
        #expect(Self.waitUntil { worker.prefetcher?.readyPaths == [paths[0]] })
        #expect(model.counter.prepares.withLock { $0 } == 4)
    }

    @Test("an image that cannot be read is not retried in a loop; opening it reports the error")
    func brokenImage() throws {
        let (root, paths) = try Self.scenes(1)
        defer { try? FileManager.default.removeItem(at: root) }
        let broken = root.appendingPathComponent("broken.png").path
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: broken))
        let inbox = EventInbox()
        let model = CountingSegmenter()
        let worker = ModelWorker(model: AnySegmenter(model), prefetch: 2) { inbox.post($0) }
        defer { worker.stop() }
        worker.prefetch([broken, paths[0]])
        #expect(Self.waitUntil { worker.prefetcher?.readyPaths == [paths[0]] })
        worker.open(index: 0, path: broken)
        worker.waitUntilIdle()
        #expect(inbox.takeAll().contains { if case .imageFailed(0, let reason) = $0 { reason.contains("broken.png") } else { false } })
        #expect(model.counter.prepares.withLock { $0 } == 1)
    }
}
