import Foundation
import Testing
@testable import SegCore

/// The real `segterm` binary, as a user runs it: exit codes, messages, output.
enum Binary {
    /// The binary built beside this test bundle (same configuration), else the debug or release build.
    static let path: String? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [here.appendingPathComponent("segterm"), here.deletingLastPathComponent().appendingPathComponent("segterm"),
                          root.appendingPathComponent(".build/debug/segterm"), root.appendingPathComponent(".build/release/segterm")]
        return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Result { let status: Int32; let stdout: String; let stderr: String }

    static func run(_ arguments: [String], environment: [String: String]? = nil, timeout: Double = 600) throws -> Result {
        try Subprocess.run(path ?? "/nonexistent/segterm", arguments, environment: environment, timeout: timeout)
    }

    static func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-e2e-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

@Suite("segterm command line", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct CLITests {
    @Test("--version and --help on every subcommand exit 0")
    func help() throws {
        #expect(try Binary.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        for command in [["--help"], ["info", "--help"], ["view", "--help"]] {
            let result = try Binary.run(command)
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("USAGE"), "\(command)")
        }
    }

    @Test("usage errors exit 2")
    func usage() throws {
        #expect(try Binary.run(["info"]).status == 2)
        #expect(try Binary.run(["info", "--format", "xml", "a.png"]).status == 2)
        #expect(try Binary.run(["no-such-command"]).status == 2)
        #expect(try Binary.run(["info", "--max-pixels", "0", "a.png"]).status == 2)
    }

    @Test("bad input exits 1 with 'segterm: <file>: <reason>'")
    func badInput() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = folder.appendingPathComponent("broken.png").path
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: URL(fileURLWithPath: broken))
        let result = try Binary.run(["info", broken])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("segterm: \(broken): PNG header:"), "\(result.stderr)")

        let missing = try Binary.run(["info", "/nonexistent/a.png"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "segterm: /nonexistent/a.png: no such file\n")

        // view checks its files before it touches the terminal.
        let view = try Binary.run(["view", broken])
        #expect(view.status == 1)
        #expect(view.stderr.contains(broken))
    }

    @Test("info reports size, channels, depth and mask values, as text and JSON")
    func info() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mask.png").path
        try ImageFile.writePNG(LabelMap(width: 3, height: 2, labels: [0, 0, 0, 128, 255, 255]), to: path)
        let text = try Binary.run(["info", path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("size       3x2"))
        #expect(text.stdout.contains("channels   1 (gray)"))
        #expect(text.stdout.contains("values     3 distinct"))

        let json = try Binary.run(["info", "--format", "json", path])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let first = try #require(parsed?.first)
        #expect(first["width"] as? Int == 3)
        #expect(first["bitDepth"] as? Int == 8)
        let values = first["values"] as? [[String: Any]]
        #expect(values?.map { ($0["value"] as? [Int]) ?? [] } == [[0], [128], [255]])
        #expect(values?.map { $0["count"] as? Int ?? 0 } == [3, 1, 2])
    }
}

/// Runs a program to its end or to a deadline, whichever comes first: a test that waits on a child
/// forever would hold the whole run hostage.
///
/// Not Foundation's `Process`: it spawns with the calling thread's signal mask, and test threads
/// block nearly every signal, so a tmux server started from a test could never reap its panes or
/// see SIGWINCH; and its exit detection sometimes missed a child that had already exited. Here the
/// child starts with no signal blocked and default dispositions, and `waitpid` polls for its end.
/// Output goes through files, not pipes, because a daemon the child starts (a tmux server)
/// inherits the descriptors and would keep a pipe open.
enum Subprocess {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeout: Double) throws -> Binary.Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outPath = folder.appendingPathComponent("out").path, errPath = folder.appendingPathComponent("err").path

        let pid = try spawn(executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                            stdout: outPath, stderr: errPath)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped == -1 && errno != EINTR {
                throw SegError(.unreadable, file: executable, "waitpid failed: \(String(cString: strerror(errno)))")
            }
            if Date() >= deadline {
                timedOut = true
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(2_000)
        }
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        var stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        if timedOut { stderr += "\n[test harness: \(executable) \(arguments.joined(separator: " ")) killed after \(timeout) s]" }
        // Exit code when the child exited; 128 + the signal when a signal ended it, as a shell reports it.
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Binary.Result(status: timedOut ? -1 : code, stdout: stdout, stderr: stderr)
    }

    /// Starts `executable` with stdin from /dev/null, stdout to a file and stderr to another (nil:
    /// the same file), every signal unblocked and at its default: a runner may hand us blocked ones.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String],
                      stdout: String, stderr: String?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw SegError(.unreadable, file: executable, "cannot start: \(String(cString: strerror(result)))")
        }
        return pid
    }
}
