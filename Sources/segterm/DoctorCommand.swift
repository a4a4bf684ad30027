import ArgumentParser
import Foundation
import SegModels
import SegNN
import SegTUI

/// What segterm finds on this machine and terminal, and why: the first thing to run when the
/// picture or the speed is not what was expected (over SSH, inside tmux, on a new box).
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what segterm detects: terminal graphics and colours (with the reasons), cores, kernels, the embedding cache.",
        discussion: """
            The terminal is asked (a kitty graphics query, its cell size in pixels, the largest \
            sixel it draws, its background colour, whether it keeps 24-bit colour, and last the \
            device attributes, which every terminal answers). The wait ends with that last answer, \
            so a slow SSH link costs one round trip; a terminal that answers nothing costs the \
            timeout (1 s) and is reported as text-only. `segterm open` decides the same way.
            """
    )

    @Option(help: "Assume this graphics mode instead of detecting it: auto, kitty, sixel or text.")
    var graphics: String = "auto"

    @Option(help: "Milliseconds to wait for the terminal's answers.")
    var timeout = 1000

    func validate() throws {
        guard graphics == "auto" || GraphicsMode(rawValue: graphics) != nil else {
            throw ValidationError("--graphics takes auto, kitty, sixel or text")
        }
        guard (1...5000).contains(timeout) else { throw ValidationError("--timeout must be in 1…5000 ms") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let clock = ContinuousClock()
        let started = clock.now
        let decision = TerminalProbe.detect(environment: environment, override: GraphicsMode(rawValue: graphics),
                                            timeout: .milliseconds(timeout))
        let waited = started.duration(to: clock.now)
        print("segterm \(SegTerm.configuration.version)")
        print("graphics      \(decision.mode.rawValue)")
        if let cell = decision.cellPixels { print("cell          \(cell.width)x\(cell.height) pixels") }
        if let limit = decision.sixelLimit { print("sixel limit   \(limit.width)x\(limit.height) pixels (larger pictures go in tiles)") }
        print("colour        \(environment["NO_COLOR"].map { _ in "none (NO_COLOR is set)" } ?? (decision.truecolor ? "24-bit" : "256 or fewer"))")
        print("background    \(decision.lightBackground.map { $0 ? "light: theme light" : "dark: theme dark" } ?? "unknown: theme dark")")
        print("answered in   \(waited.components.seconds * 1000 + waited.components.attoseconds / 1_000_000_000_000_000) ms (waits up to \(timeout) ms)")
        print("tmux          \(decision.inTmux ? "yes" : "no")")
        for reason in decision.reasons { print("  - \(reason)") }
        print("cores         \(Threads.coreCount) (SEGTERM_THREADS: \(environment["SEGTERM_THREADS"] ?? "unset"))")
        print("kernels       OpenBLAS \(SegNN.blasCoreName), element-wise \(SegNN.kernelName)")
        let cache = EmbeddingCache(directory: EmbeddingCache.defaultDirectory)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: cache.directory))?.filter { $0.hasSuffix(".emb") } ?? []
        print("cache         \(cache.directory): \(entries.count) embeddings, bound \(cache.maxBytes >> 20) MB")
    }
}
