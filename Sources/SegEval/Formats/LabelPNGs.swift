import SegCore

/// Label PNGs shared by the VOC and Cityscapes converters: values read as class indices (palette
/// indices, gray values; an RGB file mapped back through the VOC palette), and masks per value
/// turned into RLE annotations.
enum LabelPNGs {
    /// The label values of a PNG. An RGB file (a palette PNG saved as colours) is mapped back
    /// through `palette`; a colour outside it is an error naming the pixel.
    static func values(_ path: String, palette: [(UInt8, UInt8, UInt8)]? = nil) throws -> LabelMap {
        let image = try ImageFile.read(path)
        guard image.colorModel == .rgb || image.colorModel == .rgba, let palette else { return image.labelMap() }
        var index: [UInt32: UInt32] = [:]
        for (i, c) in palette.enumerated() where index[UInt32(c.0) | UInt32(c.1) << 8 | UInt32(c.2) << 16] == nil {
            index[UInt32(c.0) | UInt32(c.1) << 8 | UInt32(c.2) << 16] = UInt32(i)
        }
        var packed = image.labelMap(reducing: .packedRGB)
        for i in packed.labels.indices {
            guard let v = index[packed.labels[i]] else {
                let c = packed.labels[i]
                throw SegError(.invalid, file: path, "pixel (\(i % packed.width), \(i / packed.width)) has colour (\(c & 255), \((c >> 8) & 255), \(c >> 16)), not one of the palette's")
            }
            packed.labels[i] = v
        }
        return packed
    }

    /// One mask per distinct value accepted by `keep`, in ascending value order.
    static func masks(_ map: LabelMap, keep: (UInt32) -> Bool) -> [(UInt32, Mask)] {
        var byValue: [UInt32: [Int]] = [:]
        for (i, v) in map.labels.enumerated() where keep(v) { byValue[v, default: []].append(i) }
        return byValue.keys.sorted().map { v in
            var m = Mask(width: map.width, height: map.height)
            for i in byValue[v]! { m.bits[i] = 1 }
            return (v, m)
        }
    }

    static func annotation(_ mask: Mask, id: Int, imageId: Int, categoryId: Int, crowd: Bool = false) throws -> COCOAnnotation {
        let rle = try RLE(mask: mask)
        let (box, area) = FormatShapes.boxAndArea(rle)
        return COCOAnnotation(id: id, imageId: imageId, categoryId: categoryId,
                              segmentation: .compressed(height: rle.height, width: rle.width, string: rle.compressedString),
                              bbox: box, area: area, isCrowd: crowd)
    }

    /// The VOC palette as PNG palette entries.
    static var vocPaletteEntries: [RasterImage.PaletteEntry] {
        VOCLabels.palette.map { RasterImage.PaletteEntry(r: $0.0, g: $0.1, b: $0.2) }
    }
}
