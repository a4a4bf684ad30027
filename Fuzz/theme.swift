// libFuzzer target: a theme file (themes/*.toml), as `--theme FILE` reads it.
@testable import SegTUI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTheme(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? Theme.parse(bytes, path: "fuzz.toml")
    return 0
}
