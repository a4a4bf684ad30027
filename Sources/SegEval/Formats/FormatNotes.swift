/// Counts of one kind of change with the first few places it happened: a converted set of 100k
/// objects says "joined the parts of 812 objects (first: …)" once, not 812 lines.
struct FormatNotes {
    private var order: [String] = []
    private var counts: [String: Int] = [:]
    private var examples: [String: [String]] = [:]

    mutating func add(_ what: String, at place: String) {
        if counts[what] == nil { order.append(what) }
        counts[what, default: 0] += 1
        if examples[what, default: []].count < 5 { examples[what, default: []].append(place) }
    }

    var lines: [String] {
        order.map { what in
            let n = counts[what] ?? 0
            let first = examples[what] ?? []
            return "\(what): \(n) (\(n > first.count ? "first: " : "")\(first.joined(separator: ", ")))"
        }
    }
}
