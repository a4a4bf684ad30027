import ArgumentParser
import SegCore

/// Options every command that reads images shares.
struct ImageOptions: ParsableArguments {
    @Option(name: .long, help: "Refuse images with more pixels than this (checked before decoding).")
    var maxPixels: Int = ImageFile.Limits.standard.maxPixels

    var limits: ImageFile.Limits { ImageFile.Limits(maxPixels: maxPixels) }

    func validate() throws {
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    }
}
