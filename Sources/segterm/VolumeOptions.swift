import ArgumentParser
import SegCore
import SegEval

/// `eval` / `compare` options of volume evaluation (`--task volume`, inferred from a folder of
/// `.nii` / `.nii.gz` files).
struct VolumeOptions: ParsableArguments {
    @Option(help: "Volumes: the nnU-Net / Decathlon dataset.json naming the labels, regions and ignore label (default: beside the ground-truth folder or one folder up).")
    var datasetJson: String?

    @Option(help: "Volumes: tolerance of the normalised surface Dice (NSD), in millimetres.")
    var nsdTolerance: Double = 1.0

    @Flag(help: "Volumes: only nnU-Net's overlap metrics (no HD, HD95, ASD, NSD or missed lesions): faster.")
    var noSurface = false

    @Option(help: "Volumes: also write nnU-Net's summary.json (the same keys and numbers as nnunetv2's evaluate_predictions) to this path.")
    var summaryJson: String?

    func validate() throws {
        guard nsdTolerance >= 0, nsdTolerance.isFinite else { throw ValidationError("--nsd-tolerance must be a non-negative number of millimetres") }
    }

    func apply(to request: inout EvalRequest) {
        request.datasetJSON = datasetJson
        request.nsdTolerance = nsdTolerance
        request.surfaceMetrics = !noSurface
    }

    /// Writes summary.json when asked and the result is a volume evaluation.
    func writeSummary(_ result: EvaluationResult) throws {
        guard let path = summaryJson else { return }
        guard case .volume(let ev) = result.engine else {
            throw SegError(.invalid, file: path, "--summary-json is written for volume evaluations only (this one is \(result.task.rawValue))")
        }
        try FileIO.writeAtomically(Array((ev.summaryJSON() + "\n").utf8), to: path)
    }
}
