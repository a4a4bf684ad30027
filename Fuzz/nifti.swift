// libFuzzer target: NIfTI-1/2 reading, plain and gzip (`NIfTI.read`, then the label and scalar
// conversions). Every input must end in a volume or a thrown SegError; a trap, a sanitizer
// report, a hang or an allocation past -rss_limit_mb is a bug. The reader takes a path (zlib's gz
// reader streams from it), so each input is written to one scratch file first.
import Glibc
import SegCore

let scratch = "/tmp/segterm-fuzz-nifti-\(getpid()).nii"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNIfTI(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    // A lower data limit than the CLI's keeps each run fast; the limit check itself is still exercised.
    guard let image = try? NIfTI.read(scratch, limits: NIfTI.Limits(maxDataBytes: 16 << 20, maxHeaderBytes: 1 << 20)) else { return 0 }
    _ = try? image.labels(file: scratch)
    _ = image.scalars()
    _ = image.geometry.orientation
    return 0
}
