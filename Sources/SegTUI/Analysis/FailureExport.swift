import SegCore
import SegEval

/// `x` in the failure browser: the filtered rows as CSV (the columns of `segterm eval
/// --format csv`'s failure table) and a contact sheet PNG of the first ones, each tile a crop
/// around the failure with the prediction filled red and the ground truth outlined green, in the
/// CSV's order (left to right, top to bottom).
enum FailureExport {
    static let tile = 160
    static let gap = 4
    static let tilesPerRow = 6

    static func write(rows: [FailureRow], evaluation: SetEvaluation, images: [ImageEntry], groundTruth: GroundTruthObjects?,
                      csvPath: String, sheetPath: String, sheetTiles: Int = 24) throws {
        try FileIO.writeAtomically(Array(FailureTable(rows: rows).csvTable.csv().utf8), to: csvPath)
        let shown = Array(rows.prefix(sheetTiles))
        let columns = min(max(shown.count, 1), tilesPerRow)
        let lines = max(1, (shown.count + tilesPerRow - 1) / tilesPerRow)
        var sheet = RGBImage(width: gap + columns * (tile + gap), height: gap + lines * (tile + gap), fill: (24, 24, 28))
        for (n, row) in shown.enumerated() {
            let stem = ImageEntry(path: row.image).stem
            guard let entry = images.first(where: { $0.stem == stem }),
                  let image = try? ImageFile.read(entry.path).rgbImage() else { continue }
            let truth = (try? groundTruth?.objects(forImage: entry.name, width: image.width, height: image.height))??.objects ?? []
            let outlines = truth.map(\.mask.boundary)
            let prediction = evaluation.predictionMask(for: row).flatMap { $0.size == image.size ? $0 : nil }
            drawTile(image, box: row.box, prediction: prediction, outlines: outlines, into: &sheet,
                     x: gap + (n % tilesPerRow) * (tile + gap), y: gap + (n / tilesPerRow) * (tile + gap))
        }
        try ImageFile.writePNG(sheet, to: sheetPath)
    }

    /// A square crop around `box` (half its size again on each side), nearest-sampled into a tile.
    static func drawTile(_ image: RGBImage, box: COCOBox?, prediction: Mask?, outlines: [Mask], into sheet: inout RGBImage, x: Int, y: Int) {
        let b = box ?? COCOBox(x: 0, y: 0, width: Double(image.width), height: Double(image.height))
        let side = min(max(max(b.width, b.height) * 2, 16), Double(max(image.width, image.height)))
        let left = min(max(b.x + b.width / 2 - side / 2, 0), max(Double(image.width) - side, 0))
        let top = min(max(b.y + b.height / 2 - side / 2, 0), max(Double(image.height) - side, 0))
        for ty in 0..<tile {
            for tx in 0..<tile {
                let ix = Int(left + (Double(tx) + 0.5) * side / Double(tile)), iy = Int(top + (Double(ty) + 0.5) * side / Double(tile))
                guard ix < image.width, iy < image.height else { continue }
                var (r, g, bl) = image[ix, iy]
                if prediction?[ix, iy] == true {
                    r = UInt8((Double(r) * 0.55 + 255 * 0.45).rounded()); g = UInt8((Double(g) * 0.55).rounded()); bl = UInt8((Double(bl) * 0.55).rounded())
                }
                if outlines.contains(where: { $0[ix, iy] }) { (r, g, bl) = (0, 230, 90) }
                sheet[x + tx, y + ty] = (r, g, bl)
            }
        }
    }
}
