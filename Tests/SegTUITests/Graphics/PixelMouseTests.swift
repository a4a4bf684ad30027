import Testing
import SegCore
@testable import SegTUI

@Suite("Pixel mouse reports")
struct PixelMouseTests {
    @Test("parse: press, release, wheel, motion, modifiers; 1-based pixels become 0-based")
    func parse() {
        #expect(PixelMouseReport.parse("\u{1B}[<0;101;41M")
                == PixelMouseReport(action: .leftPress, x: 100, y: 40, shift: false, meta: false, control: false))
        #expect(PixelMouseReport.parse("[<0;1;1m")?.action == .leftRelease)
        #expect(PixelMouseReport.parse("[<2;5;5M")?.action == .rightPress)
        #expect(PixelMouseReport.parse("[<64;5;5M")?.action == .wheelUp)
        #expect(PixelMouseReport.parse("[<35;5;5M")?.action == .motion)
        let controlClick = PixelMouseReport.parse("[<16;9;9M")
        #expect(controlClick?.action == .leftPress && controlClick?.control == true && controlClick?.shift == false)
        #expect(PixelMouseReport.parse("[<4;9;9M")?.shift == true)
        // Not reports: zero coordinates, missing fields, other finals, a middle button.
        for bad in ["[<0;0;5M", "[<0;5M", "[<0;5;5X", "[0;5;5M", "[<1;5;5M", "[<0;;5M", "[<a;5;5M"] {
            #expect(PixelMouseReport.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("a click lands on the image pixel under the pointer, finer than a cell")
    func imagePixel() {
        // A 100×50 image shown at 1:1 in a 10×5-cell area of 10×10-pixel cells at cell (2, 1)
        // (graphics mode: one display pixel per terminal pixel).
        let size = PixelSize(width: 100, height: 50)
        let layout = ImageLayout(imageSize: size, viewWidth: 100, viewHeight: 50, viewport: .fit)
        let area = CellRect(column: 2, row: 1, columns: 10, rows: 5)
        func hit(_ x: Int, _ y: Int) -> PixelPoint? {
            PixelMouseReport(action: .leftPress, x: x, y: y, shift: false, meta: false, control: false)
                .imagePixel(area: area, cellWidth: 10, cellHeight: 10, displayPerCell: (10, 10), layout: layout, imageSize: size)
        }
        #expect(hit(20, 10) == PixelPoint(x: 0, y: 0))
        #expect(hit(27, 13) == PixelPoint(x: 7, y: 3))     // inside the first cell: not its centre
        #expect(hit(119, 59) == PixelPoint(x: 99, y: 49))
        #expect(hit(19, 10) == nil && hit(120, 10) == nil && hit(20, 60) == nil)
        // Text mode with half blocks (1×2 display pixels per cell) over a 400×200 image: 4 image
        // pixels per display pixel across; the pointer's place inside the cell still counts.
        let big = PixelSize(width: 400, height: 200)
        let textLayout = ImageLayout(imageSize: big, viewWidth: 100, viewHeight: 50, viewport: .fit)
        let textArea = CellRect(column: 0, row: 0, columns: 100, rows: 25)
        let report = PixelMouseReport(action: .leftPress, x: 15, y: 7, shift: false, meta: false, control: false)
        // x: pixel 15 of 10-wide cells = cell 1 + 0.55 → display 1.55 → image 6.2 → 6.
        // y: pixel 7 of 20-high cells → 0.375 of a cell → display 0.75 → image 3.
        #expect(report.imagePixel(area: textArea, cellWidth: 10, cellHeight: 20, displayPerCell: (1, 2), layout: textLayout,
                                  imageSize: big) == PixelPoint(x: 6, y: 3))
        let cell = report.cell(cellWidth: 10, cellHeight: 20)
        #expect(cell.column == 1 && cell.row == 0)
    }
}
