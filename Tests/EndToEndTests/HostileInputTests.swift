import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// Issue #9 on the real binary: resource bombs refused with `segterm: <file>: <reason>` and exit 1,
/// at a peak memory close to that of reading a tiny valid file; and the output-folder lock.
@Suite("hostile input, real binary", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct HostileInputTests {
    /// Runs segterm with SEGTERM_PEAK_MEMORY and returns the result and the peak it reported, in kB.
    static func measured(_ arguments: [String]) throws -> (Binary.Result, Int) {
        var environment = ProcessInfo.processInfo.environment
        environment["SEGTERM_PEAK_MEMORY"] = "1"
        let result = try Binary.run(arguments, environment: environment)
        let line = result.stderr.split(separator: "\n").last { $0.hasPrefix("segterm: peak memory ") }
        let kB = line.flatMap { Int($0.dropFirst("segterm: peak memory ".count).split(separator: " ").first ?? "") }
        #expect(kB != nil, "no peak memory line in \(result.stderr)")
        return (result, kB ?? Int.max)
    }

    static let bombs = Binary.repositoryRoot.appendingPathComponent("Tests/SegCoreTests/Fixtures/bombs")

    /// Peak memory (VmHWM, which segterm prints at exit under SEGTERM_PEAK_MEMORY) of `segterm
    /// info` on each bomb, against `segterm info` on a
    /// 16x16 PNG: the runtime, the binary and its libraries are most of either figure, so a reader
    /// that allocated what a bomb claims (120 GB for 200000², 64 MiB of inflated IDAT) would stand
    /// out by far more than the margin. FUZZING.md records the figures this prints.
    @Test("segterm info on image bombs: exit 1 naming the file, peak memory within 16 MB of a tiny image's")
    func imageBombsPeakMemory() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tiny = folder.appendingPathComponent("tiny.png").path
        try ImageFile.writePNG(RGBImage(width: 16, height: 16, fill: (1, 2, 3)), to: tiny)
        let (baseline, baseKB) = try Self.measured(["info", tiny])
        #expect(baseline.status == 0)
        var figures = ["tiny.png (valid, 16x16): \(baseKB) kB"]
        for name in ["huge.png", "huge.bmp", "huge.jpg", "idat-bomb.png", "under-limit-header.png"] {
            let path = Self.bombs.appendingPathComponent(name).path
            let (result, kB) = try Self.measured(["info", path])
            #expect(result.status == 1, "\(name): \(result.stderr)")
            #expect(result.stderr.hasPrefix("segterm: \(path): "), "\(name): \(result.stderr)")
            #expect(kB < baseKB + 16 * 1024, "\(name): \(kB) kB against \(baseKB) kB")
            figures.append("\(name): \(kB) kB")
        }
        print("peak memory of segterm info: " + figures.joined(separator: "; "))
    }

    /// The same for evaluation input (a bound of 200 MB: a 65536² table would be 34 GB): a ground truth nested 10^5 deep and a label map whose value
    /// 65535 would size a 65536² confusion matrix (34 GB) if it were allowed to.
    @Test("segterm eval on JSON nested 10^5 deep and on a label map with a 2^16-class value: exit 1, small peak memory")
    func evalBombsPeakMemory() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let deep = folder.appendingPathComponent("deep.json").path
        try Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8).write(to: URL(fileURLWithPath: deep))
        let gt = folder.appendingPathComponent("gt"), pred = folder.appendingPathComponent("pred")
        for d in [gt, pred] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        var labels = LabelMap(width: 8, height: 8)
        try ImageFile.writePNG(labels, to: pred.appendingPathComponent("a.png").path)
        labels.labels[9] = 65535
        try ImageFile.writePNG(labels, to: gt.appendingPathComponent("a.png").path)

        var figures: [String] = []
        for (what, arguments, file) in [("deep JSON", ["eval", "--gt", deep, "--pred", deep], deep),
                                        ("label 65535", ["eval", "--task", "semantic", "--gt", gt.path, "--pred", pred.path],
                                         gt.appendingPathComponent("a.png").path)] {
            let (result, kB) = try Self.measured(arguments)
            #expect(result.status == 1, "\(what): \(result.stderr)")
            #expect(result.stderr.hasPrefix("segterm: \(file): "), "\(what): \(result.stderr)")
            #expect(kB < 200 * 1024, "\(what): \(kB) kB")
            figures.append("\(what): \(kB) kB")
        }
        print("peak memory of segterm eval: " + figures.joined(separator: "; "))
    }
}

/// Two workbenches on one output folder: the second is refused before it reads or writes anything.
@Suite("output folder lock in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct OutputLockInTmuxTests {
    /// Every file under `folder` with its bytes and modification time.
    static func snapshot(_ folder: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let files = FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []
        for file in files.sorted() {
            let path = folder.appendingPathComponent(file).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let bytes = FileIO.isDirectory(path) ? "" : (try Data(contentsOf: URL(fileURLWithPath: path))).base64EncodedString()
            out[file] = "\(attributes[.modificationDate] ?? "") \(bytes)"
        }
        return out
    }

    @Test("a second segterm open on the same output folder exits 1 naming the holder's pid, touching nothing; it opens once the first quits")
    func secondSessionRefused() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let first = "segterm-e2e-lock1-\(getpid())", second = "segterm-e2e-lock2-\(getpid())"
        defer { for s in [first, second] { _ = try? Tmux.run(["kill-session", "-t", s]) } }
        let start = { (session: String) throws in
            try Tmux.run(["kill-session", "-t", session])
            try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(WorkbenchInTmuxTests.columns)", "-y", "\(WorkbenchInTmuxTests.rows)",
                          "'\(Binary.path!)' open '\(root.path)'; echo EXITED $?; sleep 60"])
        }
        try start(first)
        #expect(try Tmux.waitFor(first) { $0.contains("grabcut: ready") }.contains("grabcut: ready"))
        // Some work in the first session, so the folder holds outputs and a journal to protect.
        try WorkbenchInTmuxTests.click(first, PixelPoint(x: 70, y: 45))
        _ = try Tmux.waitFor(first) { $0.contains("done in") }
        try Tmux.run(["send-keys", "-t", first, "Enter"])
        _ = try Tmux.waitFor(first) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", first, "Enter"])
        #expect(try Tmux.waitFor(first) { $0.contains("accepted blob #1") }.contains("accepted blob #1"))

        let out = root.appendingPathComponent("out")
        let holder = try String(contentsOf: out.appendingPathComponent(OutputLock.fileName), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // The pid in the lock file is the first session's segterm.
        let command = (try? String(contentsOfFile: "/proc/\(holder)/cmdline", encoding: .utf8)) ?? ""
        #expect(command.hasPrefix(Binary.path!) && command.contains("open"), "pid \(holder): \(command)")
        let before = try Self.snapshot(out)
        #expect(before["instances.json"] != nil && before["journal.jsonl"] != nil, "\(before.keys.sorted())")

        try start(second)
        let refused = try Tmux.waitFor(second) { $0.contains("EXITED") }
        #expect(refused.contains("EXITED 1"), "\(refused)")
        // The pane wraps long lines at its width: read the message with the wraps undone.
        let unwrapped = refused.replacingOccurrences(of: "\n", with: "")
        #expect(unwrapped.contains("segterm: \(out.path): output folder is in use by another segterm (pid \(holder))"), "\(refused)")
        #expect(try Self.snapshot(out) == before, "the refused session changed the output folder")
        // The first session carries on and saves.
        try Tmux.run(["send-keys", "-t", first, "q"])
        #expect(try Tmux.waitFor(first) { $0.contains("EXITED") }.contains("EXITED 0"))
        // A clean quit takes its lock file away (#22 item 9).
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(OutputLock.fileName).path))

        // Released on exit: now the second one opens, with the first one's object restored.
        try start(second)
        let opened = try Tmux.waitFor(second) { $0.contains("grabcut: ready") }
        #expect(opened.contains("grabcut: ready") && opened.contains("objects 1"), "\(opened)")
        try Tmux.run(["send-keys", "-t", second, "q"])
        #expect(try Tmux.waitFor(second) { $0.contains("EXITED") }.contains("EXITED 0"))
    }
}

/// A disk that fills up under a running workbench: the output folder is a 256 KB tmpfs (mounted in
/// a private mount namespace by `unshare -rm`, so no root is needed where user namespaces are
/// allowed), holding the outputs of an earlier session and filled to the last byte.
/// Whether `unshare -rm` can mount a tmpfs here (user and mount namespaces allowed).
enum Unshare {
    static let canMount: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
        let probe = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: probe) }
        let result = try? Subprocess.run("/usr/bin/unshare", ["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs '\(probe.path)'"],
                                         timeout: 10)
        return result?.status == 0
    }()

}

@Suite("full disk in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil && Unshare.canMount,
                "tmux, the segterm binary or unshare with mount namespaces is missing"))
struct FullDiskInTmuxTests {
    static let columns = 160, rows = 30

    static func click(_ session: String, _ p: PixelPoint) throws {
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelName: "")
        s.image = RGBImage(width: 120, height: 90)
        s.display = .textDefault  // what `segterm open` draws with in tmux
        let cell = WorkbenchLayout(s).cell(for: p)!
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)m"])
    }

    static func start(_ session: String, _ command: String) throws {
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(columns)", "-y", "\(rows)", command])
    }

    static func acceptClick(_ session: String, at p: PixelPoint) throws {
        try click(session, p)
        _ = try Tmux.waitFor(session) { $0.contains("done in") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
    }

    @Test("accepting an object on a full disk shows 'No space left on device' and leaves the earlier outputs byte for byte")
    func fullDisk() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out"), saved = root.appendingPathComponent("saved")
        let session = "segterm-e2e-full-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }

        // An ordinary session first: one object accepted and saved.
        try Self.start(session, "'\(Binary.path!)' open '\(root.path)'; echo EXITED $?; sleep 60")
        _ = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        try Self.acceptClick(session, at: PixelPoint(x: 70, y: 45))
        #expect(try Tmux.waitFor(session) { $0.contains("accepted blob #1") }.contains("accepted blob #1"))
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        try FileManager.default.copyItem(at: out, to: saved)

        // Then the same folder on a full tmpfs. After segterm exits, the shell (still in the
        // namespace, where the tmpfs is) compares the outputs with the saved copy.
        let script = """
            mount -t tmpfs -o size=256k tmpfs '\(out.path)' && cp -a '\(saved.path)/.' '\(out.path)/' && \
            { dd if=/dev/zero of='\(out.path)/filler' bs=4k 2>/dev/null; head -c 4096 /dev/zero >> '\(out.path)/filler' 2>/dev/null; true; } && \
            '\(Binary.path!)' open '\(root.path)'; echo EXITED $?; \
            cmp '\(out.path)/instances.json' '\(saved.path)/instances.json' && cmp '\(out.path)/labels/scene-1.png' '\(saved.path)/labels/scene-1.png' && echo OUTPUTS-INTACT; \
            ls -a '\(out.path)' '\(out.path)/labels' | grep -c tmp- ; sleep 60
            """
        try Self.start(session, "/usr/bin/unshare -rm sh -c \"\(script.replacingOccurrences(of: "\"", with: "\\\""))\"")
        let ready = try Tmux.waitFor(session) { $0.contains("grabcut: ready") }
        #expect(ready.contains("objects 1"), "\(ready)")
        try Self.acceptClick(session, at: PixelPoint(x: 20, y: 20))
        let full = try Tmux.waitFor(session) { $0.contains("No space left on device") }
        let status = WorkbenchInTmuxTests.statusLine(full)
        #expect(status.contains("No space left on device") && status.contains(out.path), "\(status)")
        try Tmux.run(["send-keys", "-t", session, "q"])
        let after = try Tmux.waitFor(session) { $0.contains("EXITED") && $0.split(separator: "\n").last { !$0.isEmpty }?.allSatisfy(\.isNumber) == true }
        #expect(after.contains("EXITED 0"), "\(after)")
        #expect(after.contains("OUTPUTS-INTACT"), "\(after)")
        // No temporary file left behind on the full disk.
        #expect(after.split(separator: "\n").last { !$0.isEmpty }.map(String.init) == "0", "\(after)")
    }
}
