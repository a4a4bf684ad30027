import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// Auto-labeling end to end with the real binary: `segterm autolabel` proposes masks from a
/// detector's boxes, then a person reviews them in the workbench in tmux (accept, reject, fix one
/// with the brush and one with a click, undo a delete), the process is killed, the review resumes,
/// and the outputs hold exactly the accepted and fixed objects.
@Suite("autolabel and review in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct AutolabelReviewInTmuxTests {
    static let columns = 150, rows = 36

    /// Boxes of a "detector" on the two scenes of `WorkbenchInTmuxTests.workspace()` (a disc of
    /// radius 20 at (70, 45) on scene 1, at (50, 40) on scene 2). The graph cut needs the whole
    /// object in its box, so scene 1's three boxes all hold the disc, with margins; the review
    /// accepts one, fixes one with the brush and rejects one. Scene 2's is fixed with a click.
    /// A box with nothing to cut gives no proposal, and the run says so.
    static let detections = """
        [{"image_id": 1, "category_id": 1, "bbox": [49, 24, 42, 42], "score": 0.9},
         {"image_id": 1, "category_id": 1, "bbox": [45, 20, 55, 52], "score": 0.7},
         {"image_id": 1, "category_id": 2, "bbox": [40, 15, 62, 60], "score": 0.4},
         {"image_id": 1, "category_id": 2, "bbox": [2, 2, 25, 18], "score": 0.3},
         {"file_name": "scene-2.png", "category_id": 1, "bbox": [29, 19, 42, 42], "score": 0.8}]
        """

    static func cell(_ p: PixelPoint) -> (column: Int, row: Int) {
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelName: "")
        s.image = RGBImage(width: 120, height: 90)
        s.display = .textDefault
        let cell = WorkbenchLayout(s).cell(for: p)!
        return (cell.column + 1, cell.row + 1)
    }

    func start(_ session: String, _ root: URL) throws {
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(Self.columns)", "-y", "\(Self.rows)",
                      "'\(Binary.path!)' open '\(root.path)' --proposals '\(root.path)/proposals.json'; echo EXITED $?; sleep 60"])
    }

    func keys(_ session: String, _ keys: String...) throws { try Tmux.run(["send-keys", "-t", session] + keys) }

    @Test("propose from boxes, accept, reject, fix with the brush and with a click, undo a delete, kill -9, resume, export")
    func proposeReviewExport() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(Self.detections.utf8).write(to: root.appendingPathComponent("dets.json"))
        // Image ids: without a COCO ground truth, the position in the folder from 1.
        let proposed = try Binary.run(["autolabel", root.path, "--boxes", root.path + "/dets.json", "--out", root.path + "/proposals.json"])
        #expect(proposed.status == 0, "\(proposed.stderr)")
        #expect(proposed.stdout.contains("4 proposals on 2 images (2 labelled now, 0 done before, 0 failed)"), "\(proposed.stdout)")
        #expect(proposed.stderr.contains("1 box gave an empty mask"), "\(proposed.stderr)")
        let again = try Binary.run(["autolabel", root.path, "--boxes", root.path + "/dets.json", "--out", root.path + "/proposals.json"])
        #expect(again.stdout.contains("(0 labelled now, 2 done before, 0 failed)"), "a rerun skips finished images: \(again.stdout)")

        let session = "segterm-e2e-review-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, root)
        let opened = try Tmux.waitFor(session) { $0.contains("grabcut: ready") && $0.contains("proposal 1/3") }
        #expect(opened.contains("set 0 accepted 0 rejected 0 fixed 4 left"), "\(WorkbenchInTmuxTests.statusLine(opened))")
        // Accept the disc as proposed.
        try keys(session, "y")
        _ = try Tmux.waitFor(session) { $0.contains("proposal 2/3") && $0.contains("image 1/0/0/2") }
        // The partial box: fixed by hand with the brush at the cursor (the image's centre, 60, 45).
        try keys(session, "B", "}", "}", "Space")
        _ = try Tmux.waitFor(session) { $0.contains("fixed by hand as #2") }
        try keys(session, "Escape")
        try keys(session, "x")
        _ = try Tmux.waitFor(session) { $0.contains("image 1/1/1/0") }
        // Delete object #2 (selected since the stroke? Esc dropped the brush, not the selection), then undo the delete.
        try keys(session, "d")
        _ = try Tmux.waitFor(session) { $0.contains("deleted #2") && $0.contains("objects 1") }
        try keys(session, "u")
        _ = try Tmux.waitFor(session) { $0.contains("undone") && $0.contains("objects 2") }
        // Next proposal: scene 2's, fixed with one click on the disc in its box.
        try keys(session, ".")
        _ = try Tmux.waitFor(session) { $0.contains("2/2 scene-2.png") && $0.contains("grabcut: ready") && $0.contains("proposal 1/1") }
        let (column, row) = Self.cell(PixelPoint(x: 50, y: 40))
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(column);\(row)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(column);\(row)m"])
        _ = try Tmux.waitFor(session) { $0.contains("done in") }
        try keys(session, "Enter")
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try keys(session, "Enter")
        let fixed = try Tmux.waitFor(session) { $0.contains("set 1 accepted 1 rejected 2 fixed 0 left") }
        #expect(fixed.contains("\u{2714}"), "the image list marks reviewed images")

        // Killed without warning: the review is in the journal.
        let pid = try Tmux.run(["display-message", "-p", "-t", session, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Subprocess.run("/usr/bin/pkill", ["-KILL", "-P", pid, "-f", "segterm"], timeout: 10)
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 137"))
        try start(session, root)
        let back = try Tmux.waitFor(session) { $0.contains("grabcut:") && $0.contains("set 1 accepted") }
        #expect(back.contains("set 1 accepted 1 rejected 2 fixed 0 left"), "\(WorkbenchInTmuxTests.statusLine(back))")
        try keys(session, "q")
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))

        // The exported COCO holds exactly the accepted and the fixed objects.
        let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("out/instances.json"))) as? [String: Any]
        let annotations = coco?["annotations"] as? [[String: Any]] ?? []
        #expect(annotations.count == 3, "\(annotations.count) objects")
        let disc = WorkbenchInTmuxTests.disc()
        let labels = try ImageFile.read(root.appendingPathComponent("out/labels/scene-1.png").path).labelMap()
        #expect(try labels.mask(of: 1).iou(with: disc) > 0.85)
        // The proposals file is a results file for eval as it stands.
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("proposals.json"))) as? [[String: Any]]
        #expect(results?.count == 4 && results?.allSatisfy { $0["segmentation"] != nil && $0["source"] != nil } == true)
    }
}
