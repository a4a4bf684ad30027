import Foundation
import Testing
@testable import SegCore

/// Issue #20: NIfTI-1/2 reading checked against nibabel (scripts/make_nifti_fixtures.py), the
/// writer's round trip, and hostile headers refused before allocation.
@Suite("NIfTI")
struct NIfTITests {
    struct Expected: Decodable {
        struct Case: Decodable {
            let file: String
            let version: Int
            let datatype: Int
            let shape: [Int]
            let affine: [Double]
            let zooms: [Double]
            let axcodes: String
            let values: [Double]
        }
        let cases: [Case]
    }

    static let expected: Expected = {
        let url = TestPaths.fixture("nifti", "expected.json")
        // A missing fixture is a broken checkout: fail loudly in the test that reads it.
        return (try? JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))) ?? Expected(cases: [])
    }()

    @Test("every fixture reads as nibabel reads it", arguments: expected.cases.map(\.file))
    func readsLikeNibabel(_ name: String) throws {
        let want = try #require(Self.expected.cases.first { $0.file == name })
        let image = try NIfTI.read(TestPaths.fixture("nifti", name).path)
        #expect(image.header.version.rawValue == want.version)
        #expect(image.header.dataType.rawValue == want.datatype)
        #expect(image.header.size == want.shape)
        for (a, b) in zip(image.affine, want.affine) { #expect(abs(a - b) < 1e-5, "affine \(image.affine) vs \(want.affine)") }
        // nibabel gives as many zooms as the image has axes (two for a 2-D image).
        #expect(image.geometry.spacing.prefix(want.zooms.count).map { ($0 * 1e5).rounded() } == want.zooms.map { (abs($0) * 1e5).rounded() })
        #expect(image.geometry.orientation == want.axcodes)
        let volume = image.scalars()
        #expect(volume.voxels.count == want.values.count)
        for (a, b) in zip(volume.voxels, want.values) { #expect(abs(Double(a) - b) <= 1e-6 * max(1, abs(b))) }
    }

    @Test("labels round trip through the writer with the source header and affine")
    func writerRoundTrip() throws {
        let source = try NIfTI.read(TestPaths.fixture("nifti", "ct_i16_scaled_qform.nii").path)
        let size = source.header.size
        let labels = LabelVolume(geometry: source.geometry, voxels: (0..<size.reduce(1, *)).map { UInt16($0 % 5) })
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["out.nii.gz", "out.nii"] {
            let path = folder.appendingPathComponent(name).path
            try NIfTI.write(labels, like: source.header, to: path)
            let back = try NIfTI.read(path)
            #expect(back.header.dataType == .uint8)
            #expect(try back.labels(file: path).voxels == labels.voxels)
            for (a, b) in zip(back.affine, source.affine) { #expect(abs(a - b) < 1e-5) }
            #expect(back.geometry.orientation == source.geometry.orientation)
        }
        // Labels above 255 are written as uint16.
        var wide = labels
        wide.voxels[0] = 1000
        let path = folder.appendingPathComponent("wide.nii.gz").path
        try NIfTI.write(wide, like: source.header, to: path)
        #expect(try NIfTI.readLabels(path).voxels == wide.voxels)
    }

    @Test("slices along each axis hold the voxels of that plane")
    func slices() throws {
        let image = try NIfTI.read(TestPaths.fixture("nifti", "labels_u8_ras.nii.gz").path)
        let v = try image.labels(file: "")
        let (nx, ny) = (v.geometry.size[0], v.geometry.size[1])
        let axial = try #require(v.slice(.axial, at: 2))
        #expect(axial.width == nx && axial.height == ny && axial.voxels[3 + nx * 1] == v.voxels[3 + nx * (1 + ny * 2)])
        let coronal = try #require(v.slice(.coronal, at: 1))
        #expect(coronal.voxels[4 + nx * 2] == v.voxels[4 + nx * (1 + ny * 2)])
        let sagittal = try #require(v.slice(.sagittal, at: 4))
        #expect(sagittal.width == ny && sagittal.voxels[3 + ny * 1] == v.voxels[4 + nx * (3 + ny * 1)])
        #expect(v.slice(.axial, at: 3) == nil)
        #expect(v.labelMap(.axial, at: 0)?.labels.count == nx * ny)
        #expect(IntensityWindow.ctSoftTissue.grey([-160, 40, 240, .nan]) == [0, 128, 255, 0])
    }

    // MARK: hostile headers

    static func nifti1Header(dims: [Int16], type: Int16 = 2, voxOffset: Float = 352) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 352)
        func put(_ at: Int, _ v: UInt32, _ n: Int) { for k in 0..<n { h[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) } }
        put(0, 348, 4)
        for (i, d) in dims.enumerated() { put(40 + 2 * i, UInt32(UInt16(bitPattern: d)), 2) }
        put(70, UInt32(UInt16(bitPattern: type)), 2)
        put(76, Float(1).bitPattern, 4); put(80, Float(1).bitPattern, 4); put(84, Float(1).bitPattern, 4); put(88, Float(1).bitPattern, 4)
        put(108, voxOffset.bitPattern, 4)
        h[344] = UInt8(ascii: "n"); h[345] = UInt8(ascii: "+"); h[346] = UInt8(ascii: "1")
        return h
    }

    static func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let folder = TestPaths.temporaryFolder()
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a NIfTI-2 header whose dimensions' product overflows is refused")
    func overflow() throws {
        var h = [UInt8](repeating: 0, count: 544)
        func put(_ at: Int, _ v: UInt64, _ n: Int) { for k in 0..<n { h[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) } }
        put(0, 540, 4)
        for (k, b) in [0x6E, 0x2B, 0x32, 0, 0x0D, 0x0A, 0x1A, 0x0A].enumerated() { h[4 + k] = UInt8(b) }
        put(12, 64, 2)
        for (i, d) in [3, Int(Int32.max), Int(Int32.max), Int(Int32.max), 1, 1, 1, 1].enumerated() { put(16 + 8 * i, UInt64(d), 8) }
        put(168, 544, 8)
        let path = try Self.write(h, "overflow.nii")
        #expect { try NIfTI.read(path) } throws: { ($0 as? SegError)?.kind == .tooLarge && ($0 as? SegError)?.file == path }
    }

    @Test("a gzip bomb: a small file claiming more data than the limit is refused before inflating it")
    func gzipBomb() throws {
        // 1000 × 1000 × 1000 float64 = 8 GB claimed, of zeros that compress to a few MB at most.
        let header = Self.nifti1Header(dims: [3, 1000, 1000, 1000, 1, 1, 1, 1], type: 64)
        let path = try Self.write(try NIfTI.gzip(header + [UInt8](repeating: 0, count: 1 << 20), path: "bomb"), "bomb.nii.gz")
        var limits = NIfTI.Limits.standard
        limits.maxDataBytes = 1 << 30
        #expect { try NIfTI.read(path, limits: limits) } throws: { ($0 as? SegError)?.kind == .tooLarge }
        // Within the limit, only what the header announces is inflated: trailing megabytes are left unread.
        let small = Self.nifti1Header(dims: [3, 4, 4, 4, 1, 1, 1, 1])
        let padded = try Self.write(try NIfTI.gzip(small + [UInt8](repeating: 7, count: 64) + [UInt8](repeating: 0, count: 8 << 20), path: "pad"), "padded.nii.gz")
        #expect(try NIfTI.read(padded).data == [UInt8](repeating: 7, count: 64))
    }

    @Test("a file shorter than its header says is refused as truncated", arguments: [true, false])
    func shortFile(compressed: Bool) throws {
        let bytes = Self.nifti1Header(dims: [3, 10, 10, 10, 1, 1, 1, 1], type: 4) + [UInt8](repeating: 1, count: 100)
        let path = try Self.write(compressed ? try NIfTI.gzip(bytes, path: "short") : bytes, compressed ? "short.nii.gz" : "short.nii")
        #expect { try NIfTI.read(path) } throws: { ($0 as? SegError)?.kind == .truncated && ($0 as? SegError)?.file == path }
        let cut = try Self.write(Array(Self.nifti1Header(dims: [3, 1, 1, 1, 1, 1, 1, 1]).prefix(200)), "cut.nii")
        #expect { try NIfTI.read(cut) } throws: { ($0 as? SegError)?.kind == .truncated }
    }

    @Test("bad fields: unknown datatype, several volumes, vox_offset inside the header, not NIfTI")
    func badFields() throws {
        let cases: [([UInt8], SegError.Kind)] = [
            (Self.nifti1Header(dims: [3, 2, 2, 2, 1, 1, 1, 1], type: 128) + [UInt8](repeating: 0, count: 8 * 3), .unsupported),
            (Self.nifti1Header(dims: [4, 2, 2, 2, 3, 1, 1, 1]) + [UInt8](repeating: 0, count: 24), .unsupported),
            (Self.nifti1Header(dims: [3, 2, 2, 2, 1, 1, 1, 1], voxOffset: 100) + [UInt8](repeating: 0, count: 8), .corrupt),
            (Self.nifti1Header(dims: [3, -2, 2, 2, 1, 1, 1, 1]), .corrupt),
            ([UInt8](repeating: 0x41, count: 400), .corrupt),
        ]
        for (bytes, kind) in cases {
            let path = try Self.write(bytes, "bad.nii")
            #expect { try NIfTI.read(path) } throws: { ($0 as? SegError)?.kind == kind && ($0 as? SegError)?.file == path }
        }
        let fractional = try Self.write(Self.nifti1Header(dims: [3, 1, 1, 1, 1, 1, 1, 1], type: 16) + Array(Float(1.5).bitPattern.littleEndianBytes), "frac.nii")
        #expect { try NIfTI.readLabels(fractional) } throws: { ($0 as? SegError)?.kind == .invalid }
    }
}

private extension UInt32 {
    var littleEndianBytes: [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: self >> (8 * UInt32($0))) } }
}
