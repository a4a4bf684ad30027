/// What went wrong reading a checkpoint, naming the file. (SegNN knows nothing of the app's error
/// type; SegModels turns these into `SegError`s with the same file and reason.)
public struct CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        case notFound, unreadable
        case unsupported   // a valid file of a variant we do not read (compressed zip entry, big-endian, …)
        case truncated     // the file ends before its content does
        case corrupt       // the bytes contradict the format
        case refused       // the pickle asks for something outside the whitelist (code execution, unknown types)
        case invalid       // a missing tensor, a wrong shape or dtype
    }

    public let file: String
    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, file: String, _ reason: String) {
        self.kind = kind; self.file = file; self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// Overflow-checked size arithmetic for values read from files.
@inline(__always)
func checkedMul(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? nil : r
}

@inline(__always)
func checkedAdd(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? nil : r
}

func checkedProduct(_ xs: [Int]) -> Int? {
    var p = 1
    for x in xs {
        guard x >= 0, let q = checkedMul(p, x) else { return nil }
        p = q
    }
    return p
}
