import Testing
@testable import SegNN

@Suite("SegNN module")
struct SegNNModuleTests {
    @Test("OpenBLAS is linked and reports its configuration")
    func blas() { #expect(!SegNN.blasConfiguration.isEmpty) }
}
