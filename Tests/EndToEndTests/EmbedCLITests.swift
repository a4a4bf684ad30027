import Foundation
import Testing
@testable import SegCore

/// `segterm embed`: the real binary, a real checkpoint (the repository's tiny SAM, or the shared
/// MobileSAM for the run that is killed midway), a real cache folder.
@Suite("segterm embed", .serialized, .enabled(if: Binary.path != nil, "the segterm binary is missing"))
struct EmbedCLITests {
    static let tinySAM = Binary.repositoryRoot.appendingPathComponent("Tests/SegModelsTests/Fixtures/tiny_sam/tiny_sam.pth").path
    static let sharedMobileSAM = Binary.repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/reference/sam/mobile_sam_random.pt").path

    /// `count` small images, each different.
    static func folder(_ count: Int) throws -> URL {
        let root = Binary.temporaryFolder()
        let images = root.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for n in 0..<count {
            var image = RGBImage(width: 64 + 8 * n, height: 48)
            for y in 0..<48 { for x in 0..<image.width { image[x, y] = (UInt8((x * 3 + n * 40) % 256), UInt8(y * 5 % 256), UInt8(n * 60 % 256)) } }
            try ImageFile.writePNG(image, to: images.appendingPathComponent("img-\(n).png").path)
        }
        return root
    }

    static func entries(_ cache: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []).filter { $0.hasSuffix(".emb") }.sorted()
    }

    @Test("embeds a folder, skips what is cached, recomputes a damaged or missing entry, clears a dead run's temporary file")
    func resumes() throws {
        let root = try Self.folder(4)
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = root.appendingPathComponent("cache")
        let env = ["SEGTERM_CACHE_DIR": cache.path]
        let images = root.appendingPathComponent("images").path
        let first = try Binary.run(["embed", images, "--model", Self.tinySAM], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("4 embedded, 0 already cached, 0 failed of 4 images"), "\(first.stdout)")
        let written = Self.entries(cache)
        #expect(written.count == 4)

        // What an interrupted run and a damaged disk leave: one entry missing, one cut short, and
        // the temporary file of a writer that died before renaming it.
        try FileManager.default.removeItem(at: cache.appendingPathComponent(written[0]))
        let cut = cache.appendingPathComponent(written[1])
        let bytes = try Data(contentsOf: cut)
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let dead = try Subprocess.run("/bin/sh", ["-c", "echo $$"], timeout: 10).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let stale = cache.appendingPathComponent(".\(written[0]).tmp-\(dead)-12345")
        try Data(bytes.prefix(100)).write(to: stale)
        // Untouched for two hours: on a shared folder a younger one may be another host's live writer's.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: stale.path)

        let second = try Binary.run(["embed", images, "--model", Self.tinySAM], environment: env)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("2 embedded, 2 already cached, 0 failed of 4 images"), "\(second.stdout)")
        #expect(Self.entries(cache) == written)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        let third = try Binary.run(["embed", images, "--model", Self.tinySAM], environment: env)
        #expect(third.stdout.contains("0 embedded, 4 already cached"), "\(third.stdout)")
    }

    @Test("bad input: the built-in model, a folder without images, an unreadable image (the others still embedded)")
    func badInput() throws {
        let root = try Self.folder(2)
        defer { try? FileManager.default.removeItem(at: root) }
        let env = ["SEGTERM_CACHE_DIR": root.appendingPathComponent("cache").path]
        let images = root.appendingPathComponent("images")
        let builtIn = try Binary.run(["embed", images.path, "--model", "grabcut"], environment: env)
        #expect(builtIn.status == 2 && builtIn.stderr.contains("no embeddings to precompute"), "\(builtIn.stderr)")
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let none = try Binary.run(["embed", empty.path, "--model", Self.tinySAM], environment: env)
        #expect(none.status == 1 && none.stderr.contains("no PNG, JPEG or BMP images"), "\(none.stderr)")
        try Data("not a png".utf8).write(to: images.appendingPathComponent("broken.png"))
        let partial = try Binary.run(["embed", images.path, "--model", Self.tinySAM], environment: env)
        #expect(partial.status == 1 && partial.stderr.contains("broken.png"), "\(partial.stderr)")
        #expect(partial.stdout.contains("2 embedded, 0 already cached, 1 failed of 3 images"), "\(partial.stdout)")
    }

    @Test("a run killed with SIGKILL midway leaves whole entries only; the next run embeds just the rest",
          .enabled(if: FileManager.default.fileExists(atPath: EmbedCLITests.sharedMobileSAM), "../shared/reference/sam is missing"))
    func killedMidway() throws {
        let root = try Self.folder(4)
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = root.appendingPathComponent("cache")
        let images = root.appendingPathComponent("images").path
        // MobileSAM's encoder takes about a second per image here: kill the run once the first
        // entry is on disk, while it encodes the next.
        let script = """
            SEGTERM_CACHE_DIR='\(cache.path)' '\(Binary.path!)' embed '\(images)' --model '\(Self.sharedMobileSAM)' >/dev/null 2>&1 &
            pid=$!
            while [ "$(ls '\(cache.path)' 2>/dev/null | grep -c '\\.emb$')" -lt 1 ]; do sleep 0.02; done
            kill -9 $pid; wait $pid; echo "status $?"
            """
        let killed = try Subprocess.run("/bin/sh", ["-c", script], timeout: 120)
        #expect(killed.stdout.contains("status 137"), "\(killed.stdout) \(killed.stderr)")
        let survivors = Self.entries(cache).count
        #expect((1...3).contains(survivors))
        let rerun = try Binary.run(["embed", images, "--model", Self.sharedMobileSAM], environment: ["SEGTERM_CACHE_DIR": cache.path])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("\(4 - survivors) embedded, \(survivors) already cached, 0 failed of 4 images"), "\(rerun.stdout)")
        #expect(Self.entries(cache).count == 4)
        // Nothing half-written is left behind either.
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
