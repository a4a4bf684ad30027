// libFuzzer target: a COCO instances (ground-truth) JSON file, parsed and validated as
// `segterm eval` reads it.
import SegCore
import SegEval

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCOCOGroundTruth(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? COCOReader.parseGroundTruth(bytes, file: "fuzz.json")
    return 0
}
