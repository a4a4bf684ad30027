import SegConcurrency
import SegCore

/// The distances between two surfaces, in millimetres: from every surface voxel of the
/// prediction to the nearest surface voxel of the reference, and back. MONAI's rules
/// (`get_mask_edges` + `get_surface_distance`): a surface voxel is a set voxel with a face
/// neighbour unset or outside the volume (4 neighbours on a 2-D image: a volume one slice deep);
/// distances are exact Euclidean ones with the voxel spacing (scipy's `distance_transform_edt`
/// with `sampling`). When one side is empty every distance is infinite (as many as the other
/// side's surface voxels); when both are, there are none and the metrics are NaN.
public struct SurfaceDistances: Sendable {
    public var predictionToReference: [Double]
    public var referenceToPrediction: [Double]

    public init(predictionToReference: [Double], referenceToPrediction: [Double]) {
        self.predictionToReference = predictionToReference
        self.referenceToPrediction = referenceToPrediction
    }

    /// MONAI's `HausdorffDistanceMetric`: the larger of the two directed distances' maxima, or
    /// their `percentile`s (torch.quantile's linear interpolation) when given.
    public func hausdorff(percentile: Double? = nil) -> Double {
        let a = Self.percentile(predictionToReference, percentile), b = Self.percentile(referenceToPrediction, percentile)
        return a.isNaN || b.isNaN ? .nan : max(a, b)
    }

    /// MONAI's `SurfaceDistanceMetric`: the mean of the prediction→reference distances, or with
    /// `symmetric` of both directions pooled.
    public func averageSurfaceDistance(symmetric: Bool) -> Double {
        let all = symmetric ? predictionToReference + referenceToPrediction : predictionToReference
        return all.isEmpty ? .nan : all.reduce(0, +) / Double(all.count)
    }

    /// MONAI's `SurfaceDiceMetric` (normalised surface Dice): the fraction of both surfaces within
    /// `tolerance` millimetres of the other.
    public func surfaceDice(tolerance: Double) -> Double {
        let total = predictionToReference.count + referenceToPrediction.count
        guard total > 0 else { return .nan }
        let close = predictionToReference.count { $0 <= tolerance } + referenceToPrediction.count { $0 <= tolerance }
        return Double(close) / Double(total)
    }

    static func percentile(_ values: [Double], _ p: Double?) -> Double {
        guard !values.isEmpty else { return .nan }
        guard let p else { return values.max() ?? .nan }
        let sorted = values.sorted()
        let position = p / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
        let weight = position - Double(low)
        // torch.quantile's lerp, in its two halves: infinite ends give NaN as they do there
        // (MONAI's HD95 of a structure missing on one side is NaN, while its HD is infinite).
        let a = sorted[low], b = sorted[high]
        return weight < 0.5 ? a + weight * (b - a) : b - (b - a) * (1 - weight)
    }
}

extension SurfaceDistances {
    /// The distances of one structure between two label volumes of the same grid. `box` is where
    /// the structure lies on either side (nil: nowhere); only that box, one voxel wider, is
    /// worked on. The distance transforms run over `workers`.
    public static func compute(reference: [UInt16], prediction: [UInt16], size: [Int], spacing: [Double],
                               labels: [UInt16], box: VoxelBox?, workers: Int) -> SurfaceDistances {
        guard let box else { return SurfaceDistances(predictionToReference: [], referenceToPrediction: []) }
        let flat = size[2] == 1
        let lo = (0..<3).map { max(0, box.low[$0] - 1) }, hi = (0..<3).map { min(size[$0] - 1, box.high[$0] + 1) }
        let crop = (0..<3).map { hi[$0] - lo[$0] + 1 }
        var member = [Bool](repeating: false, count: 65536)
        for l in labels { member[Int(l)] = true }
        let refEdges = surface(reference, size: size, lo: lo, crop: crop, member: member, flat: flat, workers: workers)
        let predEdges = surface(prediction, size: size, lo: lo, crop: crop, member: member, flat: flat, workers: workers)
        let refCount = refEdges.count { $0 != 0 }, predCount = predEdges.count { $0 != 0 }
        if refCount == 0 || predCount == 0 {
            let n = max(refCount, predCount)
            return SurfaceDistances(predictionToReference: [Double](repeating: .infinity, count: n),
                                    referenceToPrediction: [Double](repeating: .infinity, count: n))
        }
        let toRef = EuclideanDistance.squared(toSitesOf: refEdges, size: crop, spacing: spacing, workers: workers)
        let toPred = EuclideanDistance.squared(toSitesOf: predEdges, size: crop, spacing: spacing, workers: workers)
        var a: [Double] = [], b: [Double] = []
        a.reserveCapacity(predCount)
        b.reserveCapacity(refCount)
        for i in 0..<predEdges.count where predEdges[i] != 0 { a.append(toRef[i].squareRoot()) }
        for i in 0..<refEdges.count where refEdges[i] != 0 { b.append(toPred[i].squareRoot()) }
        return SurfaceDistances(predictionToReference: a, referenceToPrediction: b)
    }

    /// The surface voxels (1) of a structure within the crop: set, with a face neighbour unset or
    /// outside the volume.
    static func surface(_ labels: [UInt16], size: [Int], lo: [Int], crop: [Int], member: [Bool], flat: Bool, workers: Int) -> [UInt8] {
        let (nx, ny, nz) = (size[0], size[1], size[2])
        let (cx, cy, cz) = (crop[0], crop[1], crop[2])
        var out = [UInt8](repeating: 0, count: cx * cy * cz)
        out.withUnsafeMutableBufferPointer { dst in
            let dstBox = UnsafeSendable(dst)
            labels.withUnsafeBufferPointer { src in
                member.withUnsafeBufferPointer { member in
                    ParallelFor.run(cz, workers: workers) { k in
                        let z = lo[2] + k
                        @inline(__always) func set(_ x: Int, _ y: Int, _ z: Int) -> Bool {
                            x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz && member[Int(src[(z * ny + y) * nx + x])]
                        }
                        for j in 0..<cy {
                            let y = lo[1] + j
                            for i in 0..<cx {
                                let x = lo[0] + i
                                guard member[Int(src[(z * ny + y) * nx + x])] else { continue }
                                var inner = set(x - 1, y, z) && set(x + 1, y, z) && set(x, y - 1, z) && set(x, y + 1, z)
                                if inner && !flat { inner = set(x, y, z - 1) && set(x, y, z + 1) }
                                if !inner { dstBox.value[(k * cy + j) * cx + i] = 1 }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// A pointer handed to parallel workers that write disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The bounding box of a structure's voxels, inclusive, per axis (x, y, z).
public struct VoxelBox: Sendable, Equatable {
    public var low: [Int]
    public var high: [Int]

    public func union(_ other: VoxelBox?) -> VoxelBox {
        guard let other else { return self }
        return VoxelBox(low: zip(low, other.low).map { min($0, $1) }, high: zip(high, other.high).map { max($0, $1) })
    }

    /// Every label's box in one pass over the volume (z-slabs over `workers`), background included.
    public static func boxes(of labels: [UInt16], size: [Int], workers: Int) -> [UInt16: VoxelBox] {
        let (nx, ny, nz) = (size[0], size[1], size[2])
        struct Bounds { var x0, x1, y0, y1, z0, z1: Int }
        let parts: [[UInt16: Bounds]] = ParallelFor.map(nz, workers: workers) { z in
            var found: [UInt16: Bounds] = [:]
            labels.withUnsafeBufferPointer { src in
                for y in 0..<ny {
                    let row = (z * ny + y) * nx
                    var x = 0
                    while x < nx {
                        // A run of one label updates its box once.
                        let l = src[row + x]
                        var end = x + 1
                        while end < nx && src[row + end] == l { end += 1 }
                        if var b = found[l] {
                            b.x0 = min(b.x0, x); b.x1 = max(b.x1, end - 1); b.y1 = y
                            found[l] = b
                        } else {
                            found[l] = Bounds(x0: x, x1: end - 1, y0: y, y1: y, z0: z, z1: z)
                        }
                        x = end
                    }
                }
            }
            return found
        }
        var all: [UInt16: VoxelBox] = [:]
        for part in parts {
            for (l, b) in part { all[l] = VoxelBox(low: [b.x0, b.y0, b.z0], high: [b.x1, b.y1, b.z1]).union(all[l]) }
        }
        return all
    }
}
