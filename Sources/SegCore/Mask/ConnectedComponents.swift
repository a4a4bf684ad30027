/// Which neighbours join pixels into one component.
public enum Connectivity: Sendable {
    /// Left, right, up, down (scipy.ndimage.label's default structure).
    case four
    /// The 4 above plus the diagonals (scipy's `structure=np.ones((3, 3))`).
    case eight
}

/// The components of a mask: `labels` holds 0 on unset pixels and 1...count on set ones.
public struct ConnectedComponents: Equatable, Sendable {
    public let labels: LabelMap
    public let count: Int
}

extension Mask {
    /// Labels the connected set pixels 1...n, numbered in raster order of each component's first
    /// pixel — the numbering of `scipy.ndimage.label`.
    ///
    /// Two passes over the pixels with a union-find over provisional labels (no recursion, one
    /// `UInt32` per pixel plus one per provisional label). Throws `.tooLarge` only for a mask of
    /// more than 2^32 - 1 pixels, whose labels would not fit a `LabelMap`.
    public func connectedComponents(_ connectivity: Connectivity = .four) throws -> ConnectedComponents {
        let w = width, h = height
        guard w * h < Int(UInt32.max) else {
            throw SegError(.tooLarge, file: "", "mask of \(w)x\(h) pixels has too many pixels to label")
        }
        var labels = [UInt32](repeating: 0, count: w * h)
        var forest = LabelForest()
        bits.withUnsafeBufferPointer { src in
            labels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w
                    for x in 0..<w where src[row + x] != 0 {
                        dst[row + x] = forest.provisionalLabel(
                            neighbours: visitedNeighbours(dst, x: x, y: y, width: w, connectivity))
                    }
                }
                let final = forest.finalLabels()
                for i in 0..<(w * h) where dst[i] != 0 { dst[i] = final[Int(dst[i])] }
            }
        }
        return ConnectedComponents(labels: LabelMap(width: w, height: h, labels: labels), count: forest.componentCount)
    }
}

/// The labels of the already-visited neighbours of (x, y): left, then the row above (0 where unset
/// or outside). A fixed-size tuple keeps the pixel loop free of allocation.
@inline(__always)
private func visitedNeighbours(_ labels: UnsafeMutableBufferPointer<UInt32>, x: Int, y: Int, width w: Int,
                               _ connectivity: Connectivity) -> (UInt32, UInt32, UInt32, UInt32) {
    let i = y * w + x
    let left = x > 0 ? labels[i - 1] : 0
    guard y > 0 else { return (left, 0, 0, 0) }
    let up = labels[i - w]
    guard connectivity == .eight else { return (left, up, 0, 0) }
    let upLeft = x > 0 ? labels[i - w - 1] : 0
    let upRight = x + 1 < w ? labels[i - w + 1] : 0
    return (left, up, upLeft, upRight)
}

/// Union-find over provisional labels. Each root is the smallest label of its set, which is the
/// label given to the set's first pixel in raster order, so numbering roots in increasing order
/// numbers components in raster order of their first pixel.
private struct LabelForest {
    private var parent: [UInt32] = [0]  // index 0 is the background
    private(set) var componentCount = 0

    /// The label for a set pixel given its visited neighbours: a new one if none is set, else the
    /// first set one, after merging all of theirs.
    mutating func provisionalLabel(neighbours n: (UInt32, UInt32, UInt32, UInt32)) -> UInt32 {
        var label: UInt32 = 0
        join(&label, n.0)
        join(&label, n.1)
        join(&label, n.2)
        join(&label, n.3)
        if label == 0 {
            label = UInt32(parent.count)
            parent.append(label)
        }
        return label
    }

    @inline(__always)
    private mutating func join(_ label: inout UInt32, _ candidate: UInt32) {
        guard candidate != 0 else { return }
        if label == 0 { label = candidate } else if candidate != label { union(label, candidate) }
    }

    private mutating func find(_ label: UInt32) -> UInt32 {
        var x = Int(label)
        while parent[x] != UInt32(x) {
            parent[x] = parent[Int(parent[x])]  // path halving
            x = Int(parent[x])
        }
        return UInt32(x)
    }

    private mutating func union(_ a: UInt32, _ b: UInt32) {
        let ra = find(a), rb = find(b)
        if ra < rb { parent[Int(rb)] = ra } else if rb < ra { parent[Int(ra)] = rb }
    }

    /// Maps every provisional label to its final one. Parents are always smaller than their
    /// children, so one increasing pass sees each root before the labels below it.
    mutating func finalLabels() -> [UInt32] {
        var final = [UInt32](repeating: 0, count: parent.count)
        var next: UInt32 = 0
        for label in 1..<max(1, parent.count) {
            let root = Int(parent[label])
            if root == label {
                next += 1
                final[label] = next
            } else {
                final[label] = final[root]
            }
        }
        componentCount = Int(next)
        return final
    }
}
