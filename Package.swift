// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "segterm",
    products: [
        .executable(name: "segterm", targets: ["segterm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // data.yaml of YOLO datasets (class names), read by SegEval's Formats/.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C shims and system libraries (Debian: libpng-dev, libturbojpeg0-dev, libopenblas-dev, libncurses-dev, libssl-dev).
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .systemLibrary(name: "CJPEG"),
        .systemLibrary(name: "CBLAS"),
        // CRC-32 of zip entries (zlib, which libpng already brings).
        .systemLibrary(name: "CZlib"),
        // SHA-256 of checkpoints (libssl-dev's libcrypto), recorded with the objects a model made.
        .systemLibrary(name: "CCrypto"),
        // AVX2+FMA / AVX-512 element-wise kernels (per-function target attributes, runtime dispatch).
        .target(name: "CKernels"),
        .target(
            name: "CCurses",
            cSettings: [.define("_XOPEN_SOURCE_EXTENDED"), .define("NCURSES_WIDECHAR", to: "1")],
            linkerSettings: [.linkedLibrary("ncursesw")]
        ),

        // The one parallel loop, core count and lock use shared by the engines.
        .target(name: "SegConcurrency"),
        .target(name: "SegCore", dependencies: ["CPNG", "CJPEG", "CCrypto", "CZlib"]),
        .target(name: "SegEval", dependencies: ["SegCore", "SegConcurrency", .product(name: "Yams", package: "Yams")]),
        .target(name: "SegNN", dependencies: ["CBLAS", "CKernels", "CZlib", "SegConcurrency"]),
        .target(name: "SegModels", dependencies: ["SegCore", "SegNN", "SegConcurrency"]),
        // Auto-labeling: proposal sources over a folder, resumable, and the proposals they write.
        .target(name: "SegLabel", dependencies: ["SegCore", "SegEval", "SegModels", "SegConcurrency"]),
        .target(
            name: "SegTUI",
            dependencies: ["SegCore", "SegEval", "SegModels", "CCurses", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .executableTarget(
            name: "segterm",
            dependencies: [
                "SegCore", "SegEval", "SegNN", "SegModels", "SegTUI", "SegLabel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "SegCoreTests", dependencies: ["SegCore", "CZlib"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SegEvalTests", dependencies: ["SegEval", "SegCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SegNNTests", dependencies: ["SegNN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SegModelsTests", dependencies: ["SegModels", "SegCore", "SegNN", "SegEval"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SegTUITests", dependencies: ["SegTUI", "SegCore", "SegModels", "SegEval", "SegLabel"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EndToEndTests", dependencies: ["SegCore", "SegEval", "SegTUI"]),
    ]
)
