import ArgumentParser
import Foundation
import SegTUI
#if canImport(Glibc)
import Glibc
#endif

/// A slow link on one machine: runs a command in a new pseudo-terminal and holds every byte
/// between the real terminal and it for `--delay` milliseconds each way, as SSH to another
/// continent does (150–300 ms a round trip). It shows what such a link does to the start-up
/// detection and to a click, and the end-to-end tests run `segterm doctor` through it.
struct BenchLink: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Run a command as over a slow link: each byte between the terminal and it waits --delay ms each way.",
        discussion: "Example: segterm bench link --delay 150 -- segterm open sample-data (a 300 ms round trip)."
    )

    @Option(help: "Milliseconds each byte waits, in each direction.")
    var delay = 150

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        guard (0...5000).contains(delay) else { throw ValidationError("--delay must be in 0…5000 ms") }
        guard !command.isEmpty else { throw ValidationError("give the command to run after --") }
    }

    func run() throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard !arguments.isEmpty else { throw ValidationError("give the command to run after --") }
        let command = try PseudoTerminal(running: arguments, size: Self.windowSize(STDIN_FILENO))
        let status = Self.relay(master: command.master, child: command.child, delay: .milliseconds(delay))
        close(command.master)
        throw ExitCode(status)
    }

    static func windowSize(_ fd: Int32) -> winsize? {
        var size = winsize()
        return ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 ? size : nil
    }

    /// Copies bytes both ways, each released `delay` after it was read, until the command ends
    /// and its last output is through. Returns its exit status (128 + signal when killed).
    static func relay(master: Int32, child: pid_t, delay: Duration) -> Int32 {
        let clock = ContinuousClock()
        var toCommand: [(due: ContinuousClock.Instant, bytes: [UInt8])] = []
        var toTerminal: [(due: ContinuousClock.Instant, bytes: [UInt8])] = []
        var status: Int32?
        var commandOpen = true
        return TerminalProbe.withRawMode(fd: STDIN_FILENO) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while commandOpen || !toTerminal.isEmpty {
                let now = clock.now
                while let first = toCommand.first, first.due <= now { writeAll(master, first.bytes); toCommand.removeFirst() }
                while let first = toTerminal.first, first.due <= now { writeAll(STDOUT_FILENO, first.bytes); toTerminal.removeFirst() }
                let next = [toCommand.first?.due, toTerminal.first?.due].compactMap { $0 }.min()
                let wait = next.map { due -> Int32 in
                    let left = now.duration(to: due).components
                    return Int32(clamping: max(0, left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000 + 1))
                } ?? 200
                var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: master, events: commandOpen ? Int16(POLLIN) : 0, revents: 0)]
                let ready = poll(&fds, 2, wait)
                if ready < 0 && errno == EINTR { continue }
                if fds[0].revents & Int16(POLLIN) != 0 {
                    let n = read(STDIN_FILENO, &buffer, buffer.count)
                    if n > 0 { toCommand.append((clock.now + delay, Array(buffer[0..<n]))) }
                }
                if commandOpen, fds[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                    let n = read(master, &buffer, buffer.count)
                    if n > 0 { toTerminal.append((clock.now + delay, Array(buffer[0..<n]))) } else { commandOpen = false }
                }
                if status == nil {
                    var raw: Int32 = 0
                    if waitpid(child, &raw, WNOHANG) == child { status = PseudoTerminal.exitStatus(raw) }
                }
            }
            if status == nil {
                var raw: Int32 = 0
                if waitpid(child, &raw, 0) == child { status = PseudoTerminal.exitStatus(raw) }
            }
            return status ?? 1
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}
