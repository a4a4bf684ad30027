import Foundation
@testable import SegCore

/// Paths shared by the tests: the fixtures bundled with the test target, and ../shared beside the repo.
enum TestPaths {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// ../shared (the benchmark sets and reference outputs), or SEGTERM_SHARED when set.
    static let shared: URL = {
        if let path = ProcessInfo.processInfo.environment["SEGTERM_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    static var sharedDatasetsAvailable: Bool {
        FileManager.default.fileExists(atPath: shared.appendingPathComponent("datasets/GrabCut/images").path)
    }

    static func fixture(_ subdirectory: String, _ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(subdirectory)
            .appendingPathComponent(name)
    }

    /// A fresh temporary folder, removed by the caller when it likes.
    static func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension RasterImage {
    /// The samples as plain integers, whatever the storage.
    var allSamples: [UInt32] {
        switch samples {
        case .eight(let s): s.map(UInt32.init)
        case .sixteen(let s): s.map(UInt32.init)
        }
    }
}
