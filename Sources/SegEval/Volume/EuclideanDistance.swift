import SegConcurrency

/// The exact Euclidean distance transform of a 3-D grid with anisotropic voxels: for every voxel,
/// the squared distance in millimetres to the nearest site (a voxel that is 1). Felzenszwalb and
/// Huttenlocher's separable lower envelope of parabolas, one axis after another, in doubles so the
/// spacing enters exactly (scipy's `distance_transform_edt(~sites, sampling=spacing)`, squared).
/// Each pass runs its lines over `workers`.
enum EuclideanDistance {
    static func squared(toSitesOf sites: [UInt8], size: [Int], spacing: [Double], workers: Int) -> [Double] {
        let (nx, ny, nz) = (size[0], size[1], size[2])
        var d = [Double](repeating: .infinity, count: nx * ny * nz)
        d.withUnsafeMutableBufferPointer { buffer in
            let out = UnsafeSendable(buffer)
            // x: the nearest site in the row, two sweeps.
            sites.withUnsafeBufferPointer { src in
                ParallelFor.run(ny * nz, workers: workers, block: 16) { line in
                    let base = line * nx, s = spacing[0]
                    var last = -1
                    for x in 0..<nx {
                        if src[base + x] != 0 { last = x }
                        if last >= 0 { let t = Double(x - last) * s; out.value[base + x] = t * t }
                    }
                    last = -1
                    for x in stride(from: nx - 1, through: 0, by: -1) {
                        if src[base + x] != 0 { last = x }
                        if last >= 0 { let t = Double(last - x) * s; out.value[base + x] = min(out.value[base + x], t * t) }
                    }
                }
            }
            // y and z: the lower envelope along each line of the previous pass's values.
            if ny > 1 {
                ParallelFor.run(nx * nz, workers: workers, block: 16) { line in
                    let x = line % nx, z = line / nx
                    envelope(out.value, start: z * nx * ny + x, stride: nx, count: ny, spacing: spacing[1])
                }
            }
            if nz > 1 {
                ParallelFor.run(nx * ny, workers: workers, block: 16) { line in
                    envelope(out.value, start: line, stride: nx * ny, count: nz, spacing: spacing[2])
                }
            }
        }
        return d
    }

    /// One line in place: f(q) ← min over p of f(p) + ((q − p) s)².
    static func envelope(_ data: UnsafeMutableBufferPointer<Double>, start: Int, stride: Int, count n: Int, spacing s: Double) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * n + 1) { scratch in
            let f = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
            let bound = UnsafeMutableBufferPointer(rebasing: scratch[n..<(2 * n + 1)])
            let vertex = UnsafeMutableBufferPointer(rebasing: scratch[(2 * n + 1)..<(3 * n + 1)])
            for q in 0..<n { f[q] = data[start + q * stride] }
            var k = -1
            for q in 0..<n where f[q].isFinite {
                let xq = Double(q) * s
                var cut = -Double.infinity
                while k >= 0 {
                    let p = vertex[k], xp = p * s
                    cut = ((f[q] + xq * xq) - (f[Int(p)] + xp * xp)) / (2 * (xq - xp))
                    if cut <= bound[k] { k -= 1; cut = -.infinity } else { break }
                }
                k += 1
                vertex[k] = Double(q)
                bound[k] = k == 0 ? -.infinity : cut
            }
            guard k >= 0 else { return }  // no finite value on the line: it stays infinite
            bound[k + 1] = .infinity
            var j = 0
            for q in 0..<n {
                let x = Double(q) * s
                while bound[j + 1] < x { j += 1 }
                let t = x - vertex[j] * s
                data[start + q * stride] = t * t + f[Int(vertex[j])]
            }
        }
    }
}
