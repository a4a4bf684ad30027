/// Where a voxel grid sits in the world: its size (x fastest, then y, then z), the voxel spacing
/// in millimetres, the voxel-to-world affine (4×4, row-major, RAS+ as NIfTI defines it) and the
/// orientation that affine implies. segterm reports the orientation and never reorients.
public struct VolumeGeometry: Sendable, Equatable {
    public var size: [Int]
    public var spacing: [Double]
    public var affine: [Double]

    public init(size: [Int], spacing: [Double], affine: [Double]) {
        precondition(size.count == 3 && spacing.count == 3 && affine.count == 16, "VolumeGeometry: 3 sizes, 3 spacings, 16 affine entries")
        self.size = size
        self.spacing = spacing
        self.affine = affine
    }

    public var voxelCount: Int { size[0] * size[1] * size[2] }
    /// Millimetres³ per voxel.
    public var voxelVolume: Double { spacing[0] * spacing[1] * spacing[2] }

    /// nibabel's `aff2axcodes`: for each voxel axis, the world direction it runs towards
    /// ("R"/"L", "A"/"P", "S"/"I"), taking the strongest component first as `io_orientation` does.
    public var orientation: String {
        var m = [[Double]](repeating: [0, 0, 0], count: 3)  // m[world][voxel], columns divided by their length
        for voxel in 0..<3 {
            let column = (0..<3).map { affine[$0 * 4 + voxel] }
            let length = column.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for world in 0..<3 { m[world][voxel] = length > 0 ? column[world] / length : 0 }
        }
        var codes: [Character] = ["?", "?", "?"]
        var usedWorld = Set<Int>(), usedVoxel = Set<Int>()
        for _ in 0..<3 {
            var best = (world: -1, voxel: -1, value: 0.0)
            for w in 0..<3 where !usedWorld.contains(w) {
                for v in 0..<3 where !usedVoxel.contains(v) && abs(m[w][v]) > abs(best.value) {
                    best = (w, v, m[w][v])
                }
            }
            guard best.world >= 0 else { break }
            usedWorld.insert(best.world)
            usedVoxel.insert(best.voxel)
            let pair: [Character] = [["R", "L"], ["A", "P"], ["S", "I"]][best.world]
            codes[best.voxel] = best.value > 0 ? pair[0] : pair[1]
        }
        return String(codes)
    }
}

/// A 3-D grid of voxels, x fastest: index = x + size.x * (y + size.y * z).
public struct Volume<Voxel: Sendable & Equatable>: Sendable, Equatable {
    public var geometry: VolumeGeometry
    public var voxels: [Voxel]

    public init(geometry: VolumeGeometry, voxels: [Voxel]) {
        precondition(voxels.count == geometry.voxelCount, "Volume: voxel count mismatch")
        self.geometry = geometry
        self.voxels = voxels
    }

    public enum Axis: String, Sendable, CaseIterable {
        /// Planes of constant z (x across, y down), constant y, constant x.
        case axial, coronal, sagittal
        var fixed: Int { switch self { case .axial: 2; case .coronal: 1; case .sagittal: 0 } }
    }

    /// Number of slices along an axis.
    public func sliceCount(_ axis: Axis) -> Int { geometry.size[axis.fixed] }

    /// One plane, row-major: axial planes run x across and y down, coronal x across and z down,
    /// sagittal y across and z down, each with the voxel index order (no flipping to a radiological
    /// view: that choice belongs to the viewer). nil when `index` is out of range.
    public func slice(_ axis: Axis, at index: Int) -> (width: Int, height: Int, voxels: [Voxel])? {
        let (nx, ny, nz) = (geometry.size[0], geometry.size[1], geometry.size[2])
        guard index >= 0, index < geometry.size[axis.fixed] else { return nil }
        switch axis {
        case .axial:
            return (nx, ny, Array(voxels[(index * nx * ny)..<((index + 1) * nx * ny)]))
        case .coronal:
            var out: [Voxel] = []
            out.reserveCapacity(nx * nz)
            for z in 0..<nz { out += voxels[((z * ny + index) * nx)..<((z * ny + index) * nx + nx)] }
            return (nx, nz, out)
        case .sagittal:
            var out: [Voxel] = []
            out.reserveCapacity(ny * nz)
            for z in 0..<nz { for y in 0..<ny { out.append(voxels[(z * ny + y) * nx + index]) } }
            return (ny, nz, out)
        }
    }

    /// The in-plane pixel spacing (across, down) of a slice, in millimetres.
    public func sliceSpacing(_ axis: Axis) -> (across: Double, down: Double) {
        let s = geometry.spacing
        switch axis {
        case .axial: return (s[0], s[1])
        case .coronal: return (s[0], s[2])
        case .sagittal: return (s[1], s[2])
        }
    }
}

public typealias LabelVolume = Volume<UInt16>
public typealias ScalarVolume = Volume<Float>

extension Volume where Voxel == UInt16 {
    /// A slice as a `LabelMap` (what the 2-D viewers and metrics take).
    public func labelMap(_ axis: Axis, at index: Int) -> LabelMap? {
        slice(axis, at: index).map { LabelMap(width: $0.width, height: $0.height, labels: $0.voxels.map(UInt32.init)) }
    }
}

/// Display windows: a grey level per scalar, (value - (level - width / 2)) / width, clipped.
public struct IntensityWindow: Sendable, Equatable {
    public var level: Double
    public var width: Double

    public init(level: Double, width: Double) {
        self.level = level
        self.width = max(width, .leastNonzeroMagnitude)
    }

    /// The usual CT presets in Hounsfield units.
    public static let ctSoftTissue = IntensityWindow(level: 40, width: 400)
    public static let ctLung = IntensityWindow(level: -600, width: 1500)
    public static let ctBone = IntensityWindow(level: 400, width: 1800)

    /// MR has no absolute scale: the window spans the given percentiles of the values (0.5 and
    /// 99.5 by default), read from a sorted sample so a large volume costs little.
    public static func percentile(_ values: [Float], low: Double = 0.5, high: Double = 99.5) -> IntensityWindow {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return IntensityWindow(level: 0, width: 1) }
        let step = max(1, finite.count / 1_000_000)
        let sample = stride(from: 0, to: finite.count, by: step).map { finite[$0] }.sorted()
        func at(_ p: Double) -> Double { Double(sample[min(sample.count - 1, Int((p / 100 * Double(sample.count - 1)).rounded()))]) }
        let lo = at(low), hi = at(high)
        return IntensityWindow(level: (lo + hi) / 2, width: max(hi - lo, 1e-6))
    }

    /// Grey levels 0...255 of a plane.
    public func grey(_ values: [Float]) -> [UInt8] {
        let low = level - width / 2
        return values.map { v in
            let t = (Double(v) - low) / width
            return t.isNaN ? 0 : UInt8(max(0, min(255, (t * 255).rounded())))
        }
    }
}
