// libFuzzer target: the workbench journal (`<output>/journal.jsonl`), replayed as a session start
// replays it: every record decoded, then applied to a workbench state with three images (masks
// decoded from the records' RLE strings, classes added, drafts and visits restored).
import Foundation
import SegCore
import SegModels
@testable import SegTUI

let fuzzImages = ["/fuzz/a.png", "/fuzz/b.jpg", "/fuzz/c.bmp"].map { ImageEntry(path: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournal(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let replay = try? Journal<WorkRecord>.decode(bytes, file: "journal.jsonl") else { return 0 }
    var state = WorkbenchState(rows: 40, columns: 120, colorMode: .none, images: fuzzImages, classes: ["background", "cell"],
                               modelName: "grabcut")
    for record in replay.records { Workbench.apply(record, to: &state) }
    return 0
}

/// `FUZZ_JOURNAL_SEED=FILE fuzz-journal -runs=0` writes a seed: the records of a short session,
/// through the journal's own encoder (so the seed is in the exact format a session writes).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzJournalInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    guard let path = ProcessInfo.processInfo.environment["FUZZ_JOURNAL_SEED"] else { return 0 }
    var mask = Mask(width: 6, height: 4)
    for i in [7, 8, 13, 14] { mask.bits[i] = 1 }
    let rle = (try? RLE(mask: mask).compressedString) ?? ""
    let prompts = Prompts(points: [PromptPoint(x: 2, y: 1, positive: true), PromptPoint(x: 0, y: 3, positive: false)],
                          box: PromptBox(x0: 1, y0: 1, x1: 3, y1: 3))
    let records: [WorkRecord] = [
        .visit(image: "a.png"),
        .prompts(image: "a.png", prompts: prompts, refining: nil),
        .addClass("leaf"),
        .accept(image: "a.png", object: 1, className: "leaf", width: 6, height: 4, rle: rle, prompts: prompts),
        .prompts(image: "b.jpg", prompts: Prompts(points: [PromptPoint(x: 1, y: 1, positive: true)]), refining: 1),
        .delete(image: "a.png", object: 1),
        .visit(image: "c.bmp"),
    ]
    try? FileManager.default.removeItem(atPath: path)
    if let journal = try? Journal<WorkRecord>(path: path) { for r in records { try? journal.append(r) } }
    return 0
}
