import Foundation
import SegCore

/// Folder walking and path joining shared by the readers and writers: sorted, so that image ids
/// and written files do not depend on the file system's order.
enum FormatFiles {
    static func list(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// Files under `folder` (relative paths, sorted), skipping hidden entries. Symbolic links to
    /// folders are followed, as Ultralytics' recursive glob follows them (image folders are often
    /// links), each real folder once so that a link cycle ends.
    static func walk(_ folder: String, where keep: (String) -> Bool) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        func visit(_ relative: String) {
            let full = relative.isEmpty ? folder : join(folder, relative)
            let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: full)).map { _ in
                URL(fileURLWithPath: full).resolvingSymlinksInPath().path
            } ?? URL(fileURLWithPath: full).standardizedFileURL.path
            guard seen.insert(real).inserted else { return }
            for name in list(full) where !name.hasPrefix(".") {
                let rel = relative.isEmpty ? name : relative + "/" + name
                if FileIO.isDirectory(join(folder, rel)) { visit(rel) } else if keep(rel) { out.append(rel) }
            }
        }
        visit("")
        return out.sorted()
    }

    /// `a/b` with `.` and `..` components resolved ("root/./images" is "root/images"), so that
    /// names made relative to a folder come out clean.
    static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty || b.hasPrefix("/") { return normalized(b) }
        return normalized(a.hasSuffix("/") ? a + b : a + "/" + b)
    }

    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let p = String(path[..<slash])
        return p.isEmpty ? "/" : p
    }

    static func extensionOf(_ name: String) -> String {
        let last = FileName.last(name)
        guard let dot = last.lastIndex(of: ".") else { return "" }
        return String(last[last.index(after: dot)...]).lowercased()
    }

    /// `name` without its extension (keeping folders): "train/a.jpg" → "train/a".
    static func dropExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return name }
        return String(name[..<dot])
    }

    static func createFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SegError(.writeFailed, file: path, "cannot create the folder: \(error.localizedDescription)")
        }
    }

    static func write(_ text: String, to path: String) throws {
        try createFolder(parent(path))
        try FileIO.writeAtomically(Array(text.utf8), to: path)
    }

    static func readText(_ path: String) throws -> String {
        let bytes = try FileIO.read(path, maxBytes: 1 << 30)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SegError(.corrupt, file: path, "not UTF-8 text")
        }
        return text
    }
}

/// An image's width and height from its header, without decoding its pixels: a YOLO set names
/// thousands of images whose sizes are all its labels need. PNG (IHDR), JPEG (the first SOFn
/// marker) and BMP; anything else is decoded whole.
enum ImageSize {
    static func read(_ path: String) throws -> (width: Int, height: Int) {
        let bytes = try FileIO.read(path, maxBytes: 1 << 31)
        if let size = header(bytes) { return size }
        let image = try ImageFile.read(path)
        return (image.width, image.height)
    }

    static func header(_ b: [UInt8]) -> (width: Int, height: Int)? {
        func be32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        func le32(_ i: Int) -> Int { Int(Int32(bitPattern: UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)) }
        switch ImageFile.format(of: b) {
        case .png:
            guard b.count >= 24 else { return nil }
            return (be32(16), be32(20))
        case .jpeg:
            var i = 2
            while i + 9 < b.count {
                guard b[i] == 0xFF else { return nil }
                let marker = b[i + 1]
                if marker == 0xFF { i += 1; continue }
                if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
                let length = be16(i + 2)
                // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): height then width.
                if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                    return (be16(i + 7), be16(i + 5))
                }
                i += 2 + length
            }
            return nil
        case .bmp:
            guard b.count >= 26 else { return nil }
            return (abs(le32(18)), abs(le32(22)))
        case .npy, nil:
            // A .npy label map is no image to take a size from here (the reader decodes it whole).
            return nil
        }
    }
}
