import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SegTUI

/// The probe against a pseudo-terminal whose other end plays a scripted terminal.
@Suite("Terminal probe on a pty", .serialized)
struct TerminalProbeTests {
    /// A pty pair: `terminal` is the emulator's end, `program` the end segterm holds.
    struct PTY {
        let terminal: Int32, program: Int32

        init?(rows: UInt16 = 30, columns: UInt16 = 100, width: UInt16 = 0, height: UInt16 = 0) {
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            guard master >= 0 else { return nil }
            // TIOCSPTLCK and TIOCGPTN (Linux): unlock the pair and find the slave's number; Swift
            // cannot import these macros, nor posix_openpt without _XOPEN_SOURCE.
            var unlock: Int32 = 0, number: UInt32 = 0
            guard ioctl(master, UInt(0x4004_5431), &unlock) == 0, ioctl(master, UInt(0x8004_5430), &number) == 0 else {
                Glibc.close(master); return nil
            }
            let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
            guard slave >= 0 else { Glibc.close(master); return nil }
            var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: width, ws_ypixel: height)
            _ = ioctl(master, UInt(TIOCSWINSZ), &size)
            terminal = master; program = slave
        }

        func close() { _ = Glibc.close(terminal); _ = Glibc.close(program) }
    }

    /// The scripted terminal's side, on its own thread (not the test's task pool, whose threads
    /// the probe's blocking poll may hold): `request` is what it read.
    final class Player: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var seen: [UInt8] = []  // written by the thread before `done` is signalled

        /// Reads the request (until its final `ESC [ c`), then writes `replies` one by one with
        /// `gap` between them.
        init(_ pty: PTY, replies: [String], gap: TimeInterval = 0) {
            let fd = pty.terminal
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 512)
                while !seen.suffix(3).elementsEqual(Array("\u{1B}[c".utf8)) {
                    let n = buffer.withUnsafeMutableBufferPointer { read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    seen += buffer[0..<n]
                }
                for reply in replies {
                    if gap > 0 { Thread.sleep(forTimeInterval: gap) }
                    _ = Array(reply.utf8).withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
                }
                done.signal()
            }
            thread.start()
        }

        var request: String {
            done.wait()
            return String(decoding: seen, as: UTF8.self)
        }
    }

    @Test("a kitty terminal: replies in two parts, the wait ends at the device attributes, well before the timeout")
    func kitty() throws {
        let pty = try #require(PTY(width: 1000, height: 600))
        defer { pty.close() }
        let terminal = Player(pty, replies: ["\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[6;20;10t", "\u{1B}[?62;22c"], gap: 0.02)
        let clock = ContinuousClock()
        var decision: GraphicsDecision?
        let elapsed = clock.measure {
            decision = TerminalProbe.detect(environment: ["TERM": "xterm-kitty"], timeout: .seconds(2), fd: pty.program)
        }
        let request = terminal.request
        #expect(request == TerminalQuery.request(inTmux: false))
        #expect(decision?.mode == .kitty)
        #expect(decision?.cellPixels?.width == 10 && decision?.cellPixels?.height == 20)
        #expect(elapsed < .seconds(1), "waited \(elapsed) although the last reply came after ~40 ms")
    }

    @Test("a silent terminal costs the timeout and gives text; the kernel's pixel size still gives a cell size")
    func silent() throws {
        let pty = try #require(PTY(rows: 30, columns: 100, width: 800, height: 600))
        defer { pty.close() }
        let terminal = Player(pty, replies: [])
        let clock = ContinuousClock()
        var decision: GraphicsDecision?
        let elapsed = clock.measure {
            decision = TerminalProbe.detect(environment: ["TERM": "xterm"], timeout: .milliseconds(100), fd: pty.program)
        }
        _ = terminal.request
        #expect(decision?.mode == .text)
        #expect(decision?.reasons.contains("the terminal answered no query before the timeout") == true)
        #expect(decision?.cellPixels?.width == 8 && decision?.cellPixels?.height == 20)
        #expect(decision?.reasons.contains { $0.contains("TIOCGWINSZ") } == true)
        #expect(elapsed >= .milliseconds(95))
        #expect(elapsed < .milliseconds(400), "a silent terminal cost \(elapsed)")  // loose: shared, loaded cores
    }

    @Test("sixel inside tmux: the kitty query is wrapped for passthrough; tmux's DA reports sixel")
    func tmuxSixel() throws {
        let pty = try #require(PTY())
        defer { pty.close() }
        // tmux answers at once; the outer terminal (not kitty) never answers the kitty query, so
        // the probe waits out the timeout for it rather than stopping at tmux's reply.
        let terminal = Player(pty, replies: ["\u{1B}[6;18;9t\u{1B}[?1;2;4c"])
        let clock = ContinuousClock()
        var decision: GraphicsDecision?
        let elapsed = clock.measure {
            decision = TerminalProbe.detect(environment: ["TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"],
                                            timeout: .milliseconds(150), fd: pty.program)
        }
        let request = terminal.request
        #expect(request.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}_G"))
        #expect(decision?.mode == .sixel && decision?.inTmux == true)
        #expect(elapsed >= .milliseconds(140))
    }

    @Test("kitty behind tmux: its answer arrives after tmux's own device attributes and still counts")
    func tmuxKitty() throws {
        let pty = try #require(PTY())
        defer { pty.close() }
        let terminal = Player(pty, replies: ["\u{1B}[6;18;9t\u{1B}[?1;2c", "\u{1B}_Gi=31;OK\u{1B}\\"], gap: 0.03)
        let decision = TerminalProbe.detect(environment: ["TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"],
                                            timeout: .seconds(2), fd: pty.program)
        _ = terminal.request
        #expect(decision.mode == .kitty && decision.inTmux)
    }

    @Test("--graphics text asks nothing")
    func forcedText() throws {
        let pty = try #require(PTY())
        defer { pty.close() }
        let decision = TerminalProbe.detect(environment: [:], override: .text, fd: pty.program)
        #expect(decision.mode == .text && decision.reasons.last == "the terminal was not asked")
        // Nothing was written to the terminal's side.
        var poller = pollfd(fd: pty.terminal, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 20) == 0)
    }
}
