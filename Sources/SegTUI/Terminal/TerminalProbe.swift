import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asks the terminal what it can draw, before ncurses starts: the I/O half of detection (the
/// parsing and the decision are `TerminalReplies` and `GraphicsDecision`). Every terminal answers
/// the device attributes, and answers them last, so a terminal costs one round trip however slow
/// the link; the timeout (1 s, an intercontinental SSH round trip with room to spare) is paid only
/// by one that answers nothing. Inside tmux, which answers at once itself, the wait goes on for
/// the outer terminal's kitty answer only when the outer terminal may speak kitty.
public enum TerminalProbe {
    /// How long to wait for the device attributes: over SSH the replies take a round trip
    /// (150–300 ms between continents), more on a loaded machine.
    public static let defaultTimeout: Duration = .seconds(1)

    /// The terminal's size in cells and, where it says (ws_xpixel/ws_ypixel; 0 when not), pixels.
    public static func windowSize(fd: Int32) -> (rows: Int, columns: Int, width: Int, height: Int)? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 else { return nil }
        return (Int(size.ws_row), Int(size.ws_col), Int(size.ws_xpixel), Int(size.ws_ypixel))
    }

    /// Runs `body` with the terminal in raw mode (no echo, no line buffering: replies arrive
    /// byte by byte and never show on screen), then restores it, discarding unread input.
    public static func withRawMode<T>(fd: Int32, _ body: () -> T) -> T {
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return body() }
        var raw = saved
        cfmakeraw(&raw)
        tcsetattr(fd, TCSANOW, &raw)
        defer { tcsetattr(fd, TCSAFLUSH, &saved) }
        return body()
    }

    /// Writes `request` and reads until `isComplete` says the replies are in, or `timeout` passes.
    public static func exchange(fd: Int32, request: String, timeout: Duration,
                                isComplete: ([UInt8]) -> Bool = { TerminalQuery.isComplete($0) }) -> [UInt8] {
        let bytes = Array(request.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return [] }
            written += n
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !isComplete(received) {
            let left = clock.now.duration(to: deadline)
            guard left > .zero else { break }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            let n = chunk.withUnsafeMutableBufferPointer { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            received += chunk[0..<n]
        }
        return received
    }

    /// The whole detection on the terminal at `fd` (nil: /dev/tty). `--graphics text` asks
    /// nothing; any other override still asks, so `segterm doctor` can say what is there.
    public static func detect(environment: [String: String], override: GraphicsMode? = nil,
                              timeout: Duration = defaultTimeout, fd: Int32? = nil) -> GraphicsDecision {
        let inTmux = !(environment["TMUX"] ?? "").isEmpty
        let tty = fd ?? open("/dev/tty", O_RDWR | O_NOCTTY)
        defer { if fd == nil && tty >= 0 { close(tty) } }
        guard tty >= 0, isatty(tty) != 0, override != .text else {
            var decision = GraphicsDecision.decide(replies: TerminalReplies(), environment: environment, override: override)
            decision.reasons.append(override == .text ? "the terminal was not asked" : "no terminal to ask (/dev/tty)")
            return decision
        }
        let size = windowSize(fd: tty)
        let awaitKitty = inTmux && outerTerminalMaySpeakKitty(environment: environment)
        let replies = withRawMode(fd: tty) {
            TerminalReplies.parse(exchange(fd: tty, request: TerminalQuery.request(inTmux: inTmux), timeout: timeout,
                                           isComplete: { TerminalQuery.isComplete($0, inTmux: awaitKitty) }))
        }
        // The kernel's pixel size stands in when the terminal did not answer CSI 14 t.
        let kernelPixels = size.flatMap { $0.width > 0 && $0.height > 0 ? (width: $0.width, height: $0.height) : nil }
        return GraphicsDecision.decide(replies: replies, environment: environment, override: override,
                                       rows: size?.rows, columns: size?.columns, kernelPixels: kernelPixels)
    }

    /// Inside tmux: whether the terminal tmux runs in could answer the kitty query, from the
    /// TERM its client reported (`#{client_termname}`; empty: no client is attached, so nothing
    /// outside can answer). When tmux cannot be asked it counts as "may": the wait then lasts
    /// the timeout, as it must when the answer crosses a slow link.
    static func outerTerminalMaySpeakKitty(environment: [String: String]) -> Bool {
        // The server is the one $TMUX names (its socket, before the first comma), not whichever
        // answers on the default socket: another user's server, or none.
        guard let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first(where: FileManager.default.isExecutableFile(atPath:)),
              let socket = environment["TMUX"]?.split(separator: ",").first, !socket.isEmpty,
              let name = run(tmux, ["-S", String(socket), "display-message", "-p", "#{client_termname}"]) else { return true }
        return kittyProtocolTerm(name)
    }

    /// TERM values of terminals that speak the kitty graphics protocol, or might (a generic
    /// `xterm-256color` is what WezTerm and Ghostty often say); false for none at all.
    static func kittyProtocolTerm(_ term: String) -> Bool {
        let name = term.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !name.isEmpty else { return false }
        if name == "xterm" { return false }  // XTerm itself; WezTerm and Konsole say xterm-256color
        let never = ["linux", "screen", "tmux", "vt100", "vt220", "dumb", "rxvt", "st-", "alacritty", "foot"]
        return !never.contains { name.hasPrefix($0) }
    }

    /// Standard output of a short command, nil if it fails (stderr discarded).
    private static func run(_ path: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
