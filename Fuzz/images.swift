// libFuzzer target: PNG, JPEG and BMP decoding (`ImageFile.decode`, what `ImageFile.read` runs
// on a file's bytes). Every input must end in an image or a thrown SegError; a trap, a sanitizer
// report, a hang or an allocation past -rss_limit_mb is a bug.
import SegCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImages(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A lower pixel limit than the CLI's keeps each run fast; the limit check itself is still exercised.
    _ = try? ImageFile.decode(bytes, limits: ImageFile.Limits(maxPixels: 4_000_000))
    return 0
}
