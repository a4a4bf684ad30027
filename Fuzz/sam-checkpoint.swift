// libFuzzer target: a checkpoint through the whole model loader (`SAMModel.load`: the readers, then
// configuration detection for SAM, MobileSAM, SAM 2.1 and SAM 3 from shapes, then every tensor read into
// the model with its shape checked), as `--model FILE` does. The checkpoint target covers the
// readers alone; this one covers what the models do with what the readers return.
import SegModels

#if canImport(Glibc)
import Glibc
#endif

let scratchPath = "/tmp/segterm-fuzz-sam-checkpoint-\(getpid()).pt"

/// The reduced SAM 2.1 fixture's sidecar beside every input, so that mutated copies of
/// Tests/SegModelsTests/Fixtures/sam2_reduced/sam2_reduced.pt (the seeds) get past detection into
/// the Hiera, neck and decoder loaders. Its decoder keys are also the reduced SAM 3 fixture's (the
/// SAM 3 reader ignores the Hiera ones), so mutated copies of sam3_reduced.pt reach the ViT, RoPE,
/// neck and `tracker.` decoder loaders too.
let sidecarPath = String(scratchPath.dropLast(3)) + ".json"
let sidecar = #"{"image_size": 128, "num_heads": 1, "global_att_blocks": [5], "window_spec": [8, 4, 6, 3], "decoder_transformer_depth": 2, "decoder_mlp_dim": 64, "decoder_num_heads": 2, "iou_head_depth": 3, "iou_head_hidden_dim": 32}"#

/// Written once; both files removed when libFuzzer exits (it ends the process with exit()).
let setUp: Void = {
    if let h = fopen(sidecarPath, "wb") { fputs(sidecar, h); fclose(h) }
    atexit { unlink(scratchPath); unlink(sidecarPath) }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSAMCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = setUp
    guard let handle = fopen(scratchPath, "wb") else { fatalError("cannot write \(scratchPath)") }
    if size > 0 { precondition(fwrite(data, 1, size, handle) == size, "short write to \(scratchPath)") }
    fclose(handle)
    _ = try? SAMModel.load(checkpoint: scratchPath)
    return 0
}
