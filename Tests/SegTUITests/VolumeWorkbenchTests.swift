import Foundation
import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

/// The workbench on a volume data set (sample-data/medical): slices, planes, windows and cases
/// move as the keys say; accepted slice masks become a label volume with the source's header,
/// checked with our reader and, where /tmp/med-venv has it, with nibabel.
@Suite("the workbench on volumes", .serialized)
struct VolumeWorkbenchTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("sample-data/medical")
    static let nibabel = "/tmp/med-venv/bin/python"

    /// A copy of the sample (the output goes beside it) and the output folder.
    static func workspace() throws -> (data: URL, out: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-volume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let data = root.appendingPathComponent("medical")
        try FileManager.default.copyItem(at: sample, to: data)
        return (data, root.appendingPathComponent("out"))
    }

    static func session(_ data: URL, _ out: URL) throws -> WorkbenchSession {
        let config = WorkspaceConfig(images: data.path, predictions: [("a", data.appendingPathComponent("predictions/model-a").path)],
                                     output: out.path)
        let session = try WorkbenchSession(config: config, model: try ModelRegistry.segmenter(named: "grabcut", cache: nil),
                                           theme: .dark, rows: 30, columns: 100, colorMode: .none)
        session.settle()
        session.settle()  // the slice's labels are read on the evaluation queue after the image
        return session
    }

    static func key(_ c: Character, _ s: WorkbenchState) -> (WorkbenchState, [WorkbenchEffect]) { Workbench.reduce(s, .input(.character(c))) }

    @Test("a slice view maps display pixels to voxels and back, flips to the radiological view, stretches to square millimetres")
    func sliceView() throws {
        let size = [5, 4, 3]
        let volume = LabelVolume(geometry: VolumeGeometry(size: size, spacing: [1, 1, 2], affine: [Double](repeating: 0, count: 16)),
                                 voxels: (0..<60).map(UInt16.init))
        for orientation in ["LPS", "RAS", "LAI"] {
            for plane in VolumeSliceView.Plane.allCases {
                let view = VolumeSliceView(plane: plane, size: size, spacing: [1, 1, 2], orientation: orientation)
                for k in 0..<view.count {
                    let shown = try #require(view.extract(volume, slice: k))
                    #expect(shown.count == view.width * view.height)
                    for row in 0..<view.height {
                        for column in 0..<view.width {
                            let v = view.voxel(column: column, row: row, slice: k)
                            #expect(Int(shown[row * view.width + column]) == v[0] + 5 * (v[1] + 4 * v[2]))
                        }
                    }
                    // One voxel painted through the display comes back as that voxel alone.
                    let target = view.voxel(column: view.width - 1, row: 0, slice: k)
                    var mask = Mask(width: view.width, height: view.height)
                    let p = view.pixel(of: target)
                    mask[p.column, p.row] = true
                    var painted = LabelVolume(geometry: volume.geometry, voxels: [UInt16](repeating: 0, count: 60))
                    view.paste(mask, value: 7, into: &painted, slice: k)
                    #expect(painted.voxels.indices.filter { painted.voxels[$0] != 0 } == [target[0] + 5 * (target[1] + 4 * target[2])])
                }
            }
        }
        // LPS: no flips; RAS: x and y flipped in an axial view (right on the left, anterior on top), z flipped in coronal.
        let lps = VolumeSliceView(plane: .axial, size: size, spacing: [1, 1, 2], orientation: "LPS")
        #expect(lps.voxel(column: 0, row: 0, slice: 1) == [0, 0, 1])
        let ras = VolumeSliceView(plane: .axial, size: size, spacing: [1, 1, 2], orientation: "RAS")
        #expect(ras.voxel(column: 0, row: 0, slice: 1) == [4, 3, 1])
        let coronal = VolumeSliceView(plane: .coronal, size: size, spacing: [1, 1, 2], orientation: "RAS")
        #expect(coronal.voxel(column: 0, row: 0, slice: 2) == [4, 2, 2])  // superior (z = 2) at the top
        // 2 mm slices over 1 mm pixels: coronal and sagittal planes show each voxel row twice.
        #expect((coronal.width, coronal.height) == (5, 6))
        #expect((lps.width, lps.height) == (5, 4))
    }

    @Test("a Decathlon folder and a flat folder of .nii.gz are found, with dataset.json's classes and CT modality")
    func detect() throws {
        let data = try #require(try VolumeDataSet.detect(folder: Self.sample.path, groundTruth: nil, predictions: []))
        #expect(data.cases.map(\.name) == ["case_000", "case_001", "case_002"])
        #expect(data.classes == ["background", "liver", "tumour", "bone"])
        #expect(data.isCT)
        #expect(data.cases[0].labels?.hasSuffix("labelsTr/case_000.nii.gz") == true)
        #expect(data.cases[0].size == [48, 40, 20] && data.cases[0].orientation == "LPS")
        #expect(data.entries.count == 3 * (48 + 40 + 20))
        // A flat folder with no dataset.json: no classes, not known to be CT (the percentile window first).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-flat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.sample.appendingPathComponent("imagesTr"), to: folder)
        let flat = try #require(try VolumeDataSet.detect(folder: folder.path, groundTruth: nil, predictions: []))
        #expect(flat.cases.map(\.name) == ["case_000", "case_001", "case_002"])
        #expect(!flat.isCT && flat.cases[0].labels == nil && flat.classes == ["background"])
        #expect(VolumeWindow.cycle(ct: false).first == .percentile)
        #expect(try VolumeDataSet.detect(folder: Self.sample.deletingLastPathComponent().appendingPathComponent("images").path,
                                         groundTruth: nil, predictions: []) == nil)
        // Hostile files: a header cut short, and dimensions past the reader's limit (32767² × 20), refused by name.
        let bytes = try Data(contentsOf: Self.sample.appendingPathComponent("labelsTr/case_000.nii.gz"))
        let plain = try NIfTI.read(Self.sample.appendingPathComponent("labelsTr/case_000.nii.gz").path)
        try Data(bytes.prefix(20)).write(to: folder.appendingPathComponent("case_000_0000.nii.gz"))
        #expect(throws: SegError.self) { try VolumeDataSet.detect(folder: folder.path, groundTruth: nil, predictions: []) }
        var header = plain.header
        header.dims[1] = 1 << 40
        header.dims[2] = 1 << 40
        var raw = header.encoded()
        raw += [UInt8](repeating: 0, count: 64)
        try Data(raw).write(to: folder.appendingPathComponent("case_000_0000.nii"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("case_000_0000.nii.gz"))
        do {
            _ = try VolumeDataSet.detect(folder: folder.path, groundTruth: nil, predictions: [])
            Issue.record("a header whose dimensions overflow was accepted")
        } catch let error as SegError {
            #expect(error.file.hasSuffix("case_000_0000.nii"), "\(error)")
        }
    }

    @Test("< > move through slices, v changes the plane through the cursor, w the window, ( ) the case; the status line says where")
    func navigation() throws {
        let (data, out) = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: data.deletingLastPathComponent()) }
        let session = try Self.session(data, out)
        defer { session.stop() }
        var s = session.state
        #expect(s.currentEntry?.name == "case_000 axial 10")
        #expect(s.image?.width == 48 && s.image?.height == 40)
        #expect(s.volume?.window == .softTissue)
        #expect(s.volume?.shown?.window == .ctSoftTissue)
        #expect(s.volume?.shown?.truth.map(\.className) == ["liver", "tumour", "bone"])
        #expect(s.volume?.shown?.predictions.first?.name == "a")
        let status = Workbench.statusText(s, layout: WorkbenchLayout(s))
        #expect(status.contains("case_000 (1/3) axial 11/20"), "\(status)")
        #expect(status.contains("W400/L40"), "\(status)")

        var effects: [WorkbenchEffect]
        (s, effects) = Self.key(">", s)
        #expect(s.currentEntry?.name == "case_000 axial 11")
        #expect(effects.contains { if case .open(_, let path) = $0 { path.hasSuffix("#axial/11") } else { false } })
        for _ in 0..<12 { (s, _) = Self.key("<", s) }
        #expect(s.currentEntry?.name == "case_000 axial 0")
        #expect(s.message == "first axial slice")

        // The cursor's voxel decides the next plane's slice.
        s = session.state
        s.cursor = PixelPoint(x: 17, y: 13)
        let voxel = try #require(s.volume?.dataSet.cases[0].view(.axial).voxel(column: 17, row: 13, slice: 10))
        // Through the planes and back: the cursor stays on the voxel (once each slice is loaded), so v v v returns.
        let names = ["case_000 coronal \(voxel[1])", "case_000 sagittal \(voxel[0])", "case_000 axial 10"]
        for name in names {
            (s, _) = Self.key("v", s)
            #expect(s.currentEntry?.name == name)
            let view = try #require(s.volume?.dataSet.cases[0].view(s.volume?.dataSet.locate(s.current)?.plane ?? .axial))
            (s, _) = Workbench.reduce(s, .imageLoaded(index: s.current, RGBImage(width: view.width, height: view.height)))
            let back = view.voxel(column: s.cursor.x, row: s.cursor.y, slice: s.volume?.dataSet.locate(s.current)?.slice ?? -1)
            #expect(back == voxel, "\(name)")
        }

        s = session.state
        (s, effects) = Self.key("w", s)
        #expect(s.volume?.window == .lung && s.image == nil)
        #expect(effects.contains { if case .open(let index, _) = $0 { index == s.current } else { false } })
        (s, _) = Self.key(")", s)
        #expect(s.currentEntry?.name == "case_001 axial 10")
        (s, _) = Self.key(")", s)
        (s, _) = Self.key(")", s)
        #expect(s.message == "last case")
        (s, _) = Self.key("(", s)
        #expect(s.currentEntry?.name == "case_001 axial 10")

        // The window reaches the model's image: lung shows soft tissue brighter than the soft-tissue window does.
        let before = try #require(session.state.image)
        session.send(.input(.character("w")))
        session.settle()
        session.settle()
        let lung = try #require(session.state.image)
        #expect(session.state.volume?.shown?.window == .ctLung)
        #expect(before != lung)
        #expect(Workbench.statusText(session.state, layout: WorkbenchLayout(session.state)).contains("W1500/L-600 lung"))
    }

    /// Prompts on the shown slice, and gives the chosen lane `mask` as the model's answer, then accepts it as the first class.
    static func accept(_ mask: Mask, _ session: WorkbenchSession) throws {
        session.send(.input(.character("+")))
        session.settle()
        let request = try #require(session.state.lanes[0].awaitedRequest)
        session.send(.result(lane: 0, request: request, [Candidate(mask: mask, score: 1)], milliseconds: 1))
        session.send(.input(.key(.enter)))
        session.send(.input(.key(.enter)))
    }

    @Test("accepted axial and coronal masks become one label volume with the image's header, restored after a reopen")
    func acceptToVolume() throws {
        let (data, out) = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: data.deletingLastPathComponent()) }
        var session = try Self.session(data, out)
        let axial = try #require(session.state.volume?.shown?.truth.first { $0.value == 1 }?.mask)
        try Self.accept(axial, session)
        #expect(session.state.message == "accepted liver #1")
        session.send(.input(.character("v")))
        session.settle()
        session.settle()
        let coronalName = try #require(session.state.currentEntry?.name)
        let coronalSlice = try #require(Int(coronalName.split(separator: " ").last ?? ""))
        let coronal = try #require(session.state.volume?.shown?.truth.first { $0.value == 1 }?.mask)
        #expect(coronal.height == 56)  // 20 slices of 2.5 mm over 0.9 mm pixels
        try Self.accept(coronal, session)
        session.stop()

        let written = out.appendingPathComponent("labels/case_000.nii.gz").path
        let image = try NIfTI.read(data.appendingPathComponent("imagesTr/case_000_0000.nii.gz").path)
        let labels = try NIfTI.read(written)
        #expect(labels.header.dims == image.header.dims && labels.header.pixdim == image.header.pixdim)
        #expect(labels.header.srow == image.header.srow && labels.header.sformCode == image.header.sformCode)
        #expect(labels.header.quatern == image.header.quatern && labels.header.qoffset == image.header.qoffset)
        #expect(labels.affine == image.affine)
        // Exactly the ground truth's liver on the two slices, nothing elsewhere.
        let truth = try NIfTI.readLabels(data.appendingPathComponent("labelsTr/case_000.nii.gz").path)
        let volume = try labels.labels(file: written)
        var expected = [UInt16](repeating: 0, count: volume.voxels.count)
        for z in 0..<20 { for y in 0..<40 { for x in 0..<48 {
            let i = x + 48 * (y + 40 * z)
            if (z == 10 || y == coronalSlice) && truth.voxels[i] == 1 { expected[i] = 1 }
        } } }
        #expect(volume.voxels == expected)
        #expect(expected.contains(1))

        if FileManager.default.isExecutableFile(atPath: Self.nibabel) {
            let script = Self.sample.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/check_volume_output.py").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.nibabel)
            process.arguments = [script, data.appendingPathComponent("imagesTr/case_000_0000.nii.gz").path,
                                 data.appendingPathComponent("labelsTr/case_000.nii.gz").path, written, "1", "axial:10", "coronal:\(coronalSlice)"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            process.waitUntilExit()
            let report = try #require(try JSONSerialization.jsonObject(with: pipe.fileHandleForReading.readDataToEndOfFile()) as? [String: Any])
            for key in ["shape_equal", "zooms_equal", "affine_equal", "qform_equal", "sform_equal", "voxels_equal"] {
                #expect(report[key] as? Bool == true, "nibabel: \(key) in \(report)")
            }
        }

        // Reopened: the slice it was on, both objects, and the file written again from the journal
        // (as after a kill between a journal record and its write).
        let before = try Data(contentsOf: URL(fileURLWithPath: written))
        try FileManager.default.removeItem(atPath: written)
        session = try Self.session(data, out)
        defer { session.stop() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: written)) == before)
        #expect(session.state.currentEntry?.name == coronalName)
        let item = try #require(session.state.volume?.dataSet.cases[0])
        #expect(session.state.accepted[VolumeDataSet.slicePath(item.image, .axial, 10)]?.map(\.className) == ["liver"])
        #expect(session.state.accepted[VolumeDataSet.slicePath(item.image, .coronal, coronalSlice)]?.count == 1)
        // Deleting the coronal object rewrites the volume with the axial slice alone.
        session.send(.input(.character("\t")))
        session.send(.input(.character("d")))
        session.settle()
        let after = try NIfTI.readLabels(written)
        #expect(after.voxels.indices.allSatisfy { after.voxels[$0] == (($0 / (48 * 40)) == 10 && truth.voxels[$0] == 1 ? 1 : 0) })
    }
}
