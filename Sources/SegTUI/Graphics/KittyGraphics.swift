import Foundation
import SegCore

/// Escape sequences of the kitty graphics protocol (kitty, WezTerm, Ghostty, Konsole): an image
/// is transmitted once under an id, then placed, moved and deleted by that id, so a click that
/// changes only the mask re-sends only the small overlay image.
/// Every command is `ESC _ G <key=value,…> [; <base64 payload>] ESC \`; every command here
/// carries `q=2`, so the terminal never answers and no reply can land in the input stream.
public enum KittyGraphics {
    /// Base64 bytes per chunk: the protocol's limit, and a multiple of 4 as every chunk but the
    /// last must be.
    public static let chunkSize = 4096

    /// One APC command from its keys (in order) and optional payload.
    static func command(_ keys: [(String, String)], payload: String? = nil) -> String {
        var s = "\u{1B}_G" + keys.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        if let payload { s += ";" + payload }
        return s + "\u{1B}\\"
    }

    /// Transmits a PNG file's bytes (`f=100`) as image `id`, base64 in chunks of at most
    /// `chunkSize` bytes: the first chunk carries the keys, the rest only `m` (and `q`), and `m=1`
    /// means more chunks follow. Re-sending an id replaces that image's pixels.
    public static func transmitPNG(_ png: [UInt8], id: UInt32) -> String {
        let data = Data(png).base64EncodedString()
        var out = ""
        var start = data.startIndex
        var first = true
        repeat {
            let end = data.index(start, offsetBy: chunkSize, limitedBy: data.endIndex) ?? data.endIndex
            let more = end < data.endIndex ? "1" : "0"
            let keys: [(String, String)] = first
                ? [("a", "t"), ("f", "100"), ("t", "d"), ("i", "\(id)"), ("q", "2"), ("m", more)]
                : [("q", "2"), ("m", more)]
            out += command(keys, payload: String(data[start..<end]))
            first = false
            start = end
        } while start < data.endIndex
        return out
    }

    /// Transmits RGBA pixels as a PNG (alpha kept: the overlay is transparent outside the mask).
    public static func transmit(_ image: RGBAImage, id: UInt32) throws -> String {
        transmitPNG(try image.pngBytes(), id: id)
    }

    /// Transmits an opaque photo as an RGB PNG: a quarter fewer raw bytes than RGBA before
    /// compression, for the one transfer per image that dominates the budget.
    public static func transmit(_ image: RGBImage, id: UInt32) throws -> String {
        transmitPNG(try ImageFile.encodePNG(image), id: id)
    }

    /// Places image `id` with its top-left corner at the cursor (or at the 0-based cell `at`,
    /// restoring the cursor afterwards), scaled into `columns` × `rows` cells. A higher `z` draws
    /// above a lower one, so the overlay (z = 1) sits above the photo (z = 0); negative values go
    /// under the text. `C=1`: the cursor does not move, so ncurses' idea of it stays right.
    public static func place(id: UInt32, placement: UInt32 = 1, columns: Int, rows: Int, z: Int32 = 0,
                             at cell: (row: Int, column: Int)? = nil) -> String {
        let cmd = command([("a", "p"), ("i", "\(id)"), ("p", "\(placement)"), ("c", "\(columns)"), ("r", "\(rows)"),
                           ("z", "\(z)"), ("C", "1"), ("q", "2")])
        guard let cell else { return cmd }
        // Save cursor, move (1-based), place, restore.
        return "\u{1B}7\u{1B}[\(cell.row + 1);\(cell.column + 1)H" + cmd + "\u{1B}8"
    }

    /// Deletes image `id`'s placements (`d=i`); `freeData` (`d=I`) also frees its pixels.
    public static func delete(id: UInt32, freeData: Bool = false) -> String {
        command([("a", "d"), ("d", freeData ? "I" : "i"), ("i", "\(id)"), ("q", "2")])
    }

    // MARK: Unicode placeholders

    /// The character that stands for one cell of an image placed with `U=1`.
    public static let placeholder: Unicode.Scalar = "\u{10EEEE}"

    /// A virtual placement (`U=1`) of image `id` over `columns` × `rows` cells: nothing is drawn
    /// until cells holding placeholders for this id appear, and then the image moves, scrolls
    /// and is clipped with those cells — ordinary text to ncurses and to tmux.
    /// `placement` names it, so an overlay can be placed relative to it (`placeRelative`).
    public static func placeVirtual(id: UInt32, placement: UInt32 = 1, columns: Int, rows: Int) -> String {
        command([("a", "p"), ("U", "1"), ("i", "\(id)"), ("p", "\(placement)"), ("c", "\(columns)"), ("r", "\(rows)"),
                 ("q", "2")])
    }

    /// Places image `id` relative to another placement (`P`, `Q`; offset `H`, `V` in cells): it
    /// moves and disappears with its parent. A cell holds one placeholder, so the overlay cannot be
    /// placeholders over the photo's placeholders; placed relative to the photo's virtual
    /// placement with a higher `z` it follows the photo's cells wherever ncurses or tmux put them.
    public static func placeRelative(id: UInt32, placement: UInt32 = 1, parent: UInt32, parentPlacement: UInt32 = 1,
                                     columns: Int, rows: Int, z: Int32 = 1, offset: (columns: Int, rows: Int) = (0, 0)) -> String {
        command([("a", "p"), ("i", "\(id)"), ("p", "\(placement)"), ("P", "\(parent)"), ("Q", "\(parentPlacement)"),
                 ("H", "\(offset.columns)"), ("V", "\(offset.rows)"), ("c", "\(columns)"), ("r", "\(rows)"), ("z", "\(z)"),
                 ("C", "1"), ("q", "2")])
    }

    /// The foreground colour that names image `id` in placeholder cells (24-bit colour: the id's
    /// low 24 bits as r, g, b); the id's high byte travels as a third combining mark.
    public static func placeholderColor(id: UInt32) -> RGB {
        RGB(UInt8((id >> 16) & 0xFF), UInt8((id >> 8) & 0xFF), UInt8(id & 0xFF))
    }

    /// The text of each cell of a `columns` × `rows` placeholder image: U+10EEEE, the row mark,
    /// the column mark, and the id's high byte when it is not zero. Draw every cell with
    /// `placeholderColor(id:)` as foreground. Nil when the span exceeds the marks.
    public static func placeholderCells(id: UInt32, columns: Int, rows: Int) -> [[String]]? {
        let marks = KittyDiacritics.scalars
        guard columns >= 0, rows >= 0, columns <= marks.count, rows <= marks.count else { return nil }
        let high = id >> 24
        return (0..<rows).map { row in
            (0..<columns).map { column in
                var s = String.UnicodeScalarView()
                s.append(placeholder)
                s.append(marks[row])
                s.append(marks[column])
                if high != 0 { s.append(marks[Int(high)]) }
                return String(s)
            }
        }
    }

    // MARK: tmux

    /// Wraps a sequence for tmux's passthrough (`set -g allow-passthrough on`): `ESC P tmux;`
    /// + the sequence with every ESC doubled + `ESC \`. tmux hands the inside to the outer terminal.
    public static func tmuxPassthrough(_ sequence: String) -> String {
        var out = "\u{1B}Ptmux;"
        for scalar in sequence.unicodeScalars {
            if scalar == "\u{1B}" { out.unicodeScalars.append("\u{1B}") }
            out.unicodeScalars.append(scalar)
        }
        return out + "\u{1B}\\"
    }

    /// The inverse of `tmuxPassthrough`, nil if `wrapped` is not one passthrough sequence (for
    /// tests and `--debug-io`).
    public static func tmuxUnwrap(_ wrapped: String) -> String? {
        let scalars = Array(wrapped.unicodeScalars)
        let head = Array("\u{1B}Ptmux;".unicodeScalars)
        guard scalars.count >= head.count + 2, Array(scalars.prefix(head.count)) == head,
              scalars[scalars.count - 2] == "\u{1B}", scalars[scalars.count - 1] == "\\" else { return nil }
        var out = String.UnicodeScalarView()
        var i = head.count
        let end = scalars.count - 2
        while i < end {
            if scalars[i] == "\u{1B}" {
                // Inside, every ESC comes doubled; a single one would have ended the passthrough.
                guard i + 1 < end, scalars[i + 1] == "\u{1B}" else { return nil }
                i += 1
            }
            out.append(scalars[i])
            i += 1
        }
        return String(out)
    }
}
