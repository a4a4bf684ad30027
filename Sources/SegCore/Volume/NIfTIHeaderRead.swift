import CZlib

extension NIfTI {
    /// Only the header of a file (compressed or not): what a workbench needs to list a data set's
    /// slices without inflating every volume at start.
    public static func readHeader(_ path: String) throws -> NIfTIHeader {
        guard let file = gzopen(path, "rb") else { throw FileIO.openError(path) }
        defer { gzclose(file) }
        var head = [UInt8](repeating: 0, count: NIfTIHeader.nifti2Size)
        let got = head.withUnsafeMutableBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return 0 }
            return gzread(file, base, UInt32(raw.count))
        }
        guard got >= 0 else { throw SegError(.corrupt, file: path, "gzip data: cannot inflate the header") }
        head.removeSubrange(Int(got)...)
        do {
            return try NIfTIHeader.parse(head)
        } catch {
            throw error.file.isEmpty ? error.about(path) : error
        }
    }
}
