// libFuzzer target: pycocotools' compressed RLE string (`RLE(compressed:height:width:)`), then
// the decoded mask and the re-encoding, which must give back the same counts.
import SegCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRLEString(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    // The first two bytes pick a small mask size (1...256 each), so decoding stays cheap; the rest
    // is the counts string exactly as it would appear in a JSON file.
    let height = Int(data[0]) + 1, width = Int(data[1]) + 1
    let string = String(decoding: UnsafeBufferPointer(start: data + 2, count: size - 2), as: UTF8.self)
    guard let rle = try? RLE(compressed: string, height: height, width: width) else { return 0 }
    let mask = rle.decode()
    guard let again = try? RLE(mask: mask), again.decode() == mask else {
        fatalError("RLE string \(string.debugDescription) does not survive decode and re-encode")
    }
    if (try? RLE(compressed: rle.compressedString, height: height, width: width)) != rle {
        fatalError("RLE string \(string.debugDescription) does not survive compressedString")
    }
    return 0
}
