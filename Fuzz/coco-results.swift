// libFuzzer target: a COCO results (detections) JSON file, checked against a fixed ground truth
// (the fixture named by FUZZ_COCO_GT, which scripts/fuzz.sh sets).
import SegCore
import SegEval

#if canImport(Glibc)
import Glibc
#endif

/// Loaded once: the fuzzed bytes are the results file only.
nonisolated(unsafe) let groundTruth: COCOGroundTruth = {
    guard let path = getenv("FUZZ_COCO_GT").map({ String(cString: $0) }) else {
        fatalError("set FUZZ_COCO_GT to a COCO ground-truth file (scripts/fuzz.sh does)")
    }
    do {
        return try COCOReader.parseGroundTruth(try FileIO.read(path), file: path)
    } catch {
        fatalError("cannot read the ground truth \(path): \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCOCOResults(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? COCOReader.parseResults(bytes, file: "fuzz.json", groundTruth: groundTruth)
    return 0
}
