import Testing
import SegCore
@testable import SegEval

/// The IoU matrix the mask matching runs on: exact numbers, and no zeros standing in for an error.
@Suite("IoU of runs")
struct RunIoUTests {
    /// A w × h rectangle at (x, y) in a 10 × 10 mask, as runs.
    static func rect(_ x: Int, _ y: Int, _ w: Int, _ h: Int) throws -> RLE {
        var mask = Mask(width: 10, height: 10)
        for yy in y..<(y + h) { for xx in x..<(x + w) { mask[xx, yy] = true } }
        return try RLE(mask: mask)
    }

    @Test("D × G, row-major by detection; a crowd region's IoU is the intersection over the detection's area")
    func matrix() throws {
        // 4×4 at (0,0) and 4×4 at (2,0): intersection 2×4 = 8, union 16 + 16 - 8 = 24.
        let a = try Self.rect(0, 0, 4, 4), b = try Self.rect(2, 0, 4, 4), far = try Self.rect(8, 8, 2, 2)
        let ious = RunIoU.ious(dt: [a, far], gt: [b, b], crowd: [false, true])
        #expect(ious == [8.0 / 24, 8.0 / 16, 0, 0])
        #expect(RunIoU.ious(dt: [], gt: [b], crowd: [false]).isEmpty)
    }

    @Test("crowd flags that do not match the ground truths stop the process instead of giving zeros")
    func mismatchTraps() async {
        await #expect(processExitsWith: .failure) {
            var mask = Mask(width: 4, height: 4)
            mask[1, 1] = true
            let runs = try RLE(mask: mask)
            _ = RunIoU.ious(dt: [runs], gt: [runs, runs], crowd: [false])
        }
    }
}
