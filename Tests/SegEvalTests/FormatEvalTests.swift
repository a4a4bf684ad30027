import Foundation
import Testing
import SegCore
@testable import SegEval

/// `eval` reading YOLO and LabelMe directly: the numbers are those of the same data written as
/// COCO JSON (the conversions themselves are checked against Ultralytics and labelme in FormatsTests).
@Suite("eval on YOLO, LabelMe, VOC and Cityscapes sets")
struct FormatEvalTests {
    static func temporary() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-formats-eval-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// sample-data's ground truth and model A written in `format`, with the images beside them.
    static func writeSample(_ format: DatasetFormat, into folder: String) throws -> (gt: String, pred: String) {
        let sample = Fixtures.repository.appendingPathComponent("sample-data").path
        var gtSet = try Formats.read(sample + "/instances.json", format: .coco)
        // The sample names its images "images/NAME.png"; a YOLO set keeps them in images/ itself.
        for i in gtSet.groundTruth.images.indices { gtSet.groundTruth.images[i].fileName = FileName.last(gtSet.groundTruth.images[i].fileName) }
        if format == .cityscapes {
            // Cityscapes holds its own classes only: the sample's become four of its thing classes.
            let names = ["cell": "car", "leaf": "person", "stone": "truck", "seed": "bicycle"]
            for i in gtSet.groundTruth.categories.indices { gtSet.groundTruth.categories[i].name = names[gtSet.groundTruth.categories[i].name]! }
        }
        var options = FormatOptions()
        options.sizesFrom = gtSet.groundTruth
        options.predictions = true
        let predSet = try Formats.read(sample + "/predictions/model-a.json", format: .coco, options: options)
        let gt = folder + "/gt", pred = folder + "/pred"
        try Formats.write(gtSet, format: format, to: gt)
        try Formats.write(predSet, format: format, to: pred)
        // YOLO finds sizes in the images beside the labels (Ultralytics' images/ ↔ labels/).
        if format == .yolo {
            for root in [gt, pred] { try FileManager.default.createSymbolicLink(atPath: root + "/images", withDestinationPath: sample + "/images") }
        }
        return (gt, pred)
    }

    @Test("YOLO, LabelMe, VOC and Cityscapes ground truth and predictions evaluate as their COCO JSON",
          arguments: [DatasetFormat.yolo, .labelme, .voc, .cityscapes])
    func sameAsCOCO(_ format: DatasetFormat) throws {
        let folder = try Self.temporary()
        let (gt, pred) = try Self.writeSample(format, into: folder)
        var direct = EvalRequest(groundTruth: gt, predictions: pred)
        direct.workers = 2
        let viaFormat = try Evaluation.run(direct)
        #expect(viaFormat.task == .instance)
        // The same sets as COCO files, converted by the same readers.
        let gtSet = try Formats.read(gt, format: format, options: { var o = FormatOptions(); o.predictions = false; return o }())
        var options = FormatOptions()
        options.sizesFrom = gtSet.groundTruth
        options.predictions = true
        let results = try Formats.read(pred, format: format, options: options).results(matching: gtSet.groundTruth)
        try COCOWriter.groundTruthJSON(gtSet.groundTruth).write(toFile: folder + "/gt.json", atomically: true, encoding: .utf8)
        try COCOWriter.resultsJSON(results, groundTruth: gtSet.groundTruth).write(toFile: folder + "/pred.json", atomically: true, encoding: .utf8)
        var coco = EvalRequest(groundTruth: folder + "/gt.json", predictions: folder + "/pred.json")
        coco.workers = 2
        let viaCOCO = try Evaluation.run(coco)
        guard case .instance(let a, _, _) = viaFormat.engine, case .instance(let b, _, _) = viaCOCO.engine else {
            Issue.record("not instance"); return
        }
        #expect(a.evaluation.stats == b.evaluation.stats)
        #expect(a.evaluation.stats[0] > 0.05, "a real evaluation, not an empty one: \(a.evaluation.stats)")
        #expect(a.detectionCount == b.detectionCount && a.detectionCount > 0)
    }

    @Test("the workbench's ground truth reads a YOLO set: the image's objects as the COCO file has them")
    func groundTruthObjects() throws {
        let folder = try Self.temporary()
        let (gt, _) = try Self.writeSample(.yolo, into: folder)
        let sample = Fixtures.repository.appendingPathComponent("sample-data").path
        let coco = try COCOReader.readGroundTruth(sample + "/instances.json")
        let image = try #require(coco.images.first)
        let expected = coco.annotations.filter { $0.imageId == image.id && !$0.isCrowd }.count
        let objects = try #require(try GroundTruthObjects(path: gt).objects(forImage: FileName.last(image.fileName),
                                                                              width: image.width, height: image.height))
        #expect(objects.objects.count == expected && expected > 0)
        #expect(Set(objects.objects.map(\.className)).isSubset(of: Set(coco.categories.map(\.name))))
    }

    @Test("COCO panoptic written from the COCO model: each visible object one segment with its pixels; eval reads it back with PQ 1")
    func panopticWritten() throws {
        let folder = try Self.temporary()
        let sample = Fixtures.repository.appendingPathComponent("sample-data").path
        let set = try Formats.read(sample + "/instances.json", format: .coco)
        try Formats.write(set, format: .panoptic, to: folder)
        let json = folder + "/panoptic.json"
        var request = EvalRequest(groundTruth: json, predictions: json)
        request.workers = 2
        let result = try Evaluation.run(request)
        guard case .panoptic(let ev) = result.engine else { Issue.record("not panoptic: \(result.task)"); return }
        #expect(ev.all.pq == 1 && ev.images.count == set.groundTruth.images.count)
        // Segment by segment: the PNG's pixels of a segment are the object's mask, minus what a
        // later object painted over.
        let file = try PanopticFile.read(json)
        var checked = 0
        for image in set.groundTruth.images {
            let anns = set.groundTruth.annotations.filter { $0.imageId == image.id }
            let masks = try anns.map { try InstanceShapes.runs(of: $0, image: image, entry: "", file: "")!.decode() }
            guard let entry = file.annotations.first(where: { $0.imageId == image.id }) else { Issue.record("no entry"); continue }
            let ids = try ImageFile.read(folder + "/panoptic/" + entry.fileName).labelMap(reducing: .packedRGB)
            for (k, mask) in masks.enumerated() {
                var visible = mask
                for later in masks[(k + 1)...] { for i in visible.bits.indices where later.bits[i] != 0 { visible.bits[i] = 0 } }
                let segment = ids.mask(of: UInt32(k + 1))
                #expect(segment.bits == visible.bits, "\(image.fileName) object \(k)")
                let info = entry.segments.first { $0.id == UInt32(k + 1) }
                #expect(info?.area == visible.bits.filter { $0 != 0 }.count || (info == nil && visible.bits.allSatisfy { $0 == 0 }))
                checked += 1
            }
        }
        #expect(checked == set.groundTruth.annotations.count && checked > 0)
    }

    @Test("the Cityscapes label table is cityscapesscripts' (license plate, id −1, never in the PNGs, left out)")
    func cityscapesLabels() throws {
        struct Label: Decodable { var name: String; var id: Int; var trainId: Int; var hasInstances: Bool; var ignoreInEval: Bool }
        struct File: Decodable { var labels: [Label] }
        let reference = try JSONDecoder().decode(File.self, from: Data(contentsOf: Fixtures.url("formats", "cityscapes_labels.json"))).labels
        let expected = reference.filter { $0.id >= 0 }
        #expect(CityscapesLabels.all.count == expected.count)
        for (ours, theirs) in zip(CityscapesLabels.all, expected) {
            #expect(ours.name == theirs.name && ours.id == theirs.id && ours.trainId == theirs.trainId
                    && ours.hasInstances == theirs.hasInstances && ours.ignoreInEval == theirs.ignoreInEval, "\(ours) vs \(theirs)")
        }
    }
}
