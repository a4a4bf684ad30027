import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// The workbench on sample-data/medical as a person uses it: the real binary in tmux opens the
/// Decathlon-style folder on the first case's middle axial slice, moves through slices, a click
/// on the spine makes a graph-cut mask that is accepted as "bone", the process is killed with
/// SIGKILL, reopened (the work is back), and the label volume written beside the folder holds the
/// mask on that slice, at the liver, with the image's header.
@Suite("segterm open on volumes in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct VolumeWorkbenchInTmuxTests {
    static let columns = 100, rows = 30

    /// The cell (1-based, as SGR reports it) showing pixel `p` of a `width` × `height` slice; the
    /// image list is hidden in volume sessions.
    static func cell(_ p: PixelPoint, width: Int, height: Int) throws -> (column: Int, row: Int) {
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelName: "")
        s.image = RGBImage(width: width, height: height)
        s.display = .textDefault
        s.showList = false
        let cell = try #require(WorkbenchLayout(s).cell(for: p))
        return (cell.column + 1, cell.row + 1)
    }

    func start(_ session: String, _ folder: URL) throws {
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(Self.columns)", "-y", "\(Self.rows)",
                      "'\(Binary.path!)' open '\(folder.path)'; echo EXITED $?; sleep 60"])
    }

    func keys(_ session: String, _ keys: String...) throws { try Tmux.run(["send-keys", "-t", session] + keys) }

    @Test("open, move through slices, click the spine, accept, kill -9, reopen, quit: the label volume holds the mask")
    func promptAcceptKillReopen() throws {
        let root = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("medical")
        try FileManager.default.copyItem(at: Binary.repositoryRoot.appendingPathComponent("sample-data/medical"), to: folder)
        let session = "segterm-e2e-volume-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, folder)
        let opened = try Tmux.waitFor(session) { $0.contains("grabcut: ready") && $0.contains("axial 11/20") && $0.contains("W400") }
        let status = WorkbenchInTmuxTests.statusLine(opened)
        #expect(status.contains("case_000 (1/3) axial 11/20") && status.contains("W400/L40"), "\(status)")
        try keys(session, ">")
        _ = try Tmux.waitFor(session) { $0.contains("axial 12/20") && $0.contains("grabcut: ready") }
        try keys(session, "<")
        _ = try Tmux.waitFor(session) { $0.contains("axial 11/20") && $0.contains("grabcut: ready") }

        // The spine's voxel nearest its centre on slice z = 10, where the display shows it. (The
        // liver is 20 HU above the body around it under 8 HU of noise: one click's graph cut takes
        // more than the liver there, as it would for a person.)
        let truth = try NIfTI.readLabels(folder.appendingPathComponent("labelsTr/case_000.nii.gz").path)
        let (nx, ny) = (truth.geometry.size[0], truth.geometry.size[1])
        let spine = (0..<(nx * ny)).filter { truth.voxels[10 * nx * ny + $0] == 3 }.map { [$0 % nx, $0 / nx, 10] }
        let mean = spine.reduce([0.0, 0.0]) { [$0[0] + Double($1[0]), $0[1] + Double($1[1])] }.map { $0 / Double(spine.count) }
        let target = try #require(spine.min { a, b in
            pow(Double(a[0]) - mean[0], 2) + pow(Double(a[1]) - mean[1], 2) < pow(Double(b[0]) - mean[0], 2) + pow(Double(b[1]) - mean[1], 2)
        })
        let image = try NIfTI.read(folder.appendingPathComponent("imagesTr/case_000_0000.nii.gz").path)
        let view = VolumeSliceView(plane: .axial, size: image.geometry.size, spacing: image.geometry.spacing,
                                   orientation: image.geometry.orientation)
        let p = view.pixel(of: target)
        let (column, row) = try Self.cell(PixelPoint(x: p.column, y: p.row), width: view.width, height: view.height)
        // The bone window (w: soft tissue, lung, bone) is the image the model sees.
        try keys(session, "w", "w")
        _ = try Tmux.waitFor(session) { $0.contains("W1800/L400 bone") && $0.contains("grabcut: ready") }
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(column);\(row)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(column);\(row)m"])
        let done = try Tmux.waitFor(session) { $0.contains("done in") }
        let shownArea = WorkbenchInTmuxTests.statusLine(done).components(separatedBy: " px").first?.split(separator: " ").last.flatMap { Int($0) }
        try keys(session, "Enter")
        // Waited for whole: a capture can catch the picker half drawn (its first lines only).
        let picker = try Tmux.waitFor(session) { $0.contains("accept as") && $0.contains("bone") && $0.contains("tumour") }
        #expect(picker.contains("liver") && picker.contains("tumour"))
        try keys(session, "b", "o", "n", "e", "Enter")
        let accepted = try Tmux.waitFor(session) { $0.contains("accepted bone #1") }
        #expect(accepted.contains("objects 1"), "\(WorkbenchInTmuxTests.statusLine(accepted))")
        // Through the coronal and sagittal planes at the cursor and back to the same axial slice.
        for plane in ["coronal", "sagittal", "axial 11/20"] {
            try keys(session, "v")
            _ = try Tmux.waitFor(session) { $0.contains(plane) && $0.contains("grabcut: ready") }
        }
        try keys(session, ">")
        _ = try Tmux.waitFor(session) { $0.contains("axial 12/20") && $0.contains("objects 0") }

        // Killed without warning; reopened, the slice and its object are back.
        let pid = try Tmux.run(["display-message", "-p", "-t", session, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Subprocess.run("/usr/bin/pkill", ["-KILL", "-P", pid, "-f", "segterm"], timeout: 10)
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 137"))
        try start(session, folder)
        let reopened = try Tmux.waitFor(session) { $0.contains("grabcut: ready") && $0.contains("axial 12/20") }
        // The window chosen before the kill is journalled too.
        #expect(WorkbenchInTmuxTests.statusLine(reopened).contains("W1800/L400 bone"), "\(WorkbenchInTmuxTests.statusLine(reopened))")
        try keys(session, "<")
        let back = try Tmux.waitFor(session) { $0.contains("grabcut: ready") && $0.contains("axial 11/20") }
        #expect(back.contains("objects 1"), "\(WorkbenchInTmuxTests.statusLine(back))")
        try keys(session, "q")
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))

        // Beside the folder (a plain folder's output): bone (3) on slice 10, nowhere else, with the image's header.
        let written = root.appendingPathComponent("medical-segterm-out/labels/case_000.nii.gz").path
        let labels = try NIfTI.read(written)
        #expect(labels.affine == image.affine && labels.header.dims == image.header.dims && labels.header.pixdim == image.header.pixdim)
        let volume = try labels.labels(file: written)
        let marked = volume.voxels.indices.filter { volume.voxels[$0] != 0 }
        #expect(!marked.isEmpty && marked.allSatisfy { $0 / (nx * ny) == 10 && volume.voxels[$0] == 3 })
        // The mask the status line measured, voxel for voxel (an axial slice of 0.9 × 0.9 mm is not
        // stretched), holding the clicked voxel and the spine around it (the classical graph cut
        // takes some of the body with it: this checks where the mask lands, not the model).
        #expect(marked.count == shownArea, "\(marked.count) voxels written, \(shownArea ?? -1) px shown")
        #expect(marked.contains(target[0] + nx * (target[1] + ny * 10)))
        let truthSlice = Set(spine.map { $0[0] + nx * $0[1] }), maskSlice = Set(marked.map { $0 % (nx * ny) })
        let recall = Double(truthSlice.intersection(maskSlice).count) / Double(truthSlice.count)
        #expect(recall > 0.9, "the mask holds \(recall) of the spine on slice 10")
    }
}
