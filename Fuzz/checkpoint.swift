// libFuzzer target: checkpoint files (`StateDict.load`: PyTorch zip + restricted unpickler, or
// safetensors), then every tensor read as floats or integers, as a model loader would.
import SegNN

#if canImport(Glibc)
import Glibc
#endif

/// `StateDict.load` takes a path (it maps the file), so each input is written to this file first.
let scratchPath = "/tmp/segterm-fuzz-checkpoint-\(getpid())"

/// Removed when libFuzzer exits (it ends the process with exit()).
let removeScratchAtExit: Void = { atexit { unlink(scratchPath) } }()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = removeScratchAtExit
    guard let handle = fopen(scratchPath, "wb") else { fatalError("cannot write \(scratchPath)") }
    if size > 0 { precondition(fwrite(data, 1, size, handle) == size, "short write to \(scratchPath)") }
    fclose(handle)
    guard let state = try? StateDict.load(path: scratchPath) else { return 0 }
    for key in state.keys {
        guard let record = state.records[key] else { fatalError("key \(key) listed without a record") }
        if record.dtype.isFloating {
            _ = try? state.floats(key)
        } else {
            _ = try? state.ints(key)
        }
    }
    return 0
}
