import Foundation
import Testing
@testable import SegNN

/// The fused attention kernel (`Attention.fusedSpread`, C at every instruction set this CPU has)
/// against softmax(q kᵀ) v in double precision and against `multiHead`. Serialized: each case
/// switches the process-wide kernel level.
@Suite("Fused attention against the plain products", .serialized)
struct FusedAttentionTests {
    static func random(_ n: Int, seed: UInt64, amplitude: Float) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * amplitude
        }
    }

    /// Query and key counts off the kernel's blocks (tails of 48 rows and 64 keys), three heads of
    /// 32 in rows of 100 (a stride wider than the heads); logits from small to ±60 (the running max
    /// must rescale the partial outputs when a later block holds a larger logit).
    @Test("every level within 2e-6 of double precision; as close to multiHead", arguments: [
        (nq: 101, nk: 197, amplitude: Float(1)), (nq: 48, nk: 64, amplitude: Float(3)), (nq: 7, nk: 1000, amplitude: Float(2.5)),
    ])
    func matches(_ c: (nq: Int, nk: Int, amplitude: Float)) {
        let heads = 3, dh = 32, ld = 100
        let q = Self.random(c.nq * ld, seed: 1, amplitude: c.amplitude), k = Self.random(c.nk * ld, seed: 2, amplitude: c.amplitude)
        let v = Self.random(c.nk * ld, seed: 3, amplitude: 1)
        let scale = 1 / Float(dh).squareRoot()
        var exact = [Double](repeating: 0, count: c.nq * heads * dh)
        for h in 0..<heads {
            for r in 0..<c.nq {
                var logits = (0..<c.nk).map { j in (0..<dh).reduce(0.0) { $0 + Double(q[r * ld + h * dh + $1]) * Double(k[j * ld + h * dh + $1]) } * Double(scale) }
                let m = logits.max() ?? 0
                logits = logits.map { Foundation.exp($0 - m) }
                let sum = logits.reduce(0, +)
                for d in 0..<dh { exact[(r * heads + h) * dh + d] = (0..<c.nk).reduce(0.0) { $0 + logits[$1] * Double(v[$1 * ld + h * dh + d]) } / sum }
            }
        }
        var plain = [Float](repeating: 0, count: c.nq * heads * dh)
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(queries: c.nq, keys: c.nk))
        Attention.multiHead(q: q, ldq: ld, k: k, ldk: ld, v: v, ldv: ld, queries: c.nq, keys: c.nk, heads: heads, headDim: dh, valueDim: dh,
                            scale: scale, out: &plain, ldo: heads * dh, scratch: &scratch)
        let plainErr = zip(plain, exact).map { abs(Double($0) - $1) }.max() ?? 0
        let saved = Elementwise.kernelLevel
        defer { Elementwise.setKernelLevel(saved) }
        let best = Elementwise.setKernelLevel(3)
        for level in 1...max(1, best) {
            #expect(Elementwise.setKernelLevel(level) == level)
            #expect(Attention.fusedAvailable(headDim: dh, valueDim: dh))
            var out = [Float](repeating: .nan, count: c.nq * heads * dh)
            var packs = [Float](repeating: .nan, count: Attention.fusedScratchCount(keys: c.nk, heads: heads))
            Attention.fusedSpread(q: q, ldq: ld, k: k, ldk: ld, v: v, ldv: ld, queries: c.nq, keys: c.nk, heads: heads, scale: scale,
                                  out: &out, ldo: heads * dh, scratch: &packs)
            let err = zip(out, exact).map { abs(Double($0) - $1) }.max() ?? .infinity
            print("fused attention \(c) level \(level): max error \(err) (multiHead \(plainErr))")
            #expect(out.allSatisfy { $0.isFinite })
            #expect(err < 2e-6)
            #expect(err < max(4 * plainErr, 1e-6))
        }
        Elementwise.setKernelLevel(0)
        #expect(!Attention.fusedAvailable(headDim: dh, valueDim: dh))
    }

    /// The factored bias (SAM 3's decoder box bias): rows before `firstRow` without it, the others
    /// with y[row][key / width] + x[row][key % width] per head, against `multiHead` with the same
    /// bias added by a hook, at every level. 17 × 23 keys: two full blocks of 128 after the first
    /// (the kernel's fused exponentials take the bias there) and a partial one.
    @Test("the factored bias: as multiHead with the bias added to its logits")
    func factoredBias() {
        let heads = 2, dh = 32, ld = heads * dh, nq = 61, h = 17, w = 23, nk = h * w, first = 1
        let q = Self.random(nq * ld, seed: 4, amplitude: 1.5), k = Self.random(nk * ld, seed: 5, amplitude: 1.5)
        let v = Self.random(nk * ld, seed: 6, amplitude: 1)
        let by = Self.random(heads * (nq - first) * h, seed: 7, amplitude: 3), bx = Self.random(heads * (nq - first) * w, seed: 8, amplitude: 3)
        let scale = 1 / Float(dh).squareRoot()
        var plain = [Float](repeating: 0, count: nq * ld)
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(queries: nq, keys: nk))
        let hook: Attention.BiasHook = { head, r0, rows, s, lds in
            for r in 0..<rows where r0 + r >= first {
                let row = r0 + r - first
                for j in 0..<nk { s[r * lds + j] += by[(head * (nq - first) + row) * h + j / w] + bx[(head * (nq - first) + row) * w + j % w] }
            }
        }
        Attention.multiHead(q: q, ldq: ld, k: k, ldk: ld, v: v, ldv: ld, queries: nq, keys: nk, heads: heads, headDim: dh, valueDim: dh,
                            scale: scale, out: &plain, ldo: ld, scratch: &scratch, bias: hook)
        let saved = Elementwise.kernelLevel
        defer { Elementwise.setKernelLevel(saved) }
        let best = Elementwise.setKernelLevel(3)
        for level in 1...max(1, best) {
            #expect(Elementwise.setKernelLevel(level) == level)
            var out = [Float](repeating: .nan, count: nq * ld)
            var packs = [Float](repeating: .nan, count: Attention.fusedScratchCount(keys: nk, heads: heads))
            by.withUnsafeBufferPointer { yb in
                bx.withUnsafeBufferPointer { xb in
                    let bias = Attention.FactoredBias(y: yb.baseAddress!, x: xb.baseAddress!, height: h, width: w, headStrideY: (nq - first) * h,
                                                      headStrideX: (nq - first) * w, firstRow: first)
                    Attention.fusedSpread(q: q, ldq: ld, k: k, ldk: ld, v: v, ldv: ld, queries: nq, keys: nk, heads: heads, scale: scale,
                                          out: &out, ldo: ld, scratch: &packs, bias: bias)
                }
            }
            let err = zip(out, plain).map { abs($0 - $1) }.max() ?? .infinity
            print("fused attention with factored bias, level \(level): max difference from multiHead \(err)")
            #expect(out.allSatisfy { $0.isFinite })
            #expect(err < 2e-6)
        }
    }
}
