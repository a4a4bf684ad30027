import ArgumentParser
import Foundation
import SegCore
import SegModels
import SegNN
import SegTUI
#if canImport(Glibc)
import Glibc
#endif

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Precompute the SAM / MobileSAM image embeddings of a folder into the embedding cache.",
        discussion: """
            Afterwards the workbench opens each image of the folder without running the image \
            encoder: the first click costs one decoder call. FOLDER is a folder of images or a \
            workspace with a segterm.toml (its images, and its model when --model is not given). \
            Resumable: images already in the cache are skipped, so an interrupted run continues \
            where it stopped. The cache is $SEGTERM_CACHE_DIR (default ~/.cache/segterm/embeddings), \
            bounded by $SEGTERM_CACHE_MAX_MB megabytes (default 1024); a warning says when the \
            folder needs more than the bound. On a cluster: --shard I/N (or auto in a Slurm array or a \
            Kubernetes Indexed Job) embeds only the images of that shard (split by file name); every \
            shard writes into one shared cache folder (SEGTERM_CACHE_DIR), safely.
            """
    )

    @Argument(help: "A folder of images, or a workspace with a segterm.toml.")
    var folder: String

    @Option(help: "A SAM, MobileSAM or SAM 2.1 checkpoint, or medsam:CHECKPOINT for MedSAM's own preprocessing (default: the workspace's model).")
    var model: String?

    @Option(help: "Images encoded at once; the cores are shared among them.")
    var jobs = 1

    @OptionGroup var imageOptions: ImageOptions

    @OptionGroup var sharding: ShardOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be positive") }
    }

    func run() throws {
        let config = try WorkspaceConfig.open(folder: folder)
        let checkpoint = model ?? config.model
        guard !ModelRegistry.isBuiltIn(checkpoint) else {
            throw ValidationError("\(checkpoint) has no embeddings to precompute: give a SAM or MobileSAM checkpoint with --model")
        }
        let listed = try WorkbenchSession.listImages(config.images).map(\.path)
        guard !listed.isEmpty else { throw SegError(.invalid, file: config.images, "no PNG, JPEG or BMP images in this folder") }
        let shard = try sharding.resolve() ?? .whole
        let images = shard.select(listed) { FileName.last($0) }
        if !shard.isWhole { print("shard \(shard): \(images.count) of \(listed.count) images") }
        guard !images.isEmpty else { return }
        let jobs = min(self.jobs, Threads.coreCount, images.count)
        Threads.configure(max(1, Threads.coreCount / jobs))
        let medSAM = ModelRegistry.medSAMCheckpoint(checkpoint)
        let sam = try SAMModel.load(checkpoint: medSAM ?? checkpoint)
        if medSAM != nil { _ = try MedSAMSegmenter(model: sam) }  // refuses a checkpoint MedSAM cannot be
        let cache = EmbeddingCache(directory: EmbeddingCache.defaultDirectory)
        let needed = images.count * EmbeddingCache.entryBytes(model: sam)
        if needed > cache.maxBytes {
            printError("segterm: warning: \(images.count) embeddings need \(megabytes(needed)) MB, above the cache bound of "
                + "\(megabytes(cache.maxBytes)) MB: the oldest will be evicted (raise SEGTERM_CACHE_MAX_MB)")
        }
        let bar = ProgressBar("embedding", minimumTotal: 1)
        let summary = EmbeddingPrecompute.run(images: images, model: sam, pipeline: medSAM == nil ? .sam : .medSAM, cache: cache, jobs: jobs, limits: imageOptions.limits,
                                              progress: bar.callback)
        for failure in summary.failed { printError("segterm: \(failure.path): \(failure.reason)") }
        let perImage = summary.embedded > 0 ? String(format: ", %.2f s per image (%d jobs)", summary.encodeSeconds / Double(summary.embedded), jobs) : ""
        print("\(sam.name): \(summary.embedded) embedded, \(summary.alreadyCached) already cached, \(summary.failed.count) failed "
            + "of \(summary.images) images in \(String(format: "%.1f", summary.wallSeconds)) s\(perImage); "
            + "\(megabytes(summary.bytesPerEntry)) MB per image in \(cache.directory)")
        if !summary.failed.isEmpty { throw ExitCode(1) }
    }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
}
