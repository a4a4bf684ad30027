import Foundation
import Testing
@testable import SegNN

/// The C element-wise kernels (CKernels, every instruction set this CPU has) against the Swift
/// implementations they replace and, for GELU, against erf in double precision. Serialized: each
/// test switches the process-wide kernel level, and must not have another switch it meanwhile.
@Suite("C element-wise kernels against the Swift reference", .serialized)
struct KernelTests {
    /// Levels to check: portable C, AVX2, AVX-512, as far as the CPU goes.
    static var levels: [Int] {
        let saved = Elementwise.kernelLevel
        defer { Elementwise.setKernelLevel(saved) }
        let best = Elementwise.setKernelLevel(3)
        return Array(1...max(1, best))
    }

    /// Runs `body` with the kernels at `level`, then restores the level in force. Other tests may
    /// run meanwhile: every level computes the same function, so they only take another path.
    func at<T>(_ level: Int, _ body: () -> T) -> T {
        let saved = Elementwise.kernelLevel
        defer { Elementwise.setKernelLevel(saved) }
        #expect(Elementwise.setKernelLevel(level) == level)
        return body()
    }

    /// A dense sweep over the range where GELU is not trivial, plus extremes.
    static let geluInputs: [Float] = {
        var v: [Float] = []
        let n = 1_000_003  // odd: the vector loops' tails are exercised too
        for i in 0..<n { v.append(Float(-14.0 + 28.0 * Double(i) / Double(n - 1))) }
        v += [0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
              1e-30, -1e-30, 1e-8, -1e-8, 8.485281, -8.485281, 8.4853, -8.4853, 40, -40, 88.5, -88.5, 200, -200,
              1e30, -1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        var state: UInt32 = 7
        for _ in 0..<100_000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            let f = Float(bitPattern: state)  // random bits: floats of every magnitude and both signs
            if f.isFinite { v.append(f) }
        }
        return v
    }()

    @Test("GELU: every level within 4e-7·|x| of the exact value, within a few ulp of the Swift GELU, NaN-free")
    func gelu() {
        let x = Self.geluInputs
        var swift = x
        swift.withUnsafeMutableBufferPointer { Elementwise.geluSwift($0.baseAddress!, $0.count) }
        var swiftWorst = 0.0
        for i in x.indices where swift[i].isFinite {
            let xd = Double(x[i])
            swiftWorst = max(swiftWorst, abs(Double(swift[i]) - 0.5 * xd * (1 + Foundation.erf(xd / 2.0.squareRoot()))) / max(abs(xd), 1e-30))
        }
        print("gelu Swift: worst error \(swiftWorst)·|x| against erf in double")
        for level in Self.levels {
            var c = x
            at(level) { c.withUnsafeMutableBufferPointer { Elementwise.gelu($0.baseAddress!, $0.count) } }
            var worstExact = 0.0, worstSwift = 0.0, nonFinite = 0
            for i in x.indices {
                let xd = Double(x[i])
                let exact = 0.5 * xd * (1 + Foundation.erf(xd / 2.0.squareRoot()))
                if !c[i].isFinite { nonFinite += 1; continue }
                // Relative to |x|: the erf error (1.5e-7 absolute) is scaled by x/2, plus the result's rounding.
                let scale = max(abs(xd), 1e-30)
                worstExact = max(worstExact, abs(Double(c[i]) - exact) / scale)
                worstSwift = max(worstSwift, abs(Double(c[i]) - Double(swift[i])) / scale)
            }
            #expect(nonFinite == 0, "level \(level): \(nonFinite) non-finite outputs")
            print("gelu kernels level \(level): worst error \(worstExact)·|x| against erf in double, \(worstSwift)·|x| from the Swift GELU")
            // Both are within ~3e-7·|x| of the exact value (erf's 1.5e-7 scaled by x/2, plus rounding
            // of the result), so they are within 5e-7·|x| of each other.
            #expect(worstExact < 4e-7, "level \(level): worst error \(worstExact)·|x| against exact GELU")
            #expect(worstSwift < 5e-7, "level \(level): worst difference \(worstSwift)·|x| from the Swift GELU")
        }
    }

    @Test("GELU with a per-channel bias = bias add then GELU")
    func geluBias() {
        let period = 32, rows = 999
        var state: UInt32 = 11
        func rnd() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 21) }
        let x = (0..<(period * rows)).map { _ in rnd() }, bias = (0..<period).map { _ in rnd() }
        var ref = x
        for i in ref.indices { ref[i] += bias[i % period] }
        ref.withUnsafeMutableBufferPointer { Elementwise.geluSwift($0.baseAddress!, $0.count) }
        for level in [0] + Self.levels {
            var c = x
            at(level) { c.withUnsafeMutableBufferPointer { o in bias.withUnsafeBufferPointer { b in
                Elementwise.gelu(o.baseAddress!, o.count, bias: b.baseAddress!, period: period) } } }
            let worst = zip(c, ref).map { abs($0 - $1) / max(abs($1), 1) }.max() ?? 0
            #expect(worst < 1e-6, "level \(level): \(worst)")
        }
    }

    @Test("softmax (long rows with tails, short rows, -inf entries) = the Swift softmax")
    func softmax() {
        var state: UInt32 = 3
        func rnd() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 19) }
        for (rows, cols, ld) in [(9, 4096, 4096), (7, 4099, 4101), (2000, 7, 7), (300, 3, 3), (5, 19, 19)] {
            var x = (0..<(rows * ld)).map { _ in rnd() }
            x[0] = -.infinity
            x[ld - 1] = -.infinity
            var ref = x
            at(0) { ref.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: rows, cols: cols, ld: ld) } }
            for level in Self.levels {
                var c = x
                at(level) { c.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: rows, cols: cols, ld: ld) } }
                var worst: Float = 0
                for r in 0..<rows { for j in 0..<cols { worst = max(worst, abs(c[r * ld + j] - ref[r * ld + j])) } }
                #expect(worst < 2e-7, "level \(level), \(rows)×\(cols): \(worst)")
                #expect((0..<rows).allSatisfy { r in (0..<cols).allSatisfy { c[r * ld + $0].isFinite } })
            }
        }
    }

    @Test("LayerNorm with and without a pre-bias, in place and not, = the Swift LayerNorm")
    func layerNorm() {
        var state: UInt32 = 5
        func rnd() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 20) }
        for dim in [256, 64, 20, 7] {
            let rows = 301
            let x = (0..<(rows * dim)).map { _ in rnd() + 3 }
            let w = (0..<dim).map { _ in rnd() }, b = (0..<dim).map { _ in rnd() }, pre = (0..<dim).map { _ in rnd() }
            for withPre in [false, true] {
                func run(_ level: Int, inPlace: Bool) -> [Float] {
                    var o = inPlace ? x : [Float](repeating: .nan, count: x.count)
                    at(level) {
                        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in pre.withUnsafeBufferPointer { pp in
                            o.withUnsafeMutableBufferPointer { op in
                                Norm.layerNorm(inPlace ? UnsafePointer(op.baseAddress!) : xp.baseAddress!, op.baseAddress!, rows: rows, dim: dim,
                                               weight: wp.baseAddress!, bias: bp.baseAddress!, preBias: withPre ? pp.baseAddress! : nil, eps: 1e-5)
                            } } } } }
                    }
                    return o
                }
                // The Swift path against a plain reference first, then every C level against Swift.
                var plain = x
                if withPre { for i in plain.indices { plain[i] += pre[i % dim] } }
                let swift = run(0, inPlace: false)
                let swiftInPlace = run(0, inPlace: true)
                for r in 0..<rows {
                    let row = plain[(r * dim)..<((r + 1) * dim)].map(Double.init)
                    let mean = row.reduce(0, +) / Double(dim)
                    let v = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
                    for j in 0..<dim {
                        let e = (row[j] - mean) / (v + 1e-5).squareRoot() * Double(w[j]) + Double(b[j])
                        #expect(abs(Double(swift[r * dim + j]) - e) < 1e-5 * max(1, abs(e)))
                    }
                }
                #expect(swift == swiftInPlace)
                for level in Self.levels {
                    for inPlace in [false, true] {
                        let c = run(level, inPlace: inPlace)
                        let worst = zip(c, swift).map { abs($0 - $1) / max(abs($1), 1) }.max() ?? .nan
                        // Sums in 8 or 16 lanes and fused multiply-adds: float32 rounding differences only.
                        #expect(worst < 5e-6, "level \(level), dim \(dim), pre \(withPre), in place \(inPlace): \(worst)")
                    }
                }
            }
        }
    }

    @Test("LayerNorm followed by GELU in one pass = LayerNorm, then GELU")
    func layerNormGelu() {
        let rows = 257, dim = 64
        let x = (0..<(rows * dim)).map { Float(($0 * 7919) % 1000) / 97 - 5 }
        let w = (0..<dim).map { Float($0 % 5) * 0.3 + 0.5 }, b = (0..<dim).map { Float($0 % 3) * 0.2 - 0.2 }, pre = (0..<dim).map { Float($0) * 0.01 }
        for level in [0] + Self.levels {
            var fused = x, ref = x
            at(level) {
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in pre.withUnsafeBufferPointer { pp in
                    fused.withUnsafeMutableBufferPointer { Norm.layerNorm(xp.baseAddress!, $0.baseAddress!, rows: rows, dim: dim, weight: wp.baseAddress!,
                                                                          bias: bp.baseAddress!, preBias: pp.baseAddress!, eps: 1e-6, gelu: true) }
                    ref.withUnsafeMutableBufferPointer { Norm.layerNorm(xp.baseAddress!, $0.baseAddress!, rows: rows, dim: dim, weight: wp.baseAddress!,
                                                                        bias: bp.baseAddress!, preBias: pp.baseAddress!, eps: 1e-6) }
                } } } }
                ref.withUnsafeMutableBufferPointer { Elementwise.gelu($0.baseAddress!, $0.count) }
            }
            #expect(fused == ref, "level \(level)")
        }
    }

    @Test("GELU + product with up to 4 weight vectors (channel-major) = bias add, GELU, then the sums in double")
    func geluMix() {
        let channels = 32, n = 1000 + 5, ld = 1024
        var state: UInt32 = 13
        func rnd() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 21) }
        let x = (0..<(channels * ld)).map { _ in rnd() }, bias = (0..<channels).map { _ in rnd() }, h = (0..<(4 * channels)).map { _ in rnd() }
        for count in [1, 3, 4] {
            for level in [0] + Self.levels {
                var xs = x, out = [Float](repeating: .nan, count: count * 1100)
                at(level) { xs.withUnsafeMutableBufferPointer { xp in bias.withUnsafeBufferPointer { bp in h.withUnsafeBufferPointer { hp in
                    out.withUnsafeMutableBufferPointer { Elementwise.geluMix(xp.baseAddress!, ld: ld, channels: channels, n: n, bias: bp.baseAddress!,
                                                                             h: hp.baseAddress!, count: count, $0.baseAddress!, ldo: 1100) } } } } }
                var worst = 0.0
                for m in 0..<count {
                    for i in 0..<n {
                        var e = 0.0, mag = 0.0
                        for c in 0..<channels {
                            let v = Double(x[c * ld + i] + bias[c])
                            let g = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
                            e += Double(h[m * channels + c]) * g
                            mag += abs(Double(h[m * channels + c]) * g)
                        }
                        worst = max(worst, abs(Double(out[m * 1100 + i]) - e) / max(mag, 1))
                    }
                    let untouched = out[(m * 1100 + n)..<((m + 1) * 1100)].allSatisfy { $0.isNaN }
                    #expect(untouched, "wrote past n")
                }
                #expect(worst < 2e-6, "count \(count), level \(level): \(worst)")
            }
        }
    }

    @Test("sum and row bias add = scalar loops")
    func sums() {
        let n = 200_003
        let a = (0..<n).map { Float($0 % 977) * 0.37 }, b = (0..<n).map { Float($0 % 331) * -1.3 }
        for level in [0] + Self.levels {
            var o = [Float](repeating: 0, count: n)
            at(level) { o.withUnsafeMutableBufferPointer { op in a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                Elementwise.sum(op.baseAddress!, ap.baseAddress!, bp.baseAddress!, n) } } } }
            #expect(o == zip(a, b).map { $0 + $1 }, "sum, level \(level)")
            let dim = 13, rows = n / dim
            var y = Array(a[0..<(rows * dim)])
            at(level) { y.withUnsafeMutableBufferPointer { yp in b.withUnsafeBufferPointer { bp in
                Elementwise.addBias(yp.baseAddress!, UnsafePointer(yp.baseAddress!), rows: rows, dim: dim, bias: bp.baseAddress!) } } }
            #expect(y == (0..<(rows * dim)).map { a[$0] + b[$0 % dim] }, "addBias, level \(level)")
        }
    }

    @Test("linearFew: every level and row count 1…12 within 1e-5 relative of a double-precision product, bias and accumulate")
    func linearFew() {
        var state: UInt32 = 11
        func rnd() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(state >> 8) / Float(1 << 24) - 0.5 }
        // k off the vector width, n off the blocks of 4 and of the cores' chunks.
        let k = 203, n = 301
        let w = (0..<(n * k)).map { _ in rnd() }, bias = (0..<n).map { _ in rnd() }
        for level in Self.levels {
            for rows in [1, 2, 3, 5, 6, 7, 12] {
                let x = (0..<(rows * k)).map { _ in rnd() }, start = (0..<(rows * n)).map { _ in rnd() }
                for (withBias, accumulate) in [(true, false), (false, true), (true, true)] {
                    var y = start
                    at(level) {
                        x.withUnsafeBufferPointer { xb in
                            w.withUnsafeBufferPointer { wb in
                                bias.withUnsafeBufferPointer { bb in
                                    y.withUnsafeMutableBufferPointer { yb in
                                        Gemm.linearFew(xb.baseAddress!, rows: rows, inFeatures: k, weight: wb.baseAddress!,
                                                       bias: withBias ? bb.baseAddress! : nil, outFeatures: n, yb.baseAddress!, accumulate: accumulate)
                                    }
                                }
                            }
                        }
                    }
                    var worst = 0.0
                    for r in 0..<rows {
                        for o in 0..<n {
                            var s = withBias ? Double(bias[o]) : 0
                            for i in 0..<k { s += Double(x[r * k + i]) * Double(w[o * k + i]) }
                            if accumulate { s += Double(start[r * n + o]) }
                            worst = max(worst, abs(Double(y[r * n + o]) - s) / max(abs(s), 1))
                        }
                    }
                    #expect(worst <= 1e-5, "level \(level), \(rows) rows, bias \(withBias), accumulate \(accumulate): \(worst)")
                }
            }
        }
    }
}

extension KernelTests {
    @Test("PackedLinear (AVX-512): bias, bias + ReLU, accumulate, and a range of outputs, within 1e-5 relative of a double-precision product",
          .enabled(if: KernelTests.levels.contains(3), "the packed kernel is AVX-512 only (callers use OpenBLAS elsewhere)"))
    func packedLinear() {
        var state: UInt32 = 29
        func rnd() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(state >> 8) / Float(1 << 24) - 0.5 }
        // k off the vector width, n off the 32-output panels, rows off the 12-row tiles; strided x and y.
        let k = 203, n = 301, ldx = 211, ldy = 307
        let w = (0..<(n * k)).map { _ in rnd() }, bias = (0..<n).map { _ in rnd() }
        let store = ParamStore()
        let packed = w.withUnsafeBufferPointer { PackedLinear(weight: $0.baseAddress!, outFeatures: n, inFeatures: k, store: store) }
        for rows in [1, 11, 12, 13, 50] {
            let x = (0..<(rows * ldx)).map { _ in rnd() }, start = (0..<(rows * ldy)).map { _ in rnd() }
            let cases: [(PackedLinear.Mode, Bool, Range<Int>)] = [(.bias, true, 0..<n), (.biasReLU, true, 0..<n), (.accumulate, true, 0..<n),
                                                                  (.bias, false, 0..<n), (.accumulate, true, 64..<n), (.bias, true, 32..<96)]
            for (mode, withBias, range) in cases {
                var y = start
                at(3) {
                    #expect(PackedLinear.available)
                    x.withUnsafeBufferPointer { xb in
                        bias.withUnsafeBufferPointer { bb in
                            y.withUnsafeMutableBufferPointer { yb in
                                packed.apply(xb.baseAddress!, ldx: ldx, rows: rows, bias: withBias ? bb.baseAddress! : nil, yb.baseAddress!,
                                             ldy: ldy, mode, outputs: range)
                            }
                        }
                    }
                }
                var worst = 0.0, untouched = true
                for r in 0..<rows {
                    for j in 0..<ldy {
                        guard j < range.count else { untouched = untouched && y[r * ldy + j] == start[r * ldy + j]; continue }
                        let o = range.lowerBound + j
                        var s = withBias ? Double(bias[o]) : 0
                        for i in 0..<k { s += Double(x[r * ldx + i]) * Double(w[o * k + i]) }
                        switch mode {
                        case .bias: break
                        case .biasReLU: s = max(s, 0)
                        case .accumulate: s += Double(start[r * ldy + j])
                        }
                        worst = max(worst, abs(Double(y[r * ldy + j]) - s) / max(abs(s), 1))
                    }
                }
                #expect(worst <= 1e-5, "\(rows) rows, \(mode), bias \(withBias), outputs \(range): \(worst)")
                #expect(untouched, "\(rows) rows, \(mode), outputs \(range): columns past the range were written")
            }
        }
    }
}
