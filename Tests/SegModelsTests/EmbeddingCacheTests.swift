import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

@Suite("Embedding cache")
struct EmbeddingCacheTests {
    static func setup() throws -> (SAMModel, RGBImage, URL) {
        let model = try SAMModel.load(checkpoint: TinySAMTests.dir.appendingPathComponent("tiny_sam.pth").path)
        let img = try loadRGB(TinySAMTests.dir.appendingPathComponent("landscape.png").path)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("segcache-\(UUID().uuidString)")
        return (model, img, dir)
    }

    /// A shared network folder (embed --shard on a cluster): another host's writer has a pid that
    /// means nothing here, so its temporary file must survive until it has long stopped changing.
    @Test("a temporary file is taken for a dead writer's only when its pid is gone and it is an hour old")
    func staleTemporaryFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("segcache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Pids above /proc/sys/kernel/pid_max (at most 2^22) never run.
        let young = dir.appendingPathComponent(".abc.emb.tmp-2000000000-17"), old = dir.appendingPathComponent(".def.emb.tmp-2000000000-18")
        let live = dir.appendingPathComponent(".ghi.emb.tmp-\(getpid())-19")
        for url in [young, old, live] { try Data([1, 2, 3]).write(to: url) }
        let twoHoursAgo = Date(timeIntervalSinceNow: -7200)
        for url in [old, live] { try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: url.path) }
        EmbeddingCache(directory: dir.path).evict()
        #expect(FileManager.default.fileExists(atPath: young.path), "a writer on another host may still be filling it")
        #expect(!FileManager.default.fileExists(atPath: old.path))
        #expect(FileManager.default.fileExists(atPath: live.path), "its writer runs here")
    }

    @Test("a second prepare of the same image is served from disk, bit for bit")
    func roundTrip() throws {
        let (model, img, dir) = try Self.setup()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = EmbeddingCache(directory: dir.path)
        let seg = SAMSegmenter(model: model, cache: cache)
        let first = try seg.prepare(img)
        let key = EmbeddingCache.key(image: img, model: model.fingerprint)
        guard let hit = cache.load(key: key, model: model) else { Issue.record("no cache entry"); return }
        #expect(hit.features == first.features && hit.inputWidth == first.inputWidth && hit.originalHeight == first.originalHeight)
        // A different image or another model's fingerprint is another key.
        var other = img
        other.pixels[0] ^= 1
        #expect(EmbeddingCache.key(image: other, model: model.fingerprint) != key)
        #expect(EmbeddingCache.key(image: img, model: "other") != key)
    }

    @Test("corrupt, truncated or foreign entries are dropped and recomputed, never trusted")
    func corrupt() throws {
        let (model, img, dir) = try Self.setup()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = EmbeddingCache(directory: dir.path)
        let good = try model.prepare(img)
        let key = EmbeddingCache.key(image: img, model: model.fingerprint)
        let path = dir.appendingPathComponent(key + ".emb").path
        for damage in 0..<4 {
            cache.store(good, key: key)
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            switch damage {
            case 0: bytes[bytes.count / 2] ^= 0x40                      // a flipped bit in the payload
            case 1: bytes = Array(bytes[0..<(bytes.count - 100)])      // truncated
            case 2: bytes = Array("not an embedding".utf8)             // garbage
            default: bytes[20] ^= 1                                    // header (fingerprint) damaged
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(cache.load(key: key, model: model) == nil, "damage \(damage) was trusted")
            #expect(!FileManager.default.fileExists(atPath: path), "damage \(damage): bad entry kept")
            let again = try SAMSegmenter(model: model, cache: cache).prepare(img)
            // Recomputed, not read back: equal to a fresh computation up to rounding. Not bit for
            // bit: tests of the C kernels switch the process-wide instruction-set level while
            // this suite may run, and another level rounds differently.
            #expect(again.features.shape == good.features.shape)
            let scale = good.features.data.reduce(Float(0)) { max($0, abs($1)) }
            let worst = zip(again.features.data, good.features.data).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(worst <= 1e-5 * scale, "damage \(damage): recomputed features off by \(worst)")
        }
    }

    @Test("the folder stays under its bound, evicting the least recently used")
    func bounded() throws {
        let (model, img, dir) = try Self.setup()
        defer { try? FileManager.default.removeItem(at: dir) }
        let e = try model.prepare(img)
        let entry = EmbeddingCache(directory: dir.path).encode(e).count
        let cache = EmbeddingCache(directory: dir.path, maxBytes: entry * 3 + entry / 2)
        for i in 0..<6 {
            cache.store(e, key: "k\(i)")
            usleep(20_000)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".emb") }.sorted()
        #expect(names == ["k3.emb", "k4.emb", "k5.emb"])
    }

    @Test("concurrent writers and readers of one key see a whole entry or none")
    func concurrent() throws {
        let (model, img, dir) = try Self.setup()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = EmbeddingCache(directory: dir.path)
        let e = try model.prepare(img)
        let good = Mutexed(0), bad = Mutexed(0)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            if i % 2 == 0 {
                cache.store(e, key: "same")
            } else if let hit = cache.load(key: "same", model: model) {
                if hit.features == e.features { good.add() } else { bad.add() }
            }
        }
        #expect(bad.value == 0)
        #expect(cache.load(key: "same", model: model)?.features == e.features)
    }
}

final class Mutexed: @unchecked Sendable {
    private let lock = NSLock()
    private var v: Int
    init(_ v: Int) { self.v = v }
    func add() { lock.lock(); v += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return v }
}
