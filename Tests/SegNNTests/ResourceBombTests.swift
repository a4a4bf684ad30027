import Foundation
import Testing
@testable import SegNN

/// Issue #9: checkpoints that claim far more than they hold (scripts/make_bomb_fixtures.py). Both are
/// ~500 bytes; reading either must end in a typed error naming the file, without allocating the claim.
@Suite("Checkpoint resource bombs")
struct CheckpointBombTests {
    @Test("a zip entry declaring 2^31-1 bytes in a 500-byte file, and a pickle building a 10^12-element storage",
          arguments: [
            ("bomb-zip-entry-size.pt", CheckpointError.Kind.truncated, "zip entry"),
            ("bomb-storage-1e12.pt", CheckpointError.Kind.truncated, "fewer than"),
          ])
    func bombs(file: String, kind: CheckpointError.Kind, words: String) throws {
        let path = Fixture.path("checkpoints/\(file)")
        let e = #expect(throws: CheckpointError.self) { _ = try StateDict.load(path: path) }
        #expect(e?.kind == kind, "\(file): \(String(describing: e))")
        #expect(e?.reason.contains(words) == true, "\(file): \(e?.reason ?? "")")
        #expect(e?.file == path)
    }
}
