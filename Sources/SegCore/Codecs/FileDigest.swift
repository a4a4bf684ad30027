import CCrypto
#if canImport(Glibc)
import Glibc
#endif

/// Content digests of files, read in blocks (a 3 GB checkpoint never sits in memory at once).
public enum FileDigest {
    /// The SHA-256 of the file's bytes, as 64 lowercase hex digits (what `sha256sum` prints).
    public static func sha256(path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SegError(.unreadable, file: path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let context = EVP_MD_CTX_new() else { throw SegError(.unsupported, file: path, "no SHA-256 context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { throw SegError(.unsupported, file: path, "SHA-256 unavailable") }
        var block = [UInt8](repeating: 0, count: 1 << 22)
        while true {
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw SegError(.unreadable, file: path, "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            _ = block.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, n) }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1 else { throw SegError(.unsupported, file: path, "SHA-256 failed") }
        return digest.prefix(Int(length)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The SHA-256 of bytes in memory, as 64 lowercase hex digits.
    public static func sha256(bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }
        // EVP_Digest with SHA-256 fails only without memory; a digest of nothing is then refused below.
        precondition(ok == 1, "SHA-256 failed")
        return digest.prefix(Int(length)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
