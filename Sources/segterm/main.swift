import ArgumentParser
import Foundation
import SegCore
#if canImport(Glibc)
import Glibc
#endif

struct SegTerm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segterm",
        abstract: "A terminal workbench for image segmentation.",
        version: "0.1.0",
        subcommands: [Info.self, View.self, Open.self, Segment.self, Embed.self, Autolabel.self, Noc.self, Eval.self, Compare.self, Convert.self, Bench.self, Doctor.self]
    )
}

/// With SEGTERM_PEAK_MEMORY set, the process's peak resident memory (VmHWM) goes to stderr at exit:
/// how the tests and FUZZING.md measure what a reader costs on a hostile file. A parent cannot
/// measure it from outside with wait4: posix_spawn's child shares the parent's memory until it
/// execs, so ru_maxrss reports the parent's size.
func reportPeakMemoryAtExit() {
    guard getenv("SEGTERM_PEAK_MEMORY") != nil else { return }
    atexit {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return }
        FileHandle.standardError.write(Data("segterm: peak memory \(line.dropFirst(6).trimmingCharacters(in: .whitespaces))\n".utf8))
    }
}

/// Exit codes: 0 success, 1 bad input (`segterm: <file>: <reason>`), 2 usage error.
func runMain() -> Never {
    reportPeakMemoryAtExit()
    // `segterm eval merge PART…` is parsed on its own: as a subcommand of `eval` it would be
    // asked for eval's required --gt and --pred.
    let arguments = Array(CommandLine.arguments.dropFirst())
    // `segterm autolabel merge PART…` and `segterm noc merge PART…` likewise (autolabel requires
    // its IMAGES, noc its --images and --masks).
    let merges: [(words: [String], command: any ParsableCommand.Type)] = [(["eval", "merge"], EvalMerge.self),
                                                                          (["autolabel", "merge"], AutolabelMerge.self),
                                                                          (["compare", "merge"], CompareMerge.self),
                                                                          (["noc", "merge"], NocMerge.self)]
    let merge = merges.first { arguments.starts(with: $0.words) }
    let root: any ParsableCommand.Type = merge?.command ?? SegTerm.self
    do {
        var command = try merge.map { try $0.command.parseAsRoot(Array(arguments.dropFirst(2))) } ?? SegTerm.parseAsRoot()
        try command.run()
        exit(0)
    } catch let error as SegError {
        printError("segterm: \(error)")
        exit(1)
    } catch {
        let code = root.exitCode(for: error)
        if code == .validationFailure {
            printError(root.fullMessage(for: error))
            exit(2)
        }
        root.exit(withError: error)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

runMain()
