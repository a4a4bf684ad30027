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
        subcommands: [Info.self, View.self, Open.self, Segment.self, Embed.self, Noc.self, Eval.self, Compare.self, Bench.self, Doctor.self]
    )
}

/// Exit codes: 0 success, 1 bad input (`segterm: <file>: <reason>`), 2 usage error.
func runMain() -> Never {
    do {
        var command = try SegTerm.parseAsRoot()
        try command.run()
        exit(0)
    } catch let error as SegError {
        printError("segterm: \(error)")
        exit(1)
    } catch {
        let code = SegTerm.exitCode(for: error)
        if code == .validationFailure {
            printError(SegTerm.fullMessage(for: error))
            exit(2)
        }
        SegTerm.exit(withError: error)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

runMain()
