import Foundation
import Testing
@testable import SegCore

@Suite struct ShardTests {
    /// Keys shaped like real inputs: COCO ids (dense and sparse) and file names that differ in one digit.
    static let keys: [String] = (1...600).map { String($0) } + (0..<600).map { String($0 * 7919 + 139_077) }
        + (0..<800).map { String(format: "img_%05d.png", $0) }

    @Test func parsesIOverN() throws {
        #expect(try Shard.parse("0/1") == Shard.whole)
        let shard = try Shard.parse("3/7")
        #expect(shard.index == 3 && shard.count == 7 && shard.description == "3/7")
        for bad in ["", "3", "7/7", "-1/4", "1/0", "a/b", "1/2/3", "1/", "/4", " 1/4", "1/2000000"] {
            #expect(throws: SegError.self, "\(bad)") { try Shard.parse(bad) }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 7, 16, 64])
    func everyKeyInExactlyOneShard(count: Int) throws {
        let shards = try (0..<count).map { try Shard(index: $0, count: count) }
        var sizes = Array(repeating: 0, count: count)
        for key in Self.keys {
            let owners = shards.filter { $0.contains(key) }
            try #require(owners.count == 1, "\(key) is in \(owners.count) of \(count) shards")
            #expect(owners[0].index == Shard.bucket(of: key, count: count))
            sizes[owners[0].index] += 1
        }
        // Uniform: with 2,000 keys each shard's share is within 4.5 binomial standard deviations.
        let expected = Double(Self.keys.count) / Double(count)
        let sigma = (expected * (1 - 1 / Double(count))).squareRoot()
        for size in sizes { #expect(abs(Double(size) - expected) <= 4.5 * sigma + 1, "sizes \(sizes)") }
    }

    @Test func theSplitIgnoresTheOrderOfTheList() throws {
        let shard = try Shard(index: 2, count: 5)
        var generator = SeededGenerator(seed: 19)
        let shuffled = Self.keys.shuffled(using: &generator)
        #expect(Set(shard.select(Self.keys) { $0 }) == Set(shard.select(shuffled) { $0 }))
        #expect(shard.contains(id: 1234) == shard.contains("1234"))
    }

    /// Jump consistent hashing: growing from N to N+1 shards only moves keys into the new shard.
    @Test func growingTheCountOnlyMovesKeysToTheNewShard() {
        for count in 1..<12 {
            for key in Self.keys {
                let before = Shard.bucket(of: key, count: count), after = Shard.bucket(of: key, count: count + 1)
                #expect(after == before || after == count)
            }
        }
    }

    /// The split is part of the partial-file format (`Shard.splitVersion`): a change must be deliberate.
    /// The values come from an independent Python transcription of FNV-1a, SplitMix64's finaliser
    /// and jump consistent hashing (the paper's C code), not from this implementation.
    @Test func theSplitIsStable() {
        #expect(Shard.splitVersion == 1)
        let pinned = ["1", "42", "139077", "img_00000.png", "000000397133.jpg"].map { Shard.bucket(of: $0, count: 10) }
        #expect(pinned == Self.pinnedBuckets)
    }
    static let pinnedBuckets = [4, 5, 8, 7, 5]

    @Test func slurmArrays() throws {
        // sbatch --array=0-3
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4",
                                           "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"]) == Shard(index: 2, count: 4))
        // --array=1-8: tasks are numbered from 1
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "8",
                                           "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8"]) == Shard(index: 0, count: 8))
        // --array=0-14:2 (8 tasks)
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_MIN": "0",
                                           "SLURM_ARRAY_TASK_MAX": "14", "SLURM_ARRAY_TASK_STEP": "2"]) == Shard(index: 3, count: 8))
        // only the count
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "6"]) == Shard(index: 5, count: 6))
        // --shard-count overrides, the task id is the index
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3",
                                           "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "7"], count: 8) == Shard(index: 7, count: 8))
        // --array=0,3,7 has gaps: no position without --shard-count
        #expect(throws: SegError.self) {
            try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3",
                                       "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "7"])
        }
        #expect(throws: SegError.self) { try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3"]) }
        #expect(throws: SegError.self) { try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"]) }
        #expect(throws: SegError.self) { try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"]) }
    }

    @Test func kubernetesIndexedJobs() throws {
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "4"], count: 5) == Shard(index: 4, count: 5))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0", "SEGTERM_SHARD_COUNT": "3"]) == Shard(index: 0, count: 3))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1", "SEGTERM_SHARD_COUNT": "3"], count: 2) == Shard(index: 1, count: 2))
        do {
            _ = try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0"])
            Issue.record("no count: must throw")
        } catch let error as SegError {
            #expect(error.file == "JOB_COMPLETION_INDEX" && error.reason.contains("SEGTERM_SHARD_COUNT"))
        }
        #expect(throws: SegError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "3", "SEGTERM_SHARD_COUNT": "3"]) }
        #expect(try Shard.fromEnvironment(["HOME": "/root"]) == nil)
    }
}
