import SegCore

/// Lesions the prediction missed: the reference's 6-connected components of a structure that
/// share no voxel with the prediction's structure, by volume in mm³ (largest first).
enum MissedLesions {
    static func volumes(reference: LabelVolume, prediction: LabelVolume, labels: [UInt16], box: VoxelBox?) -> [Double] {
        guard let box else { return [] }
        let size = reference.geometry.size
        let (nx, ny) = (size[0], size[1])
        let lo = box.low, crop = (0..<3).map { box.high[$0] - box.low[$0] + 1 }
        var member = [Bool](repeating: false, count: 65536)
        for l in labels { member[Int(l)] = true }
        let count = crop[0] * crop[1] * crop[2]
        var seen = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var out: [Double] = []
        @inline(__always) func global(_ i: Int) -> Int {
            let x = i % crop[0], y = (i / crop[0]) % crop[1], z = i / (crop[0] * crop[1])
            return ((lo[2] + z) * ny + lo[1] + y) * nx + lo[0] + x
        }
        for start in 0..<count where !seen[start] && member[Int(reference.voxels[global(start)])] {
            var voxels = 0, hit = false
            seen[start] = true
            stack.append(start)
            while let i = stack.popLast() {
                voxels += 1
                if member[Int(prediction.voxels[global(i)])] { hit = true }
                let x = i % crop[0], y = (i / crop[0]) % crop[1], z = i / (crop[0] * crop[1])
                for (dx, dy, dz) in [(-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1)] {
                    let (a, b, c) = (x + dx, y + dy, z + dz)
                    guard a >= 0, b >= 0, c >= 0, a < crop[0], b < crop[1], c < crop[2] else { continue }
                    let j = (c * crop[1] + b) * crop[0] + a
                    if !seen[j] && member[Int(reference.voxels[global(j)])] { seen[j] = true; stack.append(j) }
                }
            }
            if !hit { out.append(Double(voxels) * reference.geometry.voxelVolume) }
        }
        return out.sorted(by: >)
    }
}
