import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

// What the end-to-end tests of terminal graphics share (XtermGraphicsTests: sixel in xterm;
// KittyTerminalTests: the kitty protocol in kitty): the scene, where the layout puts it on the
// screen and what it should look like there, and the X11 machinery that runs a real terminal on
// a virtual screen, clicks and types in it, and takes screenshots.

// MARK: - The scene

/// A 240×180 photo of flat, very different colours, so every pixel away from an edge has one
/// known colour: a dark green ground, a purple band along the top, a light grey square at the
/// bottom left (so a shifted or mirrored image cannot pass) and the object, an orange disc of
/// radius 40 around (140, 100), which is also the ground truth.
enum FlatScene {
    static let width = 240, height = 180
    static let disc = (x: 140.0, y: 100.0, radius: 40.0)
    static let ground = RGB(40, 70, 60), band = RGB(110, 40, 120), square = RGB(200, 200, 200), object = RGB(230, 150, 40)

    static func inDisc(_ x: Int, _ y: Int) -> Bool {
        let dx = Double(x) - disc.x, dy = Double(y) - disc.y
        return dx * dx + dy * dy <= disc.radius * disc.radius
    }

    static let bandHeight = 30
    /// The square covers x0..<x1, y0..<y1.
    static let squareBox = (x0: 20, y0: 120, x1: 60, y1: 160)

    static func color(_ x: Int, _ y: Int) -> RGB {
        if inDisc(x, y) { return object }
        if y < bandHeight { return band }
        if (squareBox.x0..<squareBox.x1).contains(x) && (squareBox.y0..<squareBox.y1).contains(y) { return square }
        return ground
    }

    /// The colour at image coordinates (x, y) when every pixel within `margin` has it (away from
    /// edges, where the display's box filter mixes neighbours), else nil.
    static func flatColor(_ x: Double, _ y: Double, margin: Int = 2) -> RGB? {
        let cx = Int(x.rounded(.down)), cy = Int(y.rounded(.down))
        guard cx - margin >= 0, cy - margin >= 0, cx + margin < width, cy + margin < height else { return nil }
        let c = color(cx, cy)
        for v in (cy - margin)...(cy + margin) {
            for u in (cx - margin)...(cx + margin) where color(u, v) != c { return nil }
        }
        return c
    }

    /// Distance from the disc's centre in image coordinates (pixel (x, y) covers [x, x+1)).
    static func discDistance(_ x: Double, _ y: Double) -> Double {
        let dx = x - (disc.x + 0.5), dy = y - (disc.y + 0.5)
        return (dx * dx + dy * dy).squareRoot()
    }

    /// A workspace with the scene, its ground truth and grabcut, as the tmux tests build one.
    static func workspace() throws -> URL {
        let root = Binary.temporaryFolder()
        let images = root.appendingPathComponent("images"), truth = root.appendingPathComponent("truth")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: truth, withIntermediateDirectories: true)
        var image = RGBImage(width: width, height: height)
        var mask = Mask(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let c = color(x, y)
                image[x, y] = (c.r, c.g, c.b)
                mask[x, y] = inDisc(x, y)
            }
        }
        try ImageFile.writePNG(image, to: images.appendingPathComponent("scene.png").path)
        try ImageFile.writePNG(mask, to: truth.appendingPathComponent("scene.png").path)
        let toml = """
            images = "images"
            classes = ["background", "disc"]
            output = "out"
            ground_truth = "truth"
            model = "grabcut"
            """
        try Data(toml.utf8).write(to: root.appendingPathComponent("segterm.toml"))
        return root
    }
}

// MARK: - Where the image lands, and what the screen should show

/// Screen pixels ↔ image coordinates, from the layout code the binary runs for the same state
/// (the terminal's window has no border and its top-left corner at `origin` on the screen — the
/// screen's top-left for both terminals here), and what the screen should show there. In both
/// graphics modes one display pixel is one terminal pixel: sixel draws the pane's pixels, and
/// kitty gets an image of exactly the placement's cells in pixels, so it does not scale it.
struct ScreenMapping {
    let image: ImageLayout
    /// The screen pixel of the image's top-left corner.
    let left: Int, top: Int
    /// A grid of screen pixels over the shown image: every 10th display pixel each way.
    let samples: [Sample]

    /// How far a painted colour may be from the expected one, per channel (the terminal's).
    let tolerance: Int
    /// The theme segterm draws with: its choice for the terminal's background (xterm's default
    /// is black on white, so light; kitty's white on black, so dark).
    let theme: Theme
    /// The image list's title row on the screen, in pixels (x1 and y1 exclusive).
    let listTitle: (x0: Int, y0: Int, x1: Int, y1: Int)?

    /// A screen pixel and the image coordinates of its centre.
    struct Sample { let x: Int, y: Int, imageX: Double, imageY: Double }

    /// The help box (`?`) on the screen, in pixels (x1 and y1 exclusive): the cells segterm's own
    /// view draws differently with the help open than without, for the same state.
    let helpBox: (x0: Int, y0: Int, x1: Int, y1: Int)

    /// `display`: the grid segterm draws with (its mode and the terminal's cell in pixels).
    init(display: DisplayGrid, columns: Int, rows: Int, origin: (x: Int, y: Int) = (0, 0), tolerance: Int, theme: Theme = .dark) {
        self.tolerance = tolerance
        self.theme = theme
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/scene.png")],
                               classes: ["background", "disc"], modelName: "grabcut")
        s.image = RGBImage(width: FlatScene.width, height: FlatScene.height)
        s.display = display
        let cell = display.cellPixels!
        let layout = WorkbenchLayout(s).pane(0)
        listTitle = WorkbenchLayout(s).list.map { list in
            (origin.x + list.column * cell.width, origin.y + list.row * cell.height,
             origin.x + (list.column + list.columns) * cell.width, origin.y + (list.row + 1) * cell.height)
        }
        let image = layout.image
        self.image = image
        left = origin.x + layout.imageArea.column * cell.width + image.offsetX
        top = origin.y + layout.imageArea.row * cell.height + image.offsetY
        var samples: [Sample] = []
        for dy in stride(from: 3, to: image.shownHeight - 3, by: 10) {
            for dx in stride(from: 3, to: image.shownWidth - 3, by: 10) {
                samples.append(Sample(x: left + dx, y: top + dy, imageX: image.originX + (Double(dx) + 0.5) / image.scaleX,
                                      imageY: image.originY + (Double(dy) + 0.5) / image.scaleY))
            }
        }
        self.samples = samples
        var help = s
        help.overlay = .help
        let plain = Workbench.render(s), boxed = Workbench.render(help)
        var (c0, r0, c1, r1) = (Int.max, Int.max, -1, -1)
        for r in 0..<rows {
            for c in 0..<columns where plain[r, c] != boxed[r, c] {
                (c0, r0, c1, r1) = (min(c0, c), min(r0, r), max(c1, c), max(r1, r))
            }
        }
        // No cell changed (no help box): an empty box, which `helpProblems` finds nothing in.
        helpBox = c1 < 0 ? (origin.x, origin.y, origin.x, origin.y)
            : (origin.x + c0 * cell.width, origin.y + r0 * cell.height, origin.x + (c1 + 1) * cell.width, origin.y + (r1 + 1) * cell.height)
    }

    /// The screen pixel showing image coordinates (x, y).
    func screenPoint(imageX x: Double, imageY y: Double) -> (x: Int, y: Int) {
        (left + Int(((x - image.originX) * image.scaleX).rounded(.down)), top + Int(((y - image.originY) * image.scaleY).rounded(.down)))
    }

    /// Whether a painted colour is the expected one, within `tolerance` per channel.
    func close(_ a: RGB, _ b: RGB) -> Bool {
        max(abs(Int(a.r) - Int(b.r)), abs(Int(a.g) - Int(b.g)), abs(Int(a.b) - Int(b.b))) <= tolerance
    }

    /// "n of m points …, e.g. (x, y) #got for #expected; …".
    static func summary(_ what: String, _ wrong: [(x: Int, y: Int, expected: RGB, got: RGB)], of total: Int) -> [String] {
        wrong.isEmpty ? [] : ["\(wrong.count) of \(total) points \(what), e.g. "
            + wrong.prefix(5).map { "(\($0.x), \($0.y)) \($0.got) for \($0.expected)" }.joined(separator: "; ")]
    }

    /// Before the click: every sample on a flat region shows the photo's colour, and the photo's
    /// edges are where the layout puts them (which a shift by a cell or a wrong zoom breaks).
    func photoProblems(in shot: XWDScreenshot) -> [String] {
        var total = 0
        var wrong: [(x: Int, y: Int, expected: RGB, got: RGB)] = []
        // The keyboard cursor's ring starts on the image's centre pixel, over the photo.
        let cursor = screenPoint(imageX: Double(FlatScene.width / 2) + 0.5, imageY: Double(FlatScene.height / 2) + 0.5)
        for p in samples {
            guard let want = FlatScene.flatColor(p.imageX, p.imageY) else { continue }
            if abs(p.x - cursor.x) <= 14 && abs(p.y - cursor.y) <= 14 { continue }
            total += 1
            let got = shot[p.x, p.y]
            if !close(got, want) { wrong.append((p.x, p.y, want, got)) }
        }
        var problems = total > 2000 ? [] : ["only \(total) sample points on flat regions"]
        problems += Self.summary("are not the photo's colour", wrong, of: total)
        return problems + edgeProblems(in: shot)
    }

    /// The grey square's four edges and the band's lower edge, found by scanning across them:
    /// each within 2 screen pixels of where the layout puts it.
    func edgeProblems(in shot: XWDScreenshot) -> [String] {
        let square = FlatScene.squareBox
        let midY = screenPoint(imageX: 0, imageY: Double(square.y0 + square.y1) / 2).y
        let midX = screenPoint(imageX: Double(square.x0 + square.x1) / 2, imageY: 0).x
        func first(_ along: [Int], _ color: RGB, _ pixel: (Int) -> RGB) -> Int? { along.first { close(pixel($0), color) } }
        let x0 = screenPoint(imageX: Double(square.x0), imageY: 0).x, x1 = screenPoint(imageX: Double(square.x1), imageY: 0).x
        let y0 = screenPoint(imageX: 0, imageY: Double(square.y0)).y, y1 = screenPoint(imageX: 0, imageY: Double(square.y1)).y
        let bandX = screenPoint(imageX: 200, imageY: 0).x, bandY = screenPoint(imageX: 0, imageY: Double(FlatScene.bandHeight)).y
        let edges: [(name: String, expected: Int, found: Int?)] = [
            ("the square's left edge", x0, first(Array(x0 - 20...x0 + 20), FlatScene.square) { shot[$0, midY] }),
            ("the square's right edge", x1, first(Array((x1 - 20...x1 + 20).reversed()), FlatScene.square) { shot[$0, midY] }.map { $0 + 1 }),
            ("the square's top edge", y0, first(Array(y0 - 20...y0 + 20), FlatScene.square) { shot[midX, $0] }),
            ("the square's bottom edge", y1, first(Array((y1 - 20...y1 + 20).reversed()), FlatScene.square) { shot[midX, $0] }.map { $0 + 1 }),
            ("the band's lower edge", bandY, first(Array(bandY - 20...bandY + 20), FlatScene.ground) { shot[bandX, $0] }),
        ]
        return edges.compactMap { edge in
            guard let found = edge.found else { return "\(edge.name) not found within 20 pixels of \(edge.expected)" }
            return abs(found - edge.expected) <= 2 ? nil : "\(edge.name) is at \(found), the layout puts it at \(edge.expected)"
        }
    }

    /// The workbench's mask as the sixel presenter composites it: the colour at `opacity` over
    /// the photo, as an 8-bit alpha (`overlayPixels`, then `RGBAImage.composited`).
    static func over(_ top: RGB, _ photo: RGB, opacity: Double) -> RGB {
        let a = Int((min(max(opacity, 0), 1) * 255).rounded())
        func mix(_ t: UInt8, _ b: UInt8) -> UInt8 { UInt8((Int(t) * a + Int(b) * (255 - a) + 127) / 255) }
        return RGB(mix(top.r, photo.r), mix(top.g, photo.g), mix(top.b, photo.b))
    }

    /// The fill opacity `Workbench.overlays` gives the mask being made (the default step).
    static var fillOpacity: Double {
        let s = WorkbenchState(rows: 1, columns: 1, colorMode: .direct, images: [], classes: [], modelName: "grabcut")
        return WorkbenchState.opacitySteps[s.opacityStep]
    }

    /// After the click: samples well inside the true disc (3 image pixels in from its edge, and
    /// away from the point marker and the keyboard cursor at the click) show the fill over the
    /// photo, samples well outside (3 pixels out) the photo; the boundary colour is on the
    /// disc's edge; the point marker is centred within 3 screen pixels of the click.
    func maskProblems(in shot: XWDScreenshot, click: (x: Int, y: Int)) -> [String] {
        let fill = Self.over(theme.maskFill, FlatScene.object, opacity: Self.fillOpacity)
        var inside = 0, outside = 0
        var wrongInside: [(x: Int, y: Int, expected: RGB, got: RGB)] = [], wrongOutside = wrongInside
        for p in samples {
            guard let photo = FlatScene.flatColor(p.imageX, p.imageY) else { continue }
            let r = FlatScene.discDistance(p.imageX, p.imageY), got = shot[p.x, p.y]
            if r <= FlatScene.disc.radius - 3 {
                if abs(p.x - click.x) <= 14 && abs(p.y - click.y) <= 14 { continue }
                inside += 1
                if !close(got, fill) { wrongInside.append((p.x, p.y, fill, got)) }
            } else if r >= FlatScene.disc.radius + 3 {
                outside += 1
                if !close(got, photo) { wrongOutside.append((p.x, p.y, photo, got)) }
            }
        }
        var problems = inside > 300 && outside > 2000 ? [] : ["too few sample points: \(inside) inside the disc, \(outside) outside"]
        problems += Self.summary("inside the disc do not show the mask fill over the photo", wrongInside, of: inside)
        problems += Self.summary("outside the disc do not show the photo", wrongOutside, of: outside)
        let missed = boundaryMisses(in: shot)
        if !missed.isEmpty {
            problems.append("no mask boundary colour near the disc's edge along \(missed.count) of 24 rays from its centre, at "
                            + missed.map { "\($0)°" }.joined(separator: ", "))
        }
        if let cross = cross(in: shot, near: click) {
            let (dx, dy) = (cross.x - Double(click.x), cross.y - Double(click.y))
            if abs(dx) > 3 || abs(dy) > 3 {
                problems.append("the point marker is centred at (\(cross.x), \(cross.y)), (\(dx), \(dy)) from the click at "
                                + "(\(click.x), \(click.y)): not the pixel under the pointer")
            }
        } else {
            problems.append("no point marker (\(theme.positivePoint)) within 20 pixels of the click at (\(click.x), \(click.y))")
        }
        return problems
    }

    /// After segterm has exited (the terminal's window still open): samples on flat regions that
    /// still show the photo's colour, or inside the disc the mask fill, where nothing but the
    /// terminal's own background should be. A few may match by chance (none do on a black
    /// background); more than 1 in 100 is an image left behind.
    func leftoverProblems(in shot: XWDScreenshot) -> [String] {
        let fill = Self.over(theme.maskFill, FlatScene.object, opacity: Self.fillOpacity)
        var total = 0
        var left: [(x: Int, y: Int, expected: RGB, got: RGB)] = []
        for p in samples {
            guard let photo = FlatScene.flatColor(p.imageX, p.imageY) else { continue }
            total += 1
            let got = shot[p.x, p.y]
            if close(got, photo) { left.append((p.x, p.y, photo, got)) }
            else if photo == FlatScene.object && close(got, fill) { left.append((p.x, p.y, fill, got)) }
        }
        return left.count * 100 <= total ? [] : Self.summary("still show the photo or the mask after segterm exited", left, of: total)
    }

    /// The photo's colour at a sample on a flat region, and inside the disc the mask fill over
    /// it: what the sample shows while the images are on the screen (nil: near an edge).
    func imageColors(at p: Sample) -> [RGB]? {
        guard let photo = FlatScene.flatColor(p.imageX, p.imageY) else { return nil }
        return photo == FlatScene.object ? [photo, Self.over(theme.maskFill, photo, opacity: Self.fillOpacity)] : [photo]
    }

    /// The colour most of `points` show, and on how many.
    static func commonest(_ points: [Sample], in shot: XWDScreenshot) -> (color: RGB, count: Int) {
        var counts: [RGB: Int] = [:]
        for p in points { counts[shot[p.x, p.y], default: 0] += 1 }
        return counts.max { $0.value < $1.value }.map { ($0.key, $0.value) } ?? (RGB(0, 0, 0), 0)
    }

    /// With the help box open (`?`): the images are off the screen and the box is drawn.
    /// - Inside the box (sample points 2 pixels or more in from its edge): at most 1 in 50 shows
    ///   the photo's or the mask's colour (kitty's anti-aliased text can match the grey square);
    ///   3 in 5 or more share one colour, the box's background (whatever the terminal's colours
    ///   make of the theme's: black in xterm's 8), which is not the colour of the blank cells
    ///   around it; and 2% or more of its pixels differ from that background: its text.
    /// - Outside the box, in the image area (sixel: the screen cleared; kitty: the placements
    ///   deleted): at most 1 in 100 shows the photo's or the mask's colour, and 98 in 100 or more
    ///   show one colour, the blank cells'.
    /// - Neither the point marker at the click nor the mask's boundary on the disc's edge shows.
    func helpProblems(in shot: XWDScreenshot, click: (x: Int, y: Int)) -> [String] {
        let box = helpBox
        func inBox(_ p: Sample, margin: Int) -> Bool {
            p.x >= box.x0 + margin && p.x < box.x1 - margin && p.y >= box.y0 + margin && p.y < box.y1 - margin
        }
        let inside = samples.filter { inBox($0, margin: 2) }, outside = samples.filter { !inBox($0, margin: -2) }
        let boxName = "the help box (x \(box.x0)…\(box.x1 - 1), y \(box.y0)…\(box.y1 - 1))"
        guard inside.count >= 200, outside.count >= 200 else {
            return ["\(boxName) has \(inside.count) sample points of the image inside it and \(outside.count) outside: too few to judge"]
        }
        /// The points on flat regions, and those of them that show the photo's or the mask's colour.
        func showingImage(_ points: [Sample]) -> (total: Int, shown: [(x: Int, y: Int, expected: RGB, got: RGB)]) {
            var total = 0
            var shown: [(x: Int, y: Int, expected: RGB, got: RGB)] = []
            for p in points {
                guard let colors = imageColors(at: p) else { continue }
                total += 1
                let got = shot[p.x, p.y]
                if let match = colors.first(where: { close(got, $0) }) { shown.append((p.x, p.y, match, got)) }
            }
            return (total, shown)
        }
        var problems: [String] = []
        // The image over the box or around it is reported as such, not also as a box not drawn
        // or blank cells of the wrong colour.
        let inBoxShown = showingImage(inside), outsideShown = showingImage(outside)
        let coveredBox = inBoxShown.shown.count * 50 > inBoxShown.total
        let imageAround = outsideShown.shown.count * 100 > outsideShown.total
        if coveredBox {
            problems += Self.summary("inside \(boxName) show the photo or the mask over it", inBoxShown.shown, of: inBoxShown.total)
        }
        if imageAround {
            problems += Self.summary("in the image area outside \(boxName) still show the photo or the mask", outsideShown.shown,
                                     of: outsideShown.total)
        }
        func distance(_ a: RGB, _ b: RGB) -> Int { max(abs(Int(a.r) - Int(b.r)), abs(Int(a.g) - Int(b.g)), abs(Int(a.b) - Int(b.b))) }
        let background = Self.commonest(inside, in: shot), blank = Self.commonest(outside, in: shot)
        let boxDrawn = background.count * 5 >= inside.count * 3 && distance(background.color, blank.color) >= 24
        if !coveredBox && !boxDrawn {
            problems.append("\(boxName) is not drawn: its commonest colour, \(background.color), is on \(background.count) of its "
                            + "\(inside.count) sample points; the blank cells around it are \(blank.color)")
        }
        if !coveredBox && boxDrawn {
            var pixels = 0, text = 0
            for y in (box.y0 + 2)..<(box.y1 - 2) {
                for x in (box.x0 + 2)..<(box.x1 - 2) {
                    pixels += 1
                    if distance(shot[x, y], background.color) > 60 { text += 1 }
                }
            }
            if text * 50 < pixels {
                problems.append("\(boxName) shows no text: \(text) of its \(pixels) pixels differ from its background \(background.color)")
            }
        }
        if !imageAround && blank.count * 100 < outside.count * 98 {
            let other = outside.filter { shot[$0.x, $0.y] != blank.color }
            problems.append("\(other.count) of \(outside.count) sample points in the image area outside \(boxName) are not the blank "
                            + "cells' colour, \(blank.color), e.g. "
                            + other.prefix(5).map { "(\($0.x), \($0.y)) \(shot[$0.x, $0.y])" }.joined(separator: "; "))
        }
        if let cross = cross(in: shot, near: click) {
            problems.append("the point marker is still drawn, centred at (\(cross.x), \(cross.y))")
        }
        let boundary = 24 - boundaryMisses(in: shot).count
        if boundary > 2 {
            problems.append("the mask's boundary colour is still on the disc's edge along \(boundary) of 24 rays")
        }
        return problems
    }

    /// The image list's title in the theme's panel colour, readable on the terminal's
    /// `background`: its text pixels (those not the background) differ from the background in
    /// luminance by at least 100 of 255 (pale grey on white, the bug, differs by about 50).
    func panelTextProblems(in shot: XWDScreenshot, background: RGB) -> [String] {
        guard let title = listTitle else { return ["no image list in the layout"] }
        func luminance(_ c: RGB) -> Double { 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b) }
        var text: [RGB] = []
        for y in title.y0..<title.y1 {
            for x in title.x0..<title.x1 where shot[x, y] != background { text.append(shot[x, y]) }
        }
        guard text.count >= 20 else { return ["the image list's title shows \(text.count) pixels apart from the background \(background)"] }
        let faint = text.filter { abs(luminance($0) - luminance(background)) < 100 }
        return faint.count * 5 > text.count
            ? ["\(faint.count) of \(text.count) text pixels of the image list's title are faint on the background \(background), e.g. \(faint[0])"]
            : []
    }

    /// After the help is closed: the photo and the mask are back as they were (`maskProblems`),
    /// at the same place (`edgeProblems`: the square's and the band's edges lie outside the disc).
    func restoredProblems(in shot: XWDScreenshot, click: (x: Int, y: Int)) -> [String] {
        maskProblems(in: shot, click: click) + edgeProblems(in: shot)
    }

    /// The angles (degrees) of the rays from the disc's centre along which no pixel within 8
    /// screen pixels of the true edge shows the boundary colour over the photo (the photo under
    /// a boundary pixel may be the disc, the ground or, at the box-filtered edge, a mix).
    func boundaryMisses(in shot: XWDScreenshot, rays: Int = 24) -> [Int] {
        let expected = stride(from: 0.0, through: 1.0, by: 0.1).map { t in
            Self.over(theme.maskBoundary, FlatScene.object.blended(with: FlatScene.ground, amount: t), opacity: theme.boundaryOpacity)
        }
        let centreX = Double(left) + (FlatScene.disc.x + 0.5 - image.originX) * image.scaleX
        let centreY = Double(top) + (FlatScene.disc.y + 0.5 - image.originY) * image.scaleY
        let radius = FlatScene.disc.radius * image.scaleX  // square pixels: scaleX == scaleY
        return (0..<rays).compactMap { k in
            let angle = Double(k) * 2 * Double.pi / Double(rays)
            let found = stride(from: radius - 8, through: radius + 8, by: 0.5).contains { t in
                let got = shot[Int((centreX + t * cos(angle)).rounded(.down)), Int((centreY + t * sin(angle)).rounded(.down))]
                return expected.contains { close(got, $0) }
            }
            return found ? nil : k * 360 / rays
        }
    }

    /// The centre of the positive point's cross (the mean position of its colour's pixels within
    /// 20 pixels of `near`), or nil when fewer than 10 such pixels are there (a full cross has 33).
    func cross(in shot: XWDScreenshot, near: (x: Int, y: Int)) -> (x: Double, y: Double)? {
        var sx = 0, sy = 0, n = 0
        for y in (near.y - 20)...(near.y + 20) {
            for x in (near.x - 20)...(near.x + 20) where close(shot[x, y], theme.positivePoint) {
                sx += x; sy += y; n += 1
            }
        }
        return n >= 10 ? (Double(sx) / Double(n), Double(sy) / Double(n)) : nil
    }
}

// MARK: - X11: the virtual screen, the terminal, screenshots

/// The X11 programs the tests drive: a virtual screen, a graphics terminal (xterm for sixel,
/// kitty for the kitty protocol), a screenshot tool and a mouse and keyboard (the X test extension).
enum X11Tools {
    static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (path + ["/usr/bin", "/usr/local/bin"]).map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let xvfb = find("Xvfb"), xterm = find("xterm"), kitty = find("kitty"), xwd = find("xwd"), xdotool = find("xdotool")
    /// What the xterm test needs.
    static var available: Bool { xvfb != nil && xterm != nil && xwd != nil && xdotool != nil }
    /// What the kitty test needs.
    static var kittyAvailable: Bool { xvfb != nil && kitty != nil && xwd != nil && xdotool != nil }
}

/// A program left running while the test works; `stop` ends it: SIGTERM, so Xvfb removes its
/// lock file and socket, then SIGKILL if it has not gone within 3 s. Spawned with an empty
/// signal mask and default handlers (as `Subprocess` does): started with Foundation's `Process`,
/// Xvfb outlived SIGTERM (a child inherits the spawning thread's mask), was killed, and left
/// /tmp/.X<n>-lock and its socket behind on every run.
final class BackgroundProcess {
    let pid: pid_t
    private var reaped = false

    init(_ executable: String, _ arguments: [String], environment: [String: String], log: URL) throws {
        pid = try Subprocess.spawn(executable, arguments, environment: environment, stdout: log.path, stderr: nil)
    }

    /// Whether it has exited (reaping it if so).
    var hasExited: Bool {
        if !reaped {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            reaped = r == pid || (r == -1 && errno == ECHILD)
        }
        return reaped
    }

    func stop() {
        guard !hasExited else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while !hasExited && Date() < deadline { usleep(10_000) }
        guard !hasExited else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        reaped = true
    }

    deinit { stop() }
}

/// The terminal an `X11Workbench` runs segterm in.
enum X11Terminal {
    /// xterm as a VT340 with 256 colour registers (sixel), in the `fixed` font's 6×13-pixel
    /// cells, `columns` × `rows` of them.
    /// `background`: xterm's `-bg` (its own default is white, with black text).
    case xterm(columns: Int, rows: Int, background: String? = nil)
    /// kitty (the kitty graphics protocol; OpenGL, here Mesa's software renderer, on a screen with
    /// the GLX extension), its window `width` × `height` pixels with no padding, in whatever
    /// cell its default font has: the test reads the cell and the size in cells from
    /// `segterm doctor` and `stty size` run in the same window first (`kittyProbe`).
    case kitty(width: Int, height: Int)

    var name: String {
        switch self {
        case .xterm: "xterm"
        case .kitty: "kitty"
        }
    }
}

/// Xvfb on a display of its own with one terminal window at the screen's top-left running
/// `segterm open` on the workspace; the exit code goes to a file.
final class X11Workbench {
    let display: String
    let evidence: URL
    let terminal: X11Terminal
    let environment: [String: String]
    let command: [String]?
    let capture: Bool
    /// What the command printed, with `capture`.
    var output: String { (try? String(contentsOf: evidence.appendingPathComponent("stdout.txt"), encoding: .utf8)) ?? "" }
    private var xvfb: BackgroundProcess?
    private var window: BackgroundProcess?
    private var exitFile: URL { evidence.appendingPathComponent("open.rc") }
    /// kitty: what `stty size` and `segterm doctor` said in the window before `segterm open` ran.
    private var sttyFile: URL { evidence.appendingPathComponent("stty.txt") }
    private var doctorFile: URL { evidence.appendingPathComponent("doctor.txt") }

    /// `command`: segterm's arguments (default: `open WORKSPACE`). `capture`: its standard output
    /// goes to `output` instead of the terminal (for `doctor`; the terminal is still its /dev/tty).
    init(workspace: URL, evidence: URL, terminal: X11Terminal, command: [String]? = nil, capture: Bool = false) throws {
        self.evidence = evidence
        self.command = command
        self.capture = capture
        self.terminal = terminal
        display = ":\(Self.freeDisplay())"
        var env = ProcessInfo.processInfo.environment
        // Nothing from the terminal the tests run in may reach the one they start.
        for key in ["TMUX", "TMUX_PANE", "NO_COLOR", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "KITTY_WINDOW_ID",
                    "KITTY_PID", "KITTY_PUBLIC_KEY", "KITTY_LISTEN_ON", "KITTY_INSTALLATION_DIR", "KITTY_CONFIG_DIRECTORY",
                    "WINDOWID", "XAUTHORITY", "WAYLAND_DISPLAY"] { env[key] = nil }
        env["DISPLAY"] = display
        var screen = ["-screen", "0", "1024x640x24"]
        if case let .xterm(columns, rows, _) = terminal {
            // Room for the window in the `fixed` font's 6×13 cells.
            screen = ["-screen", "0", "\(max(1024, columns * 6))x\(max(640, rows * 13))x24"]
        }
        if case .kitty = terminal {
            // kitty draws with OpenGL: Mesa's software renderer through GLX. (With GLX, xwd
            // writes 24-bit pixels; `XWDScreenshot` reads both.)
            env["LIBGL_ALWAYS_SOFTWARE"] = "1"
            env["KITTY_CACHE_DIRECTORY"] = evidence.appendingPathComponent("kitty-cache").path
            screen = ["-screen", "0", "1280x800x24", "+extension", "GLX"]
        }
        environment = env
        xvfb = try BackgroundProcess(X11Tools.xvfb!, [display] + screen + ["-nolisten", "tcp"],
                                     environment: env, log: evidence.appendingPathComponent("xvfb.log"))
        do {
            try startTerminal(workspace: workspace)
        } catch {
            stop()  // the caller's defer is not in place yet
            throw error
        }
    }

    private func startTerminal(workspace: URL) throws {
        // The server is up once a client can ask it its size.
        let deadline = Date().addingTimeInterval(10)
        while (try? Subprocess.run(X11Tools.xdotool!, ["getdisplaygeometry"], environment: environment, timeout: 5))?.status != 0 {
            guard Date() < deadline else { throw SegError(.unreadable, file: display, "Xvfb did not start: \(log)") }
            usleep(50_000)
        }
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let arguments = (command ?? ["open", workspace.path]).map(quoted).joined(separator: " ")
        let open = "\(quoted(Binary.path!)) \(arguments) "
            + (capture ? "> \(quoted(evidence.appendingPathComponent("stdout.txt").path)) " : "")
            + "2> \(quoted(evidence.appendingPathComponent("segterm.stderr").path)); echo $? > \(quoted(exitFile.path))"
        let windowLog = evidence.appendingPathComponent("\(terminal.name).log")
        switch terminal {
        case let .xterm(columns, rows, background):
            let colors = background.map { ["-bg", $0, "-fg", "white"] } ?? []
            window = try BackgroundProcess(
                X11Tools.xterm!,
                colors + ["-geometry", "\(columns)x\(rows)+0+0", "-bw", "0", "-b", "0", "-fa", "", "-fn", "fixed",
                 "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256", "-xrm", "XTerm*sixelScrolling: true",
                 "-e", "sh", "-c", "cd \(quoted(workspace.path)) && \(open)"],
                environment: environment, log: windowLog)
        case let .kitty(width, height):
            // kitty answers the terminal queries only once it is fully up, and segterm waits
            // 100 ms for the answers before falling back to text: hence the second's pause (and
            // doctor's own queries before `open`'s). After segterm exits the window stays, so the
            // screen can show whether its images went with it; `stop` closes it.
            let command = "sleep 1; cd \(quoted(workspace.path)) && stty size > \(quoted(sttyFile.path)); "
                + "\(quoted(Binary.path!)) doctor > \(quoted(doctorFile.path)) 2>&1; echo \"doctor exit $?\" >> \(quoted(doctorFile.path)); "
                + open + "; exec sleep 600"
            window = try BackgroundProcess(
                X11Tools.kitty!,
                ["--config", "NONE", "-o", "remember_window_size=no", "-o", "initial_window_width=\(width)",
                 "-o", "initial_window_height=\(height)", "-o", "window_padding_width=0", "-o", "placement_strategy=top-left",
                 "-o", "cursor_blink_interval=0", "-o", "enable_audio_bell=no", "-o", "update_check_interval=0",
                 "-o", "linux_display_server=x11", "sh", "-c", command],
                environment: environment, log: windowLog)
        }
    }

    /// Display numbers this process has handed out: the xterm and kitty suites run in parallel,
    /// and both would otherwise pick the same number before either server has made its lock file.
    private nonisolated(unsafe) static var handedOut: Set<Int> = []
    private static let handing = NSLock()

    /// A display number from the process id, past any in use.
    static func freeDisplay() -> Int {
        handing.lock()
        defer { handing.unlock() }
        var n = 100 + Int(getpid() % 800)
        while handedOut.contains(n) || FileManager.default.fileExists(atPath: "/tmp/.X\(n)-lock")
            || FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") {
            n += 1
        }
        handedOut.insert(n)
        return n
    }

    /// The last lines of the logs, for failure messages.
    var log: String {
        ["segterm.stderr", "\(terminal.name).log", "xvfb.log"].map { name in
            "\(name): " + tail(name, lines: 5).joined(separator: " | ")
        }.joined(separator: "; ")
    }

    /// The last `lines` lines of a file in the evidence folder.
    func tail(_ name: String, lines: Int) -> [String] {
        let text = (try? String(contentsOf: evidence.appendingPathComponent(name), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).map(String.init)
    }

    /// What kitty's window said before segterm opened: `stty size` (rows, columns) and
    /// `segterm doctor`'s report (its graphics mode and the cell in pixels).
    struct KittyProbe {
        let rows: Int, columns: Int
        let graphics: String?
        let cell: PixelSize?
        let doctor: String
    }

    /// Why the terminal gave the test nothing to look at.
    enum StartFailure: Error {
        /// The terminal exited before running anything: kitty without OpenGL, most likely.
        case exited(log: String)
        /// No window of the terminal's on the screen by the deadline.
        case noWindow(log: String)
        /// The window is there but the shell in it did not get through `stty` and `doctor`.
        case stalled(log: String)
    }

    /// kitty's size in cells and `segterm doctor`'s report in it, once doctor has run (within
    /// `seconds`).
    func kittyProbe(seconds: Double) throws -> KittyProbe {
        let deadline = Date().addingTimeInterval(seconds)
        var doctor = ""
        while true {
            doctor = (try? String(contentsOf: doctorFile, encoding: .utf8)) ?? ""
            if doctor.contains("doctor exit") { break }
            if window?.hasExited == true {
                // Exited before or while running the command: no shell output means kitty never
                // opened its window.
                if !FileManager.default.fileExists(atPath: sttyFile.path) {
                    throw StartFailure.exited(log: "kitty.log: " + tail("kitty.log", lines: 5).joined(separator: " | "))
                }
                throw StartFailure.stalled(log: "kitty exited while segterm doctor ran: \(log)")
            }
            if Date() >= deadline {
                if windowGeometry() == nil { throw StartFailure.noWindow(log: log) }
                throw StartFailure.stalled(log: "no `segterm doctor` report within \(Int(seconds)) s (doctor.txt: \(doctor)): \(log)")
            }
            usleep(100_000)
        }
        let size = ((try? String(contentsOf: sttyFile, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard size.count == 2 else { throw StartFailure.stalled(log: "`stty size` in kitty said \(size): \(log)") }
        func value(_ label: String) -> String? {
            doctor.split(separator: "\n").first { $0.hasPrefix(label + " ") }
                .map { $0.dropFirst(label.count).trimmingCharacters(in: .whitespaces) }
        }
        // "cell          9x18 pixels"
        let cell = value("cell").flatMap { text -> PixelSize? in
            let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            return numbers.count >= 2 ? PixelSize(width: numbers[0], height: numbers[1]) : nil
        }
        return KittyProbe(rows: size[0], columns: size[1], graphics: value("graphics"), cell: cell, doctor: doctor)
    }

    /// The terminal's top-level window on the screen (x, y, width, height), nil when there is none.
    func windowGeometry() -> (x: Int, y: Int, width: Int, height: Int)? {
        let className = terminal.name == "kitty" ? "kitty" : "XTerm"
        guard let search = try? Subprocess.run(X11Tools.xdotool!, ["search", "--onlyvisible", "--class", className],
                                               environment: environment, timeout: 5),
              search.status == 0, let id = search.stdout.split(separator: "\n").first,
              let geometry = try? Subprocess.run(X11Tools.xdotool!, ["getwindowgeometry", "--shell", String(id)],
                                                 environment: environment, timeout: 5),
              geometry.status == 0 else { return nil }
        var values: [String: Int] = [:]
        for line in geometry.stdout.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2, let v = Int(kv[1]) { values[String(kv[0])] = v }
        }
        guard let x = values["X"], let y = values["Y"], let w = values["WIDTH"], let h = values["HEIGHT"] else { return nil }
        return (x, y, w, h)
    }

    /// A screenshot of the whole screen, kept in the evidence folder as `name`.
    func screenshot(_ name: String) throws -> XWDScreenshot {
        let file = evidence.appendingPathComponent(name)
        let result = try Subprocess.run(X11Tools.xwd!, ["-root", "-silent", "-out", file.path], environment: environment, timeout: 10)
        guard result.status == 0 else { throw SegError(.unreadable, file: file.path, "xwd failed: \(result.stderr)") }
        return try XWDScreenshot(contentsOf: file)
    }

    /// Screenshots until `ready` holds or `seconds` pass (or, unless `afterExit`, segterm exits);
    /// the last one.
    func waitForScreen(_ name: String, seconds: Double, afterExit: Bool = false, _ ready: (XWDScreenshot) -> Bool) throws -> XWDScreenshot {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let shot = try screenshot(name)
            if ready(shot) || Date() >= deadline || (!afterExit && exitCode() != nil) { return shot }
            usleep(150_000)
        }
    }

    func click(x: Int, y: Int) throws {
        let result = try Subprocess.run(X11Tools.xdotool!, ["mousemove", "\(x)", "\(y)", "click", "1"], environment: environment, timeout: 10)
        guard result.status == 0 else { throw SegError(.unreadable, file: "xdotool", result.stderr) }
    }

    /// A key to the window under the pointer (no window manager: X's focus follows the pointer).
    func key(_ name: String) throws {
        let result = try Subprocess.run(X11Tools.xdotool!, ["key", name], environment: environment, timeout: 10)
        guard result.status == 0 else { throw SegError(.unreadable, file: "xdotool", result.stderr) }
    }

    /// The step both terminals' tests take after the mask check: `?` opens the help box over the
    /// image, and a screenshot shows it drawn with the images off the screen (`helpProblems`);
    /// Esc closes it (in a short window the help scrolls with Space), and the photo and the mask come back where they were
    /// (`restoredProblems`). Polled against deadlines; the problems, each with its screenshot.
    func helpRoundTrip(_ screen: ScreenMapping, click: (x: Int, y: Int)) throws -> [(problem: String, screenshot: String)] {
        try key("question")
        var shot = try waitForScreen("help.xwd", seconds: 10) { screen.helpProblems(in: $0, click: click).isEmpty }
        var problems = screen.helpProblems(in: shot, click: click).map { ("with the help open (`?`): \($0)", "help.xwd") }
        if let rc = exitCode() { return problems + [("segterm exited with \(rc) while the help was open: \(log)", "help.xwd")] }
        try key("Escape")
        shot = try waitForScreen("help-closed.xwd", seconds: 10) { screen.restoredProblems(in: $0, click: click).isEmpty }
        problems += screen.restoredProblems(in: shot, click: click).map { ("after the help was closed (Esc): \($0)", "help-closed.xwd") }
        if let rc = exitCode() { problems.append(("segterm exited with \(rc) when the help was closed: \(log)", "help-closed.xwd")) }
        return problems
    }

    func exitCode() -> Int? {
        (try? String(contentsOf: exitFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func waitForExitCode(seconds: Double) -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let code = exitCode() { return code }
            usleep(50_000)
        }
        return exitCode()
    }

    func stop() {
        window?.stop()
        xvfb?.stop()
        window = nil
        xvfb = nil
    }
}

/// An X window dump (xwd): a header of big-endian 32-bit fields (its size first), a colour map
/// of 12-byte entries, then rows of pixels in the dump's byte order: 32 bits each (0x00RRGGBB,
/// as scripts/sixel-compare.py reads them) on a plain 24-bit TrueColor Xvfb screen, 24 bits each
/// on one with the GLX extension. The header's channel masks say where red, green and blue are.
struct XWDScreenshot {
    let width: Int, height: Int
    private let bytes: [UInt8]
    private let start: Int, bytesPerLine: Int, bytesPerPixel: Int, littleEndian: Bool
    /// Each channel's mask and the shift that brings it down to bits 0…7.
    private let channels: [(mask: UInt32, shift: UInt32)]

    init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        bytes = data
        guard data.count >= 100 else { throw SegError(.truncated, file: url.path, "shorter than an XWD header") }
        func field(_ k: Int) -> Int { data[(k * 4)..<(k * 4 + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let headerSize = field(0), bitsPerPixel = field(11), colors = field(19)
        width = field(4)
        height = field(5)
        littleEndian = field(7) == 0
        bytesPerLine = field(12)
        start = headerSize + colors * 12
        guard bitsPerPixel == 32 || bitsPerPixel == 24 else {
            throw SegError(.unsupported, file: url.path, "\(bitsPerPixel) bits per pixel, not 24 or 32")
        }
        bytesPerPixel = bitsPerPixel / 8
        channels = [field(14), field(15), field(16)].map { mask in
            let m = UInt32(truncatingIfNeeded: mask)
            return (m, UInt32(m == 0 ? 0 : m.trailingZeroBitCount))
        }
        guard channels.allSatisfy({ $0.mask >> $0.shift == 0xFF }) else {
            throw SegError(.unsupported, file: url.path, "colour masks \(channels.map { String($0.mask, radix: 16) }), not 8 bits each")
        }
        guard data.count >= start + bytesPerLine * height else { throw SegError(.truncated, file: url.path, "pixels cut short") }
    }

    /// The pixel at (x, y); black outside the screen.
    subscript(x: Int, y: Int) -> RGB {
        guard x >= 0, y >= 0, x < width, y < height else { return RGB(0, 0, 0) }
        let o = start + y * bytesPerLine + x * bytesPerPixel
        var value: UInt32 = 0
        for k in 0..<bytesPerPixel {
            let byte = UInt32(bytes[o + k])
            value |= littleEndian ? byte << (8 * UInt32(k)) : byte << (8 * UInt32(bytesPerPixel - 1 - k))
        }
        func channel(_ c: Int) -> UInt8 { UInt8(truncatingIfNeeded: (value & channels[c].mask) >> channels[c].shift) }
        return RGB(channel(0), channel(1), channel(2))
    }
}
