import ArgumentParser
import Foundation
import SegCore

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print size, channels and bit depth of images; for masks, each value with its pixel count.",
        discussion: """
            A file counts as a mask when it holds at most \(ImageSummary.maskValueLimit) distinct values \
            (colours, for RGB files). Files that cannot be read are reported on stderr; the others are \
            still printed, and the exit code is 1.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "Image or mask files (PNG, JPEG, BMP), or NIfTI volumes (.nii, .nii.gz; text output).")
    var files: [String]

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @OptionGroup var imageOptions: ImageOptions

    func run() throws {
        var summaries: [ImageSummary] = []
        var failed = false
        for file in files {
            do {
                if NIfTI.isNIfTI(file) {
                    print(try volumeSummary(file))
                    continue
                }
                let image = try ImageFile.read(file, limits: imageOptions.limits)
                let summary = ImageSummary(file: file, image: image)
                summaries.append(summary)
                if format == .text { print(summary.text) }
            } catch let error as SegError {
                printError("segterm: \(error)")
                failed = true
            }
        }
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(summaries)
            print(String(decoding: data, as: UTF8.self))
        }
        if failed { throw ExitCode(1) }
    }
}

/// What `info` reports about one image.
struct ImageSummary: Encodable {
    static let maskValueLimit = 64

    struct ValueCount: Encodable {
        let value: [UInt32]  // one entry for gray or palette files, three for colour files
        let count: Int
    }

    let file: String
    let format: String
    let width: Int
    let height: Int
    let channels: Int
    let colorModel: String
    let bitDepth: Int
    let paletteEntries: Int?
    /// Distinct values with pixel counts, when the file looks like a mask; nil for photographs.
    let values: [ValueCount]?

    init(file: String, image: RasterImage) {
        self.file = file
        format = image.format.rawValue
        width = image.width
        height = image.height
        channels = image.channels
        colorModel = image.colorModel.rawValue
        bitDepth = image.fileBitDepth
        paletteEntries = image.colorModel == .palette ? image.palette.count : nil
        values = Self.distinctValues(image, limit: Self.maskValueLimit)
    }

    /// Values ignore alpha: a mask's meaning is in its gray level, palette index or colour.
    static func distinctValues(_ image: RasterImage, limit: Int) -> [ValueCount]? {
        let colour = image.colorModel == .rgb || image.colorModel == .rgba
        var counts: [UInt64: Int] = [:]
        let n = image.width * image.height
        for i in 0..<n {
            let key: UInt64 = colour
                ? UInt64(image.sample(i, 0)) << 32 | UInt64(image.sample(i, 1)) << 16 | UInt64(image.sample(i, 2))
                : UInt64(image.sample(i, 0))
            counts[key, default: 0] += 1
            if counts.count > limit { return nil }
        }
        return counts.sorted { $0.key < $1.key }.map { key, count in
            let value: [UInt32] = colour
                ? [UInt32(key >> 32), UInt32((key >> 16) & 0xFFFF), UInt32(key & 0xFFFF)]
                : [UInt32(key)]
            return ValueCount(value: value, count: count)
        }
    }

    var text: String {
        var lines = [file,
                     "  format     \(format)",
                     "  size       \(width)x\(height)",
                     "  channels   \(channels) (\(colorModel))",
                     "  bit depth  \(bitDepth)"]
        if let paletteEntries { lines.append("  palette    \(paletteEntries) entries") }
        if let values {
            lines.append("  values     \(values.count) distinct (pixel count)")
            for v in values {
                let name = v.value.count == 1 ? "\(v.value[0])" : "(" + v.value.map(String.init).joined(separator: ", ") + ")"
                lines.append("    \(name.padding(toLength: max(name.count, 16), withPad: " ", startingAt: 0))\(v.count)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// A NIfTI file's header as read: grid, spacing, orientation (reported, never changed), type,
/// scaling and the affine nibabel's `get_best_affine` would give.
func volumeSummary(_ file: String) throws -> String {
    let image = try NIfTI.read(file)
    let g = image.geometry, h = image.header
    let affine = (0..<3).map { r in (0..<4).map { c in String(g.affine[r * 4 + c]) }.joined(separator: " ") }.joined(separator: " | ")
    return "\(file): NIfTI-\(h.version.rawValue) \(h.dataType) \(g.size.map(String.init).joined(separator: "×")) voxels, "
        + "spacing \(g.spacing.map { String($0) }.joined(separator: " × ")) mm, orientation \(g.orientation), "
        + "scl_slope \(h.sclSlope) scl_inter \(h.sclInter), qform_code \(h.qformCode) sform_code \(h.sformCode), affine [\(affine)]"
}
