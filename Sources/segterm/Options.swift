import ArgumentParser
import Foundation
import SegCore

/// Options every command that reads images shares.
struct ImageOptions: ParsableArguments {
    @Option(name: .long, help: "Refuse images with more pixels than this (checked before decoding).")
    var maxPixels: Int = ImageFile.Limits.standard.maxPixels

    var limits: ImageFile.Limits { ImageFile.Limits(maxPixels: maxPixels) }

    func validate() throws {
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    }
}

/// `--shard` and `--shard-count`: which part of a job split over many processes this one does
/// (README "On a cluster"). Images are split by a stable hash of their id or file name (`Shard`).
struct ShardOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Do only shard I of N (0-based: 0/4 … 3/4), or `auto`: read it from a Slurm array task or a Kubernetes Indexed Job.",
        discussion: "auto reads SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (or the array's MIN/MAX/STEP), "
            + "or JOB_COMPLETION_INDEX with --shard-count or SEGTERM_SHARD_COUNT.",
        valueName: "I/N|auto"))
    var shard: String?

    @Option(help: "The number of shards, for `--shard auto` (required on Kubernetes unless SEGTERM_SHARD_COUNT is set; overrides Slurm's count).")
    var shardCount: Int?

    /// The shard this process does, or nil when the command was not asked to shard.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        switch shard {
        case nil:
            guard shardCount == nil else { throw ValidationError("--shard-count needs --shard auto") }
            return nil
        case "auto"?:
            guard let found = try Shard.fromEnvironment(environment, count: shardCount) else {
                throw ValidationError("--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm array task) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set")
            }
            return found
        case let text?:
            guard shardCount == nil else { throw ValidationError("--shard-count goes with --shard auto; --shard \(text) already gives the count") }
            return try Shard.parse(text)
        }
    }
}
