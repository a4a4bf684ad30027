/// A JSON value with object keys kept in insertion order, so reports read the same every run
/// and the documented key order is the printed one.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.integer(x), .integer(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    /// Pretty-printed with two-space indents; numbers as the shortest text that reads back to the
    /// same double; NaN and infinities (which JSON cannot hold) as null.
    public func serialized(indent: Int = 0) -> String {
        var out = ""
        write(into: &out, level: indent)
        return out
    }

    private func write(into out: inout String, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d): out += JSONValue.format(d)
        case .string(let s): JSONValue.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            // Arrays of scalars stay on one line (a confusion-matrix row, the 12 stats).
            if items.allSatisfy({ $0.isScalar }) {
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += ", " }
                    item.write(into: &out, level: level)
                }
                out += "]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += String(repeating: "  ", count: level + 1)
                item.write(into: &out, level: level + 1)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: "  ", count: level) + "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in pairs.enumerated() {
                out += String(repeating: "  ", count: level + 1)
                JSONValue.quote(key, into: &out)
                out += ": "
                value.write(into: &out, level: level + 1)
                out += i + 1 < pairs.count ? ",\n" : "\n"
            }
            out += String(repeating: "  ", count: level) + "}"
        }
    }

    var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    public static func format(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return "\(d)"
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// A table of rows for the terminal and CSV: column names, cells as text, and for numeric
/// columns which cells are the best and worst (highlighted on a terminal).
public struct ReportTable: Sendable {
    public var title: String
    public var columns: [String]
    public var rows: [[String]]
    /// Columns whose cells are numbers to right-align and rank; true = higher is better.
    public var ranked: [String: Bool]

    public init(title: String, columns: [String], rows: [[String]] = [], ranked: [String: Bool] = [:]) {
        self.title = title; self.columns = columns; self.rows = rows; self.ranked = ranked
    }

    /// Aligned columns; with `color`, the best value of a ranked column in green and the worst in red.
    public func render(color: Bool) -> String {
        var widths = columns.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        let numeric = columns.map { name in rows.allSatisfy { row in
            guard let i = columns.firstIndex(of: name), i < row.count else { return true }
            return Double(row[i]) != nil || row[i] == "-" || row[i].isEmpty
        } }
        var best: [Int: String] = [:], worst: [Int: String] = [:]
        if color {
            for (i, name) in columns.enumerated() {
                guard let higher = ranked[name] else { continue }
                let values = rows.compactMap { i < $0.count ? Double($0[i]) : nil }.filter { $0 >= 0 }
                guard values.count > 1, let lo = values.min(), let hi = values.max(), lo != hi else { continue }
                best[i] = JSONValue.format(higher ? hi : lo)
                worst[i] = JSONValue.format(higher ? lo : hi)
            }
        }
        func line(_ cells: [String], header: Bool) -> String {
            var parts: [String] = []
            for (i, width) in widths.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: max(0, width - cell.count))
                var text = numeric[i] && i > 0 ? pad + cell : cell + pad
                if color, !header, let v = Double(cell) {
                    if best[i] == JSONValue.format(v) { text = "\u{1B}[32m\(text)\u{1B}[0m" }
                    else if worst[i] == JSONValue.format(v) { text = "\u{1B}[31m\(text)\u{1B}[0m" }
                }
                if color && header { text = "\u{1B}[1m\(text)\u{1B}[0m" }
                parts.append(text)
            }
            var s = parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        var out = title.isEmpty ? "" : title + "\n"
        out += line(columns, header: true) + "\n"
        for row in rows { out += line(row, header: false) + "\n" }
        return out
    }

    /// RFC 4180: fields with commas, quotes or newlines quoted, quotes doubled.
    public func csv() -> String {
        func field(_ s: String) -> String {
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + s.replacingAll("\"", "\"\"") + "\""
            }
            return s
        }
        var out = columns.map(field).joined(separator: ",") + "\n"
        for row in rows { out += row.map(field).joined(separator: ",") + "\n" }
        return out
    }
}

extension String {
    func replacingAll(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

/// Numbers in tables: fixed decimals, "-" where undefined (-1 or NaN).
public func formatMetric(_ v: Double, digits: Int = 3) -> String {
    guard v.isFinite, v > -1 || v < -1 else { return "-" }
    var scaled = (abs(v) * pow10(digits)).rounded()
    var text = ""
    let whole = Int(scaled / pow10(digits))
    scaled -= Double(whole) * pow10(digits)
    var frac = String(Int(scaled))
    frac = String(repeating: "0", count: max(0, digits - frac.count)) + frac
    text = (v < 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + frac : "")
    return text
}

private func pow10(_ n: Int) -> Double {
    var v = 1.0
    for _ in 0..<n { v *= 10 }
    return v
}
