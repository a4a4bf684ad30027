// libFuzzer target: a workspace's `segterm.toml`, as `segterm open FOLDER` reads it (TOML through
// TOMLKit/toml++, then the keys segterm knows, paths resolved against the file's folder). A
// `classes` entry naming a file reads that file: the fuzzer may name any path, so the files it can
// reach in the fuzz folder are the ones to expect; a missing one is a typed error like any other.
@testable import SegTUI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkspaceTOML(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? WorkspaceConfig.parse(bytes, path: "/nonexistent-fuzz/segterm.toml")
    return 0
}
