import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// The workbench as a person uses it: the real binary in tmux, SGR mouse sequences and keys sent
/// with send-keys, the screen read back with capture-pane, the outputs read from disk.
@Suite("segterm open in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct WorkbenchInTmuxTests {
    static let columns = 100, rows = 30

    /// A workspace with two scenes (a bright disc on a dark textured background) and a class list.
    static func workspace() throws -> URL {
        let root = Binary.temporaryFolder()
        let images = root.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for (n, (cx, cy)) in [(70, 45), (50, 40)].enumerated() {
            var image = RGBImage(width: 120, height: 90)
            var rng = SeededGenerator(seed: UInt64(n + 1))
            for y in 0..<90 {
                for x in 0..<120 {
                    let inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 20 * 20
                    let noise = UInt8(rng.next() % 30)
                    image[x, y] = inside ? (200 + noise / 2, 60 + noise, 40) : (30 + noise, 50 + noise, 35 + noise)
                }
            }
            try ImageFile.writePNG(image, to: images.appendingPathComponent("scene-\(n + 1).png").path)
        }
        // Ground truth for the first scene only: its disc as a binary mask.
        let truth = root.appendingPathComponent("truth")
        try FileManager.default.createDirectory(at: truth, withIntermediateDirectories: true)
        try ImageFile.writePNG(disc(), to: truth.appendingPathComponent("scene-1.png").path)
        let toml = """
            images = "images"
            classes = ["background", "blob", "other"]
            output = "out"
            ground_truth = "truth"
            model = "grabcut"
            """
        try Data(toml.utf8).write(to: root.appendingPathComponent("segterm.toml"))
        return root
    }

    /// A fresh copy of sample-data (the workbench writes its outputs beside it), without old outputs.
    static func sampleDataCopy() throws -> URL {
        let sample = Binary.temporaryFolder().appendingPathComponent("sample-data")
        try FileManager.default.copyItem(at: Binary.repositoryRoot.appendingPathComponent("sample-data"), to: sample)
        try? FileManager.default.removeItem(at: sample.appendingPathComponent("segterm-out"))
        return sample
    }

    /// The first scene's object: a disc of radius 20 around (70, 45).
    static func disc() -> Mask {
        var disc = Mask(width: 120, height: 90)
        for y in 0..<90 { for x in 0..<120 where (x - 70) * (x - 70) + (y - 45) * (y - 45) <= 400 { disc[x, y] = true } }
        return disc
    }

    /// The cell (1-based, as SGR reports it) that shows image pixel `p` at the fitted zoom.
    static func sgrCell(_ p: PixelPoint, imageWidth: Int = 120, imageHeight: Int = 90, predictionSets: Int = 0) -> (column: Int, row: Int) {
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelName: "")
        s.image = RGBImage(width: imageWidth, height: imageHeight)
        s.display = .textDefault  // what `segterm open` draws with in tmux
        s.predictions = (0..<predictionSets).map { PredictionColumn(name: "set \($0)") }
        let cell = WorkbenchLayout(s).cell(for: p)!
        return (cell.column + 1, cell.row + 1)
    }

    static func click(_ session: String, _ p: PixelPoint, imageWidth: Int = 120, imageHeight: Int = 90, predictionSets: Int = 0) throws {
        let (column, row) = sgrCell(p, imageWidth: imageWidth, imageHeight: imageHeight, predictionSets: predictionSets)
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(column);\(row)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(column);\(row)m"])
    }

    func start(_ session: String, _ root: URL) throws {
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(Self.columns)", "-y", "\(Self.rows)",
                      "'\(Binary.path!)' open '\(root.path)'; echo EXITED $?; sleep 60"])
    }

    static func statusLine(_ screen: String) -> String {
        screen.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last { !$0.isEmpty }.map(String.init) ?? ""
    }

    @Test("click an object, accept it with a class, quit: the mask is on disk as a label map and COCO JSON")
    func clickAcceptQuit() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-open-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, root)
        let ready = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        #expect(ready.contains("1/2 scene-1.png  120x90  grabcut: ready"), "\(ready)")

        try Self.click(session, PixelPoint(x: 70, y: 45))
        let done = try Tmux.waitFor(session) { $0.contains("done in") }
        #expect(done.contains("1 pt"), "\(Self.statusLine(done))")
        // The ground truth has the disc: the status line compares the mask with it.
        let compared = try Tmux.waitFor(session) { $0.contains("GT IoU") }
        let shown = Self.statusLine(compared).components(separatedBy: "GT IoU ").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect((shown ?? 0) >= 0.9, "\(Self.statusLine(compared))")
        #expect(Self.statusLine(compared).contains(" object "), "\(Self.statusLine(compared))")
        #expect(done.contains(String(Character(Workbench.positiveGlyph))))

        try Tmux.run(["send-keys", "-t", session, "Enter"])
        // The whole frame: a capture can land while the picker's lines are still being drawn.
        let picker = try Tmux.waitFor(session) { $0.contains("accept as") && $0.contains("other") }
        #expect(picker.contains("blob") && picker.contains("other"))
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let accepted = try Tmux.waitFor(session) { $0.contains("accepted blob #1") }
        #expect(accepted.contains("objects 1"), "\(Self.statusLine(accepted))")

        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))

        // The disc is 1257 pixels (radius 20); the graph cut should find most of it and little else.
        let labels = try ImageFile.read(root.appendingPathComponent("out/labels/scene-1.png").path).labelMap()
        let blob = labels.mask(of: 1)
        let iou = try blob.iou(with: Self.disc())
        #expect(iou > 0.9, "IoU \(iou)")
        let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("out/instances.json"))) as? [String: Any]
        let annotations = coco?["annotations"] as? [[String: Any]]
        #expect(annotations?.count == 1)
        #expect(annotations?.first?["area"] as? Int == blob.area)
    }

    @Test("README's first command: sample-data opens with its ground truth; a click on a cell is compared with it and kept")
    func sampleData() throws {
        let sample = try Self.sampleDataCopy()
        defer { try? FileManager.default.removeItem(at: sample.deletingLastPathComponent()) }
        // The largest true object of the first image, from the sample's COCO file: click its box's centre.
        let coco = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: sample.appendingPathComponent("instances.json"))) as? [String: Any])
        let images = try #require(coco["images"] as? [[String: Any]])
        let first = try #require(images.first { ($0["file_name"] as? String)?.hasSuffix("/cells-01.png") == true })
        let objects = try #require(coco["annotations"] as? [[String: Any]])
            .filter { $0["image_id"] as? Int == first["id"] as? Int && $0["iscrowd"] as? Int != 1 }
        let largest = try #require(objects.max { ($0["area"] as? Double ?? 0) < ($1["area"] as? Double ?? 0) })
        let box = try #require(largest["bbox"] as? [Double])
        let centre = PixelPoint(x: Int(box[0] + box[2] / 2), y: Int(box[1] + box[3] / 2))

        let session = "segterm-e2e-sample-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, sample)
        let ready = try Tmux.waitFor(session) { $0.contains("grabcut: ready") && $0.contains("GT ") }
        #expect(Self.statusLine(ready).contains("1/6 cells-01.png  480x360"), "\(Self.statusLine(ready))")
        #expect(Self.statusLine(ready).contains("GT \(objects.count) obj"), "\(Self.statusLine(ready))")
        // The list shows each prediction set's per-image F1, the same numbers `segterm compare` prints.
        let listed = try Tmux.waitFor(session) { $0.contains("per image: F1@.5") && !$0.contains("\u{2026}") }
        let compare = try Binary.run(["compare", "--gt", sample.appendingPathComponent("instances.json").path,
                                      "--pred", sample.appendingPathComponent("predictions/model-a.json").path,
                                      "--pred", sample.appendingPathComponent("predictions/model-b.json").path, "--format", "json"])
        let perImage = try #require((try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any])?["perImage"] as? [[String: Any]])
        let row = try #require(perImage.first { ($0["image"] as? String)?.hasSuffix("cells-01.png") == true })
        func shown(_ v: Double) -> String { v >= 0.995 ? "1.0" : "." + String(format: "%02d", Int((v * 100).rounded())) }
        let line = listed.split(separator: "\n").first { $0.contains("cells-01.png") }.map(String.init) ?? ""
        let expected = " \(shown(row["a"] as? Double ?? -1))".leftPadded(to: 5) + " \(shown(row["b"] as? Double ?? -1))".leftPadded(to: 5)
        #expect(line.contains(expected), "\(line) should show \(expected)")
        #expect(listed.contains("A model-a") && listed.contains("B model-b"))

        try Self.click(session, centre, imageWidth: 480, imageHeight: 360, predictionSets: 2)
        let compared = try Tmux.waitFor(session) { $0.contains("GT IoU") }
        #expect(Self.statusLine(compared).contains("GT IoU "), "\(Self.statusLine(compared))")
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accepted ") }
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        let out = sample.appendingPathComponent("segterm-out")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("labels/cells-01.png").path))
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("instances.json"))) as? [String: Any]
        #expect((written?["annotations"] as? [Any])?.count == 1)
    }

    @Test("sample-data: the failure browser filtered to small cells opens one zoomed on its image; the metrics view shows the table")
    func failureBrowser() throws {
        let sample = try Self.sampleDataCopy()
        defer { try? FileManager.default.removeItem(at: sample.deletingLastPathComponent()) }
        let session = "segterm-e2e-failures-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, sample)
        _ = try Tmux.waitFor(session) { $0.contains("per image: F1@.5") && !$0.contains("\u{2026}") }

        try Tmux.run(["send-keys", "-t", session, "m"])
        let metrics = try Tmux.waitFor(session) { $0.contains("TIDE errors") }
        #expect(metrics.contains("Metrics: model-a"), "\(metrics)")
        #expect(metrics.contains(" cell ") && metrics.contains(" seed "))
        try Tmux.run(["send-keys", "-t", session, "m", "f", "s", "/"])
        try Tmux.run(["send-keys", "-t", session, "-l", "cell"])
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let browser = try Tmux.waitFor(session) { $0.contains("class: cell ") && $0.contains("size: small") }
        let rows = browser.split(separator: "\n").filter { $0.contains(" cell ") && $0.contains(" small ") && $0.contains(".png") }
        #expect(!rows.isEmpty, "\(browser)")
        // Every listed row is a small cell; open the first and expect its image and the failure line.
        #expect(!browser.split(separator: "\n").contains { $0.contains(" seed ") })
        let image = try #require(rows.first?.split(separator: " ").first { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") })
        // x writes the filtered rows as CSV and a contact sheet of crops.
        let shownCount = try #require(browser.split(separator: "\n").first { $0.contains(" shown") }?
            .split(separator: " ").drop { $0 != "model-a" }.dropFirst().first.flatMap { Int($0) })
        try Tmux.run(["send-keys", "-t", session, "x"])
        _ = try Tmux.waitFor(session) { $0.contains("wrote ") }
        let out = sample.appendingPathComponent("segterm-out")
        let csv = try String(contentsOf: out.appendingPathComponent("failures-model-a.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == shownCount + 1, "\(csv)")
        #expect(csv.split(separator: "\n").dropFirst().allSatisfy { $0.contains(",cell,small,") })
        let sheet = try ImageFile.read(out.appendingPathComponent("failures-model-a.png").path)
        #expect(sheet.width == 4 + min(shownCount, 6) * 164)
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let opened = try Tmux.waitFor(session) { Self.statusLine($0).contains("failure 1/") && Self.statusLine($0).contains(String(image)) }
        let status = Self.statusLine(opened)
        #expect(status.contains(String(image)) && status.contains("failure 1/") && status.contains(" cell small"), "\(status)")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
    }

    @Test("sample-data: the compare view shows both sets on the image where B loses most, and the class table with segterm compare's interval")
    func compareView() throws {
        let sample = try Self.sampleDataCopy()
        defer { try? FileManager.default.removeItem(at: sample.deletingLastPathComponent()) }
        let compare = try Binary.run(["compare", "--gt", sample.appendingPathComponent("instances.json").path,
                                      "--pred", sample.appendingPathComponent("predictions/model-a.json").path,
                                      "--pred", sample.appendingPathComponent("predictions/model-b.json").path, "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any])
        let worst = try #require((json["perImage"] as? [[String: Any]])?.first)
        let headline = try #require(json["headline"] as? [String: Any])
        let ci = try #require(headline["ci95"] as? [Double])

        let session = "segterm-e2e-compare-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, sample)
        _ = try Tmux.waitFor(session) { $0.contains("per image: F1@.5") && !$0.contains("\u{2026}") }
        try Tmux.run(["send-keys", "-t", session, "c"])
        let image = try #require((worst["image"] as? String)?.split(separator: "/").last.map(String.init))
        // The status line is the last row ncurses rewrites: a capture can fall between the panes and it.
        let panes = try Tmux.waitFor(session) { $0.contains("B model-b") && $0.contains("\u{0394} ") && Self.statusLine($0).contains(image) }
        #expect(Self.statusLine(panes).contains(image), "\(Self.statusLine(panes)) should show \(image)")
        #expect(panes.contains(String(format: "\u{0394} %+.3f", worst["delta"] as? Double ?? .nan)), "\(panes)")
        #expect(panes.contains("A model-a"))
        try Tmux.run(["send-keys", "-t", session, "Tab"])
        let classes = try Tmux.waitFor(session) { $0.contains("95% CI") }
        #expect(classes.contains(String(format: "95%% CI [%+.4f, %+.4f]", ci[0], ci[1])), "\(classes)")
        try Tmux.run(["send-keys", "-t", session, "c", "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
    }

    @Test("kill -9 in the middle of a session loses nothing: reopening restores objects and prompts")
    func crashRecovery() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-crash-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, root)
        _ = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        try Self.click(session, PixelPoint(x: 70, y: 45))
        _ = try Tmux.waitFor(session) { $0.contains("done in") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accepted blob #1") }
        // Next image, two prompts for the next object, then the process dies without warning.
        try Tmux.run(["send-keys", "-t", session, "]"])
        _ = try Tmux.waitFor(session) { $0.contains("2/2 scene-2.png") && $0.contains("grabcut: ready") }
        try Self.click(session, PixelPoint(x: 50, y: 40))
        try Self.click(session, PixelPoint(x: 55, y: 42))
        _ = try Tmux.waitFor(session) { $0.contains("2 pt") }
        let pid = try Tmux.run(["display-message", "-p", "-t", session, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Subprocess.run("/usr/bin/pkill", ["-KILL", "-P", pid, "-f", "segterm"], timeout: 10)
        let dead = try Tmux.waitFor(session) { $0.contains("EXITED") }
        #expect(dead.contains("EXITED 137"), "\(dead)")

        try start(session, root)
        let back = try Tmux.waitFor(session) { $0.contains("grabcut:") && $0.contains("2 pt") }
        #expect(back.contains("2/2 scene-2.png"), "\(Self.statusLine(back))")
        #expect(back.contains("2 pt"))
        try Tmux.run(["send-keys", "-t", session, "["])
        let first = try Tmux.waitFor(session) { $0.contains("1/2 scene-1.png") && $0.contains("objects 1") }
        #expect(first.contains("objects 1"), "\(Self.statusLine(first))")
        try Tmux.run(["send-keys", "-t", session, "q"])
    }

    @Test("a half-finished prompt stays on its image: click on image 1, ], q, reopen: image 2 is clean, image 1 has its point (#22 item 7)")
    func promptsStayWithTheirImage() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-drafts-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, root)
        _ = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        try Self.click(session, PixelPoint(x: 70, y: 45))
        _ = try Tmux.waitFor(session) { $0.contains("done in") && $0.contains("1 pt") }
        try Tmux.run(["send-keys", "-t", session, "]"])
        _ = try Tmux.waitFor(session) { $0.contains("2/2 scene-2.png") && $0.contains("grabcut: ready") }
        try Tmux.run(["send-keys", "-t", session, "q"])
        _ = try Tmux.waitFor(session) { $0.contains("EXITED") }

        try start(session, root)
        let reopened = try Tmux.waitFor(session) { $0.contains("2/2 scene-2.png") && $0.contains("grabcut: ready") }
        #expect(!Self.statusLine(reopened).contains(" pt "), "image 2 has image 1's prompt: \(Self.statusLine(reopened))")
        try Tmux.run(["send-keys", "-t", session, "["])
        let first = try Tmux.waitFor(session) { $0.contains("1/2 scene-1.png") && $0.contains("1 pt") }
        #expect(Self.statusLine(first).contains("1 pt"), "\(Self.statusLine(first))")
        try Tmux.run(["send-keys", "-t", session, "q"])
    }

    /// The shared random-weight MobileSAM when ../shared is there, else the repository's tiny SAM
    /// (random weights in the official format): either way a real checkpoint through the real loader.
    static var samCheckpoint: String {
        let shared = Binary.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/sam/mobile_sam_random.pt").path
        if FileManager.default.fileExists(atPath: shared) { return shared }
        return Binary.repositoryRoot.appendingPathComponent("Tests/SegModelsTests/Fixtures/tiny_sam/tiny_sam.pth").path
    }

    @Test("two models: one click reaches both panes, Tab chooses B, Enter keeps B's mask with its model recorded")
    func twoModels() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-ab-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        let (columns, rows) = (140, 30)
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(columns)", "-y", "\(rows)",
                      "SEGTERM_CACHE_DIR='\(root.path)/cache' '\(Binary.path!)' open '\(root.path)' --model grabcut --model '\(Self.samCheckpoint)'; echo EXITED $?; sleep 60"])
        let ready = try Tmux.waitFor(session, seconds: 60) { $0.contains("A grabcut  ready") && $0.contains("ready (prepared") && $0.contains(" B ") && !$0.contains("preparing") && !$0.contains("loading") }
        let sam = ready.components(separatedBy: " B ").dropFirst().first?.split(separator: " ").first.map(String.init) ?? ""
        #expect(!sam.isEmpty && sam != "grabcut", "\(ready)")

        // The disc's centre in pane A, where the layout of a two-model state puts it.
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelNames: ["grabcut", sam])
        s.image = RGBImage(width: 120, height: 90)
        s.display = .textDefault  // what `segterm open` draws with in tmux
        let layout = WorkbenchLayout(s)
        let cell = layout.pane(0).cell(for: PixelPoint(x: 70, y: 45))!
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)m"])
        let done = try Tmux.waitFor(session, seconds: 60) { $0.components(separatedBy: "done in").count == 4 }
        // Both headers and the status line report an answer; both panes show the point.
        let lines = done.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines.first ?? ""
        #expect(header.contains("A grabcut  done in") && header.contains("B \(sam)  done in"), "\(header)")
        #expect(header.contains("GT IoU"), "\(header)")
        // Each model's mask has an area (random SAM weights may give an empty mask: 0 px still counts).
        #expect(header.components(separatedBy: " px").count == 3, "\(header)")
        let point = String(Character(Workbench.positiveGlyph))
        let paneA = layout.paneAreas[0], paneB = layout.paneAreas[1]
        func paneText(_ area: CellRect) -> String {
            lines.dropFirst(area.row).prefix(area.rows).map { String($0.unicodeScalars.dropFirst(area.column).prefix(area.columns)) }.joined()
        }
        #expect(paneText(paneA).contains(point) && paneText(paneB).contains(point), "\(done)")

        try Tmux.run(["send-keys", "-t", session, "Tab"])
        _ = try Tmux.waitFor(session) { Self.statusLine($0).contains("Enter takes B") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let accepted = try Tmux.waitFor(session) { $0.contains("accepted blob #1 from \(sam)") }
        #expect(accepted.contains("objects 1"), "\(Self.statusLine(accepted))")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("out/instances.json"))) as? [String: Any]
        let annotations = coco?["annotations"] as? [[String: Any]]
        #expect(annotations?.count == 1 && annotations?.first?["segterm_model"] as? String == sam, "\(String(describing: annotations))")
        // Which weights made it: the checkpoint's file name and SHA-256, as sha256sum says (#22 item 9).
        let checkpoint = annotations?.first?["segterm_checkpoint"] as? [String: Any]
        let sum = try Subprocess.run("/usr/bin/sha256sum", [Self.samCheckpoint], timeout: 60).stdout.split(separator: " ").first.map(String.init)
        #expect(checkpoint?["file"] as? String == (Self.samCheckpoint as NSString).lastPathComponent, "\(String(describing: checkpoint))")
        #expect(checkpoint?["sha256"] as? String == sum, "\(String(describing: checkpoint)) vs \(sum ?? "")")
        let journal = try String(contentsOf: root.appendingPathComponent("out/journal.jsonl"), encoding: .utf8)
        #expect(journal.contains("\"model\":\"\(sam)\""), "\(journal)")
    }

    @Test("--debug-io: the status line counts the bytes a click sent to the terminal")
    func debugIO() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-io-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(Self.columns)", "-y", "\(Self.rows)",
                      "'\(Binary.path!)' open '\(root.path)' --debug-io; echo EXITED $?; sleep 60"])
        _ = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        try Self.click(session, PixelPoint(x: 70, y: 45))
        let done = try Tmux.waitFor(session) { $0.contains("done in") && $0.contains("since the last input") }
        let status = Self.statusLine(done)
        // The click's own frame and the mask's: more than the status line, less than a full redraw of every cell many times.
        let bytes = status.components(separatedBy: "B last frame, ").last?.split(separator: " ").first.flatMap { Int($0) } ?? -1
        #expect(bytes > 100 && bytes < 200_000, "\(status)")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
    }

    @Test("segterm doctor inside tmux: asks the terminal, says it is tmux and why it chose text, in well under a second")
    func doctor() throws {
        let session = "segterm-e2e-doctor-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                      "start=$(date +%s%N); '\(Binary.path!)' doctor; echo EXITED $? $(( ($(date +%s%N) - start) / 1000000 )) ms; sleep 60"])
        let screen = try Tmux.waitFor(session) { $0.contains("EXITED") }
        #expect(screen.contains("EXITED 0"), "\(screen)")
        #expect(screen.contains("tmux          yes") && screen.contains("allow-passthrough"), "\(screen)")
        // tmux answers the device-attributes query itself: the reasons say what it answered.
        #expect(screen.contains("device attributes"), "\(screen)")
        #expect(screen.contains("graphics      text") || screen.contains("graphics      sixel"), "\(screen)")
        let ms = screen.components(separatedBy: "EXITED 0 ").last?.split(separator: " ").first.flatMap { Int($0) } ?? 99_999
        #expect(ms < 2000, "doctor took \(ms) ms")
    }

    @Test("TERM=dumb and a tiny terminal are refused politely")
    func refusals() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-small-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        // The second run draws on the screen the first one printed to, so each is checked in turn.
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "30", "-y", "8",
                      "TERM=dumb '\(Binary.path!)' open '\(root.path)'; echo EXITED $?; read line; '\(Binary.path!)' open '\(root.path)'; sleep 60"])
        let dumb = try Tmux.waitFor(session) { $0.contains("EXITED") }
        #expect(dumb.contains("EXITED 1"), "\(dumb)")
        // The pane is 30 columns wide: the message wraps.
        #expect(dumb.replacingOccurrences(of: "\n", with: "").contains("needs a terminal with cursor addressing"), "\(dumb)")
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let small = try Tmux.waitFor(session) { $0.contains("segterm needs") }
        #expect(small.contains("segterm needs at least 40x12"), "\(small)")
        try Tmux.run(["send-keys", "-t", session, "q"])
    }
}

