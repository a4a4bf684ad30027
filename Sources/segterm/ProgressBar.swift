import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar: Sendable {
    private let enabled = isatty(2) != 0
    /// The percentage drawn last; its lock also keeps two workers' lines from interleaving.
    private let lastDrawn = Mutex(-1)
    private let label: String

    /// Short jobs draw nothing: a bar that flashes by is noise.
    private let minimumTotal: Int

    init(_ label: String, minimumTotal: Int = 50) {
        self.label = label
        self.minimumTotal = minimumTotal
    }

    var callback: (@Sendable (Int, Int) -> Void)? {
        guard enabled else { return nil }
        return { [self] done, total in self.update(done, total) }
    }

    func update(_ done: Int, _ total: Int) {
        guard total >= minimumTotal else { return }
        let percent = done * 100 / max(total, 1)
        lastDrawn.withLock { last in
            guard percent != last else { return }
            last = percent
            draw(percent, done, total)
        }
    }

    private func draw(_ percent: Int, _ done: Int, _ total: Int) {
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)% (\(done)/\(total))".utf8))
        if done == total { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

