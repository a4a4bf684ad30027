import Foundation
import SegCore
import SegNN
#if canImport(Glibc)
import Glibc
#endif

/// SAM image embeddings on disk, so a second visit to an image costs no encoder time.
///
/// - Key: a 128-bit hash of the decoded pixels and size, plus the model's fingerprint (a hash of
///   the checkpoint), so another image, another model or changed weights never hit.
/// - Entries are written atomically (temporary file, fsync, rename): concurrent writers of the same
///   key each rename a complete file; readers see an old or a new entry, never half of one.
/// - Every read is verified (magic, version, fingerprint, sizes, checksum of the payload) and a bad
///   entry is deleted and recomputed, never trusted.
/// - The folder is bounded: after each store the least recently used entries go until the total is
///   under `maxBytes`.
public final class EmbeddingCache: Sendable {
    public let directory: String
    public let maxBytes: Int

    static let magic: [UInt8] = Array("SEGEMB01".utf8)

    /// How long a temporary file must lie untouched before `evict` takes it for a dead writer's.
    static let staleTemporarySeconds: Double = 3600

    public init(directory: String, maxBytes: Int = EmbeddingCache.defaultMaxBytes) {
        self.directory = directory
        self.maxBytes = maxBytes
    }

    /// `$SEGTERM_CACHE_MAX_MB` megabytes, else 1 GiB (about 250 MobileSAM or SAM embeddings of 4 MB).
    public static var defaultMaxBytes: Int {
        if let text = ProcessInfo.processInfo.environment["SEGTERM_CACHE_MAX_MB"], let mb = Int(text), mb > 0, mb < 1 << 40 {
            return mb << 20
        }
        return 1 << 30
    }

    /// Whether a verified entry for `key` is on disk (a bad one is removed, as `load` does).
    /// `stretched`: the entry is of an image stretched over the whole input square (MedSAM's
    /// preprocessing), not scaled to fit and padded as SAM's.
    public func contains(key: String, model: SAMModel, stretched: Bool = false) -> Bool {
        load(key: key, model: model, stretched: stretched) != nil
    }

    /// Bytes of one entry for `model`: what a folder of images will need.
    public static func entryBytes(model: SAMModel) -> Int {
        magic.count + 8 + model.fingerprint.utf8.count + 16 + 4 * model.featureShape.reduce(1, *) + 8
    }

    /// `$SEGTERM_CACHE_DIR`, else `$XDG_CACHE_HOME/segterm/embeddings`, else `~/.cache/segterm/embeddings`.
    public static var defaultDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["SEGTERM_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/segterm/embeddings" }
        return (env["HOME"] ?? "/tmp") + "/.cache/segterm/embeddings"
    }

    public static func key(image: RGBImage, model: String) -> String {
        var a = FNV1a(), b = FNV1a(value: 0x6c62_272e_07bb_0142)
        var header = [UInt8]()
        for v in [image.width, image.height] { for i in 0..<8 { header.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        a.add(header); b.add(header)
        image.pixels.withUnsafeBytes { a.add($0); b.addReversed($0) }
        a.add(Array(model.utf8)); b.add(Array(model.utf8))
        return a.hex + b.hex
    }

    func path(_ key: String) -> String { directory + "/" + key + ".emb" }

    /// The cached embedding for `key`, or nil (absent or bad; a bad entry is removed).
    public func load(key: String, model: SAMModel, stretched: Bool = false) -> SAMEmbedding? {
        let p = path(key)
        guard let bytes = try? FileIO.read(p, maxBytes: 64 << 20) else { return nil }
        guard let e = decode(bytes, model: model, stretched: stretched) else {
            unlink(p)
            return nil
        }
        utime(p, nil)  // mark as recently used for eviction
        return e
    }

    /// Writes the entry; true when it is on disk afterwards (false: the folder is not writable,
    /// or the bound is too small to keep even this entry). A failure only costs time later.
    @discardableResult
    public func store(_ e: SAMEmbedding, key: String) -> Bool {
        guard e.features.count > 0 else { return false }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileIO.writeAtomically(encode(e), to: path(key))
        } catch {
            return false
        }
        evict()
        return access(path(key), F_OK) == 0
    }

    // Layout: magic, u32 version, u32 fingerprint length, fingerprint, 4 × u32 sizes,
    // featureCount × f32, u64 FNV-1a of everything before it. All little-endian.
    func encode(_ e: SAMEmbedding) -> [UInt8] {
        var out = Self.magic
        func u32(_ v: Int) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        u32(1)
        let fp = Array(e.modelFingerprint.utf8)
        u32(fp.count)
        out += fp
        for v in [e.originalWidth, e.originalHeight, e.inputWidth, e.inputHeight] { u32(v) }
        out.reserveCapacity(out.count + 4 * e.features.count + 8)
        e.features.data.withUnsafeBytes { out.append(contentsOf: $0) }
        var h = FNV1a()
        h.add(out)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: h.value >> (8 * UInt64(i)))) }
        return out
    }

    func decode(_ b: [UInt8], model: SAMModel, stretched: Bool = false) -> SAMEmbedding? {
        let count = model.featureShape.reduce(1, *)
        return b.withUnsafeBytes { raw -> SAMEmbedding? in
            func u32(_ at: Int) -> Int? {
                guard at >= 0, at + 4 <= raw.count else { return nil }
                return Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
            }
            guard raw.count > 16, Array(raw[0..<8]) == Self.magic, u32(8) == 1, let fl = u32(12), fl < 4096 else { return nil }
            let fpEnd = 16 + fl
            guard fpEnd <= raw.count, String(decoding: raw[16..<fpEnd], as: UTF8.self) == model.fingerprint,
                  let w = u32(fpEnd), let h = u32(fpEnd + 4), let iw = u32(fpEnd + 8), let ih = u32(fpEnd + 12) else { return nil }
            let data = fpEnd + 16
            guard raw.count == data + 4 * count + 8 else { return nil }
            var hash = FNV1a()
            hash.add(UnsafeRawBufferPointer(rebasing: raw[0..<(data + 4 * count)]))
            let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: data + 4 * count, as: UInt64.self))
            guard stored == hash.value else { return nil }
            let expected = stretched ? (width: model.imageSize, height: model.imageSize) : model.inputSize(width: w, height: h)
            guard w > 0, h > 0, expected.width == iw, expected.height == ih else { return nil }
            var f = [Float](repeating: 0, count: count)
            f.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[data..<(data + 4 * count)])) }
            guard f.allSatisfy(\.isFinite) else { return nil }
            guard let e = try? model.embedding(features: Tensor(shape: model.featureShape, data: f), originalWidth: w, originalHeight: h) else {
                return nil
            }
            return SAMEmbedding(features: e.features, originalWidth: w, originalHeight: h, inputWidth: iw, inputHeight: ih,
                                modelFingerprint: e.modelFingerprint, decoderCache: e.decoderCache)
        }
    }

    /// Removes least recently used entries until the folder is under the bound, and temporary
    /// files of writers that died before renaming them (a killed `segterm embed`). Another process
    /// may be deleting at the same time; files already gone are simply skipped.
    ///
    /// The folder may be shared by many machines (a cluster's network folder, `embed --shard`):
    /// a writer's pid means nothing on another host, so a temporary file is removed only when no
    /// process of that pid runs here and it has not been written to for `staleTemporarySeconds`
    /// (a live writer fills its file in seconds, then renames it).
    func evict() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let now = Double(time(nil))
        for n in names where n.hasPrefix(".") && n.contains(".emb.tmp-") {
            // `FileIO.writeAtomically` names them `.<key>.emb.tmp-<pid>-<random>`.
            let pidText = n.components(separatedBy: ".emb.tmp-").last?.split(separator: "-").first
            var st = stat()
            guard stat(directory + "/" + n, &st) == 0, now - Double(st.st_mtim.tv_sec) > Self.staleTemporarySeconds else { continue }
            if let pid = pidText.flatMap({ Int32($0) }), pid > 0, kill(pid, 0) != 0, errno == ESRCH {
                unlink(directory + "/" + n)
            }
        }
        var entries: [(path: String, size: Int, time: Double)] = []
        var total = 0
        for n in names where n.hasSuffix(".emb") {
            let p = directory + "/" + n
            var st = stat()
            guard stat(p, &st) == 0 else { continue }
            let size = Int(st.st_size)
            entries.append((p, size, Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9))
            total += size
        }
        guard total > maxBytes else { return }
        for e in entries.sorted(by: { $0.time < $1.time }) {
            if total <= maxBytes { break }
            if unlink(e.path) == 0 || errno == ENOENT { total -= e.size }
        }
    }
}

extension FNV1a {
    /// The same hash over the bytes in reverse order: a second, independent 64 bits for the key.
    mutating func addReversed(_ bytes: UnsafeRawBufferPointer) {
        var i = bytes.count - 1
        while i >= 0 {
            value ^= UInt64(bytes[i])
            value = value &* 0x100_0000_01b3
            i -= 1
        }
    }
}
