import Foundation
import Testing

/// `segterm view` opens every image of the benchmark sets with its mask, in a real terminal.
@Suite("view every benchmark pair in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil && DatasetPairs.available, "tmux, the binary or ../shared/datasets is missing"))
struct DatasetViewTests {
    @Test("every image opens with its mask, and q closes it")
    func everyPair() throws {
        let pairs = DatasetPairs.all()
        #expect(pairs.count == 150)
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // One shell loop views each pair in turn; the test quits each view once its status line shows.
        var script = "#!/bin/sh\n"
        for pair in pairs {
            let ignore = pair.ignoreValue.map { " --ignore-value \($0)" } ?? ""
            script += "'\(Binary.path!)' view '\(pair.image)' --mask '\(pair.mask)'\(ignore) || echo FAILED \(pair.stem)\n"
        }
        script += "echo ALLDONE; sleep 30\n"
        let scriptPath = folder.appendingPathComponent("view-all.sh").path
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        let session = "segterm-e2e-datasets-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", "sh '\(scriptPath)'"])

        for pair in pairs {
            let name = (pair.image as NSString).lastPathComponent
            let screen = try Tmux.waitFor(session, seconds: 20) { $0.contains(" \(name)  ") && $0.contains("mask ") }
            #expect(screen.contains(" \(name)  "), "\(pair.image) did not open:\n\(screen)")
            #expect(screen.contains("\u{2580}"), "\(pair.image): no image drawn")
            try Tmux.run(["send-keys", "-t", session, "q"])
        }
        let end = try Tmux.waitFor(session, seconds: 20) { $0.contains("ALLDONE") }
        #expect(end.contains("ALLDONE"))
        #expect(!end.contains("FAILED"), "\(end)")
    }
}

enum DatasetPairs {
    struct Pair { let stem: String; let image: String; let mask: String; let ignoreValue: Int? }

    static let root = Binary.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets")
    static var available: Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent("GrabCut/images").path) }

    static func all() -> [Pair] {
        var pairs: [Pair] = []
        for set in ["GrabCut", "Berkeley"] {
            func byStem(_ sub: String) -> [String: String] {
                let folder = root.appendingPathComponent(set).appendingPathComponent(sub)
                let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
                return Dictionary(names.map { (($0 as NSString).deletingPathExtension, folder.appendingPathComponent($0).path) },
                                  uniquingKeysWith: { a, _ in a })
            }
            let images = byStem("images"), masks = byStem("masks")
            for stem in images.keys.sorted() {
                guard let image = images[stem], let mask = masks[stem] else { continue }
                pairs.append(Pair(stem: stem, image: image, mask: mask, ignoreValue: set == "GrabCut" ? 128 : nil))
            }
        }
        return pairs
    }
}
