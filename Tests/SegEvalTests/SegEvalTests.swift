import Testing
@testable import SegEval

@Suite("SegEval module")
struct SegEvalModuleTests {
    @Test("the module links") func links() { _ = SegEval.self }
}
