/// The 8-connected pixel grid as a flow graph, with a table from (pixel, direction) to arc so
/// energies can set capacities by geometry. Built once per image size.
struct PixelGrid: Sendable {
    /// Neighbour offsets; direction `7 - d` is the opposite of `d`.
    static let dx: [Int] = [-1, 0, 1, -1, 1, -1, 0, 1]
    static let dy: [Int] = [-1, -1, -1, 0, 0, 1, 1, 1]
    static let length: [Float] = [Float(2).squareRoot(), 1, Float(2).squareRoot(), 1, 1, Float(2).squareRoot(), 1, Float(2).squareRoot()]

    let width: Int
    let height: Int
    let topology: FlowTopology
    /// arc[i * 8 + d]: the arc from pixel i towards direction d, or -1 at the image border.
    let arc: [Int32]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        let n = width * height
        var arcStart = [Int32](repeating: 0, count: n + 1)
        var arc = [Int32](repeating: -1, count: n * 8)
        var count: Int32 = 0
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                arcStart[i] = count
                for d in 0..<8 {
                    let nx = x + Self.dx[d], ny = y + Self.dy[d]
                    if nx >= 0 && ny >= 0 && nx < width && ny < height {
                        arc[i * 8 + d] = count
                        count += 1
                    }
                }
            }
        }
        arcStart[n] = count
        var head = [Int32](repeating: 0, count: Int(count))
        var sister = [Int32](repeating: 0, count: Int(count))
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                for d in 0..<8 {
                    let a = Int(arc[i * 8 + d])
                    guard a >= 0 else { continue }
                    let j = (y + Self.dy[d]) * width + x + Self.dx[d]
                    head[a] = Int32(j)
                    sister[a] = arc[j * 8 + 7 - d]
                }
            }
        }
        self.arc = arc
        topology = FlowTopology(nodeCount: n, arcStart: arcStart, head: head, sister: sister)
    }
}

/// Geodesic distances on the pixel grid from a set of source pixels, with the shortest-path
/// tree. A step between neighbours costs sqrt(length² + (κ·|Δcolour|)²): κ = 0 is plain
/// Euclidean distance along the grid, larger κ makes colour edges long to cross, so the tree
/// follows homogeneous regions (Gulshan et al., "Geodesic star convexity for interactive image
/// segmentation", CVPR 2010).
///
/// Computed by alternating forward and backward raster scans, the standard approximation: each
/// scan relaxes the four neighbours already visited, and two round trips reach all but a few
/// spiral-shaped paths. It is exact enough for a shape prior and orders of magnitude cheaper
/// than Dijkstra with a heap.
struct GeodesicTree {
    var distance: [Float]
    /// Direction (0–7) from each pixel to its parent on the shortest path, or -1 at sources and
    /// unreached pixels.
    var parent: [Int8]

    /// `stepCost[i * 4 + k]` is the cost between pixel i and its forward neighbour k
    /// (k: right, down-left, down, down-right), precomputed per image.
    static func compute(width: Int, height: Int, stepCost: [Float], sources: [Int32], passes: Int = 2) -> GeodesicTree {
        let n = width * height
        var dist = [Float](repeating: .infinity, count: n)
        var parent = [Int8](repeating: -1, count: n)
        for s in sources where s >= 0 && Int(s) < n { dist[Int(s)] = 0 }
        dist.withUnsafeMutableBufferPointer { d in
            parent.withUnsafeMutableBufferPointer { p in
                stepCost.withUnsafeBufferPointer { c in
                    for _ in 0..<passes {
                        // Forward: neighbours above and to the left. Direction ids as PixelGrid.
                        for y in 0..<height {
                            for x in 0..<width {
                                let i = y * width + x
                                var best = d[i], bestDir: Int8 = p[i]
                                if x > 0 { let v = d[i - 1] + c[(i - 1) * 4 + 0]; if v < best { best = v; bestDir = 3 } }
                                if y > 0 {
                                    let up = i - width
                                    let v = d[up] + c[up * 4 + 2]; if v < best { best = v; bestDir = 1 }
                                    if x > 0 { let v = d[up - 1] + c[(up - 1) * 4 + 3]; if v < best { best = v; bestDir = 0 } }
                                    if x + 1 < width { let v = d[up + 1] + c[(up + 1) * 4 + 1]; if v < best { best = v; bestDir = 2 } }
                                }
                                d[i] = best; p[i] = bestDir
                            }
                        }
                        // Backward: neighbours below and to the right.
                        for y in stride(from: height - 1, through: 0, by: -1) {
                            for x in stride(from: width - 1, through: 0, by: -1) {
                                let i = y * width + x
                                var best = d[i], bestDir: Int8 = p[i]
                                if x + 1 < width { let v = d[i + 1] + c[i * 4 + 0]; if v < best { best = v; bestDir = 4 } }
                                if y + 1 < height {
                                    let down = i + width
                                    let v = d[down] + c[i * 4 + 2]; if v < best { best = v; bestDir = 6 }
                                    if x + 1 < width { let v = d[down + 1] + c[i * 4 + 3]; if v < best { best = v; bestDir = 7 } }
                                    if x > 0 { let v = d[down - 1] + c[i * 4 + 1]; if v < best { best = v; bestDir = 5 } }
                                }
                                d[i] = best; p[i] = bestDir
                            }
                        }
                    }
                }
            }
        }
        return GeodesicTree(distance: dist, parent: parent)
    }
}
