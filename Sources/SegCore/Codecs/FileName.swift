/// File names as the data sets use them: images pair with masks, predictions and COCO entries by
/// the stem of their last path component.
public enum FileName {
    /// The last path component ("images/cells-01.png" → "cells-01.png").
    public static func last(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The last path component without its extension ("images/cells-01.png" → "cells-01"); a name
    /// that starts with its only dot keeps it.
    public static func stem(_ path: String) -> String {
        let name = last(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }
}
