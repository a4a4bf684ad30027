/// How a workbench shows one plane of a volume: which voxel axes run across and down, whether
/// each is flipped, and how the plane is stretched so that its pixels are square in millimetres.
///
/// The flips follow the radiological convention from the affine's orientation codes (never by
/// resampling the volume): a shown axis runs towards the patient's left, posterior or inferior, so
/// an axial plane has the patient's right on the screen's left and anterior at the top, coronal
/// and sagittal planes have superior at the top, and sagittal has anterior on the left.
/// Stretching repeats voxels (nearest neighbour): a display pixel maps to exactly one voxel, and a
/// mask drawn on the display maps back by sampling each voxel's centre, so a voxel mask shown and
/// read back is unchanged.
public struct VolumeSliceView: Sendable, Equatable {
    public enum Plane: String, Sendable, CaseIterable {
        case axial, coronal, sagittal

        /// Voxel axes (0 x, 1 y, 2 z) across, down and through the plane.
        public var axes: (across: Int, down: Int, fixed: Int) {
            switch self {
            case .axial: (0, 1, 2)
            case .coronal: (0, 2, 1)
            case .sagittal: (1, 2, 0)
            }
        }

        public var next: Plane {
            switch self {
            case .axial: .coronal
            case .coronal: .sagittal
            case .sagittal: .axial
            }
        }
    }

    public var plane: Plane
    /// Voxel counts along x, y, z, and the spacing in millimetres.
    public var size: [Int]
    public var spacing: [Double]
    public var flipAcross: Bool
    public var flipDown: Bool
    /// The displayed plane, in pixels.
    public var width: Int
    public var height: Int

    /// The largest stretch of one axis against the other (a 5 mm slice over 0.5 mm pixels shows
    /// each voxel 8 times, not 10), so a very anisotropic volume stays a sensible image size.
    public static let maxStretch = 8.0

    /// `orientation`: the three orientation codes of the voxel axes (`VolumeGeometry.orientation`).
    public init(plane: Plane, size: [Int], spacing: [Double], orientation: String) {
        precondition(size.count == 3 && spacing.count == 3, "VolumeSliceView: 3 sizes and 3 spacings")
        self.plane = plane
        self.size = size
        self.spacing = spacing.map { $0 > 0 && $0.isFinite ? $0 : 1 }
        let codes = Array(orientation)
        func flipped(_ axis: Int) -> Bool { codes.indices.contains(axis) && "RAS".contains(codes[axis]) }
        let (a, d, _) = plane.axes
        flipAcross = flipped(a)
        flipDown = flipped(d)
        let across = self.spacing[a], down = self.spacing[d]
        let ratio = min(max(down / across, 1 / Self.maxStretch), Self.maxStretch)
        width = ratio < 1 ? max(1, Int((Double(size[a]) / ratio).rounded())) : size[a]
        height = ratio > 1 ? max(1, Int((Double(size[d]) * ratio).rounded())) : size[d]
    }

    /// Number of planes.
    public var count: Int { size[plane.axes.fixed] }
    /// Voxels across and down in one plane.
    public var voxelsAcross: Int { size[plane.axes.across] }
    public var voxelsDown: Int { size[plane.axes.down] }

    /// The voxel (x, y, z) shown at display pixel (column, row) of plane `slice`.
    public func voxel(column: Int, row: Int, slice: Int) -> [Int] {
        let (a, d, f) = plane.axes
        var i = min(voxelsAcross - 1, max(0, column * voxelsAcross / width))
        var j = min(voxelsDown - 1, max(0, row * voxelsDown / height))
        if flipAcross { i = voxelsAcross - 1 - i }
        if flipDown { j = voxelsDown - 1 - j }
        var v = [0, 0, 0]
        v[a] = i
        v[d] = j
        v[f] = slice
        return v
    }

    /// The display pixel at the centre of voxel `v`'s footprint in its plane.
    public func pixel(of v: [Int]) -> (column: Int, row: Int) {
        let (a, d, _) = plane.axes
        let i = flipAcross ? voxelsAcross - 1 - v[a] : v[a]
        let j = flipDown ? voxelsDown - 1 - v[d] : v[d]
        return (min(width - 1, Int((Double(i) + 0.5) * Double(width) / Double(voxelsAcross))),
                min(height - 1, Int((Double(j) + 0.5) * Double(height) / Double(voxelsDown))))
    }

    private func linear(_ v: [Int]) -> Int { v[0] + size[0] * (v[1] + size[1] * v[2]) }

    /// The displayed plane `slice` of `volume` (row-major, `width` × `height`); nil when out of range.
    public func extract<Voxel>(_ volume: Volume<Voxel>, slice: Int) -> [Voxel]? {
        guard volume.geometry.size == size, slice >= 0, slice < count else { return nil }
        // The voxel index of each display column and row, computed once per plane.
        let (a, d, f) = plane.axes
        var stride = [1, size[0], size[0] * size[1]]
        let columns = (0..<width).map { c in voxel(column: c, row: 0, slice: 0)[a] * stride[a] }
        let rows = (0..<height).map { r in voxel(column: 0, row: r, slice: 0)[d] * stride[d] }
        stride[f] *= slice
        let base = stride[f]
        var out: [Voxel] = []
        out.reserveCapacity(width * height)
        volume.voxels.withUnsafeBufferPointer { src in
            for r in rows { for c in columns { out.append(src[base + r + c]) } }
        }
        return out
    }

    /// Writes `value` into plane `slice` of `volume` at every voxel whose centre the mask covers
    /// (a mask of the displayed size). It only paints: what the other voxels hold is the caller's.
    public func paste(_ mask: Mask, value: UInt16, into volume: inout Volume<UInt16>, slice: Int) {
        guard mask.width == width, mask.height == height, volume.geometry.size == size, slice >= 0, slice < count else { return }
        let (a, d, f) = plane.axes
        var v = [0, 0, 0]
        v[f] = slice
        for j in 0..<voxelsDown {
            v[d] = j
            for i in 0..<voxelsAcross {
                v[a] = i
                let p = pixel(of: v)
                if mask.bits[p.row * width + p.column] != 0 { volume.voxels[linear(v)] = value }
            }
        }
    }
}
