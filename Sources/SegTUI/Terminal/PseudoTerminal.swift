import CCurses
#if canImport(Glibc)
import Glibc
#endif

/// A command running in a pseudo-terminal of its own, as a terminal emulator runs a shell:
/// `segterm bench link` stands between the real terminal and it.
public struct PseudoTerminal {
    /// The master side: what the command writes is read here, what is written here it reads.
    public let master: Int32
    public let child: pid_t

    public enum Failure: Error, CustomStringConvertible {
        case cannotOpen(String), cannotRun(String, String)
        public var description: String {
            switch self {
            case .cannotOpen(let reason): "cannot open a pseudo-terminal: \(reason)"
            case let .cannotRun(command, reason): "cannot run \(command): \(reason)"
            }
        }
    }

    /// Starts `arguments` (looked up in PATH) in its own session, the new terminal its
    /// controlling terminal (a session leader's first terminal opened without O_NOCTTY becomes
    /// its own) on 0, 1 and 2, sized as `size`.
    public init(running arguments: [String], size: winsize?) throws {
        var name = [CChar](repeating: 0, count: 256)
        let master = segpty_open(&name, name.count)
        guard master >= 0 else { throw Failure.cannotOpen(String(cString: strerror(errno))) }
        if var size { _ = ioctl(master, UInt(TIOCSWINSZ), &size) }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer { posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, segpty_spawn_setsid_flag())
        posix_spawn_file_actions_addclose(&actions, master)
        posix_spawn_file_actions_addopen(&actions, 0, name, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard result == 0 else {
            close(master)
            throw Failure.cannotRun(arguments[0], String(cString: strerror(result)))
        }
        self.master = master
        self.child = pid
    }

    /// The exit status of a `waitpid` status word: the code, or 128 + the signal.
    public static func exitStatus(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }
}
