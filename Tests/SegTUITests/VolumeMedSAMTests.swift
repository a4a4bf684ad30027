import Foundation
import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

/// The volume workbench with MedSAM (`medsam:` on the reduced fixture of
/// scripts/make_medsam_fixture.py), the window in the journal, and every prediction set drawn.
@Suite("volumes: MedSAM on the windowed slice, the window journalled, every prediction set drawn", .serialized)
struct VolumeMedSAMTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixture = repo.appendingPathComponent("Tests/SegModelsTests/Fixtures/medsam")
    static let medsam = "medsam:" + fixture.appendingPathComponent("medsam_reduced.pth").path

    static func session(_ data: URL, _ out: URL, model: String = "grabcut") throws -> WorkbenchSession {
        let config = WorkspaceConfig(images: data.path, predictions: [("a", data.appendingPathComponent("predictions/model-a").path),
                                                                      ("b", data.appendingPathComponent("predictions/model-b").path)],
                                     output: out.path)
        let session = try WorkbenchSession(config: config, model: try ModelRegistry.segmenter(named: model, cache: nil),
                                           theme: .dark, rows: 30, columns: 100, colorMode: .none)
        session.settle()
        session.settle()
        return session
    }

    @Test("the window chosen with w is journalled and comes back after a reopen (the models see it too)")
    func windowJournalled() throws {
        let (data, out) = try VolumeWorkbenchTests.workspace()
        defer { try? FileManager.default.removeItem(at: data.deletingLastPathComponent()) }
        var session = try Self.session(data, out)
        #expect(session.state.volume?.window == .softTissue)
        let soft = try #require(session.state.image)
        for _ in 0..<2 {
            session.send(.input(.character("w")))
            session.settle()
            session.settle()
        }
        #expect(session.state.volume?.window == .bone)
        let bone = try #require(session.state.image)
        #expect(bone != soft)
        let journal = try String(contentsOf: out.appendingPathComponent("journal.jsonl"), encoding: .utf8)
        #expect(journal.contains("\"window\""), "\(journal)")
        // No clean stop: the journal is all a restart has (as after kill -9).
        session = try Self.session(data, out)
        defer { session.stop() }
        #expect(session.state.volume?.window == .bone)
        #expect(session.state.volume?.shown?.window == .ctBone)
        #expect(session.state.image == bone)
        #expect(Workbench.statusText(session.state, layout: WorkbenchLayout(session.state)).contains("W1800/L400 bone"))

        // Replay alone: a window record sets the window; an unknown name (a newer journal) is ignored.
        var s = session.state
        Workbench.apply(.window(name: "lung"), to: &s)
        #expect(s.volume?.window == .lung)
        Workbench.apply(.window(name: "no-such-window"), to: &s)
        #expect(s.volume?.window == .lung)
        let record = WorkRecord.window(name: "percentile")
        #expect(try JSONDecoder().decode(WorkRecord.self, from: JSONEncoder().encode(record)) == record)
    }

    @Test("every --pred set is drawn over the slice, each named on the status line")
    func everyPredictionSet() throws {
        let (data, out) = try VolumeWorkbenchTests.workspace()
        defer { try? FileManager.default.removeItem(at: data.deletingLastPathComponent()) }
        let session = try Self.session(data, out)
        defer { session.stop() }
        let s = session.state
        let shown = try #require(s.volume?.shown)
        #expect(shown.predictions.map(\.name) == ["a", "b"])
        let a = shown.predictions[0].masks, b = shown.predictions[1].masks
        #expect(!a.isEmpty && !b.isEmpty)
        let overlays = Workbench.volumeOverlays(s, theme: .dark)
        #expect(overlays.count == shown.truth.count + a.count + b.count)
        let fills = overlays.filter { $0.fillOpacity > 0 }
        #expect(fills.count == a.count + b.count)
        // Both sets' masks are there, each once.
        for set in [a, b] {
            for label in set { #expect(fills.contains { $0.mask == label.mask }) }
        }
        // The status line's parts (a narrow terminal drops the low-priority ones).
        let parts = try #require(Workbench.volumeStatus(s)).map(\.text)
        #expect(parts.contains("a " + a.map(\.className).joined(separator: ",")), "\(parts)")
        #expect(parts.contains("b " + b.map(\.className).joined(separator: ",")), "\(parts)")
    }

    static func iou(_ a: Mask, _ b: [Bool]) -> Double {
        var inter = 0, union = 0
        for (x, y) in zip(a.bits.map { $0 != 0 }, b) { if x && y { inter += 1 }; if x || y { union += 1 } }
        return union == 0 ? 1 : Double(inter) / Double(union)
    }

    @Test("medsam: in the volume workbench: the model gets the windowed slice, a box gives MedSAM's mask")
    func medSAMOnSlices() throws {
        let (data, out) = try VolumeWorkbenchTests.workspace()
        defer { try? FileManager.default.removeItem(at: data.deletingLastPathComponent()) }
        let session = try Self.session(data, out, model: Self.medsam)
        defer { session.stop() }
        #expect(session.state.lanes.first?.name == "medsam_vit_custom")
        let image = try #require(session.state.image)
        // MedSAM's own CT windowing of this slice (pre_CT_MR.py: truncation where the workbench
        // rounds): at most one grey level apart.
        let reference = try ImageFile.read(Self.fixture.appendingPathComponent("ct.png").path).rgbImage()
        #expect(image.width == reference.width && image.height == reference.height)
        let levels = zip(image.pixels, reference.pixels).map { abs(Int($0) - Int($1)) }
        #expect(levels.max() ?? 9 <= 1)

        // A box with the keys, decoded by the lane's MedSAM.
        session.send(.input(.character("b")))
        for _ in 0..<12 { session.send(.input(.key(.right))) }
        for _ in 0..<10 { session.send(.input(.key(.down))) }
        session.send(.input(.character("b")))
        session.settle()
        session.settle()
        let box = try #require(session.state.editor.prompts.box)
        let mask = try #require(session.state.lanes.first?.candidates.first?.mask)
        let direct = try MedSAMSegmenter(checkpoint: String(Self.medsam.dropFirst("medsam:".count)))
        let expected = try direct.segment(direct.prepare(image), prompts: Prompts(box: box), previous: nil, multimask: false)
        #expect(mask == expected.first?.mask)

        // The fixture's box on the workbench's slice against MedSAM's inference on its own windowing.
        let bits = try ImageFile.read(Self.fixture.appendingPathComponent("ct_mask.png").path).rgbImage().pixels
        let truth = stride(from: 0, to: bits.count, by: 3).map { bits[$0] > 127 }
        let ours = try direct.segment(direct.prepare(image), prompts: Prompts(box: PromptBox(x0: 10, y0: 10, x1: 28, y1: 26)),
                                      previous: nil, multimask: false)
        let overlap = Self.iou(try #require(ours.first?.mask), truth)
        print("MedSAM on the workbench's soft-tissue slice vs MedSAM's own windowing: mask IoU \(overlap)")
        #expect(overlap >= 0.95, "IoU \(overlap)")
    }
}
