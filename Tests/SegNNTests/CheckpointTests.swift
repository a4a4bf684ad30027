import Foundation
import Testing
@testable import SegNN

@Suite("Checkpoint readers")
struct CheckpointTests {
    static func expected() throws -> [String: (shape: [Int], data: [Float])] {
        let d = try Data(contentsOf: Fixture.root.appendingPathComponent("checkpoints/small.expected.json"))
        guard let o = try JSONSerialization.jsonObject(with: d) as? [String: [String: Any]] else { return [:] }
        var out: [String: (shape: [Int], data: [Float])] = [:]
        for (k, v) in o {
            out[k] = ((v["shape"] as? [Int]) ?? [], ((v["data"] as? [Double]) ?? []).map(Float.init))
        }
        return out
    }

    @Test("torch.save state dict: float32, half, bfloat16, double, int64, a strided view and a Parameter")
    func torchZip() throws {
        let sd = try StateDict.load(path: Fixture.path("checkpoints/small.pt"))
        let exp = try Self.expected()
        #expect(Set(sd.keys) == Set(exp.keys))
        #expect(sd.keys.first == "float")  // file order kept
        for key in ["float", "half", "bfloat16", "double", "transposed", "param"] {
            guard let e = exp[key] else { Issue.record("no expectation for \(key)"); continue }
            #expect(sd.shape(key) == e.shape, "\(key)")
            #expect(try sd.floats(key) == e.data, "\(key)")
        }
        #expect(try sd.ints("long") == [-2, -1, 0, 1, 2])
    }

    @Test("safetensors: F32, F16, BF16, I64")
    func safetensors() throws {
        let sd = try StateDict.load(path: Fixture.path("checkpoints/small.safetensors"))
        let base = (0..<12).map { Float($0) / 8 - 0.5 }
        #expect(try sd.floats("a", shape: [3, 4]) == base)
        #expect(try sd.floats("b") == base.map { $0 * 3 })
        #expect(try sd.floats("c") == base.map { $0 * 5 })
        #expect(try sd.ints("d") == [-2, -1, 0, 1, 2])
    }

    /// The resident size of the mapping that holds `address`, from /proc/self/smaps (this
    /// process's own pages of it, which is what the model's memory figure counts).
    static func mappedKilobytes(at address: UnsafeRawPointer) throws -> Int {
        // Read to the end: /proc files report a size of 0, which stat-based readers trust.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let target = UInt(bitPattern: Int(bitPattern: address))
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let dash = line.firstIndex(of: "-"), let space = line.firstIndex(of: " "), dash < space,
               let lo = UInt(line[..<dash], radix: 16), let hi = UInt(line[line.index(after: dash)..<space], radix: 16) {
                inside = lo <= target && target < hi
            } else if inside, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ")[1]) ?? -1
            }
        }
        Issue.record("no mapping holds \(String(target, radix: 16)) among \(text.split(separator: "\n").filter { $0.contains("segterm-pages") })")
        return -1
    }

    @Test("a tensor's pages of the mapped file are given back once it is copied (weights in memory once)")
    func pagesReleased() throws {
        // A safetensors file with one 1 MB float32 tensor: 256 pages of the mapping.
        let n = 1 << 18
        let header = Array(#"{"w": {"dtype": "F32", "shape": [\#(n)], "data_offsets": [0, \#(4 * n)]}}"#.utf8)
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
        for i in 0..<n { bytes += withUnsafeBytes(of: Float(i % 977).bitPattern.littleEndian, Array.init) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-pages-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sd = try StateDict.load(path: path)
        let start = 8 + header.count
        // Touch every page; the sum is checked so that an optimised build still reads them.
        var sum = 0
        for offset in stride(from: 0, to: sd.file.count, by: 1024) { sum &+= Int(sd.file.all[offset]) }
        #expect(sum != -1)
        let base = try #require(sd.file.all.baseAddress)
        let touched = try Self.mappedKilobytes(at: base)
        #expect(touched >= 1024, "\(touched) kB")
        let values = try sd.floats("w")
        #expect(values[977 + 5] == 5 && values.count == n)
        let released = try Self.mappedKilobytes(at: base)
        #expect(released <= 12, "\(released) kB: only the header's and the ends' partial pages may stay")
        #expect(try sd.floats("w") == values, "released pages read again from the file")
    }

    @Test("missing key, wrong shape and wrong dtype name the key and both shapes")
    func lookups() throws {
        let sd = try StateDict.load(path: Fixture.path("checkpoints/small.pt"))
        let missing = #expect(throws: CheckpointError.self) { try sd.floats("nope") }
        #expect(missing?.kind == .invalid && missing?.reason.contains("nope") == true)
        let shape = #expect(throws: CheckpointError.self) { try sd.floats("float", shape: [4, 3]) }
        #expect(shape?.reason == "tensor float has shape [3, 4], expected [4, 3]")
        let dtype = #expect(throws: CheckpointError.self) { try sd.floats("long") }
        #expect(dtype?.reason.contains("int64") == true)
        let ints = try StateDict.load(path: Fixture.path("checkpoints/int_weights.pt"))
        let e = #expect(throws: CheckpointError.self) { try ints.floats("w", shape: [2, 3]) }
        #expect(e?.kind == .invalid && e?.file.hasSuffix("int_weights.pt") == true)
    }

    @Test("hostile and broken files are refused with a clear error, never executed",
          arguments: [
            ("evil_os_system.pt", CheckpointError.Kind.refused, "os.system"),
            ("evil_stack_global.pt", .refused, "builtins.eval"),
            ("truncated.pt", .truncated, "truncated"),
            ("not_a_checkpoint.pt", .unsupported, "not a checkpoint"),
            ("compressed.pt", .unsupported, "compressed"),
            ("short_storage.pt", .truncated, "fewer than"),
            // A zero-element tensor whose other dimensions multiply past Int.max (shape [0, 2^40, 2^40]):
            // computing its strides trapped.
            ("fuzz-zero-dim-overflow.safetensors", .corrupt, "too large"),
          ])
    func hostile(file: String, kind: CheckpointError.Kind, words: String) throws {
        let path = Fixture.path("checkpoints/\(file)")
        let e = #expect(throws: CheckpointError.self) { _ = try StateDict.load(path: path) }
        #expect(e?.kind == kind, "\(file): \(String(describing: e))")
        #expect(e?.reason.contains(words) == true, "\(file): \(e?.reason ?? "")")
        #expect(e?.file == path)
    }

    @Test("no file, an empty file and a directory")
    func missingFiles() throws {
        #expect((#expect(throws: CheckpointError.self) { _ = try StateDict.load(path: "/nonexistent/x.pt") })?.kind == .notFound)
        let empty = NSTemporaryDirectory() + "segnn-empty-\(getpid()).pt"
        FileManager.default.createFile(atPath: empty, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect((#expect(throws: CheckpointError.self) { _ = try StateDict.load(path: empty) })?.kind == .truncated)
        #expect((#expect(throws: CheckpointError.self) { _ = try StateDict.load(path: NSTemporaryDirectory()) })?.kind == .unreadable)
    }

    @Test("every truncation and every flipped byte of a real checkpoint gives an error or the right values, never a crash")
    func fuzzTruncationAndCorruption() throws {
        let data = try [UInt8](Data(contentsOf: Fixture.root.appendingPathComponent("checkpoints/small.pt")))
        let exp = try Self.expected()
        func check(_ bytes: [UInt8]) {
            let f = MappedFile(bytes: bytes, name: "fuzz.pt")
            guard let sd = try? TorchCheckpoint.read(f) else { return }
            for key in sd.keys {
                // Reading may fail (CRC, dtype) but must not trap; values that load must be right.
                if let v = try? sd.floats(key), let e = exp[key], key != "long" { #expect(v == e.data, "\(key)") }
            }
        }
        for n in stride(from: 0, to: data.count, by: 7) { check(Array(data[0..<n])) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<400 {
            var b = data
            let i = Int.random(in: 0..<b.count, using: &rng)
            b[i] ^= UInt8.random(in: 1...255, using: &rng)
            check(b)
        }
    }

    @Test("pickle opcodes outside the whitelist are refused")
    func pickleOpcodes() throws {
        // INST (i), OBJ (o), NEWOBJ (0x81), EXT1 (0x82) and a bare GLOBAL of an allowed name with arguments.
        for program: [UInt8] in [
            Array("\u{80}\u{02}(ios\nsystem\nS'ls'\n.".utf8), [0x80, 0x02, 0x28, 0x6F, 0x2E], [0x80, 0x02, 0x81, 0x2E], [0x80, 0x02, 0x82, 0x01, 0x2E],
            Array("\u{80}\u{02}ccollections\nOrderedDict\nK\u{01}\u{85}R.".utf8),
        ] {
            let e = program.withUnsafeBytes { raw in #expect(throws: CheckpointError.self) { _ = try Pickle.load(raw, file: "p") } }
            #expect(e?.kind == .refused || e?.kind == .corrupt, "\(program)")
        }
    }
}
