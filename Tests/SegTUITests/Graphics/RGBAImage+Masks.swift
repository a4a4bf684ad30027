import SegCore
@testable import SegTUI

/// Overlay images made straight from a mask, for the encoder tests (the workbench composes its
/// overlays from every mask on screen, in `Workbench.overlayPixels`).
extension RGBAImage {
    /// A mask as an overlay image: `color` at `alpha` where the mask is set, transparent elsewhere.
    init(mask: Mask, color: RGB, alpha: UInt8) {
        var out = [UInt8](repeating: 0, count: mask.width * mask.height * 4)
        for i in 0..<(mask.width * mask.height) where mask.bits[i] != 0 {
            out[i * 4] = color.r; out[i * 4 + 1] = color.g; out[i * 4 + 2] = color.b; out[i * 4 + 3] = alpha
        }
        self.init(width: mask.width, height: mask.height, pixels: out)
    }

    /// One mask as the workbench draws it: `fill` at `fillAlpha` inside, and an opaque
    /// `boundary` on the mask's edge pixels (set, with a 4-neighbour unset or outside), so the
    /// boundary keeps its exact colour after compositing (what sixel's exact palette colours are for).
    init(mask: Mask, fill: RGB, fillAlpha: UInt8, boundary: RGB) {
        self.init(mask: mask, color: fill, alpha: fillAlpha)
        let edge = mask.boundary
        for i in 0..<(mask.width * mask.height) where edge.bits[i] != 0 {
            pixels.replaceSubrange((i * 4)..<(i * 4 + 4), with: [boundary.r, boundary.g, boundary.b, 255])
        }
    }
}
