import Foundation
import Testing
@testable import SegCore

/// The outputs speak the ground truth's language (#22 items 8 and 9): a class list in another
/// order than the ground truth's categories writes the ground truth's ids (matched by name), a
/// class the ground truth does not have is refused naming both files, and `file_name` is the
/// ground truth's (`images/x.png`), not the bare file name.
@Suite("Ground truth ids and file names in the outputs", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct GroundTruthIDsInTmuxTests {
    /// WorkbenchInTmuxTests' scenes with COCO ground truth: scene-1's disc is category 3 "blob";
    /// category 7 "other" has no annotation. The class list puts "other" first.
    static func workspace(classes: String) throws -> URL {
        let root = try WorkbenchInTmuxTests.workspace()
        var disc = Mask(width: 120, height: 90)
        for y in 0..<90 { for x in 0..<120 { disc[x, y] = (x - 70) * (x - 70) + (y - 45) * (y - 45) <= 20 * 20 } }
        let rle = try RLE(mask: disc)
        let coco: [String: Any] = [
            "images": [["id": 11, "file_name": "images/scene-1.png", "width": 120, "height": 90],
                       ["id": 12, "file_name": "images/scene-2.png", "width": 120, "height": 90]],
            "annotations": [["id": 1, "image_id": 11, "category_id": 3, "iscrowd": 0, "area": rle.area, "bbox": rle.boundingBox,
                             "segmentation": ["size": [90, 120], "counts": rle.compressedString]]],
            "categories": [["id": 3, "name": "blob"], ["id": 7, "name": "other"]],
        ]
        try JSONSerialization.data(withJSONObject: coco).write(to: root.appendingPathComponent("instances.json"))
        try Data(classes.utf8).write(to: root.appendingPathComponent("classes.txt"))
        try Data("""
            images = "images"
            classes = "classes.txt"
            output = "out"
            ground_truth = "instances.json"
            model = "grabcut"
            """.utf8).write(to: root.appendingPathComponent("segterm.toml"))
        return root
    }

    @Test("classes.txt in another order: the accepted blob is written with the ground truth's id 3 and file_name images/scene-1.png")
    func idsByName() throws {
        let root = try Self.workspace(classes: "background\nother\nblob\n")
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-gtids-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(WorkbenchInTmuxTests.columns)", "-y", "\(WorkbenchInTmuxTests.rows)",
                      "'\(Binary.path!)' open '\(root.path)'; echo EXITED $?; sleep 60"])
        _ = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        try WorkbenchInTmuxTests.click(session, PixelPoint(x: 70, y: 45))
        _ = try Tmux.waitFor(session) { $0.contains("done in") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "-l", "blob"])
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accepted blob #1") }
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("out/instances.json"))) as? [String: Any]
        let annotation = (coco?["annotations"] as? [[String: Any]])?.first
        #expect(annotation?["category_id"] as? Int == 3, "\(String(describing: annotation))")
        let image = (coco?["images"] as? [[String: Any]])?.first
        #expect(image?["file_name"] as? String == "images/scene-1.png", "\(String(describing: image))")
        let categories = (coco?["categories"] as? [[String: Any]])?.map { "\($0["id"] ?? "") \($0["name"] ?? "")" }
        #expect(categories == ["3 blob", "7 other"], "\(String(describing: categories))")
        // The label map holds the same id.
        let labels = try ImageFile.read(root.appendingPathComponent("out/labels/scene-1.png").path).labelMap()
        #expect(labels.labels[45 * 120 + 70] == 3)
    }

    @Test("a class the ground truth does not name (a typo) is refused: exit 1, a message naming both files")
    func conflict() throws {
        let root = try Self.workspace(classes: "background\nblbo\n")
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-gtconflict-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "200", "-y", "20",
                      "'\(Binary.path!)' open '\(root.path)'; echo EXITED $?; sleep 60"])
        let screen = try Tmux.waitFor(session) { $0.contains("EXITED") }.replacingOccurrences(of: "\n", with: "")
        #expect(screen.contains("EXITED 1"), "\(screen)")
        #expect(screen.contains("classes.txt") && screen.contains("instances.json") && screen.contains("blbo"), "\(screen)")
    }
}
