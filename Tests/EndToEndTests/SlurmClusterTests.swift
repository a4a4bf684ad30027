import Foundation
import Testing
@testable import SegCore

/// A real single-node Slurm cluster (Debian's slurm-wlm and munge, started by
/// scripts/slurm-local.sh in a folder of its own and stopped at the end): `sbatch --array=0-3` jobs
/// of `segterm eval --shard auto`, `segterm embed --shard auto` and `segterm noc --shard auto`,
/// merged, against one process.
@Suite("Slurm array jobs", .serialized, .enabled(if: Binary.path != nil && SlurmTools.present,
                                                    "needs the segterm binary and slurm-wlm + munge (scripts/install-deps.sh --cluster)"))
struct SlurmClusterTests {
    static let script = Binary.repositoryRoot.appendingPathComponent("scripts/slurm-local.sh").path

    /// Starts the cluster in `folder`, runs `body` with its SLURM_CONF, stops it whatever happens.
    static func withCluster(_ folder: URL, _ body: (String) throws -> Void) throws {
        let state = folder.appendingPathComponent("slurm").path
        let start = try Subprocess.run("/bin/bash", [script, "start", state], timeout: 60)
        defer { _ = try? Subprocess.run("/bin/bash", [script, "stop", state], timeout: 60) }
        try #require(start.status == 0, "the cluster did not start: \(start.stderr)")
        try body(state + "/slurm.conf")
    }

    /// `sbatch --wait --array=0-3` of a shell script; returns when every task has ended.
    static func submitArray(_ commands: String, conf: String, folder: URL, name: String) throws {
        let job = folder.appendingPathComponent("\(name).sh")
        try ("#!/bin/bash\nset -euo pipefail\n" + commands + "\n").write(to: job, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("\(name)-%a.log").path
        let submitted = try Subprocess.run("/usr/bin/sbatch", ["--wait", "--array=0-3", "--output", out, "--chdir", folder.path, job.path],
                                           environment: ["SLURM_CONF": conf, "PATH": "/usr/bin:/bin:/usr/sbin"], timeout: 600)
        let logs = (0..<4).compactMap { try? String(contentsOf: folder.appendingPathComponent("\(name)-\($0).log"), encoding: .utf8) }
        try #require(submitted.status == 0, "sbatch: \(submitted.stderr) \(logs.joined(separator: "\n---\n"))")
    }

    @Test("eval, embed and noc with --shard auto in an sbatch --array=0-3 equal one process")
    func arrayJobs() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = try #require(Binary.path)
        let lvis = Binary.repositoryRoot.appendingPathComponent("Tests/SegEvalTests/Fixtures/lvis").path
        let embedRoot = try EmbedCLITests.folder(6)
        defer { try? FileManager.default.removeItem(at: embedRoot) }
        let images = embedRoot.appendingPathComponent("images").path
        let (nocImages, nocMasks) = try NocCLITests.writeSet(in: folder.appendingPathComponent("noc"),
                                                             stems: ["alpha", "beta", "gamma", "delta", "epsilon"])
        let noc = ["noc", "--images", nocImages, "--masks", nocMasks, "--ignore-value", "128", "--max-clicks", "4"]
        try Self.withCluster(folder) { conf in
            try Self.submitArray("""
                \(binary) eval --gt \(lvis)/gt.json --pred \(lvis)/results-b.json --tide --shard auto --partial-out part-$SLURM_ARRAY_TASK_ID.json
                SEGTERM_CACHE_DIR=\(folder.path)/shared-cache \(binary) embed \(images) --model \(EmbedCLITests.tinySAM) --shard auto
                \(binary) \(noc.joined(separator: " ")) --shard auto --partial-out noc-$SLURM_ARRAY_TASK_ID.json
                """, conf: conf, folder: folder, name: "job")
        }
        let parts = (0..<4).map { folder.appendingPathComponent("part-\($0).json").path }
        let merged = try Binary.run(["eval", "merge"] + parts.reversed() + ["--format", "json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        let single = try Binary.run(["eval", "--gt", lvis + "/gt.json", "--pred", lvis + "/results-b.json", "--tide", "--format", "json"])
        #expect(single.status == 0 && merged.stdout == single.stdout && merged.stdout.contains("\"AP\""))

        // The four tasks wrote into one cache folder: the same entries, byte for byte, as one process.
        let alone = folder.appendingPathComponent("alone-cache")
        let one = try Binary.run(["embed", images, "--model", EmbedCLITests.tinySAM], environment: ["SEGTERM_CACHE_DIR": alone.path])
        #expect(one.status == 0, "\(one.stderr)")
        let shared = folder.appendingPathComponent("shared-cache")
        let names = EmbedCLITests.entries(shared)
        #expect(names.count == 6 && names == EmbedCLITests.entries(alone))
        for name in names {
            #expect(try Data(contentsOf: shared.appendingPathComponent(name)) == Data(contentsOf: alone.appendingPathComponent(name)), "\(name)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: shared.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)

        let nocParts = (0..<4).map { folder.appendingPathComponent("noc-\($0).json").path }
        let nocMerged = try Binary.run(["noc", "merge"] + nocParts + ["--format", "json"])
        let nocSingle = try Binary.run(noc + ["--format", "json"])
        try #require(nocMerged.status == 0 && nocSingle.status == 0, "\(nocMerged.stderr) \(nocSingle.stderr)")
        #expect(try NocCLITests.withoutTimings(nocMerged.stdout) == NocCLITests.withoutTimings(nocSingle.stdout))
    }
}

/// Debian's slurm-wlm and munge, and root (slurmd starts jobs as their user).
enum SlurmTools {
    static var present: Bool {
        ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        } && getuid() == 0
    }
}
