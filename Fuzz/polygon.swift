// libFuzzer target: COCO polygon rasterisation (`RLE(polygons:height:width:)`), with raw
// doubles so NaN, infinities, huge and negative coordinates all occur.
import SegCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolygon(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    // Byte 0 and 1: mask height and width (0...255, zero included); byte 2: how many polygons the
    // coordinates are split into; then 8 bytes per coordinate.
    let height = Int(data[0]), width = Int(data[1]), parts = Int(data[2] % 4) + 1
    var coordinates: [Double] = []
    var at = 3
    while at + 8 <= size {
        var bits: UInt64 = 0
        for k in 0..<8 { bits |= UInt64(data[at + k]) << UInt64(8 * k) }
        coordinates.append(Double(bitPattern: bits))
        at += 8
    }
    let per = max(1, (coordinates.count + parts - 1) / parts)
    let polygons = stride(from: 0, to: coordinates.count, by: per).map { Array(coordinates[$0..<min($0 + per, coordinates.count)]) }
    if let rle = try? RLE(polygons: polygons, height: height, width: width) {
        let mask = rle.decode()
        precondition(mask.width == width && mask.height == height)
    }
    return 0
}
