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
}
