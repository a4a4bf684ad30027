import Foundation

/// A mixture of full-covariance Gaussians over 3-d colour vectors, the colour model of GrabCut
/// (Rother, Kolmogorov & Blake 2004). Fitting is deterministic: clusters are split along their
/// principal axis (Orchard & Bouman 1991) instead of seeded at random, so the same clicks always
/// give the same mask.
struct GaussianMixture: Sendable {
    struct Component: Sendable {
        var mean: (Float, Float, Float)
        // Inverse covariance, symmetric: xx, xy, xz, yy, yz, zz.
        var inv: (Float, Float, Float, Float, Float, Float)
        /// log(weight) − ½ log det Σ − (3/2) log 2π.
        var logScale: Float
    }

    var components: [Component]

    /// Samples are rows of `data` (3 floats each) chosen by `indices`.
    /// `floor` is added to every covariance diagonal: it keeps a component fitted to a flat
    /// region (a sky, a wall) from becoming a needle that rejects the same colour one JPEG step away.
    static func fit(data: UnsafeBufferPointer<Float>, indices: [Int32], count k: Int, floor: Double, refinements: Int = 2) -> GaussianMixture? {
        guard !indices.isEmpty else { return nil }
        // Hard cluster labels, grown by splitting.
        var label = [Int32](repeating: 0, count: indices.count)
        var clusters = 1
        while clusters < k {
            let stats = Stats.compute(data: data, indices: indices, label: label, clusters: clusters)
            // Split the cluster with the largest variance along its principal axis.
            var best = -1
            var bestValue = 0.0
            var bestAxis = (0.0, 0.0, 0.0)
            for c in 0..<clusters where stats[c].count >= 2 {
                let (value, axis) = stats[c].principal()
                if value > bestValue { bestValue = value; best = c; bestAxis = axis }
            }
            if best < 0 || bestValue <= 1e-9 { break }
            let m = stats[best].mean
            let threshold = bestAxis.0 * m.0 + bestAxis.1 * m.1 + bestAxis.2 * m.2
            for s in 0..<indices.count where Int(label[s]) == best {
                let i = Int(indices[s]) * 3
                let p = bestAxis.0 * Double(data[i]) + bestAxis.1 * Double(data[i + 1]) + bestAxis.2 * Double(data[i + 2])
                if p > threshold { label[s] = Int32(clusters) }
            }
            clusters += 1
        }
        var model = make(Stats.compute(data: data, indices: indices, label: label, clusters: clusters),
                         total: indices.count, floor: floor)
        // A few rounds of hard assignment to the most likely component (GrabCut's own update).
        for _ in 0..<refinements {
            for s in 0..<indices.count {
                let i = Int(indices[s]) * 3
                label[s] = Int32(model.mostLikely(data[i], data[i + 1], data[i + 2]))
            }
            model = make(Stats.compute(data: data, indices: indices, label: label, clusters: model.components.count),
                         total: indices.count, floor: floor)
        }
        return model
    }

    /// GrabCut's own update: every sample goes to the component of `previous` that explains it
    /// best, then each component is re-estimated from its samples. One pass instead of a fit from
    /// scratch, and the components keep their identity from round to round.
    static func refit(_ previous: GaussianMixture, data: UnsafeBufferPointer<Float>, indices: [Int32], floor: Double) -> GaussianMixture? {
        guard !indices.isEmpty, !previous.components.isEmpty else { return nil }
        var label = [Int32](repeating: 0, count: indices.count)
        for s in 0..<indices.count {
            let i = Int(indices[s]) * 3
            label[s] = Int32(previous.mostLikely(data[i], data[i + 1], data[i + 2]))
        }
        return make(Stats.compute(data: data, indices: indices, label: label, clusters: previous.components.count),
                    total: indices.count, floor: floor)
    }

    private static func make(_ stats: [Stats], total: Int, floor: Double) -> GaussianMixture {
        var comps: [Component] = []
        for s in stats where s.count > 0 {
            let w = Double(s.count) / Double(total)
            var c = s.covariance()
            c.0 += floor; c.3 += floor; c.5 += floor
            let (inv, det) = invert(c)
            let logScale = log(w) - 0.5 * log(max(det, 1e-30)) - 1.5 * log(2 * Double.pi)
            comps.append(Component(mean: (Float(s.mean.0), Float(s.mean.1), Float(s.mean.2)),
                                   inv: (Float(inv.0), Float(inv.1), Float(inv.2), Float(inv.3), Float(inv.4), Float(inv.5)),
                                   logScale: Float(logScale)))
        }
        return GaussianMixture(components: comps)
    }

    @inline(__always) private static func quad(_ c: Component, _ x: Float, _ y: Float, _ z: Float) -> Float {
        let dx = x - c.mean.0, dy = y - c.mean.1, dz = z - c.mean.2
        let q = c.inv.0 * dx * dx + c.inv.3 * dy * dy + c.inv.5 * dz * dz
            + 2 * (c.inv.1 * dx * dy + c.inv.2 * dx * dz + c.inv.4 * dy * dz)
        return q
    }

    func mostLikely(_ x: Float, _ y: Float, _ z: Float) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for (k, c) in components.enumerated() {
            let v = c.logScale - 0.5 * Self.quad(c, x, y, z)
            if v > bestValue { bestValue = v; best = k }
        }
        return best
    }

    /// −log p(x) of one colour.
    func negativeLogLikelihood(_ x: Float, _ y: Float, _ z: Float) -> Float {
        var top = -Float.infinity
        for c in components { top = max(top, c.logScale - 0.5 * Self.quad(c, x, y, z)) }
        var sum: Float = 0
        for c in components { sum += expf(c.logScale - 0.5 * Self.quad(c, x, y, z) - top) }
        return -(top + logf(sum))
    }

    /// −log p(x) for every pixel, the colours given as three planes (L, a, b), into `out`.
    /// Eight pixels at a time in SIMD lanes, with a polynomial exp: this runs for every pixel of
    /// the coarse level in every round of every click, and libm's scalar expf was a third of it.
    func negativeLogLikelihood(l: UnsafeBufferPointer<Float>, a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
                               into out: UnsafeMutableBufferPointer<Float>) {
        let n = out.count
        let k = components.count
        guard k > 0 else { out.update(repeating: .infinity); return }
        components.withUnsafeBufferPointer { cs in
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: k) { v in
                var start = 0
                while start < n {
                    let count = min(8, n - start)
                    var x = SIMD8<Float>(repeating: 0), y = x, z = x
                    if count == 8, let lp = l.baseAddress, let ap = a.baseAddress, let bp = b.baseAddress {
                        x = UnsafeRawPointer(lp + start).loadUnaligned(as: SIMD8<Float>.self)
                        y = UnsafeRawPointer(ap + start).loadUnaligned(as: SIMD8<Float>.self)
                        z = UnsafeRawPointer(bp + start).loadUnaligned(as: SIMD8<Float>.self)
                    } else {
                        for j in 0..<count { x[j] = l[start + j]; y[j] = a[start + j]; z[j] = b[start + j] }
                    }
                    var top = SIMD8<Float>(repeating: -.greatestFiniteMagnitude)
                    for c in 0..<k {
                        let m = cs[c]
                        let dx = x - m.mean.0, dy = y - m.mean.1, dz = z - m.mean.2
                        var q = m.inv.0 * dx * dx + m.inv.3 * dy * dy + m.inv.5 * dz * dz
                        q += 2 * (m.inv.1 * dx * dy + m.inv.2 * dx * dz + m.inv.4 * dy * dz)
                        let value = m.logScale - 0.5 * q
                        v[c] = value
                        top = pointwiseMax(top, value)
                    }
                    var sum = SIMD8<Float>(repeating: 0)
                    for c in 0..<k { sum += Self.exp(v[c] - top) }
                    for j in 0..<count { out[start + j] = -(top[j] + logf(sum[j])) }
                    start += 8
                }
            }
        }
    }

    /// e^x for x ≤ 0 (to about 2·10⁻⁴ relative): 2^(x log₂e) split into an integer power, built
    /// in the exponent bits, and a fifth-order polynomial for the fraction. Below −87 it is 0.
    @inline(__always) static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let t = pointwiseMax(x, SIMD8(repeating: -87)) * 1.442_695_04
        let whole = t.rounded(.down)
        let f = t - whole
        var p = SIMD8<Float>(repeating: 0.001_333_355_8)
        p = p * f + 0.009_618_129
        p = p * f + 0.055_504_11
        p = p * f + 0.240_226_5
        p = p * f + 0.693_147_2
        p = p * f + 1
        // whole + 127 is an integer in 0…127; adding 2²³ puts it in the low mantissa bits, from
        // where it moves to the exponent field (a float-to-int conversion without the generic path).
        let biased = unsafeBitCast(whole + (127 + 8_388_608), to: SIMD8<Int32>.self) & 0xFF
        return p * unsafeBitCast(biased &<< 23, to: SIMD8<Float>.self)
    }

    // MARK: Sufficient statistics

    struct Stats {
        var count = 0
        var sum = (0.0, 0.0, 0.0)
        var prod = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  // xx, xy, xz, yy, yz, zz

        var mean: (Double, Double, Double) {
            let n = Double(max(count, 1))
            return (sum.0 / n, sum.1 / n, sum.2 / n)
        }

        func covariance() -> (Double, Double, Double, Double, Double, Double) {
            let n = Double(max(count, 1))
            let m = mean
            return (prod.0 / n - m.0 * m.0, prod.1 / n - m.0 * m.1, prod.2 / n - m.0 * m.2,
                    prod.3 / n - m.1 * m.1, prod.4 / n - m.1 * m.2, prod.5 / n - m.2 * m.2)
        }

        /// Largest eigenvalue and its unit eigenvector, by power iteration (3×3, converges fast;
        /// the start vector is fixed so the result is deterministic).
        func principal() -> (Double, (Double, Double, Double)) {
            let c = covariance()
            var v = (1.0, 0.7, 0.3)
            var lambda = 0.0
            for _ in 0..<40 {
                let w = (c.0 * v.0 + c.1 * v.1 + c.2 * v.2,
                         c.1 * v.0 + c.3 * v.1 + c.4 * v.2,
                         c.2 * v.0 + c.4 * v.1 + c.5 * v.2)
                let norm = (w.0 * w.0 + w.1 * w.1 + w.2 * w.2).squareRoot()
                if norm < 1e-12 { return (0, (1, 0, 0)) }
                lambda = norm
                v = (w.0 / norm, w.1 / norm, w.2 / norm)
            }
            return (lambda, v)
        }

        static func compute(data: UnsafeBufferPointer<Float>, indices: [Int32], label: [Int32], clusters: Int) -> [Stats] {
            var stats = [Stats](repeating: Stats(), count: clusters)
            for s in 0..<indices.count {
                let i = Int(indices[s]) * 3
                let x = Double(data[i]), y = Double(data[i + 1]), z = Double(data[i + 2])
                let c = Int(label[s])
                stats[c].count += 1
                stats[c].sum.0 += x; stats[c].sum.1 += y; stats[c].sum.2 += z
                stats[c].prod.0 += x * x; stats[c].prod.1 += x * y; stats[c].prod.2 += x * z
                stats[c].prod.3 += y * y; stats[c].prod.4 += y * z; stats[c].prod.5 += z * z
            }
            return stats
        }
    }

    /// Inverse and determinant of a symmetric 3×3 matrix given as xx, xy, xz, yy, yz, zz.
    static func invert(_ m: (Double, Double, Double, Double, Double, Double)) -> ((Double, Double, Double, Double, Double, Double), Double) {
        let (a, b, c, d, e, f) = m
        let A = d * f - e * e, B = c * e - b * f, C = b * e - c * d
        let det = a * A + b * B + c * C
        let s = 1 / max(det, 1e-30)
        return ((A * s, B * s, C * s, (a * f - c * c) * s, (b * c - a * e) * s, (a * d - b * b) * s), det)
    }
}
