import Foundation
import SegCore
import SegEval

/// One image to label: its file, and the id and name the proposals give it.
public struct LabelImage: Sendable, Equatable {
    public var path: String
    public var fileName: String
    public var imageId: Int

    public init(path: String, fileName: String, imageId: Int) {
        self.path = path
        self.fileName = fileName
        self.imageId = imageId
    }
}

/// A record of the progress file beside the output: the first says what the run is (a fingerprint
/// of the source, the model and its options), each next one an image done with its proposals.
/// Each is appended and fsynced before the next image starts, so a killed run loses at most the
/// image it was working on, and a rerun skips every image already recorded.
enum ProgressRecord: Codable, Sendable {
    case run(fingerprint: String)
    case image(fileName: String, proposals: [Proposal])
}

/// Runs a proposal source over images, resumably, and writes the proposals file.
public enum AutoLabelRun {
    public struct Summary: Sendable, Equatable {
        public var images: Int
        public var labelled: Int
        public var alreadyDone: Int
        public var failed: [(path: String, reason: String)]
        public var proposals: Int

        public static func == (a: Summary, b: Summary) -> Bool {
            a.images == b.images && a.labelled == b.labelled && a.alreadyDone == b.alreadyDone && a.proposals == b.proposals
                && a.failed.map(\.path) == b.failed.map(\.path)
        }
    }

    /// Where the progress of a run writing `out` is kept.
    public static func progressPath(for out: String) -> String { out + ".progress" }

    /// Labels each image not yet recorded in the progress file, then writes `out` from every
    /// recorded image (in the given order). `fingerprint` names what makes the proposals (model,
    /// source, options): a progress file made by another run is an error unless `restart`.
    /// `label` turns one image into its proposals; an image it fails on is reported, not recorded
    /// (a rerun tries it again), and the others go on.
    public static func run(images: [LabelImage], fingerprint: String, out: String, restart: Bool = false,
                           progress: (@Sendable (Int, Int) -> Void)? = nil,
                           label: (LabelImage) throws -> [Proposal]) throws -> Summary {
        let progressFile = progressPath(for: out)
        if restart { unlink(progressFile) }
        var done = try recorded(progressFile, fingerprint: fingerprint, out: out)
        let journal = try Journal<ProgressRecord>(path: progressFile)
        if done == nil {
            try journal.append(.run(fingerprint: fingerprint))
            done = [:]
        }
        var recordedImages = done ?? [:]
        var summary = Summary(images: images.count, labelled: 0, alreadyDone: 0, failed: [], proposals: 0)
        for (i, image) in images.enumerated() {
            defer { progress?(i + 1, images.count) }
            if recordedImages[image.fileName] != nil {
                summary.alreadyDone += 1
                continue
            }
            do {
                let proposals = try label(image)
                try journal.append(.image(fileName: image.fileName, proposals: proposals))
                recordedImages[image.fileName] = proposals
                summary.labelled += 1
            } catch let error as SegError where error.kind == .writeFailed {
                throw error  // the progress file cannot be written: stop, nothing is lost
            } catch {
                summary.failed.append((image.path, "\(error)"))
            }
        }
        let all = images.flatMap { recordedImages[$0.fileName] ?? [] }
        summary.proposals = all.count
        try ProposalFile.write(all, to: out)
        return summary
    }

    /// The images recorded so far (nil: no progress file yet).
    static func recorded(_ path: String, fingerprint: String, out: String) throws -> [String: [Proposal]]? {
        let replay = try Journal<ProgressRecord>.restore(path)
        guard let first = replay.records.first else { return nil }
        guard case .run(let recordedFingerprint) = first, recordedFingerprint == fingerprint else {
            throw SegError(.invalid, file: path, "this progress file belongs to another autolabel run (other model, source or options) "
                + "writing \(out): give another --out, or --restart to start this one over")
        }
        var done: [String: [Proposal]] = [:]
        for case .image(let name, let proposals) in replay.records.dropFirst() { done[name] = proposals }
        return done
    }
}
