/// Every failure that user input can cause: the file it concerns and what is wrong with it.
/// The CLI prints it as `segterm: <file>: <reason>` and exits with code 1.
public struct SegError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        case notFound          // the path does not exist
        case unreadable        // exists but cannot be read (permissions, a directory, I/O error)
        case unsupported       // a valid file of a kind or variant segterm does not read
        case truncated         // the file ends before its content does
        case corrupt           // the bytes contradict the format
        case tooLarge          // above a configured limit (pixels, bytes)
        case invalid           // well-formed, but its content is not usable here (mismatched sizes, bad values)
        case writeFailed       // an output could not be written
        case locked            // another segterm process holds the output folder
    }

    public let file: String
    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, file: String, _ reason: String) {
        self.kind = kind
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }

    /// The same error about another file name (a reader works on bytes; its caller knows the path).
    public func about(_ file: String) -> SegError { SegError(kind, file: file, reason) }
}
